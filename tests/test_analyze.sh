#!/usr/bin/env bash
# End-to-end tests of lens analyze on real Steam reviews (a sample cut from the
# bundled data/sample): counts add up, reports agree with the assignments and with the
# source's voted_up, CSV and JSONL inputs give identical outputs, top-k and
# min-similarity behave, errors are one line, a killed or stopped run resumes
# to byte-identical outputs.
# usage: tests/test_analyze.sh LENS MODELS_DIR
set -uo pipefail
LENS=$1 MODELS=$2
MODEL=$MODELS/small-gen-f16
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"

# 1,500 reviews of the 5 themed games, 200 of others (all languages), as CSV and JSONL
steam_sample "$work/reviews.csv" 200
$PY - "$work/reviews.csv" "$work/reviews.jsonl" <<'PY'
import csv, json, sys
csv.field_size_limit(1 << 30)
with open(sys.argv[2], "w", encoding="utf-8") as f:
    for r in csv.DictReader(open(sys.argv[1], newline="", encoding="utf-8")):
        f.write(json.dumps({"steam_appid": int(r["app_id"]), "name": r["app_name"], "recommendationid": r["recommendationid"],
                            "review_language": r["language"], "review": r["review"], "voted_up": r["voted_up"] == "1"},
                           ensure_ascii=False) + "\n")
PY
A=("$LENS" analyze --themes "$THEMES" --model "$MODEL")
"${A[@]}" -o "$work/o1" "$work/reviews.csv" 2>"$work/log1"
check "analyze csv" test -s "$work/o1/report.csv"
check "summary line" grep -q "analyze: 1700 rows" "$work/log1"
check "counts and reports agree" $PY - "$work/o1" "$work/reviews.csv" "$THEMES" <<'PY'
import csv, json, sys, collections
d, src, themes = sys.argv[1], sys.argv[2], json.load(open(sys.argv[3]))
rep = json.load(open(d + "/report.json")); c = rep["counts"]
rows = list(csv.DictReader(open(src, newline="", encoding="utf-8")))
eng = [r for r in rows if r["language"] == "english"]
known = [r for r in eng if r["app_id"] in themes]
nonempty = [r for r in known if r["review"].strip()]
assert c["rows"] == len(rows) == 1700, c
assert c["other_language"] == len(rows) - len(eng), c
assert c["unknown_app"] == len(eng) - len(known), c
assert c["empty"] == len(known) - len(nonempty) and c["analyzed"] == len(nonempty), c
skipped = {s["app_id"]: s["reviews"] for s in rep["skipped_apps"]}
assert skipped == dict(collections.Counter(r["app_id"] for r in eng if r["app_id"] not in themes)), skipped
asg = list(csv.DictReader(open(d + "/assignments.csv", newline="", encoding="utf-8")))
assert len(asg) == len(nonempty) and all(a["rank"] == "1" for a in asg)
truth = {r["recommendationid"]: ("positive" if r["voted_up"] == "1" else "negative", r["app_id"]) for r in nonempty}
assert all(truth[a["review_id"]] == (a["sentiment"], a["app_id"]) for a in asg)
assert all(a["theme"] in themes[a["app_id"]] for a in asg)
agg = collections.defaultdict(lambda: [0, 0, 0])
for a in asg:
    k = (a["app_id"], a["theme"]); agg[k][0] += 1; agg[k][1 if a["sentiment"] == "positive" else 2] += 1
report = list(csv.DictReader(open(d + "/report.csv", newline="", encoding="utf-8")))
assert len(report) == len(agg)
for r in report:
    n, p, q = agg[(r["steam_appid"], r["Theme"])]
    assert (int(r["#Reviews"]), int(r["Positive"]), int(r["Negative"])) == (n, p, q), r
    assert abs(float(r["LikeRatio"]) - p / n) < 1e-4 and abs(float(r["DislikeRatio"]) - q / n) < 1e-4
    assert r["app_name"]
PY
check "summaries quote real sentences of their group" $PY - "$work/o1" "$work/reviews.csv" <<'PY'
import csv, sys, collections
d, src = sys.argv[1], sys.argv[2]
text = {r["recommendationid"]: r["review"] for r in csv.DictReader(open(src, newline="", encoding="utf-8"))}
asg = list(csv.DictReader(open(d + "/assignments.csv", newline="", encoding="utf-8")))
group = collections.Counter((a["app_id"], a["theme"], a["sentiment"]) for a in asg)
member = {(a["review_id"], a["app_id"], a["theme"], a["sentiment"]) for a in asg}
summ = list(csv.DictReader(open(d + "/summaries.csv", newline="", encoding="utf-8")))
assert summ, "no summaries"
per = collections.Counter()
for q in summ:
    key = (q["steam_appid"], q["Theme"], q["sentiment"])
    per[key] += 1
    assert (q["review_id"],) + key in member, q
    assert q["quote"] and q["quote"] in text[q["review_id"]], q
    assert 1 <= int(q["reviews"]) <= group[key], (q, group[key])
assert all(v <= 5 for v in per.values())
# a group has quotes unless none of its reviews has a sentence (3 letters or digits)
letters = lambda t: sum(c.isascii() and c.isalnum() or ord(c) >= 0x80 for c in t)
quotable = {(a["app_id"], a["theme"], a["sentiment"]) for a in asg if letters(text[a["review_id"]]) >= 3}
assert set(per) <= set(group) and quotable <= set(per), (set(per) - set(group), quotable - set(per))
PY
# report.html as a person sees it, in headless Chromium
browser=$(cd "$(dirname "$0")/browser" && pwd)
[[ -d $browser/node_modules/playwright-core ]] || (cd "$browser" && npm ci --silent --no-audit --no-fund)
check "report.html in Chromium" node "$browser/report_test.mjs" "$work/o1/report.html" "$work/o1/report.json" "$work/report.png"
# --map: map.csv has every analysed review; report.html draws them per game
"${A[@]}" --map -o "$work/map" "$work/reviews.csv" 2>/dev/null
check "map.csv rows = assignments" test "$(wc -l < "$work/map/map.csv")" = "$(wc -l < "$work/map/assignments.csv")"
check "--map changes nothing else" cmp -s "$work/map/report.csv" "$work/o1/report.csv"
check "map in Chromium" node "$browser/map_test.mjs" "$work/map/report.html" "$work/map/map.csv" "$work/map.png"
"${A[@]}" -o "$work/o2" "$work/reviews.jsonl" 2>/dev/null
for f in report.csv assignments.csv summaries.csv report.html; do check "jsonl equals csv: $f" cmp -s "$work/o1/$f" "$work/o2/$f"; done
mkdir -p "$work/dir" && cp "$work/reviews.csv" "$work/dir/a.csv"
"${A[@]}" -o "$work/o3" "$work/dir" 2>/dev/null
check "directory input" cmp -s "$work/o1/assignments.csv" "$work/o3/assignments.csv"
"${A[@]}" -o "$work/o4" "$work/reviews.csv" 2>/dev/null
check "deterministic" cmp -s "$work/o1/report.json" "$work/o4/report.json"

# Parquet: one file per game (as the seed's data is laid out, written by
# hyparquet-writer) gives what the same rows as JSONL give
FIXP=$(dirname "$0")/fixtures/parquet
mkdir -p "$work/pq" && cp "$FIXP"/review_*.parquet "$work/pq/"
zstd -dcq "$FIXP/source.jsonl.zst" > "$work/pq-source.jsonl"
$PY - "$work/pq-source.jsonl" "$work/pq" "$work/pq-same.jsonl" <<'PY'
import json, os, sys
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[3], "w", encoding="utf-8") as f:
    for name in sorted(os.listdir(sys.argv[2])):  # the order lens reads a directory in
        app = int(name[len("review_"):-len(".parquet")])
        for r in rows:
            if r["app_id"] == app: f.write(json.dumps(r, ensure_ascii=False) + "\n")
PY
"${A[@]}" --language all -o "$work/pq-out" "$work/pq" 2>/dev/null
"${A[@]}" --language all -o "$work/pq-json" "$work/pq-same.jsonl" 2>/dev/null
for f in assignments.csv report.csv summaries.csv report.html; do
    check "parquet equals jsonl: $f" cmp -s "$work/pq-out/$f" "$work/pq-json/$f"
done
check "parquet: every row read" grep -q '"rows": 1700' "$work/pq-out/report.json"

"${A[@]}" --top-k 2 -o "$work/k2" "$work/reviews.csv" 2>/dev/null
check "top-k 2" $PY - "$work/k2" <<'PY'
import csv, sys, collections
asg = list(csv.DictReader(open(sys.argv[1] + "/assignments.csv", newline="", encoding="utf-8")))
by = collections.defaultdict(list)
for a in asg: by[a["review_id"]].append(a)
assert all(len(v) == 2 and [x["rank"] for x in v] == ["1", "2"] and float(v[0]["similarity"]) >= float(v[1]["similarity"])
           and v[0]["theme"] != v[1]["theme"] for v in by.values())
PY
# per game: its reviews once each (report.json "reviews", report.html's totals),
# though its themes count 2 assignments per review
check "top-k 2: per-game reviews are the input rows" $PY - "$work/k2" "$work/reviews.csv" "$THEMES" <<'PY'
import collections, csv, json, re, sys
d, themes = sys.argv[1], json.load(open(sys.argv[3]))
rows = [r for r in csv.DictReader(open(sys.argv[2], newline="", encoding="utf-8"))
        if r["language"] == "english" and r["app_id"] in themes and r["review"].strip()]
want = collections.Counter(r["app_id"] for r in rows)
pos = collections.Counter(r["app_id"] for r in rows if r["voted_up"] == "1")
apps = json.load(open(d + "/report.json"))["apps"]
assert {a["app_id"]: a["reviews"] for a in apps} == dict(want), apps
for a in apps:
    assert a["positive"] == pos[a["app_id"]] and a["positive"] + a["negative"] == a["reviews"], a
    assert sum(t["reviews"] for t in a["themes"]) == 2 * a["reviews"], a
html = open(d + "/report.html", encoding="utf-8").read()
got = dict(re.findall(r'data-app="(\d+)".*?<p class="totals" data-reviews="(\d+)">', html, re.S))
assert {k: int(v) for k, v in got.items()} == dict(want), got
PY
"${A[@]}" --min-similarity 0.999 -o "$work/ms" "$work/reviews.csv" 2>/dev/null
check "min-similarity -> unassigned" $PY - "$work/ms" <<'PY'
import csv, json, sys
rep = json.load(open(sys.argv[1] + "/report.json"))
asg = list(csv.DictReader(open(sys.argv[1] + "/assignments.csv", newline="", encoding="utf-8")))
assert rep["counts"]["unassigned"] == rep["counts"]["analyzed"] > 0 and all(a["theme"] == "unassigned" for a in asg)
assert rep["min_similarity"] == 0.999
PY
"${A[@]}" --language all -o "$work/all" "$work/reviews.csv" 2>/dev/null
check "language all" $PY -c "import json,sys; c=json.load(open('$work/all/report.json'))['counts']; sys.exit(0 if c['other_language']==0 and c['analyzed']>0 else 1)"

# the bundled static model: a review of only unknown words is unassigned
printf 'app_id,review,voted_up,recommendationid\n391540,qwzxv plmkj,1,1\n391540,the music and the story are great,1,2\n' > "$work/unk.csv"
"$LENS" analyze --themes "$THEMES" --model "$(dirname "$0")/../models/steam-static" -o "$work/unk" "$work/unk.csv" 2>/dev/null
check "unknown words -> unassigned" $PY - "$work/unk" <<'PY'
import csv, sys
a = {r["review_id"]: r["theme"] for r in csv.DictReader(open(sys.argv[1] + "/assignments.csv", newline=""))}
sys.exit(0 if a.get("1") == "unassigned" and a.get("2") not in (None, "unassigned") else 1)
PY

# invalid UTF-8 (stray and truncated bytes) is replaced by U+FFFD and counted,
# in CSV and JSONL, across chunks; every output stays valid UTF-8
bad_utf8 "$work"
"${A[@]}" --chunk 16 -o "$work/u8csv" "$work/bad.csv" 2>"$work/u8.log"
check "invalid UTF-8 in CSV: outputs valid, 13 rows / 23 bytes counted" strict_utf8 "$work/u8csv" 13 23
check "invalid UTF-8: the CLI says so" grep -q "13 rows had invalid UTF-8: 23 bytes replaced by U+FFFD" "$work/u8.log"
"${A[@]}" --chunk 16 -o "$work/u8jl" "$work/bad.jsonl" 2>/dev/null
check "invalid UTF-8 in JSONL: outputs valid, every line counted" strict_utf8 "$work/u8jl" 40 101

# sentiment: VADER where a file has no voted_up (auto) or on request; it
# agrees with the players' votes on most reviews
$PY -c "
import csv, sys
r = csv.DictReader(open('$work/reviews.csv', newline='', encoding='utf-8'))
w = csv.DictWriter(open('$work/novote.csv', 'w', newline='', encoding='utf-8'), [c for c in r.fieldnames if c != 'voted_up'])
w.writeheader()
for row in r: row.pop('voted_up'); w.writerow(row)
"
"${A[@]}" -o "$work/vauto" "$work/novote.csv" 2>/dev/null
"${A[@]}" --sentiment vader -o "$work/vader" "$work/reviews.csv" 2>/dev/null
check "VADER: auto without voted_up equals --sentiment vader" cmp -s "$work/vauto/assignments.csv" "$work/vader/assignments.csv"
check "VADER sentiment" $PY - "$work/vader" "$work/reviews.csv" <<'PY'
import csv, json, sys
rep = json.load(open(sys.argv[1] + "/report.json"))
assert rep["sentiment"] == "vader" and rep["counts"]["sentiment_vader"] == rep["counts"]["analyzed"] > 0, rep["counts"]
vote = {r["recommendationid"]: r["voted_up"] == "1" for r in csv.DictReader(open(sys.argv[2], newline="", encoding="utf-8"))}
asg = list(csv.DictReader(open(sys.argv[1] + "/assignments.csv", newline="", encoding="utf-8")))
agree = sum((a["sentiment"] == "positive") == vote[a["review_id"]] for a in asg) / len(asg)
assert 0.75 < agree < 0.98, agree
PY

# --min-similarity: the model's data-driven value by default, off on request
STATIC=("$LENS" analyze --themes "$THEMES" --model "$(dirname "$0")/../models/steam-static")
"${STATIC[@]}" -o "$work/st-auto" "$work/reviews.csv" 2>/dev/null
"${STATIC[@]}" --min-similarity off -o "$work/st-off" "$work/reviews.csv" 2>/dev/null
check "min-similarity auto and off" $PY - "$work/st-auto" "$work/st-off" <<'PY'
import csv, json, sys
auto, off = (json.load(open(d + "/report.json")) for d in sys.argv[1:3])
assert auto["min_similarity"] == 0.14 and off["min_similarity"] is None, (auto["min_similarity"], off["min_similarity"])
asg = list(csv.DictReader(open(sys.argv[1] + "/assignments.csv", newline="", encoding="utf-8")))
sims = [(a["theme"] == "unassigned", float(a["similarity"])) for a in asg]
assert all(u == (s < 0.14) for u, s in sims if s != 0 and abs(s - 0.14) > 1e-6)
assert 0.1 < auto["counts"]["unassigned"] / auto["counts"]["analyzed"] < 0.6, auto["counts"]
PY

# errors: one line, non-zero exit
printf '{"10": {"a": ["x", 5]}}' > "$work/bad.json"
expect_error "themes error has line:column" "bad.json:1:20" "$LENS" analyze --themes "$work/bad.json" --model "$MODEL" -o "$work/x" "$work/reviews.csv"
printf 'app_id,review\n391540,fine\n' > "$work/novote.csv"
expect_error "--sentiment voted_up without the column" "voted_up" "${A[@]}" --sentiment voted_up -o "$work/x" "$work/novote.csv"
printf 'app_id,review,voted_up\n391540,fine,maybe\n' > "$work/badvote.csv"
expect_error "bad voted_up value" "badvote.csv:2" "${A[@]}" -o "$work/x" "$work/badvote.csv"
expect_error "missing input" "no such file" "${A[@]}" -o "$work/x" "$work/nope.csv"
expect_error "bad top-k" "--top-k" "${A[@]}" --top-k 0 -o "$work/x" "$work/reviews.csv"

# Checkpoints: kill -9 in the middle, then Ctrl-C, then the same command
# again finishes with outputs byte-identical to an uninterrupted run
R=("$LENS" analyze --themes "$THEMES" --model "$MODELS/minilm-gen" --precision int8 --chunk 128 --map)
"${R[@]}" -o "$work/ref" "$work/reviews.csv" 2>/dev/null
wait_rows() { # pid file lines: until the file has that many lines (or the job ended)
    while kill -0 "$1" 2>/dev/null && [[ $( (wc -l < "$2") 2>/dev/null || echo 0) -lt $3 ]]; do sleep 0.05; done
}
"${R[@]}" -o "$work/ck" "$work/reviews.csv" 2>/dev/null &
pid=$!
wait_rows $pid "$work/ck/assignments.csv.tmp" 300
kill -9 $pid; wait $pid 2>/dev/null
check "kill -9 leaves a checkpoint" test -s "$work/ck/.lens-checkpoint/journal" -a ! -e "$work/ck/report.csv"
cp -r "$work/ck" "$work/ck-other"
"${R[@]}" -o "$work/ck" "$work/reviews.csv" 2>"$work/int.log" &
pid=$!
wait_rows $pid "$work/ck/assignments.csv.tmp" 800
kill -INT $pid; wait $pid; rc=$?
check "SIGINT exit 130 (got $rc)" test $rc -eq 130
check "SIGINT says how to resume" grep -q "run the same command again to resume" "$work/int.log"
check "SIGINT writes no reports" test ! -e "$work/ck/report.csv" -a ! -e "$work/ck/assignments.csv"
"${R[@]}" -o "$work/ck" "$work/reviews.csv" 2>"$work/resume.log"
check "resume says so" grep -q "resumed from a checkpoint" "$work/resume.log"
for f in assignments.csv report.csv report.json summaries.csv report.html map.csv; do
    check "resumed $f byte-identical" cmp -s "$work/ref/$f" "$work/ck/$f"
done
check "checkpoint removed when done" test ! -e "$work/ck/.lens-checkpoint" -a ! -e "$work/ck/assignments.csv.tmp"
# another job's checkpoint (different options) is not resumed
"${R[@]}" --quotes 3 -o "$work/ck-other" "$work/reviews.csv" 2>"$work/other.log"
check "another job's checkpoint is not resumed" grep -q "from another job" "$work/other.log"
check "...and the run starts over" grep -q "analyze: 1700 rows" "$work/other.log"

finish analyze
