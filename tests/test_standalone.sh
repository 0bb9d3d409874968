#!/usr/bin/env bash
# A clone stands alone: nothing the build, the tests or the demo run reads the
# project's shared assets beside the checkout (../shared, LENS_SHARED). Those
# are for benchmarks and for regenerating fixtures (bench/, tools/) only.
set -uo pipefail
cd "$(dirname "$0")/.."
self=tests/test_standalone.sh
hits=$(grep -rnIE '\.\./shared|LENS_SHARED|/shared/(data|models|lexicons)' tests scripts Makefile CMakeLists.txt .ci 2>/dev/null |
       grep -v "^$self:")
if [[ -n $hits ]]; then
    echo "these read the shared assets, which a clone does not have:" >&2
    echo "$hits" >&2
    echo "standalone: 0 passed, 1 failed"
    exit 1
fi
echo "standalone: 1 passed, 0 failed"
