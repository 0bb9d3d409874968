#!/usr/bin/env bash
# Builds tests/fuzz/fuzz_parquet.c with clang's libFuzzer + ASan + UBSan
# against the reader's sources and fuzzes it for a bounded time, seeded with
# the Parquet fixtures and the saved crashers.
#
#   tests/fuzz/run.sh [SECONDS (60)] [WORK_DIR (build-fuzz)]
#
# A crash leaves its input in WORK_DIR/artifacts/ and fails the run: copy it
# into tests/fixtures/parquet/crashers/ (test_parquet reads every file there)
# once fixed. Exit 77 (ctest: skipped) when clang cannot build a fuzzer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
work=${2:-$root/build-fuzz}
mkdir -p "$work/corpus" "$work/artifacts"

if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
     clang -fsanitize=fuzzer -x c - -o "$work/probe" 2>/dev/null; then
    echo "fuzz_parquet: clang with libFuzzer not available; skipped"
    exit 77
fi

cd "$root"
src=(src/io/parquet/*.c src/base/error.c src/base/beneath.c)
clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
    -fno-omit-frame-pointer -Iinclude -Isrc tests/fuzz/fuzz_parquet.c "${src[@]}" \
    $(pkg-config --libs snappy zlib libzstd) -lm -o "$work/fuzz_parquet"

# the seeds: small fixtures whole, and every crasher found so far
for f in tests/fixtures/parquet/*.parquet tests/fixtures/parquet/crashers/*; do
    [[ -f $f ]] && cp -n "$f" "$work/corpus/" 2>/dev/null || true
done

echo "fuzz_parquet: ${secs}s from $(ls "$work/corpus" | wc -l) corpus files"
set +e
ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
"$work/fuzz_parquet" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
    -max_len=262144 -print_final_stats=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
status=$?
set -e
# the progress lines are noise; the stats, and any report, are not
grep -vE '^#[0-9]+' "$work/fuzz.log" | grep -v '^"' | tail -60
if [[ $status -ne 0 ]]; then
    echo "fuzz_parquet: FAILED (exit $status); crash inputs in $work/artifacts/:"
    ls -la "$work/artifacts/"
    exit 1
fi
echo "fuzz_parquet: no crash in ${secs}s"
