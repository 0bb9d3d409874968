#!/usr/bin/env bash
# make demo: embed the bundled sample of 2,000 real Steam reviews with every
# precision and summarise. Uses all-MiniLM-L6-v2 from the cache when it has
# been pulled (`build/lens model pull all-MiniLM-L6-v2`), else generated
# weights of the same geometry (the real ones cannot be downloaded offline).
set -euo pipefail
cd "$(dirname "$0")/.."
lens=build/lens
sample=tests/fixtures/reviews_2k.jsonl
out=build/demo
mkdir -p "$out"
if model=$($lens model path all-MiniLM-L6-v2 2>/dev/null); then
    echo "model: all-MiniLM-L6-v2 ($model)"
else
    tests/gen_models.sh build/models
    model=build/models/minilm-gen
    echo "model: generated weights with all-MiniLM-L6-v2's geometry ($model);"
    echo "       real weights are not in the cache (lens model pull all-MiniLM-L6-v2 needs the network)"
fi
echo "sample: $sample ($(wc -l < $sample) Steam reviews, english and spanish)"
echo
for p in fp32 bf16 int8; do
    $lens embed --model "$model" --precision "$p" "$sample" -o "$out/embeddings_$p.npy"
done
echo
/usr/bin/python3 - "$out" <<'PY'
import sys, numpy as np
d = sys.argv[1]
e = {p: np.load("%s/embeddings_%s.npy" % (d, p)) for p in ("fp32", "bf16", "int8")}
print("embeddings: %d x %d float32, L2-normalised (norms %.4f..%.4f)" % (
    *e["fp32"].shape, np.linalg.norm(e["fp32"], axis=1).min(), np.linalg.norm(e["fp32"], axis=1).max()))
for p in ("bf16", "int8"):
    c = (e[p] * e["fp32"]).sum(1)
    print("%s vs fp32: min cosine %.5f, mean %.6f" % (p, c.min(), c.mean()))
print("outputs in %s/" % d)
PY
