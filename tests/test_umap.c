/* UMAP: a and b, exact kNN against brute force, NN-descent recall,
 * determinism, planted clusters kept apart, streaming transform, cancel. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "umap/umap_internal.h"
#include "lens/umap.h"
#include "test.h"

static uint64_t mixr(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return ((mixr(*s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t *s)
{
    return sqrt(-2 * log(unif(s))) * cos(6.283185307179586 * unif(s));
}

/* n points in c Gaussian blobs of dimension dim; labels */
static float *blobs(size_t n, int dim, int c, double spread, uint64_t seed, int *label)
{
    float *x = malloc(n * dim * sizeof *x);
    float *cen = malloc((size_t)c * dim * sizeof *cen);
    uint64_t s = seed;
    for (int i = 0; i < c * dim; i++) cen[i] = (float)(gauss(&s) * 3.0);
    for (size_t i = 0; i < n; i++) {
        int l = (int)(i % (size_t)c);
        label[i] = l;
        for (int d = 0; d < dim; d++) x[i * dim + d] = cen[l * dim + d] + (float)(spread * gauss(&s));
    }
    free(cen);
    return x;
}

static umap_space make_space(const float *x, size_t n, int dim, int metric)
{
    umap_space s;
    lens_error err;
    if (lens__umap_space_alloc(&s, n, dim, metric, &err)) abort();
    for (size_t i = 0; i < n; i++) lens__umap_space_set(&s, i, x + i * dim);
    return s;
}

static double ref_dist(const float *a, const float *b, int dim, int metric)
{
    double s = 0, na = 0, nb = 0;
    for (int d = 0; d < dim; d++) {
        if (metric == LENS_UMAP_EUCLIDEAN) s += (double)(a[d] - b[d]) * (a[d] - b[d]);
        else {
            s += (double)a[d] * b[d];
            na += (double)a[d] * a[d];
            nb += (double)b[d] * b[d];
        }
    }
    return metric == LENS_UMAP_EUCLIDEAN ? sqrt(s) : 1 - s / sqrt(na * nb);
}

/* fraction of points (every stride-th) whose k nearest neighbours in emb
 * mostly share its label */
static double purity_every(const float *emb, const int *label, size_t n, int nc, int k, size_t stride)
{
    size_t good = 0, seen = 0;
    for (size_t i = 0; i < n; i += stride) {
        seen++;
        int same = 0;
        double bd[32];
        int bl[32];
        int m = 0;
        for (size_t j = 0; j < n; j++) {
            if (j == i) continue;
            double d = 0;
            for (int c = 0; c < nc; c++) d += (double)(emb[i * nc + c] - emb[j * nc + c]) * (emb[i * nc + c] - emb[j * nc + c]);
            if (m < k || d < bd[m - 1]) {
                int p = m < k ? m++ : k - 1;
                while (p > 0 && bd[p - 1] > d) {
                    bd[p] = bd[p - 1];
                    bl[p] = bl[p - 1];
                    p--;
                }
                bd[p] = d;
                bl[p] = label[j];
            }
        }
        for (int t = 0; t < m; t++) same += bl[t] == label[i];
        good += 2 * same > m;
    }
    return (double)good / seen;
}

static double purity(const float *emb, const int *label, size_t n, int nc, int k)
{
    return purity_every(emb, label, n, nc, k, 1);
}

static void test_ab(void)
{
    float a, b;
    lens_error err = {0};
    CHECK(lens_umap_find_ab(0.1f, 1.0f, &a, &b, &err) == LENS_OK, "%s", err.msg);
    CHECK(fabsf(a - 1.577f) < 0.005f && fabsf(b - 0.895f) < 0.005f, "a=%g b=%g (reference 1.577, 0.895)", a, b);
    CHECK(lens_umap_find_ab(0.5f, 1.0f, &a, &b, &err) == LENS_OK, "%s", err.msg);
    /* umap-learn's find_ab_params(1.0, 0.5): a=0.5830, b=1.3341 */
    CHECK(fabsf(a - 0.583f) < 0.01f && fabsf(b - 1.334f) < 0.01f, "a=%g b=%g for min_dist 0.5", a, b);
    CHECK(lens_umap_find_ab(1.0f, -1.0f, &a, &b, &err) == LENS_EINVAL, "bad spread accepted");
}

static void test_exact(lens_pool *pool, int metric)
{
    size_t n = 600;
    int dim = 37, k = 12, *label = malloc(n * sizeof *label);
    float *x = blobs(n, dim, 5, 1.0, 7 + metric, label);
    umap_space s = make_space(x, n, dim, metric);
    umap_knn g;
    lens_error err = {0};
    CHECK(lens__umap_knn_exact(&s, k, pool, &g, &err) == LENS_OK, "%s", err.msg);
    size_t bad_idx = 0, bad_dist = 0;
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < n; j++) d[j] = j == i ? -1 : ref_dist(x + i * dim, x + j * dim, dim, metric);
        CHECK(g.idx[i * k] == (int32_t)i && g.dist[i * k] == 0, "point %zu is not its own first neighbour", i);
        for (int e = 1; e < k; e++) {
            int32_t j = g.idx[i * k + e];
            /* the e-th neighbour's true distance, and no closer point was left out */
            double dj = d[j];
            if (fabs(dj - g.dist[i * k + e]) > 1e-3 * (1 + dj)) bad_dist++;
            size_t closer = 0;
            for (size_t t = 0; t < n; t++)
                if (t != i && d[t] < dj - 1e-4 * (1 + dj)) closer++;
            if (closer > (size_t)(e - 1)) bad_idx++;
            if (e > 1 && g.dist[i * k + e] < g.dist[i * k + e - 1]) bad_idx++;
        }
    }
    CHECK(bad_idx == 0 && bad_dist == 0, "%s: %zu wrong neighbours, %zu wrong distances",
          metric ? "cosine" : "euclidean", bad_idx, bad_dist);
    /* queries: the exact query of the same points finds them at distance 0 */
    umap_knn q;
    CHECK(lens__umap_knn_exact_query(&s, &s, 3, pool, &q, &err) == LENS_OK, "%s", err.msg);
    size_t self = 0;
    for (size_t i = 0; i < n; i++) self += q.idx[i * 3] == (int32_t)i || q.dist[i * 3] < 1e-3f;
    CHECK(self == n, "query of the data itself: %zu/%zu found themselves", self, n);
    lens__umap_knn_free(&q);
    lens__umap_knn_free(&g);
    lens__umap_space_free(&s);
    free(d);
    free(x);
    free(label);
}

static void test_descent(lens_pool *pool, int metric)
{
    size_t n = 3000;
    int dim = 24, k = 15, *label = malloc(n * sizeof *label);
    float *x = blobs(n, dim, 8, 1.5, 11 + metric, label);
    umap_space s = make_space(x, n, dim, metric);
    umap_knn ex, nd;
    lens_error err = {0};
    umap_progress pr = {0};
    umap_tree trees[2];
    CHECK(lens__umap_knn_exact(&s, k, pool, &ex, &err) == LENS_OK, "%s", err.msg);
    CHECK(lens__umap_knn_descent(&s, k, 5, pool, &pr, &nd, trees, 2, &err) == LENS_OK, "%s", err.msg);
    size_t hit = 0;
    for (size_t i = 0; i < n; i++)
        for (int e = 1; e < k; e++)
            for (int f = 1; f < k; f++) hit += nd.idx[i * k + e] == ex.idx[i * k + f];
    double recall = (double)hit / (n * (k - 1));
    CHECK(recall >= 0.9, "NN-descent recall %.3f < 0.9 (%s)", recall, metric ? "cosine" : "euclidean");
    /* graph search of new points from the same blobs against exact */
    umap_index ix;
    CHECK(lens__umap_index_build(&ix, &s, &nd, trees, 2, &err) == LENS_OK, "%s", err.msg);
    size_t m = 500;
    int *ql = malloc(m * sizeof *ql);
    float *qx = blobs(m, dim, 8, 1.5, 11 + metric, ql); /* same centres, new draws */
    for (size_t i = 0; i < m * dim; i++) qx[i] += 0.01f;
    umap_space q = make_space(qx, m, dim, metric);
    umap_knn qe, qs;
    CHECK(lens__umap_knn_exact_query(&s, &q, 10, pool, &qe, &err) == LENS_OK, "%s", err.msg);
    CHECK(lens__umap_index_query(&ix, &q, 10, 0.1f, pool, &qs, &err) == LENS_OK, "%s", err.msg);
    hit = 0;
    for (size_t i = 0; i < m; i++)
        for (int e = 0; e < 10; e++)
            for (int f = 0; f < 10; f++) hit += qs.idx[i * 10 + e] == qe.idx[i * 10 + f];
    recall = (double)hit / (m * 10);
    CHECK(recall >= 0.9, "graph search recall %.3f < 0.9", recall);
    lens__umap_knn_free(&qe);
    lens__umap_knn_free(&qs);
    lens__umap_space_free(&q);
    lens__umap_index_free(&ix);
    lens__umap_tree_free(&trees[0]);
    lens__umap_tree_free(&trees[1]);
    lens__umap_knn_free(&ex);
    lens__umap_knn_free(&nd);
    lens__umap_space_free(&s);
    free(qx);
    free(ql);
    free(x);
    free(label);
}

typedef struct {
    atomic_int *stop;
    int calls;
} stopper;

static void stop_in_layout(void *ctx, size_t done, size_t total, const char *phase)
{
    stopper *s = ctx;
    s->calls++;
    if (!strcmp(phase, "layout") && done >= 3) *s->stop = 1;
}

static void test_fit(lens_pool *pool1, lens_pool *pool2)
{
    size_t n = 1200;
    int dim = 20, *label = malloc(n * sizeof *label);
    float *x = blobs(n, dim, 6, 1.0, 3, label);
    lens_umap_opts o;
    lens_umap_opts_default(&o);
    o.n_epochs = 120;
    o.seed = 9;
    lens_error err = {0};
    lens_umap *u1 = NULL, *u2 = NULL, *u3 = NULL;
    CHECK(lens_umap_fit(&u1, x, n, dim, &o, pool2, &err) == LENS_OK, "%s", err.msg);
    CHECK(lens_umap_fit(&u2, x, n, dim, &o, pool2, &err) == LENS_OK, "%s", err.msg);
    CHECK(lens_umap_fit(&u3, x, n, dim, &o, pool1, &err) == LENS_OK, "%s", err.msg);
    if (!u1 || !u2 || !u3) return;
    const float *e1 = lens_umap_embedding(u1), *e2 = lens_umap_embedding(u2), *e3 = lens_umap_embedding(u3);
    CHECK(memcmp(e1, e2, n * 2 * sizeof *e1) == 0, "same seed and threads: different embeddings");
    CHECK(memcmp(e1, e3, n * 2 * sizeof *e1) == 0, "1 and 2 threads: different embeddings");
    int finite = 1;
    for (size_t i = 0; i < n * 2; i++) finite &= isfinite(e1[i]);
    CHECK(finite, "non-finite coordinates");
    double pu = purity(e1, label, n, 2, 10);
    CHECK(pu >= 0.98, "planted clusters: kNN label purity %.3f < 0.98 in the embedding", pu);
    /* clusters apart: mean distance to the own centroid well below the
     * distance between centroids */
    double cen[6][2] = {{0}}, cnt[6] = {0}, within = 0, between = INFINITY;
    for (size_t i = 0; i < n; i++) {
        cen[label[i]][0] += e1[2 * i];
        cen[label[i]][1] += e1[2 * i + 1];
        cnt[label[i]]++;
    }
    for (int c = 0; c < 6; c++) cen[c][0] /= cnt[c], cen[c][1] /= cnt[c];
    for (size_t i = 0; i < n; i++) within += hypot(e1[2 * i] - cen[label[i]][0], e1[2 * i + 1] - cen[label[i]][1]) / n;
    for (int c = 0; c < 6; c++)
        for (int d = c + 1; d < 6; d++) between = fmin(between, hypot(cen[c][0] - cen[d][0], cen[c][1] - cen[d][1]));
    CHECK(between > 3 * within, "clusters not apart: nearest centroids %.2f apart, mean spread %.2f", between, within);

    /* transform: new draws from the blobs land by their own cluster */
    size_t m = 600;
    int *ml = malloc(m * sizeof *ml);
    float *mx = blobs(m, dim, 6, 1.0, 3, ml); /* same centres (same seed), same draws: jitter them */
    uint64_t s = 99;
    for (size_t i = 0; i < m * dim; i++) mx[i] += (float)(0.3 * gauss(&s));
    float *out = malloc(m * 2 * sizeof *out), *out2 = malloc(m * 2 * sizeof *out2);
    CHECK(lens_umap_transform(u1, mx, m, out, &err) == LENS_OK, "%s", err.msg);
    size_t near_own = 0;
    for (size_t i = 0; i < m; i++) {
        int best = -1;
        double bd = INFINITY;
        for (int c = 0; c < 6; c++) {
            double d = hypot(out[2 * i] - cen[c][0], out[2 * i + 1] - cen[c][1]);
            if (d < bd) bd = d, best = c;
        }
        near_own += best == ml[i];
    }
    CHECK(near_own >= m * 98 / 100, "transform: %zu/%zu new points nearest their own cluster", near_own, m);
    /* chunking does not change a transform: the rows numbered the same */
    CHECK(lens_umap_transform_at(u1, mx, 250, 0, out2, &err) == LENS_OK, "%s", err.msg);
    CHECK(lens_umap_transform_at(u1, mx + 250 * dim, m - 250, 250, out2 + 500, &err) == LENS_OK, "%s", err.msg);
    CHECK(memcmp(out, out2, m * 2 * sizeof *out) == 0, "transform in two calls differs from one");
    lens_umap_free(u1);
    lens_umap_free(u2);
    lens_umap_free(u3);

    /* stop flag: set before, and during the layout */
    atomic_int stop = 1;
    o.stop = &stop;
    lens_umap *u = NULL;
    CHECK(lens_umap_fit(&u, x, n, dim, &o, pool2, &err) == LENS_ECANCEL && !u, "stop before: %d", err.code);
    stop = 0;
    stopper st = {&stop, 0};
    o.progress = stop_in_layout;
    o.ctx = &st;
    CHECK(lens_umap_fit(&u, x, n, dim, &o, pool2, &err) == LENS_ECANCEL && !u, "stop in layout: %d", err.code);
    CHECK(st.calls > 3, "progress called %d times", st.calls);
    o.progress = NULL;
    stop = 1;
    o.fit_size = 1000;
    float *big = malloc(n * 2 * sizeof *big);
    CHECK(lens_umap_run(x, n, dim, &o, big, &err) == LENS_ECANCEL, "run: stop ignored");
    free(big);
    o.stop = NULL;
    o.n_neighbors = 1;
    CHECK(lens_umap_fit(&u, x, n, dim, &o, pool2, &err) == LENS_EINVAL, "n_neighbors 1 accepted");
    free(out);
    free(out2);
    free(mx);
    free(ml);
    free(x);
    free(label);
}

typedef struct {
    size_t last_done, total;
    int calls;
} tracker;

static void track(void *ctx, size_t done, size_t total, const char *phase)
{
    tracker *t = ctx;
    if (strcmp(phase, "transform")) return;
    t->last_done = done;
    t->total = total;
    t->calls++;
}

/* fit a sample, stream the rest: clusters kept, chunking irrelevant */
static void test_run(void)
{
    size_t n = 6000; /* a fit above 4,096 points: NN-descent and graph search */
    int dim = 16, *label = malloc(n * sizeof *label);
    float *x = blobs(n, dim, 5, 1.0, 21, label);
    lens_umap_opts o;
    lens_umap_opts_default(&o);
    o.n_epochs = 80;
    o.fit_size = 4500;
    o.chunk = 700;
    o.threads = 2;
    o.metric = LENS_UMAP_COSINE;
    tracker t = {0};
    o.progress = track;
    o.ctx = &t;
    lens_error err = {0};
    float *a = malloc(n * 2 * sizeof *a), *b = malloc(n * 2 * sizeof *b);
    CHECK(lens_umap_run(x, n, dim, &o, a, &err) == LENS_OK, "%s", err.msg);
    CHECK(t.total == n - 4500 && t.last_done == t.total && t.calls >= 6, "progress %zu/%zu in %d calls", t.last_done,
          t.total, t.calls);
    double pu = purity_every(a, label, n, 2, 10, 5);
    CHECK(pu >= 0.97, "streamed run: kNN label purity %.3f < 0.97", pu);
    o.chunk = 1500;
    o.threads = 1;
    CHECK(lens_umap_run(x, n, dim, &o, b, &err) == LENS_OK, "%s", err.msg);
    CHECK(memcmp(a, b, n * 2 * sizeof *a) == 0, "run: chunk size or threads changed the result");
    /* many neighbours (more than 32 edges a point) */
    o.n_components = 2;
    o.n_neighbors = 40;
    o.fit_size = 1000;
    o.n_epochs = 30;
    float *many = malloc(2000 * 2 * sizeof *many);
    CHECK(lens_umap_run(x, 2000, dim, &o, many, &err) == LENS_OK, "%s", err.msg);
    pu = purity_every(many, label, 2000, 2, 10, 4);
    CHECK(pu >= 0.95, "40 neighbours: kNN label purity %.3f", pu);
    free(many);
    o.n_neighbors = 15;
    /* 3-D, small input fitted whole */
    o.n_components = 3;
    float *c = malloc(300 * 3 * sizeof *c);
    CHECK(lens_umap_run(x, 300, dim, &o, c, &err) == LENS_OK, "%s", err.msg);
    CHECK(purity(c, label, 300, 3, 5) >= 0.95, "3-D purity low");
    free(c);
    free(a);
    free(b);
    free(x);
    free(label);
}

int main(void)
{
    lens_pool *p1, *p2;
    lens_error err;
    if (lens_pool_new(&p1, 1, &err) || lens_pool_new(&p2, 2, &err)) return 1;
    test_ab();
    test_exact(p2, LENS_UMAP_EUCLIDEAN);
    test_exact(p2, LENS_UMAP_COSINE);
    test_descent(p2, LENS_UMAP_EUCLIDEAN);
    test_descent(p2, LENS_UMAP_COSINE);
    test_fit(p1, p2);
    test_run();
    lens_pool_free(p1);
    lens_pool_free(p2);
    TEST_DONE();
}
