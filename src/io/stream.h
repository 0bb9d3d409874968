/* Buffered byte input over a plain or zstd-compressed file (internal). */
#ifndef LENS_IO_STREAM_H
#define LENS_IO_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "lens/error.h"

typedef struct lens__stream lens__stream;

int lens__stream_open(lens__stream **out, const char *path, lens_error *err);
/* confined to root: see io_internal.h (NULL: a plain open) */
int lens__stream_open_in(lens__stream **out, const char *root, const char *path, lens_error *err);
void lens__stream_close(lens__stream *s);
/* Next byte, or -1 at end of input, or -2 on a read/decompression error. */
int lens__stream_getc_slow(lens__stream *s);
uint64_t lens__stream_offset(const lens__stream *s);
uint64_t lens__stream_size(const lens__stream *s);
const char *lens__stream_error(const lens__stream *s);
/* its code: LENS_EFORMAT for data that does not decompress, else LENS_EIO */
int lens__stream_error_code(const lens__stream *s);

struct lens__stream_buf {
    const unsigned char *p, *end;
};

static inline int lens__stream_getc(lens__stream *s)
{
    struct lens__stream_buf *b = (struct lens__stream_buf *)s;
    return b->p < b->end ? *b->p++ : lens__stream_getc_slow(s);
}

#endif
