/* Packed layouts and tile kernels behind lens__linear (internal).
 *
 * A tile of the output is MR rows (tokens) x NR columns (output channels).
 * Weights are packed per panel of NR output channels, activations per tile of
 * MR rows, both with k innermost-but-one so a kernel streams them linearly:
 *
 *   fp32  W: [panel][k][NR]        A: not packed: row-major rows, lda apart
 *   bf16  W: [panel][k/2][NR][2]   A: [tile][k/2][MR][2]     (pairs for vdpbf16ps)
 *   int8  W: [panel][k/4][NR][4]   A: [tile][k/4][MR][4] u8  (quads for vpdpbusd)
 *
 * Rows and channels past m and n are zero padding; k is padded to its step.
 * fp32 kernels broadcast straight from the activation rows (a tile's rows
 * stay in L1/L2 across its panels); only a last partial tile is copied into a
 * zero-padded buffer so no kernel reads past row m. */
#ifndef LENS_NN_GEMM_H
#define LENS_NN_GEMM_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "linear.h"

#define LENS__MR 14
#define LENS__NR 32

/* Everything a tile kernel needs besides the packed operands. */
typedef struct lens__tile_args {
    int k_pad;
    int lda;                  /* fp32: distance between activation rows */
    int mr, nr;               /* valid rows / columns of this tile */
    float *y;                 /* output at (row0, col0) */
    int ldy;
    const float *bias;        /* at col0 */
    const float *res;         /* residual at (row0, col0) or NULL */
    lens__epilogue epi;
    const float *row_scale;   /* int8: at row0 */
    const int32_t *row_zp;    /* int8: at row0 */
    const float *wscale;      /* int8: at col0 */
    const int32_t *wsum;      /* int8: at col0 */
    /* int8 outlier channels, added in fp32 before the epilogue */
    int n_out;
    const int32_t *out_idx;
    const float *w_out;       /* at col0; rows ldw_out apart */
    int ldw_out;
    const float *x;           /* activations at row0, ldx apart */
    int ldx;
} lens__tile_args;

int lens__gemm_k_step(lens_precision prec);
size_t lens__gemm_a_bytes(lens_precision prec, int m, int k_pad);

void lens__gemm_pack_w(lens_precision prec, const float *W, int n, int k, int k_pad, void *dst,
                      float *wscale, int32_t *wsum);
/* Packs tile t (rows t*MR ..) of x [m, k] for bf16 or int8; int8 also
 * writes row scales/zero points and multiplies column c by keep[c] (NULL:
 * all kept), which drops outlier channels. For fp32, copies a partial last tile row-major into
 * dst (lda = k_pad). */
typedef void (*lens__pack_a_fn)(lens_precision prec, const float *x, int m, int k, int k_pad, int t,
                               void *dst, float *row_scale, int32_t *row_zp, const float *keep);
void lens__gemm_pack_a_generic(lens_precision prec, const float *x, int m, int k, int k_pad, int t,
                              void *dst, float *row_scale, int32_t *row_zp, const float *keep);
void lens__gemm_pack_a_avx2(lens_precision prec, const float *x, int m, int k, int k_pad, int t,
                           void *dst, float *row_scale, int32_t *row_zp, const float *keep);
void lens__gemm_pack_a_avx512(lens_precision prec, const float *x, int m, int k, int k_pad, int t,
                             void *dst, float *row_scale, int32_t *row_zp, const float *keep);
/* The int8 row quantiser both packers share: range [lo, hi] (containing 0)
 * to scale and zero point. */
static inline void lens__int8_row_params(float lo, float hi, float *scale, int32_t *zp)
{
    float s = hi > lo ? (hi - lo) / 255.0f : 1.0f;
    float z = -lo / s;
    int zi = (int)(z + 0.5f);
    *scale = s;
    *zp = zi < 0 ? 0 : zi > 255 ? 255 : zi;
}

typedef void (*lens__tile_fn)(lens_precision prec, const void *a, const void *w, const lens__tile_args *args);
void lens__gemm_tile_generic(lens_precision prec, const void *a, const void *w,
                            const lens__tile_args *args);
void lens__gemm_tile_avx2(lens_precision prec, const void *a, const void *w,
                         const lens__tile_args *args);
void lens__gemm_tile_avx512(lens_precision prec, const void *a, const void *w,
                           const lens__tile_args *args);

/* Scalar math of the portable kernels, inline so each build of them has its
 * own. */
static inline float lens__gelu_erf(float x) { return 0.5f * x * (1.0f + erff(x * (float)M_SQRT1_2)); }

static inline uint16_t lens__f32_to_bf16(float x)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u); /* round to nearest even */
    return (uint16_t)(u >> 16);
}

static inline float lens__bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float x;
    memcpy(&x, &u, 4);
    return x;
}

#endif
