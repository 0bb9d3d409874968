/* AVX-512 tile kernels (fp32 FMA, bf16 vdpbf16ps, int8 vpdpbusd).
 * Built with AVX-512 flags; only called after lens__kernel_detect() says the
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

static inline void store_row(const lens__tile_args *g, int i, __m512 v0, __m512 v1)
{
    __mmask16 m0 = g->nr >= 16 ? 0xffff : (__mmask16)((1u << g->nr) - 1);
    __mmask16 m1 = g->nr >= 32 ? 0xffff : g->nr <= 16 ? 0 : (__mmask16)((1u << (g->nr - 16)) - 1);
    v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, g->bias));
    v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, g->bias + 16));
    if (g->epi == LENS__EPI_GELU) {
        v0 = gelu16(v0);
        v1 = gelu16(v1);
    } else if (g->epi == LENS__EPI_RESIDUAL) {
        const float *r = g->res + (size_t)i * g->ldy;
        v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, r));
        v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, r + 16));
    }
    float *y = g->y + (size_t)i * g->ldy;
    _mm512_mask_storeu_ps(y, m0, v0);
    _mm512_mask_storeu_ps(y + 16, m1, v1);
}

#define MR LENS__MR

/* The accumulators must stay in registers through the k loop: indexing them
 * with a run-time row count there makes GCC keep them in memory. So copy them
 * out once, with constant indexes, and run the epilogue from the copy. */
static inline void spill_and_store(const lens__tile_args *g, const __m512 *c0, const __m512 *c1)
{
    __m512 acc[MR][2];
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        acc[i][0] = c0[i];
        acc[i][1] = c1[i];
    }
    for (int i = 0; i < g->mr; i++) store_row(g, i, acc[i][0], acc[i][1]);
}

static void tile_f32(const float *A, const float *W, const lens__tile_args *g)
{
    __m512 c0[MR], c1[MR];
    const size_t lda = (size_t)g->lda;
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) c0[i] = c1[i] = _mm512_setzero_ps();
    for (int k = 0; k < g->k_pad; k++, A++, W += 32) {
        __m512 w0 = _mm512_loadu_ps(W), w1 = _mm512_loadu_ps(W + 16);
#pragma GCC unroll 14
        for (int i = 0; i < MR; i++) {
            __m512 a = _mm512_set1_ps(A[i * lda]);
            c0[i] = _mm512_fmadd_ps(a, w0, c0[i]);
            c1[i] = _mm512_fmadd_ps(a, w1, c1[i]);
        }
    }
    spill_and_store(g, c0, c1);
}

static void tile_bf16(const uint16_t *A, const uint16_t *W, const lens__tile_args *g)
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
    spill_and_store(g, c0, c1);
}

static void tile_int8(const uint8_t *A, const int8_t *W, const lens__tile_args *g)
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
    __m512i acc[MR][2]; /* leave registers once, with constant indexes (see spill_and_store) */
#pragma GCC unroll 14
    for (int i = 0; i < MR; i++) {
        acc[i][0] = c0[i];
        acc[i][1] = c1[i];
    }
    __m512i s0 = _mm512_loadu_si512(g->wsum), s1 = _mm512_loadu_si512(g->wsum + 16);
    __m512 q0 = _mm512_loadu_ps(g->wscale), q1 = _mm512_loadu_ps(g->wscale + 16);
    for (int i = 0; i < g->mr; i++) {
        __m512i zp = _mm512_set1_epi32(g->row_zp[i]);
        __m512 rs = _mm512_set1_ps(g->row_scale[i]);
        __m512 v0 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][0], _mm512_mullo_epi32(zp, s0)));
        __m512 v1 = _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[i][1], _mm512_mullo_epi32(zp, s1)));
        v0 = _mm512_mul_ps(v0, _mm512_mul_ps(rs, q0));
        v1 = _mm512_mul_ps(v1, _mm512_mul_ps(rs, q1));
        for (int o = 0; o < g->n_out; o++) { /* outlier channels in fp32 */
            __m512 xo = _mm512_set1_ps(g->x[(size_t)i * g->ldx + g->out_idx[o]]);
            const float *wo = g->w_out + (size_t)o * g->ldw_out;
            v0 = _mm512_fmadd_ps(xo, _mm512_loadu_ps(wo), v0);
            v1 = _mm512_fmadd_ps(xo, _mm512_loadu_ps(wo + 16), v1);
        }
        store_row(g, i, v0, v1);
    }
}

void lens__gemm_tile_avx512(lens_precision prec, const void *a, const void *w, const lens__tile_args *g)
{
    switch (prec) {
    case LENS_FP32: tile_f32(a, w, g); break;
    case LENS_BF16: tile_bf16(a, w, g); break;
    case LENS_INT8: tile_int8(a, w, g); break;
    }
}

/* ---------------------------------------------------------------- packing */

static inline __mmask16 tail_mask(int n) { return n >= 16 ? 0xffff : (__mmask16)((1u << n) - 1); }

void lens__gemm_pack_a_avx512(lens_precision prec, const float *x, int m, int k, int k_pad, int t, void *dst,
                             float *row_scale, int32_t *row_zp, const float *keep)
{
    if (prec == LENS_FP32) {
        lens__gemm_pack_a_avx2(prec, x, m, k, k_pad, t, dst, row_scale, row_zp, keep); /* a copy */
        return;
    }
    int r0 = t * MR;
    if (prec == LENS_BF16) {
        uint32_t *d = (uint32_t *)dst + (size_t)t * MR * (k_pad / 2); /* one u32 = a bf16 pair */
        for (int i = 0; i < MR; i++) {
            const float *row = x + (size_t)(r0 + i) * k;
            for (int kk = 0; kk < k_pad; kk += 16) {
                __m512 v = r0 + i < m ? _mm512_maskz_loadu_ps(tail_mask(k - kk), row + kk) : _mm512_setzero_ps();
                __m256i h = (__m256i)_mm512_cvtneps_pbh(v);
                uint32_t pairs[8];
                _mm256_storeu_si256((__m256i *)pairs, h);
                int np = (k_pad - kk) / 2 < 8 ? (k_pad - kk) / 2 : 8;
                for (int q = 0; q < np; q++) d[(size_t)(kk / 2 + q) * MR + i] = pairs[q];
            }
        }
        return;
    }
    uint32_t *d = (uint32_t *)dst + (size_t)t * MR * (k_pad / 4); /* one u32 = a u8 quad */
    for (int i = 0; i < MR; i++) {
        int live = r0 + i < m;
        const float *row = x + (size_t)(r0 + i) * k;
        __m512 lo = _mm512_setzero_ps(), hi = _mm512_setzero_ps();
        for (int kk = 0; live && kk < k; kk += 16) {
            __mmask16 mk = tail_mask(k - kk);
            __m512 v = _mm512_maskz_loadu_ps(mk, row + kk);
            if (keep) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mk, keep + kk));
            lo = _mm512_min_ps(lo, v);
            hi = _mm512_max_ps(hi, v);
        }
        lens__int8_row_params(_mm512_reduce_min_ps(lo), _mm512_reduce_max_ps(hi), &row_scale[i], &row_zp[i]);
        __m512 inv = _mm512_set1_ps(1.0f / row_scale[i]);
        __m512i zp = _mm512_set1_epi32(row_zp[i]), zero = _mm512_setzero_si512(), top = _mm512_set1_epi32(255);
        for (int kk = 0; kk < k_pad; kk += 16) {
            __mmask16 mk = live ? tail_mask(k - kk) : 0;
            __m512 v = _mm512_maskz_loadu_ps(mk, row + kk);
            if (keep) v = _mm512_mul_ps(v, _mm512_maskz_loadu_ps(mk, keep + kk));
            __m512i q = _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, inv)), zp); /* round to nearest even */
            q = _mm512_min_epi32(_mm512_max_epi32(q, zero), top);
            q = _mm512_mask_mov_epi32(zp, mk, q); /* padding holds the zero point */
            uint32_t quads[4];
            _mm_storeu_si128((__m128i *)quads, _mm512_cvtepi32_epi8(q));
            int nq = (k_pad - kk) / 4 < 4 ? (k_pad - kk) / 4 : 4;
            for (int c = 0; c < nq; c++) d[(size_t)(kk / 4 + c) * MR + i] = quads[c];
        }
    }
}
