/* Word splitting with BERT BasicTokenizer normalisation (see words.h). */
#include "words.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "normalize.h"
#include "unicode.h"

void lens__words_init(lens__words *w) { memset(w, 0, sizeof *w); }

void lens__words_free(lens__words *w)
{
    free(w->buf);
    free(w->off);
    free(w->len);
    free(w->a);
    free(w->b);
    memset(w, 0, sizeof *w);
}

static int reserve_cp(lens__words *w, size_t n_cp)
{
    size_t cap = w->cp_cap, cap2 = w->cp_cap;
    if (lens__grow((void **)&w->a, &cap, n_cp, sizeof *w->a) || lens__grow((void **)&w->b, &cap2, n_cp, sizeof *w->b))
        return -1;
    w->cp_cap = cap;
    return 0;
}

/* room for the words of n_cp normalised code points */
static int reserve_words(lens__words *w, size_t n_cp)
{
    /* a word is >= 1 code point plus a separator; each code point <= 4 bytes */
    size_t words = n_cp / 2 + 1, bytes = 4 * n_cp + words + 1;
    size_t cap = w->words_cap, cap2 = w->words_cap;
    if (lens__grow((void **)&w->off, &cap, words, sizeof *w->off) ||
        lens__grow((void **)&w->len, &cap2, words, sizeof *w->len))
        return -1;
    w->words_cap = cap;
    return lens__grow((void **)&w->buf, &w->buf_cap, bytes, 1);
}

int lens__words_split(lens__words *w, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    w->n = 0;
    if (len == 0) return 0;
    if (reserve_cp(w, lens__bert_norm_cap(len))) return -1;
    static const lens__bert_norm norm = {.clean_text = 1, .handle_cjk = 1, .lowercase = 1, .strip_accents = 1};
    uint32_t *a;
    size_t na = lens__bert_normalize(&norm, s, len, w->a, w->b, &a);

    /* 4. split on whitespace and punctuation; punctuation is not a word */
    if (reserve_words(w, na)) return -1;
    size_t nbytes = 0, start = 0;
    for (size_t i = 0; i <= na; i++) {
        if (i < na && a[i] != ' ' && !lens__uc_is_punct(a[i])) continue;
        if (i > start) {
            w->off[w->n] = (uint32_t)nbytes;
            for (size_t k = start; k < i; k++) nbytes += lens__utf8_encode(a[k], w->buf + nbytes);
            w->len[w->n] = (uint32_t)(nbytes - w->off[w->n]);
            w->buf[nbytes++] = '\0';
            w->n++;
        }
        start = i + 1;
    }
    return 0;
}
