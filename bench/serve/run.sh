#!/usr/bin/env bash
# lens serve benchmark: dynamic batching on (--max-batch 256, the default)
# against off (--max-batch 1), POST /v1/embed with one real review per
# request (tests/fixtures/reviews_2k.jsonl, round-robin), the MiniLM-geometry
# model in int8, no cache (--cache 0: every request runs the encoder).
# Both servers run side by side (the idle one costs nothing) and are warmed
# up; then bench_loadgen (bench/serve/loadgen.c) runs a closed loop at each
# concurrency, ROUNDS times, alternating between the two servers so that
# anything else on the machine hits both alike; the table gives the median
# round. The load generator shares the CPUs with the server; "other CPU"
# is the CPU time of everything else during the runs (it should be ~0).
# Then the encoder alone (bench_encoder, same texts, no server): one text per
# call against 64, on one thread and on all, which bounds what batching can
# gain on this machine (see the summary it prints).
# Prints a markdown table and writes build/bench/serve.jsonl and
# build/bench/serve_encoder.jsonl.
# Env: DURATION (seconds per run, default 5), ROUNDS (default 3), WARMUP
#      (seconds, default 3), CONCURRENCY (default "1 16 64"), THREADS
#      (encoder threads, default all CPUs), LENS (default build/lens),
#      LOADGEN (default build/bench/bench_loadgen), EXTRA (more lens serve
#      flags for both servers, e.g. "--max-wait-ms 2").
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
duration=${DURATION:-5}
rounds=${ROUNDS:-3}
warmup=${WARMUP:-3}
conc=${CONCURRENCY:-"1 16 64"}
lens=${LENS:-build/lens}
loadgen=${LOADGEN:-build/bench/bench_loadgen}
encoder=${ENCODER:-build/bench/bench_encoder}
texts=tests/fixtures/reviews_2k.jsonl
model=build/models/minilm-gen
out=build/bench
mkdir -p "$out"
if [[ ! -x $lens || ! -x $loadgen || ! -x $encoder ]]; then
    cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build build --target lens_cli bench_loadgen bench_encoder -j"$(nproc)" >/dev/null
fi
tests/gen_models.sh build/models

work=$(mktemp -d)
declare -A port pid
trap 'for p in "${pid[@]}"; do kill $p 2>/dev/null; done; rm -rf "$work"' EXIT

# start MODE ARGS...: lens serve on a free port; sets port[MODE], pid[MODE]
start() {
    local mode=$1; shift
    # shellcheck disable=SC2086
    "$lens" serve --port 0 --model "$model" --precision int8 --cache 0 --data-dir "$work/$mode" \
        ${THREADS:+--threads $THREADS} ${EXTRA:-} "$@" 2>"$work/$mode.log" &
    pid[$mode]=$!
    for _ in $(seq 1 300); do
        port[$mode]=$(grep -ao 'http://127.0.0.1:[0-9]*' "$work/$mode.log" | head -1 | sed 's/.*://' || true)
        [[ -n ${port[$mode]} ]] && return 0
        kill -0 ${pid[$mode]} 2>/dev/null || break
        sleep 0.1
    done
    echo "lens serve ($mode) did not start: $(cat "$work/$mode.log")" >&2
    exit 1
}
busy() { awk '/^cpu /{ print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }   # all CPUs, clock ticks
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)

start batched
start unbatched --max-batch 1
for mode in batched unbatched; do # every code path and page touched, socket buffers grown
    "$loadgen" --port "${port[$mode]}" --texts "$texts" --concurrency 64 --duration "$warmup" >/dev/null 2>&1
done

res=$out/serve.jsonl
: > "$res"
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs)
echo "lens serve benchmark: $(date -u '+%Y-%m-%d %H:%M UTC'), $cpu, $(nproc) CPUs;" \
     "$rounds x ${duration}s per point; load average before: $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for c in $conc; do
    for r in $(seq 1 "$rounds"); do
        for mode in batched unbatched; do
            b0=$(busy) s0=$(ticks ${pid[$mode]})
            line=$("$loadgen" --port "${port[$mode]}" --texts "$texts" --concurrency "$c" --duration "$duration" --warmup 1)
            b1=$(busy) s1=$(ticks ${pid[$mode]})
            echo "$mode round $r: $line" >&2
            echo "$line" | sed 's/^RESULT //' | tr ' ' '\n' |
                awk -F= -v mode=$mode -v round=$r -v other=$(( (b1 - b0) - (s1 - s0) )) -v hz=$hz \
                    -v secs=$((duration + 1)) -v server=$((s1 - s0)) \
                    'BEGIN { printf "{\"mode\":\"%s\",\"round\":%d", mode, round } { printf ",\"%s\":%s", $1, $2; if ($1 == "cpu_s") lg = $2 }
                     END { printf ",\"server_cpu\":%.3f,\"other_cpu\":%.3f}\n", server / hz / secs, (other / hz - lg) / secs }' >> "$res"
        done
    done
done
for mode in batched unbatched; do # how full the forward passes were
    curl -s "http://127.0.0.1:${port[$mode]}/metrics" 2>/dev/null |
        awk -v mode=$mode '/^lens_batch_size_(sum|count)/ { v[$1] = $2 } END { if (v["lens_batch_size_count"] > 0)
            printf "%s: %d forward passes, %.1f texts per pass on average (warm-up and startup included)\n", mode,
                   v["lens_batch_size_count"], v["lens_batch_size_sum"] / v["lens_batch_size_count"] }' >&2 || true
done
for mode in batched unbatched; do kill ${pid[$mode]} 2>/dev/null; wait ${pid[$mode]} 2>/dev/null || true; done
pid=()

# the encoder alone: texts/s with one text per call and with 64, on 1 thread and on all
enc=$out/serve_encoder.jsonl
: > "$enc"
for t in 1 ${THREADS:-$(nproc)}; do
    for pc in 1 64; do
        "$encoder" "$model" "$texts" --threads "$t" --reps "$rounds" --precision int8 --per-call "$pc" | tee -a "$enc" >&2
    done
done

/usr/bin/python3 - "$res" "$cpu" "$(nproc)" "$duration" "$rounds" "$(cut -d' ' -f1-3 /proc/loadavg)" "$enc" <<'PY'
import json, sys, datetime, statistics
rows = [json.loads(l) for l in open(sys.argv[1])]
print("\nlens serve, POST /v1/embed, one review per request: MiniLM geometry (generated weights), int8, --cache 0")
print("%s; %s, %s CPUs (server and load generator together); median of %s rounds of %s s; load average after: %s\n"
      % (datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC"), sys.argv[2], sys.argv[3], sys.argv[5],
         sys.argv[4], sys.argv[6]))
def med(mode, c):
    rs = [r for r in rows if r["mode"] == mode and r["concurrency"] == c]
    if not rs: return None
    m = {k: statistics.median(r[k] for r in rs) for k in ("rps", "p50_ms", "p95_ms", "p99_ms", "server_cpu", "other_cpu")}
    m["errors"] = sum(r["errors"] for r in rs)
    return m
print("| concurrency | batched req/s | p50 ms | p95 ms | p99 ms | unbatched req/s | p50 ms | p95 ms | p99 ms | throughput ratio |")
print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
other = []
for c in sorted({r["concurrency"] for r in rows}):
    b, u = med("batched", c), med("unbatched", c)
    for m in (b, u):
        if m: other.append(m["other_cpu"])
    cell = lambda m: ("%.1f | %.2f | %.2f | %.2f" % (m["rps"], m["p50_ms"], m["p95_ms"], m["p99_ms"])
                      + (" (%d errors)" % m["errors"] if m["errors"] else "")) if m else "- | - | - | -"
    ratio = "%.2f×" % (b["rps"] / u["rps"]) if b and u and u["rps"] else "-"
    print("| %d | %s | %s | %s |" % (c, cell(b), cell(u), ratio))
print("\nCPUs busy with other processes during the runs (median per point): at most %.2f of %s"
      % (max(other) if other else 0, sys.argv[3]))

# What batching can gain here: per core, a pass over 64 texts against one
# text per pass; across cores, at most the core count on top of that (an
# unbatched server runs a pass at no worse than one-thread speed).
enc = {(r["threads"], r["per_call"]): r["reviews_per_s"] for r in map(json.loads, open(sys.argv[7]))}
n = max(t for t, _ in enc)
g1 = enc[(1, 64)] / enc[(1, 1)]
print("\nThe encoder alone (bench_encoder --per-call, same texts), texts/s:\n")
print("| threads | one text per call | 64 texts per call | gain |")
print("|---:|---:|---:|---:|")
for t in sorted({t for t, _ in enc}):
    print("| %d | %.1f | %.1f | %.2f× |" % (t, enc[(t, 1)], enc[(t, 64)], enc[(t, 64)] / enc[(t, 1)]))
print("\nBatching gains %.2f× per core; on %d cores it can give at most %d × %.2f = %.2f× the throughput of"
      " a server that runs one text per pass, even one that used a single core." % (g1, n, n, g1, n * g1))
print("64 closed-loop clients see a mean latency of 64 / throughput (Little's law), so p99 <= 150 ms at"
      " concurrency 64 needs >= %.0f req/s; the encoder alone does at most %.1f texts/s here."
      % (64 / 0.150, max(enc.values())))
PY
