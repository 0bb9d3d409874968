#!/usr/bin/env bash
# make demo: the main job on bundled data. lens analyze reads 8,877 real Steam
# reviews (data/sample) against steamLens's themes and writes reports; the
# summary line and the path of report.html are printed at the end.
# Model: all-MiniLM-L6-v2 from the cache when it has been pulled, else
# generated weights of the same geometry (real weights need the network).
set -euo pipefail
cd "$(dirname "$0")/.."
lens=build/lens
out=build/demo
if model=$($lens model path all-MiniLM-L6-v2 2>/dev/null); then
    echo "model: all-MiniLM-L6-v2 ($model)"
else
    tests/gen_models.sh build/models
    model=build/models/minilm-gen
    echo "model: generated weights with all-MiniLM-L6-v2's geometry ($model): right for speed"
    echo "       and plumbing, not for meaning; \`lens model pull all-MiniLM-L6-v2\` needs the network"
fi
rm -rf "$out"
$lens analyze --themes data/themes/steamlens_game_themes.json --model "$model" --precision int8 \
    -o "$out" data/sample/steam_reviews_sample.csv.zst
echo
echo "report: $(pwd)/$out/report.html"
echo "also:   $out/report.csv, $out/summaries.csv, $out/assignments.csv, $out/report.json"
