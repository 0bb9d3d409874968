/* A linear layer y = x W^T + b with its weights packed once, at load time,
 * for the kernel that will run it (fp32, bf16 or int8), plus fused epilogues
 * (GELU, residual add) so activations are written once.
 *
 * x is [m, k] row-major, y is [m, n] row-major. Packed activations live in a
 * caller-owned lens__linear_ws that is sized once, so forward never allocates. */
#ifndef LENS_NN_LINEAR_H
#define LENS_NN_LINEAR_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/model.h" /* lens_precision */
#include "lens/pool.h"

typedef enum {
    LENS__EPI_BIAS = 0,     /* y = xW^T + b */
    LENS__EPI_GELU = 1,     /* y = gelu(xW^T + b), exact erf form */
    LENS__EPI_RESIDUAL = 2  /* y = xW^T + b + r (r may alias y) */
} lens__epilogue;

/* The kernel family a layer runs: the hand-written AVX-512 kernels, or the
 * portable C compiled for AVX2 + FMA or for the baseline. All three use the
 * same packed layouts; the two portable builds give the same bits. */
typedef enum { LENS__KERNEL_GENERIC = 0, LENS__KERNEL_AVX512 = 1, LENS__KERNEL_AVX2 = 2 } lens__kernel;

typedef struct lens__linear {
    int n, k;          /* out and in features */
    int k_pad;         /* k rounded up to the kernel's k step */
    int n_panels;      /* ceil(n / 32) */
    lens_precision prec;
    lens__kernel kernel;
    void *w;           /* packed weights (layout depends on prec and kernel) */
    float *bias;       /* [n] */
    float *wscale;     /* int8: per output channel scale */
    int32_t *wsum;     /* int8: per output channel sum of quantized weights */
    /* int8 outlier channels (LLM.int8()-style decomposition): these input
     * channels are left out of the 8-bit product and added in fp32 */
    int n_out;
    int32_t *out_idx;  /* [n_out] input channels */
    float *w_out;      /* [n_out][n_panels * 32]: W[:, out_idx[o]] */
    float *keep;       /* [k]: 0 for outlier channels, else 1 */
} lens__linear;

/* Scratch for packed activations; one per forward pass, reused. */
typedef struct lens__linear_ws {
    void *a;           /* packed activations */
    size_t a_cap;      /* bytes */
    float *row_scale;  /* int8: per row scale and zero point */
    int32_t *row_zp;
    size_t rows_cap;
} lens__linear_ws;

/* Which kernel family this CPU runs (AVX-512 with BF16+VNNI, AVX2, or
 * generic), by lens__cpu_simd(): LENS_KERNEL=generic forces the baseline,
 * LENS_KERNEL=avx2 AVX2 at most. */
lens__kernel lens__kernel_detect(void);
const char *lens__kernel_name(lens__kernel k);

/* W is [n, k] row-major fp32, b is [n] (NULL = zeros). act_absmax (used by
 * int8 only; may be NULL) estimates each input channel's activation range:
 * channels far above the median (LayerNorm outlier channels, which trained
 * BERTs have) would stretch every token's 8-bit grid, so they are computed
 * in fp32 beside the int8 product instead. */
int lens__linear_init(lens__linear *l, const float *W, const float *b, int n, int k,
                     lens_precision prec, lens__kernel kernel, const float *act_absmax, lens_error *err);
void lens__linear_free(lens__linear *l);

/* Makes sure ws can hold m rows of k inputs for any precision. */
int lens__linear_ws_reserve(lens__linear_ws *ws, int m, int k, lens_error *err);
void lens__linear_ws_free(lens__linear_ws *ws);

void lens__linear_forward(const lens__linear *l, const float *x, int m, float *y,
                         lens__epilogue epi, const float *residual, lens__linear_ws *ws,
                         lens_pool *pool);

/* Like lens__linear_forward with LENS__EPI_BIAS, but y is written panel-major:
 * [n_panels][m][32], column c of row r at y[(c / 32) * m * 32 + r * 32 + c % 32].
 * Attention reads one head's Q, K or V as a contiguous [m][32] stream from it
 * instead of 128-byte pieces 3 * hidden floats apart. */
void lens__linear_forward_panels(const lens__linear *l, const float *x, int m, float *y,
                                lens__linear_ws *ws, lens_pool *pool);

#endif
