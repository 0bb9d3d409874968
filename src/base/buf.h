/* Byte buffers (internal): a growable writer (checkpoints, lists of strings) and a bounds-
 * checked reader. Values are stored in host byte order, since a checkpoint
 * is only ever read back by the machine that wrote it. */
#ifndef LENS_BASE_BUF_H
#define LENS_BASE_BUF_H

#include <stddef.h>
#include <stdint.h>

typedef struct lens_wbuf {
    unsigned char *p;
    size_t len, cap;
    int oom; /* sticky: one check at the end instead of one per put */
} lens_wbuf;

void lens_wbuf_put(lens_wbuf *b, const void *data, size_t n);
void lens_wbuf_u32(lens_wbuf *b, uint32_t v);
void lens_wbuf_u64(lens_wbuf *b, uint64_t v);
/* a length-prefixed string; NULL is written as length UINT32_MAX */
void lens_wbuf_str(lens_wbuf *b, const char *s);
void lens_wbuf_free(lens_wbuf *b);

typedef struct lens_rbuf {
    const unsigned char *p;
    size_t len, at;
    int bad; /* sticky: set when a read runs past the end */
} lens_rbuf;

int lens_rbuf_get(lens_rbuf *r, void *out, size_t n);
uint32_t lens_rbuf_u32(lens_rbuf *r);
uint64_t lens_rbuf_u64(lens_rbuf *r);
/* A new NUL-terminated copy (NULL when NULL was written or on error: check
 * r->bad to tell them apart). */
char *lens_rbuf_str(lens_rbuf *r);

#endif
