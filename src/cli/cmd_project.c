/* lens project: a 2-D or 3-D UMAP map of embeddings (or of texts, embedded
 * first), written as CSV rows id,x,y[,z] in input order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lens/escape.h"
#include "lens/io.h"
#include "lens/model.h"
#include "lens/umap.h"

#define CHUNK 2048 /* texts per encoder call */

static const char *project_usage =
    "usage: lens project INPUT -o OUT.csv [options]\n"
    "  INPUT                float32/float64 .npy matrix [n, dim] (as lens embed writes), or texts:\n"
    "                       .txt (one per line), .jsonl or .csv, optionally .zst, embedded first\n"
    "  -o, --output OUT     CSV with header id,x,y[,z]; one row per input row, in input order\n"
    "  --neighbors N        UMAP n_neighbors, 2..200 (default 15)\n"
    "  --min-dist D         minimum distance between mapped points (default 0.1)\n"
    "  --spread S           scale of the mapped clusters (default 1.0)\n"
    "  --metric M           cosine | euclidean (default cosine)\n"
    "  --components N       2 or 3 (default 2)\n"
    "  --epochs N           optimisation epochs; 0: 500 up to 10,000 fitted points, else 200\n"
    "  --seed S             random seed (default 42); same seed, same map\n"
    "  --fit-size N         fit on a random sample of N points and place the rest by\n"
    "                       transform, chunk by chunk (default 25000; at least 1000)\n"
    "  --threads N          worker threads (default: all CPUs)\n"
    "  --model M            texts only: model directory or cached name (default: all-MiniLM-L6-v2\n"
    "                       when pulled, else the bundled static model)\n"
    "  --precision P        texts only: fp32 | bf16 | int8 (default fp32)\n"
    "  --field F            JSONL text field (default text)\n"
    "  --column C           CSV text column (default text, else review)\n"
    "  --id F               JSONL field / CSV column written as the id (default: the row index)\n";

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

typedef struct {
    char *buf;
    size_t len, cap;
    size_t *off;
    size_t n, n_cap;
} strings;

static int strings_add(strings *s, const char *x, size_t n)
{
    if (s->n == s->n_cap) {
        size_t c = s->n_cap ? s->n_cap * 2 : 4096;
        size_t *o = realloc(s->off, c * sizeof *o);
        if (!o) return -1;
        s->off = o;
        s->n_cap = c;
    }
    if (s->len + n + 1 > s->cap) {
        size_t c = s->cap ? s->cap : 1 << 16;
        while (c < s->len + n + 1) c *= 2;
        char *b = realloc(s->buf, c);
        if (!b) return -1;
        s->buf = b;
        s->cap = c;
    }
    s->off[s->n++] = s->len;
    memcpy(s->buf + s->len, x, n);
    s->buf[s->len + n] = '\0';
    s->len += n + 1;
    return 0;
}

/* Texts in, embeddings out: *x [n, dim], ids when ro->id_field is set. */
static int embed_texts(const char *input, const lens_reader_opts *ro, const char *model_name,
                       const lens_model_opts *mo, int threads, float **x, size_t *n, int *dim, strings *ids)
{
    lens_error err = {0};
    lens_reader *rd = NULL;
    lens_model *model = NULL;
    lens_pool *pool = NULL;
    lens_encoder *enc = NULL;
    strings texts = {0};
    float *emb = NULL;
    size_t rows = 0, cap = 0;
    int status = 1;
    const char **tp = malloc(CHUNK * sizeof *tp);
    size_t *tl = malloc(CHUNK * sizeof *tl);
    if (!tp || !tl) {
        cli_fail("out of memory");
        goto out;
    }
    if (lens_reader_open(&rd, input, ro, &err) || lens_model_open(&model, model_name, mo, &err) ||
        lens_pool_new(&pool, threads, &err) || lens_encoder_new(&enc, model, pool, 4096, &err)) {
        cli_fail("%s", err.msg);
        goto out;
    }
    *dim = lens_model_dim(model);
    cli_progress p;
    cli_progress_start(&p, "embed");
    for (int done = 0; !done;) {
        texts.len = texts.n = 0;
        while (texts.n < CHUNK) {
            const char *t, *id;
            size_t len;
            int r = lens_reader_next(rd, &t, &len, &id, &err);
            if (r < 0) {
                cli_fail("%s", err.msg);
                goto out;
            }
            if (r == 0) {
                done = 1;
                break;
            }
            if (strings_add(&texts, t, len) || (ro->id_field && strings_add(ids, id, strlen(id)))) {
                cli_fail("out of memory");
                goto out;
            }
        }
        size_t m = texts.n;
        if (!m) break;
        if (rows + m > cap) {
            size_t c = cap ? cap * 2 : 16384;
            while (c < rows + m) c *= 2;
            float *e = realloc(emb, c * (size_t)*dim * sizeof *e);
            if (!e) {
                cli_fail("out of memory for %zu embeddings", c);
                goto out;
            }
            emb = e;
            cap = c;
        }
        for (size_t i = 0; i < m; i++) {
            tp[i] = texts.buf + texts.off[i];
            tl[i] = (i + 1 < m ? texts.off[i + 1] : texts.len) - texts.off[i] - 1;
        }
        if (lens_encoder_embed(enc, tp, tl, m, emb + rows * (size_t)*dim, NULL, &err)) {
            cli_fail("%s", err.msg);
            goto out;
        }
        rows += m;
        uint64_t size = lens_reader_size(rd);
        cli_progress_update(&p, rows, size ? (double)lens_reader_offset(rd) / size : -1);
        if (cli_stop) {
            cli_fail("interrupted after embedding %zu rows; nothing was written", rows);
            goto out;
        }
    }
    if (rows == 0) {
        cli_fail("%s: no rows to project", input);
        goto out;
    }
    char extra[512];
    snprintf(extra, sizeof extra, "%s", lens_model_path(model));
    cli_progress_done(&p, rows, extra);
    *x = emb;
    emb = NULL;
    *n = rows;
    status = 0;
out:
    free(emb);
    free(texts.buf);
    free(texts.off);
    free(tp);
    free(tl);
    lens_encoder_free(enc);
    lens_pool_free(pool);
    lens_model_close(model);
    lens_reader_close(rd);
    return status;
}

/* One bar over the whole run: the fit, then (streaming) the transform. */
typedef struct {
    cli_progress bar;
    size_t n, fit;
    int streaming;
} proj_progress;

static void on_progress(void *ctx, size_t done, size_t total, const char *phase)
{
    proj_progress *p = ctx;
    double f = total ? (double)done / total : 0, fit_share = p->streaming ? 0.5 : 1.0, x;
    uint64_t rows = 0;
    if (!strcmp(phase, "knn")) x = 0.3 * f * fit_share;
    else if (!strcmp(phase, "graph") || !strcmp(phase, "init")) x = 0.3 * fit_share;
    else if (!strcmp(phase, "layout")) x = (0.3 + 0.7 * f) * fit_share;
    else {
        x = fit_share + (1 - fit_share) * f;
        rows = p->fit + done;
    }
    cli_progress_update(&p->bar, rows, x);
}

int cmd_project(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *model_name = NULL;
    char cache[4200];
    lens_umap_opts o;
    lens_umap_opts_default(&o);
    o.metric = LENS_UMAP_COSINE;
    lens_model_opts mo = {0};
    lens_reader_opts ro = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ival;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(project_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { output = v; i++; }
        else if (!strcmp(a, "--model")) { model_name = v; i++; }
        else if (!strcmp(a, "--field")) { ro.field = v; i++; }
        else if (!strcmp(a, "--column")) { ro.column = v; i++; }
        else if (!strcmp(a, "--id")) { ro.id_field = v; i++; }
        else if (!strcmp(a, "--precision")) {
            if (!v || lens_precision_parse(v, &mo.precision)) return cli_fail("--precision must be fp32, bf16 or int8");
            i++;
        } else if (!strcmp(a, "--metric")) {
            if (lens_umap_metric_parse(v, &o.metric)) return cli_fail("--metric must be cosine or euclidean");
            i++;
        } else if (!strcmp(a, "--neighbors")) {
            if (cli_int(a, v, 2, 200, &o.n_neighbors)) return 1;
            i++;
        } else if (!strcmp(a, "--components")) {
            if (cli_int(a, v, 2, 3, &o.n_components)) return 1;
            i++;
        } else if (!strcmp(a, "--epochs")) {
            if (cli_int(a, v, 0, 100000, &o.n_epochs)) return 1;
            i++;
        } else if (!strcmp(a, "--threads")) {
            if (cli_int(a, v, 1, 256, &o.threads)) return 1;
            i++;
        } else if (!strcmp(a, "--fit-size")) {
            if (cli_int(a, v, 1, 1 << 30, &ival)) return 1;
            o.fit_size = (size_t)ival;
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            unsigned long long s = v ? strtoull(v, &end, 10) : 0;
            if (!v || !*v || *end || v[0] == '-') return cli_fail("--seed needs a non-negative integer");
            o.seed = s;
            i++;
        } else if (!strcmp(a, "--min-dist") || !strcmp(a, "--spread")) {
            char *end;
            float f = v ? strtof(v, &end) : NAN;
            int spread = a[2] == 's';
            if (!v || !*v || *end || !isfinite(f) || (spread ? !(f > 0) : !(f >= 0)))
                return cli_fail("%s needs a number %s", a, spread ? "> 0" : ">= 0");
            if (spread) o.spread = f;
            else o.min_dist = f;
            i++;
        } else if (a[0] == '-' && a[1]) return cli_fail("project: unknown option %s (see lens project --help)", a);
        else if (!input) input = a;
        else return cli_fail("project: more than one INPUT (%s)", a);
        if (i >= argc) return cli_fail("project: %s needs a value", a);
    }
    if (!input || !output) {
        fputs(project_usage, stderr);
        return 2;
    }
    if (!(o.min_dist < 3 * o.spread)) return cli_fail("--min-dist must be below 3 x --spread");
    if (!model_name) model_name = cli_default_model(cache, sizeof cache);

    cli_install_signals();
    lens_error err = {0};
    float *x = NULL, *y = NULL;
    size_t n = 0, cols = 0;
    int dim = 0, status = 1, wrote_tmp = 0;
    strings ids = {0};
    FILE *f = NULL;
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", output, (long)getpid());
    if (ends_with(input, ".npy")) {
        if (lens_npy_read_f32(input, &x, &n, &cols, &err)) {
            cli_fail("%s", err.msg);
            goto out;
        }
        if (cols == 0 || cols > 1 << 20) {
            cli_fail("%s: %zu columns: need a matrix of embeddings [n, dim]", input, cols);
            goto out;
        }
        dim = (int)cols;
    } else if (embed_texts(input, &ro, model_name, &mo, o.threads, &x, &n, &dim, &ids)) {
        goto out;
    }
    if (n == 0) {
        cli_fail("%s: no rows to project", input);
        goto out;
    }
    int nc = o.n_components;
    y = malloc(n * (size_t)nc * sizeof *y);
    if (!y) {
        cli_fail("out of memory for %zu points", n);
        goto out;
    }
    proj_progress pp = {.n = n};
    size_t fit = o.fit_size > 1000 ? o.fit_size : 1000;
    pp.fit = fit < n ? fit : n;
    pp.streaming = n > pp.fit;
    cli_progress_start(&pp.bar, "project");
    o.progress = on_progress;
    o.ctx = &pp;
    o.stop = &cli_stop;
    int rc = lens_umap_run(x, n, dim, &o, y, &err);
    if (rc == LENS_ECANCEL) {
        cli_fail("interrupted; %s was not written", output);
        goto out;
    }
    if (rc) {
        cli_fail("%s", err.msg);
        goto out;
    }
    wrote_tmp = 1;
    if (!(f = fopen(tmp, "w"))) {
        cli_fail("%s: %s", tmp, strerror(errno));
        goto out;
    }
    fputs(nc == 3 ? "id,x,y,z\n" : "id,x,y\n", f);
    for (size_t i = 0; i < n; i++) {
        if (ro.id_field && ids.n == n) lens_csv_field(f, ids.buf + ids.off[i]);
        else fprintf(f, "%zu", i);
        for (int c = 0; c < nc; c++) fprintf(f, ",%.7g", y[i * nc + c]);
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    f = NULL;
    if (bad) {
        cli_fail("%s: write failed", tmp);
        goto out;
    }
    if (rename(tmp, output) != 0) {
        cli_fail("rename %s -> %s: %s", tmp, output, strerror(errno));
        goto out;
    }
    wrote_tmp = 0;
    char extra[256];
    snprintf(extra, sizeof extra, "%d-D, %s, %zu fitted%s -> %s", nc, o.metric == LENS_UMAP_COSINE ? "cosine" : "euclidean",
             pp.fit, pp.streaming ? " + the rest transformed" : "", output);
    cli_progress_done(&pp.bar, n, extra);
    status = 0;
out:
    if (f) fclose(f);
    if (wrote_tmp) unlink(tmp);
    free(x);
    free(y);
    free(ids.buf);
    free(ids.off);
    return cli_stop && status ? 130 : status;
}
