# Helpers for the shell end-to-end tests; source it after setting $work.
#   check WHAT cmd...             passes when cmd succeeds
#   expect_error WHAT NEEDLE cmd...  non-zero exit and one stderr line containing NEEDLE
#   finish NAME                   prints "NAME: N passed, N failed", fails if any failed
PY=/usr/bin/python3 # Debian's python (numpy, csv), not a pyenv one first on PATH
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
