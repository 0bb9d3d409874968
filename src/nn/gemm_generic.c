/* Portable packing and tile kernels. The same packed layouts serve the
 * AVX-512 kernels, so tests can compare the two tile by tile. */
#include <math.h>
#include <string.h>

#include "gemm.h"

#define CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))

uint16_t lens_f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float lens_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

float lens_gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

int lens_gemm_k_step(lens_precision prec) { return prec == LENS_INT8 ? 4 : prec == LENS_BF16 ? 2 : 1; }

size_t lens_gemm_a_bytes(lens_precision prec, int m, int k_pad)
{
    size_t tiles = (size_t)(m + LENS_MR - 1) / LENS_MR;
    size_t elem = prec == LENS_FP32 ? 4 : prec == LENS_BF16 ? 2 : 1;
    return tiles * LENS_MR * (size_t)k_pad * elem;
}

void lens_gemm_pack_w(lens_precision prec, const float *W, int n, int k, int k_pad, void *dst,
                      float *wscale, int32_t *wsum)
{
    int panels = (n + LENS_NR - 1) / LENS_NR;
    if (prec == LENS_FP32) {
        float *d = dst;
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk++)
                for (int j = 0; j < LENS_NR; j++) {
                    int c = p * LENS_NR + j;
                    *d++ = (c < n && kk < k) ? W[(size_t)c * k + kk] : 0.0f;
                }
    } else if (prec == LENS_BF16) {
        uint16_t *d = dst;
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk += 2)
                for (int j = 0; j < LENS_NR; j++)
                    for (int q = 0; q < 2; q++) {
                        int c = p * LENS_NR + j;
                        *d++ = (c < n && kk + q < k) ? lens_f32_to_bf16(W[(size_t)c * k + kk + q]) : 0;
                    }
    } else {
        /* symmetric per output channel: w = scale * q, q in [-127, 127] */
        int8_t *d = dst;
        for (int c = 0; c < panels * LENS_NR; c++) {
            float amax = 0.0f;
            if (c < n)
                for (int kk = 0; kk < k; kk++) amax = fmaxf(amax, fabsf(W[(size_t)c * k + kk]));
            wscale[c] = amax > 0.0f ? amax / 127.0f : 1.0f;
            wsum[c] = 0;
        }
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk += 4)
                for (int j = 0; j < LENS_NR; j++)
                    for (int q = 0; q < 4; q++) {
                        int c = p * LENS_NR + j;
                        int v = 0;
                        if (c < n && kk + q < k)
                            v = (int)lrintf(W[(size_t)c * k + kk + q] / wscale[c]);
                        if (v > 127) v = 127;
                        if (v < -127) v = -127;
                        *d++ = (int8_t)v;
                        wsum[c] += v;
                    }
    }
}

CLONES
void lens_gemm_pack_a(lens_precision prec, const float *x, int m, int k, int k_pad, int t, void *dst,
                      float *row_scale, int32_t *row_zp, const float *keep)
{
    int r0 = t * LENS_MR;
    if (prec == LENS_FP32) {
        float *d = dst; /* row-major [MR][k_pad], zero padded */
        for (int i = 0; i < LENS_MR; i++)
            for (int kk = 0; kk < k_pad; kk++)
                d[(size_t)i * k_pad + kk] = (r0 + i < m && kk < k) ? x[(size_t)(r0 + i) * k + kk] : 0.0f;
    } else if (prec == LENS_BF16) {
        uint16_t *d = (uint16_t *)dst + (size_t)t * LENS_MR * k_pad;
        for (int i = 0; i < LENS_MR; i++) {
            const float *row = r0 + i < m ? x + (size_t)(r0 + i) * k : NULL;
            for (int kk = 0; kk < k_pad; kk++)
                d[(size_t)(kk >> 1) * LENS_MR * 2 + i * 2 + (kk & 1)] =
                    (row && kk < k) ? lens_f32_to_bf16(row[kk]) : 0;
        }
    } else {
        /* asymmetric per row: x = scale * (q - zp), q in [0, 255] */
        uint8_t *d = (uint8_t *)dst + (size_t)t * LENS_MR * k_pad;
        for (int i = 0; i < LENS_MR; i++) {
            int r = r0 + i;
            const float *row = r < m ? x + (size_t)r * k : NULL;
            float lo = 0.0f, hi = 0.0f; /* range always includes 0: zero is exact */
            if (row)
                for (int kk = 0; kk < k; kk++) {
                    float v = keep ? row[kk] * keep[kk] : row[kk];
                    lo = fminf(lo, v);
                    hi = fmaxf(hi, v);
                }
            lens_int8_row_params(lo, hi, &row_scale[i], &row_zp[i]);
            float inv = 1.0f / row_scale[i];
            int zp = row_zp[i];
            for (int kk = 0; kk < k_pad; kk++) {
                int q = zp;
                if (row && kk < k) {
                    q = (int)nearbyintf((keep ? row[kk] * keep[kk] : row[kk]) * inv) + zp;
                    q = q < 0 ? 0 : q > 255 ? 255 : q;
                }
                d[(size_t)(kk >> 2) * LENS_MR * 4 + i * 4 + (kk & 3)] = (uint8_t)q;
            }
        }
    }
}

static inline float epilogue(const lens_tile_args *g, int i, int j, float v)
{
    v += g->bias ? g->bias[j] : 0.0f;
    if (g->epi == LENS_EPI_GELU) v = lens_gelu_erf(v);
    else if (g->epi == LENS_EPI_RESIDUAL) v += g->res[(size_t)i * g->ldy + j];
    return v;
}

CLONES
void lens_gemm_tile_generic(lens_precision prec, const void *a, const void *w, const lens_tile_args *g)
{
    float acc[LENS_MR][LENS_NR];
    memset(acc, 0, sizeof acc);
    if (prec == LENS_FP32) {
        const float *A = a, *W = w;
        for (int kk = 0; kk < g->k_pad; kk++, W += LENS_NR)
            for (int i = 0; i < g->mr; i++)
                for (int j = 0; j < LENS_NR; j++) acc[i][j] += A[(size_t)i * g->lda + kk] * W[j];
    } else if (prec == LENS_BF16) {
        const uint16_t *A = a, *W = w;
        for (int kk = 0; kk < g->k_pad; kk += 2, A += 2 * LENS_MR, W += 2 * LENS_NR)
            for (int i = 0; i < LENS_MR; i++) {
                float a0 = lens_bf16_to_f32(A[2 * i]), a1 = lens_bf16_to_f32(A[2 * i + 1]);
                for (int j = 0; j < LENS_NR; j++)
                    acc[i][j] += a0 * lens_bf16_to_f32(W[2 * j]) + a1 * lens_bf16_to_f32(W[2 * j + 1]);
            }
    } else {
        int32_t iacc[LENS_MR][LENS_NR];
        memset(iacc, 0, sizeof iacc);
        const uint8_t *A = a;
        const int8_t *W = w;
        for (int kk = 0; kk < g->k_pad; kk += 4, A += 4 * LENS_MR, W += 4 * LENS_NR)
            for (int i = 0; i < LENS_MR; i++)
                for (int j = 0; j < LENS_NR; j++)
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
