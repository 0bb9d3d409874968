/* UMAP: random-projection trees. Each internal node splits its points by the
 * hyperplane halfway between two random points of the node (through the
 * origin for cosine: angular trees), ties and one-sided splits broken at
 * random, until a leaf holds at most leaf_size points. The leaves seed
 * NN-descent; a kept tree's hyperplanes route a query to its leaf. */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "umap_internal.h"

#define MARGIN_EPS 1e-8f

void lens__umap_tree_free(umap_tree *t)
{
    free(t->nodes);
    free(t->perm);
    free(t->hyp);
    free(t->off);
    memset(t, 0, sizeof *t);
}

typedef struct {
    int32_t node, lo, hi;
} span;

int lens__umap_tree_build(const umap_space *s, int leaf_size, uint64_t seed, int keep_hyperplanes, umap_tree *t)
{
    memset(t, 0, sizeof *t);
    size_t n = s->n;
    int dp = s->dp;
    umap_rng rng = {seed};
    t->perm = malloc((n ? n : 1) * sizeof *t->perm);
    float *scratch = malloc((size_t)dp * sizeof *scratch);
    uint8_t *side = malloc(n ? n : 1);
    int32_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    span *stack = NULL;
    size_t stack_cap = 0, node_cap = 0, hyp_cap = 0, off_cap = 0;
    int sp = 0;
    if (!t->perm || !scratch || !side || !tmp) goto oom;
    for (size_t i = 0; i < n; i++) t->perm[i] = (int32_t)i;
    if (lens__grow((void **)&t->nodes, &node_cap, 1, sizeof *t->nodes) || lens__grow((void **)&stack, &stack_cap, 1, sizeof *stack))
        goto oom;
    t->n_nodes = 1;
    stack[sp++] = (span){0, 0, (int32_t)n};
    while (sp > 0) {
        span sp_ = stack[--sp];
        int32_t lo = sp_.lo, hi = sp_.hi, m = hi - lo;
        umap_tree_node *node = &t->nodes[sp_.node];
        if (m <= leaf_size) {
            *node = (umap_tree_node){lo, hi, -1};
            continue;
        }
        int32_t p = lo + (int32_t)umap_below(&rng, (uint32_t)m);
        int32_t q = lo + (int32_t)umap_below(&rng, (uint32_t)m - 1);
        if (q >= p) q++;
        const float *xp = umap_row(s, (size_t)t->perm[p]), *xq = umap_row(s, (size_t)t->perm[q]);
        float *h = scratch;
        if (keep_hyperplanes) {
            if (lens__grow((void **)&t->hyp, &hyp_cap, (size_t)(t->n_hyp + 1) * dp, sizeof *t->hyp) ||
                lens__grow((void **)&t->off, &off_cap, (size_t)t->n_hyp + 1, sizeof *t->off))
                goto oom;
            h = t->hyp + (size_t)t->n_hyp * dp;
        }
        double off = 0;
        for (int d = 0; d < dp; d++) {
            h[d] = xp[d] - xq[d];
            if (s->metric == LENS_UMAP_EUCLIDEAN) off -= (double)h[d] * (xp[d] + xq[d]) * 0.5;
        }
        int32_t nl = 0;
        for (int32_t i = lo; i < hi; i++) {
            float mg = lens__umap_dot(h, umap_row(s, (size_t)t->perm[i]), dp) + (float)off;
            uint8_t sd = mg > MARGIN_EPS ? 0 : mg < -MARGIN_EPS ? 1 : (uint8_t)(umap_next(&rng) >> 63);
            side[i - lo] = sd;
            nl += sd == 0;
        }
        if (nl == 0 || nl == m) { /* everything on one side: a random halving */
            nl = 0;
            for (int32_t i = 0; i < m; i++) {
                side[i] = (uint8_t)(umap_next(&rng) >> 63);
                nl += side[i] == 0;
            }
            if (nl == 0 || nl == m) {
                for (int32_t i = 0; i < m; i++) side[i] = i >= m / 2;
                nl = m / 2;
            }
        }
        /* stable partition through the scratch of sides */
        int32_t a = 0, b = nl;
        for (int32_t i = 0; i < m; i++) tmp[side[i] ? b++ : a++] = t->perm[lo + i];
        memcpy(t->perm + lo, tmp, (size_t)m * sizeof *tmp);
        if (lens__grow((void **)&t->nodes, &node_cap, (size_t)t->n_nodes + 2, sizeof *t->nodes) ||
            lens__grow((void **)&stack, &stack_cap, (size_t)sp + 2, sizeof *stack))
            goto oom;
        node = &t->nodes[sp_.node];
        int32_t left = t->n_nodes, right = t->n_nodes + 1;
        t->n_nodes += 2;
        *node = (umap_tree_node){left, right, keep_hyperplanes ? t->n_hyp : 0};
        if (keep_hyperplanes) {
            t->off[t->n_hyp] = (float)off;
            t->n_hyp++;
        }
        stack[sp++] = (span){right, lo + nl, hi};
        stack[sp++] = (span){left, lo, lo + nl};
    }
    free(scratch);
    free(side);
    free(tmp);
    free(stack);
    return LENS_OK;
oom:
    free(scratch);
    free(side);
    free(tmp);
    free(stack);
    lens__umap_tree_free(t);
    return LENS_ENOMEM;
}

void lens__umap_tree_leaf(const umap_tree *t, const float *row, int dp, int32_t *start, int32_t *end)
{
    const umap_tree_node *node = &t->nodes[0];
    while (node->hyp >= 0) {
        float mg = lens__umap_dot(t->hyp + (size_t)node->hyp * dp, row, dp) + t->off[node->hyp];
        node = &t->nodes[mg >= -MARGIN_EPS ? node->a : node->b];
    }
    *start = node->a;
    *end = node->b;
}
