#!/usr/bin/env bash
# Regenerate the tokenizer reference fixtures end to end:
#   tests/fixtures/tokenizer_ref.jsonl.zst  20k sampled reviews + synthetic edge cases,
#                                           full [CLS] ... [SEP] ids (transformers.js)
#   tests/fixtures/reviews_2k.jsonl         2k uniform sample, ids truncated at 256
# Deterministic: two runs give byte-identical fixtures.
# Needs: /usr/bin/python3, node + npm (npm ci runs once, offline-safe apart from
# the npm registry), zstd. LENS_SHARED defaults to <repo root>/../shared.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
export LENS_SHARED="${LENS_SHARED:-$root/../shared}"
fixtures="$root/tests/fixtures"

for tool in node npm zstd; do
    command -v "$tool" >/dev/null || { echo "regen_fixtures: '$tool' not found (zstd: apt-get install zstd)" >&2; exit 1; }
done

if [ ! -d "$here/node_modules/@huggingface/transformers" ]; then
    (cd "$here" && npm ci --no-audit --no-fund)
fi

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

/usr/bin/python3 "$here/sample_reviews.py" \
    --reviews-out "$tmp/tokenizer_reviews.jsonl" \
    --sample-out "$tmp/reviews_2k_text.jsonl"

node "$here/tokenize_ref.mjs" "$tmp/tokenizer_reviews.jsonl" "$tmp/tokenizer_ref.jsonl"
node "$here/tokenize_ref.mjs" "$tmp/reviews_2k_text.jsonl" "$tmp/reviews_2k.jsonl" --max-len 256

mkdir -p "$fixtures"
# -T1: single-threaded, so the compressed bytes depend only on the input bytes.
zstd -q -19 -T1 --no-progress -f "$tmp/tokenizer_ref.jsonl" -o "$tmp/tokenizer_ref.jsonl.zst"
mv -f "$tmp/tokenizer_ref.jsonl.zst" "$fixtures/tokenizer_ref.jsonl.zst"
mv -f "$tmp/reviews_2k.jsonl" "$fixtures/reviews_2k.jsonl"
rm -f "$fixtures/tokenizer_reviews.jsonl"

ls -l "$fixtures/tokenizer_ref.jsonl.zst" "$fixtures/reviews_2k.jsonl" >&2
