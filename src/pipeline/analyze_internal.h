/* The analyze job's state shared by the streaming pass (analyze.c) and the
 * report writers (report.c); internal. */
#ifndef LENS_PIPELINE_ANALYZE_INTERNAL_H
#define LENS_PIPELINE_ANALYZE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "../text/sentences.h"
#include "lens/analyze.h"
#include "lens/summary.h"
#include "lens/themes.h"

#define SAMPLES 3 /* sample reviews kept per (app, theme) for report.html */

typedef struct {
    uint64_t reviews, positive, negative;
    double sim_sum;
} counts;

typedef struct {
    char *name;       /* first name seen for the app */
    counts *theme;    /* [n_themes + 1]: the last is "unassigned" */
    lens_summary **sum; /* [(n_themes + 1) * 2]: by theme, then negative/positive */
    char **sample;      /* [(n_themes + 1) * SAMPLES] first reviews, truncated */
    char **sample_id;
    int8_t *sample_up;
} app_agg;

typedef struct {
    char id[32];
    uint64_t rows;
} unknown_app;

typedef struct {
    const lens_analyze_opts *o;
    lens_themes *themes;
    lens_encoder *enc;
    int dim;
    app_agg *agg;
    unknown_app *unknown;
    int n_unknown, cap_unknown;
    FILE *assign;
    float *emb, *sims;
    /* sentences of a chunk, for the summaries */
    lens_span *spans;
    size_t n_spans, cap_spans;
    int *span_review;
    const char **sent_text;
    size_t *sent_len;
    float *sent_emb;
    size_t cap_sent_emb;
    int *picks;
    lens_analyze_stats *st;
} job;

/* report.c */
void lens_csv_field(FILE *f, const char *s);
void lens_json_str(FILE *f, const char *s);
int lens_write_reports(job *j, const char *dir, lens_error *err);
int lens_write_summaries(job *j, const char *dir, lens_error *err);
int lens_write_html(job *j, const char *dir, lens_error *err);

#endif
