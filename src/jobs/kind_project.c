/* The "project" job kind: a UMAP map of embeddings or texts (lens/project.h)
 * into the job's out/projection.csv. UMAP keeps no checkpoint: a paused or
 * retried projection starts again from its input. */
#include <stdio.h>
#include <string.h>

#include "base/fs.h"
#include "io/io_internal.h"
#include "jobs_internal.h"
#include "lens/project.h"

static const char *const fields[] = {"input", "neighbors", "min_dist", "spread", "metric", "components", "epochs",
                                     "seed", "fit_size", "field", "column", "id", NULL};

static int parse(json_t *p, lens_project_opts *o, lens_error *err)
{
    int rc = lens__job_fields(p, "project", fields, err);
    if (rc) return rc;
    const char *in = json_string_value(json_object_get(p, "input"));
    if (!in || !lens__is_file(in)) return lens_error_set(err, LENS_EINVAL, "'input' must be an .npy or text file");
    o->input = in;
    lens_umap_opts_default(&o->umap);
    o->umap.metric = LENS_UMAP_COSINE;
    double d;
    d = (double)o->umap.n_neighbors;
    if ((rc = lens__job_number(p, "neighbors", 2, 200, 0, &d, err))) return rc;
    o->umap.n_neighbors = (int)d;
    d = (double)o->umap.n_components;
    if ((rc = lens__job_number(p, "components", 2, 3, 0, &d, err))) return rc;
    o->umap.n_components = (int)d;
    d = (double)o->umap.n_epochs;
    if ((rc = lens__job_number(p, "epochs", 0, 100000, 0, &d, err))) return rc;
    o->umap.n_epochs = (int)d;
    d = (double)o->umap.min_dist;
    if ((rc = lens__job_number(p, "min_dist", 0, 100, 0, &d, err))) return rc;
    o->umap.min_dist = (float)d;
    d = (double)o->umap.spread;
    if ((rc = lens__job_number(p, "spread", 1e-3, 100, 0, &d, err))) return rc;
    o->umap.spread = (float)d;
    d = (double)o->umap.seed;
    if ((rc = lens__job_number(p, "seed", 0, 9007199254740992.0, 0, &d, err))) return rc;
    o->umap.seed = (uint64_t)d;
    d = (double)o->umap.fit_size;
    if ((rc = lens__job_number(p, "fit_size", 1, 1e9, 0, &d, err))) return rc;
    o->umap.fit_size = (size_t)d;
    if (!(o->umap.min_dist < 3 * o->umap.spread)) return lens_error_set(err, LENS_EINVAL, "'min_dist' must be below 3 x 'spread'");
    json_t *m = json_object_get(p, "metric");
    if (m && (!json_is_string(m) || lens_umap_metric_parse(json_string_value(m), &o->umap.metric)))
        return lens_error_set(err, LENS_EINVAL, "'metric' must be \"cosine\" or \"euclidean\"");
    const char *s[3] = {"field", "column", "id"};
    const char **dst[3] = {&o->texts.field, &o->texts.column, &o->texts.id_field};
    for (int i = 0; i < 3; i++) {
        json_t *x = json_object_get(p, s[i]);
        if (x && !json_is_string(x)) return lens_error_set(err, LENS_EINVAL, "'%s' must be a string", s[i]);
        if (x) *dst[i] = json_string_value(x);
    }
    return LENS_OK;
}

static int check(lens_jobs *j, json_t *params, const char *job_dir, lens_error *err)
{
    lens_project_opts o = {0};
    int rc = parse(params, &o, err);
    if (rc || (strlen(o.input) > 4 && !strcmp(o.input + strlen(o.input) - 4, ".npy"))) return rc;
    /* texts the job could never read are the caller's error, found now:
     * opened as the job will open them, up to the first text */
    lens_reader *rd = NULL;
    const char *text, *id;
    size_t len;
    rc = lens__reader_open_in(&rd, lens__job_root(j, job_dir, o.input), o.input, &o.texts, err);
    if (!rc) {
        int r = lens_reader_next(rd, &text, &len, &id, err);
        if (r == 0) rc = lens_error_set(err, LENS_EFORMAT, "%s: no texts in it", o.input);
        else if (r < 0) rc = r;
    }
    lens_reader_close(rd);
    return rc;
}

static void on_progress(void *ctx, const char *phase, size_t rows, double fraction)
{
    job_run *r = ctx;
    double ph[PHASES] = {0};
    r->first = 0;
    lens__job_progress(r, rows, fraction, 0, ph);
}

static int run(job_run *r, lens_error *err)
{
    lens_jobs *j = r->jobs;
    lens_project_opts o = {0};
    int rc = parse(r->e->params, &o, err);
    if (rc) return rc;
    char out[4300];
    snprintf(out, sizeof out, "%s/out", r->dir);
    if ((rc = lens__mkdirs(out, err))) return rc;
    snprintf(out, sizeof out, "%s/out/projection.csv", r->dir);
    o.output = out;
    o.loaded = j->o.model;
    o.threads = j->o.threads;
    o.progress = on_progress;
    o.ctx = r;
    o.root = lens__job_root(j, r->dir, o.input);
    o.stop = &r->e->stop;
    lens_project_stats st;
    rc = lens_project_run(&o, &st, err);
    if (!rc) {
        double ph[PHASES] = {0};
        lens__job_progress(r, st.rows, 1.0, 0, ph);
    }
    return rc;
}

const job_kind lens__job_kind_project = {.name = "project", .check = check, .run = run};
