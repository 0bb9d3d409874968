/* lens — extractive summaries that read every sentence.
 *
 * A lens_summary takes any number of sentences (each with its embedding and
 * the review it came from) and returns K representative quotes, each with
 * how many reviews it stands for. Two levels, so memory stays bounded:
 * sentences are buffered in chunks; from each full chunk, maximal marginal
 * relevance (MMR) picks a few sentences near the chunk's centroid but unlike
 * each other, and every sentence of the chunk is credited to its nearest
 * pick. When the picks reach max_picks, MMR over them keeps an eighth and
 * each dropped pick's credits move to its nearest kept one, so memory stays
 * bounded by max_picks embeddings plus 4 bytes per credited review however
 * many sentences come. At the end, MMR runs again over all picks, around the
 * centroid of everything, and each pick's credit moves to its nearest final
 * quote.
 * Deterministic: the same sentences in the same order give the same quotes.
 *
 * Another backend (an abstractive model) can take the same input: the
 * quotes and their credits are the natural prompt for it. */
#ifndef LENS_SUMMARY_H
#define LENS_SUMMARY_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_summary_opts {
    int dim;
    int k;           /* quotes to return (default 5) */
    int chunk;       /* sentences per first-level chunk (default 128) */
    int per_chunk;   /* first-level picks per chunk (default 8) */
    float lambda;    /* MMR: weight of relevance vs. novelty (default 0.5) */
    int max_picks;   /* first-level picks held before MMR thins them to an eighth (default 1024) */
} lens_summary_opts;

typedef struct lens_quote {
    char *text;
    char *review_id;
    float similarity; /* to the centroid of everything */
    uint64_t reviews; /* distinct reviews credited to this quote */
} lens_quote;

typedef struct lens_summary lens_summary;

LENS_API int lens_summary_new(lens_summary **out, const lens_summary_opts *opts, lens_error *err);
LENS_API void lens_summary_free(lens_summary *s);
/* emb: L2-normalised [dim]. Sentences of one review should arrive together
 * (credits count a review once per quote). */
LENS_API int lens_summary_add(lens_summary *s, const float *emb, const char *text, size_t len, const char *review_id,
                              lens_error *err);
/* Returns up to k quotes, best first; they stay owned by s. */
LENS_API int lens_summary_finish(lens_summary *s, const lens_quote **quotes, int *n, lens_error *err);
LENS_API uint64_t lens_summary_sentences(const lens_summary *s);

#ifdef __cplusplus
}
#endif
#endif
