/* lens — sentiment: VADER, the rule-based scorer of vaderSentiment 3.3.2
 * (C.J. Hutto, MIT), reimplemented in C over its lexicon (data/vader).
 *
 * Scores equal vaderSentiment 3.3.2's polarity_scores(), rounding included:
 * neg/neu/pos to 3 decimals, compound to 4, half-even on the exact double
 * like Python's round(). tests/test_vader.c checks this on ~1,900 texts.
 *
 * Text is UTF-8 of any length; an invalid byte counts as one character that
 * is neither space, letter nor punctuation. */
#ifndef LENS_SENTIMENT_H
#define LENS_SENTIMENT_H

#include <stddef.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_vader lens_vader;

/* Per-thread working memory for lens_vader_score: buffers that grow to the
 * longest text scored so far and are reused, so scoring allocates only when
 * a text is longer than any before it. One scratch per thread. */
typedef struct lens_vader_scratch lens_vader_scratch;

typedef struct lens_sentiment {
    double neg, neu, pos; /* proportions of the text, each rounded to 0.001 */
    double compound;      /* normalised sum in [-1, 1], rounded to 0.0001 */
} lens_sentiment;

/* Loads DIR/vader_lexicon.txt and, if present, DIR/vader_emoji_utf8_lexicon.txt
 * (without it, emojis are not replaced by their descriptions). A malformed
 * line is an error naming file:line. */
LENS_API int lens_vader_open(lens_vader **out, const char *lexicon_dir, lens_error *err);
LENS_API void lens_vader_close(lens_vader *v);

/* NULL when out of memory. */
LENS_API lens_vader_scratch *lens_vader_scratch_new(void);
LENS_API void lens_vader_scratch_free(lens_vader_scratch *s);

/* Scores text[0..len). Thread-safe: v is only read, so any number of threads
 * may share one lens_vader, each with its own scratch. scratch may be NULL:
 * then one is made and freed inside the call (convenient, slower). Fails
 * only when memory runs out (LENS_ENOMEM) or on bad arguments. */
LENS_API int lens_vader_score(const lens_vader *v, lens_vader_scratch *scratch, const char *text, size_t len,
                              lens_sentiment *out, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
