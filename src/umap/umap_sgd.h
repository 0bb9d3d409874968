/* UMAP SGD internals (internal): the fit and transform contexts, the
 * random streams and the epochs-per-sample schedule shared by the three
 * kernels (generic umap_layout.c, umap_layout_avx2.c, umap_layout_avx512.c),
 * and below, the row loops that the generic and AVX2 kernels instantiate
 * around their edge functions (the AVX-512 kernel pairs rows its own way).
 *
 * An edge sampled in an epoch gives one attraction and negative_rate
 * repulsions from random points. They are computed from the same position,
 * 8 at a time in the lanes of a vector (slot 0: the attraction), and their
 * sum is applied (umap-learn applies each before computing the next; the
 * long chain of dependent pow()s was most of the time). The generic and
 * AVX2 kernels draw the same random numbers (8 xorshift32 lanes) and use
 * the same pow polynomial, so they agree to rounding; the AVX-512 one draws
 * a second stream for the row it pairs with each. */
#ifndef LENS_UMAP_SGD_H
#define LENS_UMAP_SGD_H

#include <math.h>

#include "umap_internal.h"

#define SGD_CLIP 4.0f
#define SGD_ROWS 4 /* transform: points whose schedules are set up together */

typedef struct {
    float a, b, att, rep; /* att: -2 a b (x 2 in a fit); rep: 2 gamma b */
} sgd_k;

typedef struct {
    const umap_graph *g;
    const umap_layout_params *p;
    const float *eps;     /* epochs per sample, per edge (0: pruned) */
    float *next, *next_neg;
    float *y, *yp;        /* current, previous epoch */
    int epoch;
    float alpha;
} umap_fit_ctx;

typedef struct {
    const int32_t *nbr;
    const float *w;
    size_t m, n_fit, first;
    const size_t *ids;
    int k;
    const float *fit;
    const umap_layout_params *p;
    float *emb;
} umap_tr_ctx;

static inline uint32_t sgd_xorshift(uint32_t x)
{
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return x;
}

static inline void sgd_seed(uint32_t s[8], uint64_t stream)
{
    umap_rng r = {stream};
    for (int l = 0; l < 8; l++)
        do s[l] = (uint32_t)(umap_next(&r) >> 32);
        while (s[l] == 0);
}

/* One due edge x on the epochs-per-sample schedule: moves its next sample
 * on and returns how many negative samples it takes now. */
static inline __attribute__((always_inline)) int sgd_take(const float *eps, float *next, float *next_neg, int64_t x,
                                                          float ep, float neg_rate)
{
    next[x] += eps[x];
    float epn = eps[x] / neg_rate;
    int n_neg = (int)((ep - next_neg[x]) / epn);
    if (n_neg < 0) n_neg = 0;
    next_neg[x] += (float)n_neg * epn;
    return n_neg;
}

/* Transform point i: its random stream and its edges' schedule (w_max is 1,
 * a membership's largest value, so it does not depend on the other points
 * of its chunk). */
static inline __attribute__((always_inline)) void sgd_tr_start(const umap_tr_ctx *c, size_t i, uint32_t rng[8],
                                                               float *eps, float *next, float *next_neg)
{
    const umap_layout_params *p = c->p;
    int kn = c->k, ne = p->n_epochs;
    float neg_rate = (float)p->negative_rate;
    const int32_t *nb = c->nbr + i * kn;
    const float *w = c->w + i * kn;
    sgd_seed(rng, umap_stream(p->seed, 40, c->ids ? c->ids[i] : c->first + i, 0));
    for (int e = 0; e < kn; e++) {
        eps[e] = (nb[e] >= 0 && w[e] >= 1.0f / (float)ne) ? 1.0f / w[e] : 0;
        next[e] = eps[e] > 0 ? eps[e] : INFINITY;
        next_neg[e] = eps[e] / neg_rate;
    }
}

/* Rows [r0, r1) of a fit epoch; rows [i0, i1) of a transform. */
void lens__umap_fit_block_generic(umap_fit_ctx *c, size_t r0, size_t r1, uint32_t rng[SGD_ROWS][8]);
void lens__umap_fit_block_avx2(umap_fit_ctx *c, size_t r0, size_t r1, uint32_t rng[SGD_ROWS][8]);
void lens__umap_tr_block_generic(umap_tr_ctx *c, size_t i0, size_t i1);
void lens__umap_tr_block_avx2(umap_tr_ctx *c, size_t i0, size_t i1);
/* two rows (points) per 16-lane vector: umap_layout_avx512.c */
void lens__umap_fit_block_avx512(umap_fit_ctx *c, size_t r0, size_t r1, uint32_t rng[SGD_ROWS][8]);
void lens__umap_tr_block_avx512(umap_tr_ctx *c, size_t i0, size_t i1);

#endif

/* ---- the loops, instantiated by each kernel file: it defines SGD_EDGE (its
 * edge function) and SGD_SUFFIX, then includes this header again ---- */
#if defined(SGD_EDGE) && !defined(SGD_LOOPS_DONE)
#define SGD_LOOPS_DONE
#define SGD_CAT2(a, b) a##b
#define SGD_CAT(a, b) SGD_CAT2(a, b)

/* Edges due this epoch among [e0, e0 + m), m <= 32, as a bit mask: built
 * without branches (whether an edge is due is a coin flip the branch
 * predictor cannot learn); pruned edges have next = +inf. */
static inline uint32_t SGD_CAT(due_mask, SGD_SUFFIX)(const float *next, int64_t e0, int m, float ep)
{
    uint32_t mask = 0;
    for (int i = 0; i < m; i++) mask |= (uint32_t)(next[e0 + i] <= ep) << i;
    return mask;
}

/* Rows are independent within an epoch (other rows are read from the
 * previous epoch's snapshot); each task's rows share its random stream. */
static inline __attribute__((always_inline)) void SGD_CAT(fit_rows, SGD_SUFFIX)(umap_fit_ctx *c, size_t r0, size_t r1,
                                                                              uint32_t rng[SGD_ROWS][8], const int dim)
{
    const umap_graph *g = c->g;
    const umap_layout_params *p = c->p;
    float ep = (float)c->epoch, neg_rate = (float)p->negative_rate;
    /* the attraction counts twice: the reverse edge moves the other end */
    sgd_k k = {p->a, p->b, -2.0f * p->a * p->b * 2.0f, 2.0f * p->gamma * p->b};
    for (size_t j = r0; j < r1; j++) {
        float *cur = c->y + j * dim;
        int64_t end = g->row[j + 1];
        for (int64_t e0 = g->row[j]; e0 < end; e0 += 32) {
            int m = end - e0 < 32 ? (int)(end - e0) : 32;
            uint32_t mask = SGD_CAT(due_mask, SGD_SUFFIX)(c->next, e0, m, ep);
            while (mask) {
                int64_t x = e0 + __builtin_ctz(mask);
                mask &= mask - 1;
                int n_neg = sgd_take(c->eps, c->next, c->next_neg, x, ep, neg_rate);
                SGD_EDGE(cur, g->col[x], n_neg, c->yp, (uint32_t)g->n, (int64_t)j, rng[0], &k, c->alpha, dim);
            }
        }
    }
}

/* New points, SGD_ROWS at a time, each with its own stream (so a point's
 * result does not depend on the others) */
static inline __attribute__((always_inline)) void SGD_CAT(tr_rows, SGD_SUFFIX)(umap_tr_ctx *c, size_t i0, size_t i1,
                                                                             const int dim)
{
    const umap_layout_params *p = c->p;
    int kn = c->k, ne = p->n_epochs;
    float neg_rate = (float)p->negative_rate;
    float eps[SGD_ROWS][256], next[SGD_ROWS][256], next_neg[SGD_ROWS][256];
    sgd_k k = {p->a, p->b, -2.0f * p->a * p->b, 2.0f * p->gamma * p->b};
    uint32_t rng[SGD_ROWS][8];
    for (size_t g0 = i0; g0 < i1; g0 += SGD_ROWS) {
        int rows = i1 - g0 < SGD_ROWS ? (int)(i1 - g0) : SGD_ROWS;
        for (int l = 0; l < rows; l++) sgd_tr_start(c, g0 + l, rng[l], eps[l], next[l], next_neg[l]);
        for (int ep = 0; ep < ne; ep++) {
            float alpha = p->alpha * (1.0f - (float)ep / (float)ne), fe = (float)ep;
            for (int l = 0; l < rows; l++)
                for (int e0 = 0; e0 < kn; e0 += 32) {
                    uint32_t mask = SGD_CAT(due_mask, SGD_SUFFIX)(next[l], e0, kn - e0 < 32 ? kn - e0 : 32, fe);
                    while (mask) {
                        int x = e0 + __builtin_ctz(mask);
                        mask &= mask - 1;
                        int n_neg = sgd_take(eps[l], next[l], next_neg[l], x, fe, neg_rate);
                        SGD_EDGE(c->emb + (g0 + l) * dim, c->nbr[(g0 + l) * kn + x], n_neg, c->fit, (uint32_t)c->n_fit,
                                 -1, rng[l], &k, alpha, dim);
                    }
                }
        }
    }
}

void SGD_CAT(lens__umap_fit_block, SGD_SUFFIX)(umap_fit_ctx *c, size_t r0, size_t r1, uint32_t rng[SGD_ROWS][8])
{
    if (c->p->dim == 2) SGD_CAT(fit_rows, SGD_SUFFIX)(c, r0, r1, rng, 2);
    else SGD_CAT(fit_rows, SGD_SUFFIX)(c, r0, r1, rng, 3);
}

void SGD_CAT(lens__umap_tr_block, SGD_SUFFIX)(umap_tr_ctx *c, size_t i0, size_t i1)
{
    if (c->p->dim == 2) SGD_CAT(tr_rows, SGD_SUFFIX)(c, i0, i1, 2);
    else SGD_CAT(tr_rows, SGD_SUFFIX)(c, i0, i1, 3);
}
#endif
