/* lens__linear: weight packing, kernel dispatch and the threaded GEMM loop. */
#include "linear.h"

#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "gemm.h"

/* Tasks cover MB tiles (rows) x NB panels (columns): the activation tile is
 * reused from L1 across NB panels, the NB weight panels from L2 across MB
 * tiles. */
#define MB 8
#define NB 4

lens__kernel lens__kernel_detect(void)
{
    lens__simd s = lens__cpu_simd();
    return s >= LENS__SIMD_AVX512_BF16 ? LENS__KERNEL_AVX512 : s >= LENS__SIMD_AVX2 ? LENS__KERNEL_AVX2 : LENS__KERNEL_GENERIC;
}

const char *lens__kernel_name(lens__kernel k)
{
    return k == LENS__KERNEL_AVX512 ? "avx512" : k == LENS__KERNEL_AVX2 ? "avx2" : "generic";
}

static lens__pack_a_fn pack_a_for(lens__kernel k)
{
    return k == LENS__KERNEL_AVX512 ? lens__gemm_pack_a_avx512 : k == LENS__KERNEL_AVX2 ? lens__gemm_pack_a_avx2
                                                                                      : lens__gemm_pack_a_generic;
}

static lens__tile_fn tile_for(lens__kernel k)
{
    return k == LENS__KERNEL_AVX512 ? lens__gemm_tile_avx512 : k == LENS__KERNEL_AVX2 ? lens__gemm_tile_avx2
                                                                                    : lens__gemm_tile_generic;
}

static void *alloc64(size_t bytes)
{
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes ? (bytes + 63) & ~(size_t)63 : 64)) return NULL;
    return p;
}

#define MAX_OUTLIERS 16
#define OUTLIER_RATIO 2.5f /* times the median channel range */

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return x < y ? -1 : x > y;
}

/* Picks the input channels whose range is far above the median. */
static int split_outliers(lens__linear *l, const float *W, const float *act_absmax, lens_error *err)
{
    int k = l->k, n = l->n, cols = l->n_panels * LENS__NR;
    float *sorted = malloc((size_t)k * sizeof *sorted);
    l->keep = alloc64((size_t)k * sizeof(float));
    l->out_idx = alloc64(MAX_OUTLIERS * sizeof(int32_t));
    l->w_out = alloc64((size_t)MAX_OUTLIERS * cols * sizeof(float));
    if (!sorted || !l->keep || !l->out_idx || !l->w_out) {
        free(sorted);
        lens__linear_free(l);
        return lens_error_set(err, LENS_ENOMEM, "linear layer [%d, %d]: out of memory", n, k);
    }
    memcpy(sorted, act_absmax, (size_t)k * sizeof *sorted);
    qsort(sorted, (size_t)k, sizeof *sorted, cmp_float);
    float limit = OUTLIER_RATIO * sorted[k / 2];
    free(sorted);
    memset(l->w_out, 0, (size_t)MAX_OUTLIERS * cols * sizeof(float));
    for (int c = 0; c < k; c++) {
        l->keep[c] = 1.0f;
        if (act_absmax[c] > limit && l->n_out < MAX_OUTLIERS) {
            l->keep[c] = 0.0f;
            l->out_idx[l->n_out] = c;
            for (int j = 0; j < n; j++) l->w_out[(size_t)l->n_out * cols + j] = W[(size_t)j * k + c];
            l->n_out++;
        }
    }
    return LENS_OK;
}

int lens__linear_init(lens__linear *l, const float *W, const float *b, int n, int k,
                     lens_precision prec, lens__kernel kernel, const float *act_absmax, lens_error *err)
{
    memset(l, 0, sizeof *l);
    if (n <= 0 || k <= 0)
        return lens_error_set(err, LENS_EINVAL, "linear layer: bad shape [%d, %d]", n, k);
    int step = lens__gemm_k_step(prec);
    l->n = n;
    l->k = k;
    l->k_pad = (k + step - 1) / step * step;
    l->n_panels = (n + LENS__NR - 1) / LENS__NR;
    l->prec = prec;
    l->kernel = kernel;
    size_t cols = (size_t)l->n_panels * LENS__NR;
    size_t elem = prec == LENS_FP32 ? 4 : prec == LENS_BF16 ? 2 : 1;
    l->w = alloc64(cols * (size_t)l->k_pad * elem);
    l->bias = alloc64(cols * sizeof(float));
    if (prec == LENS_INT8) {
        l->wscale = alloc64(cols * sizeof(float));
        l->wsum = alloc64(cols * sizeof(int32_t));
    }
    if (!l->w || !l->bias || (prec == LENS_INT8 && (!l->wscale || !l->wsum))) {
        lens__linear_free(l);
        return lens_error_set(err, LENS_ENOMEM, "linear layer [%d, %d]: out of memory", n, k);
    }
    memset(l->bias, 0, cols * sizeof(float));
    if (b) memcpy(l->bias, b, (size_t)n * sizeof(float));
    if (prec == LENS_INT8 && act_absmax) {
        int rc = split_outliers(l, W, act_absmax, err);
        if (rc) return rc;
    }
    if (!l->n_out) {
        lens__gemm_pack_w(prec, W, n, k, l->k_pad, l->w, l->wscale, l->wsum);
        return LENS_OK;
    }
    /* pack the int8 part without the outlier columns */
    float *Wi = malloc((size_t)n * k * sizeof(float));
    if (!Wi) {
        lens__linear_free(l);
        return lens_error_set(err, LENS_ENOMEM, "linear layer [%d, %d]: out of memory", n, k);
    }
    for (size_t i = 0; i < (size_t)n * k; i++) Wi[i] = W[i] * l->keep[i % (size_t)k];
    lens__gemm_pack_w(prec, Wi, n, k, l->k_pad, l->w, l->wscale, l->wsum);
    free(Wi);
    return LENS_OK;
}

void lens__linear_free(lens__linear *l)
{
    free(l->w);
    free(l->bias);
    free(l->wscale);
    free(l->wsum);
    free(l->keep);
    free(l->out_idx);
    free(l->w_out);
    memset(l, 0, sizeof *l);
}

int lens__linear_ws_reserve(lens__linear_ws *ws, int m, int k, lens_error *err)
{
    /* fp32 needs the most bytes; k may be padded up to 4 */
    size_t need = lens__gemm_a_bytes(LENS_FP32, m, (k + 3) / 4 * 4);
    size_t rows = (size_t)(m + LENS__MR - 1) / LENS__MR * LENS__MR;
    if (need > ws->a_cap) {
        free(ws->a);
        ws->a = alloc64(need);
        ws->a_cap = ws->a ? need : 0;
    }
    if (rows > ws->rows_cap) {
        free(ws->row_scale);
        free(ws->row_zp);
        ws->row_scale = alloc64(rows * sizeof(float));
        ws->row_zp = alloc64(rows * sizeof(int32_t));
        ws->rows_cap = (ws->row_scale && ws->row_zp) ? rows : 0;
    }
    if (!ws->a || !ws->row_scale || !ws->row_zp)
        return lens_error_set(err, LENS_ENOMEM, "linear workspace for %d x %d: out of memory", m, k);
    return LENS_OK;
}

void lens__linear_ws_free(lens__linear_ws *ws)
{
    free(ws->a);
    free(ws->row_scale);
    free(ws->row_zp);
    memset(ws, 0, sizeof *ws);
}

typedef struct {
    const lens__linear *l;
    const float *x;
    int m, m_tiles, n_blocks;
    float *y;
    lens__epilogue epi;
    const float *res;
    lens__linear_ws *ws;
    int panels; /* y is [n_panels][m][NR] */
} job;

static size_t a_tile_bytes(const lens__linear *l)
{
    return lens__gemm_a_bytes(l->prec, LENS__MR, l->k_pad);
}

static void pack_task(void *ctx, int task, int thread)
{
    (void)thread;
    job *j = ctx;
    const lens__linear *l = j->l;
    lens__pack_a_fn pack = pack_a_for(l->kernel);
    int t1 = (task + 1) * MB < j->m_tiles ? (task + 1) * MB : j->m_tiles;
    for (int t = task * MB; t < t1; t++)
        pack(l->prec, j->x, j->m, l->k, l->k_pad, t, j->ws->a, j->ws->row_scale + (size_t)t * LENS__MR,
             j->ws->row_zp + (size_t)t * LENS__MR, l->n_out ? l->keep : NULL);
}

static void gemm_task(void *ctx, int task, int thread)
{
    (void)thread;
    job *j = ctx;
    const lens__linear *l = j->l;
    int mb = task / j->n_blocks, nb = task % j->n_blocks;
    int t0 = mb * MB, t1 = t0 + MB < j->m_tiles ? t0 + MB : j->m_tiles;
    int p0 = nb * NB, p1 = p0 + NB < l->n_panels ? p0 + NB : l->n_panels;
    size_t elem = l->prec == LENS_FP32 ? 4 : l->prec == LENS_BF16 ? 2 : 1;
    size_t w_panel = (size_t)l->k_pad * LENS__NR * elem;
    for (int t = t0; t < t1; t++) {
        int row0 = t * LENS__MR, lda = l->k;
        const char *a = (const char *)j->ws->a + (size_t)t * a_tile_bytes(l);
        if (l->prec == LENS_FP32) {
            /* full tiles read the activations in place; the partial last
             * tile was copied, zero padded, to the start of ws->a */
            int full = j->m - row0 >= LENS__MR;
            a = full ? (const char *)(j->x + (size_t)row0 * l->k) : (const char *)j->ws->a;
            lda = full ? l->k : l->k_pad;
        }
        for (int p = p0; p < p1; p++) {
            int col0 = p * LENS__NR;
            lens__tile_args g = {
                .k_pad = l->k_pad,
                .lda = lda,
                .mr = j->m - row0 < LENS__MR ? j->m - row0 : LENS__MR,
                .nr = l->n - col0 < LENS__NR ? l->n - col0 : LENS__NR,
                .y = j->panels ? j->y + ((size_t)p * j->m + row0) * LENS__NR
                               : j->y + (size_t)row0 * l->n + col0,
                .ldy = j->panels ? LENS__NR : l->n,
                .bias = l->bias + col0,
                .res = j->res ? j->res + (size_t)row0 * l->n + col0 : NULL,
                .epi = j->epi,
                .row_scale = j->ws->row_scale + row0,
                .row_zp = j->ws->row_zp + row0,
                .wscale = l->wscale ? l->wscale + col0 : NULL,
                .wsum = l->wsum ? l->wsum + col0 : NULL,
                .n_out = l->n_out,
                .out_idx = l->out_idx,
                .w_out = l->w_out ? l->w_out + col0 : NULL,
                .ldw_out = l->n_panels * LENS__NR,
                .x = j->x + (size_t)row0 * l->k,
                .ldx = l->k,
            };
            const void *w = (const char *)l->w + (size_t)p * w_panel;
            tile_for(l->kernel)(l->prec, a, w, &g);
        }
    }
}

static void forward(const lens__linear *l, const float *x, int m, float *y, lens__epilogue epi,
                    const float *residual, int panels, lens__linear_ws *ws, lens_pool *pool)
{
    if (m <= 0) return;
    job j = {.l = l, .x = x, .m = m, .m_tiles = (m + LENS__MR - 1) / LENS__MR,
             .n_blocks = (l->n_panels + NB - 1) / NB, .y = y, .epi = epi,
             .res = epi == LENS__EPI_RESIDUAL ? residual : NULL, .ws = ws, .panels = panels};
    int m_blocks = (j.m_tiles + MB - 1) / MB;
    if (l->prec != LENS_FP32)
        lens_pool_run(pool, m_blocks, pack_task, &j);
    else if (m % LENS__MR) /* only the partial last tile */
        pack_a_for(l->kernel)(l->prec, x, m, l->k, l->k_pad, m / LENS__MR, ws->a, NULL, NULL, NULL);
    lens_pool_run(pool, m_blocks * j.n_blocks, gemm_task, &j);
}

void lens__linear_forward(const lens__linear *l, const float *x, int m, float *y,
                         lens__epilogue epi, const float *residual, lens__linear_ws *ws,
                         lens_pool *pool)
{
    forward(l, x, m, y, epi, residual, 0, ws, pool);
}

void lens__linear_forward_panels(const lens__linear *l, const float *x, int m, float *y,
                                lens__linear_ws *ws, lens_pool *pool)
{
    forward(l, x, m, y, LENS__EPI_BIAS, NULL, 1, ws, pool);
}
