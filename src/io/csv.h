/* RFC 4180 CSV records from a lens__stream (internal): quoted fields may hold
 * commas, doubled quotes and newlines. Stray quotes inside unquoted fields
 * are kept literally, as Python's csv module does. */
#ifndef LENS_IO_CSV_H
#define LENS_IO_CSV_H

#include <stddef.h>

#include "lens/error.h"
#include "stream.h"

typedef struct lens__csv {
    lens__stream *s;
    const char *path;
    char *buf;          /* field bytes, each NUL-terminated */
    size_t len, cap;
    size_t *starts;     /* field start offsets in buf */
    size_t n_fields, fields_cap;
    size_t line;        /* line where the current record started (1-based) */
    size_t next_line;
    int pushback;       /* one byte of lookahead, -1 when empty */
} lens__csv;

void lens__csv_init(lens__csv *c, lens__stream *s, const char *path);
void lens__csv_free(lens__csv *c);
/* 1: a record; 0: end of input; < 0: error (unterminated quote, read error). */
int lens__csv_next(lens__csv *c, lens_error *err);
static inline const char *lens__csv_field(const lens__csv *c, size_t i) { return c->buf + c->starts[i]; }
static inline size_t lens__csv_field_len(const lens__csv *c, size_t i)
{
    size_t end = i + 1 < c->n_fields ? c->starts[i + 1] - 1 : c->len - 1;
    return end - c->starts[i];
}

#endif
