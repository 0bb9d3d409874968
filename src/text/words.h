/* Words for word-vector models: BERT BasicTokenizer normalisation (clean
 * text, space around CJK ideographs, lowercase, NFD and strip nonspacing
 * marks), split on whitespace and punctuation; punctuation is dropped,
 * numbers are kept. Same steps as src/text/tokenizer.c with all its flags
 * on, minus WordPiece (internal). */
#ifndef LENS_TEXT_WORDS_H
#define LENS_TEXT_WORDS_H

#include <stddef.h>
#include <stdint.h>

/* Caller-owned work buffer, reused across texts: after warm-up a split does
 * not allocate. Zero-initialise (or lens__words_init) before first use. */
typedef struct lens__words {
    size_t n;          /* words of the last split */
    char *buf;         /* word i is buf + off[i], len[i] bytes, NUL-terminated */
    uint32_t *off, *len;
    size_t buf_cap, words_cap;
    uint32_t *a, *b;   /* code point scratch */
    size_t cp_cap;
} lens__words;

void lens__words_init(lens__words *w);
void lens__words_free(lens__words *w);

/* Splits text[0..len) (UTF-8; invalid bytes are dropped) into w. Returns 0,
 * or -1 when out of memory. */
int lens__words_split(lens__words *w, const char *text, size_t len);

static inline const char *lens__words_at(const lens__words *w, size_t i, size_t *len)
{
    *len = w->len[i];
    return w->buf + w->off[i];
}

#endif
