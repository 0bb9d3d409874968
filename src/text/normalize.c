/* BERT BasicTokenizer normalisation (see normalize.h). */
#include "normalize.h"

#include "unicode.h"

size_t lens__bert_normalize(const lens__bert_norm *o, const unsigned char *s, size_t len, uint32_t *a, uint32_t *b,
                           uint32_t **out)
{
    size_t na = 0;
    int ascii = 1;

    /* 1. clean text, space around CJK */
    for (size_t i = 0; i < len;) {
        uint32_t cp;
        if (s[i] < 0x80) cp = s[i++];
        else i += lens__utf8_decode(s + i, len - i, &cp);
        if (o->clean_text) {
            if (cp == 0 || cp == 0xFFFD || lens__uc_is_control(cp, o->drop_unassigned)) continue;
            if (lens__uc_is_whitespace(cp)) cp = ' ';
        }
        if (cp >= 0x80) ascii = 0;
        if (o->handle_cjk && cp >= 0x3400 && lens__uc_is_cjk(cp)) {
            a[na++] = ' ';
            a[na++] = cp;
            a[na++] = ' ';
        } else {
            a[na++] = cp;
        }
    }

    /* 2. lowercase, character by character as HF tokenizers (Rust) does:
     * there is no Final_Sigma rule there (transformers.js has one). */
    if (o->lowercase) {
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
                    b[nb++] = lens__uc_lower(a[i]);
                }
            }
            uint32_t *tmp = a;
            a = b;
            b = tmp;
            na = nb;
        }
    }

    /* 3. NFD, then drop nonspacing marks */
    if (o->strip_accents && !ascii) {
        size_t nb = 0;
        for (size_t i = 0; i < na; i++) {
            uint32_t d[32];
            int k = a[i] < 0xC0 ? (d[0] = a[i], 1) : lens__uc_nfd_char(a[i], d, 32);
            for (int j = 0; j < k; j++) b[nb++] = d[j];
        }
        /* canonical ordering: stable sort runs of nonzero combining class */
        for (size_t i = 1; i < nb; i++) {
            int cc = lens__uc_combining_class(b[i]);
            if (!cc) continue;
            for (size_t j = i; j > 0; j--) {
                int pc = lens__uc_combining_class(b[j - 1]);
                if (!pc || pc <= cc) break;
                uint32_t tmp = b[j];
                b[j] = b[j - 1];
                b[j - 1] = tmp;
            }
        }
        na = 0;
        for (size_t i = 0; i < nb; i++)
            if (!lens__uc_is_mn(b[i])) a[na++] = b[i];
    }
    *out = a;
    return na;
}
