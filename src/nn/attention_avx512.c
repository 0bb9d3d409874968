/* Fused attention for one (sequence, head) with AVX-512: scores, softmax and
 * the weighted sum of V stay in registers/L1; no [L, L] matrix is written.
 * Eight queries share each load of K^T and V. Requires head_dim % 16 == 0.
 *
 * The query count per block and the vectors per head row are compile-time
 * constants (a short last block recomputes a valid row and stores nothing),
 * so the accumulators live in registers; run-time indexes would make GCC
 * keep them in memory. */
#include <immintrin.h>
#include <math.h>

#include "ops.h"

__m512 _ZGVeN16v_expf(__m512 x);

#define QB LENS__ATTN_QB

static inline __attribute__((always_inline)) void head(const lens__attention_args *a, int seq, int hh,
                                                       float *s, const int NV)
{
    int H = a->n_heads * a->head_dim, hd = 16 * NV, T = a->offs[a->n_seq];
    int o = a->offs[seq], L = a->offs[seq + 1] - o;
    int L16 = (L + 31) & ~31; /* keys padded to whole pairs of vectors */
    /* qkv is panel-major (see ops.h): row t of a panel is 32 floats at
     * t * 32; cq/ck/cv[d] is where dimension d of this head sits in row 0 */
    const float *rows = a->qkv + (size_t)o * LENS__ATTN_PANEL;
    size_t cq[8 * 16], ck[8 * 16], cv[8 * 16];
    for (int d = 0; d < hd; d++) {
        cq[d] = lens__attn_col(T, hh * hd + d);
        ck[d] = lens__attn_col(T, H + hh * hd + d);
        cv[d] = lens__attn_col(T, 2 * H + hh * hd + d);
    }
    float *kt = s, *sc = s + (size_t)hd * L16; /* K^T [hd][L16], scores [QB][L16] */
    const __m512 scale = _mm512_set1_ps(1.0f / sqrtf((float)hd));
    /* this head's K rows are one contiguous stream per panel */
    for (int d = 0; d < hd; d++) {
        const float *kd = rows + ck[d];
        float *dst = kt + (size_t)d * L16;
        int j = 0;
        for (; j < L; j++) dst[j] = kd[(size_t)j * LENS__ATTN_PANEL];
        for (; j < L16; j++) dst[j] = 0.0f;
    }

    for (int i0 = 0; i0 < L; i0 += QB) {
        const float *qr[QB];
        for (int r = 0; r < QB; r++) qr[r] = rows + (size_t)(i0 + r < L ? i0 + r : L - 1) * LENS__ATTN_PANEL;
        __m512 mx[QB];
        for (int r = 0; r < QB; r++) mx[r] = _mm512_set1_ps(-INFINITY);
        /* an 8 x 32 tile of scores: each K^T load feeds 8 FMAs, each q
         * broadcast 2 */
        for (int j = 0; j < L16; j += 32) {
            __m512 acc0[QB], acc1[QB];
            for (int r = 0; r < QB; r++) acc0[r] = acc1[r] = _mm512_setzero_ps();
            for (int d = 0; d < hd; d++) {
                __m512 k0 = _mm512_loadu_ps(kt + (size_t)d * L16 + j);
                __m512 k1 = _mm512_loadu_ps(kt + (size_t)d * L16 + j + 16);
                for (int r = 0; r < QB; r++) {
                    __m512 qb = _mm512_set1_ps(qr[r][cq[d]]);
                    acc0[r] = _mm512_fmadd_ps(qb, k0, acc0[r]);
                    acc1[r] = _mm512_fmadd_ps(qb, k1, acc1[r]);
                }
            }
            __mmask16 v0 = L - j >= 16 ? 0xffff : (__mmask16)((1u << (L - j)) - 1);
            __mmask16 v1 = L - j >= 32 ? 0xffff : L - j <= 16 ? 0 : (__mmask16)((1u << (L - j - 16)) - 1);
            const __m512 ninf = _mm512_set1_ps(-INFINITY);
            for (int r = 0; r < QB; r++) {
                __m512 x0 = _mm512_mask_mov_ps(ninf, v0, _mm512_mul_ps(acc0[r], scale));
                __m512 x1 = _mm512_mask_mov_ps(ninf, v1, _mm512_mul_ps(acc1[r], scale));
                _mm512_storeu_ps(sc + (size_t)r * L16 + j, x0);
                _mm512_storeu_ps(sc + (size_t)r * L16 + j + 16, x1);
                mx[r] = _mm512_max_ps(mx[r], _mm512_max_ps(x0, x1));
            }
        }
        __m512 inv[QB];
        for (int r = 0; r < QB; r++) {
            __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx[r])), sum = _mm512_setzero_ps();
            float *row = sc + (size_t)r * L16;
            for (int j = 0; j < L16; j += 16) {
                __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_loadu_ps(row + j), m));
                _mm512_storeu_ps(row + j, e); /* exp(-inf) = 0 for the padding lanes */
                sum = _mm512_add_ps(sum, e);
            }
            inv[r] = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(sum));
        }
        /* out = sum_j p_j v_j, then divide by the softmax sum */
        __m512 acc[QB][8]; /* not [NV]: a VLA would live in memory */
        for (int r = 0; r < QB; r++)
            for (int c = 0; c < NV; c++) acc[r][c] = _mm512_setzero_ps();
        for (int j = 0; j < L; j++) {
            const float *vj = rows + (size_t)j * LENS__ATTN_PANEL;
            __m512 vv[8];
            for (int c = 0; c < NV; c++) vv[c] = _mm512_loadu_ps(vj + cv[16 * c]);
            for (int r = 0; r < QB; r++) {
                __m512 p = _mm512_set1_ps(sc[(size_t)r * L16 + j]);
                for (int c = 0; c < NV; c++) acc[r][c] = _mm512_fmadd_ps(p, vv[c], acc[r][c]);
            }
        }
        for (int r = 0; r < QB; r++) {
            if (i0 + r >= L) break;
            float *out = a->out + (size_t)(o + i0 + r) * H + hh * hd;
            for (int c = 0; c < NV; c++) _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(acc[r][c], inv[r]));
        }
    }
}

void lens__attention_head_avx512(const lens__attention_args *a, int seq, int h, float *s)
{
    switch (a->head_dim) {
    case 32: head(a, seq, h, s, 2); break;
    case 64: head(a, seq, h, s, 4); break;
    case 16: head(a, seq, h, s, 1); break;
    case 128: head(a, seq, h, s, 8); break;
    default: lens__attention_head_generic(a, seq, h, s);
    }
}

