/* AVX-512 tile kernels (fp32 FMA, bf16 vdpbf16ps, int8 vpdpbusd).
 * Built with AVX-512 flags; only called after lens_kernel_detect() says the
 * CPU has AVX-512F/BW/VL/DQ + BF16 + VNNI. One tile is 14 rows x 32 columns:
 * 28 accumulators + 2 weight vectors + 1 broadcast fill the 32 registers. */
#include <immintrin.h>
#include <string.h>

#include "gemm.h"

/* glibc's libmvec: vectorised erff/expf (<= 4 ulp). */
__m512 _ZGVeN16v_erff(__m512 x);

static inline __m512 gelu16(__m512 v)
{
    const __m512 half = _mm512_set1_ps(0.5f), one = _mm512_set1_ps(1.0f);
    __m512 e = _ZGVeN16v_erff(_mm512_mul_ps(v, _mm512_set1_ps(0.70710678118654752440f)));
    return _mm512_mul_ps(_mm512_mul_ps(half, v), _mm512_add_ps(one, e));
}

static inline void store_row(const lens_tile_args *g, int i, __m512 v0, __m512 v1)
{
    __mmask16 m0 = g->nr >= 16 ? 0xffff : (__mmask16)((1u << g->nr) - 1);
    __mmask16 m1 = g->nr >= 32 ? 0xffff : g->nr <= 16 ? 0 : (__mmask16)((1u << (g->nr - 16)) - 1);
    v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, g->bias));
    v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, g->bias + 16));
    if (g->epi == LENS_EPI_GELU) {
        v0 = gelu16(v0);
        v1 = gelu16(v1);
    } else if (g->epi == LENS_EPI_RESIDUAL) {
        const float *r = g->res + (size_t)i * g->ldy;
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16));
    }
    float *y = g->y + (size_t)i * g->ldy;
    _mm512_mask_storeu_ps(y, m0, v0);
    _mm512_mask_storeu_ps(y + 16, m1, v1);
}

#define MR LENS_MR

static void tile_f32(const float *A, const float *W, const lens_tile_args *g)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < g->k_pad; k++, A += MR, W += 32) {
        __m512 w0 = _mm512_loadu_ps(W), w1 = _mm512_loadu_ps(W + 16);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(A[i]);
            c0[i] = _mm512_fmadd_ps(a, w0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, w1, c1[i]);
        }
    }
    for (int i = 0; i < g->mr; i++) store_row(g, i, c0[i], c1[i]);
}

static void tile_bf16(const uint16_t *A, const uint16_t *W, const lens_tile_args *g)
{
    __m512 c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < g->k_pad; k += 2, A += 2 * MR, W += 64) {
        __m512bh w0 = (__m512bh)_mm512_loadu_si512(W), w1 = (__m512bh)_mm512_loadu_si512(W + 32);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            int32_t pair;
            memcpy(&pair, A + 2 * i, 4);
            __m512bh a = (__m512bh)_mm512_set1_epi32(pair);
            c0[i] = _mm512_dpbf16_ps(c0[i], a, w0);
            c1[i] = _mm512_dpbf16_ps(c1[i], a, w1);
        }
    }
    for (int i = 0; i < g->mr; i++) store_row(g, i, c0[i], c1[i]);
}

static void tile_int8(const uint8_t *A, const int8_t *W, const lens_tile_args *g)
{
    __m512i c0[MR], c1[MR];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_si512();
    for (int k = 0; k < g->k_pad; k += 4, A += 4 * MR, W += 128) {
        __m512i w0 = _mm512_loadu_si512(W), w1 = _mm512_loadu_si512(W + 64);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            int32_t quad;
            memcpy(&quad, A + 4 * i, 4);
            __m512i a = _mm512_set1_epi32(quad);
            c0[i] = _mm512_dpbusd_epi32(c0[i], a, w0);
            c1[i] = _mm512_dpbusd_epi32(c1[i], a, w1);
        }
    }
    __m512i s0 = _mm512_loadu_si512(g->wsum), s1 = _mm512_loadu_si512(g->wsum + 16);
    __m512 q0 = _mm512_loadu_ps(g->wscale), q1 = _mm512_loadu_ps(g->wscale + 16);
    for (int i = 0; i < g->mr; i++) {
        __m512i zp = _mm512_set1_epi32(g->row_zp[i]);
        __m512 rs = _mm512_set1_ps(g->row_scale[i]);
        __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c0[i], _mm512_mullo_epi32(zp, s0)));
        __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(c1[i], _mm512_mullo_epi32(zp, s1)));
        v0 = _mm512_mul_ps(v0, _mm512_mul_ps(rs, q0));
        v1 = _mm512_mul_ps(v1, _mm512_mul_ps(rs, q1));
        store_row(g, i, v0, v1);
    }
}

void lens_gemm_tile_avx512(lens_prec prec, const void *a, const void *w, const lens_tile_args *g)
{
    switch (prec) {
    case LENS_PREC_FP32: tile_f32(a, w, g); break;
    case LENS_PREC_BF16: tile_bf16(a, w, g); break;
    case LENS_PREC_INT8: tile_int8(a, w, g); break;
    }
}
