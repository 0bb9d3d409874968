/* VADER sentiment, vaderSentiment 3.3.2 (C.J. Hutto, MIT) in C.
 *
 * Every rule follows polarity_scores() of 3.3.2 step by step, quirks
 * included, because the goal is the same numbers (tests/test_vader.c):
 *   - emoji code points become their descriptions, then the text is stripped;
 *   - tokens: str.split(), then ASCII punctuation stripped from both ends
 *     unless that leaves <= 2 characters (emoticons like ":)" survive);
 *   - lookups use Python's str.lower(), caps use str.isupper() (Unicode);
 *   - "but" scaling finds each value with list.index(), so of two equal
 *     values the first one is scaled (twice) and the second not at all;
 *   - round() is half-even on the exact double.
 * One hash probe per token gives lexicon valence, booster scalar, negation
 * and the ids of the words the rules compare against (the tables are
 * loaded by vader_lexicon.c). */
#include "lens/sentiment.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "base/buf.h"
#include "base/hash.h"
#include "vader_internal.h"

/* SPECIAL_CASES of 3.3.2. Its "badass" never fires: the rule looks up
 * sequences of 2 or 3 words joined by a space. */
static const struct {
    unsigned char w[3];
    double valence;
} SPECIAL[] = {
    {{KW_THE, KW_SHIT}, 3}, {{KW_THE, KW_BOMB}, 3}, {{KW_BAD, KW_ASS}, 1.5}, {{KW_BUS, KW_STOP}, 0.0},
    {{KW_YEAH, KW_RIGHT}, -2}, {{KW_KISS, KW_OF, KW_DEATH}, -1.5}, {{KW_TO, KW_DIE, KW_FOR}, 3},
    {{KW_BEATING, KW_HEART}, 3.1}, {{KW_BROKEN, KW_HEART}, -2.9},
};
/* The two-word entries of BOOSTER_DICT (all dampeners). */
static const unsigned char BIGRAM_BOOSTERS[][2] = {{KW_JUST, KW_ENOUGH}, {KW_KIND, KW_OF}, {KW_SORT, KW_OF}};

typedef struct tok {
    uint32_t off, len; /* bytes in the scored text */
    const entry *e;    /* the lowercased token's entry, or NULL */
    unsigned char upper, negated;
} tok;

struct lens_vader_scratch {
    char *text; /* the text with emojis replaced */
    size_t text_cap;
    char *lower; /* one lowercased token */
    size_t lower_cap;
    tok *toks;
    double *sent;
    size_t tok_cap;
};

/* ---- Python's character classes */

static int ascii_punct(unsigned char c) /* string.punctuation */
{
    return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') || (c >= '{' && c <= '~');
}

static int in_ranges(uint32_t c, const uint32_t (*r)[2], size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (c >= r[i][0] && c <= r[i][1]) return 1;
    return 0;
}

/* Python's "Lowercase"/"Uppercase" are Ll/Lu plus Other_Lowercase/Other_Uppercase. */
static const uint32_t OTHER_LOWER[][2] = {
    {0xAA, 0xAA}, {0xBA, 0xBA}, {0x2B0, 0x2B8}, {0x2C0, 0x2C1}, {0x2E0, 0x2E4}, {0x345, 0x345}, {0x37A, 0x37A},
    {0x10FC, 0x10FC}, {0x1D2C, 0x1D6A}, {0x1D78, 0x1D78}, {0x1D9B, 0x1DBF}, {0x2071, 0x2071}, {0x207F, 0x207F},
    {0x2090, 0x209C}, {0x2170, 0x217F}, {0x24D0, 0x24E9}, {0x2C7C, 0x2C7D}, {0xA69C, 0xA69D}, {0xA770, 0xA770},
    {0xA7F8, 0xA7F9}, {0xAB5C, 0xAB5F}, {0xAB69, 0xAB69}, {0x10780, 0x10780}, {0x10783, 0x10785},
    {0x10787, 0x107B0}, {0x107B2, 0x107BA}, {0x1E030, 0x1E06D},
};
static const uint32_t OTHER_UPPER[][2] = {
    {0x2160, 0x216F}, {0x24B6, 0x24CF}, {0x1F130, 0x1F149}, {0x1F150, 0x1F169}, {0x1F170, 0x1F189},
};

/* str.isupper(): no lowercase or titlecase character and at least one uppercase one. */
static int py_isupper(const unsigned char *s, size_t n)
{
    int cased = 0;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        i += next_cp(s + i, n - i, &c);
        if (c < 0x80) {
            if (c >= 'a' && c <= 'z') return 0;
            if (c >= 'A' && c <= 'Z') cased = 1;
            continue;
        }
        if (c == UINT32_MAX) continue;
        utf8proc_category_t cat = utf8proc_category((utf8proc_int32_t)c);
        if (cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT ||
            in_ranges(c, OTHER_LOWER, sizeof OTHER_LOWER / sizeof *OTHER_LOWER))
            return 0;
        if (cat == UTF8PROC_CATEGORY_LU || in_ranges(c, OTHER_UPPER, sizeof OTHER_UPPER / sizeof *OTHER_UPPER))
            cased = 1;
    }
    return cased;
}

/* str.lower() into out (room for 3 bytes per input byte); returns the length.
 * Simple case mapping plus SpecialCasing's one unconditional lowercase entry
 * (U+0130). Python's final-sigma rule is left out: it only picks between two
 * Greek letters, and no key of the lexicons is Greek. */
static size_t py_lower(const unsigned char *s, size_t n, char *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n;) {
        if (s[i] < 0x80) {
            unsigned char c = s[i++];
            out[o++] = (char)(c >= 'A' && c <= 'Z' ? c + 32 : c);
            continue;
        }
        uint32_t c;
        size_t k = next_cp(s + i, n - i, &c);
        if (c == UINT32_MAX) {
            out[o++] = (char)s[i];
        } else if (c == 0x130) {
            memcpy(out + o, "i\xCC\x87", 3);
            o += 3;
        } else {
            o += lens__utf8_encode((uint32_t)utf8proc_tolower((utf8proc_int32_t)c), out + o);
        }
        i += k;
    }
    return o;
}

void lens__vader_py_strip(const char **s, size_t *n)
{
    const unsigned char *p = (const unsigned char *)*s, *e = p + *n;
    while (p < e) {
        uint32_t c;
        size_t k = next_cp(p, (size_t)(e - p), &c);
        if (!py_space(c)) break;
        p += k;
    }
    while (e > p) { /* back up over one character */
        const unsigned char *q = e - 1;
        while (q > p && (*q & 0xC0) == 0x80 && e - q < 4) q--;
        uint32_t c;
        if (next_cp(q, (size_t)(e - q), &c) != (size_t)(e - q)) { /* not one character: a bad byte */
            q = e - 1;
            c = UINT32_MAX;
        }
        if (!py_space(c)) break;
        e = q;
    }
    *s = (const char *)p;
    *n = (size_t)(e - p);
}

/* ---- lookups */

static const entry *lookup(const lens_vader *v, const char *s, size_t n)
{
    uint32_t h = lens__hash_fold32(lens__hash_bytes(LENS__HASH_INIT, s, n));
    for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
        const entry *e = &v->tab[i];
        if (!e->len) return NULL;
        if (e->hash == h && e->len == n && memcmp(v->arena + e->off, s, n) == 0) return e;
    }
}

static const emoji *emoji_find(const lens_vader *v, uint32_t cp)
{
    if (!v->emo_mask || cp == 0 || cp == UINT32_MAX) return NULL;
    for (uint32_t i = emoji_slot(cp, v->emo_mask);; i = (i + 1) & v->emo_mask) {
        if (v->emo[i].cp == cp) return &v->emo[i];
        if (!v->emo[i].cp) return NULL;
    }
}

lens_vader_scratch *lens_vader_scratch_new(void)
{
    return calloc(1, sizeof(lens_vader_scratch));
}

void lens_vader_scratch_free(lens_vader_scratch *s)
{
    if (!s) return;
    free(s->text);
    free(s->lower);
    free(s->toks);
    free(s->sent);
    free(s);
}

/* ---- scoring */

/* The emoji pass of polarity_scores: each emoji code point becomes its
 * description, preceded by a space unless the previous character was one.
 * Returns the text to score (text itself when it has no emoji), NULL on OOM. */
static const char *replace_emojis(const lens_vader *v, lens_vader_scratch *s, const char *text, size_t *len)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t n = *len, need = 0;
    if (!v->emo_mask) return text;
    if (!v->emo_ascii) {
        size_t i = 0;
        while (i < n && t[i] < 0x80) i++;
        if (i == n) return text;
    }
    /* measure first: most texts have no emoji and are scored in place */
    int found = 0, prev_space = 1;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = next_cp(t + i, n - i, &c);
        const emoji *e = emoji_find(v, c);
        if (e) {
            need += (size_t)!prev_space + e->len;
            prev_space = 0;
            found = 1;
        } else {
            need += k;
            prev_space = c == ' ';
        }
        i += k;
    }
    if (!found) return text;
    if (lens__grow((void **)&s->text, &s->text_cap, need + 1, 1)) return NULL;
    char *o = s->text;
    prev_space = 1;
    for (size_t i = 0; i < n;) {
        uint32_t c;
        size_t k = next_cp(t + i, n - i, &c);
        const emoji *e = emoji_find(v, c);
        if (e) {
            if (!prev_space) *o++ = ' ';
            memcpy(o, v->arena + e->off, e->len);
            o += e->len;
            prev_space = 0;
        } else {
            memcpy(o, t + i, k);
            o += k;
            prev_space = c == ' ';
        }
        i += k;
    }
    *len = need;
    return s->text;
}

static int tok_is(const tok *t, int kw)
{
    return t->e && t->e->kw == kw;
}

static int in_lex(const tok *t)
{
    return t->e && (t->e->flags & F_LEX);
}

/* scalar_inc_dec: the booster/dampener effect of word on valence. */
static double scalar_inc_dec(const tok *w, double valence, int cap_diff)
{
    double scalar = 0.0;
    if (w->e && (w->e->flags & F_BOOST)) {
        scalar = w->e->boost;
        if (valence < 0) scalar *= -1;
        if (w->upper && cap_diff) scalar += valence > 0 ? C_INCR : -C_INCR;
    }
    return scalar;
}

static double negation_check(double valence, const tok *w, int start, int i)
{
    if (start == 0) {
        if (w[i - 1].negated) valence *= N_SCALAR;
    } else if (start == 1) {
        if (tok_is(&w[i - 2], KW_NEVER) && (tok_is(&w[i - 1], KW_SO) || tok_is(&w[i - 1], KW_THIS)))
            valence *= 1.25;
        else if (tok_is(&w[i - 2], KW_WITHOUT) && tok_is(&w[i - 1], KW_DOUBT))
            ;
        else if (w[i - 2].negated)
            valence *= N_SCALAR;
    } else {
        if ((tok_is(&w[i - 3], KW_NEVER) && (tok_is(&w[i - 2], KW_SO) || tok_is(&w[i - 2], KW_THIS))) ||
            tok_is(&w[i - 1], KW_SO) || tok_is(&w[i - 1], KW_THIS))
            valence *= 1.25;
        else if (tok_is(&w[i - 3], KW_WITHOUT) && (tok_is(&w[i - 2], KW_DOUBT) || tok_is(&w[i - 1], KW_DOUBT)))
            ;
        else if (w[i - 3].negated)
            valence *= N_SCALAR;
    }
    return valence;
}

/* Does w[at..at+n) spell the keyword sequence kw (n = 2 or 3)? */
static int seq_is(const tok *w, int at, const unsigned char *kw, int n)
{
    for (int k = 0; k < n; k++)
        if (!tok_is(&w[at + k], kw[k])) return 0;
    return 1;
}

static double special_idioms_check(double valence, const tok *w, int i, int n)
{
    /* onezero, twoonezero, twoone, threetwoone, threetwo: the first match wins */
    static const struct { int at, len; } SEQS[] = {{-1, 2}, {-2, 3}, {-2, 2}, {-3, 3}, {-3, 2}};
    int found = 0;
    for (size_t q = 0; q < sizeof SEQS / sizeof *SEQS && !found; q++)
        for (size_t k = 0; k < sizeof SPECIAL / sizeof *SPECIAL; k++) {
            int len = SPECIAL[k].w[2] ? 3 : 2;
            if (len == SEQS[q].len && seq_is(w, i + SEQS[q].at, SPECIAL[k].w, len)) {
                valence = SPECIAL[k].valence;
                found = 1;
                break;
            }
        }
    for (size_t k = 0; k < sizeof SPECIAL / sizeof *SPECIAL; k++) {
        int len = SPECIAL[k].w[2] ? 3 : 2;
        if (len == 2 && n - 1 > i && seq_is(w, i, SPECIAL[k].w, 2)) valence = SPECIAL[k].valence; /* zeroone */
    }
    for (size_t k = 0; k < sizeof SPECIAL / sizeof *SPECIAL; k++) {
        int len = SPECIAL[k].w[2] ? 3 : 2;
        if (len == 3 && n - 1 > i + 1 && seq_is(w, i, SPECIAL[k].w, 3)) valence = SPECIAL[k].valence; /* zeroonetwo */
    }
    /* booster n-grams threetwoone, threetwo, twoone: only two-word ones exist */
    for (size_t k = 0; k < sizeof BIGRAM_BOOSTERS / sizeof *BIGRAM_BOOSTERS; k++)
        if (seq_is(w, i - 3, BIGRAM_BOOSTERS[k], 2)) valence += B_DECR;
    for (size_t k = 0; k < sizeof BIGRAM_BOOSTERS / sizeof *BIGRAM_BOOSTERS; k++)
        if (seq_is(w, i - 2, BIGRAM_BOOSTERS[k], 2)) valence += B_DECR;
    return valence;
}

static double sentiment_valence(const tok *w, int i, int n, int cap_diff)
{
    const tok *t = &w[i];
    double valence = t->e->valence;
    if (tok_is(t, KW_NO) && i != n - 1 && in_lex(&w[i + 1])) valence = 0.0; /* "no" negates the next word instead */
    if ((i > 0 && tok_is(&w[i - 1], KW_NO)) || (i > 1 && tok_is(&w[i - 2], KW_NO)) ||
        (i > 2 && tok_is(&w[i - 3], KW_NO) && (tok_is(&w[i - 1], KW_OR) || tok_is(&w[i - 1], KW_NOR))))
        valence = t->e->valence * N_SCALAR;
    if (t->upper && cap_diff) valence += valence > 0 ? C_INCR : -C_INCR;
    for (int start = 0; start < 3; start++) {
        if (i > start && !in_lex(&w[i - (start + 1)])) {
            double s = scalar_inc_dec(&w[i - (start + 1)], valence, cap_diff);
            if (start == 1 && s != 0) s *= 0.95;
            if (start == 2 && s != 0) s *= 0.9;
            valence += s;
            valence = negation_check(valence, w, start, i);
            if (start == 2) valence = special_idioms_check(valence, w, i, n);
        }
    }
    /* _least_check */
    if (i > 1 && !in_lex(&w[i - 1]) && tok_is(&w[i - 1], KW_LEAST)) {
        if (!tok_is(&w[i - 2], KW_AT) && !tok_is(&w[i - 2], KW_VERY)) valence *= N_SCALAR;
    } else if (i > 0 && !in_lex(&w[i - 1]) && tok_is(&w[i - 1], KW_LEAST)) {
        valence *= N_SCALAR;
    }
    return valence;
}

/* Python's round(x, digits): half-even on the exact binary value. Away from
 * a tie the scaled product decides; near one, printf (exact, half-even) does. */
static double py_round(double x, int digits)
{
    double scale = digits == 3 ? 1e3 : 1e4;
    double y = x * scale, f = floor(y), frac = y - f, r;
    if (fabs(frac - 0.5) > 1e-6) {
        r = (frac < 0.5 ? f : f + 1) / scale;
    } else {
        char buf[64];
        snprintf(buf, sizeof buf, "%.*f", digits, x);
        r = strtod(buf, NULL);
    }
    return r == 0 ? copysign(0.0, x) : r;
}

static int tokenize(const lens_vader *v, lens_vader_scratch *s, const char *text, size_t len, size_t *count)
{
    const unsigned char *t = (const unsigned char *)text;
    size_t n = 0, i = 0;
    while (i < len) {
        uint32_t c;
        size_t k = next_cp(t + i, len - i, &c);
        if (py_space(c)) {
            i += k;
            continue;
        }
        size_t a = i; /* a token: up to the next whitespace */
        for (i += k; i < len; i += k) {
            k = next_cp(t + i, len - i, &c);
            if (py_space(c)) break;
        }
        size_t b = i, sa = a, sb = b;
        while (sa < sb && ascii_punct(t[sa])) sa++;
        while (sb > sa && ascii_punct(t[sb - 1])) sb--;
        /* _strip_punc_if_word: keep the token whole if <= 2 characters remain */
        size_t chars = 0;
        for (size_t q = sa; q < sb && chars <= 2; chars++) q += next_cp(t + q, sb - q, &c);
        if (chars > 2) {
            a = sa;
            b = sb;
        }
        size_t cap = s->tok_cap, cap2 = s->tok_cap;
        if (lens__grow((void **)&s->toks, &cap, n + 1, sizeof *s->toks) ||
            lens__grow((void **)&s->sent, &cap2, n + 1, sizeof *s->sent))
            return -1;
        s->tok_cap = cap;
        size_t tl = b - a;
        if (lens__grow((void **)&s->lower, &s->lower_cap, 3 * tl + 1, 1)) return -1;
        size_t ln = py_lower(t + a, tl, s->lower);
        tok *o = &s->toks[n++];
        o->off = (uint32_t)a;
        o->len = (uint32_t)tl;
        o->e = lookup(v, s->lower, ln);
        o->upper = (unsigned char)py_isupper(t + a, tl);
        /* negated([word]): a NEGATE word or any word containing "n't" */
        o->negated = (o->e && (o->e->flags & F_NEGATE)) || memmem(s->lower, ln, "n't", 3) != NULL;
    }
    *count = n;
    return 0;
}

int lens_vader_score(const lens_vader *v, lens_vader_scratch *scratch, const char *text, size_t len,
                     lens_sentiment *out, lens_error *err)
{
    if (!v || !out || (!text && len)) return lens_error_set(err, LENS_EINVAL, "vader: bad arguments");
    if (len > UINT32_MAX / 4) return lens_error_set(err, LENS_EINVAL, "vader: text of %zu bytes is too long", len);
    lens_vader_scratch *own = NULL;
    if (!scratch && !(scratch = own = lens_vader_scratch_new())) goto oom;
    memset(out, 0, sizeof *out);

    if (!text) text = "";
    text = replace_emojis(v, scratch, text, &len);
    if (!text) goto oom;
    if (len > UINT32_MAX / 4) { /* token offsets are 32-bit */
        lens_vader_scratch_free(own);
        return lens_error_set(err, LENS_EINVAL, "vader: text of %zu bytes with emojis replaced is too long", len);
    }
    lens__vader_py_strip(&text, &len);
    size_t n;
    if (tokenize(v, scratch, text, len, &n)) goto oom;
    if (n == 0) goto done;
    tok *w = scratch->toks;
    double *sent = scratch->sent;

    /* allcap_differential: some, but not all, tokens are ALL CAPS */
    size_t caps = 0;
    for (size_t i = 0; i < n; i++) caps += w[i].upper;
    int cap_diff = caps > 0 && caps < n;

    int but = -1;
    for (size_t i = 0; i < n; i++) {
        sent[i] = 0;
        if (tok_is(&w[i], KW_BUT) && but < 0) but = (int)i;
        if (w[i].e && (w[i].e->flags & F_BOOST)) continue; /* modifiers are not scored themselves */
        if (i < n - 1 && tok_is(&w[i], KW_KIND) && tok_is(&w[i + 1], KW_OF)) continue;
        if (in_lex(&w[i])) sent[i] = sentiment_valence(w, (int)i, (int)n, cap_diff);
    }

    /* _but_check: `for s in sentiments: si = sentiments.index(s)` scales the
     * first value equal to s. A value is only ever written at or before its
     * own position, so s is read unchanged; zeros stay zero, so skip them. */
    if (but >= 0)
        for (size_t k = 0; k < n; k++) {
            double x = sent[k];
            if (x == 0) continue;
            size_t si = 0;
            while (sent[si] != x) si++;
            if ((int)si < but) sent[si] = x * 0.5;
            else if ((int)si > but) sent[si] = x * 1.5;
        }

    /* score_valence */
    double sum = 0, pos = 0, neg = 0;
    size_t neu = 0;
    for (size_t i = 0; i < n; i++) sum += sent[i];
    size_t ep = 0, qm = 0;
    for (size_t i = 0; i < len; i++) {
        ep += text[i] == '!';
        qm += text[i] == '?';
    }
    double amp = (double)(ep > 4 ? 4 : ep) * 0.292;
    amp += qm > 1 ? (qm <= 3 ? (double)qm * 0.18 : 0.96) : 0;
    if (sum > 0) sum += amp;
    else if (sum < 0) sum -= amp;
    double compound = sum / sqrt(sum * sum + 15);
    if (compound < -1.0) compound = -1.0;
    else if (compound > 1.0) compound = 1.0;
    for (size_t i = 0; i < n; i++) {
        if (sent[i] > 0) pos += sent[i] + 1; /* +1/-1 compensate for neutral words counted as 1 */
        else if (sent[i] < 0) neg += sent[i] - 1;
        else neu++;
    }
    if (pos > fabs(neg)) pos += amp;
    else if (pos < fabs(neg)) neg -= amp;
    double total = pos + fabs(neg) + (double)neu;
    out->neg = py_round(fabs(neg / total), 3);
    out->neu = py_round(fabs((double)neu / total), 3);
    out->pos = py_round(fabs(pos / total), 3);
    out->compound = py_round(compound, 4);
done:
    lens_vader_scratch_free(own);
    return 0;
oom:
    lens_vader_scratch_free(own);
    return lens_error_set(err, LENS_ENOMEM, "vader: out of memory scoring %zu bytes", len);
}
