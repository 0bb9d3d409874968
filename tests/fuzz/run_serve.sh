#!/usr/bin/env bash
# Builds tests/fuzz/fuzz_serve.c with clang's libFuzzer + ASan + UBSan
# against the lens library's sources (every module under src/, with the
# per-file options of CMakeLists.txt) and fuzzes lens serve's request
# handling for a bounded time, seeded with tests/fuzz/serve_corpus/ and the
# saved crashers.
#
#   tests/fuzz/run_serve.sh [SECONDS (60)] [WORK_DIR (build-fuzz-serve)]
#
# Objects are kept in WORK_DIR/obj and rebuilt when their sources or headers
# change. A crash, a sanitizer report (leaks included), a 5xx reply (other
# than 503), a malformed reply, a well-formed request left without a reply,
# or a hang leaves its input in WORK_DIR/artifacts/ and fails the run: copy
# it into tests/fuzz/serve_crashers/ (the seeds of every later run, so a
# saved input fails the run until its bug is fixed).
# Exit 77 (ctest: skipped) when clang cannot build a fuzzer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-60}
work=${2:-$root/build-fuzz-serve}
mkdir -p "$work/corpus" "$work/artifacts" "$work/obj"
work=$(cd "$work" && pwd)

if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
     clang -fsanitize=fuzzer -x c - -o "$work/probe" 2>/dev/null; then
    echo "fuzz_serve: clang with libFuzzer not available; skipped"
    exit 77
fi
cd "$root"
pkgs="jansson libcurl libutf8proc libzstd sqlite3 libmicrohttpd snappy zlib"

# the library's sources: every module's folder under src/ (CMakeLists.txt's
# lens_module globs), all but the binary's src/cli and src/video (FFmpeg;
# nothing the server reaches)
mapfile -t src < <(find src -name '*.c' -not -path 'src/cli/*' -not -path 'src/video/*' | sort)
# and what CMakeLists.txt generates: web/map.js as a C string
cmake -DIN="$root/web/map.js" -DOUT="$work/map_js.c" -DNAME=lens__map_js -P cmake/embed.cmake
src+=("$work/map_js.c")
# per-file COMPILE_OPTIONS (the SIMD kernels' -m flags, -O3 loops)
declare -A opts
while IFS=$'\t' read -r f o; do opts[$f]=$o; done < <(awk 'BEGIN { RS = ")" }
    /set_source_files_properties\(/ {
        sub(/.*set_source_files_properties\(/, "")
        o = ""
        if (match($0, /COMPILE_OPTIONS "[^"]*"/)) { o = substr($0, RSTART + 17, RLENGTH - 18); gsub(";", " ", o) }
        n = split($0, w, /[ \t\n]+/)
        for (i = 1; i <= n; i++) if (w[i] ~ /\.c$/) { f = w[i]; sub(/^\$\{CMAKE_SOURCE_DIR\}\//, "", f); print f "\t" o }
    }' CMakeLists.txt)

cflags="-std=c11 -g -O1 -D_GNU_SOURCE -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined
        -I$root/include -I$root/src $(pkg-config --cflags $pkgs)"
mk=$work/Makefile.new
{
    echo "CFLAGS = $(echo $cflags)"
    objs=()
    for s in "${src[@]}"; do
        o=obj/${s//\//_}
        o=${o%.c}.o
        objs+=("$o")
        [[ $s == /* ]] && in=$s || in=$root/$s
        printf '%s: %s\n\tclang $(CFLAGS) -fsanitize=fuzzer-no-link %s -MMD -MP -c $< -o $@\n' "$o" "$in" "${opts[$s]:-}"
    done
    printf 'obj/fuzz_serve.o: %s\n\tclang $(CFLAGS) -fsanitize=fuzzer -MMD -MP -c $< -o $@\n' "$root/tests/fuzz/fuzz_serve.c"
    printf 'fuzz_serve: obj/fuzz_serve.o %s\n\tclang -fsanitize=fuzzer,address,undefined $^ %s -lpthread -lm -lmvec -o $@\n' \
        "${objs[*]}" "$(pkg-config --libs $pkgs)"
    echo '-include obj/*.d'
} > "$mk"
# other flags or sources than last time: start over
if ! cmp -s "$mk" "$work/Makefile"; then rm -f "$work"/obj/*; mv "$mk" "$work/Makefile"; else rm -f "$mk"; fi
make -s -C "$work" -j"$(nproc)" fuzz_serve

# the seeds: the corpus and every crasher found so far
for f in tests/fuzz/serve_corpus/* tests/fuzz/serve_crashers/*; do
    [[ -f $f ]] && cp -n "$f" "$work/corpus/" 2>/dev/null || true
done

# the server's data directories go here, and away afterwards
tmp=$(mktemp -d "$work/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
echo "fuzz_serve: ${secs}s from $(ls "$work/corpus" | wc -l) corpus files"
set +e
TMPDIR=$tmp LENS_ROOT=$root ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
UBSAN_OPTIONS=print_stacktrace=1 \
"$work/fuzz_serve" -max_total_time="$secs" -timeout=30 -rss_limit_mb=3072 -malloc_limit_mb=1024 \
    -max_len=24576 -print_final_stats=1 -error_exitcode=1 -artifact_prefix="$work/artifacts/" "$work/corpus" >"$work/fuzz.log" 2>&1
status=$?
set -e
# the progress lines and libmicrohttpd's notes on broken requests are noise;
# the stats, and any report, are not
grep -avE '^#[0-9]+|^"|^Error processing request|^Connection was closed|^Failed to (send|parse)|^Socket has been|^Application reported' \
    "$work/fuzz.log" | tail -80
echo "fuzz_serve: $(grep -ac '^Application reported' "$work/fuzz.log") requests closed by the handler's MHD_NO" \
     "(libmicrohttpd refused a reply to a request it had found broken)"
if [[ $status -ne 0 ]]; then
    echo "fuzz_serve: FAILED (exit $status); inputs in $work/artifacts/:"
    ls -la "$work/artifacts/"
    echo "replay one, with whole stacks through jansson and libmicrohttpd:"
    echo "  LENS_ROOT=$root ASAN_OPTIONS=fast_unwind_on_malloc=0 FUZZ_SERVE_VERBOSE=1 $work/fuzz_serve -runs=1 INPUT"
    exit 1
fi
echo "fuzz_serve: no crash in ${secs}s"
