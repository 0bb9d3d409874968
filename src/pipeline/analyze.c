/* The review analysis job: stream reviews in chunks through filter -> embed
 * -> theme assignment -> aggregation, then write the reports. */
#include "lens/analyze.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/themes_internal.h"
#include "base/buf.h"
#include "base/clock.h"
#include "base/fs.h"
#include "analyze_internal.h"
#include "io/io_internal.h"
#include "lens/io.h"

#define CHUNK 2048

/* ---------------------------------------------------------------- inputs */

typedef struct {
    char **paths;
    int n;
    size_t cap;
} path_list;

static int has_input_ext(const char *name)
{
    static const char *ext[] = {".csv", ".jsonl", ".ndjson", ".csv.zst", ".jsonl.zst", ".ndjson.zst", ".parquet"};
    size_t n = strlen(name);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t m = strlen(ext[i]);
        if (n > m && strcmp(name + n - m, ext[i]) == 0) return 1;
    }
    return 0;
}

static int push_path(path_list *l, const char *p)
{
    if (lens__grow((void **)&l->paths, &l->cap, (size_t)l->n + 1, sizeof *l->paths)) return -1;
    return (l->paths[l->n++] = strdup(p)) ? 0 : -1;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Files as given; directories contribute their review files, sorted, so a
 * run is reproducible whatever order readdir returns. */
static int expand_inputs(const lens_analyze_opts *o, path_list *l, lens_error *err)
{
    for (int i = 0; i < o->n_inputs; i++) {
        const char *in = o->inputs[i];
        if (!lens__is_dir(in)) {
            if (!lens__is_file(in)) return lens_error_set(err, LENS_ENOTFOUND, "input %s: no such file or directory", in);
            if (push_path(l, in)) return lens_error_set(err, LENS_ENOMEM, "out of memory");
            continue;
        }
        DIR *d = NULL;
        if (o->root) { /* the directory itself must not lead out of the root either */
            int fd = lens__open_beneath(o->root, in, O_RDONLY | O_DIRECTORY, err);
            if (fd < 0) return fd;
            if (!(d = fdopendir(fd))) close(fd);
        } else {
            d = opendir(in);
        }
        if (!d) return lens_error_set(err, LENS_EIO, "input %s: %s", in, strerror(errno));
        int first = l->n;
        struct dirent *e;
        while ((e = readdir(d))) {
            if (e->d_name[0] == '.' || !has_input_ext(e->d_name)) continue;
            char p[4096];
            snprintf(p, sizeof p, "%s/%s", in, e->d_name);
            if (o->root) { /* a file in it must not lead out: refused, by name */
                int fd = lens__open_beneath(o->root, p, O_RDONLY, err);
                struct stat sb;
                int reg = fd >= 0 && !fstat(fd, &sb) && S_ISREG(sb.st_mode);
                if (fd >= 0) close(fd);
                else if (fd != LENS_ENOTFOUND) { /* ENOTFOUND: a dangling link, skipped as before */
                    closedir(d);
                    return fd;
                }
                if (!reg) continue;
            } else if (!lens__is_file(p)) {
                continue;
            }
            if (push_path(l, p)) {
                closedir(d);
                return lens_error_set(err, LENS_ENOMEM, "out of memory");
            }
        }
        closedir(d);
        qsort(l->paths + first, (size_t)(l->n - first), sizeof *l->paths, cmp_str);
        if (l->n == first) return lens_error_set(err, LENS_ENOTFOUND, "input %s: no .csv, .jsonl or .parquet files in it", in);
    }
    return LENS_OK;
}

/* ---------------------------------------------------------------- columns */

enum { C_APP, C_TEXT, C_VOTED, C_LANG, C_NAME, C_ID, N_COLS };

static const char *const candidates[N_COLS][4] = {
    {"steam_appid", "app_id", "appid", NULL}, {"review", "text", NULL},
    {"voted_up", NULL},                       {"review_language", "language", NULL},
    {"name", "app_name", "title", NULL},      {"recommendationid", "review_id", "id", NULL},
};
static const char *const col_flag[N_COLS] = {"--app-column", "--text-column", "--voted-column",
                                             "--language-column", "--name-column", "--id-column"};

static int detect_columns(lens_table *t, const lens_analyze_opts *o, int cols[N_COLS], lens_error *err)
{
    const char *given[N_COLS] = {o->col_app, o->col_text, o->col_voted, o->col_language, o->col_name, o->col_id};
    for (int c = 0; c < N_COLS; c++) {
        cols[c] = -1;
        if (given[c]) {
            int has = lens_table_has(t, given[c], err);
            if (has < 0) return has;
            if (!has)
                return lens_error_set(err, LENS_EINVAL, "%s: no column '%s' (%s)", lens_table_path(t), given[c], col_flag[c]);
            cols[c] = lens_table_column(t, given[c]);
            continue;
        }
        for (int k = 0; candidates[c][k] && cols[c] < 0; k++) {
            int has = lens_table_has(t, candidates[c][k], err);
            if (has < 0) return has;
            if (has) cols[c] = lens_table_column(t, candidates[c][k]);
        }
    }
    if (cols[C_APP] < 0)
        return lens_error_set(err, LENS_EINVAL, "%s: no app id column (steam_appid or app_id); name it with --app-column",
                              lens_table_path(t));
    if (cols[C_TEXT] < 0)
        return lens_error_set(err, LENS_EINVAL, "%s: no review text column (review or text); name it with --text-column",
                              lens_table_path(t));
    if (cols[C_VOTED] < 0 && o->sentiment == LENS_SENTIMENT_VOTED_UP)
        return lens_error_set(err, LENS_EINVAL,
                              "%s: no voted_up column; name it with --voted-column, or use --sentiment vader",
                              lens_table_path(t));
    return LENS_OK;
}

/* VADER's lexicon loads once, the first time a file needs it. */
static int need_vader(job *j, lens_error *err)
{
    if (j->vader) return LENS_OK;
    if (!j->o->vader_lexicon) return lens_error_set(err, LENS_EINVAL, "VADER sentiment needs its lexicon directory");
    int rc = lens_vader_open(&j->vader, j->o->vader_lexicon, err);
    if (!rc && !(j->vader_scratch = lens_vader_scratch_new())) rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    return rc;
}

/* voted_up as CSV or JSON writes it */
static int parse_voted(const char *v, size_t n, int *up)
{
    if ((n == 1 && v[0] == '1') || (n == 4 && strncasecmp(v, "true", 4) == 0)) *up = 1;
    else if ((n == 1 && v[0] == '0') || (n == 5 && strncasecmp(v, "false", 5) == 0)) *up = 0;
    else return -1;
    return 0;
}

/* ---------------------------------------------------------------- aggregates */

/* ---------------------------------------------------------------- chunk */

typedef struct {
    char *buf;
    size_t len, cap;
    size_t text[CHUNK], text_len[CHUNK], id[CHUNK];
    int app[CHUNK], up[CHUNK];
    int n_themes[CHUNK], themes[CHUNK][8]; /* what each review was assigned to */
    const char *texts[CHUNK];
    int n;
} chunk;

static int chunk_put(chunk *c, const char *s, size_t n, size_t *at)
{
    if (lens__grow((void **)&c->buf, &c->cap, c->len + n + 1, 1)) return -1;
    *at = c->len;
    memcpy(c->buf + c->len, s, n);
    c->buf[c->len + n] = '\0';
    c->len += n + 1;
    return 0;
}

/* ---------------------------------------------------------------- progress */

#define COUNT_BYTES ((uint64_t)256 << 20) /* counted per file before reading; the rest estimated */

/* Rows in the inputs: each file's count, and for the file being read when
 * its count is an estimate, once half of it is read, the rows so far scaled
 * by the share of its bytes read. */
static uint64_t rows_total(const job *j)
{
    uint64_t total = 0;
    for (int i = 0; i < j->n_files; i++) {
        uint64_t n = j->file_total[i];
        if (i == j->file_index && j->table && !j->file_exact[i] && j->file_rows >= n / 2) {
            uint64_t off = lens_table_offset(j->table), size = lens_table_size(j->table);
            if (off > 0 && size >= off) n = (uint64_t)((double)j->file_rows * (double)size / (double)off + 0.5);
            if (n < j->file_rows) n = j->file_rows;
        }
        total += n;
    }
    return total;
}

/* Reports processed rows of rows_total; 100% only when final. */
static void report(job *j, uint64_t processed, int final)
{
    j->reported = processed;
    j->last_report = lens__clock_mono();
    uint64_t total = final ? processed : rows_total(j);
    if (!final && total <= processed) total = processed + 1; /* an estimate fell short: not done yet */
    j->st->rows_total = total;
    if (j->o->progress) j->o->progress(j->o->ctx, processed, final ? 1.0 : (double)processed / (double)total);
}

/* The encoder's hook within a chunk: its reviews (phase 0), then their
 * sentences (phase 1), have been embedded up to done. The chunk's rows
 * count as done in proportion, so progress (and the embed phase's time)
 * moves while a chunk of a slow model runs. A stop asked for meanwhile
 * ends the chunk here: it is done again from the last checkpoint, so a
 * pause or cancel waits for one forward pass, not a whole chunk. */
static int on_embedded(void *ctx, size_t done)
{
    job *j = ctx;
    double now = lens__clock_mono();
    j->st->seconds_embed += now - j->embed_t;
    j->embed_t = now;
    if (j->o->stop && atomic_load(j->o->stop)) return 1;
    if (!j->o->progress || !done || !j->chunk_n || now - j->last_report < j->progress_s) return 0;
    double f = j->phase == 0 ? j->w_reviews * (double)done / (double)j->chunk_n
                             : j->w_reviews + (1 - j->w_reviews) * (double)(j->span_review[done - 1] + 1) / (double)j->chunk_n;
    if (f > 1) f = 1;
    uint64_t p = j->chunk_base + (uint64_t)((double)(j->st->rows - j->chunk_base) * f);
    if (p > j->reported && p < j->st->rows) report(j, p, 0);
    return 0;
}

/* Counts the rows of every input up front, so the first report has a
 * total; a file that cannot be counted is read (and its error given) later. */
static int count_inputs(job *j, char *const *paths, int n, lens_error *err)
{
    j->n_files = n;
    j->file_total = calloc((size_t)n ? (size_t)n : 1, sizeof *j->file_total);
    j->file_exact = calloc((size_t)n ? (size_t)n : 1, 1);
    if (!j->file_total || !j->file_exact) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        int exact;
        lens_error e2;
        if (lens_table_count(paths[i], COUNT_BYTES, &j->file_total[i], &exact, &e2) == LENS_OK)
            j->file_exact[i] = (uint8_t)exact;
    }
    return LENS_OK;
}

#define MAX_SENTENCES 64 /* per review */

/* Splits the chunk's reviews into sentences, embeds them in one batch and
 * feeds each (app, theme, sentiment) summary, in review order. */
static int summarize_chunk(job *j, chunk *c, double *seconds, lens_error *err)
{
    double t0 = lens__clock_mono();
    j->n_spans = 0;
    for (int i = 0; i < c->n; i++) {
        size_t cap = j->cap_spans, need = j->n_spans + MAX_SENTENCES;
        if (lens__grow((void **)&j->spans, &cap, need, sizeof *j->spans)) goto oom;
        size_t cap2 = j->cap_spans;
        if (lens__grow((void **)&j->span_review, &cap2, need, sizeof *j->span_review)) goto oom;
        size_t cap3 = j->cap_spans;
        if (lens__grow((void **)&j->sent_text, &cap3, need, sizeof *j->sent_text)) goto oom;
        size_t cap4 = j->cap_spans;
        if (lens__grow((void **)&j->sent_len, &cap4, need, sizeof *j->sent_len)) goto oom;
        j->cap_spans = cap < cap2 ? cap : cap2;
        const char *text = c->buf + c->text[i];
        size_t n = lens__sentences_split(text, c->text_len[i], 3, j->spans + j->n_spans, MAX_SENTENCES);
        if (n > MAX_SENTENCES) n = MAX_SENTENCES; /* the rest of a very long review is not quoted */
        for (size_t k = 0; k < n; k++) {
            size_t s = j->n_spans + k;
            j->span_review[s] = i;
            j->sent_text[s] = text + j->spans[s].start;
            j->sent_len[s] = j->spans[s].len;
        }
        j->n_spans += n;
    }
    if (lens__grow((void **)&j->sent_emb, &j->cap_sent_emb, j->n_spans * (size_t)j->dim, sizeof *j->sent_emb)) goto oom;
    double t1 = lens__clock_mono();
    j->st->seconds_read += t1 - t0; /* splitting is part of reading */
    j->phase = 1;
    j->embed_t = t1;
    lens_encoder_on_progress(j->enc, on_embedded, j);
    int rc = lens_encoder_embed(j->enc, j->sent_text, j->sent_len, j->n_spans, j->sent_emb, &j->st->tokens, err);
    lens_encoder_on_progress(j->enc, NULL, NULL);
    double t2 = lens__clock_mono();
    j->st->seconds_embed += t2 - j->embed_t;
    *seconds = t2 - t1;
    if (rc) return rc;
    for (size_t s = 0; s < j->n_spans; s++) {
        int i = j->span_review[s];
        app_agg *ag = &j->agg[c->app[i]];
        for (int r = 0; r < c->n_themes[i]; r++) {
            lens_summary **slot = &ag->sum[c->themes[i][r] * 2 + c->up[i]];
            if (!*slot) {
                lens_summary_opts so = {.dim = j->dim, .k = j->o->quotes};
                if ((rc = lens_summary_new(slot, &so, err))) return rc;
            }
            if ((rc = lens_summary_add(*slot, j->sent_emb + s * (size_t)j->dim, j->sent_text[s], j->sent_len[s],
                                       c->buf + c->id[i], err)))
                return rc;
        }
    }
    j->st->sentences += j->n_spans;
    j->st->seconds_summarize += lens__clock_mono() - t2;
    return LENS_OK;
oom:
    return lens_error_set(err, LENS_ENOMEM, "summaries: out of memory");
}

/* The first SAMPLES reviews of each (app, theme), cut to a readable length
 * on a UTF-8 boundary, for report.html. Out of memory only loses a sample
 * (text and id are kept both or neither). */
static void keep_sample(app_agg *ag, int theme, const char *text, size_t len, const char *id, int up)
{
    for (int k = 0; k < SAMPLES; k++) {
        size_t at = (size_t)theme * SAMPLES + (size_t)k;
        if (ag->sample[at]) continue;
        size_t n = len < 600 ? len : 600;
        while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--;
        char *t = strndup(text, n), *i = strdup(id);
        if (!t || !i) {
            free(t);
            free(i);
            return;
        }
        ag->sample[at] = t;
        ag->sample_id[at] = i;
        ag->sample_up[at] = (int8_t)up;
        return;
    }
}

static int flush_chunk(job *j, chunk *c, lens_error *err)
{
    if (!c->n) return LENS_OK;
    for (int i = 0; i < c->n; i++) c->texts[i] = c->buf + c->text[i];
    double t0 = lens__clock_mono();
    j->chunk_n = (size_t)c->n;
    j->chunk_base = j->reported;
    j->phase = 0;
    j->embed_t = t0;
    lens_encoder_on_progress(j->enc, on_embedded, j);
    int rc = lens_encoder_embed(j->enc, c->texts, c->text_len, (size_t)c->n, j->emb, &j->st->tokens, err);
    lens_encoder_on_progress(j->enc, NULL, NULL);
    double t1 = lens__clock_mono();
    j->st->seconds_embed += t1 - j->embed_t;
    if (rc) return rc;
    for (int i = 0; i < c->n; i++) {
        const lens_app_themes *app = &j->themes->apps[c->app[i]];
        app_agg *ag = &j->agg[c->app[i]];
        const float *e = j->emb + (size_t)i * j->dim;
        int k = lens_themes_assign(app, j->dim, e, j->min_sim, j->o->top_k, j->sims, j->picks);
        const char *id = c->buf + c->id[i];
        const char *sent = c->up[i] ? "positive" : "negative";
        keep_sample(ag, k ? j->picks[0] : app->n_themes, c->buf + c->text[i], c->text_len[i], id, c->up[i]);
        if (j->map_emb && (rc = lens__map_add(j, c->app[i], k ? j->picks[0] : app->n_themes, c->up[i], id,
                                             c->buf + c->text[i], c->text_len[i], e, err)))
            return rc;
        ag->game.reviews++;
        ag->game.positive += c->up[i] == 1;
        ag->game.negative += c->up[i] == 0;
        c->n_themes[i] = k ? k : 1;
        for (int r = 0; r < k; r++) c->themes[i][r] = j->picks[r];
        if (k == 0) c->themes[i][0] = app->n_themes;
        if (k == 0) {
            counts *u = &ag->theme[app->n_themes];
            u->reviews++;
            u->positive += c->up[i] == 1;
            u->negative += c->up[i] == 0;
            j->st->unassigned++;
            /* best similarity even when below the bar, so users can tune it */
            float best = -2;
            for (int t = 0; t < app->n_themes; t++) best = fmaxf(best, j->sims[t]);
            lens_csv_write_field(j->assign, id);
            fprintf(j->assign, ",%s,unassigned,%.6f,%s,0\n", app->app_id, best, sent);
        }
        for (int r = 0; r < k; r++) {
            counts *cn = &ag->theme[j->picks[r]];
            cn->reviews++;
            cn->positive += c->up[i] == 1;
            cn->negative += c->up[i] == 0;
            cn->sim_sum += j->sims[j->picks[r]];
            lens_csv_write_field(j->assign, id);
            fprintf(j->assign, ",%s,", app->app_id);
            lens_csv_write_field(j->assign, app->themes[j->picks[r]].name);
            fprintf(j->assign, ",%.6f,%s,%d\n", j->sims[j->picks[r]], sent, r + 1);
        }
    }
    j->st->analyzed += (uint64_t)c->n;
    j->st->seconds_assign += lens__clock_mono() - t1;
    double sent_s = 0;
    if (j->o->quotes > 0 && (rc = summarize_chunk(j, c, &sent_s, err))) return rc;
    if (t1 - t0 + sent_s > 0) j->w_reviews = (t1 - t0) / (t1 - t0 + sent_s); /* for the next chunk's progress */
    j->chunk_n = 0;
    c->n = 0;
    c->len = 0;
    return ferror(j->assign) ? lens_error_set(err, LENS_EIO, "cannot write %s: %s", j->assign_tmp, strerror(errno))
                             : LENS_OK;
}

static void note_unknown(job *j, const char *app_id, size_t n)
{
    for (int i = 0; i < j->n_unknown; i++)
        if (strncmp(j->unknown[i].id, app_id, sizeof j->unknown[i].id - 1) == 0 && strlen(j->unknown[i].id) == n) {
            j->unknown[i].rows++;
            return;
        }
    /* the count is informative; running out of memory here loses only it */
    if (lens__grow((void **)&j->unknown, &j->cap_unknown, (size_t)j->n_unknown + 1, sizeof *j->unknown)) return;
    unknown_app *u = &j->unknown[j->n_unknown++];
    snprintf(u->id, sizeof u->id, "%.*s", (int)n, app_id);
    u->rows = 1;
}

/* Adds the table's invalid UTF-8 repairs since the last call (*rows, *bytes:
 * its counts then) to the stats, which the next checkpoint records. */
static void note_repairs(job *j, const lens_table *t, uint64_t *rows, uint64_t *bytes)
{
    uint64_t b, r = lens_table_repaired(t, &b);
    j->st->invalid_utf8 += r - *rows;
    j->st->invalid_utf8_bytes += b - *bytes;
    *rows = r;
    *bytes = b;
}

/* Reads inputs[index] from its row skip on (rows a checkpoint already has). */
static int read_file(job *j, int index, const char *path, chunk *c, uint64_t skip, lens_error *err)
{
    lens_table *t = NULL;
    int cols[N_COLS];
    int rc = lens__table_open_in(&t, j->o->root, path, err);
    if (!rc) rc = detect_columns(t, j->o, cols, err);
    const char *lang = j->o->language && *j->o->language ? j->o->language : NULL;
    int vader = !rc && (j->o->sentiment == LENS_SENTIMENT_VADER || cols[C_VOTED] < 0);
    if (vader) rc = need_vader(j, err);
    double t0 = lens__clock_mono();
    j->file_index = index;
    j->file_rows = 0;
    j->table = t;
    while (!rc && j->file_rows < skip) {
        int r = lens_table_next(t, err);
        if (r <= 0) {
            rc = r ? r : lens_error_set(err, LENS_EFORMAT, "%s: shorter than when the checkpoint was made", path);
            break;
        }
        j->file_rows++;
    }
    /* the skipped rows' repairs are in the checkpoint's counts; without a
     * skip, those of the record detect_columns read ahead count */
    uint64_t bad_rows = 0, bad_bytes = 0;
    if (t && skip) bad_rows = lens_table_repaired(t, &bad_bytes);
    while (!rc) {
        note_repairs(j, t, &bad_rows, &bad_bytes);
        int r = lens_table_next(t, err);
        if (r < 0) {
            rc = r;
            break;
        }
        if (r == 0) break;
        j->file_rows++;
        j->st->rows++;
        size_t n_app, n_text, n_v, n;
        const char *app_id = lens_table_get(t, cols[C_APP], &n_app);
        const char *text = lens_table_get(t, cols[C_TEXT], &n_text);
        const char *voted = lens_table_get(t, cols[C_VOTED], &n_v);
        if (lang && cols[C_LANG] >= 0) {
            const char *l = lens_table_get(t, cols[C_LANG], &n);
            if (!l || n != strlen(lang) || memcmp(l, lang, n) != 0) {
                j->st->other_language++;
                continue;
            }
        }
        if (!app_id || !n_app) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%zu: review without an app id", path, lens_table_line(t));
            break;
        }
        char idbuf[32];
        snprintf(idbuf, sizeof idbuf, "%.*s", (int)(n_app < 31 ? n_app : 31), app_id);
        const lens_app_themes *app = n_app < 31 ? lens_themes_find(j->themes, idbuf) : NULL;
        if (!app) {
            j->st->unknown_app++;
            note_unknown(j, app_id, n_app);
            continue;
        }
        if (!text || !text[strspn(text, " \t\r\n")]) {
            j->st->empty++;
            continue;
        }
        int up;
        if (vader) {
            lens_sentiment sc;
            if ((rc = lens_vader_score(j->vader, j->vader_scratch, text, n_text, &sc, err))) break;
            up = sc.compound >= LENS_VADER_POSITIVE;
            j->st->sentiment_vader++;
        } else if (!voted || parse_voted(voted, n_v, &up)) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%zu: voted_up must be 1/0 or true/false, got '%.*s'", path,
                                lens_table_line(t), voted ? (int)(n_v < 20 ? n_v : 20) : 0, voted ? voted : "");
            break;
        }
        int ai = (int)(app - j->themes->apps);
        if (!j->agg[ai].name && cols[C_NAME] >= 0) {
            const char *nm = lens_table_get(t, cols[C_NAME], &n);
            if (nm) j->agg[ai].name = strndup(nm, n);
        }
        char rowid[32];
        const char *id = cols[C_ID] >= 0 ? lens_table_get(t, cols[C_ID], &n) : NULL;
        if (!id) {
            snprintf(rowid, sizeof rowid, "%s:%zu", "row", lens_table_line(t));
            id = rowid;
            n = strlen(rowid);
        }
        int k = c->n;
        if (chunk_put(c, text, n_text, &c->text[k]) || chunk_put(c, id, n, &c->id[k])) {
            rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
            break;
        }
        c->text_len[k] = n_text;
        c->app[k] = ai;
        c->up[k] = up;
        c->n++;
        if (c->n == j->chunk_rows) {
            note_repairs(j, t, &bad_rows, &bad_bytes);
            j->st->seconds_read += lens__clock_mono() - t0;
            rc = flush_chunk(j, c, err);
            if (!rc) rc = lens__ckpt_commit(j, err);
            t0 = lens__clock_mono();
            if (!rc) report(j, j->st->rows, 0);
            if (!rc && j->o->stop && *j->o->stop) rc = lens_error_set(err, LENS_ECANCEL, "stopped by request");
        }
    }
    if (t) note_repairs(j, t, &bad_rows, &bad_bytes);
    j->st->seconds_read += lens__clock_mono() - t0;
    if (t && !rc) {
        j->file_total[index] = j->file_rows; /* now known: an estimate is replaced */
        j->file_exact[index] = 1;
        j->done_bytes += lens_table_size(t);
        j->file_index = index + 1;
        j->file_rows = 0;
    }
    j->table = NULL;
    lens_table_close(t);
    return rc;
}

/* ---------------------------------------------------------------- run */

int lens_analyze_check(const lens_analyze_opts *o, lens_error *err)
{
    path_list inputs = {0};
    int rc = expand_inputs(o, &inputs, err);
    for (int i = 0; !rc && i < inputs.n; i++) {
        lens_table *t = NULL;
        int cols[N_COLS];
        rc = lens__table_open_in(&t, o->root, inputs.paths[i], err);
        if (!rc) rc = detect_columns(t, o, cols, err);
        if (!rc) {
            int r = lens_table_next(t, err);
            if (r == 0) rc = lens_error_set(err, LENS_EFORMAT, "%s: no reviews in it", inputs.paths[i]);
            else if (r < 0) rc = r;
        }
        lens_table_close(t);
    }
    for (int i = 0; i < inputs.n; i++) free(inputs.paths[i]);
    free(inputs.paths);
    return rc;
}

int lens_analyze_run(const lens_analyze_opts *o, lens_analyze_stats *st, lens_error *err)
{
    const char *model_arg = o->model; /* what to open */
    char label[256];
    lens_analyze_opts named = *o;
    lens__basename(o->model, label, sizeof label); /* the reports name the model, not its path */
    named.model = label;
    o = &named;
    memset(st, 0, sizeof *st);
    if (o->top_k < 1) return lens_error_set(err, LENS_EINVAL, "--top-k must be at least 1");
    if (o->chunk < 0 || o->chunk > CHUNK) return lens_error_set(err, LENS_EINVAL, "--chunk must be 1..%d", CHUNK);
    path_list inputs = {0};
    job j = {.o = o, .st = st, .journal = -1, .chunk_rows = o->chunk ? o->chunk : CHUNK,
             .w_reviews = o->quotes > 0 ? 0.5 : 1.0, .progress_s = o->progress_seconds > 0 ? o->progress_seconds : 0.25};
    chunk *c = calloc(1, sizeof *c);
    lens_model *model = NULL;
    lens_pool *pool = NULL;
    char assign_path[4200];
    snprintf(assign_path, sizeof assign_path, "%s/assignments.csv", o->out_dir);
    lens_model_opts mo = {.precision = o->precision};
    int rc = c ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (!rc) rc = expand_inputs(o, &inputs, err);
    if (!rc) rc = count_inputs(&j, inputs.paths, inputs.n, err);
    if (!rc) rc = lens__themes_load_in(&j.themes, o->root, o->themes, err); /* confined as the inputs are */
    if (!rc) rc = lens__mkdirs(o->out_dir, err);
    if (!rc && !o->loaded) rc = lens_model_open(&model, model_arg, &mo, err);
    const lens_model *m = o->loaded ? o->loaded : model;
    if (!rc) rc = lens_pool_new(&pool, o->threads, err);
    if (!rc) rc = lens_encoder_new(&j.enc, m, pool, o->batch_tokens, err);
    if (!rc) {
        j.model = m;
        j.dim = lens_model_dim(m);
        j.min_sim = o->min_similarity;
        if (isnan(j.min_sim) && !lens_model_min_similarity(m, &j.min_sim)) j.min_sim = -2.0f;
        rc = lens_themes_embed(j.themes, j.enc, j.dim, err);
    }
    if (!rc) {
        int max_themes = 0;
        for (int a = 0; a < j.themes->n_apps; a++)
            if (j.themes->apps[a].n_themes > max_themes) max_themes = j.themes->apps[a].n_themes;
        j.agg = calloc((size_t)j.themes->n_apps, sizeof *j.agg);
        j.emb = malloc((size_t)CHUNK * j.dim * sizeof *j.emb);
        j.sims = malloc((size_t)max_themes * sizeof *j.sims);
        j.picks = malloc((size_t)max_themes * sizeof *j.picks);
        int ok = j.agg && j.emb && j.sims && j.picks;
        for (int a = 0; ok && a < j.themes->n_apps; a++)
            ok = (j.agg[a].theme = calloc((size_t)j.themes->apps[a].n_themes + 1, sizeof(counts))) != NULL &&
                 (j.agg[a].sum = calloc(((size_t)j.themes->apps[a].n_themes + 1) * 2, sizeof(lens_summary *))) != NULL &&
                 (j.agg[a].sample = calloc(((size_t)j.themes->apps[a].n_themes + 1) * SAMPLES, sizeof(char *))) != NULL &&
                 (j.agg[a].sample_id = calloc(((size_t)j.themes->apps[a].n_themes + 1) * SAMPLES, sizeof(char *))) != NULL &&
                 (j.agg[a].sample_up = calloc(((size_t)j.themes->apps[a].n_themes + 1) * SAMPLES, 1)) != NULL &&
                 (j.agg[a].sample_saved = calloc(((size_t)j.themes->apps[a].n_themes + 1) * SAMPLES, 1)) != NULL;
        if (o->top_k > 8) rc = lens_error_set(err, LENS_EINVAL, "--top-k is at most 8");
        if (!ok) rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    if (!rc) rc = lens__ckpt_open(&j, inputs.paths, inputs.n, err);
    if (!rc && o->map) rc = lens__map_open(&j, err);
    st->resumed = j.resumed;
    st->rows_resumed = j.resumed ? st->rows : 0;
    if (!rc) report(&j, st->rows, 0); /* the start: the total, and a resumed run's baseline */
    uint64_t skip = j.file_rows;
    for (int i = j.file_index; !rc && i < inputs.n; i++, skip = 0)
        rc = read_file(&j, i, inputs.paths[i], c, skip, err);
    if (!rc) rc = flush_chunk(&j, c, err);
    if (!rc) rc = lens__ckpt_commit(&j, err); /* a kill while writing reports resumes here */
    if (!rc) report(&j, st->rows, 1);
    double t0 = lens__clock_mono();
    if (j.assign && fclose(j.assign) != 0 && !rc)
        rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", j.assign_tmp, strerror(errno));
    j.assign = NULL;
    if (!rc && o->map) rc = lens__map_finish(&j, err);
    if (!rc && o->quotes > 0) rc = lens__write_summaries(&j, o->out_dir, err);
    if (!rc) rc = lens__write_reports(&j, o->out_dir, err);
    if (!rc) rc = lens__write_html(&j, o->out_dir, err);
    /* Every output is written and synced: now they go in place, so a
     * failure before here (a full disk) leaves the earlier outputs as they
     * were. assignments.csv is linked, not renamed: assignments.csv.tmp
     * stays whole until the checkpoint is gone, so a kill from here on can
     * still resume; and the checkpoint goes only after every output's name
     * is synced too, so a power loss cannot take both. */
    if (!rc) rc = lens__link_replace(j.assign_tmp, assign_path, err);
    for (int i = 0; i < j.n_outs; i++) {
        if (!rc) rc = lens__afile_commit(j.outs[i], err);
        else lens__afile_abort(j.outs[i]);
    }
    j.n_outs = 0;
    lens__map_free(&j);
    int closed = lens__ckpt_close(&j, rc == 0, err);
    if (!rc && !(rc = closed)) unlink(j.assign_tmp); /* a checkpoint that stays keeps what it counts on */
    st->seconds_write = lens__clock_mono() - t0;
    st->unknown_apps = j.n_unknown;
    for (int a = 0; j.agg && a < j.themes->n_apps; a++) {
        for (int t = 0; j.agg[a].sum && t < (j.themes->apps[a].n_themes + 1) * 2; t++) lens_summary_free(j.agg[a].sum[t]);
        free(j.agg[a].sum);
        for (int t = 0; j.agg[a].sample && t < (j.themes->apps[a].n_themes + 1) * SAMPLES; t++) {
            free(j.agg[a].sample[t]);
            free(j.agg[a].sample_id[t]);
        }
        free(j.agg[a].sample);
        free(j.agg[a].sample_id);
        free(j.agg[a].sample_up);
        free(j.agg[a].sample_saved);
        free(j.agg[a].theme);
        free(j.agg[a].name);
    }
    free(j.spans); free(j.span_review); free(j.sent_text); free(j.sent_len); free(j.sent_emb);
    free(j.agg); free(j.emb); free(j.sims); free(j.picks); free(j.unknown);
    free(j.file_total); free(j.file_exact);
    if (c) free(c->buf);
    free(c);
    for (int i = 0; i < inputs.n; i++) free(inputs.paths[i]);
    free(inputs.paths);
    lens_themes_free(j.themes);
    lens_vader_scratch_free(j.vader_scratch);
    lens_vader_close(j.vader);
    lens_encoder_free(j.enc);
    lens_pool_free(pool);
    lens_model_close(model);
    return rc;
}
