#include "sentences.h"

static int is_space(unsigned char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v'; }
static int is_alnum(unsigned char c)
{
    /* UTF-8 lead bytes count as letters: non-Latin scripts are words too */
    return (c >= '0' && c <= '9') || ((c | 32) >= 'a' && (c | 32) <= 'z') || c >= 0xC0;
}

static size_t emit(const char *t, size_t a, size_t b, size_t min_letters, lens__span *spans, size_t cap, size_t n)
{
    while (a < b && is_space((unsigned char)t[a])) a++;
    while (b > a && is_space((unsigned char)t[b - 1])) b--;
    size_t letters = 0;
    for (size_t i = a; i < b && letters < min_letters; i++) letters += is_alnum((unsigned char)t[i]);
    if (b == a || letters < min_letters) return n;
    if (n < cap) spans[n] = (lens__span){a, b - a};
    return n + 1;
}

size_t lens__sentences_split(const char *t, size_t len, size_t min_letters, lens__span *spans, size_t cap)
{
    size_t n = 0, start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '\n') {
            n = emit(t, start, i, min_letters, spans, cap, n);
            start = i + 1;
        } else if (c == '.' || c == '!' || c == '?') {
            size_t j = i;
            while (j + 1 < len && (t[j + 1] == '.' || t[j + 1] == '!' || t[j + 1] == '?')) j++;
            if (j + 1 == len || is_space((unsigned char)t[j + 1])) {
                n = emit(t, start, j + 1, min_letters, spans, cap, n);
                start = j + 1;
            }
            i = j;
        }
    }
    return emit(t, start, len, min_letters, spans, cap, n);
}
