#!/usr/bin/env bash
# End-to-end tests of `lens project`: .npy and text inputs, the CSV it
# writes (header, one row per input row in input order, ids), the streaming
# path (fit a sample, transform the rest), determinism, one-line errors and
# Ctrl-C.
# usage: tests/test_project.sh LENS FIXTURES_DIR STATIC_MODEL_DIR
set -uo pipefail
LENS=$1 FIX=$2 STATIC=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"

$PY - "$work" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(5)
def blobs(n, d, c):
    cen = rng.normal(size=(c, d)) * 4
    lab = np.arange(n) % c
    return (cen[lab] + rng.normal(size=(n, d))).astype(np.float32), lab
x, lab = blobs(300, 16, 4)
np.save(sys.argv[1] + "/small.npy", x)
np.save(sys.argv[1] + "/small_labels.npy", lab)
np.save(sys.argv[1] + "/small64.npy", x.astype(np.float64))
x, _ = blobs(2500, 24, 5)
np.save(sys.argv[1] + "/stream.npy", x)
x, _ = blobs(40000, 64, 10)
np.save(sys.argv[1] + "/big.npy", x)
np.save(sys.argv[1] + "/vec.npy", np.zeros(5, dtype=np.float32))
np.save(sys.argv[1] + "/ints.npy", np.zeros((5, 3), dtype=np.int32))
PY

# csv_ok FILE N COLS [IDS_FILE]: header, N rows, ids 0..N-1 (or those of IDS_FILE), finite numbers
csv_ok() {
    $PY - "$@" <<'PY'
import sys, csv, math
path, n, cols = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows = list(csv.reader(open(path, newline="")))
want = ["id", "x", "y", "z"][: cols + 1]
ids = [l.rstrip("\n") for l in open(sys.argv[4])] if len(sys.argv) > 4 else [str(i) for i in range(n)]
ok = rows[0] == want and len(rows) == n + 1
ok = ok and all(r[0] == ids[i] and len(r) == cols + 1 and all(math.isfinite(float(v)) for v in r[1:])
                for i, r in enumerate(rows[1:]))
sys.exit(0 if ok else 1)
PY
}

# --- .npy in, CSV out; clusters stay apart
"$LENS" project "$work/small.npy" -o "$work/small.csv" --threads 2 2>"$work/log"
check "npy -> csv" csv_ok "$work/small.csv" 300 2
check "summary line" grep -q "project: 300 rows" "$work/log"
check "planted clusters separated" $PY - "$work/small.csv" "$work/small_labels.npy" <<'PY'
import sys, numpy as np
y = np.loadtxt(sys.argv[1], delimiter=",", skiprows=1)[:, 1:]
lab = np.load(sys.argv[2])
d = ((y[:, None, :] - y[None, :, :]) ** 2).sum(-1)
np.fill_diagonal(d, np.inf)
nn = np.argsort(d, axis=1)[:, :10]
sys.exit(0 if (lab[nn] == lab[:, None]).mean() > 0.97 else 1)
PY
"$LENS" project "$work/small.npy" -o "$work/again.csv" --threads 1 2>/dev/null
check "same seed: same map (any thread count)" cmp -s "$work/small.csv" "$work/again.csv"
"$LENS" project "$work/small.npy" -o "$work/seed.csv" --seed 7 2>/dev/null
check "another seed: another map" bash -c "! cmp -s '$work/small.csv' '$work/seed.csv'"
"$LENS" project "$work/small64.npy" -o "$work/f64.csv" --components 3 --metric euclidean --neighbors 10 \
    --min-dist 0.3 --spread 2 --epochs 50 2>/dev/null
check "float64 .npy, 3-D, options" csv_ok "$work/f64.csv" 300 3

# --- streaming: fit 1,000 of 2,500, transform the rest in input order
"$LENS" project "$work/stream.npy" -o "$work/stream.csv" --fit-size 1000 --epochs 100 2>"$work/log"
check "streamed csv" csv_ok "$work/stream.csv" 2500 2
check "streaming reported" grep -q "1000 fitted + the rest transformed" "$work/log"

# --- texts: embedded with the bundled static model; ids from a column
head -n 150 "$FIX/reviews_2k.jsonl" > "$work/in.jsonl"
$PY - "$work/in.jsonl" "$work" <<'PY'
import sys, json
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
open(sys.argv[2] + "/ids.txt", "w").write("".join(r["rid"] + "\n" for r in rows))
with open(sys.argv[2] + "/in.txt", "w", encoding="utf-8") as f:
    for r in rows: f.write(r["text"].replace("\r", " ").replace("\n", " ") + "\n")
PY
"$LENS" project "$work/in.jsonl" --model "$STATIC" --id rid -o "$work/t.csv" 2>"$work/log"
check "jsonl texts with ids" csv_ok "$work/t.csv" 150 2 "$work/ids.txt"
check "texts were embedded and mapped" grep -q "project: 150 rows" "$work/log"
"$LENS" project "$work/in.txt" --model "$STATIC" -o "$work/txt.csv" 2>/dev/null
check "txt texts, ids are row numbers" csv_ok "$work/txt.csv" 150 2

# --- errors: one line, non-zero status, no output left behind
expect_error "missing input" "No such file" "$LENS" project "$work/nope.npy" -o "$work/e.csv"
expect_error "1-D .npy" "2-D" "$LENS" project "$work/vec.npy" -o "$work/e.csv"
expect_error "int .npy" "float32/float64" "$LENS" project "$work/ints.npy" -o "$work/e.csv"
printf 'not numpy' > "$work/junk.npy"
expect_error "junk .npy" "junk.npy" "$LENS" project "$work/junk.npy" -o "$work/e.csv"
expect_error "bad metric" "--metric" "$LENS" project "$work/small.npy" --metric manhattan -o "$work/e.csv"
expect_error "bad components" "--components" "$LENS" project "$work/small.npy" --components 4 -o "$work/e.csv"
expect_error "bad min-dist" "--min-dist" "$LENS" project "$work/small.npy" --min-dist -1 -o "$work/e.csv"
: > "$work/empty.txt"
expect_error "no texts" "no rows" "$LENS" project "$work/empty.txt" --model "$STATIC" -o "$work/e.csv"
check "no output after errors" test ! -e "$work/e.csv"

# --- Ctrl-C: stops cleanly, no partial output (or it finished first)
"$LENS" project "$work/big.npy" -o "$work/big.csv" --fit-size 20000 2>"$work/int.log" &
pid=$!
sleep 1
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [[ $rc -eq 130 ]]; then
    check "interrupted: no output" test ! -e "$work/big.csv"
    check "interrupted: one message" grep -q "interrupted" "$work/int.log"
    check "interrupted: no temp file" bash -c "! ls '$work' | grep -q 'big.csv.tmp'"
else
    check "finished before the interrupt" csv_ok "$work/big.csv" 40000 2
fi

finish project
