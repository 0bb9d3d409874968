/* lens — the review analysis job: reviews + themes.json -> per-game themes,
 * sentiment split and reports.
 *
 * Reviews stream through in chunks (read -> filter -> embed -> assign ->
 * aggregate), so memory does not grow with the input. Outputs go to a
 * directory: assignments.csv (one row per review and theme), report.csv
 * (steamLens columns, numbers instead of formatted strings, no review lists
 * in cells), summaries.csv (representative quotes from every sentence of
 * every review, see lens/summary.h), report.json and report.html.
 *
 * After every chunk the job's state is checkpointed in
 * out_dir/.lens-checkpoint; run the same job again after a crash, a kill or
 * a stop and it resumes from the last chunk, with outputs byte-identical to
 * an uninterrupted run. The checkpoint is removed when the job finishes. */
#ifndef LENS_ANALYZE_H
#define LENS_ANALYZE_H

#include <stdatomic.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/model.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a review's sentiment comes from. */
typedef enum {
    LENS_SENTIMENT_AUTO,     /* voted_up when the input has it, else VADER */
    LENS_SENTIMENT_VOTED_UP, /* the voted_up column; an error without it */
    LENS_SENTIMENT_VADER     /* VADER on the review text: positive when compound >= LENS_VADER_POSITIVE */
} lens_sentiment_source;

#define LENS_VADER_POSITIVE 0.0 /* see bench/sentiment: the better split on the Steam data */

typedef struct lens_analyze_opts {
    const char *const *inputs; /* files (.csv, .jsonl, optionally .zst; .parquet) or directories of them */
    int n_inputs;
    const char *themes;        /* themes.json */
    const char *out_dir;
    const char *model;         /* directory or cached name (recorded in the reports) */
    const lens_model *loaded;  /* optional: an open model to use (a server shares one); then
                                  model only names it and precision is the model's */
    lens_precision precision;
    int threads, batch_tokens;
    const char *language;      /* keep only this language; NULL or "" keeps all */
    float min_similarity;      /* below it a review is "unassigned"; < -1: off; NAN: the
                                  model's recommended value (lens_model_min_similarity), else off */
    int top_k;                 /* themes per review (>= 1) */
    int quotes;                /* representative quotes per (app, theme, sentiment); 0: no summaries */
    lens_sentiment_source sentiment;
    const char *vader_lexicon; /* directory of vader_lexicon.txt (data/vader), for VADER */
    int chunk;                 /* reviews per chunk and checkpoint; 0: 2048 (the most) */
    int restart;               /* ignore a checkpoint in out_dir instead of resuming from it */
    int map;                   /* also a 2-D UMAP map of the reviews: map.csv and a map per game
                                  in report.html */
    /* column names; NULL: detected from the Steam schema */
    const char *col_app, *col_text, *col_voted, *col_language, *col_name, *col_id;
    /* progress (may be NULL): rows done and the fraction of the input that is,
     * of stats->rows_total (set before each call). Called once when reading
     * starts (a resumed run: where it stood), within a chunk as its reviews
     * are embedded (at most every progress_seconds), after each chunk, and
     * with 1.0 when every row is done. */
    void (*progress)(void *ctx, uint64_t reviews, double fraction);
    void *ctx;
    double progress_seconds;   /* least time between reports within a chunk; 0: 0.25 s */
    atomic_int *stop;          /* set non-zero (any thread, or a signal handler) to stop after the
                                  current chunk (LENS_ECANCEL) */
    const char *root;          /* optional: every input must lie under this directory when it is
                                  opened; a symlink leading out is refused (the job service's
                                  --data-root). NULL: any path */
} lens_analyze_opts;

typedef struct lens_analyze_stats {
    uint64_t rows, analyzed, empty, other_language, unknown_app, unassigned;
    uint64_t tokens, sentences;
    uint64_t sentiment_vader;  /* reviews whose sentiment VADER gave (no voted_up, or --sentiment vader) */
    uint64_t invalid_utf8;     /* rows read with invalid UTF-8, each bad byte replaced by U+FFFD */
    uint64_t invalid_utf8_bytes;
    uint64_t rows_total;       /* rows in the inputs, for progress: counted before reading (see
                                  lens_table_count; past 256 MiB of a file estimated, and refined
                                  from the bytes read); exact once the run is done */
    int unknown_apps;          /* distinct app ids without themes */
    int resumed;               /* 1 when the run went on from a checkpoint */
    uint64_t rows_resumed;     /* rows the checkpoint had done (set before the first progress call) */
    double seconds_read, seconds_embed, seconds_assign, seconds_summarize, seconds_write;
} lens_analyze_stats;

LENS_API int lens_analyze_run(const lens_analyze_opts *opts, lens_analyze_stats *stats, lens_error *err);
/* What lens_analyze_run would refuse in the inputs, found before it runs:
 * every input (directories expanded) opens, has the columns the options
 * need and a first review that parses. Reads headers and first records
 * only; the themes and the model are not looked at. */
LENS_API int lens_analyze_check(const lens_analyze_opts *opts, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
