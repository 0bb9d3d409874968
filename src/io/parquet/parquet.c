/* lens_parquet: a Parquet file's footer, schema and row groups, and the
 * public API over them. Decoding of column chunks is in parquet_column.c. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "io/io_internal.h"
#include "parquet_internal.h"

#define DEFAULT_LIMIT ((size_t)2 << 30)

static int read_at(lens_parquet *p, uint64_t off, void *buf, size_t n, lens_error *err)
{
    if (p->fd < 0) {
        memcpy(buf, p->mem + off, n);
        return 0;
    }
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(p->fd, (uint8_t *)buf + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return lens_error_set(err, LENS_EIO, "%s: reading %zu bytes at %llu: %s", p->path, n, (unsigned long long)off,
                                  r < 0 ? strerror(errno) : "file shrank");
        got += (size_t)r;
    }
    return 0;
}

/* logical meaning of a leaf from its LogicalType, else its ConvertedType */
static void annotate(const pq_schema_el *e, lens_parquet_column_info *ci)
{
    ci->physical = e->type;
    ci->type_length = e->type_length;
    ci->scale = e->scale;
    switch (e->logical) {
    case 1: case 4: case 12: ci->logical = LENS_PARQUET_STRING; return;  /* STRING, ENUM, JSON */
    case 5: ci->logical = LENS_PARQUET_DECIMAL; return;
    case 6: ci->logical = LENS_PARQUET_DATE; return;
    case 7: ci->logical = LENS_PARQUET_TIME; ci->unit = e->logical_unit; return;
    case 8: ci->logical = LENS_PARQUET_TIMESTAMP; ci->unit = e->logical_unit; return;
    case 10: ci->logical = e->int_signed ? LENS_PARQUET_PLAIN : LENS_PARQUET_UNSIGNED; return;
    default: break;
    }
    switch (e->converted) {
    case 0: case 4: case 19: ci->logical = LENS_PARQUET_STRING; break; /* UTF8, ENUM, JSON */
    case 5: ci->logical = LENS_PARQUET_DECIMAL; break;
    case 6: ci->logical = LENS_PARQUET_DATE; break;
    case 7: case 8: ci->logical = LENS_PARQUET_TIME; ci->unit = e->converted - 6; break;
    case 9: case 10: ci->logical = LENS_PARQUET_TIMESTAMP; ci->unit = e->converted - 8; break;
    case 11: case 12: case 13: case 14: ci->logical = LENS_PARQUET_UNSIGNED; break;
    default: break;
    }
}

/* Top-level fields from the flattened (pre-order) schema tree. */
static int build_schema(lens_parquet *p, lens_error *err)
{
    const pq_file_meta *m = &p->meta;
    if (m->n_schema < 1 || m->schema[0].num_children < 0)
        return lens_error_set(err, LENS_EFORMAT, "%s: footer has no schema root", p->path);
    int32_t n_top = m->schema[0].num_children;
    if ((uint32_t)n_top > m->n_schema - 1)
        return lens_error_set(err, LENS_EFORMAT, "%s: schema root claims %d fields, the schema lists %u elements", p->path,
                              n_top, m->n_schema - 1);
    p->cols = calloc((size_t)n_top + 1, sizeof *p->cols);
    p->col_leaf = calloc((size_t)n_top + 1, sizeof *p->col_leaf);
    if (!p->cols || !p->col_leaf) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", p->path);
    uint32_t i = 1;
    int leaves = 0;
    for (int f = 0; f < n_top; f++) {
        if (i >= m->n_schema)
            return lens_error_set(err, LENS_EFORMAT, "%s: schema ends inside field %d of %d", p->path, f + 1, n_top);
        const pq_schema_el *e = &m->schema[i];
        lens_parquet_column_info *ci = &p->cols[f];
        char *name = malloc(e->name_len + 1);
        if (!name) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", p->path);
        if (e->name_len) memcpy(name, e->name, e->name_len);
        name[e->name_len] = '\0';
        ci->name = name;
        p->n_cols = f + 1;
        ci->nullable = e->repetition == PQ_OPTIONAL;
        if (e->num_children <= 0) { /* a leaf */
            if (e->type < 0 || e->type > LENS_PARQUET_FIXED_LEN_BYTE_ARRAY)
                return lens_error_set(err, LENS_EFORMAT, "%s: field '%s' has no valid physical type (%d)", p->path, name,
                                      e->type);
            if (e->type == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY && e->type_length <= 0)
                return lens_error_set(err, LENS_EFORMAT, "%s: field '%s': FIXED_LEN_BYTE_ARRAY of length %d", p->path,
                                      name, e->type_length);
            annotate(e, ci);
            ci->nested = e->repetition == PQ_REPEATED;
            p->col_leaf[f] = ci->nested ? -1 : leaves;
            leaves++;
            i++;
            continue;
        }
        /* a group: count its leaves; pre-order makes its subtree contiguous */
        ci->physical = -1;
        ci->nested = 1;
        p->col_leaf[f] = -1;
        uint64_t pending = (uint64_t)e->num_children;
        for (i++; pending > 0; i++) {
            if (i >= m->n_schema)
                return lens_error_set(err, LENS_EFORMAT, "%s: schema ends inside group '%s'", p->path, name);
            const pq_schema_el *c = &m->schema[i];
            pending--;
            if (c->num_children > 0) {
                pending += (uint64_t)c->num_children;
                if (pending > m->n_schema)
                    return lens_error_set(err, LENS_EFORMAT, "%s: group '%s' claims more children than the schema has",
                                          p->path, name);
            } else {
                if (c->type < 0) return lens_error_set(err, LENS_EFORMAT, "%s: a leaf in '%s' has no type", p->path, name);
                leaves++;
            }
        }
    }
    if (i != m->n_schema)
        return lens_error_set(err, LENS_EFORMAT, "%s: schema lists %u elements, its tree covers %u", p->path, m->n_schema, i);
    p->n_leaves = leaves;
    for (uint32_t g = 0; g < m->n_rgs; g++) {
        if (m->rgs[g].n_cols != (uint32_t)leaves)
            return lens_error_set(err, LENS_EFORMAT, "%s: row group %u has %u column chunks, the schema %d columns", p->path,
                                  g, m->rgs[g].n_cols, leaves);
        if (m->rgs[g].num_rows < 0)
            return lens_error_set(err, LENS_EFORMAT, "%s: row group %u has %lld rows", p->path, g,
                                  (long long)m->rgs[g].num_rows);
    }
    return 0;
}

static int open_common(lens_parquet *p, lens_error *err)
{
    uint8_t head[4], tail[8];
    if (p->size < 12)
        return lens_error_set(err, LENS_EFORMAT, "%s: %llu bytes, too short to be a Parquet file", p->path,
                              (unsigned long long)p->size);
    if (read_at(p, 0, head, 4, err) || read_at(p, p->size - 8, tail, 8, err)) return err->code;
    if (memcmp(tail + 4, "PARE", 4) == 0)
        return lens_error_set(err, LENS_EUNSUP, "%s: encrypted Parquet files are not supported", p->path);
    if (memcmp(head, "PAR1", 4) != 0 || memcmp(tail + 4, "PAR1", 4) != 0)
        return lens_error_set(err, LENS_EFORMAT, "%s: not a Parquet file (no PAR1 magic at %s)", p->path,
                              memcmp(head, "PAR1", 4) ? "its start" : "its end");
    uint32_t flen = (uint32_t)tail[0] | (uint32_t)tail[1] << 8 | (uint32_t)tail[2] << 16 | (uint32_t)tail[3] << 24;
    if (flen == 0 || flen > p->size - 12)
        return lens_error_set(err, LENS_EFORMAT, "%s: footer length %u does not fit in the file's %llu bytes", p->path, flen,
                              (unsigned long long)p->size);
    if (flen > p->limit)
        return lens_error_set(err, LENS_ENOMEM, "%s: footer of %u bytes is over the memory limit", p->path, flen);
    p->data_end = p->size - 8 - flen;
    if (!(p->footer = malloc(flen))) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory for the footer", p->path);
    if (read_at(p, p->data_end, p->footer, flen, err)) return err->code;
    lens__thrift t;
    lens__thrift_init(&t, p->footer, flen);
    if (lens__pq_parse_file_meta(&t, &p->meta))
        return lens_error_set(err, t.err && strstr(t.err, "not supported") ? LENS_EUNSUP : LENS_EFORMAT,
                              "%s: corrupt footer: %s at byte %zu of %u", p->path, t.err, t.err_at, flen);
    return build_schema(p, err);
}

static int alloc_handle(lens_parquet **out, const char *path, lens_error *err)
{
    *out = NULL;
    lens_parquet *p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    p->fd = -1;
    p->rg = -1;
    p->limit = DEFAULT_LIMIT;
    *out = p;
    return 0;
}

int lens_parquet_open(lens_parquet **out, const char *path, lens_error *err)
{
    return lens__parquet_open_in(out, NULL, path, err);
}

int lens__parquet_open_in(lens_parquet **out, const char *root, const char *path, lens_error *err)
{
    lens_parquet *p;
    if (alloc_handle(&p, path, err)) return err->code;
    struct stat st;
    int rc = 0;
    if ((p->fd = lens__open_beneath(root, path, O_RDONLY, err)) < 0)
        rc = p->fd;
    else if (fstat(p->fd, &st) != 0 || !S_ISREG(st.st_mode))
        rc = lens_error_set(err, LENS_EIO, "%s: not a regular file", path);
    else {
        p->size = (uint64_t)st.st_size;
        rc = open_common(p, err);
    }
    if (rc) {
        lens_parquet_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

int lens_parquet_open_memory(lens_parquet **out, const char *name, const void *data, size_t size, lens_error *err)
{
    lens_parquet *p;
    if (alloc_handle(&p, name, err)) return err->code;
    p->mem = data;
    p->size = size;
    int rc = open_common(p, err);
    if (rc) {
        lens_parquet_close(p);
        return rc;
    }
    *out = p;
    return 0;
}

static void free_selection(lens_parquet *p)
{
    for (int i = 0; i < p->n_sel; i++) {
        pq_col *c = &p->sel[i];
        lens__pq_mem_free(p, &c->valid);
        lens__pq_mem_free(p, &c->values);
        lens__pq_mem_free(p, &c->offsets);
        lens__pq_mem_free(p, &c->data);
    }
    free(p->sel);
    p->sel = NULL;
    p->n_sel = 0;
    p->rg = -1;
}

void lens_parquet_close(lens_parquet *p)
{
    if (!p) return;
    free_selection(p);
    if (p->fd >= 0) close(p->fd);
    for (int i = 0; i < p->n_cols; i++) free((char *)p->cols[i].name);
    free(p->cols);
    free(p->col_leaf);
    lens__pq_meta_free(&p->meta);
    free(p->footer);
    free(p->path);
    free(p);
}

const char *lens_parquet_path(const lens_parquet *p) { return p->path; }
uint64_t lens_parquet_size(const lens_parquet *p) { return p->size; }
int64_t lens_parquet_num_rows(const lens_parquet *p) { return p->meta.num_rows; }
int lens_parquet_num_row_groups(const lens_parquet *p) { return (int)p->meta.n_rgs; }
int lens_parquet_num_columns(const lens_parquet *p) { return p->n_cols; }
void lens_parquet_set_memory_limit(lens_parquet *p, size_t bytes) { p->limit = bytes > p->used ? bytes : p->used; }

int64_t lens_parquet_row_group_rows(const lens_parquet *p, int rg)
{
    return rg >= 0 && (uint32_t)rg < p->meta.n_rgs ? p->meta.rgs[rg].num_rows : 0;
}

uint64_t lens_parquet_row_group_end(const lens_parquet *p, int rg)
{
    if (rg < 0 || (uint32_t)rg >= p->meta.n_rgs) return 0;
    uint64_t end = 0;
    const pq_row_group *g = &p->meta.rgs[rg];
    for (uint32_t i = 0; i < g->n_cols; i++) {
        const pq_chunk_meta *m = &g->cols[i];
        uint64_t e = (uint64_t)m->data_page_offset + (uint64_t)m->total_compressed;
        if (m->data_page_offset >= 0 && m->total_compressed >= 0 && e > end && e <= p->size) end = e;
    }
    return end;
}

const lens_parquet_column_info *lens_parquet_describe(const lens_parquet *p, int col)
{
    return col >= 0 && col < p->n_cols ? &p->cols[col] : NULL;
}

int lens_parquet_find_column(const lens_parquet *p, const char *name)
{
    for (int i = 0; i < p->n_cols; i++)
        if (strcmp(p->cols[i].name, name) == 0) return i;
    return -1;
}

int lens_parquet_select(lens_parquet *p, const int *cols, int n, lens_error *err)
{
    for (int i = 0; i < n; i++) {
        if (cols[i] < 0 || cols[i] >= p->n_cols)
            return lens_error_set(err, LENS_EINVAL, "%s: no column #%d (the file has %d)", p->path, cols[i], p->n_cols);
        const lens_parquet_column_info *ci = &p->cols[cols[i]];
        if (ci->nested)
            return lens_error_set(err, LENS_EUNSUP,
                                  "%s: column '%s' is nested (a %s); only flat columns of primitive values can be read",
                                  p->path, ci->name, ci->physical < 0 ? "group" : "repeated field");
    }
    free_selection(p);
    if (n > 0 && !(p->sel = calloc((size_t)n, sizeof *p->sel))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    p->n_sel = n;
    static const int width[] = {1, 4, 8, 8, 4, 8, 0, 0};
    for (int i = 0; i < n; i++) {
        pq_col *c = &p->sel[i];
        const lens_parquet_column_info *ci = &p->cols[cols[i]];
        c->field = cols[i];
        c->leaf = p->col_leaf[cols[i]];
        c->physical = ci->physical;
        c->width = width[ci->physical];
        c->type_length = ci->type_length;
        c->max_def = ci->nullable;
    }
    return 0;
}

int lens_parquet_read_row_group(lens_parquet *p, int rg, lens_error *err)
{
    if (rg < 0 || (uint32_t)rg >= p->meta.n_rgs)
        return lens_error_set(err, LENS_EINVAL, "%s: no row group %d (the file has %u)", p->path, rg, p->meta.n_rgs);
    p->rg = -1;
    for (int i = 0; i < p->n_sel; i++) {
        int rc = lens__pq_read_chunk(p, rg, &p->sel[i], err);
        if (rc) return rc;
    }
    p->rg = rg;
    return 0;
}

int lens_parquet_values_get(const lens_parquet *p, int sel, lens_parquet_values *out)
{
    memset(out, 0, sizeof *out);
    if (p->rg < 0 || sel < 0 || sel >= p->n_sel) return LENS_EINVAL;
    const pq_col *c = &p->sel[sel];
    out->n = c->n;
    out->physical = c->physical;
    out->valid = c->has_nulls ? c->valid.p : NULL;
    if (c->physical == LENS_PARQUET_BYTE_ARRAY || c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY) {
        out->offsets = c->offsets.p;
        out->data = c->data.p ? c->data.p : (const uint8_t *)"";
    } else {
        out->values = c->values.p;
    }
    return 0;
}

/* ------------------------------------------------------------- as text */

/* v * 10^-scale with its decimal point */
static size_t decimal_text(char *buf, size_t cap, int64_t v, int scale)
{
    char digits[32];
    uint64_t u = v < 0 ? -(uint64_t)v : (uint64_t)v;
    int n = snprintf(digits, sizeof digits, "%llu", (unsigned long long)u);
    if (scale <= 0 || scale > 38) return (size_t)snprintf(buf, cap, "%s%s", v < 0 ? "-" : "", digits);
    char *o = buf;
    if (v < 0) *o++ = '-';
    if (n <= scale) {
        *o++ = '0';
        *o++ = '.';
        for (int i = n; i < scale; i++) *o++ = '0';
        memcpy(o, digits, (size_t)n);
        o += n;
    } else {
        memcpy(o, digits, (size_t)(n - scale));
        o += n - scale;
        *o++ = '.';
        memcpy(o, digits + n - scale, (size_t)scale);
        o += scale;
    }
    *o = '\0';
    return (size_t)(o - buf);
}

/* the fewest digits that read back as the same value */
static size_t float_text(char *buf, size_t cap, double v, int is_float)
{
    if (isnan(v)) return (size_t)snprintf(buf, cap, "NaN");
    if (isinf(v)) return (size_t)snprintf(buf, cap, v < 0 ? "-Infinity" : "Infinity");
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(buf, cap, "%.*g", prec, v);
        if (is_float ? strtof(buf, NULL) == (float)v : strtod(buf, NULL) == v) break;
    }
    return strlen(buf);
}

const char *lens_parquet_value_text(const lens_parquet_values *v, const lens_parquet_column_info *info, int64_t row,
                                    char scratch[64], size_t *len)
{
    if (row < 0 || row >= v->n || (v->valid && !v->valid[row])) return NULL;
    int logical = info ? info->logical : LENS_PARQUET_PLAIN;
    int scale = info ? info->scale : 0;
    switch (v->physical) {
    case LENS_PARQUET_BOOLEAN: {
        int b = ((const uint8_t *)v->values)[row];
        *len = b ? 4 : 5;
        return b ? "true" : "false";
    }
    case LENS_PARQUET_INT32: {
        int32_t x;
        memcpy(&x, (const uint8_t *)v->values + 4 * row, 4);
        if (logical == LENS_PARQUET_UNSIGNED) *len = (size_t)snprintf(scratch, 64, "%u", (uint32_t)x);
        else if (logical == LENS_PARQUET_DECIMAL) *len = decimal_text(scratch, 64, x, scale);
        else *len = (size_t)snprintf(scratch, 64, "%d", x);
        return scratch;
    }
    case LENS_PARQUET_INT64:
    case LENS_PARQUET_INT96: {
        int64_t x;
        memcpy(&x, (const uint8_t *)v->values + 8 * row, 8);
        if (logical == LENS_PARQUET_UNSIGNED) *len = (size_t)snprintf(scratch, 64, "%llu", (unsigned long long)x);
        else if (logical == LENS_PARQUET_DECIMAL) *len = decimal_text(scratch, 64, x, scale);
        else *len = (size_t)snprintf(scratch, 64, "%lld", (long long)x);
        return scratch;
    }
    case LENS_PARQUET_FLOAT: {
        float x;
        memcpy(&x, (const uint8_t *)v->values + 4 * row, 4);
        *len = float_text(scratch, 64, x, 1);
        return scratch;
    }
    case LENS_PARQUET_DOUBLE: {
        double x;
        memcpy(&x, (const uint8_t *)v->values + 8 * row, 8);
        *len = float_text(scratch, 64, x, 0);
        return scratch;
    }
    default: {
        const uint8_t *b = v->data + v->offsets[row];
        size_t n = (size_t)(v->offsets[row + 1] - v->offsets[row]);
        /* big-endian two's complement decimals up to 8 bytes */
        if (logical == LENS_PARQUET_DECIMAL && n >= 1 && n <= 8) {
            int64_t x = (int8_t)b[0];
            for (size_t i = 1; i < n; i++) x = (int64_t)((uint64_t)x << 8 | b[i]);
            *len = decimal_text(scratch, 64, x, scale);
            return scratch;
        }
        *len = n;
        return (const char *)b;
    }
    }
}
