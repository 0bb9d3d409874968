/* The "analyze" job kind: lens analyze on the job's inputs, into the job's
 * out/ directory, with progress, stop and resume from its checkpoint. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/themes_internal.h"
#include "base/fs.h"
#include "jobs_internal.h"
#include "lens/analyze.h"
#include "lens/themes.h"

static const char *const fields[] = {"inputs",      "themes",       "language",     "min_similarity",  "top_k",
                                     "quotes",      "sentiment",    "chunk",        "map",             "app_column",
                                     "text_column", "voted_column", "language_column", "name_column", "id_column",
                                     NULL};
/* lens_analyze_opts' column names, as params name them */
static const char *const column_fields[] = {"app_column",      "text_column", "voted_column",
                                            "language_column", "name_column", "id_column"};

/* Steam's review_language values: "language" must be one of them (or
 * "all"), unless the input's own language column is named */
static const char *const steam_languages[] = {
    "arabic",  "brazilian",  "bulgarian", "czech",   "danish",  "dutch",    "english",   "finnish",
    "french",  "german",     "greek",     "hungarian", "indonesian", "italian", "japanese", "koreana",
    "latam",   "norwegian",  "polish",    "portuguese", "romanian", "russian", "schinese", "spanish",
    "swedish", "tchinese",   "thai",      "turkish", "ukrainian", "vietnamese", NULL};

static int int_field(json_t *p, const char *name, int lo, int hi, int *out, lens_error *err)
{
    double d = *out;
    int rc = lens__job_number(p, name, lo, hi, 1, &d, err);
    *out = (int)d;
    return rc;
}

/* params -> options; NULL o only checks */
static int parse(json_t *p, lens_analyze_opts *o, lens_error *err)
{
    int rc = lens__job_fields(p, "analyze", fields, err);
    if (rc) return rc;
    json_t *in = json_object_get(p, "inputs");
    if (!json_is_array(in) || !json_array_size(in))
        return lens_error_set(err, LENS_EINVAL, "'inputs' must be a non-empty array of paths");
    for (size_t i = 0; i < json_array_size(in); i++) {
        const char *path = json_string_value(json_array_get(in, i));
        if (!path || !*path) return lens_error_set(err, LENS_EINVAL, "'inputs' must be a non-empty array of paths");
        if (!lens__is_file(path) && !lens__is_dir(path)) return lens_error_set(err, LENS_ENOTFOUND, "input %s: no such file", path);
    }
    const char *themes = json_string_value(json_object_get(p, "themes"));
    if (!themes || !*themes) return lens_error_set(err, LENS_EINVAL, "'themes' must be the path of a themes.json");
    lens_analyze_opts d = {.language = "english", .min_similarity = NAN, .top_k = 1, .quotes = 5};
    if (!o) o = &d;
    o->themes = themes;
    json_t *lang = json_object_get(p, "language");
    if (lang && !json_is_string(lang)) return lens_error_set(err, LENS_EINVAL, "'language' must be a string ('all' keeps every language)");
    if (lang) o->language = strcmp(json_string_value(lang), "all") ? json_string_value(lang) : NULL;
    const char **cols[6] = {&o->col_app, &o->col_text, &o->col_voted, &o->col_language, &o->col_name, &o->col_id};
    for (int i = 0; i < 6; i++) {
        json_t *c = json_object_get(p, column_fields[i]);
        if (c && (!json_is_string(c) || !*json_string_value(c)))
            return lens_error_set(err, LENS_EINVAL, "'%s' must be a column name", column_fields[i]);
        if (c) *cols[i] = json_string_value(c);
    }
    if (o->language && !o->col_language) {
        int known = 0;
        for (int i = 0; steam_languages[i]; i++) known |= !strcmp(o->language, steam_languages[i]);
        if (!known) {
            char list[512] = "";
            for (int i = 0; steam_languages[i]; i++)
                snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", steam_languages[i]);
            return lens_error_set(err, LENS_EINVAL,
                                  "'language' must be \"all\" or a Steam review language (%s), not '%.40s' (or "
                                  "name the input's own language column in 'language_column')",
                                  list, o->language);
        }
    }
    json_t *ms = json_object_get(p, "min_similarity");
    if (ms) {
        if (json_is_number(ms) && json_number_value(ms) >= -1 && json_number_value(ms) <= 1)
            o->min_similarity = (float)json_number_value(ms);
        else if (json_is_string(ms) && !strcmp(json_string_value(ms), "off"))
            o->min_similarity = -2;
        else if (!(json_is_string(ms) && !strcmp(json_string_value(ms), "auto")))
            return lens_error_set(err, LENS_EINVAL, "'min_similarity' must be a number in -1..1, \"auto\" or \"off\"");
    }
    if ((rc = int_field(p, "top_k", 1, 8, &o->top_k, err)) || (rc = int_field(p, "quotes", 0, 100, &o->quotes, err)) ||
        (rc = int_field(p, "chunk", 1, 2048, &o->chunk, err)))
        return rc;
    json_t *map = json_object_get(p, "map");
    if (map && !json_is_boolean(map)) return lens_error_set(err, LENS_EINVAL, "'map' must be true or false");
    o->map = json_is_true(map);
    json_t *s = json_object_get(p, "sentiment");
    if (s) {
        const char *sv = json_string_value(s);
        if (sv && !strcmp(sv, "auto")) o->sentiment = LENS_SENTIMENT_AUTO;
        else if (sv && !strcmp(sv, "voted_up")) o->sentiment = LENS_SENTIMENT_VOTED_UP;
        else if (sv && !strcmp(sv, "vader")) o->sentiment = LENS_SENTIMENT_VADER;
        else return lens_error_set(err, LENS_EINVAL, "'sentiment' must be \"auto\", \"voted_up\" or \"vader\"");
    }
    return LENS_OK;
}

/* the inputs as lens_analyze_opts takes them (the strings are params') */
static const char **input_list(json_t *p, int *n, lens_error *err)
{
    json_t *in = json_object_get(p, "inputs");
    *n = (int)json_array_size(in);
    const char **inputs = calloc((size_t)*n + 1, sizeof *inputs);
    if (!inputs) lens_error_set(err, LENS_ENOMEM, "out of memory");
    for (int i = 0; inputs && i < *n; i++) inputs[i] = json_string_value(json_array_get(in, i));
    return inputs;
}

static int check(lens_jobs *j, json_t *params, const char *job_dir, lens_error *err)
{
    lens_analyze_opts o = {.language = "english", .min_similarity = NAN, .top_k = 1, .quotes = 5};
    int rc = parse(params, &o, err);
    if (rc) return rc;
    /* a bad themes.json is the caller's error, found now rather than in the job */
    lens_themes *t = NULL;
    const char *themes = json_string_value(json_object_get(params, "themes"));
    rc = lens__themes_load_in(&t, lens__job_root(j, job_dir, themes), themes, err);
    lens_themes_free(t);
    if (rc) return rc;
    /* so are inputs the job could never read: opened as the job will open
     * them, each file's header and first review */
    const char **inputs = input_list(params, &o.n_inputs, err);
    if (!inputs) return LENS_ENOMEM;
    o.inputs = inputs;
    o.root = lens__job_root(j, job_dir, inputs[0]);
    rc = lens_analyze_check(&o, err);
    free(inputs);
    return rc;
}

typedef struct {
    job_run *r;
    const lens_analyze_stats *st;
    int chunk_rows;
} progress_ctx;

static void on_progress(void *ctx, uint64_t rows, double fraction)
{
    progress_ctx *p = ctx;
    const lens_analyze_stats *st = p->st;
    double ph[PHASES] = {st->seconds_read, st->seconds_embed, st->seconds_assign, st->seconds_summarize,
                         st->seconds_write};
    p->r->total = st->rows_total;
    lens__job_progress(p->r, rows, fraction, (uint64_t)p->chunk_rows, ph);
}

static int run(job_run *r, lens_error *err)
{
    lens_jobs *j = r->jobs;
    json_t *p = r->e->params; /* immutable once submitted */
    lens_analyze_opts o = {.language = "english", .min_similarity = NAN, .top_k = 1, .quotes = 5,
                           .batch_tokens = 4096};
    int rc = parse(p, &o, err);
    if (rc) return rc;
    int n = 0;
    const char **inputs = input_list(p, &n, err);
    if (!inputs) return LENS_ENOMEM;
    char out[4300];
    snprintf(out, sizeof out, "%s/out", r->dir);
    lens_analyze_stats st;
    progress_ctx pc = {.r = r, .st = &st, .chunk_rows = o.chunk ? o.chunk : 2048};
    o.inputs = inputs;
    o.n_inputs = n;
    o.root = lens__job_root(j, r->dir, inputs[0]);
    o.out_dir = out;
    o.model = j->o.model_name;
    o.loaded = j->o.model;
    o.threads = j->o.threads;
    o.vader_lexicon = j->o.vader_lexicon;
    o.progress = on_progress;
    o.ctx = &pc;
    o.stop = &r->e->stop;
    rc = lens_analyze_run(&o, &st, err);
    if (!rc) {
        double ph[PHASES] = {st.seconds_read, st.seconds_embed, st.seconds_assign, st.seconds_summarize,
                             st.seconds_write};
        lens__job_progress(r, st.rows, 1.0, (uint64_t)pc.chunk_rows, ph);
    }
    free(inputs);
    return rc;
}

const job_kind lens__job_kind_analyze = {.name = "analyze", .check = check, .run = run};
