/* Buffered byte input over a plain or zstd-compressed file (internal). */
#ifndef LENS_IO_STREAM_H
#define LENS_IO_STREAM_H

#include <stdint.h>
#include <stdio.h>

#include "lens/error.h"

typedef struct lens_stream lens_stream;

int lens_stream_open(lens_stream **out, const char *path, lens_error *err);
void lens_stream_close(lens_stream *s);
/* Next byte, or -1 at end of input, or -2 on a read/decompression error. */
int lens_stream_getc_slow(lens_stream *s);
uint64_t lens_stream_offset(const lens_stream *s);
uint64_t lens_stream_size(const lens_stream *s);
const char *lens_stream_error(const lens_stream *s);

struct lens_stream_buf {
    const unsigned char *p, *end;
};

static inline int lens_stream_getc(lens_stream *s)
{
    struct lens_stream_buf *b = (struct lens_stream_buf *)s;
    return b->p < b->end ? *b->p++ : lens_stream_getc_slow(s);
}

#endif
