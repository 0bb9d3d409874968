#!/usr/bin/env bash
# UMAP quality: trustworthiness (k = 10, sklearn) of lens' full fit, lens
# streaming (fit a sample, transform the rest) and umap-js 1.4.0 on
#   (a) scikit-learn's digits (1,797 x 64, euclidean), and
#   (b) 10,000 English Steam reviews embedded by the bundled static model
#       (128-D, cosine), cut from the shared corpus.
# Targets: lens >= umap-js - 0.01; streaming within 0.03 of the full fit.
# Prints a markdown table. Needs python3-sklearn (Debian) and node;
# LENS_SHARED defaults to <repo root>/../shared.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source "$root/bench/shared.sh"
PY=/usr/bin/python3
here=tools/umap_quality
out=build/umap_quality
mkdir -p "$out"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target lens_cli -j"$(nproc)" >/dev/null
[[ -d $here/node_modules/umap-js ]] || (cd "$here" && npm install --no-audit --no-fund >/dev/null)
$PY -c 'import sklearn' 2>/dev/null || { echo "needs python3-sklearn (apt-get install python3-sklearn)" >&2; exit 1; }

[[ -s $out/digits.npy ]] || $PY $here/make_data.py digits "$out/digits.npy"
if [[ ! -s $out/reviews10k.npy ]]; then
    need_shared data/steam/steam_reviews_willyuft.csv.xz
    [[ -s $out/steam_reviews.csv ]] || xz -dc "$shared/data/steam/steam_reviews_willyuft.csv.xz" > "$out/steam_reviews.csv"
    $PY $here/make_data.py reviews "$out/steam_reviews.csv" "$out/reviews10k.csv" 10000
    build/lens embed --model models/steam-static --column review "$out/reviews10k.csv" -o "$out/reviews10k.npy" 2>/dev/null
fi

# secs CMD...: runs CMD, prints its wall-clock seconds
secs() {
    local t0 t1
    t0=$(date +%s.%N)
    "$@" >/dev/null 2>&1
    t1=$(date +%s.%N)
    echo "$t0 $t1" | awk '{printf "%.2f", $2 - $1}'
}

echo "UMAP quality, $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg)"
echo
echo "| data | n x dim | metric | run | time (s) | trustworthiness (k=10) |"
echo "|---|---|---|---|---:|---:|"
verdicts=()
for spec in "digits euclidean 1000" "reviews10k cosine 2500"; do
    read -r name metric fit <<<"$spec"
    x=$out/$name.npy
    shape=$($PY -c "import numpy as np; s=np.load('$x', mmap_mode='r').shape; print(f'{s[0]} x {s[1]}')")
    t_full=$(secs build/lens project "$x" -o "$out/${name}_full.csv" --metric "$metric" --fit-size 1000000)
    t_stream=$(secs build/lens project "$x" -o "$out/${name}_stream.csv" --metric "$metric" --fit-size "$fit")
    t_js=$(secs node $here/umap_js.mjs "$x" "$out/${name}_js.npy" --metric "$metric")
    mapfile -t tw < <($PY $here/trust.py "$x" "$out/${name}_full.csv" "$out/${name}_stream.csv" "$out/${name}_js.npy" \
        --metric "$metric" | cut -f2)
    echo "| $name | $shape | $metric | lens, full fit | $t_full | ${tw[0]} |"
    echo "| $name | $shape | $metric | lens, fit $fit + transform the rest | $t_stream | ${tw[1]} |"
    echo "| $name | $shape | $metric | umap-js 1.4.0 | $t_js | ${tw[2]} |"
    verdicts+=("$($PY - "$name" "${tw[@]}" <<'PY'
import sys
name, (full, stream, js) = sys.argv[1], map(float, sys.argv[2:5])
ok1, ok2 = full >= js - 0.01, abs(full - stream) <= 0.03
print(f"- {name}: lens - umap-js = {full - js:+.4f} (target >= -0.01: {'met' if ok1 else 'MISSED'}); "
      f"full - streaming = {full - stream:+.4f} (target <= 0.03: {'met' if ok2 else 'MISSED'})")
PY
)")
done
echo
printf '%s\n' "${verdicts[@]}"
