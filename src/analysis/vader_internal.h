/* VADER internals (see vader.c): the word and emoji tables that
 * vader_lexicon.c builds from the lexicon files and the scorer in vader.c
 * reads, and the UTF-8 and Python whitespace rules both apply. */
#ifndef LENS_ANALYSIS_VADER_INTERNAL_H
#define LENS_ANALYSIS_VADER_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "text/unicode.h"
#include "lens/sentiment.h"

/* vaderSentiment's constants: booster increment, ALL CAPS increment,
 * negation scalar */
#define B_INCR 0.293
#define B_DECR (-0.293)
#define C_INCR 0.733
#define N_SCALAR (-0.74)

/* Words that the rules compare tokens with; a token's id comes from its entry. */
enum {
    KW_NONE, KW_KIND, KW_OF, KW_BUT, KW_NO, KW_NEVER, KW_SO, KW_THIS, KW_LEAST, KW_AT, KW_VERY, KW_WITHOUT,
    KW_DOUBT, KW_OR, KW_NOR, KW_THE, KW_SHIT, KW_BOMB, KW_BAD, KW_ASS, KW_BUS, KW_STOP, KW_YEAH, KW_RIGHT,
    KW_KISS, KW_DEATH, KW_TO, KW_DIE, KW_FOR, KW_BEATING, KW_HEART, KW_BROKEN, KW_JUST, KW_ENOUGH, KW_SORT,
    KW_COUNT
};
enum { F_LEX = 1, F_BOOST = 2, F_NEGATE = 4 };

typedef struct entry {
    uint32_t off, len; /* key bytes in v->arena; len 0 = empty slot */
    uint32_t hash;
    unsigned char flags, kw;
    double valence, boost;
} entry;

typedef struct emoji {
    uint32_t cp; /* 0 = empty slot */
    uint32_t off, len;
} emoji;

struct lens_vader {
    char *arena; /* keys and emoji descriptions */
    size_t arena_len, arena_cap;
    entry *tab;
    uint32_t mask;
    emoji *emo;
    uint32_t emo_mask; /* 0 without an emoji lexicon */
    int emo_ascii;     /* some emoji key is ASCII: no fast path for ASCII text */
    uint32_t n_words, n_emoji;
    size_t n_lex;
};

/* ---- UTF-8 and Python's whitespace */

/* Decodes one character; an invalid byte is one character (cp UINT32_MAX). */
static inline size_t next_cp(const unsigned char *s, size_t n, uint32_t *cp)
{
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    }
    size_t k = lens__utf8_decode(s, n, cp);
    if (k == 1) *cp = UINT32_MAX; /* past ASCII a character is 2-4 bytes: a bad byte */
    return k;
}

static inline int py_space(uint32_t c) /* str.isspace() */
{
    if (c < 0x80) return c == ' ' || (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x1F);
    return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
           c == 0x202F || c == 0x205F || c == 0x3000;
}

/* Strips Python whitespace from both ends of [*s, *s + *n) (str.strip()). */
void lens__vader_py_strip(const char **s, size_t *n);

/* ---- the emoji table: open addressing on the code point */

static inline uint32_t emoji_slot(uint32_t cp, uint32_t mask)
{
    return (cp * 2654435761u) & mask;
}

#endif
