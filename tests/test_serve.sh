#!/usr/bin/env bash
# End-to-end tests of lens serve over real HTTP: inference routes agree
# with the CLI bit for bit (batched or not), jobs submitted by upload or by
# path give the CLI's outputs, pause/resume/cancel/delete, retries, a
# SIGKILLed server resumes its job to identical outputs, auth, limits,
# 4xx errors with JSON bodies, 503 when the queue is full, metrics.
# usage: tests/test_serve.sh LENS MODELS_DIR
set -uo pipefail
LENS=$1 MODELS=$2
SLOW=("--model" "$MODELS/minilm-gen" "--precision" "int8")
work=$(mktemp -d)
pids=()
trap 'for p in "${pids[@]}"; do kill -9 $p 2>/dev/null; done; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
STATIC=$ROOT/models/steam-static

# start NAME ARGS...: lens serve on a free port; sets $url and $pid
start() { start_serve "$@"; }
# wait_state ID STATE [SECONDS]
wait_state() {
    for _ in $(seq 1 $((${3:-120} * 10))); do
        [[ $(curl -s "$url/v1/jobs/$1" | $PY -c 'import json,sys; print(json.load(sys.stdin).get("state",""))' 2>/dev/null) == "$2" ]] && return 0
        sleep 0.1
    done
    return 1
}
json_field() { $PY -c "import json,sys; print(json.load(sys.stdin)$1)"; }

# the same 1,700 real reviews as tests/test_analyze.sh
steam_sample "$work/reviews.csv" 200
$PY - "$work/reviews.csv" "$work" <<'PY'
import csv, json, sys
csv.field_size_limit(1 << 30)
rows = list(csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")))
texts = [r["review"] for r in rows if r["review"].strip()][:64]
json.dump({"texts": texts}, open(sys.argv[2] + "/embed.json", "w"))
with open(sys.argv[2] + "/texts.jsonl", "w") as f:
    for t in texts: f.write(json.dumps({"text": t}) + "\n")
PY

# ---------------------------------------------------------------- inference
mkdir -p "$work/root"
cp "$work/reviews.csv" "$THEMES" "$work/root/"
start fast --model "$STATIC" --data-dir "$work/d1" --data-root "$work/root"
check "healthz" test "$(curl -s "$url/healthz" | json_field '["status"]')" = ok
curl -s "$url/metrics" > "$work/metrics0.txt"
check "metrics at startup: no inference yet, the themes' keywords counted apart" $PY - "$work/metrics0.txt" <<'PY'
import re, sys
m = open(sys.argv[1]).read()
for pat in [r'lens_batch_size_count 0\n', r'lens_encoder_tokens_total 0\n', r'lens_startup_texts_total [1-9]',
            r'lens_startup_tokens_total [1-9]']:
    assert re.search(pat, m), pat
PY
"$LENS" embed --model "$STATIC" "$work/texts.jsonl" -o "$work/cli.npy" 2>/dev/null
curl -s -XPOST "$url/v1/embed" --data-binary @"$work/embed.json" > "$work/embed.out"
check "embed equals lens embed, bit for bit" $PY - "$work/embed.out" "$work/cli.npy" <<'PY'
import json, sys, numpy as np
got = np.array(json.load(open(sys.argv[1]))["embeddings"], dtype=np.float32)
ref = np.load(sys.argv[2])
assert got.shape == ref.shape and np.array_equal(got, ref), (got.shape, ref.shape, np.abs(got - ref).max())
PY
# 16 concurrent one-text requests share batches and give the same rows
$PY - "$work/embed.json" "$work" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))["texts"]
for i in range(16): json.dump({"texts": [t[i]]}, open("%s/one%d.json" % (sys.argv[2], i), "w"))
PY
cp=()
for i in $(seq 0 15); do curl -s -XPOST "$url/v1/embed" --data-binary @"$work/one$i.json" > "$work/one$i.out" & cp+=($!); done
wait "${cp[@]}" # not the server
check "concurrent requests equal the batch" $PY - "$work" <<'PY'
import json, sys
d = sys.argv[1]
full = json.load(open(d + "/embed.out"))["embeddings"]
assert all(json.load(open("%s/one%d.out" % (d, i)))["embeddings"][0] == full[i] for i in range(16))
PY
curl -s -XPOST "$url/v1/sentiment" -d '{"texts":["I love this game, the music is wonderful!","Terrible servers, constant crashes."]}' > "$work/sent.out"
check "sentiment" $PY -c "
import json; s = json.load(open('$work/sent.out'))['sentiment']
assert [x['label'] for x in s] == ['positive', 'negative'] and s[0]['compound'] > 0.5 and s[1]['compound'] < -0.3, s"
curl -s -XPOST "$url/v1/themes/assign" -d '{"app_id":"391540","texts":["the soundtrack and music are beautiful"],"min_similarity":"off"}' > "$work/as1.out"
check "assign by app id" $PY -c "
import json; a = json.load(open('$work/as1.out'))['assignments']
assert a[0]['themes'][0]['theme'] == 'music', a"
curl -s -XPOST "$url/v1/themes/assign" -d '{"themes":{"sound":["music","soundtrack"],"looks":["graphics","art"]},"texts":["great soundtrack","beautiful graphics"],"min_similarity":"off"}' > "$work/as2.out"
check "assign with inline themes" $PY -c "
import json; a = json.load(open('$work/as2.out'))['assignments']
assert [x['themes'][0]['theme'] for x in a] == ['sound', 'looks'], a"
# the static model gives a text with no known word one fixed vector: a
# keyword like that says nothing about its theme, and such a text is
# unassigned even with min_similarity off (as lens analyze does)
curl -s -XPOST "$url/v1/themes/assign" -d '{"themes":{"sound":["music"],"looks":["graphics"]},"texts":["great music","qqzzxv wwkkjj"],"min_similarity":"off"}' > "$work/as3.out"
curl -s -XPOST "$url/v1/themes/assign" -d '{"themes":{"sound":["music","qqzzxv"],"looks":["graphics"]},"texts":["great music","qqzzxv wwkkjj"],"min_similarity":"off"}' > "$work/as4.out"
check "unknown-word keywords and texts (static model)" $PY -c "
import json; a, b = (json.load(open('$work/as%d.out' % i))['assignments'] for i in (3, 4))
assert a[0]['themes'] == b[0]['themes'] and a[0]['themes'][0]['theme'] == 'sound', (a, b)
assert a[1]['themes'] == [] and b[1]['themes'] == [], (a, b)"
# inline themes free what they take: 40 themes x 100 long keywords (the
# 4,096 limit; 760 KB), eight times; RSS ends near where it began and stops
# growing (it grew by GBs when every keyword took a buffer the size of the
# rest of the body)
check "inline themes: memory returns to baseline" $PY - "$url" "$pid" <<'PY'
import json, re, sys, urllib.request
url, pid = sys.argv[1], sys.argv[2]
rss = lambda: int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%s/status" % pid).read()).group(1)) // 1024
body = json.dumps({"themes": {"theme%d" % i: [("kw%d word%d " % (i, k)) * 16 for k in range(100)] for i in range(40)},
                   "texts": ["the music is great"]}).encode()
base, seen = rss(), []
for _ in range(8):
    req = urllib.request.Request(url + "/v1/themes/assign", body, {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=60).status == 200
    seen.append(rss())
assert seen[-1] < base + 100 and seen[-1] - seen[3] < 20, (base, seen)
PY
# bad requests: 4xx with a JSON error body saying what is wrong
expect_http() { # WHAT STATUS NEEDLE curl-args...
    local what=$1 want=$2 needle=$3; shift 3
    local out code
    out=$(curl -s -w '\n%{http_code}' "$@"); code=${out##*$'\n'}; out=${out%$'\n'*}
    if [[ $code == "$want" && $out == *'"error"'* && $out == *"$needle"* ]]; then ok; else bad "$what: $code $out"; fi
}
expect_http "malformed JSON" 400 "malformed JSON" -XPOST "$url/v1/embed" -d '{"texts": ['
expect_http "unknown field" 400 "unknown field 'txts'" -XPOST "$url/v1/embed" -d '{"txts": []}'
expect_http "texts not strings" 400 "texts[1]" -XPOST "$url/v1/embed" -d '{"texts": ["a", 2]}'
$PY -c "import json; json.dump({'themes': {'t%d' % i: ['k%d %d' % (i, k) for k in range(100)] for i in range(41)}, 'texts': ['x']}, open('$work/kw.json', 'w'))"
expect_http "more than 4,096 inline keywords: 413" 413 "4100 inline keywords in one request; at most 4096" -XPOST "$url/v1/themes/assign" --data-binary @"$work/kw.json"
expect_http "unknown app" 404 "no themes for app_id 1" -XPOST "$url/v1/themes/assign" -d '{"app_id":"1","texts":["x"]}'
expect_http "unknown route" 404 "no route" "$url/v1/nothing"
expect_http "wrong method" 405 "not allowed" -XPUT "$url/v1/embed" -d '{}'
expect_http "unknown job" 404 "no job" "$url/v1/jobs/0123456789abcdef0123456789abcdef"
expect_http "job outside the data root" 400 "not a file under the data root" -XPOST "$url/v1/jobs" \
    -d "{\"inputs\": [\"/etc/passwd\"], \"themes\": \"$work/root/steamlens_game_themes.json\"}"
expect_http "job path escaping the root" 400 "not a file under the data root" -XPOST "$url/v1/jobs" \
    -d '{"inputs": ["../reviews.csv"], "themes": "steamlens_game_themes.json"}'
expect_http "job unknown option" 400 "unknown field 'topk'" -XPOST "$url/v1/jobs" \
    -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "topk": 2}'
printf '{"10": {"a": ["x", 5]}}' > "$work/badthemes.json"
expect_http "upload with bad themes" 400 "\"message\":\"themes.json:1:20" -F files=@"$work/reviews.csv" -F themes=@"$work/badthemes.json" "$url/v1/jobs"
expect_http "upload without files" 400 "no input files" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload with no name before the extension" 400 "file name" -F "files=@$work/reviews.csv;filename=.csv" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload of a file that is no review file" 400 "file name" -F "files=@$work/reviews.csv;filename=x.exe" -F themes=@"$THEMES" "$url/v1/jobs"
# cross-site requests: JSON routes take only application/json (a page's
# no-cors fetch or form can send text/plain, urlencoded or multipart, not
# that); a foreign Origin cannot change anything; without --token only the
# server's own Host names are answered (DNS rebinding)
code() { command curl -s -o /dev/null -w '%{http_code}' "$@"; }
expect_http "text/plain body: 415" 415 "application/json" -XPOST "$url/v1/themes/assign" -H 'Content-Type: text/plain' \
    -d '{"app_id":"391540","texts":["x"]}'
expect_http "urlencoded body: 415" 415 "application/json" -XPOST "$url/v1/embed" -H 'Content-Type: application/x-www-form-urlencoded' -d '{"texts":["x"]}'
expect_http "no Content-Type: 415" 415 "application/json" -XPOST "$url/v1/sentiment" -H 'Content-Type:' -d '{"texts":["x"]}'
expect_http "job as text/plain: 415" 415 "multipart/form-data" -XPOST "$url/v1/jobs" -H 'Content-Type: text/plain' \
    -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json"}'
check "application/json; charset=utf-8 is JSON" test "$(code -XPOST "$url/v1/embed" -H 'Content-Type: Application/JSON; charset=utf-8' -d '{"texts":["x"]}')" = 200
njobs=$(curl -s "$url/v1/jobs" | json_field '["total"]')
expect_http "foreign Origin: 403" 403 "cross-origin" -XPOST "$url/v1/embed" -H 'Origin: http://evil.example' -d '{"texts":["x"]}'
expect_http "foreign Origin on the same host, other port: 403" 403 "cross-origin" -XPOST "$url/v1/embed" \
    -H "Origin: ${url%:*}:1" -d '{"texts":["x"]}'
expect_http "no-cors multipart job from a foreign Origin: 403" 403 "cross-origin" -H 'Origin: http://evil.example' \
    -F files=@"$work/reviews.csv" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "Origin null: 403" 403 "cross-origin" -XDELETE -H 'Origin: null' "$url/v1/jobs/0123456789abcdef0123456789abcdef"
check "...and no job was created" test "$(curl -s "$url/v1/jobs" | json_field '["total"]')" = "$njobs"
check "same Origin: 200" test "$(code -XPOST "$url/v1/embed" -H "Origin: $url" -H 'Content-Type: application/json' -d '{"texts":["x"]}')" = 200
check "a reverse proxy's Origin named by X-Forwarded-Host: 200" test "$(code -XPOST "$url/v1/embed" -H 'Origin: https://lens.example' \
    -H 'X-Forwarded-Host: lens.example' -H 'Content-Type: application/json' -d '{"texts":["x"]}')" = 200
check "a foreign Origin may GET (no CORS headers: it cannot read)" test "$(code -H 'Origin: http://evil.example' "$url/v1/jobs")" = 200
expect_http "foreign Host: 403" 403 "Host 'evil.example:${url##*:}'" -H "Host: evil.example:${url##*:}" "$url/v1/jobs"
expect_http "foreign Host on /healthz: 403" 403 "not this server" -H 'Host: evil.example' "$url/healthz"
expect_http "own name, other port: 403" 403 "not this server" -H 'Host: localhost:1' "$url/healthz"
check "Host localhost:PORT: 200" test "$(code -H "Host: localhost:${url##*:}" "$url/healthz")" = 200
check "Host [::1]:PORT: 200" test "$(code -H "Host: [::1]:${url##*:}" "$url/healthz")" = 200

# ---------------------------------------------------------------- jobs
"$LENS" analyze --themes "$THEMES" --model "$STATIC" --top-k 2 -o "$work/cli" "$work/reviews.csv" 2>/dev/null
id=$(curl -s -F files=@"$work/reviews.csv" -F themes=@"$THEMES" -F 'options={"top_k": 2}' "$url/v1/jobs" | json_field '["id"]')
check "upload job succeeds" wait_state "$id" succeeded 60
for f in report.csv summaries.csv assignments.csv report.html; do
    curl -s "$url/v1/jobs/$id/results/$f" > "$work/up.$f"
    check "upload job $f equals the CLI's" cmp -s "$work/up.$f" "$work/cli/$f"
done
id2=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "top_k": 2}' | json_field '["id"]')
check "path job succeeds" wait_state "$id2" succeeded 60
curl -s "$url/v1/jobs/$id2/results/report.csv" > "$work/path.report.csv"
check "path job equals the CLI" cmp -s "$work/path.report.csv" "$work/cli/report.csv"
curl -s "$url/v1/jobs/$id" > "$work/job.json"
check "job description" $PY - "$work/job.json" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["state"] == "succeeded" and j["progress"]["percent"] == 100 and j["progress"]["processed"] == 1700, j
assert j["progress"]["total"] == 1700, j["progress"]
assert set(j["phases"]) == {"read", "embed", "assign", "summarize", "write"} and j["finished"] >= j["started"] >= j["created"]
assert "report.html" in j["results"] and j["error"] is None
PY
check "list filtered by state" test "$(curl -s "$url/v1/jobs?state=succeeded&limit=1" | json_field '["total"]')" = 2
curl -s "$url/v1/jobs/$id/events" --max-time 5 > "$work/events.txt"
check "events of a finished job" grep -q '^event: done' "$work/events.txt"
curl -s -XPOST "$url/v1/embed" --data-binary @"$work/embed.json" > /dev/null
curl -s "$url/metrics" > "$work/metrics.txt"
check "metrics" $PY - "$work/metrics.txt" <<'PY'
import re, sys
m = open(sys.argv[1]).read()
for pat in [r'lens_http_requests_total\{route="embed",code="2xx"\} [1-9]', r'lens_http_requests_total\{route="embed",code="4xx"\} [1-9]',
            r'lens_http_request_duration_seconds_bucket\{route="embed",le="\+Inf"\}', r'lens_batch_size_count [1-9]',
            r'lens_jobs\{state="succeeded"\} 2', r'lens_cache_hit_ratio 0\.[0-9]*[1-9]', r'lens_queue_depth 0',
            r'lens_encoder_tokens_per_second [1-9]']:
    assert re.search(pat, m), pat
PY
# epoll threads, not a thread per connection: 300 open connections cost no
# threads, and the server still answers while they are open
check "300 open connections, few threads" $PY - "$url" "$pid" <<'PY'
import re, socket, sys, time, urllib.request
host, port = sys.argv[1].split("//")[1].split(":")
socks = [socket.create_connection((host, int(port))) for _ in range(300)]
time.sleep(0.5)
threads = int(re.search(r"Threads:\s+(\d+)", open("/proc/%s/status" % sys.argv[2]).read()).group(1))
body = urllib.request.urlopen(sys.argv[1] + "/healthz", timeout=10).read()
for s in socks: s.close()
assert threads < 40 and b'"ok"' in body, (threads, body)
PY
# a project job (UMAP) on the same machinery: the CLI's map, bit for bit
"$LENS" project "$work/cli.npy" -o "$work/cli.proj.csv" --neighbors 10 2>/dev/null
pj=$(curl -s -F kind=project -F files=@"$work/cli.npy" -F 'options={"neighbors": 10}' "$url/v1/jobs" | json_field '["id"]')
check "project job succeeds" wait_state "$pj" succeeded 60
curl -s "$url/v1/jobs/$pj/results/projection.csv" > "$work/proj.csv"
check "project job equals lens project" cmp -s "$work/proj.csv" "$work/cli.proj.csv"
expect_http "project job unknown option" 400 "unknown field 'neighbours'" -F kind=project -F files=@"$work/cli.npy" \
    -F 'options={"neighbours": 10}' "$url/v1/jobs"
# an analyze job with a map
mj=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "map": true}' | json_field '["id"]')
check "analyze job with a map" wait_state "$mj" succeeded 60
check "...serves map.csv" test "$(curl -s "$url/v1/jobs/$mj/results/map.csv" | wc -l)" = "$(curl -s "$url/v1/jobs/$mj/results/assignments.csv" | wc -l)"
# names are cleaned, not refused: a browser's "steam reviews (1).csv", twice
nj=$(curl -s -F "files=@$work/reviews.csv;filename=steam reviews (1).csv" -F "files=@$work/reviews.csv;filename=steam reviews [1].csv" \
    -F "files=@$work/reviews.csv;filename=C:\\Users\\me\\r.csv" -F themes=@"$THEMES" "$url/v1/jobs" | json_field '["id"]')
check "upload names cleaned and kept apart" test "$(curl -s "$url/v1/jobs/$nj" | json_field '["params"]["inputs"]')" = \
    "['steam_reviews__1_.csv', 'steam_reviews__1_-2.csv', 'r.csv']"
# bad review files are refused at upload, naming the file and why (not
# queued to fail after retries)
: > "$work/empty.csv"
printf 'a,b\n1,2\n' > "$work/nocol.csv"
printf '{"app_id": 1, "review": "x"\n' > "$work/broken.jsonl"
printf 'not zstd' > "$work/fake.csv.zst"
printf 'not parquet' > "$work/fake.parquet"
printf 'hello\nworld\n' > "$work/plain.txt"
expect_http "upload: empty file" 400 "empty.csv: empty file" -F files=@"$work/empty.csv" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload: no review column, named by its field" 400 "nocol.csv: no app id column (steam_appid or app_id); name it with 'app_column'" \
    -F files=@"$work/nocol.csv" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload: broken JSONL" 400 "broken.jsonl:1" -F files=@"$work/broken.jsonl" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload: fake .zst" 400 "fake.csv.zst:1: zstd" -F files=@"$work/fake.csv.zst" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload: fake .parquet" 400 "fake.parquet: " -F files=@"$work/fake.parquet" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "upload: a .txt of texts" 400 "plain.txt: no app id column" -F files=@"$work/plain.txt" -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "column option: a missing column" 400 "no column 'body' ('text_column')" -F files=@"$work/reviews.csv" \
    -F themes=@"$THEMES" -F 'options={"text_column": "body"}' "$url/v1/jobs"
# the column options of lens analyze, as job params
$PY - "$work/reviews.csv" "$work/root/renamed.csv" <<'PY'
import csv, sys
csv.field_size_limit(1 << 30)
r = csv.reader(open(sys.argv[1], newline="", encoding="utf-8")); w = csv.writer(open(sys.argv[2], "w", newline="", encoding="utf-8"))
h = next(r); w.writerow(["game" if c == "app_id" else "body" if c == "review" else c for c in h]); w.writerows(r)
PY
cj=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["renamed.csv"], "themes": "steamlens_game_themes.json", "app_column": "game", "text_column": "body"}' | json_field '["id"]')
check "job with column options succeeds" wait_state "$cj" succeeded 60
check "...with the same report" cmp -s <(curl -s "$url/v1/jobs/$cj/results/report.csv") <("$LENS" analyze --themes "$THEMES" --model "$STATIC" -o "$work/cli-cols" "$work/reviews.csv" 2>/dev/null && cat "$work/cli-cols/report.csv")
# more refusals, as JSON
expect_http "unknown language" 400 "Steam review language (arabic, " -XPOST "$url/v1/jobs" \
    -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "language": "klingon"}'
expect_http "duplicate option keys in a form" 400 "duplicate object key" -F files=@"$work/reviews.csv" -F themes=@"$THEMES" \
    -F 'options={"top_k": 1, "top_k": 2}' "$url/v1/jobs"
expect_http "a form field twice" 400 "form field 'kind' given twice" -F kind=analyze -F kind=project -F files=@"$work/reviews.csv" \
    -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "a project job with themes" 400 "a project job takes no themes" -F kind=project -F files=@"$work/texts.jsonl" \
    -F themes=@"$THEMES" "$url/v1/jobs"
expect_http "offset not a number" 400 "offset an integer" "$url/v1/jobs?offset=abc"
expect_http "limit not a number" 400 "limit must be an integer" "$url/v1/jobs?limit=5x"
expect_http "negative offset" 400 "offset an integer" "$url/v1/jobs?offset=-1"
expect_http "URI too long: JSON 414" 414 "request URI longer" "$url/v1/jobs?state=$(head -c 9000 /dev/zero | tr '\0' a)"
expect_http "headers too large: JSON 431" 431 "request headers larger" -H "X-Big: $(head -c 17000 /dev/zero | tr '\0' a)" "$url/healthz"
# --data-root: a symlink in an input directory leading out of the root is
# refused by name; the outside text is nowhere
mkdir -p "$work/root/d1" "$work/outside"
cp "$work/reviews.csv" "$work/root/d1/a.csv"
printf 'app_id,review,voted_up\n391540,SECRET OUTSIDE TEXT about the music,1\n' > "$work/outside/x.csv"
ln -s "$work/outside/x.csv" "$work/root/d1/b.csv"
expect_http "a symlink out of the root, in an input directory" 400 "d1/b.csv: refused: it leads outside the data root" \
    -XPOST "$url/v1/jobs" -d '{"inputs": ["d1"], "themes": "steamlens_game_themes.json"}'
ln -s ../reviews.csv "$work/root/d1/c.csv" # inside: followed
rm "$work/root/d1/b.csv"
dj=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["d1"], "themes": "steamlens_game_themes.json"}' | json_field '["id"]')
check "a symlink staying inside the root is followed" wait_state "$dj" succeeded 60
check "...and the path job shows paths relative to the root" test "$(curl -s "$url/v1/jobs/$dj" | json_field '["params"]["inputs"]')" = "['d1']"

# no absolute server path in what clients get: job descriptions, errors,
# health, reports (the model by name)
curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "text_column": "x"}' > "$work/err.json"
check "errors name files relative to the root" grep -q '"reviews.csv: no column' "$work/err.json"
check "healthz names the model, not its path" test "$(curl -s "$url/healthz" | json_field '["model"]')" = steam-static
for f in report.json report.html; do curl -s "$url/v1/jobs/$id2/results/$f" > "$work/leak.$f"; done
curl -s "$url/v1/jobs?limit=1000" > "$work/leak.jobs"
check "no server path in jobs, errors or reports" test "$(cat "$work"/leak.* "$work/err.json" | grep -c -e "$work" -e "$ROOT")" = 0
check "...nor the outside file's text" test "$(cat "$work"/leak.* | grep -c SECRET)" = 0
# invalid UTF-8 in an upload: replaced by U+FFFD and counted, as the CLI does
bad_utf8 "$work"
u8=$(curl -s -F files=@"$work/bad.csv" -F themes=@"$THEMES" "$url/v1/jobs" | json_field '["id"]')
check "invalid UTF-8 job succeeds" wait_state "$u8" succeeded 60
mkdir -p "$work/u8"
for f in report.json summaries.csv assignments.csv report.csv report.html; do curl -s "$url/v1/jobs/$u8/results/$f" > "$work/u8/$f"; done
check "invalid UTF-8 job: outputs valid UTF-8, 13 rows / 23 bytes counted" strict_utf8 "$work/u8" 13 23
curl -s -XDELETE "$url/v1/jobs/$id2" > /dev/null
check "delete removes the job and its files" test ! -e "$work/d1/jobs/$id2" -a "$(curl -s -o /dev/null -w '%{http_code}' "$url/v1/jobs/$id2")" = 404
kill $pid; wait $pid 2>/dev/null
check "SIGTERM: clean stop" grep -q "stopping" "$work/fast.log"

# ---------------------------------------------------------------- auth
# settings come from the environment too: the token and the job TTL here
LENS_TOKEN=s3cret LENS_JOB_TTL=1 start tok --model "$STATIC" --data-dir "$work/d2"
check "no token: 401" test "$(curl -s -o /dev/null -w '%{http_code}' -XPOST "$url/v1/embed" -d '{"texts":["a"]}')" = 401
check "token: 200" test "$(curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer s3cret' -XPOST "$url/v1/embed" -d '{"texts":["a"]}')" = 200
check "healthz needs no token" test "$(curl -s -o /dev/null -w '%{http_code}' "$url/healthz")" = 200
check "...and shows no server path" test "$(curl -s "$url/healthz" | grep -c "$ROOT")" = 0
check "bearer is case-insensitive" test "$(code -H 'Authorization: bearer s3cret' -XPOST "$url/v1/embed" -H 'Content-Type: application/json' -d '{"texts":["a"]}')" = 200
command curl -s -D "$work/h401" -o /dev/null "$url/v1/jobs"
check "401 names the scheme: WWW-Authenticate: Bearer" grep -qi '^www-authenticate: bearer' "$work/h401"
nojob=$url/v1/jobs/0123456789abcdef0123456789abcdef # past the token check: 404
check "?token= opens event streams" test "$(code --max-time 5 "$nojob/events?token=s3cret")" = 404
check "...and result downloads" test "$(code "$nojob/results/report.csv?token=s3cret")" = 404
check "...not with a wrong token" test "$(code "$nojob/results/report.csv?token=s3cre")" = 401
check "?token= is refused on API routes" test "$(code "$url/v1/jobs?token=s3cret")" = 401
check "...and on POST" test "$(code -XPOST "$url/v1/embed?token=s3cret" -H 'Content-Type: application/json' -d '{"texts":["a"]}')" = 401
check "a token server answers any Host (it may sit behind a proxy)" test "$(code -H 'Authorization: Bearer s3cret' -H 'Host: lens.example' "$url/v1/jobs")" = 200
AUTH=(-H 'Authorization: Bearer s3cret')
tj=$(curl -s "${AUTH[@]}" -F files=@"$work/reviews.csv" -F themes=@"$THEMES" "$url/v1/jobs" | json_field '["id"]')
for _ in $(seq 1 100); do [[ $(curl -s "${AUTH[@]}" "$url/v1/jobs/$tj" | json_field '.get("state")') == succeeded ]] && break; sleep 0.1; done
sleep 2.5
check "a finished job expires after the TTL" test "$(curl -s -o /dev/null -w '%{http_code}' "${AUTH[@]}" "$url/v1/jobs/$tj")" = 404
check "...and its files are gone" test ! -e "$work/d2/jobs/$tj"
kill $pid; wait $pid 2>/dev/null
expect_error "non-loopback without a token" "needs a bearer token" "$LENS" serve --host 0.0.0.0 --port 0 --data-dir "$work/d3"
expect_error "bad option" "--max-batch" "$LENS" serve --max-batch 0

# ---------------------------------------------------------------- slowloris
# connections that stall mid-headers or mid-body are closed after --timeout
# (2 s here), and the server answers others meanwhile
start loris "${SLOW[@]}" --data-dir "$work/d5" --data-root "$work/root" --timeout 2 --max-batch 16 --cache 0
check "300 stalled connections: /healthz answers, stalls are closed" $PY - "$url" 2 <<'PY'
import socket, sys, time, urllib.request
url, timeout = sys.argv[1], float(sys.argv[2])
host, port = url.split("//")[1].split(":")
port = int(port)
socks = []
for _ in range(300): # headers that never end
    s = socket.create_connection((host, port))
    s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nX-Slow: " % port)
    socks.append(s)
time.sleep(0.3)
t0 = time.time()
body = urllib.request.urlopen(url + "/healthz", timeout=10).read()
dt = time.time() - t0
assert b'"ok"' in body and dt < 1, dt
p = socket.create_connection((host, port)) # a body that never ends
p.sendall(b"POST /v1/embed HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nContent-Type: application/json\r\n"
          b"Content-Length: 100\r\n\r\n{\"texts\"" % port)
t0 = time.time()
p.settimeout(timeout + 10)
try:
    while p.recv(4096): pass
except (ConnectionResetError, socket.timeout): pass
closed = time.time() - t0
socks[-1].settimeout(5)
try: gone = socks[-1].recv(1) == b""
except ConnectionResetError: gone = True
except socket.timeout: gone = False
assert closed < timeout + 2 and gone, (closed, gone)
PY
# an event stream outlives --timeout: its news and keep-alives are activity;
# a client that leaves is no error in the log
cp "$work/root/reviews.csv" "$work/root/reviews2.csv"
lj=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv", "reviews2.csv"], "themes": "steamlens_game_themes.json", "chunk": 32}' | json_field '["id"]')
command curl -s -N --max-time 3.5 "$url/v1/jobs/$lj/events" > "$work/ev.loris"
check "an event stream is not cut by --timeout" test $? = 28 -a "$(grep -c '^event: progress' "$work/ev.loris")" -ge 1
curl -s -XPOST "$url/v1/jobs/$lj/cancel" > /dev/null
wait_state "$lj" cancelled 30
check "...and its leaving is not logged as an error" bash -c "! grep -q 'Failed to send' '$work/loris.log'"
# one large request does not hold up the rest: the batcher takes slices of
# --max-batch texts round-robin, so a one-text request waits for one slice
check "a one-text embed behind 1,024 texts finishes long before them" $PY - "$url" <<'PY'
import json, sys, threading, time, urllib.request
url = sys.argv[1]
def post(texts, out):
    req = urllib.request.Request(url + "/v1/embed", json.dumps({"texts": texts}).encode(), {"Content-Type": "application/json"})
    assert urllib.request.urlopen(req, timeout=300).status == 200
    out.append(time.time())
big, small = [], []
t0 = time.time()
th = threading.Thread(target=post, args=(["review %d: the music is great but the servers lag all the time" % i for i in range(1024)], big))
th.start()
time.sleep(0.3)
t1 = time.time()
post(["one small text"], small)
th.join()
assert small[0] < big[0] and small[0] - t1 < (big[0] - t0) / 4, (big[0] - t0, small[0] - t1)
PY
kill $pid; wait $pid 2>/dev/null

# ---------------------------------------------------------------- slow jobs
# the reference: the CLI with the same model and chunks
"$LENS" analyze --themes "$THEMES" "${SLOW[@]}" --chunk 128 -o "$work/cli-slow" "$work/reviews.csv" 2>/dev/null
start slow "${SLOW[@]}" --data-dir "$work/d4" --data-root "$work/root" --job-attempts 2 --queue 4 --max-batch 1
job() { curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "steamlens_game_themes.json", "chunk": 128}' | json_field '["id"]'; }
a=$(job)
check "running" wait_state "$a" running 60
chunk_of() { curl -s "$url/v1/jobs/$1" | json_field '["progress"]["chunk"]'; }
for _ in $(seq 1 600); do [[ $(chunk_of "$a") -ge 2 ]] && break; sleep 0.1; done
# a full queue answers 503 with Retry-After (the job keeps the CPU busy)
long=$($PY -c "import json; t = ' '.join(['the servers lag and the music is great'] * 40); print(json.dumps({'texts': [t, t + ' again']}))")
cp=()
for i in $(seq 1 24); do curl -s -o /dev/null -D "$work/h$i" -w '%{http_code}\n' -XPOST "$url/v1/embed" -d "$long" >> "$work/codes" & cp+=($!); done
wait "${cp[@]}"
check "queue full: some 503 with Retry-After" grep -qi '^retry-after: 1' $(grep -l ' 503' "$work"/h*)
check "...and the rest 200" test "$(grep -cv '^\(200\|503\)$' "$work/codes")" = 0
# the state machine (lens_job_transition): 202 for a change, 200 when the job
# already is there, 409 when its state does not allow it
ctl() { # ID ACTION -> "HTTP-CODE STATE"
    local out; out=$(curl -s -w '\n%{http_code}' -XPOST "$url/v1/jobs/$1/$2")
    echo "${out##*$'\n'} $(echo "${out%$'\n'*}" | $PY -c 'import json,sys; j=json.load(sys.stdin); print(j.get("state") or j["error"]["message"])')"
}
# codes ID ACTION...: the HTTP codes of the actions, sent back to back on one
# connection (within a millisecond: before the job's next chunk)
codes() {
    local id=$1 args=(); shift
    for a in "$@"; do args+=(-s -o /dev/null -w '%{http_code} ' -XPOST "$url/v1/jobs/$id/$a" --next); done
    curl "${args[@]}" -s -o /dev/null "$url/healthz"
}
check "resume a running job: 200, running" test "$(ctl "$a" resume)" = "200 running"
check "pause a running job: 202; pause, resume while pausing: 200, 409" test "$(codes "$a" pause pause resume)" = "202 200 409 "
check "pause" wait_state "$a" paused 60
check "pause a paused job: 200" test "$(ctl "$a" pause)" = "200 paused"
p1=$(curl -s "$url/v1/jobs/$a" | json_field '["progress"]["processed"]'); sleep 1.5
check "paused stays put" test "$(curl -s "$url/v1/jobs/$a" | json_field '["progress"]["processed"]')" = "$p1"
r=$(ctl "$a" resume); check "resume a paused job: 202" test "${r%% *}" = 202
check "resume" wait_state "$a" running 30
for _ in $(seq 1 600); do [[ $(chunk_of "$a") -ge 5 ]] && break; sleep 0.1; done
# a job whose input vanishes fails after its retries, with the reason
cp "$work/root/reviews.csv" "$work/root/gone.csv"
b=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["gone.csv"], "themes": "steamlens_game_themes.json"}' | json_field '["id"]')
rm "$work/root/gone.csv"
# a file checked at submission and swapped for a symlink out of the root
# before the job runs is refused when the job opens it, at once (no retry)
cp "$work/root/reviews.csv" "$work/root/swap.csv"
e=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["swap.csv"], "themes": "steamlens_game_themes.json"}' | json_field '["id"]')
check "a job queued behind a running one pauses" test "$(ctl "$e" pause)" = "202 paused"
rm "$work/root/swap.csv"; ln -s "$work/outside/x.csv" "$work/root/swap.csv"
check "...resumes" test "$(ctl "$e" resume)" = "202 queued"
# the same for a themes file
cp "$work/root/steamlens_game_themes.json" "$work/root/swapth.json"
printf '{"391540": {"SECRETTHEME": ["music"]}}' > "$work/outside/th.json"
et=$(curl -s -XPOST "$url/v1/jobs" -d '{"inputs": ["reviews.csv"], "themes": "swapth.json"}' | json_field '["id"]')
check "a job with its own themes pauses in the queue" test "$(ctl "$et" pause)" = "202 paused"
rm "$work/root/swapth.json"; ln -s "$work/outside/th.json" "$work/root/swapth.json"
check "...resumes" test "$(ctl "$et" resume)" = "202 queued"
c=$(job)
check "pause a queued job: 202, paused" test "$(ctl "$c" pause)" = "202 paused"
check "resume it: 202, queued" test "$(ctl "$c" resume)" = "202 queued"
check "resume a queued job: 200" test "$(ctl "$c" resume)" = "200 queued"
check "cancel a queued job: 202, cancelled" test "$(ctl "$c" cancel)" = "202 cancelled"
check "cancel a cancelled job: 200" test "$(ctl "$c" cancel)" = "200 cancelled"
expect_http "pause a cancelled job" 409 "cannot pause job" -XPOST "$url/v1/jobs/$c/pause"
expect_http "resume a cancelled job" 409 "cannot resume job" -XPOST "$url/v1/jobs/$c/resume"
# SIGKILL the server mid-job; the restarted server resumes it from its checkpoint
kill -9 $pid; wait $pid 2>/dev/null
start slow2 "${SLOW[@]}" --data-dir "$work/d4" --data-root "$work/root" --job-attempts 2 --batch-tokens 256
check "after SIGKILL the job resumes and succeeds" wait_state "$a" succeeded 240
for f in report.csv summaries.csv assignments.csv report.json report.html; do
    curl -s "$url/v1/jobs/$a/results/$f" > "$work/slow.$f"
    check "resumed job $f equals the CLI's" cmp -s "$work/slow.$f" "$work/cli-slow/$f"
done
# a batch larger than one forward pass (--batch-tokens 256) is answered pass
# by pass, and still gives lens embed's bits (the transformer this time)
"$LENS" embed "${SLOW[@]}" "$work/texts.jsonl" -o "$work/cli-minilm.npy" 2>/dev/null
cp=()
for i in $(seq 0 15); do curl -s -XPOST "$url/v1/embed" --data-binary @"$work/one$i.json" > "$work/m$i.out" & cp+=($!); done
curl -s -XPOST "$url/v1/embed" --data-binary @"$work/embed.json" > "$work/m.out"
wait "${cp[@]}"
check "transformer embed in passes of 256 tokens equals lens embed" $PY - "$work" <<'PY'
import json, sys, numpy as np
d = sys.argv[1]
ref = np.load(d + "/cli-minilm.npy")
got = np.array(json.load(open(d + "/m.out"))["embeddings"], dtype=np.float32)
assert got.shape == ref.shape and np.array_equal(got, ref), np.abs(got - ref).max()
for i in range(16):
    one = np.array(json.load(open("%s/m%d.out" % (d, i)))["embeddings"][0], dtype=np.float32)
    assert np.array_equal(one, ref[i]), i
PY
check "the swapped file is refused when opened, at once" wait_state "$e" failed 120
curl -s "$url/v1/jobs/$e" > "$work/e.json"
check "...naming it, in one attempt" $PY -c "
import json; j = json.load(open('$work/e.json')); assert j['attempts'] == 1 and 'swap.csv: refused: it leads outside the data root' in j['error'] and 'results' not in j, j"
check "a swapped themes file is refused when opened" wait_state "$et" failed 120
curl -s "$url/v1/jobs/$et" > "$work/et.json"
check "...naming it, in one attempt" $PY -c "
import json; j = json.load(open('$work/et.json')); assert j['attempts'] == 1 and 'swapth.json: refused: it leads outside the data root' in j['error'] and 'results' not in j, j"
# cancel wins: a running job asked to cancel is cancelling until its next
# chunk; resume and pause do not undo it
d=$(job)
check "another job runs" wait_state "$d" running 120
check "cancel a running job: 202; cancel, resume, pause while cancelling: 200, 409, 409" \
    test "$(codes "$d" cancel cancel resume pause)" = "202 200 409 409 "
check "...then cancelled" wait_state "$d" cancelled 60
check "missing input: failed after 2 attempts" wait_state "$b" failed 60
curl -s "$url/v1/jobs/$b" > "$work/b.json"
check "...with the reason" $PY -c "
import json; j = json.load(open('$work/b.json')); assert j['attempts'] == 2 and 'gone.csv' in j['error'], j"
kill $pid; wait $pid 2>/dev/null

finish serve
