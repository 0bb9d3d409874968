#!/usr/bin/env bash
# Runs every test in build/ and the unit tests in build-asan/ (ASan+UBSan);
# the last line is "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
run() { # dir label-args...
    local dir=$1; shift
    local out
    out=$(cd "$dir" && ctest --output-on-failure "$@" 2>&1)
    echo "$out"
    local line total bad
    line=$(grep -E "tests passed, [0-9]+ tests failed out of [0-9]+" <<<"$out" | tail -1)
    if [[ -z $line ]]; then
        failed=$((failed + 1)) # ctest itself failed to run
        return
    fi
    bad=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\1/' <<<"$line")
    total=$(sed -E 's/.* ([0-9]+) tests failed out of ([0-9]+).*/\2/' <<<"$line")
    # a skipped test (e.g. a fuzzer without clang) asserted nothing: it fails
    local skipped
    skipped=$(grep -c "(Skipped)" <<<"$out")
    passed=$((passed + total - bad - skipped))
    failed=$((failed + bad + skipped))
}
echo "== Release build: all tests"
run build
echo "== ASan+UBSan build: unit tests"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 run build-asan -L unit
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
