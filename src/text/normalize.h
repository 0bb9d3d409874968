/* BERT BasicTokenizer normalisation, shared by the WordPiece tokenizer and
 * the static model's word splitter (internal). */
#ifndef LENS_TEXT_NORMALIZE_H
#define LENS_TEXT_NORMALIZE_H

#include <stddef.h>
#include <stdint.h>

typedef struct lens__bert_norm {
    int clean_text;      /* drop NUL, U+FFFD and controls; whitespace -> ' ' */
    int drop_unassigned; /* with clean_text: unassigned code points are controls too */
    int handle_cjk;      /* a space either side of each CJK ideograph */
    int lowercase;       /* per character, no Final_Sigma, as HF tokenizers (Rust) */
    int strip_accents;   /* NFD, canonical order, then drop nonspacing marks */
} lens__bert_norm;

/* Normalises s[0..len) into code points. a and b are scratch of at least
 * lens__bert_norm_cap(len) code points each; *out points at whichever holds
 * the result. Returns the number of code points. */
size_t lens__bert_normalize(const lens__bert_norm *o, const unsigned char *s, size_t len, uint32_t *a, uint32_t *b,
                           uint32_t **out);

/* Worst cases: ASCII is one code point a byte, a CJK char (3 bytes) gains two
 * spaces, NFD expands a code point of B >= 2 bytes to at most B + 1. */
static inline size_t lens__bert_norm_cap(size_t len) { return 4 * len + 4; }

#endif
