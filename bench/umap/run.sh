#!/usr/bin/env bash
# UMAP benchmark: lens against umap-js 1.4.0 on synthetic 384-D embeddings
# (50 clusters of intrinsic dimension 10, see bench_umap.c), with wall time,
# CPU time and peak RSS from /usr/bin/time -v, in one run:
#   10k   lens (a full fit: 10k is below the default fit size) and umap-js
#   30k   lens and umap-js (umap-js skipped with UMAP_JS_MAX=10000)
#   100k  lens default (fit 25k + transform the rest), lens full fit
#   1M    lens streamed: rows made on demand, fit 25k + transform in chunks
# Targets (2 cores): >= 10x faster than umap-js at 10k; 100k in <= 120 s;
# 1M streamed in <= 6 GB RSS. Prints a markdown table.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
js_max=${UMAP_JS_MAX:-30000}
out=build/umap
mkdir -p "$out"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target bench_umap -j"$(nproc)" >/dev/null
[[ -d tools/umap_quality/node_modules/umap-js ]] || (cd tools/umap_quality && npm install --no-audit --no-fund >/dev/null)
B=build/bench/bench_umap
for n in 10000 30000 100000; do
    [[ -s $out/syn$n.npy ]] || $B gen $n 384 "$out/syn$n.npy"
done

# run NAME CMD...: time -v the command; sets wall, user, rss (MB) and keeps its stdout in $out/NAME.log
run() {
    local name=$1; shift
    /usr/bin/time -v "$@" >"$out/$name.log" 2>"$out/$name.time" || { echo "$name failed:" >&2; tail -3 "$out/$name.time" >&2; exit 1; }
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {n = split($2, t, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + t[i]; printf "%.2f", s}' "$out/$name.time")
    user=$(awk -F': ' '/User time/ {u = $2} /System time/ {s = $2} END {printf "%.2f", u + s}' "$out/$name.time")
    rss=$(awk -F': ' '/Maximum resident set size/ {printf "%.0f", $2 / 1024}' "$out/$name.time")
}

echo "UMAP benchmark, $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs, load $(cut -d' ' -f1 /proc/loadavg) at start"
echo
echo "| points x 384 | run | wall (s) | CPU (s) | peak RSS (MB) | umap-js wall / lens wall |"
echo "|---|---|---:|---:|---:|---:|"
declare -A js_wall
for n in 10000 30000; do
    if (( n <= js_max )); then
        run js$n node tools/umap_quality/umap_js.mjs "$out/syn$n.npy" "$out/js$n.npy"
        js_wall[$n]=$wall
        echo "| $n | umap-js 1.4.0 | $wall | $user | $rss | 1.0 |"
    fi
    run lens$n $B run "$out/syn$n.npy" "$out/lens$n.npy" --full
    ratio=-
    [[ -n ${js_wall[$n]:-} ]] && ratio=$(awk -v a="${js_wall[$n]}" -v b="$wall" 'BEGIN {printf "%.1f", a / b}')
    echo "| $n | lens, full fit | $wall | $user | $rss | $ratio |"
done
run lens100k $B run "$out/syn100000.npy" "$out/lens100k.npy"
echo "| 100000 | lens, fit 25k + transform 75k | $wall | $user | $rss | - |"
run lens100kf $B run "$out/syn100000.npy" "$out/lens100kf.npy" --full
echo "| 100000 | lens, full fit | $wall | $user | $rss | - |"
run lens1m $B run syn:1000000:384 "$out/lens1m.npy"
echo "| 1000000 | lens, streamed: fit 25k + transform 975k in chunks of 16k (rows made on demand) | $wall | $user | $rss | - |"
echo
echo "Phases (seconds, from bench_umap):"
for f in lens10000 lens30000 lens100k lens100kf lens1m; do echo "- $f: $(cut -d: -f2- "$out/$f.log" | xargs)"; done
