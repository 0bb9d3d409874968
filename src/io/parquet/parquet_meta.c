/* Parquet metadata from Thrift: FileMetaData (the footer) and PageHeader.
 * Only the fields a flat-column reader needs are kept; everything else,
 * including fields newer than this reader, is skipped by wire type. */
#include <stdlib.h>
#include <string.h>

#include "parquet_internal.h"

/* a known field id arriving with another wire type is corrupt, not newer */
static int want(lens__thrift *t, int type, int expected)
{
    if (type == expected) return 0;
    if ((expected == TH_TRUE || expected == TH_FALSE) && (type == TH_TRUE || type == TH_FALSE)) return 0;
    return lens__thrift_fail(t, "field has an unexpected wire type");
}

static int get_i32(lens__thrift *t, int type, int32_t *v) { return want(t, type, TH_I32) || lens__thrift_i32(t, v); }
static int get_i64(lens__thrift *t, int type, int64_t *v) { return want(t, type, TH_I64) || lens__thrift_i64(t, v); }

static int get_enum(lens__thrift *t, int type, int *v)
{
    int32_t x;
    if (get_i32(t, type, &x)) return -1;
    *v = x;
    return 0;
}

/* struct with fields handled by fn(t, ctx, id, type); others skipped */
typedef int (*field_fn)(lens__thrift *t, void *ctx, int16_t id, int type);

static int parse_struct(lens__thrift *t, void *ctx, field_fn fn)
{
    if (lens__thrift_struct_begin(t)) return -1;
    int16_t last = 0, id;
    int type, rc;
    while ((rc = lens__thrift_field(t, &last, &type, &id)) > 0)
        if (fn(t, ctx, id, type)) return -1;
    if (rc < 0) return -1;
    lens__thrift_struct_end(t);
    return 0;
}

/* ------------------------------------------------------------ LogicalType */

static int time_unit_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    if (id >= 1 && id <= 3 && type == TH_STRUCT) *(int *)ctx = id; /* MILLIS, MICROS, NANOS */
    return lens__thrift_skip(t, type);
}

static int time_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    if (id == 2) return want(t, type, TH_STRUCT) || parse_struct(t, ctx, time_unit_field);
    return lens__thrift_skip(t, type);
}

static int int_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    if (id == 2) return want(t, type, TH_TRUE) || (*(int *)ctx = type == TH_TRUE, 0);
    return lens__thrift_skip(t, type);
}

static int logical_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_schema_el *e = ctx;
    if (type != TH_STRUCT) return lens__thrift_skip(t, type);
    e->logical = id;
    if (id == 7 || id == 8) return parse_struct(t, &e->logical_unit, time_field);
    if (id == 10) return parse_struct(t, &e->int_signed, int_field);
    return lens__thrift_skip(t, type);
}

/* ---------------------------------------------------------- SchemaElement */

static int schema_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_schema_el *e = ctx;
    switch (id) {
    case 1: return get_enum(t, type, &e->type);
    case 2: return get_i32(t, type, &e->type_length);
    case 3: return get_enum(t, type, &e->repetition);
    case 4: return want(t, type, TH_BINARY) || lens__thrift_binary(t, &e->name, &e->name_len);
    case 5: return get_i32(t, type, &e->num_children);
    case 6: return get_enum(t, type, &e->converted);
    case 7: return get_i32(t, type, &e->scale);
    case 10: return want(t, type, TH_STRUCT) || parse_struct(t, e, logical_field);
    default: return lens__thrift_skip(t, type);
    }
}

/* -------------------------------------------------------- ColumnMetaData */

static int column_meta_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_chunk_meta *c = ctx;
    switch (id) {
    case 1: return get_enum(t, type, &c->type);
    case 4: return get_enum(t, type, &c->codec);
    case 5: return get_i64(t, type, &c->num_values);
    case 7: return get_i64(t, type, &c->total_compressed);
    case 9: return get_i64(t, type, &c->data_page_offset);
    case 11: return get_i64(t, type, &c->dict_page_offset);
    default: return lens__thrift_skip(t, type);
    }
}

static int column_chunk_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_chunk_meta *c = ctx;
    if (id == 1) return lens__thrift_fail(t, "column data in another file (file_path) is not supported");
    if (id == 3) {
        if (want(t, type, TH_STRUCT) || parse_struct(t, c, column_meta_field)) return -1;
        c->has_meta = 1;
        return 0;
    }
    return lens__thrift_skip(t, type);
}

/* --------------------------------------------------------------- RowGroup */

static int row_group_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_row_group *g = ctx;
    if (id == 3) return get_i64(t, type, &g->num_rows);
    if (id != 1) return lens__thrift_skip(t, type);
    int et;
    uint32_t n;
    if (want(t, type, TH_LIST) || lens__thrift_list(t, &et, &n) || want(t, et, TH_STRUCT)) return -1;
    if (g->cols) return lens__thrift_fail(t, "row group lists its columns twice");
    if (n && !(g->cols = calloc(n, sizeof *g->cols))) return lens__thrift_fail(t, "out of memory");
    g->n_cols = n;
    for (uint32_t i = 0; i < n; i++) {
        g->cols[i].dict_page_offset = -1;
        g->cols[i].type = -1;
        g->cols[i].codec = -1;
        if (parse_struct(t, &g->cols[i], column_chunk_field)) return -1;
    }
    return 0;
}

/* ----------------------------------------------------------- FileMetaData */

typedef struct {
    pq_file_meta *m;
    int seen;
} file_ctx;

static int file_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    file_ctx *f = ctx;
    pq_file_meta *m = f->m;
    int et;
    uint32_t n;
    switch (id) {
    case 2:
        if (want(t, type, TH_LIST) || lens__thrift_list(t, &et, &n) || want(t, et, TH_STRUCT)) return -1;
        if (m->schema) return lens__thrift_fail(t, "schema given twice");
        if (n && !(m->schema = calloc(n, sizeof *m->schema))) return lens__thrift_fail(t, "out of memory");
        m->n_schema = n;
        for (uint32_t i = 0; i < n; i++) {
            pq_schema_el *e = &m->schema[i];
            e->type = e->repetition = e->converted = -1;
            e->int_signed = 1;
            if (parse_struct(t, e, schema_field)) return -1;
        }
        f->seen |= 1;
        return 0;
    case 3:
        f->seen |= 2;
        return get_i64(t, type, &m->num_rows);
    case 4:
        if (want(t, type, TH_LIST) || lens__thrift_list(t, &et, &n) || want(t, et, TH_STRUCT)) return -1;
        if (m->rgs) return lens__thrift_fail(t, "row groups given twice");
        if (n && !(m->rgs = calloc(n, sizeof *m->rgs))) return lens__thrift_fail(t, "out of memory");
        m->n_rgs = n;
        for (uint32_t i = 0; i < n; i++)
            if (parse_struct(t, &m->rgs[i], row_group_field)) return -1;
        f->seen |= 4;
        return 0;
    default: return lens__thrift_skip(t, type);
    }
}

int lens__pq_parse_file_meta(lens__thrift *t, pq_file_meta *m)
{
    memset(m, 0, sizeof *m);
    file_ctx f = {m, 0};
    if (parse_struct(t, &f, file_field)) return -1;
    if (f.seen != 7) return lens__thrift_fail(t, "FileMetaData lacks schema, num_rows or row_groups");
    return 0;
}

void lens__pq_meta_free(pq_file_meta *m)
{
    for (uint32_t i = 0; i < m->n_rgs; i++) free(m->rgs[i].cols);
    free(m->rgs);
    free(m->schema);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------- PageHeader */

static int data_page_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_page_header *h = ctx;
    switch (id) {
    case 1: return get_i32(t, type, &h->num_values);
    case 2: return get_enum(t, type, &h->encoding);
    case 3: return get_enum(t, type, &h->def_encoding);
    default: return lens__thrift_skip(t, type);
    }
}

static int dict_page_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_page_header *h = ctx;
    if (id == 1) return get_i32(t, type, &h->num_values);
    if (id == 2) return get_enum(t, type, &h->encoding);
    return lens__thrift_skip(t, type);
}

static int data_page_v2_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_page_header *h = ctx;
    switch (id) {
    case 1: return get_i32(t, type, &h->num_values);
    case 2: return get_i32(t, type, &h->num_nulls);
    case 3: return get_i32(t, type, &h->num_rows);
    case 4: return get_enum(t, type, &h->encoding);
    case 5: return get_i32(t, type, &h->def_len);
    case 6: return get_i32(t, type, &h->rep_len);
    case 7: return want(t, type, TH_TRUE) || (h->is_compressed = type == TH_TRUE, 0);
    default: return lens__thrift_skip(t, type);
    }
}

static int page_field(lens__thrift *t, void *ctx, int16_t id, int type)
{
    pq_page_header *h = ctx;
    switch (id) {
    case 1: return get_enum(t, type, &h->type);
    case 2: return get_i32(t, type, &h->uncompressed);
    case 3: return get_i32(t, type, &h->compressed);
    case 5: h->has_data = 1; return want(t, type, TH_STRUCT) || parse_struct(t, h, data_page_field);
    case 7: h->has_dict = 1; return want(t, type, TH_STRUCT) || parse_struct(t, h, dict_page_field);
    case 8: h->has_v2 = 1; return want(t, type, TH_STRUCT) || parse_struct(t, h, data_page_v2_field);
    default: return lens__thrift_skip(t, type);
    }
}

int lens__pq_parse_page_header(lens__thrift *t, pq_page_header *h)
{
    memset(h, 0, sizeof *h);
    h->type = h->uncompressed = h->compressed = -1;
    h->is_compressed = 1;
    if (parse_struct(t, h, page_field)) return -1;
    if (h->type < 0 || h->uncompressed < 0 || h->compressed < 0)
        return lens__thrift_fail(t, "page header lacks type or sizes");
    return 0;
}

/* ------------------------------------------------------------------ names */

const char *lens__pq_codec_name(int codec)
{
    static const char *const names[] = {"UNCOMPRESSED", "SNAPPY", "GZIP", "LZO", "BROTLI", "LZ4", "ZSTD", "LZ4_RAW"};
    return codec >= 0 && codec < 8 ? names[codec] : "unknown";
}

const char *lens__pq_encoding_name(int enc)
{
    static const char *const names[] = {"PLAIN", "GROUP_VAR_INT", "PLAIN_DICTIONARY", "RLE", "BIT_PACKED",
                                        "DELTA_BINARY_PACKED", "DELTA_LENGTH_BYTE_ARRAY", "DELTA_BYTE_ARRAY",
                                        "RLE_DICTIONARY", "BYTE_STREAM_SPLIT"};
    return enc >= 0 && enc < 10 ? names[enc] : "unknown";
}

const char *lens__pq_type_name(int type)
{
    static const char *const names[] = {"BOOLEAN", "INT32", "INT64", "INT96", "FLOAT", "DOUBLE", "BYTE_ARRAY",
                                        "FIXED_LEN_BYTE_ARRAY"};
    return type >= 0 && type < 8 ? names[type] : "unknown";
}
