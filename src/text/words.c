/* Word splitting with BERT BasicTokenizer normalisation (see words.h). */
#include "words.h"

#include <stdlib.h>
#include <string.h>

#include "unicode.h"

void lens_words_init(lens_words *w) { memset(w, 0, sizeof *w); }

void lens_words_free(lens_words *w)
{
    free(w->buf);
    free(w->off);
    free(w->len);
    free(w->a);
    free(w->b);
    memset(w, 0, sizeof *w);
}

static int grow(void **p, size_t need, size_t elem)
{
    void *q = realloc(*p, need * elem);
    if (!q) return -1;
    *p = q;
    return 0;
}

static int reserve_cp(lens_words *w, size_t n_cp)
{
    if (n_cp > w->cp_cap) {
        size_t cap = w->cp_cap ? w->cp_cap : 256;
        while (cap < n_cp) cap *= 2;
        if (grow((void **)&w->a, cap, sizeof *w->a) || grow((void **)&w->b, cap, sizeof *w->b))
            return -1;
        w->cp_cap = cap;
    }
    return 0;
}

/* room for the words of n_cp normalised code points */
static int reserve_words(lens_words *w, size_t n_cp)
{
    /* a word is >= 1 code point plus a separator; each code point <= 4 bytes */
    size_t words = n_cp / 2 + 1, bytes = 4 * n_cp + words + 1;
    if (words > w->words_cap) {
        size_t cap = w->words_cap ? w->words_cap : 64;
        while (cap < words) cap *= 2;
        if (grow((void **)&w->off, cap, sizeof *w->off) || grow((void **)&w->len, cap, sizeof *w->len))
            return -1;
        w->words_cap = cap;
    }
    if (bytes > w->buf_cap) {
        size_t cap = w->buf_cap ? w->buf_cap : 1024;
        while (cap < bytes) cap *= 2;
        if (grow((void **)&w->buf, cap, 1)) return -1;
        w->buf_cap = cap;
    }
    return 0;
}

int lens_words_split(lens_words *w, const char *text, size_t len)
{
    const unsigned char *s = (const unsigned char *)text;
    w->n = 0;
    if (len == 0) return 0;
    /* Worst cases as in tokenizer.c: a CJK char gains two spaces, NFD expands
     * a B-byte code point to at most B + 1. */
    if (reserve_cp(w, 4 * len + 4)) return -1;
    uint32_t *a = w->a, *b = w->b;
    size_t na = 0;
    int ascii = 1;

    /* 1. clean text, space around CJK */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (s[i] < 0x80) cp = s[i++];
        else i += lens_utf8_decode(s + i, len - i, &cp);
        if (cp == 0 || cp == 0xFFFD || lens_uc_is_control(cp, 0)) continue;
        if (lens_uc_is_whitespace(cp)) cp = ' ';
        if (cp >= 0x80) ascii = 0;
        if (cp >= 0x3400 && lens_uc_is_cjk(cp)) {
            a[na++] = ' ';
            a[na++] = cp;
            a[na++] = ' ';
        } else {
            a[na++] = cp;
        }
    }

    /* 2. lowercase per character (no Final_Sigma), then 3. NFD, drop Mn */
    if (ascii) {
        for (size_t i = 0; i < na; i++)
            if (a[i] >= 'A' && a[i] <= 'Z') a[i] += 32;
    } else {
        size_t nb = 0;
        for (size_t i = 0; i < na; i++) {
            if (a[i] == 0x130) { /* İ -> i + combining dot above */
                b[nb++] = 'i';
                b[nb++] = 0x307;
            } else {
                b[nb++] = lens_uc_lower(a[i]);
            }
        }
        size_t nd = 0;
        for (size_t i = 0; i < nb; i++) {
            uint32_t d[32];
            int k = b[i] < 0xC0 ? (d[0] = b[i], 1) : lens_uc_nfd_char(b[i], d, 32);
            for (int j = 0; j < k; j++) a[nd++] = d[j];
        }
        /* canonical ordering, then drop marks, in tokenizer.c's order */
        for (size_t i = 1; i < nd; i++) {
            int cc = lens_uc_combining_class(a[i]);
            if (!cc) continue;
            for (size_t j = i; j > 0; j--) {
                int pc = lens_uc_combining_class(a[j - 1]);
                if (!pc || pc <= cc) break;
                uint32_t tmp = a[j];
                a[j] = a[j - 1];
                a[j - 1] = tmp;
            }
        }
        na = 0;
        for (size_t i = 0; i < nd; i++)
            if (!lens_uc_is_mn(a[i])) a[na++] = a[i];
    }

    /* 4. split on whitespace and punctuation; punctuation is not a word */
    if (reserve_words(w, na)) return -1;
    size_t nbytes = 0, start = 0;
    for (size_t i = 0; i <= na; i++) {
        if (i < na && a[i] != ' ' && !lens_uc_is_punct(a[i])) continue;
        if (i > start) {
            w->off[w->n] = (uint32_t)nbytes;
            for (size_t k = start; k < i; k++) nbytes += lens_utf8_encode(a[k], w->buf + nbytes);
            w->len[w->n] = (uint32_t)(nbytes - w->off[w->n]);
            w->buf[nbytes++] = '\0';
            w->n++;
        }
        start = i + 1;
    }
    return 0;
}
