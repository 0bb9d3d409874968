# Helpers for the shell end-to-end tests; source it after setting $work.
# Sets ROOT (the repository) and THEMES (the bundled steamLens themes.json).
#   check WHAT cmd...             passes when cmd succeeds
#   expect_error WHAT NEEDLE cmd...  non-zero exit and one stderr line containing NEEDLE
#   finish NAME                   prints "NAME: N passed, N failed", fails if any failed
PY=/usr/bin/python3 # Debian's python (numpy, csv), not a pyenv one first on PATH
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
THEMES=$ROOT/data/themes/steamlens_game_themes.json
pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*" >&2; }
check() { local what=$1; shift; if "$@"; then ok; else bad "$what"; fi; }
expect_error() {
    local what=$1 needle=$2; shift 2
    local err rc
    err=$("$@" 2>&1 >/dev/null); rc=$?
    if [[ $rc -ne 0 && $(printf '%s\n' "$err" | wc -l) -eq 1 && $err == *"$needle"* ]]; then ok
    else bad "$what: rc=$rc stderr=[$err]"; fi
}
finish() {
    echo "$1: $pass passed, $fail failed"
    [[ $fail -eq 0 ]]
}

# curl as lens serve's JSON clients call it: a body given with -d or
# --data-binary goes as Content-Type: application/json (the server answers
# 415 to any other type); -F uploads and an explicit Content-Type are left
# alone. `command curl` sends what curl would.
curl() {
    local a json=0
    for a in "$@"; do
        case $a in
            -d | --data | --data-binary | --data-raw | -d?*) json=1 ;;
            -F | --form | -F?* | Content-Type:* | content-type:*) json=0; break ;;
        esac
    done
    if [[ $json == 1 ]]; then command curl -H 'Content-Type: application/json' "$@"; else command curl "$@"; fi
}

# steam_sample OUT.csv OTHERS: 1,500 real reviews of the five games
# steamLens's themes.json covers plus OTHERS (at most 586) reviews of other
# games (all languages; seeded, sorted by review id), cut from the bundled
# data/sample
steam_sample() {
    $PY - "$ROOT/data/sample/steam_reviews_sample.csv.zst" "$1" "$2" <<'PY'
import csv, io, random, subprocess, sys
csv.field_size_limit(1 << 30)
themed = {"391540", "1794680", "239030", "367520", "504230"}
a, b = [], []
text = subprocess.run(["zstd", "-dcq", sys.argv[1]], check=True, capture_output=True).stdout.decode("utf-8")
for r in csv.DictReader(io.StringIO(text, newline="")):
    (a if r["app_id"] in themed else b).append(r)
rng = random.Random(7)
rows = rng.sample(a, 1500) + (rng.sample(b, int(sys.argv[3])) if int(sys.argv[3]) else [])
rows.sort(key=lambda r: r["recommendationid"])
cols = ["app_id", "app_name", "recommendationid", "language", "review", "voted_up"]
with open(sys.argv[2], "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(cols)
    for r in rows: w.writerow([r[c] for c in cols])
PY
}

# bad_utf8 DIR: DIR/bad.csv and DIR/bad.jsonl, 40 reviews of a themed game
# with stray (0xFF, 0xFE) and truncated (E2 82) UTF-8 in the text, the id and
# the name (on every row: CSV counts it once, as only the first is read;
# JSONL every line)
bad_utf8() {
    $PY - "$1" <<'PY'
import sys
d = sys.argv[1]
csv, jl = [b"app_id,app_name,recommendationid,language,review,voted_up\n"], []
for i in range(40):
    t = b"The graphics are great and the story is fun"
    if i % 5 == 0: t += b" \xff bad"
    if i % 7 == 0: t += b" cut \xe2\x82"
    rid = b"%d" % i + (b"\xfe" if i == 3 else b"")
    csv.append(b'391540,Game \xfe\xff,%s,english,"%s",%d\n' % (rid, t, i % 2))
    jl.append(b'{"steam_appid": 391540, "name": "Game \xfe\xff", "recommendationid": "%s", "review_language": "english", '
              b'"review": "%s", "voted_up": %s}\n' % (rid, t, b"true" if i % 2 else b"false"))
open(d + "/bad.csv", "wb").write(b"".join(csv))
open(d + "/bad.jsonl", "wb").write(b"".join(jl))
PY
}
# strict_utf8 DIR ROWS BYTES: report.json parses strictly, every text output
# is valid UTF-8 with U+FFFD for the bad bytes; counts.invalid_utf8 is ROWS
# rows, BYTES bytes
strict_utf8() {
    $PY - "$@" <<'PY'
import json, sys
d, rows, nbytes = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rep = json.loads(open(d + "/report.json", "rb").read().decode("utf-8", errors="strict"))
for f in ("summaries.csv", "assignments.csv", "report.csv", "report.html"):
    assert "\ufffd" in open(d + "/" + f, "rb").read().decode("utf-8", errors="strict") or f != "assignments.csv", f
c = rep["counts"]
assert (c["invalid_utf8"], c["invalid_utf8_bytes"], c["analyzed"]) == (rows, nbytes, 40), c
assert rep["apps"][0]["name"] == "Game \ufffd\ufffd", rep["apps"][0]["name"]
PY
}

# start_serve NAME ARGS...: lens serve on a free port with ARGS, its log in
# $work/NAME.log; sets $url and $pid and adds the pid to $pids
start_serve() {
    local name=$1; shift
    "$LENS" serve --port 0 "$@" 2>"$work/$name.log" &
    pid=$!
    pids+=($pid)
    for _ in $(seq 1 600); do
        url=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/$name.log" | head -1)
        [[ -n $url ]] && return 0
        kill -0 $pid 2>/dev/null || break
        sleep 0.1
    done
    echo "server $name did not start: $(cat "$work/$name.log")" >&2
    return 1
}

# The video tests' common ground: the schema, its checker (vc), and gen, the
# ffmpeg CLI that makes their test videos from known truth.
video_setup() {
    SCHEMA=$ROOT/web/video.schema.json
    command -v ffmpeg >/dev/null || { echo "ffmpeg (the CLI) is needed to make the test videos: scripts/bootstrap.sh"; exit 1; }
}
vc() { $PY "$ROOT/tests/video_check.py" "$@"; }
gen() { ffmpeg -v error -nostdin -y "$@"; }
