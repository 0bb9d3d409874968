#!/usr/bin/env bash
# Vision benchmark (issue 14, section 4): frames per second of each of the 12
# human-models graphs, lens vs @tensorflow/tfjs-backend-wasm (XNNPACK, SIMD,
# THREADS threads) vs tfjs's cpu backend, batch 1, the same seeded inputs, in
# one run; FLOPs per frame are lens's count from the graph (`lens graph info`),
# GFLOP/s = FLOPs x fps. Prints a markdown table and writes
# build/bench/vision.jsonl (one JSON line per model and runtime).
# Not a test: it takes minutes (tfjs's cpu backend is slow).
# Env: MODELS_DIR (default build/human-models: `lens model pull human-models
#      --models-dir build/human-models`), THREADS (default: all CPUs), REPS
#      (timed runs per model and runtime, at most; default 10), MAX_S (seconds
#      per model and runtime after which fewer runs do; default 20), MODELS
#      (comma-separated; default all 12), LENS (default build/lens).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
models_dir=${MODELS_DIR:-build/human-models}
threads=${THREADS:-$(nproc)}
reps=${REPS:-10}
max_s=${MAX_S:-20}
lens=${LENS:-build/lens}
all=age,blazeface,centernet,emotion,gear,gender,iris,meet,movenet-lightning,movenet-multipose,nanodet,selfie
models=${MODELS:-$all}
PY=/usr/bin/python3 # Debian's (numpy not needed here)
[[ -s $models_dir/nanodet/model.json || $models != *nanodet* ]] ||
    { echo "$0: no models in $models_dir: $lens model pull human-models --models-dir $models_dir (or set MODELS_DIR)" >&2; exit 2; }
command -v node >/dev/null || { echo "$0: node is needed for the tfjs rows" >&2; exit 2; }
[[ -d tools/tfjs/node_modules/@tensorflow/tfjs-backend-wasm ]] ||
    (cd tools/tfjs && npm ci --no-audit --no-fund >&2)
mkdir -p build/bench
res=build/bench/vision.jsonl
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# --- tfjs: wasm (THREADS threads) and cpu --------------------------------
node bench/vision/tfjs.mjs "$models_dir" --threads "$threads" --reps "$reps" --max-s "$max_s" \
    --models "$models" --json "$work/tfjs.jsonl" 2> >(grep -v -e '^Hi, looks like' -e '^====' -e '^$' >&2) >/dev/null

# --- FLOPs per frame, from lens's plan of each graph ---------------------
: > "$work/flops"
if [[ -x $lens ]] && "$lens" graph info "$models_dir/age" >/dev/null 2>&1; then
    for m in ${models//,/ }; do
        f=$("$lens" graph info "$models_dir/$m" | awk '$1 == "flops" { print $2 }')
        echo "$m ${f:-0}" >> "$work/flops"
    done
fi

# --- lens rows ------------------------------------------------------------
# TO BE FILLED once lens times its graph runtime (issue 14): for each model,
# append one JSON line to "$work/lens.jsonl" like
#   {"model": "age", "backend": "lens", "threads": THREADS, "runs": N, "fps": F}
# measured on the same seeded input (tests/graph_parity.py inputs writes it:
# build/bench/vision-in/<model>/rand/<input>.npy) with THREADS threads, e.g.
# from `lens graph run ... --reps R` or a `lens graph bench` subcommand.
: > "$work/lens.jsonl"

# --- one table --------------------------------------------------------------
cat "$work/tfjs.jsonl" "$work/lens.jsonl" > "$res"
echo "$(date -u +%F), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs, node $(node --version), tfjs $(node -p "require('./tools/tfjs/node_modules/@tensorflow/tfjs/package.json').version")"
echo
"$PY" - "$res" "$work/flops" "$threads" <<'EOF'
import json, sys
rows, flops = {}, {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    rows.setdefault(r['model'], {})[r['backend']] = r
for line in open(sys.argv[2]):
    m, f = line.split()
    flops[m] = int(f)
thr = sys.argv[3]
def fps(r):
    return f"{r['fps']:.2f}" if r else '—'
print(f'| model | MFLOP/frame | lens fps | lens GFLOP/s | tfjs-wasm fps | tfjs-wasm GFLOP/s | tfjs-cpu fps | lens / wasm |')
print('|---|---:|---:|---:|---:|---:|---:|---:|')
for m, r in rows.items():
    lens, w, c = r.get('lens'), r.get('tfjs-wasm'), r.get('tfjs-cpu')
    f = flops.get(m)
    gf = f"{f * lens['fps'] / 1e9:.1f}" if f and lens else '—'
    wgf = f"{f * w['fps'] / 1e9:.1f}" if f and w else '—'
    ratio = f"{lens['fps'] / w['fps']:.1f}x" if lens and w else '—'
    print(f"| {m} | {f / 1e6:.1f} |" if f else f"| {m} | — |", fps(lens), '|', gf, '|', fps(w), '|', wgf, '|', fps(c), '|', ratio, '|')
wt = {r.get('threads') for m in rows.values() for k, r in m.items() if k == 'tfjs-wasm'}
print(f'\nTHREADS={thr}; threads used: tfjs-wasm {",".join(map(str, sorted(wt))) or "-"} (SIMD + XNNPACK; tfjs turns its'
      f' threads off under node), tfjs-cpu 1 (plain JS); batch 1; fps over the timed runs after warm-up runs.')
EOF
