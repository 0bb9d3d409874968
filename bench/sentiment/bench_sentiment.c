/* VADER accuracy and speed on labelled sentences.
 *
 * Usage: bench_sentiment LEXICON_DIR [--reviews REVIEWS.jsonl] FILE...
 *   FILE: SST-2 style "label<TAB>sentence" with a header line (name has "sst2"),
 *         else UCI style "sentence<TAB>label"; labels 0 = negative, 1 = positive.
 *   --reviews: JSONL with "text" (real Steam reviews, longer) for throughput only.
 *
 * Per file: accuracy with compound >= 0 -> positive; then with the usual
 * neutral band (compound >= 0.05 positive, <= -0.05 negative, else neutral):
 * accuracy counting neutral as wrong, coverage (share not neutral) and
 * accuracy on what is covered. Throughput: one thread, the sentences and
 * the reviews each scored repeatedly for >= 1 s, best pass kept. Prints
 * markdown tables. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "lens/io.h"
#include "lens/sentiment.h"

typedef struct {
    char *text;
    size_t len;
    int label; /* 0/1; -1: unlabelled (throughput only) */
} item;

typedef struct {
    item *v;
    size_t n, cap;
} items;

static void push(items *a, const char *s, size_t len, int label)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 1024;
        a->v = realloc(a->v, a->cap * sizeof *a->v);
        if (!a->v) exit(1);
    }
    item *it = &a->v[a->n++];
    it->text = malloc(len + 1);
    if (!it->text) exit(1);
    memcpy(it->text, s, len);
    it->text[len] = 0;
    it->len = len;
    it->label = label;
}

static int load_tsv(const char *path, items *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    int sst = strstr(path, "sst2") != NULL;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    for (long ln = 1; (n = getline(&line, &cap, f)) > 0; ln++) {
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r')) line[--n] = 0;
        if (sst && ln == 1) continue; /* header */
        if (!n) continue;
        char *tab = sst ? strchr(line, '\t') : strrchr(line, '\t');
        if (!tab) {
            fprintf(stderr, "%s:%ld: no tab\n", path, ln);
            continue;
        }
        const char *lab = sst ? line : tab + 1;
        const char *text = sst ? tab + 1 : line;
        size_t tl = sst ? (size_t)(line + n - (tab + 1)) : (size_t)(tab - line);
        if ((lab[0] != '0' && lab[0] != '1') || (lab[1] && lab[1] != '\t')) {
            fprintf(stderr, "%s:%ld: bad label\n", path, ln);
            continue;
        }
        push(out, text, tl, lab[0] - '0');
    }
    free(line);
    fclose(f);
    return 0;
}

static int load_jsonl(const char *path, items *out)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        return -1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        json_t *o = json_loadb(line, (size_t)n, 0, NULL);
        json_t *t = o ? json_object_get(o, "text") : NULL;
        if (json_is_string(t)) push(out, json_string_value(t), json_string_length(t), -1);
        json_decref(o);
    }
    free(line);
    fclose(f);
    return 0;
}

/* Steam reviews with voted_up as the label: English, not empty. */
static int load_steam(const char *path, items *out)
{
    lens_table *t;
    lens_error err = {0};
    if (lens_table_open(&t, path, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return -1;
    }
    int ct = lens_table_column(t, "review"), cv = lens_table_column(t, "voted_up"), cl = lens_table_column(t, "language");
    int r;
    while ((r = lens_table_next(t, &err)) == 1) {
        size_t n, nv, nl;
        const char *text = lens_table_get(t, ct, &n), *v = lens_table_get(t, cv, &nv), *l = lens_table_get(t, cl, &nl);
        if (!text || !v || !l || nl != 7 || memcmp(l, "english", 7) || !n || nv != 1) continue;
        push(out, text, n, v[0] == '1');
    }
    if (r < 0) fprintf(stderr, "%s\n", err.msg);
    lens_table_close(t);
    return r < 0 ? -1 : 0;
}

/* Scores the unlabelled (reviews) or labelled items repeatedly for >= 1 s. */
static void throughput(const lens_vader *v, lens_vader_scratch *s, const items *all, int reviews, const char *name)
{
    size_t n = 0, bytes = 0;
    for (size_t i = 0; i < all->n; i++)
        if ((all->v[i].label < 0) == reviews) n++, bytes += all->v[i].len;
    if (!n) return;
    double best = 1e30, t0 = lens__clock_mono();
    volatile double sink = 0;
    lens_error err = {0};
    for (int passes = 0; passes < 3 || lens__clock_mono() - t0 < 1.0; passes++) {
        double t = lens__clock_mono();
        for (size_t i = 0; i < all->n; i++) {
            if ((all->v[i].label < 0) != reviews) continue;
            lens_sentiment r;
            lens_vader_score(v, s, all->v[i].text, all->v[i].len, &r, &err);
            sink += r.compound;
        }
        t = lens__clock_mono() - t;
        if (t < best) best = t;
    }
    printf("| %s | %zu | %.0f | %.0f | %.1f |\n", name, n, (double)bytes / (double)n, (double)n / best,
           (double)bytes / best / 1e6);
}

static const char *base(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s LEXICON_DIR [--reviews REVIEWS.jsonl] [--steam REVIEWS.csv] FILE...\n", argv[0]);
        return 2;
    }
    lens_vader *v;
    lens_error err = {0};
    if (lens_vader_open(&v, argv[1], &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    lens_vader_scratch *s = lens_vader_scratch_new();
    items all = {0};

    printf("| data set | texts | acc (compound >= 0) | acc (compound >= 0.05) | acc (±0.05, neutral = wrong) | coverage "
           "| acc on covered |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|\n");
    size_t tot = 0, tot_acc = 0, tot_acc5 = 0, tot_band = 0, tot_cov = 0;
    for (int a = 2; a < argc; a++) {
        if (!strcmp(argv[a], "--reviews") && a + 1 < argc) {
            if (load_jsonl(argv[++a], &all)) return 1;
            continue;
        }
        items d = {0};
        int steam = !strcmp(argv[a], "--steam") && a + 1 < argc;
        if (steam ? load_steam(argv[++a], &d) : load_tsv(argv[a], &d)) return 1;
        size_t acc = 0, acc5 = 0, band = 0, cov = 0;
        for (size_t i = 0; i < d.n; i++) {
            lens_sentiment r;
            if (lens_vader_score(v, s, d.v[i].text, d.v[i].len, &r, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            int pos = d.v[i].label == 1;
            acc += (r.compound >= 0) == pos;
            acc5 += (r.compound >= 0.05) == pos;
            if (r.compound >= 0.05 || r.compound <= -0.05) {
                cov++;
                band += (r.compound >= 0.05) == pos;
            }
            if (!steam) push(&all, d.v[i].text, d.v[i].len, d.v[i].label);
            free(d.v[i].text);
        }
        free(d.v);
        printf("| %s%s | %zu | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", base(argv[a]),
               steam ? " (English Steam reviews vs voted_up)" : "", d.n, 100.0 * (double)acc / (double)d.n,
               100.0 * (double)acc5 / (double)d.n, 100.0 * (double)band / (double)d.n, 100.0 * (double)cov / (double)d.n,
               cov ? 100.0 * (double)band / (double)cov : 0.0);
        if (steam) continue; /* "all labelled" pools the sentence sets */
        tot += d.n;
        tot_acc5 += acc5;
        tot_acc += acc;
        tot_band += band;
        tot_cov += cov;
    }
    if (tot)
        printf("| all labelled sentences | %zu | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %.1f%% |\n", tot,
               100.0 * (double)tot_acc / (double)tot, 100.0 * (double)tot_acc5 / (double)tot, 100.0 * (double)tot_band / (double)tot, 100.0 * (double)tot_cov / (double)tot,
               tot_cov ? 100.0 * (double)tot_band / (double)tot_cov : 0.0);

    printf("\n| throughput, 1 thread | texts | mean bytes | texts/s | MB/s |\n|---|---:|---:|---:|---:|\n");
    throughput(v, s, &all, 0, "labelled sentences");
    throughput(v, s, &all, 1, "Steam reviews");

    for (size_t i = 0; i < all.n; i++) free(all.v[i].text);
    free(all.v);
    lens_vader_scratch_free(s);
    lens_vader_close(v);
    return 0;
}
