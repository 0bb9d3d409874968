/* RFC 4180 CSV records from a lens_stream (internal): quoted fields may hold
 * commas, doubled quotes and newlines. Stray quotes inside unquoted fields
 * are kept literally, as Python's csv module does. */
#ifndef LENS_IO_CSV_H
#define LENS_IO_CSV_H

#include <stddef.h>

#include "lens/error.h"
#include "stream.h"

typedef struct lens_csv {
    lens_stream *s;
    const char *path;
    char *buf;          /* field bytes, each NUL-terminated */
    size_t len, cap;
    size_t *starts;     /* field start offsets in buf */
    size_t n_fields, fields_cap;
    size_t line;        /* line where the current record started (1-based) */
    size_t next_line;
    int pushback;       /* one byte of lookahead, -1 when empty */
} lens_csv;

void lens_csv_init(lens_csv *c, lens_stream *s, const char *path);
void lens_csv_free(lens_csv *c);
/* 1: a record; 0: end of input; < 0: error (unterminated quote, read error). */
int lens_csv_next(lens_csv *c, lens_error *err);
static inline const char *lens_csv_field(const lens_csv *c, size_t i) { return c->buf + c->starts[i]; }
static inline size_t lens_csv_field_len(const lens_csv *c, size_t i)
{
    size_t end = i + 1 < c->n_fields ? c->starts[i + 1] - 1 : c->len - 1;
    return end - c->starts[i];
}

#endif
