/* VADER's lexicons, read as make_lex_dict and make_emoji_dict of
 * vaderSentiment 3.3.2 read them (vader_lexicon.txt, and the optional
 * vader_emoji_utf8_lexicon.txt), plus its fixed word lists (boosters,
 * negations, the words the rules compare tokens with), into the tables of
 * vader_internal.h: lens_vader_open and lens_vader_close. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/hash.h"
#include "vader_internal.h"

static const char *const KEYWORDS[KW_COUNT] = {
    NULL, "kind", "of", "but", "no", "never", "so", "this", "least", "at", "very", "without",
    "doubt", "or", "nor", "the", "shit", "bomb", "bad", "ass", "bus", "stop", "yeah", "right",
    "kiss", "death", "to", "die", "for", "beating", "heart", "broken", "just", "enough", "sort",
};

static const char *const BOOST_UP[] = {
    "absolutely", "amazingly", "awfully", "completely", "considerable", "considerably", "decidedly", "deeply",
    "effing", "enormous", "enormously", "entirely", "especially", "exceptional", "exceptionally", "extreme",
    "extremely", "fabulously", "flipping", "flippin", "frackin", "fracking", "fricking", "frickin", "frigging",
    "friggin", "fully", "fuckin", "fucking", "fuggin", "fugging", "greatly", "hella", "highly", "hugely",
    "incredible", "incredibly", "intensely", "major", "majorly", "more", "most", "particularly", "purely",
    "quite", "really", "remarkably", "so", "substantially", "thoroughly", "total", "totally", "tremendous",
    "tremendously", "uber", "unbelievably", "unusually", "utter", "utterly", "very",
};
static const char *const BOOST_DOWN[] = {
    "almost", "barely", "hardly", "kinda", "kindof", "kind-of", "less", "little", "marginal", "marginally",
    "occasional", "occasionally", "partly", "scarce", "scarcely", "slight", "slightly", "somewhat", "sorta",
    "sortof", "sort-of",
};
static const char *const NEGATE[] = {
    "aint", "arent", "cannot", "cant", "couldnt", "darent", "didnt", "doesnt", "ain't", "aren't", "can't",
    "couldn't", "daren't", "didn't", "doesn't", "dont", "hadnt", "hasnt", "havent", "isnt", "mightnt", "mustnt",
    "neither", "don't", "hadn't", "hasn't", "haven't", "isn't", "mightn't", "mustn't", "neednt", "needn't",
    "never", "none", "nope", "nor", "not", "nothing", "nowhere", "oughtnt", "shant", "shouldnt", "uhuh",
    "wasnt", "werent", "oughtn't", "shan't", "shouldn't", "uh-uh", "wasn't", "weren't", "without", "wont",
    "wouldnt", "won't", "wouldn't", "rarely", "seldom", "despite",
};

/* ---- the word table */

static int arena_put(lens_vader *v, const char *s, size_t n, uint32_t *off)
{
    if (lens__grow((void **)&v->arena, &v->arena_cap, v->arena_len + n + 1, 1)) return -1;
    if (v->arena_len + n > UINT32_MAX) return -1;
    memcpy(v->arena + v->arena_len, s, n);
    v->arena[v->arena_len + n] = 0;
    *off = (uint32_t)v->arena_len;
    v->arena_len += n + 1;
    return 0;
}

/* Doubles a table of cap slots whose empty ones are all-zero; returns 0 or -1. */
static int rehash(void **tab, uint32_t *mask, size_t elem, uint32_t (*slot)(const void *e, uint32_t mask),
                  int (*used)(const void *e))
{
    uint32_t cap = *mask ? 2 * (*mask + 1) : 1024;
    if (cap > (1u << 28)) return -1;
    char *nt = calloc(cap, elem);
    if (!nt) return -1;
    for (uint32_t i = 0; *tab && i <= *mask; i++) {
        const char *e = (const char *)*tab + (size_t)i * elem;
        if (!used(e)) continue;
        uint32_t j = slot(e, cap - 1);
        while (used(nt + (size_t)j * elem)) j = (j + 1) & (cap - 1);
        memcpy(nt + (size_t)j * elem, e, elem);
    }
    free(*tab);
    *tab = nt;
    *mask = cap - 1;
    return 0;
}

static uint32_t entry_slot(const void *e, uint32_t mask) { return ((const entry *)e)->hash & mask; }
static int entry_used(const void *e) { return ((const entry *)e)->len != 0; }

/* Finds or adds the entry for key; NULL when out of memory. */
static entry *upsert(lens_vader *v, const char *s, size_t n)
{
    if (2 * ((size_t)v->n_words + 1) > (size_t)v->mask + 1 &&
        rehash((void **)&v->tab, &v->mask, sizeof *v->tab, entry_slot, entry_used))
        return NULL;
    uint32_t h = lens__hash_fold32(lens__hash_bytes(LENS__HASH_INIT, s, n));
    uint32_t i = h & v->mask;
    for (;; i = (i + 1) & v->mask) {
        entry *e = &v->tab[i];
        if (!e->len) break;
        if (e->hash == h && e->len == n && memcmp(v->arena + e->off, s, n) == 0) return e;
    }
    entry *e = &v->tab[i];
    if (n == 0 || arena_put(v, s, n, &e->off)) return NULL;
    e->len = (uint32_t)n;
    e->hash = h;
    v->n_words++;
    return e;
}

static uint32_t emoji_slot_of(const void *e, uint32_t mask) { return emoji_slot(((const emoji *)e)->cp, mask); }
static int emoji_used(const void *e) { return ((const emoji *)e)->cp != 0; }

/* ---- loading, as make_lex_dict / make_emoji_dict read the files */

static int read_file(const char *path, char **data, size_t *len, lens_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lens_error_set(err, errno == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 20, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap) break;
        char *b = realloc(buf, cap * 2);
        if (!b) free(buf);
        buf = b;
        cap *= 2;
    }
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return lens_error_set(err, LENS_EIO, "%s: read error", path);
    }
    *data = buf;
    *len = n;
    return 0;
}

typedef int (*line_fn)(lens_vader *v, const char *f0, size_t n0, const char *f1, size_t n1, const char *path,
                       int line, lens_error *err);

/* Calls fn with the first two tab-separated fields of each stripped line
 * (content.rstrip('\n').split('\n'); line.strip().split('\t')[0:2]). */
static int each_line(lens_vader *v, const char *path, int skip_empty, line_fn fn, lens_error *err)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(path, &data, &len, err);
    if (rc) return rc;
    while (len && data[len - 1] == '\n') len--;
    const char *p = data, *end = data + len;
    for (int line = 1; p <= end && !rc; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl) nl = end;
        const char *s = p;
        size_t n = (size_t)(nl - p);
        p = nl + 1;
        if (!n && skip_empty) continue;
        lens__vader_py_strip(&s, &n);
        const char *t1 = memchr(s, '\t', n);
        if (!t1) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%d: expected two tab-separated fields", path, line);
            break;
        }
        const char *f1 = t1 + 1, *t2 = memchr(f1, '\t', (size_t)(s + n - f1));
        rc = fn(v, s, (size_t)(t1 - s), f1, (size_t)((t2 ? t2 : s + n) - f1), path, line, err);
    }
    free(data);
    return rc;
}

static int lex_line(lens_vader *v, const char *w, size_t wn, const char *m, size_t mn, const char *path, int line,
                    lens_error *err)
{
    char num[64];
    char *endp;
    if (mn == 0 || mn >= sizeof num) goto bad;
    memcpy(num, m, mn);
    num[mn] = 0;
    double val = strtod(num, &endp);
    if (*endp || !isfinite(val)) goto bad;
    entry *e = upsert(v, w, wn);
    if (!e) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    v->n_lex += !(e->flags & F_LEX);
    e->flags |= F_LEX;
    e->valence = val; /* a repeated word: the last line wins, as in a dict */
    return 0;
bad:
    return lens_error_set(err, LENS_EFORMAT, "%s:%d: bad valence \"%.*s\"", path, line, (int)(mn < 40 ? mn : 40), m);
}

static int emoji_line(lens_vader *v, const char *k, size_t kn, const char *d, size_t dn, const char *path, int line,
                      lens_error *err)
{
    uint32_t cp;
    /* 3.3.2 replaces one code point at a time: a key of several code points
     * (skin tones, ZWJ sequences, flags) can never match, so it is skipped. */
    if (!kn || next_cp((const unsigned char *)k, kn, &cp) != kn || cp == UINT32_MAX || cp == 0) return 0;
    if (2 * ((size_t)v->n_emoji + 1) > (size_t)v->emo_mask + 1 &&
        rehash((void **)&v->emo, &v->emo_mask, sizeof *v->emo, emoji_slot_of, emoji_used))
        return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    uint32_t i = emoji_slot(cp, v->emo_mask);
    while (v->emo[i].cp && v->emo[i].cp != cp) i = (i + 1) & v->emo_mask;
    v->n_emoji += !v->emo[i].cp;
    v->emo[i].cp = cp;
    v->emo_ascii |= cp < 0x80;
    if (arena_put(v, d, dn, &v->emo[i].off)) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    v->emo[i].len = (uint32_t)dn;
    return 0;
}

/* Adds a fixed word list with the given flag (and booster scalar). */
static int add_words(lens_vader *v, const char *const *words, size_t n, int flag, double boost, int kw0)
{
    for (size_t i = 0; i < n; i++) {
        entry *e = upsert(v, words[i], strlen(words[i]));
        if (!e) return -1;
        e->flags |= (unsigned char)flag;
        if (flag & F_BOOST) e->boost = boost;
        if (kw0) e->kw = (unsigned char)(kw0 + i);
    }
    return 0;
}

#define COUNT(a) (sizeof(a) / sizeof *(a))

int lens_vader_open(lens_vader **out, const char *lexicon_dir, lens_error *err)
{
    *out = NULL;
    if (!lexicon_dir) return lens_error_set(err, LENS_EINVAL, "vader: no lexicon directory");
    char path[4096];
    if (snprintf(path, sizeof path, "%s/vader_lexicon.txt", lexicon_dir) >= (int)sizeof path)
        return lens_error_set(err, LENS_EINVAL, "vader: lexicon path too long");
    lens_vader *v = calloc(1, sizeof *v);
    if (!v) return lens_error_set(err, LENS_ENOMEM, "vader: out of memory");
    int rc = each_line(v, path, 1, lex_line, err);
    if (!rc && v->n_lex == 0) rc = lens_error_set(err, LENS_EFORMAT, "%s: empty lexicon", path);
    if (!rc && (add_words(v, BOOST_UP, COUNT(BOOST_UP), F_BOOST, B_INCR, 0) ||
                add_words(v, BOOST_DOWN, COUNT(BOOST_DOWN), F_BOOST, B_DECR, 0) ||
                add_words(v, NEGATE, COUNT(NEGATE), F_NEGATE, 0, 0) ||
                add_words(v, KEYWORDS + 1, KW_COUNT - 1, 0, 0, 1)))
        rc = lens_error_set(err, LENS_ENOMEM, "vader: out of memory");
    if (!rc) { /* the emoji lexicon is optional */
        snprintf(path, sizeof path, "%s/vader_emoji_utf8_lexicon.txt", lexicon_dir);
        if (access(path, F_OK) == 0) rc = each_line(v, path, 0, emoji_line, err);
    }
    if (rc) {
        lens_vader_close(v);
        return rc;
    }
    *out = v;
    return 0;
}

void lens_vader_close(lens_vader *v)
{
    if (!v) return;
    free(v->arena);
    free(v->tab);
    free(v->emo);
    free(v);
}
