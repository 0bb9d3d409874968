/* Weight packing (all kernels share the layouts, so tests can compare them
 * tile by tile) and the portable kernels built for baseline x86-64. */
#include <math.h>
#include <string.h>

#include "gemm.h"

int lens__gemm_k_step(lens_precision prec) { return prec == LENS_INT8 ? 4 : prec == LENS_BF16 ? 2 : 1; }

size_t lens__gemm_a_bytes(lens_precision prec, int m, int k_pad)
{
    size_t tiles = (size_t)(m + LENS__MR - 1) / LENS__MR;
    size_t elem = prec == LENS_FP32 ? 4 : prec == LENS_BF16 ? 2 : 1;
    return tiles * LENS__MR * (size_t)k_pad * elem;
}

void lens__gemm_pack_w(lens_precision prec, const float *W, int n, int k, int k_pad, void *dst,
                      float *wscale, int32_t *wsum)
{
    int panels = (n + LENS__NR - 1) / LENS__NR;
    if (prec == LENS_FP32) {
        float *d = dst;
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk++)
                for (int j = 0; j < LENS__NR; j++) {
                    int c = p * LENS__NR + j;
                    *d++ = (c < n && kk < k) ? W[(size_t)c * k + kk] : 0.0f;
                }
    } else if (prec == LENS_BF16) {
        uint16_t *d = dst;
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk += 2)
                for (int j = 0; j < LENS__NR; j++)
                    for (int q = 0; q < 2; q++) {
                        int c = p * LENS__NR + j;
                        *d++ = (c < n && kk + q < k) ? lens__f32_to_bf16(W[(size_t)c * k + kk + q]) : 0;
                    }
    } else {
        /* symmetric per output channel: w = scale * q, q in [-127, 127] */
        int8_t *d = dst;
        for (int c = 0; c < panels * LENS__NR; c++) {
            float amax = 0.0f;
            if (c < n)
                for (int kk = 0; kk < k; kk++) amax = fmaxf(amax, fabsf(W[(size_t)c * k + kk]));
            wscale[c] = amax > 0.0f ? amax / 127.0f : 1.0f;
            wsum[c] = 0;
        }
        for (int p = 0; p < panels; p++)
            for (int kk = 0; kk < k_pad; kk += 4)
                for (int j = 0; j < LENS__NR; j++)
                    for (int q = 0; q < 4; q++) {
                        int c = p * LENS__NR + j;
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

#define GEMM_SUFFIX _generic
#include "gemm_portable.h"
