/* Sentence splitting for extractive summaries (internal). */
#ifndef LENS_TEXT_SENTENCES_H
#define LENS_TEXT_SENTENCES_H

#include <stddef.h>

typedef struct lens__span {
    size_t start, len;
} lens__span;

/* Splits text into sentences: a run of . ! ? (or an ellipsis) followed by
 * whitespace ends one, and so does a line break. Spans are trimmed; those
 * with fewer than min_letters letters or digits are dropped (":)", "10/10"
 * survive only if long enough). Writes at most cap spans; returns how many
 * there are in all. */
size_t lens__sentences_split(const char *text, size_t len, size_t min_letters, lens__span *spans, size_t cap);

#endif
