/* lens — reading Apache Parquet files.
 *
 * A self-contained reader (Debian 12 ships no Arrow/Parquet C library) for
 * flat columns: BOOLEAN, INT32, INT64, INT96, FLOAT, DOUBLE, BYTE_ARRAY and
 * FIXED_LEN_BYTE_ARRAY, required or optional (nulls); data pages v1 and v2,
 * dictionary pages; PLAIN, PLAIN_DICTIONARY/RLE_DICTIONARY, RLE,
 * DELTA_BINARY_PACKED, DELTA_LENGTH_BYTE_ARRAY, DELTA_BYTE_ARRAY and
 * BYTE_STREAM_SPLIT; UNCOMPRESSED, SNAPPY, GZIP and ZSTD.
 *
 * It streams one row group at a time and reads only the selected columns, so
 * memory is bounded by the largest row group of those columns — and never
 * more than the memory limit (lens_parquet_set_memory_limit). Hostile files
 * (offsets past the end, huge lengths, decompression bombs, deep Thrift) give
 * an error naming the file and what is wrong. */
#ifndef LENS_PARQUET_H
#define LENS_PARQUET_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Physical types, numbered as in parquet.thrift. */
enum {
    LENS_PARQUET_BOOLEAN = 0,
    LENS_PARQUET_INT32 = 1,
    LENS_PARQUET_INT64 = 2,
    LENS_PARQUET_INT96 = 3, /* decoded to int64 nanoseconds since 1970 */
    LENS_PARQUET_FLOAT = 4,
    LENS_PARQUET_DOUBLE = 5,
    LENS_PARQUET_BYTE_ARRAY = 6,
    LENS_PARQUET_FIXED_LEN_BYTE_ARRAY = 7
};

/* What the values mean, from the logical or (older files) converted type. */
enum {
    LENS_PARQUET_PLAIN = 0,     /* no annotation */
    LENS_PARQUET_STRING,        /* UTF-8 (STRING, ENUM, JSON) */
    LENS_PARQUET_UNSIGNED,      /* unsigned integer (UINT_8..64, INT(bits, false)) */
    LENS_PARQUET_DECIMAL,       /* integer scaled by 10^-scale (INT32/INT64 only) */
    LENS_PARQUET_DATE,          /* days since 1970-01-01 */
    LENS_PARQUET_TIME,          /* time of day; unit below */
    LENS_PARQUET_TIMESTAMP      /* since 1970-01-01; unit below */
};

/* Units of TIME and TIMESTAMP. */
enum { LENS_PARQUET_MILLIS = 1, LENS_PARQUET_MICROS = 2, LENS_PARQUET_NANOS = 3 };

typedef struct lens_parquet_column_info {
    const char *name;  /* top-level field name */
    int physical;      /* LENS_PARQUET_BOOLEAN..FIXED_LEN_BYTE_ARRAY; -1 for a group */
    int logical;       /* LENS_PARQUET_PLAIN..TIMESTAMP */
    int unit;          /* TIME/TIMESTAMP unit, else 0 */
    int type_length;   /* FIXED_LEN_BYTE_ARRAY width */
    int scale;         /* DECIMAL */
    int nullable;      /* optional: the column may hold nulls */
    int nested;        /* a group or repeated field: listed, not readable */
} lens_parquet_column_info;

typedef struct lens_parquet lens_parquet;

/* Reads and validates the footer. The file stays open until _close. */
LENS_API int lens_parquet_open(lens_parquet **out, const char *path, lens_error *err);
/* Same over a caller-owned buffer that must outlive the handle; name is
 * used in error messages. */
LENS_API int lens_parquet_open_memory(lens_parquet **out, const char *name, const void *data, size_t size,
                                      lens_error *err);
LENS_API void lens_parquet_close(lens_parquet *p);

LENS_API const char *lens_parquet_path(const lens_parquet *p);
LENS_API uint64_t lens_parquet_size(const lens_parquet *p);
LENS_API int64_t lens_parquet_num_rows(const lens_parquet *p);
LENS_API int lens_parquet_num_row_groups(const lens_parquet *p);
LENS_API int64_t lens_parquet_row_group_rows(const lens_parquet *p, int rg);
/* Byte offset where row group rg's data ends (for progress), 0 if unknown. */
LENS_API uint64_t lens_parquet_row_group_end(const lens_parquet *p, int rg);

/* Top-level fields, in schema order. */
LENS_API int lens_parquet_num_columns(const lens_parquet *p);
LENS_API const lens_parquet_column_info *lens_parquet_describe(const lens_parquet *p, int col);
/* Index of the top-level field with that name, or -1. */
LENS_API int lens_parquet_find_column(const lens_parquet *p, const char *name);

/* Most bytes one row group may take once read (compressed chunks, page
 * buffers and decoded values together). Default 2 GiB. */
LENS_API void lens_parquet_set_memory_limit(lens_parquet *p, size_t bytes);

/* Which columns lens_parquet_read_row_group decodes, by lens_parquet_find_column
 * index; selection slot i holds cols[i]. A nested column is an error. */
LENS_API int lens_parquet_select(lens_parquet *p, const int *cols, int n, lens_error *err);
/* Reads and decodes the selected columns of row group rg, replacing the
 * previous one's values. */
LENS_API int lens_parquet_read_row_group(lens_parquet *p, int rg, lens_error *err);

/* The decoded values of selection slot sel in the current row group, one
 * per row; valid until the next read or _close. */
typedef struct lens_parquet_values {
    int64_t n;              /* rows */
    int physical;           /* as lens_parquet_column_info.physical */
    const uint8_t *valid;   /* n bytes, 1 = present, 0 = null; NULL: no nulls */
    const void *values;     /* BOOLEAN: uint8_t 0/1; INT32: int32_t; INT64, INT96:
                               int64_t; FLOAT: float; DOUBLE: double; else NULL */
    const int64_t *offsets; /* byte arrays: value i is data[offsets[i], offsets[i+1]) */
    const uint8_t *data;
} lens_parquet_values;

LENS_API int lens_parquet_values_get(const lens_parquet *p, int sel, lens_parquet_values *out);

/* Row `row` of v as text, as a CSV of the same data would hold it: integers
 * in decimal (DECIMAL with its point), booleans "true"/"false", floats in
 * the shortest form that reads back exactly, byte arrays as their bytes.
 * NULL for a null. Numbers are written into scratch. */
LENS_API const char *lens_parquet_value_text(const lens_parquet_values *v, const lens_parquet_column_info *info,
                                             int64_t row, char scratch[64], size_t *len);

#ifdef __cplusplus
}
#endif
#endif
