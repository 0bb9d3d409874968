/* UMAP: the public API (fit, transform, and a streaming run that fits a
 * sample and transforms the rest chunk by chunk). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lens/umap.h"
#include "umap_internal.h"

#define EXACT_MAX 4096     /* fits up to this size use exact kNN */
#define SEARCH_TREES 2     /* RP trees kept to seed transform queries */
#define SEARCH_EPSILON 0.1f
#define MIN_FIT 1000

struct lens_umap {
    lens_umap_opts o;
    int k, exact;
    float a, b;
    umap_space s;
    umap_tree trees[SEARCH_TREES];
    umap_index ix;
    float *emb;
    lens_pool *pool;
    int own_pool;
};

void lens_umap_opts_default(lens_umap_opts *o)
{
    memset(o, 0, sizeof *o);
    o->n_neighbors = 15;
    o->n_components = 2;
    o->n_epochs = 0;
    o->min_dist = 0.1f;
    o->spread = 1.0f;
    o->metric = LENS_UMAP_EUCLIDEAN;
    o->seed = 42;
    o->threads = 0;
    o->fit_size = 25000;
    o->chunk = 16384;
}

int lens_umap_metric_parse(const char *s, int *out)
{
    if (!s) return LENS_EINVAL;
    if (!strcmp(s, "euclidean")) *out = LENS_UMAP_EUCLIDEAN;
    else if (!strcmp(s, "cosine")) *out = LENS_UMAP_COSINE;
    else return LENS_EINVAL;
    return LENS_OK;
}

/* zero ints / spread take their defaults; min_dist and seed are taken as given */
static int resolve_opts(const lens_umap_opts *in, lens_umap_opts *o, lens_error *err)
{
    lens_umap_opts d;
    lens_umap_opts_default(&d);
    if (!in) {
        *o = d;
        return LENS_OK;
    }
    *o = *in;
    if (!o->n_neighbors) o->n_neighbors = d.n_neighbors;
    if (!o->n_components) o->n_components = d.n_components;
    if (!(o->spread != 0)) o->spread = d.spread;
    if (!o->fit_size) o->fit_size = d.fit_size;
    if (!o->chunk) o->chunk = d.chunk;
    if (o->n_neighbors < 2 || o->n_neighbors > 200)
        return lens_error_set(err, LENS_EINVAL, "umap: n_neighbors must be in 2..200 (got %d)", o->n_neighbors);
    if (o->n_components < 2 || o->n_components > 3)
        return lens_error_set(err, LENS_EINVAL, "umap: n_components must be 2 or 3 (got %d)", o->n_components);
    if (o->n_epochs < 0 || o->n_epochs > 100000)
        return lens_error_set(err, LENS_EINVAL, "umap: n_epochs must be in 0..100000 (got %d)", o->n_epochs);
    if (!(o->min_dist >= 0) || !(o->spread > 0) || !(o->min_dist < 3 * o->spread))
        return lens_error_set(err, LENS_EINVAL, "umap: need spread > 0 and 0 <= min_dist < 3 * spread (got %g, %g)",
                              (double)o->min_dist, (double)o->spread);
    if (o->metric != LENS_UMAP_EUCLIDEAN && o->metric != LENS_UMAP_COSINE)
        return lens_error_set(err, LENS_EINVAL, "umap: unknown metric %d", o->metric);
    return LENS_OK;
}

void lens_umap_free(lens_umap *u)
{
    if (!u) return;
    lens__umap_index_free(&u->ix);
    for (int t = 0; t < SEARCH_TREES; t++) lens__umap_tree_free(&u->trees[t]);
    lens__umap_space_free(&u->s);
    free(u->emb);
    if (u->own_pool) lens_pool_free(u->pool);
    free(u);
}

const float *lens_umap_embedding(const lens_umap *u) { return u->emb; }
size_t lens_umap_size(const lens_umap *u) { return u->s.n; }
int lens_umap_components(const lens_umap *u) { return u->o.n_components; }

int lens_umap_fit(lens_umap **out, const float *x, size_t n, int dim, const lens_umap_opts *opts, lens_pool *pool,
                  lens_error *err)
{
    *out = NULL;
    lens_umap_opts o;
    int ret = resolve_opts(opts, &o, err);
    if (ret) return ret;
    if (n == 0 || dim <= 0 || !x)
        return lens_error_set(err, LENS_EINVAL, "umap: nothing to fit (%zu points of dimension %d)", n, dim);
    if (n > INT32_MAX) return lens_error_set(err, LENS_EINVAL, "umap: at most %d points per fit", INT32_MAX);
    lens_umap *u = calloc(1, sizeof *u);
    if (!u) return lens_error_set(err, LENS_ENOMEM, "umap: out of memory");
    u->o = o;
    u->k = o.n_neighbors < (int)n ? o.n_neighbors : (int)n;
    u->pool = pool;
    if (!pool && o.threads != 1) {
        if ((ret = lens_pool_new(&u->pool, o.threads, err))) goto fail;
        u->own_pool = 1;
    }
    umap_progress pr = {o.progress, o.ctx, o.stop};
    umap_knn knn = {0};
    umap_graph g = {0};
    int nc = o.n_components;
    if ((ret = lens__umap_space_alloc(&u->s, n, dim, o.metric, err))) goto fail;
    for (size_t i = 0; i < n; i++) lens__umap_space_set(&u->s, i, x + i * (size_t)dim);
    u->emb = calloc(n * (size_t)nc, sizeof *u->emb);
    if (!u->emb) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory");
        goto fail;
    }
    int n_epochs = o.n_epochs ? o.n_epochs : n <= 10000 ? 500 : 200;
    if ((ret = lens_umap_find_ab(o.min_dist, o.spread, &u->a, &u->b, err))) goto fail;
    if (n < 3) { /* nothing to lay out: one point at 0, two a unit apart */
        for (size_t i = 0; i < n; i++) u->emb[i * nc] = (float)i;
        u->exact = 1;
        *out = u;
        return LENS_OK;
    }
    u->exact = n <= EXACT_MAX;
    if (pr.fn) pr.fn(pr.ctx, 0, 1, "knn");
    if (u->exact) {
        ret = lens__umap_knn_exact(&u->s, u->k, u->pool, &knn, err);
    } else {
        ret = lens__umap_knn_descent(&u->s, u->k, umap_stream(o.seed, 10, 0, 0), u->pool, &pr, &knn, u->trees,
                               SEARCH_TREES, err);
    }
    if (ret) goto fail;
    if (umap_stopped(&pr)) {
        ret = lens_error_set(err, LENS_ECANCEL, "umap: stopped");
        goto fail_knn;
    }
    if (pr.fn) pr.fn(pr.ctx, 0, 1, "graph");
    if ((ret = lens__umap_fuzzy_graph(&knn, &g, err))) goto fail_knn;
    if (!u->exact && (ret = lens__umap_index_build(&u->ix, &u->s, &knn, u->trees, SEARCH_TREES, err))) goto fail_knn;
    lens__umap_knn_free(&knn);
    if (pr.fn) pr.fn(pr.ctx, 0, 1, "init");
    lens_error e2 = {0};
    if (lens__umap_spectral_init(&g, &u->s, nc, o.seed, u->pool, u->emb, &e2) != LENS_OK) {
        if (e2.code == LENS_ENOMEM) {
            *err = e2;
            ret = e2.code;
            goto fail_graph;
        }
        lens__umap_random_init(n, nc, o.seed, u->emb); /* the eigen-solver failed */
    }
    umap_layout_params lp = {u->a, u->b, 1.0f, 1.0f, 5, n_epochs, nc, umap_stream(o.seed, 11, 0, 0)};
    if ((ret = lens__umap_layout_fit(&g, &lp, u->emb, u->pool, &pr, err))) goto fail_graph;
    lens__umap_graph_free(&g);
    *out = u;
    return LENS_OK;
fail_graph:
    lens__umap_graph_free(&g);
fail_knn:
    lens__umap_knn_free(&knn);
fail:
    lens_umap_free(u);
    return ret;
}

/* rows numbered first + i, or ids[i] when ids is given */
static int transform_rows(lens_umap *u, const float *x, size_t n, size_t first, const size_t *ids, float *out,
                          lens_error *err)
{
    int nc = u->o.n_components, k = u->k, ret = LENS_OK;
    umap_progress pr = {NULL, NULL, u->o.stop};
    if (n == 0) return LENS_OK;
    if (u->s.n < 3) { /* a degenerate model: everything at its first point */
        for (size_t i = 0; i < n * (size_t)nc; i++) out[i] = u->emb[i % nc];
        return LENS_OK;
    }
    size_t chunk = u->o.chunk;
    umap_space q = {0};
    umap_knn nn = {0};
    float *sigma = malloc(chunk * sizeof *sigma), *rho = malloc(chunk * sizeof *rho);
    float *w = malloc(chunk * (size_t)k * sizeof *w);
    if (!sigma || !rho || !w) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for a transform chunk");
        goto out;
    }
    int ne = u->o.n_epochs ? u->o.n_epochs / 3 : u->s.n <= 10000 ? 100 : 30;
    if (ne < 1) ne = 1;
    umap_layout_params lp = {u->a, u->b, 1.0f, 0.25f, 5, ne, nc, umap_stream(u->o.seed, 12, 0, 0)};
    for (size_t c0 = 0; c0 < n; c0 += chunk) {
        if (umap_stopped(&pr)) {
            ret = lens_error_set(err, LENS_ECANCEL, "umap: stopped");
            goto out;
        }
        size_t m = n - c0 < chunk ? n - c0 : chunk;
        if ((ret = lens__umap_space_alloc(&q, m, u->s.dim, u->o.metric, err))) goto out;
        for (size_t i = 0; i < m; i++) lens__umap_space_set(&q, i, x + (c0 + i) * (size_t)u->s.dim);
        ret = u->exact ? lens__umap_knn_exact_query(&u->s, &q, k, u->pool, &nn, err)
                       : lens__umap_index_query(&u->ix, &q, k, SEARCH_EPSILON, u->pool, &nn, err);
        if (ret) goto out;
        /* memberships with local connectivity 0 (umap-learn's transform) */
        lens__umap_smooth_knn(nn.dist, m, nn.k, 0.0f, sigma, rho);
        for (size_t i = 0; i < m; i++) {
            float *o = out + (c0 + i) * nc, tot = 0;
            for (int d = 0; d < nc; d++) o[d] = 0;
            for (int e = 0; e < nn.k; e++) {
                int32_t j = nn.idx[i * nn.k + e];
                float d = nn.dist[i * nn.k + e], v = 0;
                if (j >= 0 && isfinite(d)) v = umap_membership(d, rho[i], sigma[i]);
                w[i * nn.k + e] = v;
                tot += v;
            }
            for (int e = 0; e < nn.k && tot > 0; e++) {
                int32_t j = nn.idx[i * nn.k + e];
                if (j < 0) continue;
                for (int d = 0; d < nc; d++) o[d] += w[i * nn.k + e] / tot * u->emb[(size_t)j * nc + d];
            }
        }
        ret = lens__umap_layout_transform(nn.idx, w, m, nn.k, u->emb, u->s.n, &lp, first + c0, ids ? ids + c0 : NULL,
                                    out + c0 * nc, u->pool, &pr, err);
        lens__umap_knn_free(&nn);
        lens__umap_space_free(&q);
        if (ret) goto out;
    }
out:
    lens__umap_knn_free(&nn);
    lens__umap_space_free(&q);
    free(sigma);
    free(rho);
    free(w);
    return ret;
}

int lens_umap_transform_at(lens_umap *u, const float *x, size_t n, size_t first, float *out, lens_error *err)
{
    return transform_rows(u, x, n, first, NULL, out, err);
}

int lens_umap_transform(lens_umap *u, const float *x, size_t n, float *out, lens_error *err)
{
    return lens_umap_transform_at(u, x, n, 0, out, err);
}

/* ---- streaming run ---- */

typedef struct {
    const float *x;
    int dim;
} array_rows;

static int read_array(void *ctx, size_t first, size_t count, float *out, lens_error *err)
{
    array_rows *a = ctx;
    memcpy(out, a->x + first * (size_t)a->dim, count * (size_t)a->dim * sizeof *out);
    return 0;
}

int lens_umap_run(const float *x, size_t n, int dim, const lens_umap_opts *opts, float *out, lens_error *err)
{
    array_rows a = {x, dim};
    return lens_umap_run_rows(read_array, &a, n, dim, opts, out, err);
}

int lens_umap_run_rows(lens_umap_rows_fn rows, void *rows_ctx, size_t n, int dim, const lens_umap_opts *opts,
                       float *out, lens_error *err)
{
    lens_umap_opts o;
    int ret = resolve_opts(opts, &o, err);
    if (ret) return ret;
    if (n == 0 || dim <= 0)
        return lens_error_set(err, LENS_EINVAL, "umap: nothing to project (%zu points of dimension %d)", n, dim);
    int nc = o.n_components;
    size_t fit = o.fit_size > MIN_FIT ? o.fit_size : MIN_FIT;
    if (fit > n) fit = n;
    lens_pool *pool = NULL;
    lens_umap *u = NULL;
    float *buf = NULL, *emb = NULL;
    size_t *ids = NULL;
    unsigned char *in_fit = NULL;
    if ((ret = lens_pool_new(&pool, o.threads, err))) return ret;
    buf = malloc((fit > o.chunk ? fit : o.chunk) * (size_t)dim * sizeof *buf);
    in_fit = calloc(n, 1);
    if (!buf || !in_fit) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for %zu rows of dimension %d", fit, dim);
        goto out;
    }
    /* the sample: selection sampling, increasing indices */
    umap_rng r = {umap_stream(o.seed, 50, 0, 0)};
    size_t need = fit, got = 0;
    for (size_t i = 0; i < n && need > 0; i++) {
        if (fit == n || (double)umap_unif(&r) * (double)(n - i) < (double)need) {
            in_fit[i] = 1;
            if ((ret = rows(rows_ctx, i, 1, buf + got * (size_t)dim, err))) goto out;
            got++;
            need--;
        }
    }
    if ((ret = lens_umap_fit(&u, buf, got, dim, &o, pool, err))) goto out;
    const float *fe = lens_umap_embedding(u);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (in_fit[i]) memcpy(out + i * nc, fe + j++ * nc, (size_t)nc * sizeof *out);
    if (got == n) goto out;
    /* the rest, chunk by chunk in input order */
    size_t total = n - got, done = 0;
    if (!(emb = malloc(o.chunk * (size_t)nc * sizeof *emb)) || !(ids = malloc(o.chunk * sizeof *ids))) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory");
        goto out;
    }
    if (o.progress) o.progress(o.ctx, 0, total, "transform");
    for (size_t c0 = 0; c0 < n; c0 += o.chunk) {
        if (o.stop && *o.stop) {
            ret = lens_error_set(err, LENS_ECANCEL, "umap: stopped");
            goto out;
        }
        size_t m = n - c0 < o.chunk ? n - c0 : o.chunk;
        if ((ret = rows(rows_ctx, c0, m, buf, err))) goto out;
        /* the rows not in the sample, compacted, keep their global index
         * for their random streams */
        size_t cnt = 0;
        for (size_t i = 0; i < m; i++)
            if (!in_fit[c0 + i]) {
                if (cnt != i) memmove(buf + cnt * (size_t)dim, buf + i * (size_t)dim, (size_t)dim * sizeof *buf);
                ids[cnt++] = c0 + i;
            }
        if (cnt) {
            if ((ret = transform_rows(u, buf, cnt, 0, ids, emb, err))) goto out;
            for (size_t i = 0; i < cnt; i++) memcpy(out + ids[i] * nc, emb + i * nc, (size_t)nc * sizeof *out);
            done += cnt;
        }
        if (o.progress) o.progress(o.ctx, done, total, "transform");
    }
out:
    lens_umap_free(u);
    lens_pool_free(pool);
    free(buf);
    free(emb);
    free(ids);
    free(in_fit);
    return ret;
}
