/* Parquet reader: every fixture file (three independent writers, every codec,
 * dictionary on and off, pages v1 and v2, nulls, several row groups) read
 * through the low-level API and through lens_table must give back exactly
 * the source rows; hostile files (truncated, corrupted, huge lengths, bombs,
 * deep Thrift) must give one clear error naming the file, never a crash.
 *
 * usage: test_parquet FIXTURE_DIR   (tests/fixtures/parquet) */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <zlib.h>
#include <zstd.h>
#include <snappy-c.h>

#include "lens/io.h"
#include "lens/parquet.h"
#include "test.h"

static const char *fixdir;

/* ------------------------------------------------------------ the source */

static const char *const SRC_COLS[] = {
    "app_id", "app_name", "recommendationid", "language", "review", "voted_up", "votes_up", "votes_funny",
    "weighted_vote_score", "comment_count", "timestamp_created", "timestamp_updated", "playtime_at_review",
    "playtime_forever", "num_games_owned", "num_reviews", "steam_purchase", "received_for_free",
    "written_during_early_access"};
#define N_SRC_COLS (int)(sizeof SRC_COLS / sizeof *SRC_COLS)

static char **src;  /* [row * N_SRC_COLS + col], NULL for null */
static size_t n_src;

static int src_col(const char *name)
{
    for (int i = 0; i < N_SRC_COLS; i++)
        if (strcmp(SRC_COLS[i], name) == 0) return i;
    return -1;
}

static void load_source(const char *path)
{
    lens_table *t;
    lens_error err = {0};
    if (lens_table_open(&t, path, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    int cols[N_SRC_COLS];
    for (int i = 0; i < N_SRC_COLS; i++) cols[i] = lens_table_column(t, SRC_COLS[i]);
    size_t cap = 0;
    int rc;
    while ((rc = lens_table_next(t, &err)) == 1) {
        if (n_src == cap) {
            cap = cap ? 2 * cap : 1024;
            src = realloc(src, cap * N_SRC_COLS * sizeof *src);
        }
        for (int i = 0; i < N_SRC_COLS; i++) {
            size_t n;
            const char *v = lens_table_get(t, cols[i], &n);
            src[n_src * N_SRC_COLS + i] = v ? strndup(v, n) : NULL;
        }
        n_src++;
    }
    CHECK(rc == 0, "%s", err.msg);
    lens_table_close(t);
}

/* ---------------------------------------------------------- expectations */

/* what a column of a fixture file should hold, from the manifest */
typedef struct {
    int src;        /* source column */
    char kind;      /* '=' same, '*' times k, '/' floor-divided by k, 'f' float32, 'b' 8 bytes big-endian */
    long long k;
} expect;

static int expect_of(json_t *derived, const char *name, expect *e)
{
    e->k = 1;
    e->kind = '=';
    if ((e->src = src_col(name)) >= 0) return 0;
    json_t *d = json_object_get(derived, name);
    if (!d) return -1;
    e->src = src_col(json_string_value(json_object_get(d, "from")));
    const char *kind = json_string_value(json_object_get(d, "kind"));
    e->k = json_integer_value(json_object_get(d, "k"));
    if (!strcmp(kind, "mul")) e->kind = '*';
    else if (!strcmp(kind, "div")) e->kind = '/';
    else if (!strcmp(kind, "f32")) e->kind = 'f';
    else if (!strcmp(kind, "be8")) e->kind = 'b';
    return e->src < 0 ? -1 : 0;
}

/* 1 if got (as lens_parquet_value_text / lens_table_get give it) is what
 * source row r says for e */
static int matches(const expect *e, size_t r, int physical, const char *got, size_t n)
{
    const char *want = src[r * N_SRC_COLS + e->src];
    if (!want || !got) return !want && !got;
    char buf[64];
    switch (e->kind) {
    case '*': snprintf(buf, sizeof buf, "%lld", strtoll(want, NULL, 10) * e->k); want = buf; break;
    case '/': {
        long long v = strtoll(want, NULL, 10);
        snprintf(buf, sizeof buf, "%lld", v >= 0 ? v / e->k : -((-v + e->k - 1) / e->k));
        want = buf;
        break;
    }
    case 'f': return n > 0 && strtof(got, NULL) == (float)strtod(want, NULL);
    case 'b': {
        uint64_t v = (uint64_t)strtoll(want, NULL, 10);
        for (int i = 0; i < 8; i++) buf[i] = (char)(v >> (56 - 8 * i));
        return n == 8 && memcmp(got, buf, 8) == 0;
    }
    default: break;
    }
    if (physical == LENS_PARQUET_DOUBLE) return n > 0 && strtod(got, NULL) == strtod(want, NULL);
    if (physical == LENS_PARQUET_FLOAT) return n > 0 && strtof(got, NULL) == strtof(want, NULL);
    return strlen(want) == n && memcmp(want, got, n) == 0;
}

/* source row of the i-th row of a file, from its runs [start, step, count] */
static size_t *row_map(json_t *runs, size_t *n)
{
    size_t total = 0, k = 0, i;
    json_t *run;
    json_array_foreach(runs, i, run) total += (size_t)json_integer_value(json_array_get(run, 2));
    size_t *m = malloc((total + 1) * sizeof *m);
    json_array_foreach(runs, i, run) {
        size_t start = (size_t)json_integer_value(json_array_get(run, 0));
        size_t step = (size_t)json_integer_value(json_array_get(run, 1));
        size_t count = (size_t)json_integer_value(json_array_get(run, 2));
        for (size_t j = 0; j < count; j++) m[k++] = start + j * step;
    }
    *n = total;
    return m;
}

/* ------------------------------------------------------------- fixtures */

#define MAX_FILE_COLS 64

static void read_fixture(json_t *entry)
{
    char path[1024];
    const char *file = json_string_value(json_object_get(entry, "file"));
    json_t *derived = json_object_get(entry, "derived");
    snprintf(path, sizeof path, "%s/%s", fixdir, file);
    size_t n_rows;
    size_t *map = row_map(json_object_get(entry, "rows"), &n_rows);
    for (size_t i = 0; i < n_rows; i++) CHECK(map[i] < n_src, "%s: manifest row %zu out of the source", file, map[i]);

    /* the low-level API, every column */
    lens_parquet *p;
    lens_error err = {0};
    if (lens_parquet_open(&p, path, &err)) {
        CHECK(0, "%s", err.msg);
        free(map);
        return;
    }
    CHECK(lens_parquet_num_rows(p) == (int64_t)n_rows, "%s: %lld rows, manifest says %zu", file,
          (long long)lens_parquet_num_rows(p), n_rows);
    int nc = lens_parquet_num_columns(p), sel[MAX_FILE_COLS];
    expect ex[MAX_FILE_COLS];
    CHECK(nc == N_SRC_COLS + (int)json_object_size(derived), "%s: %d columns", file, nc);
    for (int i = 0; i < nc && i < MAX_FILE_COLS; i++) {
        sel[i] = i;
        const lens_parquet_column_info *ci = lens_parquet_describe(p, i);
        CHECK(!ci->nested && expect_of(derived, ci->name, &ex[i]) == 0, "%s: unexpected column %s", file, ci->name);
    }
    int bad = 0;
    size_t row = 0, checked = 0;
    if (lens_parquet_select(p, sel, nc, &err)) CHECK(0, "%s", err.msg);
    for (int g = 0; g < lens_parquet_num_row_groups(p) && !bad; g++) {
        if (lens_parquet_read_row_group(p, g, &err)) {
            CHECK(0, "%s", err.msg);
            bad = 1;
            break;
        }
        int64_t rows = lens_parquet_row_group_rows(p, g);
        for (int c = 0; c < nc; c++) {
            lens_parquet_values v;
            CHECK(lens_parquet_values_get(p, c, &v) == 0 && v.n == rows, "%s: values of column %d", file, c);
            const lens_parquet_column_info *ci = lens_parquet_describe(p, c);
            for (int64_t r = 0; r < rows && row + (size_t)r < n_rows; r++) {
                char scratch[64];
                size_t n = 0;
                const char *got = lens_parquet_value_text(&v, ci, r, scratch, &n);
                checked++;
                if (!matches(&ex[c], map[row + (size_t)r], ci->physical, got, n) && bad++ < 5)
                    CHECK(0, "%s: row %zu column %s: got '%.*s', source '%s'", file, row + (size_t)r, ci->name,
                          got ? (int)(n > 60 ? 60 : n) : 4, got ? got : "NULL",
                          src[map[row + (size_t)r] * N_SRC_COLS + ex[c].src] ? src[map[row + (size_t)r] * N_SRC_COLS + ex[c].src] : "NULL");
            }
        }
        row += (size_t)rows;
    }
    CHECK(!bad && row == n_rows && checked == n_rows * (size_t)nc, "%s: %d mismatches, %zu of %zu rows", file, bad, row,
          n_rows);
    const char *names[MAX_FILE_COLS];
    for (int i = 0; i < nc; i++) names[i] = lens_parquet_describe(p, i)->name;

    /* lens_table: every column, in reverse order to exercise the mapping */
    lens_table *t;
    if (lens_table_open(&t, path, &err)) {
        CHECK(0, "%s", err.msg);
    } else {
        int tc[MAX_FILE_COLS];
        for (int i = nc - 1; i >= 0; i--) tc[i] = lens_table_column(t, names[i]);
        CHECK(lens_table_column(t, "no_such_column") == -1, "%s: a missing column", file);
        CHECK(lens_table_has(t, "review", &err) == 1 && lens_table_has(t, "nope", &err) == 0, "%s: has", file);
        size_t r = 0;
        int rc, tbad = 0;
        while ((rc = lens_table_next(t, &err)) == 1 && r < n_rows) {
            CHECK(lens_table_line(t) == r + 1, "%s: line %zu at row %zu", file, lens_table_line(t), r);
            for (int c = 0; c < nc; c++) {
                size_t n = 0;
                const char *got = lens_table_get(t, tc[c], &n);
                if (got) CHECK(got[n] == '\0', "%s: value not NUL-terminated", file);
                if (!matches(&ex[c], map[r], lens_parquet_describe(p, c)->physical, got, n) && tbad++ < 5)
                    CHECK(0, "%s (lens_table): row %zu column %s: got '%.*s'", file, r, names[c], got ? (int)n : 4,
                          got ? got : "NULL");
            }
            r++;
        }
        CHECK(rc == 0 && r == n_rows && !tbad, "%s (lens_table): rc %d, %zu of %zu rows: %s", file, rc, r, n_rows, err.msg);
        CHECK(lens_table_next(t, &err) == 0, "%s: next after the end", file);
        CHECK(lens_table_offset(t) <= lens_table_size(t) && lens_table_size(t) > 0, "%s: offset/size", file);
        lens_table_close(t);
    }
    lens_parquet_close(p);
    free(map);
}

/* projection: under a memory limit too small for the review text, the
 * boolean column alone still reads; the whole row group does not */
static void test_projection(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/review_504230.parquet", fixdir);
    lens_parquet *p;
    lens_error err = {0};
    if (lens_parquet_open(&p, path, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    lens_parquet_set_memory_limit(p, 16 << 10);
    int voted = lens_parquet_find_column(p, "voted_up"), review = lens_parquet_find_column(p, "review");
    CHECK(voted >= 0 && review >= 0, "columns");
    CHECK(lens_parquet_select(p, &voted, 1, &err) == 0 && lens_parquet_read_row_group(p, 0, &err) == 0,
          "voted_up alone under 16 KiB: %s", err.msg);
    lens_parquet_values v;
    CHECK(lens_parquet_values_get(p, 0, &v) == 0 && v.n == 300 && v.values && !v.offsets, "voted_up values");
    int both[2] = {voted, review};
    CHECK(lens_parquet_select(p, both, 2, &err) == 0, "select");
    int rc = lens_parquet_read_row_group(p, 0, &err);
    CHECK(rc == LENS_ENOMEM && strstr(err.msg, "memory limit") && strstr(err.msg, "'review'") && strstr(err.msg, path),
          "review over 16 KiB: %d %s", rc, err.msg);
    CHECK(lens_parquet_values_get(p, 0, &v) != 0, "no values after a failed read");
    lens_parquet_close(p);
}

/* ------------------------------------------------------- hostile inputs */

static void check_error(int rc, const lens_error *err, const char *name, const char *needle, const char *what)
{
    CHECK(rc != 0, "%s: expected an error", what);
    if (!rc) return;
    CHECK(strstr(err->msg, name) != NULL, "%s: error does not name the file: %s", what, err->msg);
    CHECK(!needle || strstr(err->msg, needle), "%s: error lacks '%s': %s", what, needle, err->msg);
    CHECK(strchr(err->msg, '\n') == NULL, "%s: error is not one line", what);
}

/* opens data and reads every column of every row group: 0 or the error */
static int read_all(const char *name, const uint8_t *data, size_t n, lens_error *err)
{
    lens_parquet *p;
    int rc = lens_parquet_open_memory(&p, name, data, n, err);
    if (rc) return rc;
    int sel[MAX_FILE_COLS], k = 0;
    for (int i = 0; i < lens_parquet_num_columns(p) && k < MAX_FILE_COLS; i++)
        if (!lens_parquet_describe(p, i)->nested) sel[k++] = i;
    rc = lens_parquet_select(p, sel, k, err);
    for (int g = 0; !rc && g < lens_parquet_num_row_groups(p); g++) {
        rc = lens_parquet_read_row_group(p, g, err);
        for (int c = 0; !rc && c < k; c++) {
            lens_parquet_values v;
            lens_parquet_values_get(p, c, &v);
            for (int64_t r = 0; r < v.n; r++) { /* touch every value */
                char s[64];
                size_t len;
                const char *t = lens_parquet_value_text(&v, lens_parquet_describe(p, sel[c]), r, s, &len);
                if (t && len) (void)t[len - 1];
            }
        }
    }
    lens_parquet_close(p);
    return rc;
}

static uint8_t *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)len + 1);
    *n = fread(b, 1, (size_t)len, f);
    fclose(f);
    return b;
}

static void test_truncated_and_corrupted(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/review_1742020.parquet", fixdir);
    size_t n;
    uint8_t *orig = slurp(path, &n);
    CHECK(orig != NULL, "read %s", path);
    if (!orig) return;
    lens_error err = {0};
    CHECK(read_all("whole.parquet", orig, n, &err) == 0, "intact file: %s", err.msg);
    uint32_t flen = (uint32_t)orig[n - 8] | (uint32_t)orig[n - 7] << 8 | (uint32_t)orig[n - 6] << 16 |
                    (uint32_t)orig[n - 5] << 24;
    size_t footer = n - 8 - flen;

    /* cut anywhere: the footer or its magic is gone */
    size_t cuts[] = {0, 1, 4, 8, 11, 12, n / 4, n / 2, footer, footer + flen / 2, n - 9, n - 8, n - 5, n - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        char what[64];
        snprintf(what, sizeof what, "cut at %zu", cuts[i]);
        check_error(read_all("cut.parquet", orig, cuts[i], &err), &err, "cut.parquet", NULL, what);
    }
    /* data cut out, footer kept: its offsets now point past the end */
    uint8_t *buf = malloc(n);
    size_t keep = footer / 2;
    memcpy(buf, orig, keep);
    memcpy(buf + keep, orig + footer, n - footer);
    check_error(read_all("hole.parquet", buf, keep + (n - footer), &err), &err, "hole.parquet", "outside the file",
                "data cut out");

    /* every byte of the footer and the length, and bytes all over the data,
     * flipped: an error or a file that still parses, never a crash */
    int errors = 0, total = 0;
    for (size_t i = 0; i < n; i += i >= footer ? 1 : 7) {
        for (int pattern = 0; pattern < 2; pattern++) {
            memcpy(buf, orig, n);
            buf[i] ^= pattern ? 0xFF : 0x01;
            int rc = read_all("flip.parquet", buf, n, &err);
            total++;
            if (rc) {
                errors++;
                if (!strstr(err.msg, "flip.parquet") || strchr(err.msg, '\n'))
                    CHECK(0, "flip at %zu: bad error: %s", i, err.msg);
            }
        }
    }
    CHECK(errors > 0, "no flip gave an error (%d tries)", total);
    printf("flipped bytes: %d reads, %d errors\n", total, errors);
    free(buf);
    free(orig);
}

/* ---- a tiny Thrift compact writer to build files by hand */

typedef struct {
    uint8_t *b;
    size_t n, cap;
    int16_t last[64];
    int d;
} tw;

static void put(tw *w, const void *p, size_t n)
{
    if (w->n + n > w->cap) {
        w->cap = (w->n + n) * 2 + 256;
        w->b = realloc(w->b, w->cap);
    }
    memcpy(w->b + w->n, p, n);
    w->n += n;
}
static void byte1(tw *w, uint8_t x) { put(w, &x, 1); }
static void varint(tw *w, uint64_t v)
{
    do {
        byte1(w, (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0)));
        v >>= 7;
    } while (v);
}
static void zz(tw *w, int64_t v) { varint(w, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63)); }
static void fld(tw *w, int type, int id)
{
    int delta = id - w->last[w->d];
    if (delta > 0 && delta <= 15) byte1(w, (uint8_t)(delta << 4 | type));
    else {
        byte1(w, (uint8_t)type);
        zz(w, id);
    }
    w->last[w->d] = (int16_t)id;
}
static void f_i32(tw *w, int id, int64_t v) { fld(w, 5, id), zz(w, v); }
static void f_i64(tw *w, int id, int64_t v) { fld(w, 6, id), zz(w, v); }
static void f_str(tw *w, int id, const char *s) { fld(w, 8, id), varint(w, strlen(s)), put(w, s, strlen(s)); }
static void s_begin(tw *w) { w->last[++w->d] = 0; }
static void f_struct(tw *w, int id) { fld(w, 12, id), s_begin(w); }
static void s_end(tw *w) { byte1(w, 0), w->d--; }
static void f_list(tw *w, int id, int et, uint64_t n)
{
    fld(w, 9, id);
    if (n < 15) byte1(w, (uint8_t)(n << 4 | et));
    else byte1(w, (uint8_t)(0xF0 | et)), varint(w, n);
}
static void le32(tw *w, uint32_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(w, b, 4);
}

/* one column "x" (and optionally a group "g" before it), one row group */
typedef struct {
    int type, rep, codec, encoding, v2;
    int64_t rows;
    int values;                  /* page num_values; 0: rows */
    const void *page;            /* stored page bytes */
    size_t page_n;
    int64_t unc, comp;           /* declared sizes; -1: page_n */
    int64_t off_add;             /* added to data_page_offset */
    const void *dict;            /* PLAIN dictionary page, stored uncompressed */
    size_t dict_n;
    int dict_values, nested, unknown;
    int def_len;                 /* v2: definition level bytes at the page start */
} spec;

static void page_header(tw *w, int type, int64_t unc, int64_t comp, int values, int enc, int v2, int def_len)
{
    s_begin(w);
    f_i32(w, 1, type);
    f_i32(w, 2, unc);
    f_i32(w, 3, comp);
    if (type == 2) {
        f_struct(w, 7);
        f_i32(w, 1, values);
        f_i32(w, 2, 0);
        s_end(w);
    } else if (!v2) {
        f_struct(w, 5);
        f_i32(w, 1, values);
        f_i32(w, 2, enc);
        f_i32(w, 3, 3);
        f_i32(w, 4, 3);
        s_end(w);
    } else {
        f_struct(w, 8);
        f_i32(w, 1, values);
        f_i32(w, 2, 0);
        f_i32(w, 3, values);
        f_i32(w, 4, enc);
        f_i32(w, 5, def_len);
        f_i32(w, 6, 0);
        s_end(w);
    }
    s_end(w);
}

static void chunk(tw *w, const char *name, int type, int codec, int64_t values, int64_t total, int64_t data_off,
                  int64_t dict_off)
{
    s_begin(w);
    f_i64(w, 2, data_off);
    f_struct(w, 3);
    f_i32(w, 1, type);
    f_list(w, 2, 5, 1);
    zz(w, 0);
    f_list(w, 3, 8, 1);
    varint(w, strlen(name));
    put(w, name, strlen(name));
    f_i32(w, 4, codec);
    f_i64(w, 5, values);
    f_i64(w, 6, total);
    f_i64(w, 7, total);
    f_i64(w, 9, data_off);
    if (dict_off >= 0) f_i64(w, 11, dict_off);
    s_end(w);
    s_end(w);
}

/* fields this reader does not know, of every wire type */
static void unknown_fields(tw *w)
{
    f_list(w, 50, 12, 2);
    for (int i = 0; i < 2; i++) {
        s_begin(w);
        f_i32(w, 1, i);
        fld(w, 11, 2); /* map<string, i32> {"a": 1} */
        varint(w, 1);
        byte1(w, 8 << 4 | 5);
        varint(w, 1);
        byte1(w, 'a');
        zz(w, 1);
        s_end(w);
    }
    fld(w, 7, 51);
    put(w, "\0\0\0\0\0\0\xf0\x3f", 8);
    f_str(w, 52, "skip me");
    fld(w, 1, 53);             /* bool true */
    f_list(w, 54, 6, 3);       /* set<i64> */
    zz(w, 1), zz(w, -2), zz(w, 3);
    f_list(w, 55, 1, 2);       /* list<bool> */
    byte1(w, 1), byte1(w, 2);
    for (int d = 0; d < 5; d++) f_struct(w, 60);
    fld(w, 3, 1);              /* byte */
    byte1(w, 7);
    for (int d = 0; d < 5; d++) s_end(w);
}

static size_t build(const spec *s, uint8_t **out)
{
    tw w = {0};
    put(&w, "PAR1", 4);
    int64_t dict_off = -1;
    if (s->dict) {
        dict_off = (int64_t)w.n;
        page_header(&w, 2, (int64_t)s->dict_n, (int64_t)s->dict_n, s->dict_values, 0, 0, 0);
        put(&w, s->dict, s->dict_n);
    }
    int64_t data_off = (int64_t)w.n;
    int values = s->values ? s->values : (int)s->rows;
    page_header(&w, s->v2 ? 3 : 0, s->unc >= 0 ? s->unc : (int64_t)s->page_n, s->comp >= 0 ? s->comp : (int64_t)s->page_n,
                values, s->encoding, s->v2, s->def_len);
    put(&w, s->page, s->page_n);
    int64_t start = dict_off >= 0 ? dict_off : data_off, total = (int64_t)w.n - start;
    size_t footer = w.n;
    s_begin(&w);
    f_i32(&w, 1, 1);
    f_list(&w, 2, 12, s->nested ? 4 : 2);
    s_begin(&w), f_str(&w, 4, "schema"), f_i32(&w, 5, s->nested ? 2 : 1), s_end(&w);
    if (s->nested) {
        s_begin(&w), f_i32(&w, 3, 1), f_str(&w, 4, "g"), f_i32(&w, 5, 1), s_end(&w);
        s_begin(&w), f_i32(&w, 1, 1), f_i32(&w, 3, 1), f_str(&w, 4, "y"), s_end(&w);
    }
    s_begin(&w);
    f_i32(&w, 1, s->type);
    if (s->type == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY) f_i32(&w, 2, 4);
    f_i32(&w, 3, s->rep);
    f_str(&w, 4, "x");
    s_end(&w);
    f_i64(&w, 3, s->rows);
    f_list(&w, 4, 12, 1);
    s_begin(&w);
    f_list(&w, 1, 12, s->nested ? 2 : 1);
    if (s->nested) chunk(&w, "y", 1, s->codec, s->rows, total, data_off + s->off_add, dict_off);
    chunk(&w, "x", s->type, s->codec, s->rows, total, data_off + s->off_add, dict_off);
    f_i64(&w, 2, total);
    f_i64(&w, 3, s->rows);
    s_end(&w);
    if (s->unknown) unknown_fields(&w);
    s_end(&w);
    le32(&w, (uint32_t)(w.n - footer));
    put(&w, "PAR1", 4);
    *out = w.b;
    return w.n;
}

/* builds s and reads it all, expecting needle in the error (NULL: success) */
static void crafted(const char *name, const spec *s, const char *needle)
{
    uint8_t *b;
    size_t n = build(s, &b);
    lens_error err = {0};
    int rc = read_all(name, b, n, &err);
    if (needle) check_error(rc, &err, name, needle, name);
    else CHECK(rc == 0, "%s: %s", name, err.msg);
    free(b);
}

/* a footer given as raw Thrift after a valid magic */
static void raw_footer(const char *name, const uint8_t *footer, size_t fn, const char *needle)
{
    tw w = {0};
    put(&w, "PAR1", 4);
    put(&w, footer, fn);
    le32(&w, (uint32_t)fn);
    put(&w, "PAR1", 4);
    lens_error err = {0};
    check_error(read_all(name, w.b, w.n, &err), &err, name, needle, name);
    free(w.b);
}

static void test_crafted(void)
{
    int32_t four[4] = {1, 2, 3, 4};
    spec ok = {.type = LENS_PARQUET_INT32, .rows = 4, .page = four, .page_n = 16, .unc = -1, .comp = -1};

    /* the well-formed baseline, then with unknown fields of every wire type and a nested column */
    crafted("ok.parquet", &ok, NULL);
    spec s = ok;
    s.unknown = 1;
    s.nested = 1;
    crafted("unknown.parquet", &s, NULL);
    {
        uint8_t *b;
        size_t n = build(&s, &b);
        lens_parquet *p;
        lens_error err = {0};
        CHECK(lens_parquet_open_memory(&p, "nested.parquet", b, n, &err) == 0, "%s", err.msg);
        if (p) {
            int g = lens_parquet_find_column(p, "g"), x = lens_parquet_find_column(p, "x");
            CHECK(g == 0 && x == 1 && lens_parquet_describe(p, g)->nested, "g nested, x flat");
            int rc = lens_parquet_select(p, &g, 1, &err);
            check_error(rc, &err, "nested.parquet", "'g' is nested", "select nested");
            CHECK(lens_parquet_select(p, &x, 1, &err) == 0 && lens_parquet_read_row_group(p, 0, &err) == 0, "%s", err.msg);
            lens_parquet_values v;
            lens_parquet_values_get(p, 0, &v);
            CHECK(v.n == 4 && ((const int32_t *)v.values)[3] == 4 && !v.valid, "x values");
            lens_parquet_close(p);
        }
        free(b);
    }

    s = ok;
    s.comp = 1 << 20;
    crafted("past_chunk.parquet", &s, "runs past the end of its column chunk");
    s = ok;
    s.values = 10;
    crafted("overrun.parquet", &s, "overruns the row group");
    s = ok;
    s.rows = 8;
    s.values = 4;
    crafted("short_chunk.parquet", &s, "column chunk ends after 4 of its 8 values");
    s = ok;
    s.off_add = 1 << 20;
    crafted("offset.parquet", &s, "outside the file");
    s = ok;
    s.off_add = -1000;
    crafted("negative_offset.parquet", &s, "outside the file");
    s = ok;
    s.rows = (int64_t)1 << 40;
    crafted("huge_rows.parquet", &s, "memory limit");
    s = ok;
    s.unc = 20;
    crafted("declared_more.parquet", &s, "header declares 20");
    s = ok;
    s.codec = 4;
    crafted("brotli.parquet", &s, "BROTLI");
    s = ok;
    s.codec = 7;
    crafted("lz4.parquet", &s, "LZ4_RAW");
    s = ok;
    s.encoding = 42;
    crafted("encoding.parquet", &s, "encoding unknown (42) is not supported for INT32");

    /* snappy: the stream says 16 bytes, the header a gigabyte (or 8) */
    char sn[64];
    size_t sn_n = sizeof sn;
    snappy_compress((const char *)four, 16, sn, &sn_n);
    s = ok;
    s.codec = 1;
    s.page = sn;
    s.page_n = sn_n;
    s.unc = 16;
    crafted("snappy.parquet", &s, NULL);
    s.unc = 1 << 30;
    crafted("snappy_big.parquet", &s, "snappy: page decompresses to 16 bytes, header declares 1073741824");
    s.unc = 8;
    crafted("snappy_small.parquet", &s, "header declares 8");

    /* bombs: 8 MiB of zeros declared as 16 bytes */
    size_t big = 8 << 20;
    uint8_t *zeros = calloc(1, big);
    size_t zcap = ZSTD_compressBound(big);
    uint8_t *z = malloc(zcap);
    size_t zn = ZSTD_compress(z, zcap, zeros, big, 3);
    s = ok;
    s.codec = 6;
    s.page = z;
    s.page_n = zn;
    s.unc = 16;
    crafted("zstd_bomb.parquet", &s, "zstd: page decompresses to 8388608 bytes, header declares 16");
    ZSTD_CCtx *cc = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cc, ZSTD_c_contentSizeFlag, 0);
    ZSTD_outBuffer ob = {z, zcap, 0};
    ZSTD_inBuffer ib = {zeros, big, 0};
    ZSTD_compressStream2(cc, &ob, &ib, ZSTD_e_end);
    ZSTD_freeCCtx(cc);
    s.page_n = ob.pos; /* no size in the frame: found while decompressing */
    crafted("zstd_bomb_nosize.parquet", &s, "more than the 16 bytes its header declares");
    uLongf gn = compressBound(big);
    uint8_t *gz = malloc(gn);
    compress2(gz, &gn, zeros, big, 9);
    s = ok;
    s.codec = 2;
    s.page = gz;
    s.page_n = gn;
    s.unc = 16;
    crafted("gzip_bomb.parquet", &s, "more than the 16 bytes its header declares");
    gn = compressBound(16);
    compress2(gz, &gn, (const Bytef *)four, 16, 9);
    s.page_n = gn;
    s.unc = 16;
    crafted("gzip.parquet", &s, NULL);
    s.unc = 32;
    crafted("gzip_short.parquet", &s, "decompresses to 16 bytes, header declares 32");
    free(zeros);
    free(z);
    free(gz);

    /* dictionary: index 2 of a 2-value dictionary */
    int32_t dict[2] = {10, 20};
    uint8_t idx[] = {2, 0x03, 0xE4}; /* bit width 2; one bit-packed group: 0, 1, 2, 3 */
    s = ok;
    s.dict = dict;
    s.dict_n = 8;
    s.dict_values = 2;
    s.page = idx;
    s.page_n = sizeof idx;
    s.encoding = 8;
    crafted("dict_range.parquet", &s, "dictionary index 2 out of range");
    s.dict = NULL;
    crafted("dict_missing.parquet", &s, "without a dictionary page");
    uint8_t idx_ok[] = {1, 0x03, 0x0A}; /* 0, 1, 0, 1 */
    s.dict = dict;
    s.page = idx_ok;
    s.page_n = sizeof idx_ok;
    crafted("dict.parquet", &s, NULL);

    /* byte arrays: a length of 2 GiB in a 12-byte page */
    uint8_t ba[] = {3, 0, 0, 0, 'a', 'b', 'c', 0xff, 0xff, 0xff, 0x7f, 'd'};
    s = ok;
    s.type = LENS_PARQUET_BYTE_ARRAY;
    s.rows = 2;
    s.page = ba;
    s.page_n = sizeof ba;
    crafted("ba_length.parquet", &s, "length 2147483647 past the end of the page");
    s.type = LENS_PARQUET_FIXED_LEN_BYTE_ARRAY;
    s.rows = 4;
    crafted("flba_short.parquet", &s, "need more than the page's 12 bytes");

    /* nulls: optional column, v1 RLE levels 1,0,1,1 (bit-packed) then 3 values */
    uint8_t opt[] = {2, 0, 0, 0, 0x03, 0x0D, 7, 0, 0, 0, 8, 0, 0, 0, 9, 0, 0, 0};
    s = ok;
    s.rep = 1;
    s.page = opt;
    s.page_n = sizeof opt;
    {
        uint8_t *b;
        size_t n = build(&s, &b);
        lens_parquet *p;
        lens_error err = {0};
        CHECK(lens_parquet_open_memory(&p, "nulls.parquet", b, n, &err) == 0, "%s", err.msg);
        int x = 0;
        if (p && !lens_parquet_select(p, &x, 1, &err) && !lens_parquet_read_row_group(p, 0, &err)) {
            lens_parquet_values v;
            lens_parquet_values_get(p, 0, &v);
            const int32_t *iv = v.values;
            CHECK(v.valid && v.valid[0] && !v.valid[1] && v.valid[2] && v.valid[3], "null flags");
            CHECK(iv[0] == 7 && iv[2] == 8 && iv[3] == 9, "values around a null: %d %d %d", iv[0], iv[2], iv[3]);
            char sc[64];
            size_t len;
            CHECK(!lens_parquet_value_text(&v, lens_parquet_describe(p, 0), 1, sc, &len), "null as text");
        } else {
            CHECK(0, "%s", err.msg);
        }
        lens_parquet_close(p);
        free(b);
    }
    uint8_t bad_level[] = {2, 0, 0, 0, 0x08, 0x05, 7, 0, 0, 0}; /* RLE run of four 5s */
    s.page = bad_level;
    s.page_n = sizeof bad_level;
    crafted("level.parquet", &s, "definition level 5 over the maximum 1");
    /* v2 with level lengths past the page */
    s = ok;
    s.v2 = 1;
    s.rep = 1;
    s.def_len = 100;
    crafted("v2_levels.parquet", &s, "level lengths");

    /* footers: deep nesting, huge list, huge string, missing fields */
    uint8_t deep[200];
    size_t dn = 0;
    for (int i = 0; i < 60; i++) deep[dn++] = 0x1C; /* field +1, struct */
    raw_footer("deep.parquet", deep, dn, "structs nested too deeply");
    uint8_t biglist[] = {0x29, 0xFC, 0xFF, 0xFF, 0xFF, 0x0F}; /* field 2: list<struct> of 2^32-1 */
    raw_footer("list.parquet", biglist, sizeof biglist, "list longer than the bytes left");
    uint8_t bigstr[] = {0x29, 0x1C, 0x48, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01, 'x', 0, 0}; /* name of 2^35 bytes */
    raw_footer("string.parquet", bigstr, sizeof bigstr, "string length past the end");
    uint8_t empty[] = {0x00};
    raw_footer("empty_meta.parquet", empty, 1, "lacks schema");
    uint8_t longvar[] = {0x15, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01, 0};
    raw_footer("varint.parquet", longvar, sizeof longvar, "varint");
    uint8_t stopless[] = {0x15, 0x02};
    raw_footer("stopless.parquet", stopless, sizeof stopless, "truncated");

    /* the framing */
    lens_error err = {0};
    uint8_t notpq[16] = "PAR1....XXXXPAR0";
    check_error(read_all("magic.parquet", notpq, 16, &err), &err, "magic.parquet", "not a Parquet file", "magic");
    uint8_t flen[16] = "PAR1....\xff\xff\xff\x7fPAR1";
    check_error(read_all("flen.parquet", flen, 16, &err), &err, "flen.parquet", "footer length", "footer length");
    uint8_t enc[16] = "PAR1....\x04\x00\x00\x00PARE";
    check_error(read_all("enc.parquet", enc, 16, &err), &err, "enc.parquet", "encrypted", "encrypted");

    /* through lens_table: a bad file and a missing one name themselves */
    lens_table *t;
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json.parquet", fixdir);
    check_error(lens_table_open(&t, path, &err), &err, path, NULL, "missing parquet");
}

/* regression files from fuzzing: each must be read (or refused) cleanly */
static void test_crashers(void)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/crashers", fixdir);
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        size_t len;
        uint8_t *b = slurp(path, &len);
        if (!b) continue;
        lens_error err = {0};
        int rc = read_all(e->d_name, b, len, &err);
        CHECK(rc == 0 || (strstr(err.msg, e->d_name) && !strchr(err.msg, '\n')), "%s: %s", e->d_name, err.msg);
        free(b);
        n++;
    }
    closedir(d);
    printf("crashers: %d files\n", n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FIXTURE_DIR\n", argv[0]);
        return 2;
    }
    fixdir = argv[1];
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.json", fixdir);
    json_error_t je;
    json_t *m = json_load_file(path, 0, &je);
    CHECK(m != NULL, "%s: %s", path, je.text);
    if (!m) TEST_DONE();
    snprintf(path, sizeof path, "%s/%s", fixdir, json_string_value(json_object_get(m, "source")));
    load_source(path);
    CHECK(n_src == (size_t)json_integer_value(json_object_get(m, "rows")), "source rows: %zu", n_src);
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(m, "files"), i, f) read_fixture(f);
    printf("fixtures: %zu files\n", json_array_size(json_object_get(m, "files")));
    test_projection();
    test_truncated_and_corrupted();
    test_crafted();
    test_crashers();
    json_decref(m);
    for (size_t k = 0; k < n_src * N_SRC_COLS; k++) free(src[k]);
    free(src);
    TEST_DONE();
}
