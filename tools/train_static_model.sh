#!/bin/sh
# Reproduces models/steam-static: decompresses the Steam reviews from the
# shared assets, trains a lens-static model with one thread (the same bytes on
# every run of the same binary) and installs its three files next to the
# folder's README.md.
#
# usage: tools/train_static_model.sh [OUT_DIR]     (default models/steam-static)
# env:   LENS_SHARED (default <repo>/../shared: where the Steam corpus is), LENS (default build/lens),
#        THREADS (default 1; more is faster but not bit-exact)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
LENS=${LENS:-$ROOT/build/lens}
OUT=${1:-$ROOT/models/steam-static}
THREADS=${THREADS:-1}

[ -x "$LENS" ] || { echo "$LENS not found: cmake -S . -B build && cmake --build build -j" >&2; exit 1; }
root=$ROOT && . "$ROOT/bench/shared.sh" && need_shared data/steam/steam_reviews_willyuft.csv.xz
DATA=$shared/data/steam/steam_reviews_willyuft.csv.xz

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
# lens reads .zst but not .xz (liblzma is not a dependency): decompress once
xz -dc "$DATA" > "$tmp/steam_reviews_willyuft.csv"
"$LENS" train-static --dim 128 --epochs 5 --window 5 --negative 5 --min-count 5 \
    --max-vocab 60000 --threads "$THREADS" --seed 1 --text-column review \
    "$tmp/steam_reviews_willyuft.csv" -o "$tmp/model"
mkdir -p "$OUT"
for f in config.json vocab.txt model.safetensors; do
    cp "$tmp/model/$f" "$OUT/.$f.tmp" && mv "$OUT/.$f.tmp" "$OUT/$f"
done
# the model's default --min-similarity, chosen from the data
/usr/bin/python3 "$(dirname "$0")/choose_min_similarity.py" "$OUT" --write
echo "installed $OUT" >&2
