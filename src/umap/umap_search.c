/* UMAP: k nearest fitted points of new points, by best-first search of the
 * fitted kNN graph (plus reverse edges) from the leaves a query reaches in
 * the kept random-projection trees, as pynndescent's query does: expand the
 * closest unexpanded candidate while it is within (1 + epsilon) of the
 * current k-th distance. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "umap_internal.h"

#define REVERSE_MAX_EXTRA 1.0 /* reverse edges kept per point, times k - 1 */
#define QUERY_BLOCK 64
/* a query computes at most this many distances per neighbour wanted: in
 * data of high intrinsic dimension, where every distance is about the same,
 * (1 + epsilon) prunes nothing and the search would visit most points */
#define MAX_EVALS_PER_K 32

void lens__umap_index_free(umap_index *ix)
{
    free(ix->row);
    free(ix->col);
    memset(ix, 0, sizeof *ix);
}

int lens__umap_index_build(umap_index *ix, const umap_space *s, const umap_knn *g, const umap_tree *trees, int n_trees,
                     lens_error *err)
{
    memset(ix, 0, sizeof *ix);
    ix->s = s;
    ix->trees = trees;
    ix->n_trees = n_trees;
    size_t n = g->n;
    int k = g->k, rmax = (int)((k - 1) * REVERSE_MAX_EXTRA);
    if (rmax < 1) rmax = 1;
    /* reverse lists (source, distance), kept to the rmax closest */
    int64_t *rrow = calloc(n + 1, sizeof *rrow);
    int32_t *rsrc = malloc(n * (size_t)k * sizeof *rsrc);
    float *rd = malloc(n * (size_t)k * sizeof *rd);
    int64_t *fill = malloc((n + 1) * sizeof *fill);
    ix->row = calloc(n + 1, sizeof *ix->row);
    if (!rrow || !rsrc || !rd || !fill || !ix->row) goto oom;
    for (size_t i = 0; i < n; i++)
        for (int e = 1; e < k; e++) {
            int32_t j = g->idx[i * k + e];
            if (j >= 0 && (size_t)j != i) rrow[j + 1]++;
        }
    for (size_t i = 0; i < n; i++) rrow[i + 1] += rrow[i];
    memcpy(fill, rrow, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (int e = 1; e < k; e++) {
            int32_t j = g->idx[i * k + e];
            if (j >= 0 && (size_t)j != i) {
                rsrc[fill[j]] = (int32_t)i;
                rd[fill[j]++] = g->dist[i * k + e];
            }
        }
    /* degree: forward edges + up to rmax reverse ones not already forward */
    size_t total = 0;
    for (size_t i = 0; i < n; i++) {
        int64_t a = rrow[i], b = rrow[i + 1];
        /* partial selection sort of the rmax closest reverse edges */
        int keep = (int)(b - a) < rmax ? (int)(b - a) : rmax;
        for (int t = 0; t < keep; t++) {
            int64_t best = a + t;
            for (int64_t u = a + t + 1; u < b; u++)
                if (rd[u] < rd[best] || (rd[u] == rd[best] && rsrc[u] < rsrc[best])) best = u;
            float td = rd[a + t];
            int32_t ts = rsrc[a + t];
            rd[a + t] = rd[best];
            rsrc[a + t] = rsrc[best];
            rd[best] = td;
            rsrc[best] = ts;
        }
        fill[i] = keep;
        total += (size_t)(k - 1) + (size_t)keep;
    }
    ix->col = malloc((total ? total : 1) * sizeof *ix->col);
    if (!ix->col) goto oom;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        ix->row[i] = (int64_t)pos;
        size_t start = pos;
        for (int e = 1; e < k; e++) {
            int32_t j = g->idx[i * k + e];
            if (j >= 0 && (size_t)j != i) ix->col[pos++] = j;
        }
        size_t nf = pos;
        for (int t = 0; t < fill[i]; t++) {
            int32_t j = rsrc[rrow[i] + t];
            int dup = 0;
            for (size_t u = start; u < nf; u++)
                if (ix->col[u] == j) {
                    dup = 1;
                    break;
                }
            if (!dup) ix->col[pos++] = j;
        }
    }
    ix->row[n] = (int64_t)pos;
    free(rrow);
    free(rsrc);
    free(rd);
    free(fill);
    return LENS_OK;
oom:
    free(rrow);
    free(rsrc);
    free(rd);
    free(fill);
    lens__umap_index_free(ix);
    return lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the search graph");
}

/* ---- query ---- */

typedef struct {
    float d;
    int32_t i;
} cand;

typedef struct {
    uint32_t *stamp;
    uint32_t gen;
    cand *heap; /* min-heap of candidates to expand */
    size_t cap;
    int32_t *todo; /* neighbours of the expanded candidate */
    const float **rows;
    float *dots;
} qscratch;

static int cand_push(qscratch *q, size_t *n, float d, int32_t i)
{
    if (lens__grow((void **)&q->heap, &q->cap, *n + 1, sizeof *q->heap)) return -1;
    size_t p = (*n)++;
    while (p > 0) {
        size_t up = (p - 1) / 2;
        if (q->heap[up].d <= d) break;
        q->heap[p] = q->heap[up];
        p = up;
    }
    q->heap[p] = (cand){d, i};
    return 0;
}

static cand cand_pop(qscratch *q, size_t *n)
{
    cand top = q->heap[0], last = q->heap[--(*n)];
    size_t p = 0;
    for (;;) {
        size_t l = 2 * p + 1, r = l + 1, c;
        if (l >= *n) break;
        c = (r < *n && q->heap[r].d < q->heap[l].d) ? r : l;
        if (q->heap[c].d >= last.d) break;
        q->heap[p] = q->heap[c];
        p = c;
    }
    if (*n) q->heap[p] = last;
    return top;
}

typedef struct {
    const umap_index *ix;
    const umap_space *q;
    int k, max_evals;
    float scale;
    umap_knn *out;
    qscratch *scr;
    float *rd;     /* per thread k */
    int32_t *ri;   /* per thread k */
    int fail;
} query_ctx;

static void query_task(void *arg, int task, int thread)
{
    query_ctx *c = arg;
    const umap_index *ix = c->ix;
    const umap_space *s = ix->s, *q = c->q;
    qscratch *sc = &c->scr[thread];
    int k = c->k, dp = s->dp;
    float *rd = c->rd + (size_t)thread * k;
    int32_t *ri = c->ri + (size_t)thread * k;
    size_t i0 = (size_t)task * QUERY_BLOCK, i1 = i0 + QUERY_BLOCK < q->n ? i0 + QUERY_BLOCK : q->n;
    for (size_t qi = i0; qi < i1; qi++) {
        const float *row = umap_row(q, qi);
        if (++sc->gen == 0) { /* stamps wrapped: clear */
            memset(sc->stamp, 0, s->n * sizeof *sc->stamp);
            sc->gen = 1;
        }
        uint32_t gen = sc->gen;
        for (int t = 0; t < k; t++) {
            rd[t] = INFINITY;
            ri[t] = -1;
        }
        size_t nh = 0;
        /* seeds: the leaves of the kept trees, then random points */
        for (int t = 0; t < ix->n_trees; t++) {
            int32_t a, b;
            lens__umap_tree_leaf(&ix->trees[t], row, dp, &a, &b);
            for (int32_t u = a; u < b; u++) {
                int32_t j = ix->trees[t].perm[u];
                if (sc->stamp[j] == gen) continue;
                sc->stamp[j] = gen;
                float d = umap_rank_dist(q, qi, s, (size_t)j, lens__umap_dot(row, umap_row(s, (size_t)j), dp));
                lens__umap_heap_push(rd, ri, NULL, k, d, j, 0);
                if (cand_push(sc, &nh, d, j)) c->fail = 1;
            }
        }
        /* random seeds from the row itself, so a point's neighbours do
         * not depend on its place in a chunk */
        uint64_t h = 0x5eed;
        for (int d = 0; d < q->dim; d++) {
            uint32_t bits;
            memcpy(&bits, row + d, sizeof bits);
            h = umap_mix(h ^ bits);
        }
        umap_rng r = {h};
        for (int tries = 0; ri[0] < 0 && tries < 4 * k; tries++) {
            int32_t j = (int32_t)umap_below(&r, (uint32_t)s->n);
            if (sc->stamp[j] == gen) continue;
            sc->stamp[j] = gen;
            float d = umap_rank_dist(q, qi, s, (size_t)j, lens__umap_dot(row, umap_row(s, (size_t)j), dp));
            lens__umap_heap_push(rd, ri, NULL, k, d, j, 0);
            if (cand_push(sc, &nh, d, j)) c->fail = 1;
        }
        float bound = rd[0] * c->scale;
        int evals = 0;
        while (nh > 0 && !c->fail && evals < c->max_evals) {
            cand cd = cand_pop(sc, &nh);
            if (cd.d > bound) break;
            /* the unvisited neighbours, prefetched, then their distances
             * four rows at a time */
            int nj = 0;
            for (int64_t e = ix->row[cd.i]; e < ix->row[cd.i + 1]; e++) {
                int32_t j = ix->col[e];
                if (sc->stamp[j] == gen) continue;
                sc->stamp[j] = gen;
                sc->todo[nj++] = j;
            }
            evals += nj;
            for (int t = 0; t < nj; t++) {
                const char *rp = (const char *)umap_row(s, (size_t)sc->todo[t]);
                __builtin_prefetch(rp);
                __builtin_prefetch(rp + 64);
                sc->rows[t] = (const float *)rp;
            }
            lens__umap_dots1(row, sc->rows, nj, dp, sc->dots);
            for (int t = 0; t < nj; t++) {
                int32_t j = sc->todo[t];
                float d = umap_rank_dist(q, qi, s, (size_t)j, sc->dots[t]);
                if (d < bound) {
                    if (cand_push(sc, &nh, d, j)) c->fail = 1;
                    if (lens__umap_heap_push(rd, ri, NULL, k, d, j, 0)) bound = rd[0] * c->scale;
                }
            }
        }
        lens__umap_heap_sort(rd, ri, k);
        for (int t = 0; t < k; t++) {
            c->out->idx[qi * k + t] = ri[t];
            c->out->dist[qi * k + t] = ri[t] < 0 ? INFINITY : lens__umap_final_dist(s->metric, rd[t]);
        }
    }
}

static int max_degree(const umap_index *ix)
{
    int64_t m = 1;
    for (size_t i = 0; i < ix->s->n; i++)
        if (ix->row[i + 1] - ix->row[i] > m) m = ix->row[i + 1] - ix->row[i];
    return (int)m;
}

int lens__umap_index_query(const umap_index *ix, const umap_space *q, int k, float epsilon, lens_pool *pool,
                     umap_knn *out, lens_error *err)
{
    memset(out, 0, sizeof *out);
    int threads = pool ? lens_pool_size(pool) : 1;
    if ((size_t)k > ix->s->n) k = (int)ix->s->n;
    query_ctx c = {ix, q, k, MAX_EVALS_PER_K * k, 1.0f + epsilon, out, NULL, NULL, NULL, 0};
    /* squared euclidean ranks: scale the distance bound, not its square */
    if (q->metric == LENS_UMAP_EUCLIDEAN) c.scale = (1.0f + epsilon) * (1.0f + epsilon);
    out->n = q->n;
    out->k = k;
    out->idx = malloc((q->n ? q->n : 1) * (size_t)k * sizeof *out->idx);
    out->dist = malloc((q->n ? q->n : 1) * (size_t)k * sizeof *out->dist);
    c.scr = calloc((size_t)threads, sizeof *c.scr);
    c.rd = malloc((size_t)threads * c.k * sizeof *c.rd);
    c.ri = malloc((size_t)threads * c.k * sizeof *c.ri);
    int ret = LENS_OK;
    if (!out->idx || !out->dist || !c.scr || !c.rd || !c.ri) goto oom;
    size_t md = (size_t)max_degree(ix);
    for (int t = 0; t < threads; t++)
        if (!(c.scr[t].stamp = calloc(ix->s->n, sizeof *c.scr[t].stamp)) ||
            !(c.scr[t].todo = malloc(md * sizeof *c.scr[t].todo)) ||
            !(c.scr[t].rows = malloc(md * sizeof *c.scr[t].rows)) || !(c.scr[t].dots = malloc(md * sizeof *c.scr[t].dots)))
            goto oom;
    lens_pool_run(pool, (int)((q->n + QUERY_BLOCK - 1) / QUERY_BLOCK), query_task, &c);
    if (c.fail) goto oom;
    goto done;
oom:
    ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the neighbour search");
    lens__umap_knn_free(out);
done:
    if (c.scr)
        for (int t = 0; t < threads; t++) {
            free(c.scr[t].stamp);
            free(c.scr[t].heap);
            free(c.scr[t].todo);
            free((void *)c.scr[t].rows);
            free(c.scr[t].dots);
        }
    free(c.scr);
    free(c.rd);
    free(c.ri);
    return ret;
}
