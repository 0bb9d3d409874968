/* Parquet reader internals shared by parquet*.c: the footer's metadata as
 * parsed from Thrift, page headers, and the decoders' interfaces. */
#ifndef LENS_IO_PARQUET_INTERNAL_H
#define LENS_IO_PARQUET_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/parquet.h"
#include "thrift.h"

/* parquet.thrift enums */
enum { PQ_REQUIRED = 0, PQ_OPTIONAL = 1, PQ_REPEATED = 2 };
enum { PQ_CODEC_UNCOMPRESSED = 0, PQ_CODEC_SNAPPY = 1, PQ_CODEC_GZIP = 2, PQ_CODEC_ZSTD = 6 };
enum { PQ_PAGE_DATA = 0, PQ_PAGE_INDEX = 1, PQ_PAGE_DICTIONARY = 2, PQ_PAGE_DATA_V2 = 3 };
enum {
    PQ_ENC_PLAIN = 0, PQ_ENC_PLAIN_DICTIONARY = 2, PQ_ENC_RLE = 3, PQ_ENC_BIT_PACKED = 4,
    PQ_ENC_DELTA_BINARY_PACKED = 5, PQ_ENC_DELTA_LENGTH_BYTE_ARRAY = 6, PQ_ENC_DELTA_BYTE_ARRAY = 7,
    PQ_ENC_RLE_DICTIONARY = 8, PQ_ENC_BYTE_STREAM_SPLIT = 9
};

typedef struct {
    const uint8_t *name; /* points into the footer buffer */
    uint32_t name_len;
    int type;            /* physical type, -1 for a group */
    int32_t type_length;
    int repetition;      /* -1 when absent (the root) */
    int32_t num_children;
    int converted;       /* ConvertedType, -1 when absent */
    int32_t scale;
    int logical;         /* LogicalType union member id, 0 when absent */
    int logical_unit;    /* TIME/TIMESTAMP: 1 millis, 2 micros, 3 nanos */
    int int_signed;      /* INTEGER: isSigned (1 when absent) */
} pq_schema_el;

typedef struct {
    int has_meta;
    int type, codec;
    int64_t num_values, total_compressed;
    int64_t data_page_offset, dict_page_offset; /* dict: -1 when absent */
} pq_chunk_meta;

typedef struct {
    int64_t num_rows;
    pq_chunk_meta *cols;
    uint32_t n_cols;
} pq_row_group;

typedef struct {
    int64_t num_rows;
    pq_schema_el *schema;
    uint32_t n_schema;
    pq_row_group *rgs;
    uint32_t n_rgs;
} pq_file_meta;

typedef struct {
    int type;
    int32_t uncompressed, compressed;
    int has_data, has_dict, has_v2;
    int32_t num_values, num_nulls, num_rows;
    int encoding, def_encoding;
    int32_t def_len, rep_len;
    int is_compressed;
} pq_page_header;

/* parquet_meta.c: 0 or -1 with t->err set. Frees with lens__pq_meta_free. */
int lens__pq_parse_file_meta(lens__thrift *t, pq_file_meta *m);
void lens__pq_meta_free(pq_file_meta *m);
int lens__pq_parse_page_header(lens__thrift *t, pq_page_header *h);
const char *lens__pq_codec_name(int codec);
const char *lens__pq_encoding_name(int enc);
const char *lens__pq_type_name(int type);

/* parquet_compress.c: decompresses exactly dst_len bytes; any other size is
 * an error. Returns 0, or LENS_EUNSUP / LENS_EFORMAT with why filled. */
int lens__pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, char *why, size_t why_cap);
/* Where the stream itself states its output size (snappy, zstd), checks it
 * against the declared size before anything is allocated. */
int lens__pq_decompress_precheck(int codec, const uint8_t *src, size_t n, size_t declared, char *why, size_t why_cap);

/* parquet_encodings.c ---------------------------------------------------- */

/* RLE / bit-packed hybrid decoder (levels, dictionary indices, booleans). */
typedef struct {
    const uint8_t *p, *end;
    int bw;
    uint32_t rle_left, rle_value;   /* current RLE run */
    const uint8_t *bp;              /* current bit-packed run */
    uint64_t bp_bit, bp_left;
} pq_rle;

void lens__pq_rle_init(pq_rle *r, const uint8_t *p, size_t n, int bw);
/* n values into out; -1 when the data runs out or is malformed. */
int lens__pq_rle_get(pq_rle *r, uint32_t *out, size_t n);

/* DELTA_BINARY_PACKED: count values into out (64-bit wrapping arithmetic);
 * *used gets the bytes consumed. -1 with *why on bad input. */
int lens__pq_delta_decode(const uint8_t *p, size_t n, int64_t *out, size_t count, size_t *used, const char **why);

#endif

/* ------------------------------------------------------------ the handle */

/* a buffer whose bytes count against the handle's memory limit */
typedef struct {
    void *p;
    size_t cap;
} pq_mem;

/* one selected column of the current row group, decoded */
typedef struct {
    int field, leaf;
    int physical, width, type_length, max_def; /* width: bytes per decoded fixed value */
    int64_t n;
    int has_nulls;
    pq_mem valid, values, offsets, data;
    size_t data_len;
} pq_col;

struct lens_parquet {
    char *path;
    int fd;             /* -1 over memory */
    const uint8_t *mem;
    uint64_t size, data_end; /* data_end: where the footer starts */
    uint8_t *footer;
    pq_file_meta meta;
    lens_parquet_column_info *cols;
    int n_cols, n_leaves;
    int *col_leaf;      /* leaf index of each top-level field, -1 for nested */
    pq_col *sel;
    int n_sel;
    int rg;             /* row group held, -1 none */
    size_t limit, used;
};

void lens__pq_mem_free(lens_parquet *p, pq_mem *m);
/* Decodes column chunk c of row group rg into c's buffers. */
int lens__pq_read_chunk(lens_parquet *p, int rg, pq_col *c, lens_error *err);
