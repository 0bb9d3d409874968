#!/usr/bin/env bash
# make demo: the main job on bundled data. lens analyze reads 8,877 real Steam
# reviews (data/sample) against steamLens's themes and writes reports; the
# summary line and the path of report.html are printed at the end.
# Model: all-MiniLM-L6-v2 from the cache when it has been pulled, else the
# static word-vector model shipped in models/steam-static (trained on the same
# MIT corpus by lens train-static; the real MiniLM weights need the network).
set -euo pipefail
cd "$(dirname "$0")/.."
lens=build/lens
out=build/demo
if model=$($lens model path all-MiniLM-L6-v2 2>/dev/null); then
    echo "model: all-MiniLM-L6-v2 ($model)"
else
    model=models/steam-static
    echo "model: $model (word vectors trained on Steam reviews; all-MiniLM-L6-v2 is used"
    echo "       instead once \`build/lens model pull all-MiniLM-L6-v2\` has fetched it)"
fi
rm -rf "$out"
$lens analyze --themes data/themes/steamlens_game_themes.json --model "$model" \
    -o "$out" data/sample/steam_reviews_sample.csv.zst
echo
echo "report: $(pwd)/$out/report.html"
echo "also:   $out/report.csv, $out/summaries.csv, $out/assignments.csv, $out/report.json"
