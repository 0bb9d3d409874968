#!/usr/bin/env bash
# Runs every test in build/, the unit tests in build-asan/ (ASan+UBSan) and
# the threaded tests in build-tsan/ (ThreadSanitizer); the last line is
# "N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
passed=0 failed=0
run() { # dir label-args...  ($prefix: a command to run ctest under)
    local dir=$1; shift
    local out
    out=$(cd "$dir" && ${prefix:-} ctest --output-on-failure "$@" 2>&1)
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
echo "== ThreadSanitizer build: threaded tests"
# a report fails the test (exit 66); tests/tsan.supp holds the races that
# exist by design. Where the kernel's address-space randomisation is too
# wide for TSan's memory layout, the tests run with it off (setarch -R).
prefix=
if ! build-tsan/tests/test_fs >/dev/null 2>&1 && setarch "$(uname -m)" -R build-tsan/tests/test_fs >/dev/null 2>&1; then
    prefix="setarch $(uname -m) -R"
fi
TSAN_OPTIONS="suppressions=$PWD/tests/tsan.supp halt_on_error=1 second_deadlock_stack=1" run build-tsan -L threads
prefix=
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
