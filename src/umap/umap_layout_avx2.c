/* UMAP: the SGD edge kernel in AVX2 + FMA (see umap_sgd.h), compiled for
 * AVX2 (see CMakeLists.txt) and called only when lens__cpu_simd() says the
 * CPU has it. */
#include <immintrin.h>

#include "umap_sgd.h"

/* x^b for x > 0: 2^(b log2 x) by polynomials (about 2e-5 relative) */
static inline __m256 vpow(__m256 x, __m256 b)
{
    __m256i u = _mm256_castps_si256(x);
    __m256i k = _mm256_srai_epi32(_mm256_sub_epi32(u, _mm256_set1_epi32(0x3f3504f3)), 23);
    __m256 m = _mm256_castsi256_ps(_mm256_sub_epi32(u, _mm256_slli_epi32(k, 23)));
    __m256 one = _mm256_set1_ps(1.0f), x1 = _mm256_sub_ps(m, one);
    /* log2(1 + x) = x P(x), P least-squares fitted on [sqrt(1/2) - 1, sqrt(2) - 1] */
    __m256 p = _mm256_fmadd_ps(x1, _mm256_set1_ps(0.2423949f), _mm256_set1_ps(-0.39246854f));
    p = _mm256_fmadd_ps(x1, p, _mm256_set1_ps(0.48822707f));
    p = _mm256_fmadd_ps(x1, p, _mm256_set1_ps(-0.72040075f));
    p = _mm256_fmadd_ps(x1, p, _mm256_set1_ps(1.4425216f));
    __m256 l = _mm256_fmadd_ps(x1, p, _mm256_cvtepi32_ps(k));
    __m256 y = _mm256_fmadd_ps(b, l, _mm256_set1_ps(127.0f));
    y = _mm256_min_ps(_mm256_max_ps(y, one), _mm256_set1_ps(253.0f));
    __m256i yi = _mm256_cvttps_epi32(y);
    __m256 f = _mm256_sub_ps(y, _mm256_cvtepi32_ps(yi));
    /* 2^f on [0, 1), relative-error least squares */
    __m256 q = _mm256_fmadd_ps(f, _mm256_set1_ps(0.01352061f), _mm256_set1_ps(0.052037474f));
    q = _mm256_fmadd_ps(f, q, _mm256_set1_ps(0.24142742f));
    q = _mm256_fmadd_ps(f, q, _mm256_set1_ps(0.69300663f));
    q = _mm256_fmadd_ps(f, q, _mm256_set1_ps(1.0000025f));
    return _mm256_mul_ps(q, _mm256_castsi256_ps(_mm256_slli_epi32(yi, 23)));
}

static inline float hsum(__m256 v)
{
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}

static inline __attribute__((always_inline)) void edge_avx2(float *cur, int32_t tail, int n_neg, const float *src,
                                                            uint32_t n_src, int64_t self, uint32_t *rng, const sgd_k *k,
                                                            float alpha, const int dim)
{
    __m256i st = _mm256_loadu_si256((const __m256i *)rng);
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), nv = _mm256_set1_epi32((int)n_src);
    const __m256 zero = _mm256_setzero_ps(), one = _mm256_set1_ps(1.0f), clip = _mm256_set1_ps(SGD_CLIP);
    const __m256 a = _mm256_set1_ps(k->a), b = _mm256_set1_ps(k->b), att = _mm256_set1_ps(k->att);
    const __m256 rep = _mm256_set1_ps(k->rep), tiny = _mm256_set1_ps(0.001f);
    __m256 c[3], acc[3];
    for (int d = 0; d < dim; d++) {
        c[d] = _mm256_set1_ps(cur[d]);
        acc[d] = zero;
    }
    int slots = 1 + n_neg;
    const __m256i vslots = _mm256_set1_epi32(slots), vself = _mm256_set1_epi32((int32_t)self);
    for (int s0 = 0; s0 < slots; s0 += 8) {
        st = _mm256_xor_si256(st, _mm256_slli_epi32(st, 13));
        st = _mm256_xor_si256(st, _mm256_srli_epi32(st, 17));
        st = _mm256_xor_si256(st, _mm256_slli_epi32(st, 5));
        /* (x * n) >> 32 per lane */
        __m256i ev = _mm256_srli_epi64(_mm256_mul_epu32(st, nv), 32);
        __m256i od = _mm256_mul_epu32(_mm256_srli_epi64(st, 32), nv);
        __m256i kk = _mm256_blend_epi32(ev, od, 0xAA);
        __m256i slot = _mm256_add_epi32(lane, _mm256_set1_epi32(s0));
        __m256i first = _mm256_cmpeq_epi32(slot, _mm256_setzero_si256());
        kk = _mm256_blendv_epi8(kk, _mm256_set1_epi32(tail), first);
        __m256i valid = _mm256_cmpgt_epi32(vslots, slot);
        valid = _mm256_andnot_si256(_mm256_andnot_si256(first, _mm256_cmpeq_epi32(kk, vself)), valid);
        __m256i idx = dim == 2 ? _mm256_slli_epi32(kk, 1) : _mm256_add_epi32(kk, _mm256_slli_epi32(kk, 1));
        __m256 dx[3], q2 = zero;
        for (int d = 0; d < dim; d++) {
            dx[d] = _mm256_sub_ps(c[d], _mm256_i32gather_ps(src + d, idx, 4));
            q2 = _mm256_fmadd_ps(dx[d], dx[d], q2);
        }
        __m256 pos = _mm256_cmp_ps(q2, zero, _CMP_GT_OQ);
        __m256 qs = _mm256_blendv_ps(one, q2, pos);
        __m256 pw = vpow(qs, b);
        __m256 apw1 = _mm256_fmadd_ps(a, pw, one);
        __m256 fm = _mm256_castsi256_ps(first);
        __m256 num = _mm256_blendv_ps(rep, _mm256_mul_ps(att, pw), fm);
        __m256 den = _mm256_mul_ps(_mm256_blendv_ps(_mm256_add_ps(tiny, qs), qs, fm), apw1);
        /* num / den by a reciprocal estimate and one Newton step */
        __m256 r = _mm256_rcp_ps(den);
        r = _mm256_mul_ps(r, _mm256_fnmadd_ps(den, r, _mm256_set1_ps(2.0f)));
        __m256 gc = _mm256_and_ps(_mm256_mul_ps(num, r), _mm256_and_ps(pos, _mm256_castsi256_ps(valid)));
        for (int d = 0; d < dim; d++) {
            __m256 g = _mm256_mul_ps(gc, dx[d]);
            g = _mm256_min_ps(_mm256_max_ps(g, _mm256_sub_ps(zero, clip)), clip);
            acc[d] = _mm256_add_ps(acc[d], g);
        }
    }
    _mm256_storeu_si256((__m256i *)rng, st);
    for (int d = 0; d < dim; d++) cur[d] += hsum(acc[d]) * alpha;
}

#define SGD_EDGE edge_avx2
#define SGD_SUFFIX _avx2
#include "umap_sgd.h"
