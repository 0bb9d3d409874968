/* The analyze job's state (internal), shared by the streaming pass
 * (analyze.c), its checkpoints (checkpoint.c), the review map of --map
 * (map.c) and the report writers (report.c: CSV and JSON; report_html.c). */
#ifndef LENS_PIPELINE_ANALYZE_INTERNAL_H
#define LENS_PIPELINE_ANALYZE_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include "base/buf.h"
#include "base/fs.h"
#include "text/sentences.h"
#include "lens/analyze.h"
#include "lens/escape.h"
#include "lens/io.h"
#include "lens/sentiment.h"
#include "lens/summary.h"
#include "lens/themes.h"

#define SAMPLES 3 /* sample reviews kept per (app, theme) for report.html */

typedef struct {
    uint64_t reviews, positive, negative;
    double sim_sum;
} counts;

typedef struct {
    char *name;       /* first name seen for the app */
    counts *theme;    /* [n_themes + 1]: the last is "unassigned"; with top_k > 1 a
                         review counts in each theme it was assigned to */
    counts game;      /* each analysed review of the app once (sim_sum unused) */
    lens_summary **sum; /* [(n_themes + 1) * 2]: by theme, then negative/positive */
    char **sample;      /* [(n_themes + 1) * SAMPLES] first reviews, truncated */
    char **sample_id;
    int8_t *sample_up;
    uint8_t *sample_saved; /* checkpoints: written to the journal */
    uint8_t name_saved;
} app_agg;

typedef struct {
    char id[32];
    uint64_t rows;
} unknown_app;

/* --map: what is drawn of each analysed review, by row (map.c) */
typedef struct {
    size_t n;
    uint32_t *app, *theme;
    uint8_t *up;
    char **id, **text;
    float *xy; /* [n][2] */
} lens__map_points;

typedef struct {
    const lens_analyze_opts *o;
    lens_themes *themes;
    const lens_model *model;
    lens_vader *vader;          /* opened when a file has no voted_up, or with --sentiment vader */
    lens_vader_scratch *vader_scratch;
    lens_encoder *enc;
    int dim, chunk_rows;
    float min_sim; /* the threshold in force (opts or the model's); < -1: off */
    /* input position: rows of inputs[file_index] read, bytes of earlier files */
    int file_index;
    uint64_t file_rows, done_bytes;
    /* progress: rows counted in each input (estimated where not exact), the
     * table being read, the last report; within a chunk (chunk_n reviews,
     * from chunk_base rows on), the share of its work embedding the reviews
     * takes (w_reviews; the rest embeds their sentences) */
    int n_files;
    uint64_t *file_total;
    uint8_t *file_exact;
    lens_table *table;
    uint64_t reported, chunk_base;
    size_t chunk_n;
    int phase; /* 0: reviews, 1: sentences */
    double last_report, embed_t, w_reviews, progress_s;
    /* checkpoints (checkpoint.c) */
    char ckpt_dir[4200], assign_tmp[4300];
    uint64_t assign_len;
    int journal, resumed, created, commits;
    lens__wbuf record;
    /* --map */
    FILE *map_emb, *map_meta;
    uint64_t map_emb_len, map_meta_len;
    lens__map_points map;
    /* outputs written and synced, put in place together at the end */
    lens__afile *outs[8];
    int n_outs;
    app_agg *agg;
    unknown_app *unknown;
    int n_unknown;
    size_t cap_unknown;
    FILE *assign;
    float *emb, *sims;
    /* sentences of a chunk, for the summaries */
    lens__span *spans;
    size_t n_spans, cap_spans;
    int *span_review;
    const char **sent_text;
    size_t *sent_len;
    float *sent_emb;
    size_t cap_sent_emb;
    int *picks;
    lens_analyze_stats *st;
} job;

/* checkpoint.c: open restores the job from out_dir's checkpoint when there
 * is one for it (j->resumed) and opens assignments.csv.tmp; commit records a
 * finished chunk; close(finished) removes the checkpoint (an error only when
 * finished and it cannot). */
int lens__ckpt_open(job *j, char *const *inputs, int n_inputs, lens_error *err);
int lens__ckpt_commit(job *j, lens_error *err);
int lens__ckpt_close(job *j, int finished, lens_error *err);

/* map.c: --map */
int lens__map_open(job *j, lens_error *err);
int lens__map_add(job *j, int app, int theme, int up, const char *id, const char *text, size_t len, const float *e,
                 lens_error *err);
int lens__map_sync(job *j, lens_error *err);
int lens__map_finish(job *j, lens_error *err);
void lens__map_html(job *j, FILE *f, int app);
void lens__map_free(job *j);
/* web/map.js (cmake/embed.cmake), which draws the maps of report.html */
extern const char lens__map_js[];

/* report.c: each output is finished (synced, still a temporary) and kept
 * in j->outs by lens__output_ready; analyze puts them all in place when every
 * one is ready, so a failure leaves the earlier set of outputs whole */
int lens__output_ready(job *j, lens__afile *af, lens_error *err);
int lens__write_reports(job *j, const char *dir, lens_error *err);
int lens__write_summaries(job *j, const char *dir, lens_error *err);
/* report_html.c */
int lens__write_html(job *j, const char *dir, lens_error *err);

#endif
