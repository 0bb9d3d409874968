#!/usr/bin/env bash
# End-to-end tests of lens serve's web UI in headless Chromium
# (tests/browser/serve_test.mjs): a job uploaded through the page runs to its
# results, which match the API's report.csv and summaries.csv; pause, resume,
# cancel and delete on a slow model; the server's errors on the page; the
# bearer-token field. Starts two servers on free ports with temporary data
# directories: the bundled static model (fast, with a token) and the
# generated MiniLM in int8 (slow enough to pause).
# usage: tests/test_ui.sh LENS MODELS_DIR
set -uo pipefail
LENS=$1 MODELS=$2
TOKEN=ui-test-token-$$
work=$(mktemp -d)
pids=()
cleanup() {
    for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
    for p in "${pids[@]}"; do
        for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$p" 2>/dev/null
    done
    # kept when something failed (screenshots, server logs) or when asked
    if [[ -n ${KEEP_UI_WORK:-} || ${fail:-0} -ne 0 ]]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT
source "$(dirname "$0")/lib.sh"

# start NAME ARGS...: lens serve on a free port with its own data dir; sets $url
start() { local name=$1; shift; start_serve "$name" --data-dir "$work/$name-data" "$@"; }

# 1,500 real reviews of the five themed games (as tests/test_analyze.sh cuts them)
steam_sample "$work/reviews.csv" 0 || { echo "cannot cut the reviews" >&2; exit 1; }

# and their embeddings, for a project job
"$LENS" embed --model "$ROOT/models/steam-static" "$work/reviews.csv" -o "$work/points.npy" 2>/dev/null ||
    { echo "cannot embed the reviews" >&2; exit 1; }

browser=$ROOT/tests/browser
[[ -d $browser/node_modules/playwright-core ]] || (cd "$browser" && npm ci --silent --no-audit --no-fund)

start fast --model "$ROOT/models/steam-static" --token "$TOKEN" --threads 1 || exit 1
fast=$url
# forward passes of 1,024 tokens: a pause lands within one, even on a busy machine
start slow --model "$MODELS/minilm-gen" --precision int8 --threads 2 --batch-tokens 1024 || exit 1
slow=$url

check "openapi.json is served and valid JSON" bash -c "curl -sf '$fast/openapi.json' | $PY -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if d[\"openapi\"].startswith(\"3.0\") else 1)'"
check "UI files are served" bash -c "curl -sf '$fast/' | grep -q 'app.js' && curl -sf '$fast/app.js' >/dev/null && curl -sf '$fast/style.css' >/dev/null"
check "UI in Chromium" timeout 240 node "$browser/serve_test.mjs" "$fast" "$TOKEN" "$slow" "$work" "$THEMES"
echo "screenshots: $work/ui-*.png (kept on failure or with KEEP_UI_WORK=1)"
finish ui
