#!/usr/bin/env bash
# lens serve with everything at once: concurrent inference requests through
# the batcher (passes split by --batch-tokens), two jobs running side by side
# with event streams open, pause/resume/cancel/delete while they run, metrics
# and listings polled, and a stop (SIGTERM) with work in flight. Answers must
# not depend on the traffic: single-text embeddings equal the batch's bit for
# bit, jobs give the CLI's outputs byte for byte. make test also runs it
# against the ThreadSanitizer build (label "threads"), where any report in the
# server's log or exit status fails it.
# usage: tests/test_serve_threads.sh LENS
set -uo pipefail
LENS=$1
ROOT=$(cd "$(dirname "$0")/.." && pwd)
THEMES=$ROOT/data/themes/steamlens_game_themes.json
STATIC=$ROOT/models/steam-static
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }
no_tsan() { ! grep -q "ThreadSanitizer" "$1"; }

# the bundled sample (8,877 real reviews) and 48 texts of it
mkdir -p "$work/root"
zstd -dcq "$ROOT/data/sample/steam_reviews_sample.csv.zst" > "$work/root/reviews.csv"
cp "$THEMES" "$work/root/themes.json"
$PY - "$work/root/reviews.csv" "$work" <<'PY'
import csv, json, sys
rows = [r["review"] for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")) if r["review"].strip()][:48]
json.dump({"texts": rows}, open(sys.argv[2] + "/all.json", "w"))
for i, t in enumerate(rows): json.dump({"texts": [t]}, open("%s/one%d.json" % (sys.argv[2], i), "w"))
PY
"$LENS" analyze --themes "$THEMES" --model "$STATIC" --chunk 64 -o "$work/cli" "$work/root/reviews.csv" 2>"$work/cli.log"
check "the CLI's reference run" test -s "$work/cli/report.csv"
check "...without a ThreadSanitizer report" no_tsan "$work/cli.log"

start_serve srv --model "$STATIC" --data-dir "$work/d" --data-root "$work/root" --max-jobs 2 --max-batch 8 \
    --batch-tokens 256 --queue 100000
job() { curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "themes.json", "chunk": 64}' | field '["id"]'; }
state() { curl -s "$url/v1/jobs/$1" | field '["state"]'; }
finished() { [[ $(state "$1") =~ ^(succeeded|failed|cancelled)$ ]]; }
a=$(job); b=$(job); c=$(job); d=$(job)
for j in $a $b $c $d; do curl -s -N --max-time 120 "$url/v1/jobs/$j/events" > "$work/ev.$j" & done
cp=()
for round in 1 2; do
    for i in $(seq 0 47); do curl -s -XPOST "$url/v1/embed" --data-binary @"$work/one$i.json" > "$work/one$i.$round" & cp+=($!); done
    curl -s -XPOST "$url/v1/embed" --data-binary @"$work/all.json" > "$work/all.$round" & cp+=($!)
    for i in $(seq 1 8); do
        curl -s -XPOST "$url/v1/sentiment" -d '{"texts":["I love it","the servers are awful"]}' > /dev/null & cp+=($!)
        curl -s -XPOST "$url/v1/themes/assign" -d '{"app_id":"391540","texts":["the music is lovely"]}' > /dev/null & cp+=($!)
        curl -s "$url/metrics" > /dev/null & cp+=($!)
        curl -s "$url/v1/jobs?limit=10" > /dev/null & cp+=($!)
    done
    if [[ $round == 1 ]]; then # pause and resume a job while all that runs
        curl -s -XPOST "$url/v1/jobs/$c/pause" > /dev/null
        for _ in $(seq 1 600); do [[ $(state "$c") =~ paused|succeeded ]] && break; sleep 0.05; done
        curl -s -XPOST "$url/v1/jobs/$c/resume" > /dev/null
    fi
    wait "${cp[@]}"
    cp=()
done
curl -s -XPOST "$url/v1/jobs/$b/cancel" > /dev/null # it may have finished first: then it succeeded
curl -s -XDELETE "$url/v1/jobs/$d" > /dev/null
check "concurrent single texts equal the batch, bit for bit" $PY - "$work" <<'PY'
import json, sys
d = sys.argv[1]
for r in (1, 2):
    full = json.load(open("%s/all.%d" % (d, r)))["embeddings"]
    assert all(json.load(open("%s/one%d.%d" % (d, i, r)))["embeddings"][0] == full[i] for i in range(48)), r
PY
deadline=$((SECONDS + 600))
# (a server that died, say halted by ThreadSanitizer, ends the wait at once)
while ((SECONDS < deadline)) && kill -0 $pid 2>/dev/null && ! { finished "$a" && finished "$b" && finished "$c"; }; do sleep 0.2; done
check "jobs ran beside the traffic and succeeded (a paused one too)" test "$(state "$a"),$(state "$c")" = succeeded,succeeded
cancelled_or_done() { [[ $(state "$1") =~ ^(cancelled|succeeded)$ ]]; }
check "...a cancelled one ended cancelled (or had finished first)" cancelled_or_done "$b"
check "the deleted job is gone" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/jobs/$d")" = 404
for j in $a $c; do
    for f in assignments.csv report.csv summaries.csv report.json; do
        curl -s "$url/v1/jobs/$j/results/$f" > "$work/$j.$f"
        check "job $j: $f equals the CLI's" cmp -s "$work/$j.$f" "$work/cli/$f"
    done
done
check "event streams end with the job" grep -q '^event: done' "$work/ev.$a"
# a stop with work in flight: a job running, requests arriving
e=$(job)
for _ in $(seq 1 300); do [[ $(state "$e") == running ]] && break; sleep 0.05; done
for i in $(seq 0 15); do curl -s -XPOST "$url/v1/embed" --data-binary @"$work/one$i.json" > /dev/null & done
kill -TERM "$pid"; wait "$pid"; rc=$?
check "SIGTERM with work in flight: exit 0 (got $rc)" test "$rc" -eq 0
check "...no ThreadSanitizer report from the server" no_tsan "$work/srv.log"
wait
finish serve_threads
