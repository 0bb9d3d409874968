/* lens — UMAP: a 2-D or 3-D map of high-dimensional points.
 *
 * The algorithm of McInnes, Healy & Melville (2018) as umap-learn runs it:
 * k nearest neighbours (exact for small inputs, NN-descent initialised by a
 * random-projection forest for large ones), a fuzzy simplicial set (smooth
 * kNN distances, symmetrised by fuzzy union), a spectral initialisation
 * (smallest eigenvectors of the normalised graph Laplacian, per connected
 * component), and SGD with negative sampling on the epochs-per-sample
 * schedule, with a and b fitted to min_dist and spread by least squares.
 *
 * Large inputs are fitted on a random sample and the rest is transformed
 * chunk by chunk (kNN into the fitted set by graph search, initialised at the
 * weighted mean of the neighbours' positions, a short SGD that moves only the
 * new points), so memory is bounded by the fitted model and one chunk.
 *
 * Results are deterministic for a seed: every random stream is derived from
 * the seed and a fixed block of work, never from a thread, so they are also
 * the same for any thread count, and a streamed run's for any chunk size.
 * The kernels (AVX-512, AVX2 or generic C, by CPUID; LENS_KERNEL=generic
 * forces generic ones, LENS_KERNEL=avx2 nothing above AVX2) change the
 * random draws or the rounding, so maps made on different CPUs differ in
 * detail. */
#ifndef LENS_UMAP_H
#define LENS_UMAP_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LENS_UMAP_EUCLIDEAN = 0, LENS_UMAP_COSINE = 1 } lens_umap_metric;

/* Progress: phase is "knn", "graph", "init", "layout" (done/total in
 * NN-descent iterations or epochs) or "transform" (rows). Called from the
 * thread that called lens_umap_*, never concurrently. */
typedef void (*lens_umap_progress_fn)(void *ctx, size_t done, size_t total, const char *phase);

typedef struct lens_umap_opts {
    int n_neighbors;  /* 2..200 (default 15); includes the point itself, as in umap-learn */
    int n_components; /* 2 or 3 (default 2) */
    int n_epochs;     /* 0: 500 up to 10,000 fitted points, else 200; a transform runs a third of a set
                         value, else 100 (30 past 10,000 fitted points) */
    float min_dist;   /* >= 0 (default 0.1) */
    float spread;     /* > min_dist (default 1.0) */
    int metric;       /* lens_umap_metric (default euclidean) */
    uint64_t seed;    /* default 42 */
    int threads;      /* when no pool is given: 0 = one per CPU */
    size_t fit_size;  /* lens_umap_run: points fitted before the rest is transformed
                         (default 25,000; inputs up to max(fit_size, 1,000) are fitted whole) */
    size_t chunk;     /* rows per transform chunk (default 16,384) */
    lens_umap_progress_fn progress; /* may be NULL */
    void *ctx;
    atomic_int *stop;   /* when non-NULL and set (any thread): LENS_ECANCEL at the next chunk, epoch or
                           iteration */
} lens_umap_opts;

/* Fills *o with the defaults above; set fields afterwards. (In a zeroed
 * struct, zero n_neighbors, n_components, spread, fit_size and chunk take
 * their defaults; min_dist and seed are used as given.) */
LENS_API void lens_umap_opts_default(lens_umap_opts *o);
/* "euclidean" or "cosine" */
LENS_API int lens_umap_metric_parse(const char *s, int *out);

/* a and b of the output-space kernel 1 / (1 + a d^(2b)), least-squares fitted
 * to exp(-(d - min_dist) / spread) (1 below min_dist) on [0, 3 spread]. */
LENS_API int lens_umap_find_ab(float min_dist, float spread, float *a, float *b, lens_error *err);

typedef struct lens_umap lens_umap;

/* Fits n points (rows of x, dim floats each; copied, x may be freed after).
 * opts may be NULL (defaults). pool may be NULL: the model makes its own with
 * opts->threads; a pool passed in must outlive the model. */
LENS_API int lens_umap_fit(lens_umap **out, const float *x, size_t n, int dim, const lens_umap_opts *opts,
                           lens_pool *pool, lens_error *err);
/* Embeds n new points into out[n * n_components] without moving the fitted
 * ones. Point i's random stream depends on the seed and i only, so splitting
 * a batch into chunks gives the same result. */
LENS_API int lens_umap_transform(lens_umap *u, const float *x, size_t n, float *out, lens_error *err);
/* The same with the points numbered from first (for streams cut into calls). */
LENS_API int lens_umap_transform_at(lens_umap *u, const float *x, size_t n, size_t first, float *out,
                                    lens_error *err);
/* Embedding of the fitted points, [n_fit * n_components]. */
LENS_API const float *lens_umap_embedding(const lens_umap *u);
LENS_API size_t lens_umap_size(const lens_umap *u);
LENS_API int lens_umap_components(const lens_umap *u);
LENS_API void lens_umap_free(lens_umap *u);

/* Rows on demand: copy rows [first, first + count) into out (count * dim
 * floats). Return 0, or a negative status with err set. The fit sample asks
 * for single rows in increasing order, then the rest is read in chunks. */
typedef int (*lens_umap_rows_fn)(void *ctx, size_t first, size_t count, float *out, lens_error *err);

/* Fit on a sample of opts->fit_size points, then transform the rest in
 * chunks of opts->chunk rows; out[n * n_components] in input order. */
LENS_API int lens_umap_run(const float *x, size_t n, int dim, const lens_umap_opts *opts, float *out,
                           lens_error *err);
LENS_API int lens_umap_run_rows(lens_umap_rows_fn rows, void *rows_ctx, size_t n, int dim,
                                const lens_umap_opts *opts, float *out, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
