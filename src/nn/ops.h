/* Row-wise tensor ops of a transformer layer (internal). */
#ifndef LENS_NN_OPS_H
#define LENS_NN_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "linear.h"

/* y = (x - mean) / sqrt(var + eps) * gamma + beta over each of n rows of width
 * d, in place; the variance is the biased one, as torch computes it. */
void lens__layernorm_rows(float *x, size_t n, int d, const float *gamma, const float *beta,
                         float eps);
void lens__layernorm_rows_avx512(float *x, size_t n, int d, const float *gamma, const float *beta,
                                float eps);

/* Multi-head self-attention over packed sequences: sequence s occupies rows
 * offs[s] .. offs[s+1]-1 of qkv, T = offs[n_seq] rows of 3*H columns
 * (q | k | v, head h at columns h*hd), stored panel-major as
 * lens__linear_forward_panels writes it: column c of row t at
 * t * 32 + lens__attn_col(T, c). Writes out [T, H] row-major. scratch must
 * hold lens__attention_scratch(max_len) floats per thread of the pool. */
#define LENS__ATTN_PANEL 32
#define LENS__ATTN_MAX_HD 256 /* head_dim at most (models are checked when loaded) */
static inline size_t lens__attn_col(int T, int c)
{
    return (size_t)(c / LENS__ATTN_PANEL) * (size_t)T * LENS__ATTN_PANEL + (size_t)(c % LENS__ATTN_PANEL);
}

typedef struct lens__attention_args {
    const float *qkv;
    float *out;
    const int32_t *offs;
    int n_seq, n_heads, head_dim;
    float *scratch;          /* per thread: scratch + thread * scratch_stride */
    size_t scratch_stride;   /* floats */
    lens__kernel kernel;
} lens__attention_args;

/* Queries per block in the AVX-512 kernel; the scratch holds their scores. */
#define LENS__ATTN_QB 8
size_t lens__attention_scratch(int max_len, int head_dim);
void lens__attention(const lens__attention_args *a, lens_pool *pool);

/* Internal: one (sequence, head) pair, per kernel family. */
void lens__attention_head_generic(const lens__attention_args *a, int seq, int head, float *scratch);
void lens__attention_head_avx512(const lens__attention_args *a, int seq, int head, float *scratch);

#endif
