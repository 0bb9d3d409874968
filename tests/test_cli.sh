#!/usr/bin/env bash
# End-to-end tests of the lens binary: inputs, outputs, errors, model cache
# and pull (against a local HTTP server on loopback), and interruption.
# usage: tests/test_cli.sh LENS MODELS_DIR FIXTURES_DIR
set -uo pipefail
LENS=$1 MODELS=$2 FIX=$3
work=$(mktemp -d)
server_pid=
trap '[[ -n $server_pid ]] && kill $server_pid 2>/dev/null; rm -rf "$work"' EXIT
source "$(dirname "$0")/lib.sh"
SMALL=$MODELS/small-gen-f16
head -n 60 "$FIX/reviews_2k.jsonl" > "$work/in.jsonl"

# --- parity through the CLI: jsonl -> npy equals the torch reference rows
"$LENS" embed --model "$SMALL" "$work/in.jsonl" -o "$work/a.npy" 2>"$work/log"
check "embed jsonl->npy" test -s "$work/a.npy"
check "summary line on non-tty stderr" grep -q "embed: 60 rows" "$work/log"
check "npy matches reference" $PY - "$work/a.npy" "$FIX/small_gen_f16_ref.npy" <<'PY'
import sys, numpy as np
a = np.load(sys.argv[1]); r = np.load(sys.argv[2])[: len(a)]
sys.exit(0 if a.shape == (60, 64) and a.dtype == np.float32 and np.abs(a - r).max() < 1e-5 else 1)
PY

# --- the same texts as txt and csv (RFC 4180, quoted newlines) give the same rows
$PY - "$work/in.jsonl" "$work" <<'PY'
import sys, json, csv
rows = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2] + "/in.csv", "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f); w.writerow(["rid", "review", "other"])
    for r in rows: w.writerow([r["rid"], r["text"], "x,\"y\""])
flat = [r for r in rows if "\n" not in r["text"] and "\r" not in r["text"]]
with open(sys.argv[2] + "/in.txt", "w", encoding="utf-8") as f:
    for r in flat: f.write(r["text"] + "\n")
with open(sys.argv[2] + "/flat.jsonl", "w", encoding="utf-8") as f:
    for r in flat: f.write(json.dumps(r) + "\n")
PY
"$LENS" embed --model "$SMALL" "$work/in.csv" -o "$work/c.npy" 2>/dev/null
check "csv equals jsonl" cmp -s <(tail -c +129 "$work/a.npy") <(tail -c +129 "$work/c.npy")
"$LENS" embed --model "$SMALL" "$work/in.txt" -o "$work/t.npy" 2>/dev/null
"$LENS" embed --model "$SMALL" "$work/flat.jsonl" -o "$work/f.npy" 2>/dev/null
check "txt equals jsonl" cmp -s "$work/t.npy" "$work/f.npy"

# --- jsonl output with ids
"$LENS" embed --model "$SMALL" --id rid "$work/in.csv" -o "$work/o.jsonl" 2>/dev/null
check "jsonl output" $PY - "$work/o.jsonl" "$work/a.npy" "$work/in.jsonl" <<'PY'
import sys, json, numpy as np
out = [json.loads(l) for l in open(sys.argv[1])]
a = np.load(sys.argv[2]); src = [json.loads(l) for l in open(sys.argv[3])]
ok = len(out) == 60 and all(o["index"] == i and o["id"] == s["rid"] for i, (o, s) in enumerate(zip(out, src)))
ok = ok and np.abs(np.array([o["embedding"] for o in out], dtype=np.float32) - a).max() == 0
sys.exit(0 if ok else 1)
PY
"$LENS" embed --model "$SMALL" --precision int8 --threads 1 --batch-tokens 64 "$work/in.jsonl" -o "$work/i8.npy" 2>/dev/null
check "int8 via CLI" test -s "$work/i8.npy"

# --- on a terminal, a progress bar with rows, rows/s and ETA (script(1) gives a pty)
script -qec "'$LENS' embed --model '$SMALL' '$work/in.jsonl' -o '$work/tty.npy'" /dev/null > "$work/tty.log" 2>&1
check "progress bar on a tty" grep -q "rows/s, ETA" "$work/tty.log"
check "tty run writes output" cmp -s "$work/tty.npy" "$work/a.npy"

# --- errors: one line, non-zero exit, no output left behind
expect_error "missing input" "no-such.jsonl" "$LENS" embed --model "$SMALL" "$work/no-such.jsonl" -o "$work/x.npy"
printf '{"text":"fine"}\n{"text":"also fine"}\n{"text": oops}\n' > "$work/broken.jsonl"
expect_error "bad json names line" "broken.jsonl:3" "$LENS" embed --model "$SMALL" "$work/broken.jsonl" -o "$work/x.npy"
check "no partial output" test ! -e "$work/x.npy"
check "no temp files" test -z "$(ls "$work" | grep tmp-)"
expect_error "bad precision" "--precision" "$LENS" embed --precision fp8 "$work/in.jsonl" -o "$work/x.npy"
expect_error "bad output type" "must end in .npy or .jsonl" "$LENS" embed --model "$SMALL" "$work/in.jsonl" -o "$work/x.csv"
expect_error "unknown option" "unknown option" "$LENS" embed --frobnicate "$work/in.jsonl" -o "$work/x.npy"
expect_error "missing column" "no column 'body'" "$LENS" embed --model "$SMALL" --column body "$work/in.csv" -o "$work/x.npy"
printf 'text\n"unterminated\n' > "$work/u.csv"
expect_error "unterminated csv" "u.csv:2" "$LENS" embed --model "$SMALL" "$work/u.csv" -o "$work/x.npy"
expect_error "unwritable output" "No such file" "$LENS" embed --model "$SMALL" "$work/in.jsonl" -o "$work/nodir/x.npy"
head -c 1000 "$SMALL/model.safetensors" > "$work/cut.safetensors"
mkdir -p "$work/cutmodel" && cp "$SMALL"/*.json "$SMALL/vocab.txt" "$work/cutmodel/" && cp -r "$SMALL/1_Pooling" "$work/cutmodel/"
cp "$work/cut.safetensors" "$work/cutmodel/model.safetensors"
expect_error "truncated weights" "model.safetensors" "$LENS" embed --model "$work/cutmodel" "$work/in.jsonl" -o "$work/x.npy"

# --- model cache and pull
export XDG_CACHE_HOME=$work/cache
expect_error "not cached" "lens model pull" "$LENS" embed "$work/in.jsonl" -o "$work/x.npy"
HF_ENDPOINT=http://127.0.0.1:9 expect_error "pull offline" "cannot download" "$LENS" model pull all-MiniLM-L6-v2
check "failed pull leaves no model" test ! -e "$work/cache/lens/models/sentence-transformers/all-MiniLM-L6-v2"
expect_error "unknown model needs hash" "--sha256" "$LENS" model pull someone/model
expect_error "path escape" "hub id" "$LENS" model pull ../../etc
# a local hub: <root>/<repo>/resolve/main/<file>
hub=$work/hub
for repo in sentence-transformers/all-MiniLM-L6-v2 acme/tiny; do
    mkdir -p "$hub/$repo/resolve/main" && cp -r "$SMALL"/. "$hub/$repo/resolve/main/"
done
port=$($PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
(cd "$hub" && exec $PY -m http.server "$port" --bind 127.0.0.1 >/dev/null 2>&1) &
server_pid=$!
for _ in $(seq 50); do curl -s "http://127.0.0.1:$port/" >/dev/null && break; sleep 0.1; done
export HF_ENDPOINT=http://127.0.0.1:$port
expect_error "pinned hash mismatch" "does not match" "$LENS" model pull all-MiniLM-L6-v2
check "mismatch installs nothing" test ! -e "$work/cache/lens/models/sentence-transformers/all-MiniLM-L6-v2"
sha=$(sha256sum "$SMALL/model.safetensors" | cut -d' ' -f1)
dir=$("$LENS" model pull acme/tiny --sha256 "$sha" 2>/dev/null)
check "pull with hash" test "$dir" = "$work/cache/lens/models/acme/tiny"
check "pulled weights intact" cmp -s "$dir/model.safetensors" "$SMALL/model.safetensors"
"$LENS" embed --model acme/tiny "$work/in.jsonl" -o "$work/p.npy" 2>/dev/null
check "embed from cache" cmp -s "$work/p.npy" "$work/a.npy"
check "model info" bash -c "'$LENS' model info acme/tiny | grep -q 'dim: 64'"
kill $server_pid; server_pid=

# --- interruption: SIGINT stops cleanly, writes nothing
for _ in 1 2 3 4 5 6 7 8; do cat "$FIX/reviews_2k.jsonl"; done > "$work/big.jsonl"
"$LENS" embed --model "$MODELS/minilm-gen" --threads 1 "$work/big.jsonl" -o "$work/big.npy" 2>"$work/int.log" &
pid=$!
# once its output is open (the model loaded, the handler installed): a
# background job starts with SIGINT ignored until lens installs its own
for _ in $(seq 600); do compgen -G "$work/big.npy.tmp*" >/dev/null && break; sleep 0.05; done
sleep 0.5; kill -INT $pid; wait $pid; rc=$?
check "SIGINT exit status 130 (got $rc)" test $rc -eq 130
check "SIGINT message" grep -q "interrupted" "$work/int.log"
check "SIGINT leaves no output" test -z "$(ls "$work" | grep big.npy)"

finish cli
