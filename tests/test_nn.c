/* GEMM kernels (fp32, bf16, int8; AVX-512, AVX2 and generic) against a
 * double precision reference, on shapes that exercise every tail; the two
 * builds of the portable kernels (AVX2, generic) must agree bit for bit. */
#include <math.h>
#include <string.h>

#include "base/cpu.h"
#include "nn/gemm.h"
#include "nn/linear.h"
#include "nn/ops.h"
#include "test.h"

static unsigned long long rng = 88172645463325252ull;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

static double ref_gelu(double x) { return 0.5 * x * (1.0 + erf(x / sqrt(2.0))); }

/* y_out: NULL, or room for the m x n result */
static void check_linear(int m, int n, int k, lens_precision prec, lens__kernel kern, lens__epilogue epi,
                         int outliers, lens_pool *pool, float *y_out)
{
    float *W = malloc((size_t)n * k * 4), *b = malloc((size_t)n * 4), *x = malloc((size_t)m * k * 4);
    float *y = malloc((size_t)m * n * 4), *r = malloc((size_t)m * n * 4);
    for (int i = 0; i < n * k; i++) W[i] = frand() * 0.1f;
    for (int i = 0; i < n; i++) b[i] = frand();
    for (int i = 0; i < m * k; i++) x[i] = frand() * 2.0f;
    /* outlier channels: 20x larger activations, declared through act_absmax */
    float *absmax = outliers ? malloc((size_t)k * 4) : NULL;
    for (int c = 0; outliers && c < k; c++) {
        int big = c % 7 == 3;
        absmax[c] = big ? 40.0f : 2.0f;
        for (int i = 0; big && i < m; i++) x[(size_t)i * k + c] *= 20.0f;
    }
    for (int i = 0; i < m * n; i++) r[i] = y[i] = frand();
    lens__linear l;
    lens__linear_ws ws = {0};
    lens_error err = {0};
    CHECK(lens__linear_init(&l, W, b, n, k, prec, kern, absmax, &err) == 0, "%s", err.msg);
    CHECK(lens__linear_ws_reserve(&ws, m, k, &err) == 0, "%s", err.msg);
    float *res = epi == LENS__EPI_RESIDUAL ? y : NULL; /* residual aliases the output */
    lens__linear_forward(&l, x, m, y, epi, res, &ws, pool);
    double max_err = 0, max_ref = 0;
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double acc = b[j];
            for (int q = 0; q < k; q++) acc += (double)x[(size_t)i * k + q] * W[(size_t)j * k + q];
            if (epi == LENS__EPI_GELU) acc = ref_gelu(acc);
            if (epi == LENS__EPI_RESIDUAL) acc += r[(size_t)i * n + j];
            max_err = fmax(max_err, fabs(acc - y[(size_t)i * n + j]));
            max_ref = fmax(max_ref, fabs(acc));
        }
    /* fp32: rounding only; bf16: 8-bit mantissas; int8: 8-bit grids */
    double tol = prec == LENS_FP32 ? 2e-5 : prec == LENS_BF16 ? 2e-2 : 4e-2;
    CHECK(max_err <= tol * fmax(1.0, max_ref), "m=%d n=%d k=%d prec=%d kernel=%s epi=%d outliers=%d: max err %g (ref max %g)",
          m, n, k, prec, lens__kernel_name(kern), epi, outliers, max_err, max_ref);
    if (epi == LENS__EPI_BIAS) { /* the panel-major variant writes the same bits elsewhere */
        int cols = (n + 31) / 32 * 32, same = 1;
        float *p = malloc((size_t)m * cols * 4);
        lens__linear_forward_panels(&l, x, m, p, &ws, pool);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
                same &= memcmp(&p[(size_t)i * LENS__ATTN_PANEL + lens__attn_col(m, j)], &y[(size_t)i * n + j], 4) == 0;
        CHECK(same, "m=%d n=%d k=%d prec=%d kernel=%s: panel-major output differs", m, n, k, prec,
              lens__kernel_name(kern));
        free(p);
    }
    if (y_out) memcpy(y_out, y, (size_t)m * n * 4);
    if (outliers && prec == LENS_INT8 && k >= 7)
        CHECK(l.n_out == (k + 3) / 7 || l.n_out == 16, "k=%d: %d outlier channels split out", k, l.n_out);
    lens__linear_free(&l);
    lens__linear_ws_free(&ws);
    free(W); free(b); free(x); free(y); free(r); free(absmax);
}

/* heads x hd: 16 (two heads per 32-column panel), 32 (one), 64 (a head
 * across two panels) */
static void check_attention(lens__kernel kern, lens_pool *pool, int heads, int hd)
{
    int H = heads * hd;
    int32_t offs[] = {0, 1, 18, 57, 60};
    int n_seq = 4, T = offs[n_seq], max_len = 39;
    float *qkv = malloc((size_t)T * 3 * H * 4), *out = malloc((size_t)T * H * 4);
    for (int i = 0; i < T * 3 * H; i++) qkv[i] = frand() * 2.0f;
    /* the kernel reads what lens__linear_forward_panels writes */
    int cols = (3 * H + 31) / 32 * 32;
    float *panels = calloc((size_t)T * cols, 4);
    for (int t = 0; t < T; t++)
        for (int c = 0; c < 3 * H; c++)
            panels[(size_t)t * LENS__ATTN_PANEL + lens__attn_col(T, c)] = qkv[(size_t)t * 3 * H + c];
    size_t stride = lens__attention_scratch(max_len, hd);
    float *scratch = malloc(stride * lens_pool_size(pool) * 4);
    lens__attention_args a = {.qkv = panels, .out = out, .offs = offs, .n_seq = n_seq, .n_heads = heads,
                             .head_dim = hd, .scratch = scratch, .scratch_stride = stride, .kernel = kern};
    lens__attention(&a, pool);
    double max_err = 0;
    for (int s = 0; s < n_seq; s++)
        for (int h = 0; h < heads; h++)
            for (int i = offs[s]; i < offs[s + 1]; i++) {
                double sc[64], mx = -1e300, sum = 0;
                for (int j = offs[s]; j < offs[s + 1]; j++) {
                    double d = 0;
                    for (int c = 0; c < hd; c++)
                        d += (double)qkv[(size_t)i * 3 * H + h * hd + c] * qkv[(size_t)j * 3 * H + H + h * hd + c];
                    sc[j - offs[s]] = d / sqrt((double)hd);
                    mx = fmax(mx, sc[j - offs[s]]);
                }
                for (int j = 0; j < offs[s + 1] - offs[s]; j++) sum += (sc[j] = exp(sc[j] - mx));
                for (int c = 0; c < hd; c++) {
                    double o = 0;
                    for (int j = offs[s]; j < offs[s + 1]; j++)
                        o += sc[j - offs[s]] / sum * qkv[(size_t)j * 3 * H + 2 * H + h * hd + c];
                    max_err = fmax(max_err, fabs(o - out[(size_t)i * H + h * hd + c]));
                }
            }
    CHECK(max_err < 1e-5, "attention (%s, %d heads of %d): max err %g", lens__kernel_name(kern), heads,
          hd, max_err);
    free(qkv); free(panels); free(out); free(scratch);
}

int main(void)
{
    lens_pool *pool = NULL;
    lens_error err = {0};
    CHECK(lens_pool_new(&pool, 2, &err) == 0, "%s", err.msg);
    /* every kernel this CPU can run: generic, then AVX2, then AVX-512 */
    lens__kernel kernels[3] = {LENS__KERNEL_GENERIC};
    int nk = 1;
    if (lens__cpu_simd() >= LENS__SIMD_AVX2) kernels[nk++] = LENS__KERNEL_AVX2;
    if (lens__kernel_detect() == LENS__KERNEL_AVX512) kernels[nk++] = LENS__KERNEL_AVX512;
    static const int shapes[][3] = {{1, 32, 16}, {14, 64, 384}, {15, 33, 7}, {100, 96, 130}, {29, 1152, 384}, {3, 17, 1536}};
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int m = shapes[s][0], n = shapes[s][1], k = shapes[s][2];
        float *ys[3];
        for (int kk = 0; kk < nk; kk++) ys[kk] = malloc((size_t)m * n * 4);
        for (int prec = 0; prec < 3; prec++)
            for (int epi = 0; epi < 3; epi++)
                for (int out = 0; out < 2; out++) {
                    unsigned long long seed = rng; /* the same inputs for every kernel */
                    for (int kk = 0; kk < nk; kk++) {
                        rng = seed;
                        check_linear(m, n, k, (lens_precision)prec, kernels[kk], (lens__epilogue)epi, out, pool, ys[kk]);
                    }
                    if (nk > 1)
                        CHECK(memcmp(ys[0], ys[1], (size_t)m * n * 4) == 0,
                              "m=%d n=%d k=%d prec=%d epi=%d outliers=%d: generic and AVX2 builds differ", m, n, k, prec,
                              epi, out);
                }
        for (int kk = 0; kk < nk; kk++) free(ys[kk]);
    }
    for (int kk = 0; kk < nk; kk++) {
        check_attention(kernels[kk], pool, 3, 32);
        check_attention(kernels[kk], pool, 3, 16);
        check_attention(kernels[kk], pool, 2, 64);
    }
    lens_pool_free(pool);
    TEST_DONE();
}
