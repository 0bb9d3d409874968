/* Progress totals and reports (issue 12): lens_table_count counts what
 * lens_table_next reads (CSV with quoted newlines, CRLF and blank lines,
 * JSONL, .zst) exactly, or estimates it past max_bytes; an analyze run's
 * first report already has the exact total, reports are monotonic, move
 * within the first chunk and reach 100% only at the end.
 * usage: test_progress MODEL_DIR THEMES */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "lens/analyze.h"
#include "lens/io.h"
#include "test.h"

#define ROWS 3000
#define CHUNK_ROWS 512

typedef struct {
    uint64_t rows[4096], total[4096];
    double fraction[4096], analyzed_at[4096];
    int n;
    const lens_analyze_stats *st;
} calls;

static void on_progress(void *ctx, uint64_t rows, double fraction)
{
    calls *c = ctx;
    if (c->n == 4096) return;
    c->rows[c->n] = rows;
    c->total[c->n] = c->st->rows_total;
    c->fraction[c->n] = fraction;
    c->analyzed_at[c->n] = (double)c->st->analyzed;
    c->n++;
}

/* asks the run to stop at its first report within the first chunk */
typedef struct {
    atomic_int stop;
    uint64_t at;
    int after;
} stopper;

static void stop_within(void *ctx, uint64_t rows, double fraction)
{
    (void)fraction;
    stopper *s = ctx;
    if (atomic_load(&s->stop)) s->after++;
    else if (rows > 0 && rows < CHUNK_ROWS) {
        s->at = rows;
        atomic_store(&s->stop, 1);
    }
}

static int same_file(const char *a, const char *b)
{
    char cmd[900];
    snprintf(cmd, sizeof cmd, "cmp -s %s %s", a, b);
    return system(cmd) == 0;
}

static uint64_t table_rows(const char *path)
{
    lens_table *t;
    lens_error err;
    uint64_t n = 0;
    if (lens_table_open(&t, path, &err)) return 0;
    while (lens_table_next(t, &err) == 1) n++;
    lens_table_close(t);
    return n;
}

int main(int argc, char **argv)
{
    if (argc < 3) return 2;
    char dir[] = "/tmp/lens-progress-XXXXXX", csv[256], zst[256], jl[256], out[256];
    if (!mkdtemp(dir)) return 2;
    snprintf(csv, sizeof csv, "%s/r.csv", dir);
    snprintf(zst, sizeof zst, "%s/r.csv.zst", dir);
    snprintf(jl, sizeof jl, "%s/r.jsonl", dir);
    snprintf(out, sizeof out, "%s/out", dir);
    FILE *f = fopen(csv, "wb"), *g = fopen(jl, "wb");
    fputs("app_id,app_name,recommendationid,language,review,voted_up\r\n", f);
    static const char *words[] = {"graphics", "story", "music", "bugs", "crash", "price", "coop", "levels"};
    for (int i = 0; i < ROWS; i++) {
        if (i % 97 == 0) fputs("\r\n", f); /* a blank line is no record */
        if (i % 5 == 0) /* a quoted field with a newline, a comma and "" */
            fprintf(f, "391540,Game,%d,english,\"The %s, \"\"really\"\"\nis %s %d\",%d\r\n", i, words[i % 8],
                    words[(i / 8) % 8], i, i % 2);
        else
            fprintf(f, "391540,Game,%d,english,The %s is %s,%d\n", i, words[i % 8], words[(i / 3) % 8], i % 2);
        fprintf(g, "%s{\"steam_appid\": 391540, \"review\": \"the %s\"}\n", i % 50 ? "" : " \n", words[i % 8]);
    }
    fclose(f);
    fclose(g);
    /* the same CSV, zstd-compressed */
    f = fopen(csv, "rb");
    fseek(f, 0, SEEK_END);
    size_t n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    char *raw = malloc(n), *z = malloc(ZSTD_compressBound(n));
    CHECK(fread(raw, 1, n, f) == n, "read back");
    fclose(f);
    size_t zn = ZSTD_compress(z, ZSTD_compressBound(n), raw, n, 3);
    f = fopen(zst, "wb");
    fwrite(z, 1, zn, f);
    fclose(f);
    free(raw);
    free(z);

    lens_error err;
    uint64_t rows;
    int exact;
    CHECK(table_rows(csv) == ROWS && table_rows(jl) == ROWS && table_rows(zst) == ROWS, "the reader's own count");
    const char *paths[] = {csv, zst, jl};
    for (int i = 0; i < 3; i++) {
        CHECK(lens_table_count(paths[i], UINT64_MAX, &rows, &exact, &err) == 0 && rows == ROWS && exact,
              "%s: counted %llu (exact %d), want %d", paths[i], (unsigned long long)rows, exact, ROWS);
        /* past max_bytes: estimated from the share read, within 2% (a .zst
         * is read 64 KiB at a time: it needs a larger file, below) */
        if (i != 1)
            CHECK(lens_table_count(paths[i], n / 3, &rows, &exact, &err) == 0 && !exact &&
                      rows > ROWS * 0.98 && rows < ROWS * 1.02,
                  "%s: estimated %llu (exact %d), want %d within 2%%", paths[i], (unsigned long long)rows, exact, ROWS);
    }
    /* 200,000 rows of random words (a few MB compressed) */
    {
        enum { BIG = 200000 };
        size_t cap = (size_t)BIG * 80, len = 0;
        char *big = malloc(cap), *zb = malloc(ZSTD_compressBound(cap));
        len += (size_t)snprintf(big, cap, "app_id,review,voted_up\n");
        uint32_t r = 1;
        for (int i = 0; i < BIG; i++) {
            len += (size_t)snprintf(big + len, cap - len, "391540,\"");
            for (int w = 0; w < 6; w++) {
                r = r * 1103515245u + 12345u;
                len += (size_t)snprintf(big + len, cap - len, "%s%c%u", words[(r >> 16) % 8], w == 2 ? '\n' : ' ',
                                        (r >> 8) % 1000);
            }
            len += (size_t)snprintf(big + len, cap - len, "\",1\n");
        }
        size_t bn = ZSTD_compress(zb, ZSTD_compressBound(cap), big, len, 3);
        snprintf(zst, sizeof zst, "%s/big.csv.zst", dir);
        f = fopen(zst, "wb");
        fwrite(zb, 1, bn, f);
        fclose(f);
        CHECK(lens_table_count(zst, UINT64_MAX, &rows, &exact, &err) == 0 && rows == BIG && exact, "big: %llu",
              (unsigned long long)rows);
        CHECK(lens_table_count(zst, len / 3, &rows, &exact, &err) == 0 && !exact && rows > BIG * 0.98 &&
                  rows < BIG * 1.02,
              "big .zst: estimated %llu (exact %d), want %d within 2%%", (unsigned long long)rows, exact, BIG);
        printf("big .zst: %zu bytes, %zu compressed, estimate %llu of %d\n", len, bn, (unsigned long long)rows, BIG);
        free(big);
        free(zb);
    }

    /* an analyze run in chunks of 512, embedding 64 tokens at a time */
    lens_analyze_stats st;
    calls c = {.st = &st};
    const char *inputs[] = {csv};
    lens_analyze_opts o = {.inputs = inputs, .n_inputs = 1, .themes = argv[2], .out_dir = out, .model = argv[1],
                           .threads = 1, .batch_tokens = 64, .language = "english", .min_similarity = -2, .top_k = 1,
                           .quotes = 2, .chunk = CHUNK_ROWS, .progress = on_progress, .ctx = &c,
                           .progress_seconds = 1e-9};
    CHECK(lens_analyze_run(&o, &st, &err) == 0, "%s", err.msg);
    CHECK(st.rows == ROWS && st.analyzed == ROWS, "%llu rows", (unsigned long long)st.rows);
    CHECK(c.n > 3, "%d reports", c.n);
    CHECK(c.n > 0 && c.rows[0] == 0 && c.total[0] == ROWS, "first report: %llu of %llu",
          (unsigned long long)c.rows[0], (unsigned long long)c.total[0]);
    int within = 0;
    for (int i = 0; i < c.n; i++) {
        CHECK(c.total[i] == ROWS, "report %d: total %llu", i, (unsigned long long)c.total[i]);
        if (i) CHECK(c.rows[i] >= c.rows[i - 1] && c.fraction[i] >= c.fraction[i - 1], "report %d goes back", i);
        if (i < c.n - 1) CHECK(c.fraction[i] < 1, "report %d: %.3f before the end", i, c.fraction[i]);
        within += c.rows[i] > 0 && c.rows[i] < CHUNK_ROWS && c.analyzed_at[i] == 0;
    }
    CHECK(within > 0, "no report within the first chunk");
    CHECK(c.n > 0 && c.fraction[c.n - 1] == 1 && c.rows[c.n - 1] == ROWS, "last report %.3f",
          c.n ? c.fraction[c.n - 1] : 0);
    printf("%d reports, %d within the first chunk\n", c.n, within);

    /* a stop within a chunk ends the run at the encoder's next pass, not
     * the chunk's end; run again, it resumes to the same outputs */
    char out2[300], a[400], b[400];
    snprintf(out2, sizeof out2, "%s/out2", dir);
    stopper sp = {0};
    lens_analyze_opts o2 = o;
    o2.out_dir = out2;
    o2.progress = stop_within;
    o2.ctx = &sp;
    o2.stop = &sp.stop;
    lens_analyze_stats st2;
    int rc = lens_analyze_run(&o2, &st2, &err);
    CHECK(rc == LENS_ECANCEL, "stopped run: rc %d (%s)", rc, err.msg);
    CHECK(sp.at > 0 && sp.after == 0 && st2.analyzed == 0, "stop at row %llu: %d reports after it, %llu analyzed",
          (unsigned long long)sp.at, sp.after, (unsigned long long)st2.analyzed);
    o2.stop = NULL;
    o2.progress = NULL;
    CHECK(lens_analyze_run(&o2, &st2, &err) == 0, "resumed: %s", err.msg);
    static const char *files[] = {"report.json", "report.csv", "summaries.csv", "assignments.csv"};
    for (int i = 0; i < 4; i++) {
        snprintf(a, sizeof a, "%s/%s", out, files[i]);
        snprintf(b, sizeof b, "%s/%s", out2, files[i]);
        CHECK(same_file(a, b), "%s differs after a stop within a chunk", files[i]);
    }

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 2;
    TEST_DONE();
}
