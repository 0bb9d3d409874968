/* Packed layouts and tile kernels behind lens_linear (internal).
 *
 * A tile of the output is MR rows (tokens) x NR columns (output channels).
 * Weights are packed per panel of NR output channels, activations per tile of
 * MR rows, both with k innermost-but-one so a kernel streams them linearly:
 *
 *   fp32  W: [panel][k][NR]        A: [tile][k][MR]
 *   bf16  W: [panel][k/2][NR][2]   A: [tile][k/2][MR][2]     (pairs for vdpbf16ps)
 *   int8  W: [panel][k/4][NR][4]   A: [tile][k/4][MR][4] u8  (quads for vpdpbusd)
 *
 * Rows and channels past m and n are zero padding; k is padded to its step. */
#ifndef LENS_NN_GEMM_H
#define LENS_NN_GEMM_H

#include <stdint.h>

#include "linear.h"

#define LENS_MR 14
#define LENS_NR 32

/* Everything a tile kernel needs besides the packed operands. */
typedef struct lens_tile_args {
    int k_pad;
    int mr, nr;               /* valid rows / columns of this tile */
    float *y;                 /* output at (row0, col0) */
    int ldy;
    const float *bias;        /* at col0 */
    const float *res;         /* residual at (row0, col0) or NULL */
    lens_epilogue epi;
    const float *row_scale;   /* int8: at row0 */
    const int32_t *row_zp;    /* int8: at row0 */
    const float *wscale;      /* int8: at col0 */
    const int32_t *wsum;      /* int8: at col0 */
} lens_tile_args;

int lens_gemm_k_step(lens_prec prec);
size_t lens_gemm_a_bytes(lens_prec prec, int m, int k_pad);

void lens_gemm_pack_w(lens_prec prec, const float *W, int n, int k, int k_pad, void *dst,
                      float *wscale, int32_t *wsum);
/* Packs tile t (rows t*MR ..) of x [m, k]; int8 also writes row scales/zps. */
void lens_gemm_pack_a(lens_prec prec, const float *x, int m, int k, int k_pad, int t, void *dst,
                      float *row_scale, int32_t *row_zp);

void lens_gemm_tile_generic(lens_prec prec, const void *a, const void *w,
                            const lens_tile_args *args);
void lens_gemm_tile_avx512(lens_prec prec, const void *a, const void *w,
                           const lens_tile_args *args);

/* Vector math used by epilogues and attention. */
float lens_gelu_erf(float x);
uint16_t lens_f32_to_bf16(float x);
float lens_bf16_to_f32(uint16_t h);

#endif
