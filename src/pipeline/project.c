/* The project job (see lens/project.h): read or embed, UMAP, write CSV. */
#include "lens/project.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/fs.h"
#include "io/io_internal.h"
#include "lens/escape.h"

#define CHUNK 2048 /* texts per encoder call */

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

static void report(const lens_project_opts *o, const char *phase, size_t rows, double f)
{
    if (o->progress) o->progress(o->ctx, phase, rows, f);
}

/* Embeds every text of the input: x[n][dim], ids (NUL-ended, in row order) when id_field is set. */
static int embed_texts(const lens_project_opts *o, float **x, size_t *n, int *dim, lens__wbuf *ids, lens_error *err)
{
    lens_reader *rd = NULL;
    lens_model *own = NULL;
    lens_pool *pool = NULL;
    lens_encoder *enc = NULL;
    lens_model_opts mo = {.precision = o->precision};
    const lens_model *m = o->loaded;
    char **batch = calloc(CHUNK, sizeof *batch);
    size_t *lens = calloc(CHUNK, sizeof *lens), cap = 0;
    int rc = batch && lens ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (!rc) rc = lens__reader_open_in(&rd, o->root, o->input, &o->texts, err);
    if (!rc && !m && !(rc = lens_model_open(&own, o->model, &mo, err))) m = own;
    if (!rc) rc = lens_pool_new(&pool, o->threads, err);
    if (!rc) rc = lens_encoder_new(&enc, m, pool, 4096, err);
    if (!rc) *dim = lens_model_dim(m);
    *n = 0;
    while (!rc) {
        size_t k = 0;
        const char *t, *id;
        size_t len;
        int r = 0;
        while (k < CHUNK && (r = lens_reader_next(rd, &t, &len, &id, err)) == 1) {
            free(batch[k]);
            if (o->texts.id_field) lens__wbuf_put(ids, id, strlen(id) + 1);
            if (!(batch[k] = strndup(t, len)) || ids->oom) {
                r = lens_error_set(err, LENS_ENOMEM, "out of memory");
                break;
            }
            lens[k++] = len;
        }
        if (r < 0) {
            rc = r;
            break;
        }
        if (k) {
            if (lens__grow((void **)x, &cap, *n + k, (size_t)*dim * sizeof **x)) {
                rc = lens_error_set(err, LENS_ENOMEM, "out of memory for %zu embeddings", *n + k);
                break;
            }
            if ((rc = lens_encoder_embed(enc, (const char *const *)batch, lens, k, *x + *n * (size_t)*dim, NULL, err)))
                break;
            *n += k;
            uint64_t size = lens_reader_size(rd);
            report(o, "embed", *n, size ? 0.5 * (double)lens_reader_offset(rd) / (double)size : 0);
        }
        if (o->stop && *o->stop) rc = lens_error_set(err, LENS_ECANCEL, "stopped by request");
        if (r == 0) break;
    }
    for (size_t i = 0; batch && i < CHUNK; i++) free(batch[i]);
    free(batch);
    free(lens);
    lens_encoder_free(enc);
    lens_pool_free(pool);
    lens_model_close(own);
    lens_reader_close(rd);
    return rc;
}

typedef struct {
    const lens_project_opts *o;
    size_t fit;
    double base; /* share of the run done before UMAP (embedding) */
    int streaming;
} umap_ctx;

static void on_umap(void *ctx, size_t done, size_t total, const char *phase)
{
    umap_ctx *u = ctx;
    double f = total ? (double)done / (double)total : 0, fit_share = u->streaming ? 0.5 : 1.0, x;
    size_t rows = 0;
    if (!strcmp(phase, "knn")) x = 0.3 * f * fit_share;
    else if (!strcmp(phase, "graph") || !strcmp(phase, "init")) x = 0.3 * fit_share;
    else if (!strcmp(phase, "layout")) x = (0.3 + 0.7 * f) * fit_share;
    else {
        x = fit_share + (1 - fit_share) * f;
        rows = u->fit + done;
    }
    report(u->o, phase, rows, u->base + (1 - u->base) * x);
}

int lens_project_run(const lens_project_opts *o, lens_project_stats *st, lens_error *err)
{
    memset(st, 0, sizeof *st);
    float *x = NULL, *y = NULL;
    size_t n = 0, cols = 0;
    int dim = 0, rc, texts = !ends_with(o->input, ".npy");
    lens__wbuf ids = {0};
    if (!texts) {
        rc = lens__npy_read_f32_in(o->root, o->input, &x, &n, &cols, err);
        if (!rc && (cols == 0 || cols > 1 << 20))
            rc = lens_error_set(err, LENS_EFORMAT, "%s: %zu columns: need a matrix of embeddings [n, dim]", o->input, cols);
        dim = (int)cols;
    } else {
        rc = embed_texts(o, &x, &n, &dim, &ids, err);
    }
    if (!rc && n == 0) rc = lens_error_set(err, LENS_EINVAL, "%s: no rows to project", o->input);
    int nc = o->umap.n_components;
    if (!rc && !(y = malloc(n * (size_t)nc * sizeof *y)))
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory for %zu points", n);
    lens_umap_opts uo = o->umap;
    size_t fit = uo.fit_size > 1000 ? uo.fit_size : 1000;
    umap_ctx uc = {.o = o, .fit = fit < n ? fit : n, .streaming = n > fit, .base = texts ? 0.5 : 0};
    uo.progress = on_umap;
    uo.ctx = &uc;
    uo.stop = o->stop;
    if (!uo.threads) uo.threads = o->threads;
    if (!rc) rc = lens_umap_run(x, n, dim, &uo, y, err);
    lens__afile *af = NULL;
    if (!rc) rc = lens__afile_open(&af, o->output, err);
    if (!rc) {
        FILE *f = lens__afile_stream(af);
        fputs(nc == 3 ? "id,x,y,z\n" : "id,x,y\n", f);
        const char *id = (const char *)ids.p;
        for (size_t i = 0; i < n; i++, id += id ? strlen(id) + 1 : 0) {
            if (id) lens_csv_write_field(f, id);
            else fprintf(f, "%zu", i);
            for (int c = 0; c < nc; c++) fprintf(f, ",%.7g", y[i * nc + c]);
            fputc('\n', f);
        }
        rc = lens__afile_commit(af, err);
    }
    st->rows = n;
    st->fitted = uc.fit;
    st->dim = dim;
    free(x);
    free(y);
    lens__wbuf_free(&ids);
    return rc;
}
