#!/usr/bin/env bash
# Fault injection: what lens does when a write fails for real. A file-size
# limit (ulimit -f: EFBIG, what a full disk gives as ENOSPC), a read-only
# output directory, and a jobs.db that cannot take a write (another
# connection holds its write lock past the busy timeout). Each failure is
# one error line naming the file and a non-zero exit, or an HTTP 5xx saying
# so; nothing truncated is left, earlier outputs stay whole, a run stopped by
# it resumes to the same bytes, and the job store never silently disagrees
# with what the service says.
# usage: tests/test_faults.sh LENS MODELS_DIR
set -uo pipefail
LENS=$1 MODELS=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
THEMES=$ROOT/data/themes/steamlens_game_themes.json
STATIC=$ROOT/models/steam-static
SAMPLE=$ROOT/data/sample/steam_reviews_sample.csv.zst
FIX=$ROOT/tests/fixtures
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; chmod -R u+w "$work"; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"

# limited KB cmd...: cmd under ulimit -f KB (1024-byte blocks)
limited() { local kb=$1; shift; (ulimit -f "$kb" && exec "$@"); }
# as_user cmd...: root ignores file modes; without CAP_DAC_OVERRIDE it does not
as_user() {
    if [[ $(id -u) -eq 0 ]]; then setpriv --bounding-set=-dac_override,-dac_read_search -- "$@"; else "$@"; fi
}
# fails WHAT NEEDLE... -- cmd...: non-zero exit, one stderr line holding every NEEDLE
fails() {
    local what=$1 needles=() err rc good=1; shift
    while [[ $1 != -- ]]; do needles+=("$1"); shift; done; shift
    err=$("$@" 2>&1 >/dev/null); rc=$?
    [[ $rc -ne 0 && $(printf '%s\n' "$err" | wc -l) -eq 1 ]] || good=0
    for n in "${needles[@]}"; do [[ $err == *"$n"* ]] || good=0; done
    if [[ $good -eq 1 ]]; then ok; else bad "$what: rc=$rc stderr=[$err]"; fi
}
no_temps() { [[ -z $(find "$1" -name '*.tmp-*') ]]; }
same_outputs() { # DIR_A DIR_B: the five outputs byte for byte
    local f
    for f in assignments.csv report.csv report.json summaries.csv report.html; do cmp -s "$1/$f" "$2/$f" || return 1; done
}

# ---------------------------------------------------------------- analyze
A=("$LENS" analyze --themes "$THEMES" --model "$STATIC" --chunk 512)
"${A[@]}" -o "$work/ref" "$SAMPLE" 2>/dev/null
"${A[@]}" --top-k 2 -o "$work/out" "$SAMPLE" 2>/dev/null # earlier outputs, other than ref's
cp -r "$work/out" "$work/before"
fails "analyze over a size limit: one line, EFBIG, naming the file" "cannot write $work/out/" "File too large" -- \
    limited 150 "${A[@]}" -o "$work/out" "$SAMPLE"
check "...the earlier outputs stay whole" same_outputs "$work/out" "$work/before"
check "...no temporary left" no_temps "$work/out"
check "...the checkpoint stays" test -s "$work/out/.lens-checkpoint/journal"
"${A[@]}" -o "$work/out" "$SAMPLE" 2>"$work/resume.log"
check "...and the same command resumes" grep -q "resumed from a checkpoint" "$work/resume.log"
check "...to the outputs of a run that never failed" same_outputs "$work/out" "$work/ref"
check "...and removes its checkpoint" test ! -e "$work/out/.lens-checkpoint" -a ! -e "$work/out/assignments.csv.tmp"

mkdir -p "$work/ro" && cp -r "$work/before" "$work/ro/out" && chmod -R a-w "$work/ro"
fails "analyze into a read-only directory" "$work/ro/out" "Permission denied" -- as_user "${A[@]}" -o "$work/ro/out" "$SAMPLE"
check "...changes nothing there" diff -r "$work/ro/out" "$work/before"

# ---------------------------------------------------------------- embed, project
head -n 100 "$FIX/reviews_2k.jsonl" > "$work/small.jsonl"
for ext in npy jsonl; do
    "$LENS" embed --model "$STATIC" "$work/small.jsonl" -o "$work/e.$ext" 2>/dev/null
    cp "$work/e.$ext" "$work/e-before.$ext"
    fails "embed .$ext over a size limit" "cannot write $work/e.$ext" "File too large" -- \
        limited 500 "$LENS" embed --model "$STATIC" "$SAMPLE" -o "$work/e.$ext"
    check "...keeps the earlier e.$ext" cmp -s "$work/e.$ext" "$work/e-before.$ext"
    fails "embed .$ext into a read-only directory" "$work/ro/e.$ext" "Permission denied" -- \
        as_user "$LENS" embed --model "$STATIC" "$work/small.jsonl" -o "$work/ro/e.$ext"
done
check "...no temporary left" no_temps "$work"
check "...nothing in the read-only directory" test ! -e "$work/ro/e.npy" -a ! -e "$work/ro/e.jsonl"
"$LENS" project "$work/e.npy" --neighbors 5 -o "$work/p.csv" 2>/dev/null
cp "$work/p.csv" "$work/p-before.csv"
fails "project over a size limit" "cannot write $work/p.csv" "File too large" -- \
    limited 1 "$LENS" project "$work/e.npy" --neighbors 10 -o "$work/p.csv"
check "...keeps the earlier projection" cmp -s "$work/p.csv" "$work/p-before.csv"
check "...no temporary left" no_temps "$work"

# ---------------------------------------------------------------- model pull
# a local hub (<root>/<repo>/resolve/main/<file>) that sends 64 KB every 0.1 s
hub=$work/hub
mkdir -p "$hub/acme/tiny/resolve/main" && cp -r "$MODELS/small-gen-f16"/. "$hub/acme/tiny/resolve/main/"
sha=$(sha256sum "$MODELS/small-gen-f16/model.safetensors" | cut -d' ' -f1)
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$hub" && exec $PY -c '
import http.server, sys, time
class Slow(http.server.SimpleHTTPRequestHandler):
    def copyfile(self, src, dst):
        while True:
            b = src.read(1 << 16)
            if not b: break
            dst.write(b); dst.flush(); time.sleep(0.1)
    def log_message(self, *a): pass
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Slow).serve_forever()
' "$port" 2>/dev/null) & # quiet: the client hangs up on it on purpose
hub_pid=$!
pids+=($hub_pid)
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
export HF_ENDPOINT=http://127.0.0.1:$port XDG_CACHE_HOME=$work/cache
installed=$work/cache/lens/models/acme/tiny # an earlier copy, which a failed pull must leave alone
mkdir -p "$installed" && cp -r "$STATIC"/. "$installed/"
no_partial() { [[ -z $(find "$work/cache" -name '*.partial-*') ]] && diff -r "$installed" "$STATIC" >/dev/null; }
fails "model pull over a size limit" "cannot write" "model.safetensors" "File too large" -- \
    limited 1000 "$LENS" model pull acme/tiny --sha256 "$sha"
check "...leaves no partial download and the earlier copy" no_partial
"$LENS" model pull acme/tiny --sha256 "$sha" >/dev/null 2>"$work/pull.log" &
p=$!
sleep 1.5; kill -INT $p; wait $p; rc=$?
check "model pull: SIGINT exit 130 (got $rc)" test $rc -eq 130
check "...one line: nothing was installed" test "$(grep -c . "$work/pull.log")" = 1 -a -n "$(grep "nothing was installed" "$work/pull.log")"
check "...no partial download, the earlier copy intact" no_partial
unset HF_ENDPOINT XDG_CACHE_HOME
kill $hub_pid; wait $hub_pid 2>/dev/null

# ---------------------------------------------------------------- jobs.db
# One slow job runs (one at a time), a second waits. Another connection
# then holds jobs.db's write lock until told to let go: every write of the
# server waits out its 5 s busy timeout and fails.
mkdir -p "$work/root" && zstd -dcq "$SAMPLE" > "$work/root/reviews.csv" && cp "$THEMES" "$work/root/themes.json"
start_serve jobs --model "$MODELS/minilm-gen" --precision int8 --data-dir "$work/d" --data-root "$work/root" --max-jobs 1
job() { curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "themes.json", "chunk": 64}'; }
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
state() { curl -s "$url/v1/jobs/$1" | field '["state"]'; }
a=$(job | field '["id"]')
b=$(job | field '["id"]')
for _ in $(seq 1 600); do [[ $(curl -s "$url/v1/jobs/$a" | field '["progress"]["chunk"]') -ge 1 ]] && break; sleep 0.1; done
check "a job runs, another waits" test "$(state "$a"),$(state "$b")" = running,queued
$PY - "$work/d/jobs.db" "$work/locked" "$work/release" <<'PY' &
import os, sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
db.execute("BEGIN IMMEDIATE")  # the write lock, until told to let go
open(sys.argv[2], "w").close()
t = time.time()
while not os.path.exists(sys.argv[3]) and time.time() - t < 120: time.sleep(0.05)
db.execute("ROLLBACK")
PY
locker=$!
for _ in $(seq 1 300); do [[ -e $work/locked ]] && break; sleep 0.1; done
http() { # WHAT STATUS NEEDLE... -- curl-args...
    local what=$1 want=$2 needles=() out code good=1; shift 2
    while [[ $1 != -- ]]; do needles+=("$1"); shift; done; shift
    out=$(curl -s -w '\n%{http_code}' "$@"); code=${out##*$'\n'}; out=${out%$'\n'*}
    [[ $code == "$want" && $out == *'"error"'* ]] || good=0
    for n in "${needles[@]}"; do [[ $out == *"$n"* ]] || good=0; done
    if [[ $good -eq 1 ]]; then ok; else bad "$what: $code $out"; fi
}
http "pause when jobs.db cannot take it: 500 saying so" 500 "jobs.db: cannot save job $b" "database is locked" -- \
    -XPOST "$url/v1/jobs/$b/pause"
http "submit when jobs.db cannot take it: 500 saying so" 500 "jobs.db: cannot save job" "database is locked" -- \
    -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "themes.json"}'
touch "$work/release"
wait $locker
check "the failed pause did not happen" test "$(state "$b")" = queued
check "the failed submit queued nothing" test "$(curl -s "$url/v1/jobs" | field '["total"]')" = 2
check "...and left no job directory" test "$(ls "$work/d/jobs" | wc -l)" = 2
check "the running job's lost progress is logged, naming jobs.db and the job" \
    grep -q "jobs.db: cannot save job $a: database is locked" "$work/jobs.log"
for _ in $(seq 1 300); do grep -q "job $a saved again" "$work/jobs.log" && break; sleep 0.1; done
check "...and written again once jobs.db takes writes" grep -q "job $a saved again" "$work/jobs.log"
curl -s -XPOST "$url/v1/jobs/$b/cancel" > /dev/null
curl -s -XPOST "$url/v1/jobs/$a/cancel" > /dev/null
for _ in $(seq 1 600); do [[ $(state "$a") == cancelled ]] && break; sleep 0.1; done
check "jobs.db agrees with the service" $PY - "$work/d/jobs.db" "$url" "$a" "$b" <<'PY'
import json, sqlite3, sys, urllib.request
db, url, ids = sys.argv[1], sys.argv[2], sys.argv[3:]
rows = dict(sqlite3.connect(db).execute("SELECT id, state FROM jobs").fetchall())
api = {j["id"]: j["state"] for j in json.load(urllib.request.urlopen(url + "/v1/jobs"))["jobs"]}
assert rows == api and sorted(rows) == sorted(ids) and set(rows.values()) == {"cancelled"}, (rows, api)
PY
kill $pid; wait $pid 2>/dev/null
check "SIGTERM stops the server" grep -q "stopping" "$work/jobs.log"

finish faults
