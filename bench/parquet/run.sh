#!/usr/bin/env bash
# Parquet decode speed: lens's reader against node peers (hyparquet, and
# parquet-wasm = arrow-rs in WebAssembly) on the same column of the same file,
# the review text of all 309,991 Steam reviews written by arrow-rs with snappy
# (generated once into build/bench_parquet/, not committed). Target: lens >= 3x.
#
#   bench/parquet/run.sh [COLUMN (review)] [RUNS (5)]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD:-$root/build}
col=${1:-review}
runs=${2:-5}
file=$build/bench_parquet/steam_reviews.parquet

[[ -x $build/bench/bench_parquet ]] || cmake --build "$build" --target bench_parquet >/dev/null
if [[ ! -d $root/tools/parquet_fixtures/node_modules ]]; then
    (cd "$root/tools/parquet_fixtures" && npm ci --no-audit --no-fund >/dev/null)
fi
[[ -f $file ]] || node "$root/tools/parquet_fixtures/gen.mjs" --big "$file"

echo "== $(date -u +%Y-%m-%dT%H:%MZ) $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "== $file ($(du -m "$file" | cut -f1) MB), column $col"
lens_out=$("$build/bench/bench_parquet" "$file" "$col" "$runs")
peer_out=$(node "$root/bench/parquet/peer.mjs" "$file" "$col" "$((runs < 3 ? runs : 3))")
echo "$lens_out" | grep -v '^RESULT'
echo "$peer_out" | grep -v '^RESULT'
get() { grep "^RESULT $1 " | sed -E "s/.* $2=([0-9.]+).*/\1/"; }
for me in lens; do
    lt=$(get "$me" seconds <<<"$lens_out")
    lc=$(get "$me" cpu <<<"$lens_out")
    lrows=$(get "$me" rows <<<"$lens_out")
    for peer in hyparquet parquet-wasm; do
        pt=$(get "$peer" seconds <<<"$peer_out")
        pc=$(get "$peer" cpu <<<"$peer_out")
        prows=$(get "$peer" rows <<<"$peer_out")
        [[ $prows == "$lrows" ]] || echo "warning: $peer read $prows rows, $me $lrows"
        awk -v l="$lt" -v p="$pt" -v lc="$lc" -v pc="$pc" -v me="$me" -v n="$peer" \
            'BEGIN { printf "%-9s vs %-12s: %.2fx faster wall, %.2fx less CPU (target >= 3x)\n", me, n, p / l, pc / lc }'
    done
done
