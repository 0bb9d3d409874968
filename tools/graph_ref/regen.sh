#!/usr/bin/env bash
# Regenerates the parity references of lens graph run in tests/fixtures/graph/
# with @tensorflow/tfjs (CPU backend): seeded random inputs and the outputs of
# each model (inputs committed for the small ones). Needs node + npm (installs tfjs here once) and the models
# (`build/lens model pull human-models --models-dir build/human-models`).
#   tools/graph_ref/regen.sh [MODELS_DIR (build/human-models)]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
models=${1:-$root/build/human-models}
[[ -d $here/node_modules/@tensorflow/tfjs ]] || (cd "$here" && npm install --no-fund --no-audit)
for m in emotion gender iris; do
    rm -rf "$root/tests/fixtures/graph/$m"
    node "$here/ref.mjs" "$models/$m" "$root/tests/fixtures/graph/$m" 1 2>&1 | grep -v -e '^Hi, looks like' -e '^====' || true
done
# the bigger models: outputs over 100 KB are kept as every 64th value; the
# test makes the same seeded input (ref.mjs's LCG, seed 1) itself
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for m in blazeface gear age movenet-lightning movenet-multipose centernet nanodet selfie meet; do
    rm -rf "$root/tests/fixtures/graph/$m" && mkdir -p "$root/tests/fixtures/graph/$m"
    node "$here/ref.mjs" "$models/$m" "$tmp/$m" 1 100000 2>&1 | grep -v -e '^Hi, looks like' -e '^====' || true
    find "$tmp/$m" -name '*.npy' ! -name 'input_*' -exec cp {} "$root/tests/fixtures/graph/$m/" \;
done
