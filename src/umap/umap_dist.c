/* UMAP: points in a padded, aligned layout and the dot-product kernels that
 * every distance goes through (generic here; AVX-512 in umap_dist_avx512.c,
 * chosen by lens__cpu_simd()). */
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "base/cpu.h"
#include "base/v4.h"
#include "umap_internal.h"

int lens__umap_space_alloc(umap_space *s, size_t n, int dim, int metric, lens_error *err)
{
    memset(s, 0, sizeof *s);
    s->n = n;
    s->dim = dim;
    s->dp = (dim + 15) & ~15;
    s->metric = metric;
    size_t bytes = (n ? n : 1) * (size_t)s->dp * sizeof(float);
    void *p = NULL;
    if (posix_memalign(&p, 64, bytes) != 0) p = NULL;
    s->x = p;
    if (metric == LENS_UMAP_EUCLIDEAN) s->sqn = malloc((n ? n : 1) * sizeof *s->sqn);
    else s->zero = malloc(n ? n : 1);
    if (!s->x || (metric == LENS_UMAP_EUCLIDEAN ? !s->sqn : !s->zero)) {
        lens__umap_space_free(s);
        return lens_error_set(err, LENS_ENOMEM, "umap: out of memory for %zu x %d points", n, dim);
    }
    return LENS_OK;
}

void lens__umap_space_set(umap_space *s, size_t i, const float *row)
{
    float *dst = s->x + i * (size_t)s->dp;
    double ss = 0;
    for (int d = 0; d < s->dim; d++) {
        float v = isfinite(row[d]) ? row[d] : 0.0f;
        dst[d] = v;
        ss += (double)v * v;
    }
    for (int d = s->dim; d < s->dp; d++) dst[d] = 0;
    if (s->metric == LENS_UMAP_EUCLIDEAN) {
        s->sqn[i] = (float)ss;
    } else {
        s->zero[i] = ss == 0;
        if (ss > 0) {
            float inv = (float)(1.0 / sqrt(ss));
            for (int d = 0; d < s->dim; d++) dst[d] *= inv;
        }
    }
}

void lens__umap_space_free(umap_space *s)
{
    free(s->x);
    free(s->sqn);
    free(s->zero);
    memset(s, 0, sizeof *s);
}

float lens__umap_final_dist(int metric, float rank)
{
    return metric == LENS_UMAP_EUCLIDEAN ? sqrtf(rank) : rank;
}

/* ---- generic kernels: GCC/Clang vector extensions (base/v4.h) */


float lens__umap_dot_generic(const float *a, const float *b, int dp)
{
    v4f s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0};
    for (int d = 0; d < dp; d += 16) {
        s0 += ld4(a + d) * ld4(b + d);
        s1 += ld4(a + d + 4) * ld4(b + d + 4);
        s2 += ld4(a + d + 8) * ld4(b + d + 8);
        s3 += ld4(a + d + 12) * ld4(b + d + 12);
    }
    return hsum4((s0 + s1) + (s2 + s3));
}

void lens__umap_dots_generic(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo)
{
    for (int i0 = 0; i0 < na; i0 += 4) {
        const float *pa[4];
        for (int t = 0; t < 4; t++) pa[t] = a[i0 + t < na ? i0 + t : na - 1];
        for (int j0 = 0; j0 < nb; j0 += 4) {
            const float *pb[4];
            for (int t = 0; t < 4; t++) pb[t] = b[j0 + t < nb ? j0 + t : nb - 1];
            v4f acc[16] = {{0}};
            for (int d = 0; d < dp; d += 4) {
                v4f x0 = ld4(pa[0] + d), x1 = ld4(pa[1] + d), x2 = ld4(pa[2] + d), x3 = ld4(pa[3] + d);
                for (int j = 0; j < 4; j++) {
                    v4f y = ld4(pb[j] + d);
                    acc[j] += x0 * y;
                    acc[4 + j] += x1 * y;
                    acc[8 + j] += x2 * y;
                    acc[12 + j] += x3 * y;
                }
            }
            for (int i = 0; i < 4 && i0 + i < na; i++)
                for (int j = 0; j < 4 && j0 + j < nb; j++) out[(size_t)(i0 + i) * ldo + j0 + j] = hsum4(acc[4 * i + j]);
        }
    }
}

void lens__umap_dots1_generic(const float *a, const float *const *b, int nb, int dp, float *out)
{
    for (int j = 0; j < nb; j++) out[j] = lens__umap_dot_generic(a, b[j], dp);
}

/* ---- dispatch ------------------------------------------------------------ */

void lens__umap_dots(const float *const *a, int na, const float *const *b, int nb, int dp, float *out, int ldo)
{
    if (na <= 0 || nb <= 0) return;
    if (lens__cpu_simd() >= LENS__SIMD_AVX512) lens__umap_dots_avx512(a, na, b, nb, dp, out, ldo);
    else lens__umap_dots_generic(a, na, b, nb, dp, out, ldo);
}

void lens__umap_dots1(const float *a, const float *const *b, int nb, int dp, float *out)
{
    if (lens__cpu_simd() >= LENS__SIMD_AVX512) lens__umap_dots1_avx512(a, b, nb, dp, out);
    else lens__umap_dots1_generic(a, b, nb, dp, out);
}

float lens__umap_dot(const float *a, const float *b, int dp)
{
    return lens__cpu_simd() >= LENS__SIMD_AVX512 ? lens__umap_dot_avx512(a, b, dp) : lens__umap_dot_generic(a, b, dp);
}
