/* The SIMD level of this CPU (internal): the one CPUID probe, behind every
 * choice between a kernel compiled for AVX-512, AVX2 or the baseline.
 *
 * The environment variable LENS_KERNEL caps it: "generic" gives
 * LENS__SIMD_GENERIC (the portable kernels everywhere), "avx2" at most
 * LENS__SIMD_AVX2; anything else is ignored. */
#ifndef LENS_BASE_CPU_H
#define LENS_BASE_CPU_H

/* Each level includes the ones below it. */
typedef enum {
    LENS__SIMD_GENERIC = 0,     /* baseline x86-64 (SSE2), or not x86-64 */
    LENS__SIMD_AVX2 = 1,        /* AVX2 + FMA */
    LENS__SIMD_AVX512 = 2,      /* + AVX-512 F, DQ, VL */
    LENS__SIMD_AVX512_BF16 = 3  /* + AVX-512 BW, BF16, VNNI: the encoder's own kernels */
} lens__simd;

/* Probed once per process (the environment is read then too). */
lens__simd lens__cpu_simd(void);

#endif
