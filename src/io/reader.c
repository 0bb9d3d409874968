/* lens_reader: texts from .txt, .jsonl or .csv (each optionally .zst). */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "lens/io.h"
#include "stream.h"

typedef enum { FMT_TXT, FMT_JSONL, FMT_CSV } fmt;

struct lens_reader {
    char *path;
    fmt format;
    lens_stream *s;
    lens_csv csv;
    long text_col, id_col;  /* CSV column indexes (-1: none) */
    char *field, *id_field;
    char *line;             /* TXT/JSONL line buffer */
    size_t line_len, line_cap, line_no;
    json_t *record;         /* JSONL: the current record (owns text/id) */
    char id_buf[64];
};

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

/* Reads one line (without \n or \r\n); 1 ok, 0 eof, <0 error. */
static int read_line(lens_reader *r, lens_error *err)
{
    r->line_len = 0;
    int ch = lens_stream_getc(r->s);
    if (ch == -1) return 0;
    for (;; ch = lens_stream_getc(r->s)) {
        if (ch == -2)
            return lens_error_set(err, LENS_EIO, "%s:%zu: %s", r->path, r->line_no + 1,
                                  lens_stream_error(r->s));
        if (ch == -1 || ch == '\n') break;
        if (r->line_len + 1 >= r->line_cap) {
            size_t cap = r->line_cap ? r->line_cap * 2 : 4096;
            char *b = realloc(r->line, cap);
            if (!b) return lens_error_set(err, LENS_ENOMEM, "%s:%zu: out of memory", r->path, r->line_no + 1);
            r->line = b;
            r->line_cap = cap;
        }
        r->line[r->line_len++] = (char)ch;
    }
    r->line_no++;
    if (r->line_len && r->line[r->line_len - 1] == '\r') r->line_len--;
    if (r->line) r->line[r->line_len] = '\0';
    else {
        r->line = malloc(1);
        if (!r->line) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        r->line[0] = '\0';
        r->line_cap = 1;
    }
    return 1;
}

static long find_col(const lens_csv *c, const char *name)
{
    for (size_t i = 0; i < c->n_fields; i++)
        if (strcmp(lens_csv_field(c, i), name) == 0) return (long)i;
    return -1;
}

static int open_csv(lens_reader *r, const lens_reader_opts *o, lens_error *err)
{
    lens_csv_init(&r->csv, r->s, r->path);
    int rc = lens_csv_next(&r->csv, err);
    if (rc < 0) return rc;
    if (rc == 0) return lens_error_set(err, LENS_EFORMAT, "%s: empty file (no CSV header)", r->path);
    /* a UTF-8 BOM on the header would hide the first column's name */
    if (r->csv.len >= 3 && memcmp(r->csv.buf, "\xEF\xBB\xBF", 3) == 0) {
        memmove(r->csv.buf, r->csv.buf + 3, r->csv.len - 3);
        r->csv.len -= 3;
        for (size_t i = 1; i < r->csv.n_fields; i++) r->csv.starts[i] -= 3;
    }
    const char *want = o && o->column ? o->column : NULL;
    r->text_col = want ? find_col(&r->csv, want) : find_col(&r->csv, "text");
    if (!want && r->text_col < 0) r->text_col = find_col(&r->csv, "review");
    if (r->text_col < 0) {
        char cols[256] = "";
        for (size_t i = 0; i < r->csv.n_fields && strlen(cols) < 200; i++)
            snprintf(cols + strlen(cols), sizeof cols - strlen(cols), "%s%s", i ? ", " : "",
                     lens_csv_field(&r->csv, i));
        return lens_error_set(err, LENS_EINVAL, "%s:1: no column '%s' (columns: %s); choose one with --column",
                              r->path, want ? want : "text", cols);
    }
    r->id_col = -1;
    if (o && o->id_field && (r->id_col = find_col(&r->csv, o->id_field)) < 0)
        return lens_error_set(err, LENS_EINVAL, "%s:1: no id column '%s'", r->path, o->id_field);
    return LENS_OK;
}

int lens_reader_open(lens_reader **out, const char *path, const lens_reader_opts *o, lens_error *err)
{
    *out = NULL;
    lens_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    char base[4096];
    snprintf(base, sizeof base, "%s", path);
    if (ends_with(base, ".zst")) base[strlen(base) - 4] = '\0';
    if (ends_with(base, ".jsonl") || ends_with(base, ".ndjson")) r->format = FMT_JSONL;
    else if (ends_with(base, ".csv")) r->format = FMT_CSV;
    else if (ends_with(base, ".txt")) r->format = FMT_TXT;
    else {
        free(r->path);
        free(r);
        return lens_error_set(err, LENS_EINVAL, "%s: unknown input type; use .txt, .jsonl or .csv (optionally .zst)", path);
    }
    r->field = strdup(o && o->field ? o->field : "text");
    r->id_field = o && o->id_field ? strdup(o->id_field) : NULL;
    int rc = lens_stream_open(&r->s, path, err);
    if (!rc && r->format == FMT_CSV) rc = open_csv(r, o, err);
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
    if (r->format == FMT_CSV) lens_csv_free(&r->csv);
    lens_stream_close(r->s);
    json_decref(r->record);
    free(r->line);
    free(r->field);
    free(r->id_field);
    free(r->path);
    free(r);
}

uint64_t lens_reader_offset(const lens_reader *r) { return lens_stream_offset(r->s); }
uint64_t lens_reader_size(const lens_reader *r) { return lens_stream_size(r->s); }

int lens_reader_next(lens_reader *r, const char **text, size_t *len, const char **id, lens_error *err)
{
    *id = "";
    if (r->format == FMT_CSV) {
        int rc = lens_csv_next(&r->csv, err);
        if (rc <= 0) return rc;
        if (r->csv.n_fields == 1 && r->csv.len == 1) return lens_reader_next(r, text, len, id, err); /* blank line */
        if ((size_t)r->text_col >= r->csv.n_fields)
            return lens_error_set(err, LENS_EFORMAT, "%s:%zu: record has %zu fields, text column is #%ld",
                                  r->path, r->csv.line, r->csv.n_fields, r->text_col + 1);
        *text = lens_csv_field(&r->csv, (size_t)r->text_col);
        *len = lens_csv_field_len(&r->csv, (size_t)r->text_col);
        if (r->id_col >= 0 && (size_t)r->id_col < r->csv.n_fields) *id = lens_csv_field(&r->csv, (size_t)r->id_col);
        return 1;
    }
    int rc = read_line(r, err);
    if (rc <= 0) return rc;
    if (r->format == FMT_TXT) {
        *text = r->line;
        *len = r->line_len;
        return 1;
    }
    /* JSONL: blank lines are skipped */
    size_t k = 0;
    while (k < r->line_len && (r->line[k] == ' ' || r->line[k] == '\t')) k++;
    if (k == r->line_len) return lens_reader_next(r, text, len, id, err);
    json_decref(r->record);
    json_error_t je;
    r->record = json_loadb(r->line, r->line_len, JSON_ALLOW_NUL, &je);
    if (!r->record)
        return lens_error_set(err, LENS_EFORMAT, "%s:%zu:%d: invalid JSON: %s", r->path, r->line_no,
                              je.column, je.text);
    json_t *v = json_object_get(r->record, r->field);
    if (!json_is_string(v))
        return lens_error_set(err, LENS_EFORMAT, "%s:%zu: field \"%s\" %s; choose the text field with --field",
                              r->path, r->line_no, r->field, v ? "is not a string" : "is missing");
    *text = json_string_value(v);
    *len = json_string_length(v);
    if (r->id_field) {
        json_t *idv = json_object_get(r->record, r->id_field);
        if (json_is_string(idv)) *id = json_string_value(idv);
        else if (json_is_integer(idv)) {
            snprintf(r->id_buf, sizeof r->id_buf, "%lld", (long long)json_integer_value(idv));
            *id = r->id_buf;
        }
    }
    return 1;
}
