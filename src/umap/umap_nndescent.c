/* UMAP: approximate k nearest neighbours by NN-descent (Dong, Moses & Li
 * 2011, as pynndescent runs it), initialised from the leaves of a
 * random-projection forest.
 *
 * Each iteration samples up to max_candidates "new" and "old" neighbours per
 * point (forward and reverse, by a random priority that depends only on the
 * seed, the iteration and the pair), then every point joins its new
 * candidates with each other and with its old ones: the candidate rows are
 * loaded once and all their pairwise dot products computed as one block. A
 * pair becomes an update when it beats the current worst neighbour of either
 * end; updates are applied after a round, by ranges of points in a fixed
 * order, so the graph depends on the seed only, never on threads. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "umap_internal.h"

#define JOIN_BLOCK 256     /* points per local-join task */
#define ROUND 65536        /* points per round of updates (bounds their memory) */
#define DELTA 0.001        /* stop when fewer than DELTA * n * k updates land */

typedef struct {
    int32_t p, q;
    float d;
} update;

typedef struct {
    update *u;
    size_t n, cap;
} ubuf;

typedef struct {
    const umap_space *s;
    int K, MC, leaf_size, n_trees, search_trees, iter;
    uint64_t seed;
    float *hd;
    int32_t *hi;
    uint8_t *hf;
    umap_tree *trees;
    int tree; /* current tree for the leaf join */
    int fail;
    /* candidates */
    float *np, *op;     /* priorities */
    int32_t *nc, *oc;   /* indices */
    int n_ranges;
    /* local join */
    size_t round0, round_n;
    ubuf *ub;           /* per task of the round */
    float **scratch;    /* per thread */
    const float ***ptrs;
    size_t *applied;    /* per range */
} nnd;

static int ubuf_add(ubuf *b, int32_t p, int32_t q, float d)
{
    if (lens__grow((void **)&b->u, &b->cap, b->n + 1, sizeof *b->u)) return -1;
    b->u[b->n++] = (update){p, q, d};
    return 0;
}

static void range_of(size_t n, int parts, int r, size_t *lo, size_t *hi)
{
    *lo = n * (size_t)r / (size_t)parts;
    *hi = n * (size_t)(r + 1) / (size_t)parts;
}

/* ---- forest and leaf join ---- */

static void tree_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    if (lens__umap_tree_build(c->s, c->leaf_size, umap_stream(c->seed, 1, (uint64_t)task, 0), task < c->search_trees,
                        &c->trees[task]))
        c->fail = 1;
}

#define LEAVES_PER_TASK 64

static void leaf_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    const umap_tree *t = &c->trees[c->tree];
    float *tile = c->scratch[thread];
    const float **pa = c->ptrs[thread];
    int K = c->K;
    /* leaves are visited in node order; task covers nodes [n0, n1) */
    int n0 = task * LEAVES_PER_TASK * 2, n1 = n0 + LEAVES_PER_TASK * 2;
    if (n1 > t->n_nodes) n1 = t->n_nodes;
    for (int nd = n0; nd < n1; nd++) {
        const umap_tree_node *node = &t->nodes[nd];
        if (node->hyp >= 0) continue;
        int m = node->b - node->a;
        const int32_t *ids = t->perm + node->a;
        if (m < 2) continue;
        for (int i = 0; i < m; i++) pa[i] = umap_row(c->s, (size_t)ids[i]);
        lens__umap_dots(pa, m, pa, m, c->s->dp, tile, m);
        for (int i = 0; i < m; i++)
            for (int j = i + 1; j < m; j++) {
                int32_t p = ids[i], q = ids[j];
                float d = umap_rank_dist(c->s, (size_t)p, c->s, (size_t)q, tile[i * m + j]);
                lens__umap_heap_push(c->hd + (size_t)p * K, c->hi + (size_t)p * K, c->hf + (size_t)p * K, K, d, q, 1);
                lens__umap_heap_push(c->hd + (size_t)q * K, c->hi + (size_t)q * K, c->hf + (size_t)q * K, K, d, p, 1);
            }
    }
}

/* points whose heap is not full get random neighbours */
static void fill_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    size_t n = c->s->n, lo = (size_t)task * JOIN_BLOCK, hi = lo + JOIN_BLOCK < n ? lo + JOIN_BLOCK : n;
    int K = c->K;
    for (size_t i = lo; i < hi; i++) {
        int32_t *ix = c->hi + i * K;
        if (ix[0] >= 0) continue;
        umap_rng r = {umap_stream(c->seed, 2, i, 0)};
        for (int tries = 0; tries < 4 * K && ix[0] < 0; tries++) {
            size_t j = umap_below(&r, (uint32_t)n);
            if (j == i) continue;
            float d = umap_rank_dist(c->s, i, c->s, j, lens__umap_dot(umap_row(c->s, i), umap_row(c->s, j), c->s->dp));
            lens__umap_heap_push(c->hd + i * K, ix, c->hf + i * K, K, d, (int32_t)j, 1);
        }
    }
}

/* ---- candidates ---- */

static inline float pair_priority(uint64_t seed, int iter, int32_t a, int32_t b)
{
    uint32_t lo = (uint32_t)(a < b ? a : b), hi = (uint32_t)(a < b ? b : a);
    uint64_t h = umap_mix(seed ^ umap_mix(((uint64_t)hi << 32 | lo) + (uint64_t)iter * 0x9e3779b97f4a7c15ULL));
    return (float)(h >> 40) * (1.0f / 16777216.0f);
}

static void cand_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    size_t n = c->s->n, lo, hi;
    range_of(n, c->n_ranges, task, &lo, &hi);
    int K = c->K, MC = c->MC;
    uint64_t seed = umap_stream(c->seed, 3, 0, 0);
    for (size_t t = lo; t < hi; t++)
        for (int m = 0; m < MC; m++) {
            c->np[t * MC + m] = c->op[t * MC + m] = INFINITY;
            c->nc[t * MC + m] = c->oc[t * MC + m] = -1;
        }
    for (size_t i = 0; i < n; i++) {
        const int32_t *ix = c->hi + i * K;
        const uint8_t *fl = c->hf + i * K;
        int own_i = i >= lo && i < hi;
        for (int e = 0; e < K; e++) {
            int32_t j = ix[e];
            if (j < 0) continue;
            int own_j = (size_t)j >= lo && (size_t)j < hi;
            if (!own_i && !own_j) continue;
            float pr = pair_priority(seed, c->iter, (int32_t)i, j);
            float *P = fl[e] ? c->np : c->op;
            int32_t *C = fl[e] ? c->nc : c->oc;
            if (own_i) lens__umap_heap_push(P + i * MC, C + i * MC, NULL, MC, pr, j, 0);
            if (own_j) lens__umap_heap_push(P + (size_t)j * MC, C + (size_t)j * MC, NULL, MC, pr, (int32_t)i, 0);
        }
    }
}

/* neighbours sampled as new are old from now on (a separate pass: the
 * candidate pass reads every point's flags) */
static void mark_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    size_t lo, hi;
    range_of(c->s->n, c->n_ranges, task, &lo, &hi);
    int K = c->K, MC = c->MC;
    for (size_t i = lo; i < hi; i++) {
        int32_t *ix = c->hi + i * K;
        uint8_t *fl = c->hf + i * K;
        const int32_t *nc = c->nc + i * MC;
        for (int e = 0; e < K; e++) {
            if (!fl[e]) continue;
            for (int m = 0; m < MC; m++)
                if (nc[m] == ix[e]) {
                    fl[e] = 0;
                    break;
                }
        }
    }
}

/* ---- local join ---- */

static void join_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    size_t n0 = c->round0 + (size_t)task * JOIN_BLOCK, end = c->round0 + c->round_n;
    size_t n1 = n0 + JOIN_BLOCK < end ? n0 + JOIN_BLOCK : end;
    int K = c->K, MC = c->MC, dp = c->s->dp;
    float *tile = c->scratch[thread];
    const float **pr = c->ptrs[thread];
    ubuf *ub = &c->ub[task];
    int32_t ids[512];
    for (size_t i = n0; i < n1; i++) {
        int nn = 0, no = 0;
        for (int m = 0; m < MC; m++)
            if (c->nc[i * MC + m] >= 0) ids[nn++] = c->nc[i * MC + m];
        if (!nn) continue;
        for (int m = 0; m < MC; m++)
            if (c->oc[i * MC + m] >= 0) ids[nn + no++] = c->oc[i * MC + m];
        int tot = nn + no;
        for (int t = 0; t < tot; t++) pr[t] = umap_row(c->s, (size_t)ids[t]);
        lens__umap_dots(pr, nn, pr, tot, dp, tile, tot);
        for (int a = 0; a < nn; a++) {
            int32_t p = ids[a];
            float tp = c->hd[(size_t)p * K];
            for (int b = a + 1; b < tot; b++) {
                int32_t q = ids[b];
                if (q == p) continue;
                float d = umap_rank_dist(c->s, (size_t)p, c->s, (size_t)q, tile[a * tot + b]);
                if (d < tp || d < c->hd[(size_t)q * K])
                    if (ubuf_add(ub, p, q, d)) c->fail = 1;
            }
        }
    }
}

static void apply_task(void *arg, int task, int thread)
{
    nnd *c = arg;
    size_t lo, hi, count = 0;
    range_of(c->s->n, c->n_ranges, task, &lo, &hi);
    int K = c->K;
    int n_tasks = (int)((c->round_n + JOIN_BLOCK - 1) / JOIN_BLOCK);
    for (int t = 0; t < n_tasks; t++) {
        const ubuf *b = &c->ub[t];
        for (size_t e = 0; e < b->n; e++) {
            const update *u = &b->u[e];
            if ((size_t)u->p >= lo && (size_t)u->p < hi)
                count += lens__umap_heap_push(c->hd + (size_t)u->p * K, c->hi + (size_t)u->p * K, c->hf + (size_t)u->p * K, K,
                                        u->d, u->q, 1);
            if ((size_t)u->q >= lo && (size_t)u->q < hi)
                count += lens__umap_heap_push(c->hd + (size_t)u->q * K, c->hi + (size_t)u->q * K, c->hf + (size_t)u->q * K, K,
                                        u->d, u->p, 1);
        }
    }
    c->applied[task] += count;
}

int lens__umap_knn_descent(const umap_space *s, int k, uint64_t seed, lens_pool *pool, const umap_progress *pr,
                     umap_knn *out, umap_tree *forest, int search_trees, lens_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = s->n;
    int threads = pool ? lens_pool_size(pool) : 1;
    nnd c = {0};
    c.s = s;
    c.K = k;
    c.MC = k < 60 ? k : 60;
    if (c.MC < 8) c.MC = 8;
    c.leaf_size = k > 10 ? k : 10;
    c.seed = seed;
    c.n_trees = 5 + (int)lround(pow((double)n, 0.25));
    if (c.n_trees > 12) c.n_trees = 12;
    c.search_trees = search_trees < c.n_trees ? search_trees : c.n_trees;
    c.n_ranges = threads;
    int ret = LENS_OK;
    int max_set = 2 * c.MC > c.leaf_size ? 2 * c.MC : c.leaf_size;
    c.hd = malloc(n * (size_t)k * sizeof *c.hd);
    c.hi = malloc(n * (size_t)k * sizeof *c.hi);
    c.hf = malloc(n * (size_t)k);
    c.trees = calloc((size_t)c.n_trees, sizeof *c.trees);
    c.np = malloc(n * (size_t)c.MC * sizeof *c.np);
    c.op = malloc(n * (size_t)c.MC * sizeof *c.op);
    c.nc = malloc(n * (size_t)c.MC * sizeof *c.nc);
    c.oc = malloc(n * (size_t)c.MC * sizeof *c.oc);
    int round_tasks = (ROUND + JOIN_BLOCK - 1) / JOIN_BLOCK;
    c.ub = calloc((size_t)round_tasks, sizeof *c.ub);
    c.scratch = calloc((size_t)threads, sizeof *c.scratch);
    c.ptrs = calloc((size_t)threads, sizeof *c.ptrs);
    c.applied = calloc((size_t)threads, sizeof *c.applied);
    if (!c.hd || !c.hi || !c.hf || !c.trees || !c.np || !c.op || !c.nc || !c.oc || !c.ub || !c.scratch || !c.ptrs ||
        !c.applied) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for NN-descent on %zu points", n);
        goto out;
    }
    for (int t = 0; t < threads; t++) {
        c.scratch[t] = malloc((size_t)max_set * max_set * sizeof(float));
        c.ptrs[t] = malloc((size_t)max_set * sizeof(float *));
        if (!c.scratch[t] || !c.ptrs[t]) {
            ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for NN-descent");
            goto out;
        }
    }
    for (size_t i = 0; i < n * (size_t)k; i++) {
        c.hd[i] = INFINITY;
        c.hi[i] = -1;
        c.hf[i] = 0;
    }
    /* forest, then each tree's leaves joined (leaves of one tree are
     * disjoint, so they run in parallel; trees one after another) */
    lens_pool_run(pool, c.n_trees, tree_task, &c);
    if (c.fail) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the random-projection forest");
        goto out;
    }
    for (c.tree = 0; c.tree < c.n_trees; c.tree++)
        lens_pool_run(pool, (c.trees[c.tree].n_nodes + 2 * LEAVES_PER_TASK - 1) / (2 * LEAVES_PER_TASK), leaf_task, &c);
    lens_pool_run(pool, (int)((n + JOIN_BLOCK - 1) / JOIN_BLOCK), fill_task, &c);

    int n_iters = (int)lround(log2((double)n));
    if (n_iters < 5) n_iters = 5;
    for (c.iter = 0; c.iter < n_iters; c.iter++) {
        if (umap_stopped(pr)) {
            ret = lens_error_set(err, LENS_ECANCEL, "umap: stopped");
            goto out;
        }
        if (pr->fn) pr->fn(pr->ctx, (size_t)c.iter, (size_t)n_iters, "knn");
        lens_pool_run(pool, c.n_ranges, cand_task, &c);
        lens_pool_run(pool, c.n_ranges, mark_task, &c);
        memset(c.applied, 0, (size_t)threads * sizeof *c.applied);
        for (c.round0 = 0; c.round0 < n; c.round0 += ROUND) {
            c.round_n = n - c.round0 < ROUND ? n - c.round0 : ROUND;
            int tasks = (int)((c.round_n + JOIN_BLOCK - 1) / JOIN_BLOCK);
            for (int t = 0; t < tasks; t++) c.ub[t].n = 0;
            lens_pool_run(pool, tasks, join_task, &c);
            if (c.fail) {
                ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for NN-descent updates");
                goto out;
            }
            lens_pool_run(pool, c.n_ranges, apply_task, &c);
        }
        size_t applied = 0;
        for (int t = 0; t < threads; t++) applied += c.applied[t];
        if ((double)applied <= DELTA * (double)n * k) break;
    }
    if (pr->fn) pr->fn(pr->ctx, (size_t)n_iters, (size_t)n_iters, "knn");

    out->n = n;
    out->k = k;
    out->idx = malloc(n * (size_t)k * sizeof *out->idx);
    out->dist = malloc(n * (size_t)k * sizeof *out->dist);
    if (!out->idx || !out->dist) {
        ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the kNN graph");
        goto out;
    }
    for (size_t i = 0; i < n; i++) {
        float *d = c.hd + i * k;
        int32_t *ix = c.hi + i * k;
        lens__umap_heap_sort(d, ix, k);
        out->idx[i * k] = (int32_t)i;
        out->dist[i * k] = 0;
        for (int e = 1; e < k; e++) {
            out->idx[i * k + e] = ix[e - 1];
            out->dist[i * k + e] = ix[e - 1] < 0 ? INFINITY : lens__umap_final_dist(s->metric, d[e - 1]);
        }
    }
    if (forest)
        for (int t = 0; t < c.search_trees; t++) {
            forest[t] = c.trees[t];
            memset(&c.trees[t], 0, sizeof c.trees[t]);
        }
out:
    if (ret) lens__umap_knn_free(out);
    if (c.trees)
        for (int t = 0; t < c.n_trees; t++) lens__umap_tree_free(&c.trees[t]);
    free(c.trees);
    if (c.scratch)
        for (int t = 0; t < threads; t++) free(c.scratch[t]);
    if (c.ptrs)
        for (int t = 0; t < threads; t++) free((void *)c.ptrs[t]);
    if (c.ub)
        for (int t = 0; t < round_tasks; t++) free(c.ub[t].u);
    free(c.scratch); free(c.ptrs); free(c.ub); free(c.applied);
    free(c.hd); free(c.hi); free(c.hf); free(c.np); free(c.op); free(c.nc); free(c.oc);
    return ret;
}
