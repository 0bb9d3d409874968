/* lens — the review analysis job: reviews + themes.json -> per-game themes,
 * sentiment split and reports.
 *
 * Reviews stream through in chunks (read -> filter -> embed -> assign ->
 * aggregate), so memory does not grow with the input. Outputs go to a
 * directory: assignments.csv (one row per review and theme), report.csv
 * (steamLens columns, numbers instead of formatted strings, no review lists
 * in cells), summaries.csv (representative quotes from every sentence of
 * every review, see lens/summary.h) and report.json. */
#ifndef LENS_ANALYZE_H
#define LENS_ANALYZE_H

#include <stdint.h>

#include "lens/error.h"
#include "lens/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_analyze_opts {
    const char *const *inputs; /* files (.csv, .jsonl, optionally .zst) or directories of them */
    int n_inputs;
    const char *themes;        /* themes.json */
    const char *out_dir;
    const char *model;         /* directory or cached name */
    lens_precision precision;
    int threads, batch_tokens;
    const char *language;      /* keep only this language; NULL or "" keeps all */
    float min_similarity;      /* below it a review is "unassigned" */
    int top_k;                 /* themes per review (>= 1) */
    int quotes;                /* representative quotes per (app, theme, sentiment); 0: no summaries */
    /* column names; NULL: detected from the Steam schema */
    const char *col_app, *col_text, *col_voted, *col_language, *col_name, *col_id;
    /* progress: called after each chunk; may be NULL */
    void (*progress)(void *ctx, uint64_t reviews, double fraction);
    void *ctx;
    volatile int *stop;        /* set non-zero to stop after the current chunk */
} lens_analyze_opts;

typedef struct lens_analyze_stats {
    uint64_t rows, analyzed, empty, other_language, unknown_app, unassigned;
    uint64_t tokens, sentences;
    int unknown_apps;          /* distinct app ids without themes */
    double seconds_read, seconds_embed, seconds_assign, seconds_summarize, seconds_write;
} lens_analyze_stats;

int lens_analyze_run(const lens_analyze_opts *opts, lens_analyze_stats *stats, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
