/* UMAP: AVX-512 dot-product kernels, compiled for AVX-512 (see
 * CMakeLists.txt) and called only when lens__cpu_simd() says the CPU has it.
 * A 4 x 4 block of rows keeps 16 accumulators in registers; the 16
 * horizontal sums are done together by a transposing shuffle tree. */
#include <immintrin.h>

#include "umap_internal.h"

/* z[4 * l + m] = sum of the lanes of v[4 * m + l] */
static inline __m512 hsum16(const __m512 v[16])
{
    __m512 w[8], x[4];
    for (int k = 0; k < 8; k++)
        w[k] = _mm512_add_ps(_mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0x44),
                             _mm512_shuffle_f32x4(v[2 * k], v[2 * k + 1], 0xEE));
    for (int k = 0; k < 4; k++)
        x[k] = _mm512_add_ps(_mm512_shuffle_f32x4(w[2 * k], w[2 * k + 1], 0x88),
                             _mm512_shuffle_f32x4(w[2 * k], w[2 * k + 1], 0xDD));
    __m512 y0 = _mm512_add_ps(_mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_ps(x[0], x[1], _MM_SHUFFLE(3, 2, 3, 2)));
    __m512 y1 = _mm512_add_ps(_mm512_shuffle_ps(x[2], x[3], _MM_SHUFFLE(1, 0, 1, 0)),
                              _mm512_shuffle_ps(x[2], x[3], _MM_SHUFFLE(3, 2, 3, 2)));
    return _mm512_add_ps(_mm512_shuffle_ps(y0, y1, _MM_SHUFFLE(2, 0, 2, 0)),
                         _mm512_shuffle_ps(y0, y1, _MM_SHUFFLE(3, 1, 3, 1)));
}

float lens__umap_dot_avx512(const float *a, const float *b, int dp)
{
    __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps();
    int d = 0;
    for (; d + 32 <= dp; d += 32) {
        s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + d), _mm512_loadu_ps(b + d), s0);
        s1 = _mm512_fmadd_ps(_mm512_loadu_ps(a + d + 16), _mm512_loadu_ps(b + d + 16), s1);
    }
    if (d < dp) s0 = _mm512_fmadd_ps(_mm512_loadu_ps(a + d), _mm512_loadu_ps(b + d), s0);
    return _mm512_reduce_add_ps(_mm512_add_ps(s0, s1));
}

void lens__umap_dots1_avx512(const float *a, const float *const *b, int nb, int dp, float *out)
{
    int j = 0;
    for (; j + 4 <= nb; j += 4) {
        const float *b0 = b[j], *b1 = b[j + 1], *b2 = b[j + 2], *b3 = b[j + 3];
        __m512 s0 = _mm512_setzero_ps(), s1 = _mm512_setzero_ps(), s2 = _mm512_setzero_ps(), s3 = _mm512_setzero_ps();
        for (int d = 0; d < dp; d += 16) {
            __m512 x = _mm512_loadu_ps(a + d);
            s0 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b0 + d), s0);
            s1 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b1 + d), s1);
            s2 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b2 + d), s2);
            s3 = _mm512_fmadd_ps(x, _mm512_loadu_ps(b3 + d), s3);
        }
        out[j] = _mm512_reduce_add_ps(s0);
        out[j + 1] = _mm512_reduce_add_ps(s1);
        out[j + 2] = _mm512_reduce_add_ps(s2);
        out[j + 3] = _mm512_reduce_add_ps(s3);
    }
    for (; j < nb; j++) out[j] = lens__umap_dot_avx512(a, b[j], dp);
}

void lens__umap_dots_avx512(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo)
{
    for (int i0 = 0; i0 < na; i0 += 4) {
        const float *a0 = a[i0], *a1 = a[i0 + 1 < na ? i0 + 1 : na - 1];
        const float *a2 = a[i0 + 2 < na ? i0 + 2 : na - 1], *a3 = a[i0 + 3 < na ? i0 + 3 : na - 1];
        for (int j0 = 0; j0 < nb; j0 += 4) {
            const float *b0 = b[j0], *b1 = b[j0 + 1 < nb ? j0 + 1 : nb - 1];
            const float *b2 = b[j0 + 2 < nb ? j0 + 2 : nb - 1], *b3 = b[j0 + 3 < nb ? j0 + 3 : nb - 1];
            __m512 acc[16];
            for (int t = 0; t < 16; t++) acc[t] = _mm512_setzero_ps();
            for (int d = 0; d < dp; d += 16) {
                __m512 x0 = _mm512_loadu_ps(a0 + d), x1 = _mm512_loadu_ps(a1 + d);
                __m512 x2 = _mm512_loadu_ps(a2 + d), x3 = _mm512_loadu_ps(a3 + d);
                __m512 y = _mm512_loadu_ps(b0 + d);
                acc[0] = _mm512_fmadd_ps(x0, y, acc[0]);
                acc[4] = _mm512_fmadd_ps(x1, y, acc[4]);
                acc[8] = _mm512_fmadd_ps(x2, y, acc[8]);
                acc[12] = _mm512_fmadd_ps(x3, y, acc[12]);
                y = _mm512_loadu_ps(b1 + d);
                acc[1] = _mm512_fmadd_ps(x0, y, acc[1]);
                acc[5] = _mm512_fmadd_ps(x1, y, acc[5]);
                acc[9] = _mm512_fmadd_ps(x2, y, acc[9]);
                acc[13] = _mm512_fmadd_ps(x3, y, acc[13]);
                y = _mm512_loadu_ps(b2 + d);
                acc[2] = _mm512_fmadd_ps(x0, y, acc[2]);
                acc[6] = _mm512_fmadd_ps(x1, y, acc[6]);
                acc[10] = _mm512_fmadd_ps(x2, y, acc[10]);
                acc[14] = _mm512_fmadd_ps(x3, y, acc[14]);
                y = _mm512_loadu_ps(b3 + d);
                acc[3] = _mm512_fmadd_ps(x0, y, acc[3]);
                acc[7] = _mm512_fmadd_ps(x1, y, acc[7]);
                acc[11] = _mm512_fmadd_ps(x2, y, acc[11]);
                acc[15] = _mm512_fmadd_ps(x3, y, acc[15]);
            }
            float z[16];
            _mm512_storeu_ps(z, hsum16(acc));
            int mi = na - i0 < 4 ? na - i0 : 4, mj = nb - j0 < 4 ? nb - j0 : 4;
            for (int i = 0; i < mi; i++)
                for (int j = 0; j < mj; j++) out[(size_t)(i0 + i) * ldo + j0 + j] = z[4 * j + i];
        }
    }
}
