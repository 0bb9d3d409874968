/* UMAP: bounded neighbour heaps and exact k nearest neighbours by blocked
 * dot products (a tile of query rows against a tile of data rows at a time,
 * like a GEMM, each tile's distances folded into the rows' heaps). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "umap_internal.h"

void lens__umap_knn_free(umap_knn *g)
{
    free(g->idx);
    free(g->dist);
    memset(g, 0, sizeof *g);
}

int lens__umap_heap_push(float *d, int32_t *ix, uint8_t *fl, int k, float dist, int32_t j, uint8_t flag)
{
    if (!(dist < d[0])) return 0;
    for (int t = 0; t < k; t++)
        if (ix[t] == j) return 0;
    /* replace the root, sift down */
    int i = 0;
    for (;;) {
        int l = 2 * i + 1, r = l + 1, c;
        if (l >= k) break;
        c = (r < k && d[r] > d[l]) ? r : l;
        if (d[c] <= dist) break;
        d[i] = d[c];
        ix[i] = ix[c];
        if (fl) fl[i] = fl[c];
        i = c;
    }
    d[i] = dist;
    ix[i] = j;
    if (fl) fl[i] = flag;
    return 1;
}

void lens__umap_heap_sort(float *d, int32_t *ix, int k)
{
    for (int i = 1; i < k; i++) {
        float x = d[i];
        int32_t y = ix[i];
        int j = i - 1;
        /* unfilled slots (index -1, +inf) sort last; ties by index */
        while (j >= 0 && (d[j] > x || (d[j] == x && (uint32_t)ix[j] > (uint32_t)y))) {
            d[j + 1] = d[j];
            ix[j + 1] = ix[j];
            j--;
        }
        d[j + 1] = x;
        ix[j + 1] = y;
    }
}

#define QB 32   /* query rows per task */
#define DB 256  /* data rows per tile */

typedef struct {
    const umap_space *s, *q;
    int k, self; /* self: q is s, the point itself goes first */
    umap_knn *out;
    float *tiles; /* per thread QB * DB */
} exact_ctx;

static void exact_task(void *arg, int task, int thread)
{
    exact_ctx *c = arg;
    const umap_space *s = c->s, *q = c->q;
    size_t q0 = (size_t)task * QB, nq = q->n - q0 < QB ? q->n - q0 : QB;
    int kh = c->self ? c->k - 1 : c->k; /* heap size */
    float *tile = c->tiles + (size_t)thread * QB * DB;
    const float *pa[QB], *pb[DB];
    float *hd = c->out->dist + q0 * c->k;
    int32_t *hi = c->out->idx + q0 * c->k;
    for (size_t i = 0; i < nq; i++) {
        pa[i] = umap_row(q, q0 + i);
        for (int t = 0; t < c->k; t++) {
            hd[i * c->k + t] = INFINITY;
            hi[i * c->k + t] = -1;
        }
    }
    /* heaps live after the self slot */
    int off = c->self ? 1 : 0;
    for (size_t j0 = 0; j0 < s->n; j0 += DB) {
        size_t nb = s->n - j0 < DB ? s->n - j0 : DB;
        for (size_t j = 0; j < nb; j++) pb[j] = umap_row(s, j0 + j);
        lens__umap_dots(pa, (int)nq, pb, (int)nb, s->dp, tile, DB);
        for (size_t i = 0; i < nq; i++) {
            float *d = hd + i * c->k + off;
            int32_t *ix = hi + i * c->k + off;
            const float *row = tile + i * DB;
            for (size_t j = 0; j < nb; j++) {
                if (c->self && j0 + j == q0 + i) continue;
                float dist = umap_rank_dist(q, q0 + i, s, j0 + j, row[j]);
                if (dist < d[0]) lens__umap_heap_push(d, ix, NULL, kh, dist, (int32_t)(j0 + j), 0);
            }
        }
    }
    for (size_t i = 0; i < nq; i++) {
        float *d = hd + i * c->k;
        int32_t *ix = hi + i * c->k;
        lens__umap_heap_sort(d + off, ix + off, kh);
        if (c->self) {
            d[0] = 0;
            ix[0] = (int32_t)(q0 + i);
        }
        for (int t = 0; t < c->k; t++) d[t] = ix[t] < 0 ? INFINITY : lens__umap_final_dist(s->metric, d[t]);
    }
}

static int exact_run(const umap_space *s, const umap_space *q, int k, int self, lens_pool *pool, umap_knn *out,
                     lens_error *err)
{
    memset(out, 0, sizeof *out);
    out->n = q->n;
    out->k = k;
    out->idx = malloc(q->n * (size_t)k * sizeof *out->idx);
    out->dist = malloc(q->n * (size_t)k * sizeof *out->dist);
    int threads = pool ? lens_pool_size(pool) : 1;
    exact_ctx c = {s, q, k, self, out, malloc((size_t)threads * QB * DB * sizeof(float))};
    if (!out->idx || !out->dist || !c.tiles) {
        free(c.tiles);
        lens__umap_knn_free(out);
        return lens_error_set(err, LENS_ENOMEM, "umap: out of memory for exact kNN");
    }
    lens_pool_run(pool, (int)((q->n + QB - 1) / QB), exact_task, &c);
    free(c.tiles);
    return LENS_OK;
}

int lens__umap_knn_exact(const umap_space *s, int k, lens_pool *pool, umap_knn *out, lens_error *err)
{
    return exact_run(s, s, k, 1, pool, out, err);
}

int lens__umap_knn_exact_query(const umap_space *s, const umap_space *q, int k, lens_pool *pool, umap_knn *out,
                         lens_error *err)
{
    return exact_run(s, q, k, 0, pool, out, err);
}
