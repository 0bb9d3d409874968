/* UMAP: the SGD edge kernel in AVX-512 (see umap_sgd.h): two edges of two
 * different rows in the 16 lanes of one vector, 8 slots each (the
 * attraction and the negative samples). Rows are independent within an
 * epoch, so pairing them changes nothing but speed: one edge is a chain of
 * dependent steps (gather, pow, gradient) the CPU cannot overlap much, and
 * a 16-lane vector carries two chains for the price of one. Compiled for
 * AVX-512 (see CMakeLists.txt) and called only when lens__cpu_simd() says
 * the CPU has it. */
#include <immintrin.h>
#include <math.h>

#include "umap_sgd.h"

/* x^b for x > 0: the polynomials of umap_layout_avx2.c, 2^floor by scalef */
static inline __m512 vpow16(__m512 x, __m512 b)
{
    __m512i u = _mm512_castps_si512(x);
    __m512i k = _mm512_srai_epi32(_mm512_sub_epi32(u, _mm512_set1_epi32(0x3f3504f3)), 23);
    __m512 m = _mm512_castsi512_ps(_mm512_sub_epi32(u, _mm512_slli_epi32(k, 23)));
    __m512 x1 = _mm512_sub_ps(m, _mm512_set1_ps(1.0f));
    __m512 p = _mm512_fmadd_ps(x1, _mm512_set1_ps(0.2423949f), _mm512_set1_ps(-0.39246854f));
    p = _mm512_fmadd_ps(x1, p, _mm512_set1_ps(0.48822707f));
    p = _mm512_fmadd_ps(x1, p, _mm512_set1_ps(-0.72040075f));
    p = _mm512_fmadd_ps(x1, p, _mm512_set1_ps(1.4425216f));
    __m512 l = _mm512_fmadd_ps(x1, p, _mm512_cvtepi32_ps(k));
    __m512 y = _mm512_mul_ps(b, l);
    y = _mm512_min_ps(_mm512_max_ps(y, _mm512_set1_ps(-126.0f)), _mm512_set1_ps(126.0f));
    __m512 fl = _mm512_roundscale_ps(y, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
    __m512 f = _mm512_sub_ps(y, fl);
    __m512 q = _mm512_fmadd_ps(f, _mm512_set1_ps(0.01352061f), _mm512_set1_ps(0.052037474f));
    q = _mm512_fmadd_ps(f, q, _mm512_set1_ps(0.24142742f));
    q = _mm512_fmadd_ps(f, q, _mm512_set1_ps(0.69300663f));
    q = _mm512_fmadd_ps(f, q, _mm512_set1_ps(1.0000025f));
    return _mm512_scalef_ps(q, fl);
}

/* edge (tail, n_neg) of row A moves curA, of row B curB; B inactive when
 * curB is NULL (its lanes do nothing and its stream does not advance) */
static inline __attribute__((always_inline)) void edge2(float *curA, float *curB, int32_t tA, int32_t tB, int nA,
                                                        int nB, const float *src, uint32_t n_src, int64_t sA, int64_t sB,
                                                        uint32_t *rA, uint32_t *rB, const sgd_k *k, float alpha,
                                                        const int dim)
{
    int actB = curB != NULL;
    if (!actB) {
        nB = -1;
        rB = rA;
        curB = curA;
        tB = tA;
    }
    __m512i st = _mm512_inserti64x4(_mm512_castsi256_si512(_mm256_loadu_si256((const __m256i *)rA)),
                                    _mm256_loadu_si256((const __m256i *)rB), 1);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 0, 1, 2, 3, 4, 5, 6, 7);
    const __m512i nv = _mm512_set1_epi32((int)n_src);
    const __m512 one = _mm512_set1_ps(1.0f), clip = _mm512_set1_ps(SGD_CLIP), mclip = _mm512_set1_ps(-SGD_CLIP);
    const __m512 a = _mm512_set1_ps(k->a), b = _mm512_set1_ps(k->b), att = _mm512_set1_ps(k->att);
    const __m512 rep = _mm512_set1_ps(k->rep), tiny = _mm512_set1_ps(0.001f);
    __m512 c[3], acc[3];
    for (int d = 0; d < dim; d++) {
        c[d] = _mm512_insertf32x8(_mm512_set1_ps(curA[d]), _mm256_set1_ps(curB[d]), 1);
        acc[d] = _mm512_setzero_ps();
    }
    const __m512i slots = _mm512_inserti64x4(_mm512_set1_epi32(1 + nA), _mm256_set1_epi32(1 + nB), 1);
    const __m512i self = _mm512_inserti64x4(_mm512_set1_epi32((int32_t)sA), _mm256_set1_epi32((int32_t)sB), 1);
    const __m512i tail = _mm512_inserti64x4(_mm512_set1_epi32(tA), _mm256_set1_epi32(tB), 1);
    int ms = (nA > nB ? nA : nB) + 1;
    for (int s0 = 0; s0 < ms; s0 += 8) {
        __m512i nx = _mm512_xor_si512(st, _mm512_slli_epi32(st, 13));
        nx = _mm512_xor_si512(nx, _mm512_srli_epi32(nx, 17));
        nx = _mm512_xor_si512(nx, _mm512_slli_epi32(nx, 5));
        /* a row's stream advances only while it has slots left */
        __mmask16 adv = (__mmask16)((s0 <= nA ? 0x00ff : 0) | (s0 <= nB ? 0xff00 : 0));
        st = _mm512_mask_mov_epi32(st, adv, nx);
        __m512i ev = _mm512_srli_epi64(_mm512_mul_epu32(st, nv), 32);
        __m512i od = _mm512_mul_epu32(_mm512_srli_epi64(st, 32), nv);
        __m512i kk = _mm512_mask_blend_epi32(0xAAAA, ev, od);
        __m512i slot = _mm512_add_epi32(lane, _mm512_set1_epi32(s0));
        __mmask16 first = _mm512_cmpeq_epi32_mask(slot, _mm512_setzero_si512());
        kk = _mm512_mask_blend_epi32(first, kk, tail);
        __mmask16 valid = _mm512_cmpgt_epi32_mask(slots, slot) & ~(_mm512_cmpeq_epi32_mask(kk, self) & ~first);
        __m512i idx = dim == 2 ? _mm512_slli_epi32(kk, 1) : _mm512_add_epi32(kk, _mm512_slli_epi32(kk, 1));
        __m512 dx[3], q2 = _mm512_setzero_ps();
        for (int d = 0; d < dim; d++) {
            dx[d] = _mm512_sub_ps(c[d], _mm512_i32gather_ps(idx, src + d, 4));
            q2 = _mm512_fmadd_ps(dx[d], dx[d], q2);
        }
        __mmask16 pos = _mm512_cmp_ps_mask(q2, _mm512_setzero_ps(), _CMP_GT_OQ) & valid;
        __m512 qs = _mm512_mask_blend_ps(pos, one, q2);
        __m512 pw = vpow16(qs, b);
        __m512 apw1 = _mm512_fmadd_ps(a, pw, one);
        __m512 num = _mm512_mask_blend_ps(first, rep, _mm512_mul_ps(att, pw));
        __m512 den = _mm512_mul_ps(_mm512_mask_blend_ps(first, _mm512_add_ps(tiny, qs), qs), apw1);
        __m512 r = _mm512_rcp14_ps(den);
        r = _mm512_mul_ps(r, _mm512_fnmadd_ps(den, r, _mm512_set1_ps(2.0f)));
        __m512 gc = _mm512_maskz_mul_ps(pos, num, r);
        for (int d = 0; d < dim; d++)
            acc[d] = _mm512_add_ps(acc[d], _mm512_min_ps(_mm512_max_ps(_mm512_mul_ps(gc, dx[d]), mclip), clip));
    }
    _mm256_storeu_si256((__m256i *)rA, _mm512_castsi512_si256(st));
    if (actB) _mm256_storeu_si256((__m256i *)rB, _mm512_extracti64x4_epi64(st, 1));
    for (int d = 0; d < dim; d++) {
        __m256 lo = _mm512_castps512_ps256(acc[d]), hi = _mm512_extractf32x8_ps(acc[d], 1);
        /* (A, B) sums of the two halves */
        __m256 h = _mm256_hadd_ps(lo, hi);            /* per 128: A01 A23 B01 B23 | A45 A67 B45 B67 */
        __m128 t = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
        t = _mm_hadd_ps(t, t);                         /* A B A B */
        curA[d] += _mm_cvtss_f32(t) * alpha;
        if (actB) curB[d] += _mm_cvtss_f32(_mm_movehdup_ps(t)) * alpha;
    }
}

typedef struct {
    int64_t e0, end;
    uint32_t mask;
} due_iter;

static inline int64_t next_due(due_iter *it, const float *next, float ep)
{
    while (!it->mask) {
        it->e0 += 32;
        if (it->e0 >= it->end) return -1;
        int m = it->end - it->e0 < 32 ? (int)(it->end - it->e0) : 32;
        uint32_t mask = 0;
        for (int i = 0; i < m; i++) mask |= (uint32_t)(next[it->e0 + i] <= ep) << i;
        it->mask = mask;
    }
    int64_t x = it->e0 + __builtin_ctz(it->mask);
    it->mask &= it->mask - 1;
    return x;
}

/* the schedule of due edge x: returns its negative samples */
static inline int take(umap_fit_ctx *c, int64_t x, float ep, float neg_rate)
{
    return sgd_take(c->eps, c->next, c->next_neg, x, ep, neg_rate);
}

static inline __attribute__((always_inline)) void fit_pairs(umap_fit_ctx *c, size_t r0, size_t r1,
                                                            uint32_t rng[SGD_ROWS][8], const int dim)
{
    const umap_graph *g = c->g;
    const umap_layout_params *p = c->p;
    float ep = (float)c->epoch, neg_rate = (float)p->negative_rate;
    sgd_k k = {p->a, p->b, -2.0f * p->a * p->b * 2.0f, 2.0f * p->gamma * p->b};
    for (size_t j = r0; j < r1; j += 2) {
        int two = j + 1 < r1;
        due_iter A = {g->row[j] - 32, g->row[j + 1], 0};
        due_iter B = {two ? g->row[j + 1] - 32 : 0, two ? g->row[j + 2] : 0, 0};
        float *ca = c->y + j * dim, *cb = two ? c->y + (j + 1) * dim : NULL;
        int64_t xa = next_due(&A, c->next, ep), xb = two ? next_due(&B, c->next, ep) : -1;
        while (xa >= 0 || xb >= 0) {
            if (xa < 0) { /* only B left: run it in the A half */
                edge2(cb, NULL, g->col[xb], 0, take(c, xb, ep, neg_rate), 0, c->yp, (uint32_t)g->n, (int64_t)j + 1, 0,
                      rng[1], NULL, &k, c->alpha, dim);
                xb = next_due(&B, c->next, ep);
                continue;
            }
            if (xb < 0) {
                edge2(ca, NULL, g->col[xa], 0, take(c, xa, ep, neg_rate), 0, c->yp, (uint32_t)g->n, (int64_t)j, 0,
                      rng[0], NULL, &k, c->alpha, dim);
                xa = next_due(&A, c->next, ep);
                continue;
            }
            int na = take(c, xa, ep, neg_rate), nb = take(c, xb, ep, neg_rate);
            edge2(ca, cb, g->col[xa], g->col[xb], na, nb, c->yp, (uint32_t)g->n, (int64_t)j, (int64_t)j + 1, rng[0],
                  rng[1], &k, c->alpha, dim);
            xa = next_due(&A, c->next, ep);
            xb = next_due(&B, c->next, ep);
        }
    }
}

void lens__umap_fit_block_avx512(umap_fit_ctx *c, size_t r0, size_t r1, uint32_t rng[SGD_ROWS][8])
{
    if (c->p->dim == 2) fit_pairs(c, r0, r1, rng, 2);
    else fit_pairs(c, r0, r1, rng, 3);
}

/* transform: points in pairs, each with its own stream */
static inline __attribute__((always_inline)) void tr_pairs(umap_tr_ctx *c, size_t i0, size_t i1, const int dim)
{
    const umap_layout_params *p = c->p;
    int kn = c->k, ne = p->n_epochs;
    float neg_rate = (float)p->negative_rate;
    float eps[2][256], next[2][256], next_neg[2][256];
    sgd_k k = {p->a, p->b, -2.0f * p->a * p->b, 2.0f * p->gamma * p->b};
    uint32_t rng[2][8];
    for (size_t g0 = i0; g0 < i1; g0 += 2) {
        int rows = i1 - g0 < 2 ? 1 : 2;
        for (int l = 0; l < rows; l++) sgd_tr_start(c, g0 + l, rng[l], eps[l], next[l], next_neg[l]);
        float *ca = c->emb + g0 * dim, *cb = rows > 1 ? c->emb + (g0 + 1) * dim : NULL;
        const int32_t *nba = c->nbr + g0 * kn, *nbb = c->nbr + (g0 + 1) * kn;
        for (int ep = 0; ep < ne; ep++) {
            float alpha = p->alpha * (1.0f - (float)ep / (float)ne), fe = (float)ep;
            due_iter A = {-32, kn, 0}, B = {-32, rows > 1 ? kn : 0, 0};
            int64_t xa = next_due(&A, next[0], fe), xb = rows > 1 ? next_due(&B, next[1], fe) : -1;
            while (xa >= 0 || xb >= 0) {
                int na = xa >= 0 ? sgd_take(eps[0], next[0], next_neg[0], xa, fe, neg_rate) : 0;
                int nb = xb >= 0 ? sgd_take(eps[1], next[1], next_neg[1], xb, fe, neg_rate) : 0;
                if (xa >= 0 && xb >= 0)
                    edge2(ca, cb, nba[xa], nbb[xb], na, nb, c->fit, (uint32_t)c->n_fit, -1, -1, rng[0], rng[1], &k,
                          alpha, dim);
                else if (xa >= 0)
                    edge2(ca, NULL, nba[xa], 0, na, 0, c->fit, (uint32_t)c->n_fit, -1, 0, rng[0], NULL, &k, alpha, dim);
                else
                    edge2(cb, NULL, nbb[xb], 0, nb, 0, c->fit, (uint32_t)c->n_fit, -1, 0, rng[1], NULL, &k, alpha, dim);
                if (xa >= 0) xa = next_due(&A, next[0], fe);
                if (xb >= 0) xb = next_due(&B, next[1], fe);
            }
        }
    }
}

void lens__umap_tr_block_avx512(umap_tr_ctx *c, size_t i0, size_t i1)
{
    if (c->p->dim == 2) tr_pairs(c, i0, i1, 2);
    else tr_pairs(c, i0, i1, 3);
}
