/* The CPUID probe (see cpu.h). */
#include "cpu.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static lens__simd probe(void)
{
    const char *force = getenv("LENS_KERNEL");
    if (force && strcmp(force, "generic") == 0) return LENS__SIMD_GENERIC;
    lens__simd level = LENS__SIMD_GENERIC;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
        level = LENS__SIMD_AVX2;
        if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
            __builtin_cpu_supports("avx512vl")) {
            level = LENS__SIMD_AVX512;
            if (__builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512bf16") &&
                __builtin_cpu_supports("avx512vnni"))
                level = LENS__SIMD_AVX512_BF16;
        }
    }
#endif
    if (force && strcmp(force, "avx2") == 0 && level > LENS__SIMD_AVX2) level = LENS__SIMD_AVX2;
    return level;
}

lens__simd lens__cpu_simd(void)
{
    static atomic_int cached = -1; /* a race only probes twice, with one answer */
    int level = atomic_load_explicit(&cached, memory_order_relaxed);
    if (level < 0) {
        level = (int)probe();
        atomic_store_explicit(&cached, level, memory_order_relaxed);
    }
    return (lens__simd)level;
}
