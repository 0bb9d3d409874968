#!/usr/bin/env bash
# Builds the libFuzzer targets of the TF.js model inputs (clang, libFuzzer +
# ASan + UBSan) and fuzzes each for a bounded time:
#   fuzz_tgz    the gzip'd tar reader of `lens model pull human-models`
#   fuzz_graph  model.json + its weight shard (lens_graph's loader and plan)
# seeded with small archives and models made here and the saved crashers.
#
#   tests/fuzz/run_graph.sh [SECONDS per target (15)] [WORK_DIR (build-fuzz-graph)]
#
# A crash leaves its input in WORK_DIR/<target>/artifacts/ and fails the run:
# copy it into tests/fixtures/graph/crashers/ once fixed (test_graph reads every
# file there). Exit 77 (ctest: skipped) when clang cannot build a fuzzer.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-15}
work=${2:-$root/build-fuzz-graph}
mkdir -p "$work"

if ! command -v clang >/dev/null ||
   ! echo 'int LLVMFuzzerTestOneInput(const char *d, unsigned long n) { return 0; }' |
     clang -fsanitize=fuzzer -x c - -o "$work/probe" 2>/dev/null; then
    echo "fuzz_graph: clang with libFuzzer not available; skipped"
    exit 77
fi
cd "$root"
cc=(clang -std=c11 -g -O1 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
    -fno-omit-frame-pointer -Iinclude -Isrc)

# seeds: tarballs in the formats npm and tar write (ustar, pax, GNU long names)
seed=$work/seed
rm -rf "$seed" && mkdir -p "$seed/t/package/models" "$work/tgz/corpus" "$work/tgz/artifacts"
echo '{"a":1}' > "$seed/t/package/models/a.json"
head -c 700 /dev/zero > "$seed/t/package/models/a.bin"
long=$seed/t/package/$(printf 'd%.0s' {1..120})
mkdir -p "$long" && echo x > "$long/$(printf 'f%.0s' {1..110}).txt"
for fmt in ustar pax gnu; do
    what=package
    [[ $fmt == ustar ]] && what=package/models # ustar cannot hold the long name
    tar --format=$fmt -C "$seed/t" -czf "$work/tgz/corpus/seed-$fmt.tgz" $what
    tar --format=$fmt -C "$seed/t" -cf "$work/tgz/corpus/seed-$fmt.tar" $what # the tar reader alone
done
for f in tests/fixtures/graph/crashers/tgz-*; do
    [[ -f $f ]] && cp -n "$f" "$work/tgz/corpus/" 2>/dev/null || true
done

run() { # name, sources...
    local name=$1; shift
    "${cc[@]}" tests/fuzz/$name.c "$@" $(pkg-config --libs zlib jansson) -lm -lmvec -lpthread -o "$work/$name"
    local dir=$work/${name#fuzz_}
    echo "$name: ${secs}s from $(ls "$dir/corpus" | wc -l) corpus files"
    set +e
    ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$work/$name" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "$dir/corpus" >"$dir/fuzz.log" 2>&1
    local status=$?
    set -e
    grep -vE '^#[0-9]+' "$dir/fuzz.log" | grep -v '^"' | tail -40
    if [[ $status -ne 0 ]]; then
        echo "$name: FAILED (exit $status); crash inputs in $dir/artifacts/:"
        ls -la "$dir/artifacts/"
        exit 1
    fi
    echo "$name: no crash in ${secs}s"
}
run fuzz_tgz src/io/tgz.c src/base/error.c

# seeds for the loader: the unit test's kind of tiny models (every dtype and
# quantization, folded shape arithmetic), model.json + NUL + shard
mkdir -p "$work/graph/corpus" "$work/graph/artifacts"
X='{"name":"x","op":"Placeholder","attr":{"dtype":{"type":"DT_FLOAT"},"shape":{"shape":{"dim":[{"size":"-1"},{"size":"4"},{"size":"4"},{"size":"2"}]}}}}'
C() { echo "{\"name\":\"$1\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"$2\"},\"value\":{\"tensor\":{\"dtype\":\"$2\",\"tensorShape\":{\"dim\":[$3]}}}}}"; }
S='"data_format":{"s":"TkhXQw=="},"padding":{"s":"U0FNRQ=="},"strides":{"list":{"i":["1","1","1","1"]}}'
{
  printf '{"format":"graph-model","modelTopology":{"node":[%s,%s,%s,%s,%s,' "$X" "$(C w DT_FLOAT '{"size":"1"},{"size":"1"},{"size":"2"},{"size":"3"}')" \
      "$(C b DT_FLOAT '{"size":"3"}')" "$(C q DT_FLOAT '{"size":"4"}')" "$(C i DT_INT32 '{"size":"2"}')"
  printf '{"name":"c","op":"_FusedConv2D","input":["x","w","b"],"attr":{%s,"num_args":{"i":"1"},"fused_ops":{"list":{"s":["Qmlhc0FkZA==","UmVsdQ=="]}}}},' "$S"
  printf '{"name":"s","op":"Shape","input":["c"]},{"name":"k","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"1"}]},"tensorContent":"AQAAAA=="}}}},'
  printf '{"name":"e","op":"Const","attr":{"value":{"tensor":{"dtype":"DT_INT32","tensorShape":{"dim":[{"size":"1"}]},"intVal":[3]}}}},'
  printf '{"name":"hw","op":"StridedSlice","input":["s","k","e","k"],"attr":{"shrink_axis_mask":{"i":"0"}}},'
  printf '{"name":"r","op":"Reshape","input":["c","hw"]},{"name":"m","op":"Mean","input":["r","k"],"attr":{"keep_dims":{"b":true}}},{"name":"o","op":"Identity","input":["m"]}]},'
  printf '"weightsManifest":[{"paths":["a.bin"],"weights":[{"name":"w","shape":[1,1,2,3],"dtype":"float32"},'
  printf '{"name":"b","shape":[3],"dtype":"float32","quantization":{"dtype":"float16"}},'
  printf '{"name":"q","shape":[4],"dtype":"float32","quantization":{"dtype":"uint8","min":-1,"scale":0.5}},'
  printf '{"name":"i","shape":[2],"dtype":"int32","quantization":{"dtype":"uint16","min":0,"scale":1}}]}]}'
  printf '\0'
  head -c 38 /dev/urandom
} > "$work/graph/corpus/seed-tiny"
for f in tests/fixtures/graph/crashers/graph-*; do
    [[ -f $f ]] && cp -n "$f" "$work/graph/corpus/" 2>/dev/null || true
done
# src/nn's GEMM (the convolutions): its SIMD files with the flags CMakeLists.txt gives them
nn=()
for f in src/nn/*.c; do
    case $f in
        *_avx512.c) flags="-mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512bf16 -mavx512vnni -mfma" ;;
        *_avx2.c) flags="-mavx2 -mfma" ;;
        *) flags="" ;;
    esac
    o=$work/nn-$(basename "$f" .c).o
    "${cc[@]}" $flags -c "$f" -o "$o"
    nn+=("$o")
done
run fuzz_graph src/graph/*.c src/io/base64.c src/base/error.c src/base/fs.c src/base/beneath.c src/base/buf.c \
    src/base/cpu.c src/base/pool.c src/base/clock.c "${nn[@]}"
