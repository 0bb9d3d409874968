/* lens_table: named columns from .csv, .jsonl or .txt (each optionally .zst)
 * or .parquet, and lens_reader, the one-text-column view the embed command
 * uses. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "base/buf.h"
#include "base/utf8.h"
#include "csv.h"
#include "lens/io.h"
#include "lens/parquet.h"
#include "io_internal.h"
#include "stream.h"

typedef enum { FMT_TXT, FMT_JSONL, FMT_CSV, FMT_PARQUET } fmt;

#define MAX_COLS 64

struct lens_table {
    char *path;
    fmt format;
    lens__stream *s;
    lens__csv csv;
    char *cols[MAX_COLS];   /* requested column names */
    long csv_idx[MAX_COLS]; /* CSV: index in the header */
    int n_cols, started;
    char *line;             /* TXT/JSONL line buffer */
    size_t line_len, line_cap, line_no, rec_line;
    json_t *record;         /* JSONL: the current record */
    int peeked;             /* JSONL: record read ahead by lens_table_has */
    char scratch[MAX_COLS][40]; /* JSONL numbers/booleans as text */
    /* Parquet: one row group decoded at a time, only the requested columns */
    lens_parquet *pq;
    int pq_field[MAX_COLS];     /* field index of each requested column */
    int pq_rg;                  /* row group held, -1 before the first */
    int64_t pq_row, pq_before;  /* row in it; rows in the groups before */
    char pq_num[MAX_COLS][64];  /* numbers as text */
    char *pq_str[MAX_COLS];     /* byte arrays copied with a NUL, as callers expect */
    size_t pq_cap[MAX_COLS];
    /* invalid UTF-8: values come back with U+FFFD in its place (fix[col]),
     * so no report or JSON built from them carries a raw bad byte */
    uint64_t records;           /* records returned so far */
    uint64_t bad_rows, bad_bytes, bad_at, fixed_at[MAX_COLS];
    char *fix[MAX_COLS];
    size_t fix_cap[MAX_COLS];
    char *jfix;                 /* JSONL: the line repaired */
    size_t jfix_cap;
};

/* A record with a repair counts once, a value read twice once. */
static void count_bad(lens_table *t, uint64_t record, uint64_t bytes)
{
    t->bad_bytes += bytes;
    if (t->bad_at != record) t->bad_rows++;
    t->bad_at = record;
}

/* s[0..*len) with every invalid UTF-8 byte replaced by U+FFFD (in fix[col]
 * when there is one); NULL when out of memory. */
static const char *clean(lens_table *t, int col, const char *s, size_t *len)
{
    if (!s) return s;
    size_t ok = lens__utf8_valid(s, *len);
    if (ok == *len) return s;
    if (lens__grow((void **)&t->fix[col], &t->fix_cap[col], 3 * *len + 1, 1)) return NULL;
    uint64_t bad = 0;
    memcpy(t->fix[col], s, ok);
    *len = ok + lens__utf8_repair(s + ok, *len - ok, t->fix[col] + ok, &bad);
    if (t->fixed_at[col] != t->records) {
        t->fixed_at[col] = t->records;
        count_bad(t, t->records, bad);
    }
    return t->fix[col];
}

uint64_t lens_table_repaired(const lens_table *t, uint64_t *bytes)
{
    if (bytes) *bytes = t->bad_bytes;
    return t->bad_rows;
}

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

/* One line without \n or \r\n; 1 ok, 0 eof, <0 error. */
static int read_line(lens_table *t, lens_error *err)
{
    t->line_len = 0;
    int ch = lens__stream_getc(t->s);
    if (ch == -1) return 0;
    for (;; ch = lens__stream_getc(t->s)) {
        if (ch == -2)
            return lens_error_set(err, lens__stream_error_code(t->s), "%s:%zu: %s", t->path, t->line_no + 1,
                                  lens__stream_error(t->s));
        if (ch == -1 || ch == '\n') break;
        if (lens__grow((void **)&t->line, &t->line_cap, t->line_len + 2, 1))
            return lens_error_set(err, LENS_ENOMEM, "%s:%zu: out of memory", t->path, t->line_no + 1);
        t->line[t->line_len++] = (char)ch;
    }
    t->line_no++;
    if (t->line_len && t->line[t->line_len - 1] == '\r') t->line_len--;
    if (!t->line && !(t->line = malloc(t->line_cap = 1))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    t->line[t->line_len] = '\0';
    return 1;
}

static long header_index(const lens__csv *c, const char *name)
{
    for (size_t i = 0; i < c->n_fields; i++)
        if (strcmp(lens__csv_field(c, i), name) == 0) return (long)i;
    return -1;
}

int lens_table_open(lens_table **out, const char *path, lens_error *err)
{
    return lens__table_open_in(out, NULL, path, err);
}

int lens__table_open_in(lens_table **out, const char *root, const char *path, lens_error *err)
{
    *out = NULL;
    lens_table *t = calloc(1, sizeof *t);
    if (!t || !(t->path = strdup(path))) {
        free(t);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    if (ends_with(base, ".zst")) base[strlen(base) - 4] = '\0';
    if (ends_with(path, ".parquet")) {
        t->format = FMT_PARQUET;
        t->pq_rg = -1;
        int rc = lens__parquet_open_in(&t->pq, root, path, err);
        if (rc) {
            lens_table_close(t);
            return rc;
        }
        *out = t;
        return LENS_OK;
    }
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) t->format = FMT_JSONL;
    else if (ends_with(base, ".csv")) t->format = FMT_CSV;
    else if (ends_with(base, ".txt")) t->format = FMT_TXT;
    else {
        lens_table_close(t);
        return lens_error_set(err, LENS_EINVAL, "%s: unknown input type; use .txt, .jsonl or .csv (optionally .zst) or .parquet", path);
    }
    int rc = lens__stream_open_in(&t->s, root, path, err);
    if (!rc && t->format == FMT_CSV) {
        lens__csv_init(&t->csv, t->s, t->path);
        rc = lens__csv_next(&t->csv, err);
        if (rc == 0) rc = lens_error_set(err, LENS_EFORMAT, "%s: empty file (no CSV header)", path);
        if (rc == 1) {
            rc = LENS_OK;
            /* a UTF-8 BOM would hide the first column's name */
            if (t->csv.len >= 3 && memcmp(t->csv.buf, "\xEF\xBB\xBF", 3) == 0) {
                memmove(t->csv.buf, t->csv.buf + 3, t->csv.len - 3);
                t->csv.len -= 3;
                for (size_t i = 1; i < t->csv.n_fields; i++) t->csv.starts[i] -= 3;
            }
        }
    }
    if (rc) {
        lens_table_close(t);
        return rc;
    }
    *out = t;
    return LENS_OK;
}

void lens_table_close(lens_table *t)
{
    if (!t) return;
    if (t->format == FMT_CSV) lens__csv_free(&t->csv);
    lens__stream_close(t->s);
    lens_parquet_close(t->pq);
    for (int i = 0; i < t->n_cols; i++) free(t->pq_str[i]);
    for (int i = 0; i < t->n_cols; i++) free(t->fix[i]);
    free(t->jfix);
    json_decref(t->record);
    for (int i = 0; i < t->n_cols; i++) free(t->cols[i]);
    free(t->line);
    free(t->path);
    free(t);
}

const char *lens_table_path(const lens_table *t) { return t->path; }
/* Parquet: the row number (1-based) stands in for the line */
size_t lens_table_line(const lens_table *t)
{
    if (t->format == FMT_PARQUET) return (size_t)(t->pq_before + t->pq_row + 1);
    return t->format == FMT_CSV ? t->csv.line : t->rec_line;
}

uint64_t lens_table_offset(const lens_table *t)
{
    if (t->format == FMT_PARQUET) return t->pq_rg < 0 ? 0 : lens_parquet_row_group_end(t->pq, t->pq_rg);
    return lens__stream_offset(t->s);
}

uint64_t lens_table_size(const lens_table *t)
{
    return t->format == FMT_PARQUET ? lens_parquet_size(t->pq) : lens__stream_size(t->s);
}

int lens_table_column(lens_table *t, const char *name)
{
    if (t->format == FMT_CSV && header_index(&t->csv, name) < 0) return -1;
    if (t->format == FMT_TXT && strcmp(name, "text") != 0) return -1;
    /* a nested column is accepted here and refused, with its reason, by the first next */
    if (t->format == FMT_PARQUET && (lens_parquet_find_column(t->pq, name) < 0 || t->started)) return -1;
    for (int i = 0; i < t->n_cols; i++)
        if (strcmp(t->cols[i], name) == 0) return i;
    if (t->n_cols == MAX_COLS || !(t->cols[t->n_cols] = strdup(name))) return -1;
    if (t->format == FMT_CSV) t->csv_idx[t->n_cols] = header_index(&t->csv, name);
    if (t->format == FMT_PARQUET) t->pq_field[t->n_cols] = lens_parquet_find_column(t->pq, name);
    return t->n_cols++;
}

/* JSONL: next non-blank line parsed into t->record. */
static int next_json(lens_table *t, lens_error *err)
{
    for (;;) {
        int rc = read_line(t, err);
        if (rc <= 0) return rc;
        size_t k = strspn(t->line, " \t");
        if (k == t->line_len) continue;
        json_decref(t->record);
        t->record = NULL;
        json_error_t je;
        const char *line = t->line;
        size_t len = t->line_len, ok = lens__utf8_valid(line, len);
        if (ok < len) { /* jansson refuses invalid UTF-8: repair the line, as CSV values are */
            if (lens__grow((void **)&t->jfix, &t->jfix_cap, 3 * len + 1, 1))
                return lens_error_set(err, LENS_ENOMEM, "%s:%zu: out of memory", t->path, t->line_no);
            uint64_t bad = 0;
            memcpy(t->jfix, line, ok);
            len = ok + lens__utf8_repair(line + ok, len - ok, t->jfix + ok, &bad);
            line = t->jfix;
            count_bad(t, t->records + 1, bad); /* the record this line will be */
        }
        t->record = json_loadb(line, len, JSON_ALLOW_NUL, &je);
        t->rec_line = t->line_no;
        if (!t->record)
            return lens_error_set(err, LENS_EFORMAT, "%s:%zu:%d: invalid JSON: %s", t->path, t->line_no, je.column, je.text);
        if (!json_is_object(t->record))
            return lens_error_set(err, LENS_EFORMAT, "%s:%zu: each line must be a JSON object", t->path, t->line_no);
        return 1;
    }
}

int lens_table_has(lens_table *t, const char *name, lens_error *err)
{
    if (t->format == FMT_CSV) return header_index(&t->csv, name) >= 0;
    if (t->format == FMT_TXT) return strcmp(name, "text") == 0;
    if (t->format == FMT_PARQUET) return lens_parquet_find_column(t->pq, name) >= 0;
    if (!t->started && !t->peeked) {
        int rc = next_json(t, err);
        if (rc < 0) return rc;
        t->peeked = 1 + (rc == 0); /* 2: the file is empty */
    }
    return t->record && json_object_get(t->record, name) != NULL;
}

/* Parquet: the next row, reading the next non-empty row group when needed;
 * only the columns asked for are selected, so only they are read. */
static int next_parquet(lens_table *t, lens_error *err)
{
    if (!t->started) {
        t->started = 1;
        int rc = lens_parquet_select(t->pq, t->pq_field, t->n_cols, err);
        if (rc) return rc;
    } else {
        t->pq_row++;
    }
    while (t->pq_rg < 0 || t->pq_row >= lens_parquet_row_group_rows(t->pq, t->pq_rg)) {
        if (t->pq_rg >= 0) t->pq_before += lens_parquet_row_group_rows(t->pq, t->pq_rg);
        if (++t->pq_rg >= lens_parquet_num_row_groups(t->pq)) {
            t->pq_rg = lens_parquet_num_row_groups(t->pq) - 1;
            t->pq_before -= lens_parquet_row_group_rows(t->pq, t->pq_rg);
            t->pq_row = lens_parquet_row_group_rows(t->pq, t->pq_rg);
            return 0;
        }
        t->pq_row = 0;
        if (lens_parquet_row_group_rows(t->pq, t->pq_rg) == 0) continue;
        int rc = lens_parquet_read_row_group(t->pq, t->pq_rg, err);
        if (rc) return rc;
    }
    return 1;
}

static int next_record(lens_table *t, lens_error *err)
{
    if (t->format == FMT_PARQUET) return next_parquet(t, err);
    t->started = 1;
    if (t->format == FMT_CSV) {
        for (;;) {
            int rc = lens__csv_next(&t->csv, err);
            if (rc <= 0) return rc;
            if (!(t->csv.n_fields == 1 && t->csv.len == 1)) return 1; /* skip blank lines */
        }
    }
    if (t->format == FMT_TXT) {
        int rc = read_line(t, err);
        t->rec_line = t->line_no;
        return rc;
    }
    if (t->peeked) {
        int empty = t->peeked == 2;
        t->peeked = 0;
        return empty ? 0 : 1;
    }
    return next_json(t, err);
}

int lens_table_next(lens_table *t, lens_error *err)
{
    int rc = next_record(t, err);
    t->records += rc == 1;
    return rc;
}

static const char *get_raw(lens_table *t, int col, size_t *len)
{
    if (t->format == FMT_PARQUET) {
        lens_parquet_values v;
        if (lens_parquet_values_get(t->pq, col, &v) || t->pq_row >= v.n) return NULL;
        const char *s = lens_parquet_value_text(&v, lens_parquet_describe(t->pq, t->pq_field[col]), t->pq_row,
                                                t->pq_num[col], len);
        if (!s || !v.offsets) return s;
        if (lens__grow((void **)&t->pq_str[col], &t->pq_cap[col], *len + 1, 1)) return NULL;
        memcpy(t->pq_str[col], s, *len);
        t->pq_str[col][*len] = '\0';
        return t->pq_str[col];
    }
    if (t->format == FMT_TXT) {
        *len = t->line_len;
        return t->line;
    }
    if (t->format == FMT_CSV) {
        long i = t->csv_idx[col];
        if (i < 0 || (size_t)i >= t->csv.n_fields) return NULL;
        *len = lens__csv_field_len(&t->csv, (size_t)i);
        return lens__csv_field(&t->csv, (size_t)i);
    }
    json_t *v = json_object_get(t->record, t->cols[col]);
    char *buf = t->scratch[col];
    if (json_is_string(v)) {
        *len = json_string_length(v);
        return json_string_value(v);
    }
    if (json_is_integer(v)) snprintf(buf, sizeof t->scratch[col], "%lld", (long long)json_integer_value(v));
    else if (json_is_real(v)) snprintf(buf, sizeof t->scratch[col], "%.17g", json_real_value(v));
    else if (json_is_boolean(v)) snprintf(buf, sizeof t->scratch[col], "%s", json_is_true(v) ? "true" : "false");
    else return NULL;
    *len = strlen(buf);
    return buf;
}

const char *lens_table_get(lens_table *t, int col, size_t *len)
{
    if (col < 0 || col >= t->n_cols) return NULL;
    const char *s = get_raw(t, col, len);
    if (t->format == FMT_JSONL) return s; /* jansson's strings are valid UTF-8 */
    if (t->format == FMT_PARQUET) { /* text: strings and unannotated byte arrays; binary values stay as they are */
        const lens_parquet_column_info *ci = lens_parquet_describe(t->pq, t->pq_field[col]);
        if (ci->physical != LENS_PARQUET_BYTE_ARRAY || (ci->logical != LENS_PARQUET_STRING && ci->logical != LENS_PARQUET_PLAIN))
            return s;
    }
    return clean(t, col, s, len);
}

/* ---------------------------------------------------------------- count */

/* The decompressed size a .zst's first frame declares (UINT64_MAX: not
 * declared, or not a .zst). A file of several frames declares each one's:
 * the caller uses it only when it is at least what was read. */
static uint64_t zstd_content_size(const char *path)
{
    if (!ends_with(path, ".zst")) return UINT64_MAX;
    unsigned char h[18]; /* ZSTD_FRAMEHEADERSIZE_MAX */
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(h, 1, sizeof h, f) : 0;
    if (f) fclose(f);
    unsigned long long size = ZSTD_getFrameContentSize(h, n);
    return size == ZSTD_CONTENTSIZE_UNKNOWN || size == ZSTD_CONTENTSIZE_ERROR ? UINT64_MAX : (uint64_t)size;
}

/* One pass over the bytes with no parsing into fields: CSV records as
 * lens__csv splits them (newlines inside quotes do not end one; blank
 * lines do not count), JSONL lines that are not blank, TXT lines. */
int lens_table_count(const char *path, uint64_t max_bytes, uint64_t *rows, int *exact, lens_error *err)
{
    *rows = 0;
    *exact = 1;
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    if (ends_with(base, ".zst")) base[strlen(base) - 4] = '\0';
    if (ends_with(path, ".parquet")) { /* the footer has it */
        lens_parquet *pq;
        int rc = lens_parquet_open(&pq, path, err);
        if (rc) return rc;
        *rows = (uint64_t)lens_parquet_num_rows(pq);
        lens_parquet_close(pq);
        return LENS_OK;
    }
    fmt f = ends_with(base, ".csv") ? FMT_CSV : ends_with(base, ".jsonl") || ends_with(base, ".ndjson") ? FMT_JSONL : FMT_TXT;
    lens__stream *s;
    int rc = lens__stream_open(&s, path, err);
    if (rc) return rc;
    enum { START, FIELD, QUOTED, QUOTE } st = START; /* CSV: where in a field */
    uint64_t recs = 0, seen = 0;
    int content = 0, ch;
    while ((ch = lens__stream_getc(s)) >= 0) {
        if (++seen > max_bytes) {
            *exact = 0;
            break;
        }
        if (f == FMT_CSV) {
            if (st == QUOTED) {
                if (ch == '"') st = QUOTE;
                continue;
            }
            if (st == QUOTE) {
                if (ch == '"') {
                    st = QUOTED; /* "" inside quotes */
                    continue;
                }
                st = FIELD;
            }
            if (ch == '\n' || ch == '\r') { /* \r\n: the \n is a blank record */
                recs += content;
                content = 0;
                st = START;
            } else {
                content = 1;
                st = ch == ',' ? START : ch == '"' && st == START ? QUOTED : FIELD;
            }
        } else if (ch == '\n') {
            recs += content || f == FMT_TXT;
            content = 0;
        } else if (f == FMT_TXT || (ch != ' ' && ch != '\t' && ch != '\r')) {
            content = 1;
        }
    }
    if (ch == -2) rc = lens_error_set(err, LENS_EIO, "%s: %s", path, lens__stream_error(s));
    if (*exact) recs += content;
    if (f == FMT_CSV && recs) recs--; /* the header */
    if (!*exact) { /* so far, scaled by the share of the file read */
        uint64_t off = lens__stream_offset(s), size = lens__stream_size(s), whole = zstd_content_size(path);
        /* a .zst's frame header usually has the size it decompresses to;
         * else the compressed position, which runs up to a block ahead */
        if (whole != UINT64_MAX && whole >= max_bytes) recs = (uint64_t)((double)recs * (double)whole / (double)max_bytes + 0.5);
        else if (off > 0 && size > off) recs = (uint64_t)((double)recs * (double)size / (double)off + 0.5);
    }
    lens__stream_close(s);
    *rows = recs;
    return rc;
}

/* ---------------------------------------------------------------- reader */

struct lens_reader {
    lens_table *t;
    int text_col, id_col;
    char *field;
};

int lens_reader_open(lens_reader **out, const char *path, const lens_reader_opts *o, lens_error *err)
{
    return lens__reader_open_in(out, NULL, path, o, err);
}

int lens__reader_open_in(lens_reader **out, const char *root, const char *path, const lens_reader_opts *o,
                         lens_error *err)
{
    *out = NULL;
    lens_reader *r = calloc(1, sizeof *r);
    if (!r) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    int rc = lens__table_open_in(&r->t, root, path, err);
    if (rc) {
        free(r);
        return rc;
    }
    const char *want = o && o->column ? o->column : NULL;
    if (r->t->format == FMT_JSONL) want = o && o->field ? o->field : "text";
    if (r->t->format == FMT_PARQUET && !want && o && o->field) want = o->field; /* either flag names a column */
    if (r->t->format == FMT_TXT) want = "text";
    r->text_col = want ? lens_table_column(r->t, want) : lens_table_column(r->t, "text");
    if (!want && r->text_col < 0) r->text_col = lens_table_column(r->t, "review");
    r->id_col = -1;
    if (r->text_col < 0) {
        char cols[256] = "";
        for (size_t i = 0; i < r->t->csv.n_fields && strlen(cols) < 200; i++)
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", i ? ", " : "", lens__csv_field(&r->t->csv, i));
        for (int i = 0; r->t->pq && i < lens_parquet_num_columns(r->t->pq) && strlen(cols) < 200; i++)
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", i ? ", " : "",
                     lens_parquet_describe(r->t->pq, i)->name);
        rc = lens_error_set(err, LENS_EINVAL, "%s:1: no column '%s' (columns: %s); choose one with --column", path,
                            want ? want : "text", cols);
    } else if (o && o->id_field && r->t->format != FMT_TXT && (r->id_col = lens_table_column(r->t, o->id_field)) < 0) {
        rc = lens_error_set(err, LENS_EINVAL, "%s:1: no id column '%s'", path, o->id_field);
    } else if (!(r->field = strdup(want ? want : r->t->cols[r->text_col]))) {
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    if (rc) {
        lens_reader_close(r);
        return rc;
    }
    *out = r;
    return LENS_OK;
}

void lens_reader_close(lens_reader *r)
{
    if (!r) return;
    lens_table_close(r->t);
    free(r->field);
    free(r);
}

uint64_t lens_reader_offset(const lens_reader *r) { return lens_table_offset(r->t); }
uint64_t lens_reader_size(const lens_reader *r) { return lens_table_size(r->t); }

int lens_reader_next(lens_reader *r, const char **text, size_t *len, const char **id, lens_error *err)
{
    *id = "";
    int rc = lens_table_next(r->t, err);
    if (rc <= 0) return rc;
    *text = lens_table_get(r->t, r->text_col, len);
    if (!*text && r->t->format == FMT_PARQUET) { /* a null text embeds as "", as an empty CSV field does */
        *text = "";
        *len = 0;
    }
    if (!*text) {
        if (r->t->format == FMT_CSV)
            return lens_error_set(err, LENS_EFORMAT, "%s:%zu: record has %zu fields, text column is #%ld",
                                  r->t->path, lens_table_line(r->t), r->t->csv.n_fields, r->t->csv_idx[r->text_col] + 1);
        return lens_error_set(err, LENS_EFORMAT, "%s:%zu: field \"%s\" is missing; choose the text field with --field",
                              r->t->path, lens_table_line(r->t), r->field);
    }
    if (r->t->format == FMT_JSONL && !json_is_string(json_object_get(r->t->record, r->field)))
        return lens_error_set(err, LENS_EFORMAT, "%s:%zu: field \"%s\" is not a string; choose the text field with --field",
                              r->t->path, lens_table_line(r->t), r->field);
    if (r->id_col >= 0) {
        size_t n;
        const char *v = lens_table_get(r->t, r->id_col, &n);
        *id = v ? v : "";
    }
    return 1;
}
