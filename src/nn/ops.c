/* The portable LayerNorm and attention, and the attention's dispatch to the
 * AVX-512 kernel (see ops.h). */
#include "ops.h"

#include <math.h>

void lens__layernorm_rows(float *x, size_t n, int d, const float *gamma, const float *beta,
                         float eps)
{
    for (size_t r = 0; r < n; r++) {
        float *row = x + r * (size_t)d;
        float sum = 0.0f;
        for (int i = 0; i < d; i++) sum += row[i];
        float mean = sum / (float)d, var = 0.0f;
        for (int i = 0; i < d; i++) {
            float c = row[i] - mean;
            var += c * c;
        }
        float inv = 1.0f / sqrtf(var / (float)d + eps);
        for (int i = 0; i < d; i++) row[i] = (row[i] - mean) * inv * gamma[i] + beta[i];
    }
}

size_t lens__attention_scratch(int max_len, int head_dim)
{
    /* transposed K [head_dim][len16] + LENS__ATTN_QB rows of scores */
    size_t len16 = ((size_t)max_len + 31) / 32 * 32;
    return (size_t)head_dim * len16 + LENS__ATTN_QB * len16 + 64;
}

void lens__attention_head_generic(const lens__attention_args *a, int seq, int head, float *s)
{
    int H = a->n_heads * a->head_dim, hd = a->head_dim, T = a->offs[a->n_seq];
    int o = a->offs[seq], L = a->offs[seq + 1] - o;
    const float *rows = a->qkv + (size_t)o * LENS__ATTN_PANEL; /* row i at i * 32 */
    size_t cq[LENS__ATTN_MAX_HD], ck[LENS__ATTN_MAX_HD], cv[LENS__ATTN_MAX_HD]; /* dimension d in row 0 */
    for (int d = 0; d < hd; d++) {
        cq[d] = lens__attn_col(T, head * hd + d);
        ck[d] = lens__attn_col(T, H + head * hd + d);
        cv[d] = lens__attn_col(T, 2 * H + head * hd + d);
    }
    float scale = 1.0f / sqrtf((float)hd);
    for (int i = 0; i < L; i++) {
        const float *qi = rows + (size_t)i * LENS__ATTN_PANEL;
        float mx = -INFINITY;
        for (int j = 0; j < L; j++) {
            const float *kj = rows + (size_t)j * LENS__ATTN_PANEL;
            float dot = 0.0f;
            for (int d = 0; d < hd; d++) dot += qi[cq[d]] * kj[ck[d]];
            s[j] = dot * scale;
            mx = fmaxf(mx, s[j]);
        }
        float sum = 0.0f;
        for (int j = 0; j < L; j++) sum += (s[j] = expf(s[j] - mx));
        float *out = a->out + (size_t)(o + i) * H + head * hd;
        for (int d = 0; d < hd; d++) out[d] = 0.0f;
        for (int j = 0; j < L; j++) {
            const float *vj = rows + (size_t)j * LENS__ATTN_PANEL;
            for (int d = 0; d < hd; d++) out[d] += s[j] * vj[cv[d]];
        }
        float inv = 1.0f / sum;
        for (int d = 0; d < hd; d++) out[d] *= inv;
    }
}

static void attention_task(void *ctx, int task, int thread)
{
    const lens__attention_args *a = ctx;
    int seq = task / a->n_heads, head = task % a->n_heads;
    float *scratch = a->scratch + (size_t)thread * a->scratch_stride;
    if (a->kernel == LENS__KERNEL_AVX512 && a->head_dim % 16 == 0)
        lens__attention_head_avx512(a, seq, head, scratch);
    else
        lens__attention_head_generic(a, seq, head, scratch);
}

void lens__attention(const lens__attention_args *a, lens_pool *pool)
{
    lens_pool_run(pool, a->n_seq * a->n_heads, attention_task, (void *)a);
}
