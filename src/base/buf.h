/* Growable arrays and byte buffers (internal): lens__grow, the one way an
 * array grows; a growable writer (checkpoints, lists of strings) and a
 * bounds-checked reader. Values are stored in host byte order, since a
 * checkpoint is only ever read back by the machine that wrote it. */
#ifndef LENS_BASE_BUF_H
#define LENS_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

/* Makes room for need elements of elem bytes in the array *p of *cap
 * elements: the capacity doubles (from 16), so n appends cost O(n). 0, or
 * -1 when out of memory or the size overflows (then *p and *cap are
 * unchanged). Arrays that share one count grow each with a copy of it. */
int lens__grow_to(void **p, size_t *cap, size_t need, size_t elem);
static inline int lens__grow(void **p, size_t *cap, size_t need, size_t elem)
{
    return need <= *cap ? 0 : lens__grow_to(p, cap, need, elem);
}

typedef struct lens__wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom; /* sticky: one check at the end instead of one per put */
} lens__wbuf;

void lens__wbuf_put(lens__wbuf *b, const void *data, size_t n);
void lens__wbuf_u32(lens__wbuf *b, uint32_t v);
void lens__wbuf_u64(lens__wbuf *b, uint64_t v);
/* a length-prefixed string; NULL is written as length UINT32_MAX */
void lens__wbuf_str(lens__wbuf *b, const char *s);
void lens__wbuf_free(lens__wbuf *b);

typedef struct lens__rbuf {
    const unsigned char *p;
    size_t len, at;
    int bad; /* sticky: set when a read runs past the end */
} lens__rbuf;

int lens__rbuf_get(lens__rbuf *r, void *out, size_t n);
uint32_t lens__rbuf_u32(lens__rbuf *r);
uint64_t lens__rbuf_u64(lens__rbuf *r);
/* A new NUL-terminated copy (NULL when NULL was written or on error: check
 * r->bad to tell them apart). */
char *lens__rbuf_str(lens__rbuf *r);

#endif
