/* Fused attention for one (sequence, head) with AVX-512: scores, softmax and
 * the weighted sum of V stay in registers/L1; no [L, L] matrix is written.
 * Four queries share each load of K^T and V. Requires head_dim % 16 == 0. */
#include <immintrin.h>
#include <math.h>

#include "ops.h"

__m512 _ZGVeN16v_expf(__m512 x);

#define QB 4
#define MAXD 8 /* head_dim up to 128 */

void lens_attention_head_avx512(const lens_attention_args *a, int seq, int head, float *s)
{
    int H = a->n_heads * a->head_dim, hd = a->head_dim, ld = 3 * H, nv = hd / 16;
    int o = a->offs[seq], L = a->offs[seq + 1] - o;
    int L16 = (L + 15) & ~15;
    const float *q = a->qkv + (size_t)o * ld + head * hd;
    const float *k = q + H, *v = q + 2 * H;
    float *kt = s, *sc = s + (size_t)hd * L16; /* K^T [hd][L16], scores [QB][L16] */
    const float scale = 1.0f / sqrtf((float)hd);
    if (nv > MAXD) {
        lens_attention_head_generic(a, seq, head, s);
        return;
    }
    for (int j = 0; j < L16; j++)
        for (int d = 0; d < hd; d++) kt[(size_t)d * L16 + j] = j < L ? k[(size_t)j * ld + d] : 0.0f;

    for (int i0 = 0; i0 < L; i0 += QB) {
        int nq = L - i0 < QB ? L - i0 : QB;
        /* scores for nq queries, 16 keys at a time */
        __m512 mx[QB];
        for (int r = 0; r < QB; r++) mx[r] = _mm512_set1_ps(-INFINITY);
        for (int j = 0; j < L16; j += 16) {
            __m512 acc[QB];
            for (int r = 0; r < QB; r++) acc[r] = _mm512_setzero_ps();
            for (int d = 0; d < hd; d++) {
                __m512 kv = _mm512_loadu_ps(kt + (size_t)d * L16 + j);
                for (int r = 0; r < nq; r++)
                    acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(q[(size_t)(i0 + r) * ld + d]), kv, acc[r]);
            }
            __mmask16 valid = L - j >= 16 ? 0xffff : (__mmask16)((1u << (L - j)) - 1);
            for (int r = 0; r < nq; r++) {
                __m512 x = _mm512_mask_mov_ps(_mm512_set1_ps(-INFINITY), valid,
                                              _mm512_mul_ps(acc[r], _mm512_set1_ps(scale)));
                _mm512_storeu_ps(sc + (size_t)r * L16 + j, x);
                mx[r] = _mm512_max_ps(mx[r], x);
            }
        }
        float inv[QB];
        for (int r = 0; r < nq; r++) {
            __m512 m = _mm512_set1_ps(_mm512_reduce_max_ps(mx[r])), sum = _mm512_setzero_ps();
            float *row = sc + (size_t)r * L16;
            for (int j = 0; j < L16; j += 16) {
                __m512 e = _ZGVeN16v_expf(_mm512_sub_ps(_mm512_loadu_ps(row + j), m));
                _mm512_storeu_ps(row + j, e); /* exp(-inf) = 0 for the padding lanes */
                sum = _mm512_add_ps(sum, e);
            }
            inv[r] = 1.0f / _mm512_reduce_add_ps(sum);
        }
        /* out = sum_j p_j v_j, then divide by the softmax sum */
        __m512 acc[QB][MAXD];
        for (int r = 0; r < QB; r++)
            for (int c = 0; c < nv; c++) acc[r][c] = _mm512_setzero_ps();
        for (int j = 0; j < L; j++) {
            const float *vj = v + (size_t)j * ld;
            for (int c = 0; c < nv; c++) {
                __m512 vv = _mm512_loadu_ps(vj + 16 * c);
                for (int r = 0; r < nq; r++)
                    acc[r][c] = _mm512_fmadd_ps(_mm512_set1_ps(sc[(size_t)r * L16 + j]), vv, acc[r][c]);
            }
        }
        for (int r = 0; r < nq; r++) {
            float *out = a->out + (size_t)(o + i0 + r) * H + head * hd;
            for (int c = 0; c < nv; c++)
                _mm512_storeu_ps(out + 16 * c, _mm512_mul_ps(acc[r][c], _mm512_set1_ps(inv[r])));
        }
    }
}
