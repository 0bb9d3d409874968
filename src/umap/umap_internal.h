/* UMAP internals shared by src/analysis/umap*.c (not installed). */
#ifndef LENS_UMAP_INTERNAL_H
#define LENS_UMAP_INTERNAL_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/umap.h"

/* ---- random streams (splitmix64): one per fixed block of work ---------- */

static inline uint64_t umap_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* A stream id from the seed and up to three coordinates (phase, epoch, block). */
static inline uint64_t umap_stream(uint64_t seed, uint64_t a, uint64_t b, uint64_t c)
{
    uint64_t h = umap_mix(seed + 0x9e3779b97f4a7c15ULL);
    h = umap_mix(h ^ (a + 0x632be59bd9b4e019ULL));
    h = umap_mix(h ^ (b + 0x85157af5ULL));
    return umap_mix(h ^ c);
}

typedef struct umap_rng {
    uint64_t s;
} umap_rng;

static inline uint64_t umap_next(umap_rng *r)
{
    r->s += 0x9e3779b97f4a7c15ULL;
    return umap_mix(r->s);
}

/* Uniform in [0, n). */
static inline uint32_t umap_below(umap_rng *r, uint32_t n)
{
    return (uint32_t)(((umap_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* Uniform in [0, 1). */
static inline float umap_unif(umap_rng *r)
{
    return (float)(umap_next(r) >> 40) * (1.0f / 16777216.0f);
}

/* ---- points: rows padded to a multiple of 16 floats, 64-byte aligned ---- */

typedef struct umap_space {
    float *x;             /* n rows, dp apart; cosine: unit length (or zero) */
    size_t n;
    int dim, dp, metric;
    float *sqn;           /* squared norms (euclidean) */
    unsigned char *zero;  /* all-zero rows (cosine) */
} umap_space;

int lens__umap_space_alloc(umap_space *s, size_t n, int dim, int metric, lens_error *err);
/* Copies row i (dim floats) in, normalising it for cosine. */
void lens__umap_space_set(umap_space *s, size_t i, const float *row);
void lens__umap_space_free(umap_space *s);
static inline const float *umap_row(const umap_space *s, size_t i) { return s->x + i * (size_t)s->dp; }

/* Ranking distance from a dot product: squared euclidean, or 1 - cos (two
 * zero rows are at 0, a zero row is at 1 from any other). */
static inline float umap_rank_dist(const umap_space *a, size_t i, const umap_space *b, size_t j, float dot)
{
    if (a->metric == LENS_UMAP_EUCLIDEAN) {
        float d = a->sqn[i] + b->sqn[j] - 2.0f * dot;
        return d > 0 ? d : 0;
    }
    if (a->zero[i] && b->zero[j]) return 0;
    float d = 1.0f - dot;
    return d > 0 ? d : 0;
}
/* The metric's distance from a ranking distance. */
float lens__umap_final_dist(int metric, float rank);

/* dot kernels: out[i * ldo + j] = <a[i], b[j]> over dp floats (dp % 16 == 0) */
void lens__umap_dots(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo);
float lens__umap_dot(const float *a, const float *b, int dp);
/* out[j] = <a, b[j]> for j < nb: one row against many, 4 at a time */
void lens__umap_dots1(const float *a, const float *const *b, int nb, int dp, float *out);
void lens__umap_dots1_generic(const float *a, const float *const *b, int nb, int dp, float *out);
void lens__umap_dots1_avx512(const float *a, const float *const *b, int nb, int dp, float *out);
/* generic and AVX-512 versions (the latter only after a CPUID check) */
void lens__umap_dots_generic(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo);
float lens__umap_dot_generic(const float *a, const float *b, int dp);
void lens__umap_dots_avx512(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo);
float lens__umap_dot_avx512(const float *a, const float *b, int dp);

/* ---- k nearest neighbours ------------------------------------------------ */

/* n rows of k neighbours, nearest first; for a fit, the point itself first at
 * distance 0. dist holds the metric's distance (not the ranking one). */
typedef struct umap_knn {
    size_t n;
    int k;
    int32_t *idx;
    float *dist;
} umap_knn;

void lens__umap_knn_free(umap_knn *g);

/* A max-heap of k (distance, index, new-flag) entries per point. */
int lens__umap_heap_push(float *d, int32_t *ix, uint8_t *fl, int k, float dist, int32_t j, uint8_t flag);
/* Sorts one heap ascending in place. */
void lens__umap_heap_sort(float *d, int32_t *ix, int k);

/* Exact kNN of every point of s among s (blocked dot products). */
int lens__umap_knn_exact(const umap_space *s, int k, lens_pool *pool, umap_knn *out, lens_error *err);
/* Exact kNN of q's rows among s's rows (no self). */
int lens__umap_knn_exact_query(const umap_space *s, const umap_space *q, int k, lens_pool *pool, umap_knn *out,
                         lens_error *err);

/* Random-projection trees: leaves of at most leaf_size points. */
typedef struct umap_tree_node {
    int32_t a, b;   /* internal: children; leaf: [a, b) in perm */
    int32_t hyp;    /* internal: hyperplane index; leaf: -1 */
} umap_tree_node;

typedef struct umap_tree {
    umap_tree_node *nodes;
    int n_nodes;
    int32_t *perm;  /* point indices, grouped by leaf */
    float *hyp;     /* n_hyp * dp (NULL when the tree was built for its leaves only) */
    float *off;
    int n_hyp;
} umap_tree;

int lens__umap_tree_build(const umap_space *s, int leaf_size, uint64_t seed, int keep_hyperplanes, umap_tree *t);
void lens__umap_tree_free(umap_tree *t);
/* The leaf a query row falls in: *start, *end index t->perm. */
void lens__umap_tree_leaf(const umap_tree *t, const float *row, int dp, int32_t *start, int32_t *end);

typedef struct umap_progress {
    lens_umap_progress_fn fn;
    void *ctx;
    atomic_int *stop;
} umap_progress;

static inline int umap_stopped(const umap_progress *p) { return p->stop && *p->stop; }

/* NN-descent initialised by an RP forest; keeps the first search_trees trees
 * (with hyperplanes) in *forest for later queries. */
int lens__umap_knn_descent(const umap_space *s, int k, uint64_t seed, lens_pool *pool, const umap_progress *pr,
                     umap_knn *out, umap_tree *forest, int search_trees, lens_error *err);

/* Graph search of new points among the fitted ones. */
typedef struct umap_index {
    const umap_space *s;
    const umap_tree *trees;
    int n_trees;
    int64_t *row;   /* CSR search graph (kNN plus reverse edges) */
    int32_t *col;
} umap_index;

int lens__umap_index_build(umap_index *ix, const umap_space *s, const umap_knn *g, const umap_tree *trees, int n_trees,
                     lens_error *err);
void lens__umap_index_free(umap_index *ix);
int lens__umap_index_query(const umap_index *ix, const umap_space *q, int k, float epsilon, lens_pool *pool,
                     umap_knn *out, lens_error *err);

/* ---- fuzzy simplicial set ----------------------------------------------- */

typedef struct umap_graph {
    size_t n;
    int64_t *row;   /* CSR, n + 1 */
    int32_t *col;
    float *w;
} umap_graph;

void lens__umap_graph_free(umap_graph *g);
/* sigma and rho of each point (skipping column 0 like the reference); the
 * floor of sigma uses the mean of all rows' distances when rho is 0, or the
 * row's own mean when local_connectivity is 0 (transform). */
static inline float umap_membership(float d, float rho, float sigma)
{
    return (d - rho <= 0 || sigma == 0) ? 1.0f : expf(-((d - rho) / sigma));
}
void lens__umap_smooth_knn(const float *dist, size_t n, int k, float local_connectivity, float *sigma, float *rho);
/* Membership strengths, fuzzy union (set_op_mix_ratio 1), symmetric CSR
 * with sorted columns and no zero weights. */
int lens__umap_fuzzy_graph(const umap_knn *g, umap_graph *out, lens_error *err);

/* ---- initialisation ------------------------------------------------------ */

/* Spectral layout of each connected component placed by a layout of the
 * components' centroids; coordinates scaled to [0, 10]. Returns LENS_OK, or
 * an error when the eigen-solver failed (the caller falls back to random). */
int lens__umap_spectral_init(const umap_graph *g, const umap_space *s, int dim, uint64_t seed, lens_pool *pool,
                       float *out, lens_error *err);
void lens__umap_random_init(size_t n, int dim, uint64_t seed, float *out);

/* ---- layout -------------------------------------------------------------- */

typedef struct umap_layout_params {
    float a, b;
    float gamma;        /* repulsion strength (1) */
    float alpha;        /* initial learning rate (1) */
    int negative_rate;  /* 5 */
    int n_epochs;
    int dim;
    uint64_t seed;
} umap_layout_params;

/* SGD over the symmetric graph; emb[n * dim] is updated in place. */
int lens__umap_layout_fit(const umap_graph *g, const umap_layout_params *p, float *emb, lens_pool *pool,
                    const umap_progress *pr, lens_error *err);
/* SGD of m new points (their edges: k fitted neighbours and weights each,
 * index -1 for none) against the fixed fitted embedding fit[n_fit * dim].
 * Point i's random stream is numbered ids[i], or first + i without ids. */
int lens__umap_layout_transform(const int32_t *nbr, const float *w, size_t m, int k, const float *fit, size_t n_fit,
                          const umap_layout_params *p, size_t first, const size_t *ids, float *emb, lens_pool *pool,
                          const umap_progress *pr, lens_error *err);

#endif
