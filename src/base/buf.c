/* Growable arrays and byte buffers (see buf.h). */
#include "buf.h"

#include <stdlib.h>
#include <string.h>

int lens__grow_to(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap) return 0;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2) return -1;
        n *= 2;
    }
    if (elem && n > SIZE_MAX / elem) return -1;
    void *q = realloc(*p, elem ? n * elem : 1);
    if (!q) return -1;
    *p = q;
    *cap = n;
    return 0;
}

void lens__wbuf_put(lens__wbuf *b, const void *data, size_t n)
{
    if (b->oom) return;
    if (n > SIZE_MAX - b->len || lens__grow((void **)&b->p, &b->cap, b->len + n, 1)) {
        b->oom = 1;
        return;
    }
    if (n) memcpy(b->p + b->len, data, n);
    b->len += n;
}

void lens__wbuf_u32(lens__wbuf *b, uint32_t v) { lens__wbuf_put(b, &v, sizeof v); }
void lens__wbuf_u64(lens__wbuf *b, uint64_t v) { lens__wbuf_put(b, &v, sizeof v); }

void lens__wbuf_str(lens__wbuf *b, const char *s)
{
    if (!s) {
        lens__wbuf_u32(b, UINT32_MAX);
        return;
    }
    size_t n = strlen(s);
    lens__wbuf_u32(b, (uint32_t)n);
    lens__wbuf_put(b, s, n);
}

void lens__wbuf_free(lens__wbuf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

int lens__rbuf_get(lens__rbuf *r, void *out, size_t n)
{
    if (r->bad || n > r->len - r->at) {
        r->bad = 1;
        memset(out, 0, n);
        return -1;
    }
    memcpy(out, r->p + r->at, n);
    r->at += n;
    return 0;
}

uint32_t lens__rbuf_u32(lens__rbuf *r)
{
    uint32_t v;
    lens__rbuf_get(r, &v, sizeof v);
    return v;
}

uint64_t lens__rbuf_u64(lens__rbuf *r)
{
    uint64_t v;
    lens__rbuf_get(r, &v, sizeof v);
    return v;
}

char *lens__rbuf_str(lens__rbuf *r)
{
    uint32_t n = lens__rbuf_u32(r);
    if (r->bad || n == UINT32_MAX) return NULL;
    if (n > r->len - r->at) {
        r->bad = 1;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->bad = 1;
        return NULL;
    }
    memcpy(s, r->p + r->at, n);
    s[n] = '\0';
    r->at += n;
    return s;
}
