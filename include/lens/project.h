/* lens — the project job: embeddings (a .npy matrix) or texts (embedded
 * first) -> a 2-D or 3-D UMAP map as CSV id,x,y[,z], rows in input order.
 * lens project and the service's "project" jobs run it. */
#ifndef LENS_PROJECT_H
#define LENS_PROJECT_H

#include <stdatomic.h>
#include <stddef.h>

#include "lens/error.h"
#include "lens/io.h"
#include "lens/model.h"
#include "lens/umap.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_project_opts {
    const char *input;         /* .npy (float32/64 [n, dim]) or .txt/.jsonl/.csv (+ .zst) texts */
    const char *output;        /* the CSV; written to a temporary name, renamed when complete */
    lens_reader_opts texts;    /* field, column, id_field of text inputs */
    const char *model;         /* texts: model to open (ignored when loaded is set) */
    const lens_model *loaded;  /* texts: an open model to use */
    lens_precision precision;
    int threads;
    lens_umap_opts umap;
    /* phase "embed" (texts), then UMAP's phases; fraction of the whole run */
    void (*progress)(void *ctx, const char *phase, size_t rows, double fraction);
    void *ctx;
    atomic_int *stop;          /* set non-zero (any thread): LENS_ECANCEL at the next chunk or epoch */
    const char *root;          /* optional: input must lie under this directory when it is opened
                                  (symlinks leading out are refused); NULL: any path */
} lens_project_opts;

typedef struct lens_project_stats {
    size_t rows, fitted;
    int dim;
} lens_project_stats;

LENS_API int lens_project_run(const lens_project_opts *o, lens_project_stats *st, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
