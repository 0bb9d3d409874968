/* UMAP: the layout. a and b are fitted by Levenberg-Marquardt; SGD follows
 * umap-learn's optimize_layout_euclidean: edges sampled on the
 * epochs-per-sample schedule (an edge of weight w every w_max / w epochs),
 * negative_rate random repulsions per sample, gradients clipped to 4, a
 * learning rate falling linearly to 0.
 *
 * Deterministic in parallel: rows are processed in fixed blocks with their
 * own random stream per epoch; a row moves only itself (the reverse edge of
 * the symmetric graph moves the other end, so the attraction counts twice
 * as umap-learn's move_other does), and every other position is read from
 * the previous epoch's snapshot. New points (transform) move alone against
 * the fixed fitted layout, each with its own stream. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "umap_sgd.h"

#define ROW_BLOCK 512

int lens_umap_find_ab(float min_dist, float spread, float *a_out, float *b_out, lens_error *err)
{
    if (!(spread > 0) || !(min_dist >= 0) || !(min_dist < 3 * spread))
        return lens_error_set(err, LENS_EINVAL, "umap: need spread > 0 and 0 <= min_dist < 3 * spread (got %g, %g)",
                              (double)min_dist, (double)spread);
    enum { N = 300 };
    double x[N], y[N];
    for (int i = 0; i < N; i++) {
        x[i] = 3.0 * spread * i / (N - 1);
        y[i] = x[i] < min_dist ? 1.0 : exp(-(x[i] - min_dist) / spread);
    }
    double a = 1, b = 1, lambda = 1e-3;
    double cost = 0;
    for (int i = 0; i < N; i++) {
        double u = x[i] > 0 ? pow(x[i], 2 * b) : 0, r = 1 / (1 + a * u) - y[i];
        cost += r * r;
    }
    for (int it = 0; it < 500; it++) {
        double JTJ[3] = {0}, JTr[2] = {0};
        for (int i = 0; i < N; i++) {
            double u = x[i] > 0 ? pow(x[i], 2 * b) : 0, f = 1 / (1 + a * u), r = f - y[i];
            double ja = -u * f * f, jb = x[i] > 0 ? -a * u * 2 * log(x[i]) * f * f : 0;
            JTJ[0] += ja * ja;
            JTJ[1] += ja * jb;
            JTJ[2] += jb * jb;
            JTr[0] += ja * r;
            JTr[1] += jb * r;
        }
        int improved = 0;
        for (int tries = 0; tries < 30 && !improved; tries++) {
            double m0 = JTJ[0] * (1 + lambda), m1 = JTJ[1], m2 = JTJ[2] * (1 + lambda);
            double det = m0 * m2 - m1 * m1;
            if (!(fabs(det) > 0)) break;
            double da = -(m2 * JTr[0] - m1 * JTr[1]) / det, db = -(m0 * JTr[1] - m1 * JTr[0]) / det;
            double na = a + da, nb = b + db, nc = 0;
            if (nb > 0)
                for (int i = 0; i < N; i++) {
                    double u = x[i] > 0 ? pow(x[i], 2 * nb) : 0, r = 1 / (1 + na * u) - y[i];
                    nc += r * r;
                }
            if (nb > 0 && nc < cost) {
                double rel = (cost - nc) / (cost > 0 ? cost : 1);
                a = na;
                b = nb;
                cost = nc;
                lambda = fmax(lambda / 10, 1e-12);
                improved = 1;
                if (rel < 1e-12 && fabs(da) < 1e-10 && fabs(db) < 1e-10) it = 1 << 20;
            } else {
                lambda *= 10;
            }
        }
        if (!improved) break;
    }
    if (!isfinite(a) || !isfinite(b) || a <= 0 || b <= 0)
        return lens_error_set(err, LENS_EINVAL, "umap: could not fit a and b for min_dist %g, spread %g",
                              (double)min_dist, (double)spread);
    *a_out = (float)a;
    *b_out = (float)b;
    return LENS_OK;
}

/* ---- the generic edge kernel: the AVX2 one's lanes in a loop ---- */

/* x^b for x > 0 (the polynomials of umap_layout_avx2.c's vpow) */
static inline float spow(float x, float b)
{
    union {
        float f;
        uint32_t u;
    } v = {x};
    int32_t k = (int32_t)(v.u - 0x3f3504f3u) >> 23;
    v.u -= (uint32_t)k << 23;
    float m = v.f;
    float x1 = m - 1.0f;
    float p = (((0.2423949f * x1 + -0.39246854f) * x1 + 0.48822707f) * x1 + -0.72040075f) * x1 + 1.4425216f;
    float y = b * (x1 * p + (float)k) + 127.0f;
    y = y < 1.0f ? 1.0f : y > 253.0f ? 253.0f : y;
    int32_t yi = (int32_t)y;
    float f = y - (float)yi;
    float q = (((0.01352061f * f + 0.052037474f) * f + 0.24142742f) * f + 0.69300663f) * f + 1.0000025f;
    v.u = (uint32_t)yi << 23;
    return q * v.f;
}

static inline __attribute__((always_inline)) void edge_generic(float *cur, int32_t tail, int n_neg, const float *src,
                                                               uint32_t n_src, int64_t self, uint32_t *rng,
                                                               const sgd_k *k, float alpha, const int dim)
{
    float acc[3][8] = {{0}};
    int slots = 1 + n_neg;
    for (int s0 = 0; s0 < slots; s0 += 8) {
        for (int l = 0; l < 8; l++) {
            rng[l] = sgd_xorshift(rng[l]);
            uint32_t kk = (uint32_t)(((uint64_t)rng[l] * n_src) >> 32);
            int slot = s0 + l;
            if (slot == 0) kk = (uint32_t)tail;
            if (slot >= slots || (slot != 0 && (int64_t)kk == self)) continue;
            const float *o = src + (size_t)kk * dim;
            float dx[3], q2 = 0;
            for (int d = 0; d < dim; d++) {
                dx[d] = cur[d] - o[d];
                q2 += dx[d] * dx[d];
            }
            if (!(q2 > 0)) continue;
            float pw = spow(q2, k->b), apw1 = k->a * pw + 1.0f;
            float gc = slot == 0 ? (k->att * pw) / (q2 * apw1) : k->rep / ((0.001f + q2) * apw1);
            for (int d = 0; d < dim; d++) {
                float g = gc * dx[d];
                acc[d][l] += g > SGD_CLIP ? SGD_CLIP : g < -SGD_CLIP ? -SGD_CLIP : g;
            }
        }
    }
    for (int d = 0; d < dim; d++) {
        const float *v = acc[d];
        cur[d] += (((v[0] + v[4]) + (v[2] + v[6])) + ((v[1] + v[5]) + (v[3] + v[7]))) * alpha;
    }
}

#define SGD_EDGE edge_generic
#define SGD_SUFFIX _generic
#include "umap_sgd.h"

/* ---- fit ---- */

static void fit_task(void *arg, int task, int thread)
{
    umap_fit_ctx *c = arg;
    size_t n = c->g->n, r0 = (size_t)task * ROW_BLOCK, r1 = r0 + ROW_BLOCK < n ? r0 + ROW_BLOCK : n;
    uint32_t rng[SGD_ROWS][8];
    sgd_seed(rng[0], umap_stream(c->p->seed, 30, (uint64_t)c->epoch, (uint64_t)task));
    lens__simd simd = lens__cpu_simd();
    if (simd >= LENS__SIMD_AVX512) {
        sgd_seed(rng[1], umap_stream(c->p->seed, 31, (uint64_t)c->epoch, (uint64_t)task));
        lens__umap_fit_block_avx512(c, r0, r1, rng);
    } else if (simd >= LENS__SIMD_AVX2) {
        lens__umap_fit_block_avx2(c, r0, r1, rng);
    } else {
        lens__umap_fit_block_generic(c, r0, r1, rng);
    }
}

int lens__umap_layout_fit(const umap_graph *g, const umap_layout_params *p, float *emb, lens_pool *pool,
                    const umap_progress *pr, lens_error *err)
{
    size_t n = g->n, nnz = (size_t)g->row[n];
    float wmax = 0;
    for (size_t e = 0; e < nnz; e++)
        if (g->w[e] > wmax) wmax = g->w[e];
    float *eps = malloc((nnz ? nnz : 1) * sizeof *eps), *next = malloc((nnz ? nnz : 1) * sizeof *next);
    float *next_neg = malloc((nnz ? nnz : 1) * sizeof *next_neg);
    float *yp = malloc((n ? n : 1) * (size_t)p->dim * sizeof *yp);
    int ret = LENS_OK;
    if (!eps || !next || !next_neg || !yp) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the layout");
        goto out;
    }
    if (n > UINT32_MAX / 4) {
        ret = lens_error_set(err, LENS_EINVAL, "umap: too many points for one layout (%zu)", n);
        goto out;
    }
    for (size_t e = 0; e < nnz; e++) {
        float w = g->w[e];
        /* umap-learn drops edges below w_max / n_epochs */
        eps[e] = (wmax > 0 && w >= wmax / (float)p->n_epochs) ? wmax / w : 0;
        next[e] = eps[e] > 0 ? eps[e] : INFINITY; /* pruned: never due */
        next_neg[e] = eps[e] / (float)p->negative_rate;
    }
    umap_fit_ctx c = {g, p, eps, next, next_neg, emb, yp, 0, p->alpha};
    int tasks = (int)((n + ROW_BLOCK - 1) / ROW_BLOCK);
    for (c.epoch = 0; c.epoch < p->n_epochs; c.epoch++) {
        if (umap_stopped(pr)) {
            ret = lens_error_set(err, LENS_ECANCEL, "umap: stopped");
            goto out;
        }
        if (pr->fn) pr->fn(pr->ctx, (size_t)c.epoch, (size_t)p->n_epochs, "layout");
        memcpy(yp, emb, n * (size_t)p->dim * sizeof *yp);
        lens_pool_run(pool, tasks, fit_task, &c);
        c.alpha = p->alpha * (1.0f - (float)(c.epoch + 1) / (float)p->n_epochs);
    }
    if (pr->fn) pr->fn(pr->ctx, (size_t)p->n_epochs, (size_t)p->n_epochs, "layout");
out:
    free(eps);
    free(next);
    free(next_neg);
    free(yp);
    return ret;
}

/* ---- transform ---- */

#define TR_BLOCK 256

static void tr_task(void *arg, int task, int thread)
{
    umap_tr_ctx *c = arg;
    size_t i0 = (size_t)task * TR_BLOCK, i1 = i0 + TR_BLOCK < c->m ? i0 + TR_BLOCK : c->m;
    lens__simd simd = lens__cpu_simd();
    if (simd >= LENS__SIMD_AVX512) lens__umap_tr_block_avx512(c, i0, i1);
    else if (simd >= LENS__SIMD_AVX2) lens__umap_tr_block_avx2(c, i0, i1);
    else lens__umap_tr_block_generic(c, i0, i1);
}

int lens__umap_layout_transform(const int32_t *nbr, const float *w, size_t m, int k, const float *fit, size_t n_fit,
                          const umap_layout_params *p, size_t first, const size_t *ids, float *emb, lens_pool *pool,
                          const umap_progress *pr, lens_error *err)
{
    if (k > 256) return lens_error_set(err, LENS_EINVAL, "umap: at most 256 neighbours");
    if (umap_stopped(pr)) return lens_error_set(err, LENS_ECANCEL, "umap: stopped");
    umap_tr_ctx c = {nbr, w, m, n_fit, first, ids, k, fit, p, emb};
    lens_pool_run(pool, (int)((m + TR_BLOCK - 1) / TR_BLOCK), tr_task, &c);
    return LENS_OK;
}
