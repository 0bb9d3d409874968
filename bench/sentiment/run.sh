#!/usr/bin/env bash
# VADER benchmark: accuracy of lens' VADER (vaderSentiment 3.3.2) on SST-2 dev
# and the three UCI labelled sets, and single-thread throughput over those
# sentences plus the 2,000 real Steam reviews of tests/fixtures/reviews_2k.jsonl;
# and its agreement with voted_up on the shared data's English Steam reviews.
# Prints a markdown table. LENS_SHARED defaults to <repo root>/../shared.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
source "$root/bench/shared.sh"
need_shared data/steam/steam_reviews_willyuft.csv.xz data/text/sst2_dev.tsv data/text/uci_amazon_cells_labelled.txt data/text/uci_imdb_labelled.txt data/text/uci_yelp_labelled.txt
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build --target bench_sentiment -j"$(nproc)" >/dev/null
text=$shared/data/text
echo "VADER (lens, vaderSentiment 3.3.2 rules), $(date -u +%Y-%m-%d), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) CPUs"
echo
# the Steam corpus, English reviews, voted_up as the label
steam=build/bench/steam_reviews.csv
[[ -s $steam ]] || xz -dc "$shared/data/steam/steam_reviews_willyuft.csv.xz" > "$steam"
build/bench/bench_sentiment data/vader --reviews tests/fixtures/reviews_2k.jsonl --steam "$steam" \
    "$text/sst2_dev.tsv" "$text/uci_amazon_cells_labelled.txt" "$text/uci_imdb_labelled.txt" \
    "$text/uci_yelp_labelled.txt"
