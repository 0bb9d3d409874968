#!/usr/bin/env bash
# Encoder benchmark: lens (fp32, bf16, int8) against ONNX Runtime (npm
# onnxruntime-node, fp32) and torch (fp32) on the same 2,000 real reviews,
# same token ids, same thread count, in one run. Prints a table with ratios to
# ONNX Runtime fp32 and writes build/bench/encoder.jsonl.
# Env: THREADS (default: all CPUs), REPS (timed passes of lens and ONNX
# Runtime, best kept; default 3).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
threads=${THREADS:-$(nproc)}
texts=tests/fixtures/reviews_2k.jsonl
models=build/models
out=build/bench
mkdir -p "$out" build/encoder-ref
tests/gen_models.sh "$models"
onnx=build/encoder-ref/minilm-gen.onnx
if [[ ! -s $onnx || $onnx -ot $models/minilm-gen/model.safetensors ]]; then
    /usr/bin/python3 tools/export_onnx.py --model "$models/minilm-gen" --out "$onnx" 2>/dev/null
fi
if [[ ! -d bench/encoder/node_modules/onnxruntime-node ]]; then
    (cd bench/encoder && npm ci --silent --no-audit --no-fund)
fi

res=$out/encoder.jsonl
: > "$res"
echo "encoder benchmark: $(wc -l < "$texts") reviews, $threads threads, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)" >&2
build/bench/bench_encoder "$models/minilm-gen" "$texts" --threads "$threads" --reps "${REPS:-3}" | tee -a "$res"
node bench/encoder/ort_peer.mjs --model "$onnx" --input "$texts" --threads "$threads" --reps "${REPS:-3}" | tee -a "$res"
/usr/bin/python3 tools/torch_ref.py --model "$models/minilm-gen" --input "$texts" --bench --threads "$threads" | tee -a "$res"

/usr/bin/python3 - "$res" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
ort = next(r for r in rows if r["peer"] == "onnxruntime")
print("\n%-22s %12s %14s %10s" % ("engine", "reviews/s", "tokens/s", "vs ORT"))
for r in rows:
    name = r["peer"] + " " + r.get("precision", "fp32")
    print("%-22s %12.1f %14.0f %9.2fx" % (name, r["reviews_per_s"], r["tokens_per_s"],
                                         r["tokens_per_s"] / ort["tokens_per_s"]))
PY
