/* LayerNorm in AVX-512 (see ops.h), compiled for it (see CMakeLists.txt)
 * and called only on the encoder's AVX-512 path. */
#include <immintrin.h>
#include <math.h>

#include "ops.h"

/* LayerNorm rows with AVX-512: sums in 16 lanes, then one horizontal add.
 * (The portable version's scalar float reductions do not vectorise.) */
void lens__layernorm_rows_avx512(float *x, size_t n, int d, const float *gamma, const float *beta, float eps)
{
    for (size_t r = 0; r < n; r++) {
        float *row = x + r * (size_t)d;
        __m512 s = _mm512_setzero_ps();
        for (int i = 0; i < d; i += 16) {
            __mmask16 m = d - i >= 16 ? 0xffff : (__mmask16)((1u << (d - i)) - 1);
            s = _mm512_add_ps(s, _mm512_maskz_loadu_ps(m, row + i));
        }
        __m512 mean = _mm512_set1_ps(_mm512_reduce_add_ps(s) / (float)d), v = _mm512_setzero_ps();
        for (int i = 0; i < d; i += 16) {
            __mmask16 m = d - i >= 16 ? 0xffff : (__mmask16)((1u << (d - i)) - 1);
            __m512 c = _mm512_maskz_sub_ps(m, _mm512_maskz_loadu_ps(m, row + i), mean);
            v = _mm512_fmadd_ps(c, c, v);
        }
        __m512 inv = _mm512_set1_ps(1.0f / sqrtf(_mm512_reduce_add_ps(v) / (float)d + eps));
        for (int i = 0; i < d; i += 16) {
            __mmask16 m = d - i >= 16 ? 0xffff : (__mmask16)((1u << (d - i)) - 1);
            __m512 c = _mm512_mul_ps(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, row + i), mean), inv);
            __m512 y = _mm512_fmadd_ps(c, _mm512_maskz_loadu_ps(m, gamma + i), _mm512_maskz_loadu_ps(m, beta + i));
            _mm512_mask_storeu_ps(row + i, m, y);
        }
    }
}
