/* lens — reading texts and writing embeddings.
 *
 * lens_reader streams records from .txt (one text per line), .jsonl (a string
 * field) or .csv (RFC 4180, quoted newlines; a named column), optionally
 * zstd-compressed (.zst). Memory stays bounded by the longest record. */
#ifndef LENS_IO_H
#define LENS_IO_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* lens_table: records with named columns from .csv (header row), .jsonl
 * (object keys) or .txt (one column, "text"), optionally .zst. Streaming:
 * memory is bounded by the longest record. */
typedef struct lens_table lens_table;

LENS_API int lens_table_open(lens_table **out, const char *path, lens_error *err);
LENS_API void lens_table_close(lens_table *t);
LENS_API const char *lens_table_path(const lens_table *t);
/* Index of a column to read, or -1 when the file does not have it (CSV:
 * the header; JSONL: any key may appear, so this always succeeds). Call
 * before the first lens_table_next. */
LENS_API int lens_table_column(lens_table *t, const char *name);
/* CSV: whether the header has the name; JSONL: whether the first record has
 * the key (reads ahead one record); TXT: only "text". */
LENS_API int lens_table_has(lens_table *t, const char *name, lens_error *err);
/* 1: a record; 0: end of input; < 0: error naming file and line. */
LENS_API int lens_table_next(lens_table *t, lens_error *err);
/* Value of column col in the current record as text (JSON numbers and
 * booleans as written; null or absent: NULL). Valid until the next call.
 * Invalid UTF-8 comes back with U+FFFD for each bad byte (JSONL: the line
 * is repaired before it is parsed). */
LENS_API const char *lens_table_get(lens_table *t, int col, size_t *len);
/* Records so far that had invalid UTF-8 repaired (in a value read; JSONL:
 * anywhere in the line), and the bytes replaced (*bytes; may be NULL). */
LENS_API uint64_t lens_table_repaired(const lens_table *t, uint64_t *bytes);
/* Line where the current record starts (1-based). */
LENS_API size_t lens_table_line(const lens_table *t);
LENS_API uint64_t lens_table_offset(const lens_table *t);
LENS_API uint64_t lens_table_size(const lens_table *t);

/* The records path holds, for progress totals, in one pass over its bytes
 * that splits no fields (Parquet: from the footer). *exact is 0 when the
 * file has more than max_bytes (uncompressed): then *rows is the count in
 * the first max_bytes scaled by the share of the file they took. */
LENS_API int lens_table_count(const char *path, uint64_t max_bytes, uint64_t *rows, int *exact, lens_error *err);

/* lens_reader: one text column (and an optional id) from a lens_table. */
typedef struct lens_reader lens_reader;

typedef struct lens_reader_opts {
    const char *field;    /* JSONL text field; NULL: "text" */
    const char *column;   /* CSV text column; NULL: "text", else "review" */
    const char *id_field; /* optional id field/column to carry along */
} lens_reader_opts;

LENS_API int lens_reader_open(lens_reader **out, const char *path, const lens_reader_opts *opts,
                              lens_error *err);
/* 1: a record (text and id point into the reader until the next call; id is
 * "" without id_field); 0: end of input; < 0: error naming file and line. */
LENS_API int lens_reader_next(lens_reader *r, const char **text, size_t *len, const char **id,
                              lens_error *err);
/* Bytes of the (compressed) file consumed so far and its size, for ETAs. */
LENS_API uint64_t lens_reader_offset(const lens_reader *r);
LENS_API uint64_t lens_reader_size(const lens_reader *r);
LENS_API void lens_reader_close(lens_reader *r);

/* .npy writer for a float32 [n, dim] matrix whose n is known at the end.
 * The rows go to a temporary file beside path; path appears only when
 * finish succeeds (synced and renamed: a failure or a crash never leaves a
 * part of it, nor clobbers an earlier file). abort removes the temporary. */
typedef struct lens_npy_writer lens_npy_writer;
LENS_API int lens_npy_create(lens_npy_writer **out, const char *path, int dim, lens_error *err);
LENS_API int lens_npy_append(lens_npy_writer *w, const float *rows, size_t n, lens_error *err);
/* Patches the row count into the header and commits the file; frees w. */
LENS_API int lens_npy_finish(lens_npy_writer *w, lens_error *err);
LENS_API void lens_npy_abort(lens_npy_writer *w);

/* Reads a whole float32 or float64 2-D .npy into a new float32 buffer. */
LENS_API int lens_npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
