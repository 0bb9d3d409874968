/* The portable packing and tile kernels, written once and compiled twice
 * (see CMakeLists.txt): gemm_generic.c builds them for baseline x86-64 with
 * the suffix _generic, gemm_avx2.c for AVX2 + FMA with _avx2, and
 * lens__kernel_detect() picks one. GCC in ISO C mode neither contracts
 * a * b + c into an FMA nor reorders float sums, so both builds give the
 * same bits; only the speed differs. Define GEMM_SUFFIX, then include this
 * once. */
#ifndef GEMM_SUFFIX
#error "define GEMM_SUFFIX before including gemm_portable.h"
#endif

#include <math.h>
#include <string.h>

#include "gemm.h"

#define GEMM_CAT2(a, b) a##b
#define GEMM_CAT(a, b) GEMM_CAT2(a, b)

void GEMM_CAT(lens__gemm_pack_a, GEMM_SUFFIX)(lens_precision prec, const float *x, int m, int k, int k_pad, int t,
                                             void *dst, float *row_scale, int32_t *row_zp, const float *keep)
{
    int r0 = t * LENS__MR;
    if (prec == LENS_FP32) {
        float *d = dst; /* row-major [MR][k_pad], zero padded */
        for (int i = 0; i < LENS__MR; i++)
            for (int kk = 0; kk < k_pad; kk++)
                d[(size_t)i * k_pad + kk] = (r0 + i < m && kk < k) ? x[(size_t)(r0 + i) * k + kk] : 0.0f;
    } else if (prec == LENS_BF16) {
        uint16_t *d = (uint16_t *)dst + (size_t)t * LENS__MR * k_pad;
        for (int i = 0; i < LENS__MR; i++) {
            const float *row = r0 + i < m ? x + (size_t)(r0 + i) * k : NULL;
            for (int kk = 0; kk < k_pad; kk++)
                d[(size_t)(kk >> 1) * LENS__MR * 2 + i * 2 + (kk & 1)] =
                    (row && kk < k) ? lens__f32_to_bf16(row[kk]) : 0;
        }
    } else {
        /* asymmetric per row: x = scale * (q - zp), q in [0, 255] */
        uint8_t *d = (uint8_t *)dst + (size_t)t * LENS__MR * k_pad;
        for (int i = 0; i < LENS__MR; i++) {
            int r = r0 + i;
            const float *row = r < m ? x + (size_t)r * k : NULL;
            float lo = 0.0f, hi = 0.0f; /* range always includes 0: zero is exact */
            if (row)
                for (int kk = 0; kk < k; kk++) {
                    float v = keep ? row[kk] * keep[kk] : row[kk];
                    lo = fminf(lo, v);
                    hi = fmaxf(hi, v);
                }
            lens__int8_row_params(lo, hi, &row_scale[i], &row_zp[i]);
            float inv = 1.0f / row_scale[i];
            int zp = row_zp[i];
            for (int kk = 0; kk < k_pad; kk++) {
                int q = zp;
                if (row && kk < k) {
                    q = (int)nearbyintf((keep ? row[kk] * keep[kk] : row[kk]) * inv) + zp;
                    q = q < 0 ? 0 : q > 255 ? 255 : q;
                }
                d[(size_t)(kk >> 2) * LENS__MR * 4 + i * 4 + (kk & 3)] = (uint8_t)q;
            }
        }
    }
}

static inline float epilogue(const lens__tile_args *g, int i, int j, float v)
{
    v += g->bias ? g->bias[j] : 0.0f;
    if (g->epi == LENS__EPI_GELU) v = lens__gelu_erf(v);
    else if (g->epi == LENS__EPI_RESIDUAL) v += g->res[(size_t)i * g->ldy + j];
    return v;
}

void GEMM_CAT(lens__gemm_tile, GEMM_SUFFIX)(lens_precision prec, const void *a, const void *w, const lens__tile_args *g)
{
    float acc[LENS__MR][LENS__NR];
    memset(acc, 0, sizeof acc);
    if (prec == LENS_FP32) {
        const float *A = a, *W = w;
        for (int kk = 0; kk < g->k_pad; kk++, W += LENS__NR)
            for (int i = 0; i < g->mr; i++)
                for (int j = 0; j < LENS__NR; j++) acc[i][j] += A[(size_t)i * g->lda + kk] * W[j];
    } else if (prec == LENS_BF16) {
        const uint16_t *A = a, *W = w;
        for (int kk = 0; kk < g->k_pad; kk += 2, A += 2 * LENS__MR, W += 2 * LENS__NR)
            for (int i = 0; i < LENS__MR; i++) {
                float a0 = lens__bf16_to_f32(A[2 * i]), a1 = lens__bf16_to_f32(A[2 * i + 1]);
                for (int j = 0; j < LENS__NR; j++)
                    acc[i][j] += a0 * lens__bf16_to_f32(W[2 * j]) + a1 * lens__bf16_to_f32(W[2 * j + 1]);
            }
    } else {
        int32_t iacc[LENS__MR][LENS__NR];
        memset(iacc, 0, sizeof iacc);
        const uint8_t *A = a;
        const int8_t *W = w;
        for (int kk = 0; kk < g->k_pad; kk += 4, A += 4 * LENS__MR, W += 4 * LENS__NR)
            for (int i = 0; i < LENS__MR; i++)
                for (int j = 0; j < LENS__NR; j++)
                    for (int q = 0; q < 4; q++) iacc[i][j] += A[4 * i + q] * W[4 * j + q];
        for (int i = 0; i < g->mr; i++)
            for (int j = 0; j < g->nr; j++)
            {
                acc[i][j] = (float)(iacc[i][j] - g->row_zp[i] * g->wsum[j]) * g->row_scale[i] *
                            g->wscale[j];
                for (int o = 0; o < g->n_out; o++)
                    acc[i][j] += g->x[(size_t)i * g->ldx + g->out_idx[o]] * g->w_out[(size_t)o * g->ldw_out + j];
            }
    }
    for (int i = 0; i < g->mr; i++)
        for (int j = 0; j < g->nr; j++)
            g->y[(size_t)i * g->ldy + j] = epilogue(g, i, j, acc[i][j]);
}
