/* Checkpoints of the analyze job: kill it at any moment and the same command
 * resumes from the last finished chunk, with byte-identical outputs.
 *
 * OUT/.lens-checkpoint/journal starts with a manifest (inputs with sizes and
 * mtimes, themes, model, every option that changes the outputs) and then
 * holds one record per chunk, appended and synced after assignments.csv.tmp
 * is synced. A record carries the input position, the counters (small, so
 * written whole) and only what else changed in the chunk: new sample
 * reviews and names, and the summaries' changes (see
 * analysis/summary_checkpoint.h). Each record ends with a SHA-256 of its
 * payload, so a record torn by a kill is recognised and dropped. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analysis/summary_checkpoint.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "analyze_internal.h"

#define MAGIC_FILE "LENSCKP2" /* 2: per-game counts, invalid UTF-8 and row totals */
#define MAGIC_REC 0x504b434cu /* "LCKP" */
#define MAX_RECORD (1ull << 32)

static void manifest_file(lens__wbuf *b, const char *what, const char *path)
{
    struct stat st;
    char line[4400];
    if (stat(path, &st) == 0)
        snprintf(line, sizeof line, "%s %s %lld %lld.%09ld\n", what, path, (long long)st.st_size,
                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
    else
        snprintf(line, sizeof line, "%s %s missing\n", what, path);
    lens__wbuf_put(b, line, strlen(line));
}

/* Everything that decides the outputs; a checkpoint of another job is not
 * resumed. */
static void build_manifest(job *j, char *const *inputs, int n_inputs, lens__wbuf *b)
{
    const lens_analyze_opts *o = j->o;
    char line[4400];
    snprintf(line, sizeof line, "lens analyze checkpoint 2\nchunk %d\n", j->chunk_rows);
    lens__wbuf_put(b, line, strlen(line));
    for (int i = 0; i < n_inputs; i++) manifest_file(b, "input", inputs[i]);
    manifest_file(b, "themes", o->themes);
    snprintf(line, sizeof line, "%s/model.safetensors", lens_model_path(j->model));
    manifest_file(b, "model", line);
    snprintf(line, sizeof line, "model_dir %s\nprecision %s\nkernel %s\nlanguage %s\nmin_similarity %a\ntop_k %d\n"
             "quotes %d\nsentiment %d\nmap %d\n",
             lens_model_path(j->model), lens_precision_name(lens_model_precision(j->model)), lens_model_kernel(j->model),
             o->language ? o->language : "(all)", (double)j->min_sim, o->top_k, o->quotes, (int)o->sentiment, o->map);
    lens__wbuf_put(b, line, strlen(line));
    snprintf(line, sizeof line, "vader %s\n", o->vader_lexicon ? o->vader_lexicon : "(none)");
    lens__wbuf_put(b, line, strlen(line));
    const char *cols[] = {o->col_app, o->col_text, o->col_voted, o->col_language, o->col_name, o->col_id};
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        snprintf(line, sizeof line, "column %zu %s\n", c, cols[c] ? cols[c] : "(auto)");
        lens__wbuf_put(b, line, strlen(line));
    }
}

static int write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        c += w;
        n -= (size_t)w;
    }
    return 0;
}

static int read_all(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t r = read(fd, c, n);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c += r;
        n -= (size_t)r;
    }
    return 0;
}

static int summary_at(job *j, int app, int slot, lens_summary **out, lens_error *err)
{
    lens_summary **s = &j->agg[app].sum[slot];
    if (!*s) {
        lens_summary_opts so = {.dim = j->dim, .k = j->o->quotes};
        int rc = lens_summary_new(s, &so, err);
        if (rc) return rc;
    }
    *out = *s;
    return LENS_OK;
}

/* ---------------------------------------------------------------- records */

static void put_record(job *j, lens__wbuf *b)
{
    const lens_analyze_stats *st = j->st;
    lens__wbuf_u32(b, (uint32_t)j->file_index);
    lens__wbuf_u64(b, j->file_rows);
    lens__wbuf_u64(b, j->done_bytes);
    lens__wbuf_u64(b, j->assign_len);
    lens__wbuf_u64(b, j->map_emb_len);
    lens__wbuf_u64(b, j->map_meta_len);
    lens__wbuf_put(b, st, sizeof *st);
    const lens_themes *th = j->themes;
    for (int a = 0; a < th->n_apps; a++) {
        lens__wbuf_put(b, j->agg[a].theme, ((size_t)th->apps[a].n_themes + 1) * sizeof(counts));
        lens__wbuf_put(b, &j->agg[a].game, sizeof(counts));
    }
    lens__wbuf_u32(b, (uint32_t)j->n_unknown);
    lens__wbuf_put(b, j->unknown, (size_t)j->n_unknown * sizeof *j->unknown);

    /* names and samples are set once; write the ones not written yet */
    size_t at = b->len;
    uint32_t n = 0;
    lens__wbuf_u32(b, 0);
    for (int a = 0; a < th->n_apps; a++) {
        app_agg *ag = &j->agg[a];
        if (!ag->name || ag->name_saved) continue;
        lens__wbuf_u32(b, (uint32_t)a);
        lens__wbuf_str(b, ag->name);
        ag->name_saved = 1;
        n++;
    }
    if (!b->oom) memcpy(b->p + at, &n, sizeof n);
    at = b->len;
    n = 0;
    lens__wbuf_u32(b, 0);
    for (int a = 0; a < th->n_apps; a++) {
        app_agg *ag = &j->agg[a];
        for (int s = 0; s < (th->apps[a].n_themes + 1) * SAMPLES; s++) {
            if (!ag->sample[s] || ag->sample_saved[s]) continue;
            lens__wbuf_u32(b, (uint32_t)a);
            lens__wbuf_u32(b, (uint32_t)s);
            lens__wbuf_str(b, ag->sample[s]);
            lens__wbuf_str(b, ag->sample_id[s]);
            lens__wbuf_u32(b, (uint32_t)ag->sample_up[s]);
            ag->sample_saved[s] = 1;
            n++;
        }
    }
    if (!b->oom) memcpy(b->p + at, &n, sizeof n);
    at = b->len;
    n = 0;
    lens__wbuf_u32(b, 0);
    for (int a = 0; a < th->n_apps; a++)
        for (int s = 0; s < (th->apps[a].n_themes + 1) * 2; s++) {
            lens_summary *sum = j->agg[a].sum[s];
            if (!sum || !lens__summary_dirty(sum)) continue;
            lens__wbuf_u32(b, (uint32_t)a);
            lens__wbuf_u32(b, (uint32_t)s);
            lens__summary_save(sum, b);
            n++;
        }
    if (!b->oom) memcpy(b->p + at, &n, sizeof n);
}

static int apply_record(job *j, lens__rbuf *r, lens_error *err)
{
    const lens_themes *th = j->themes;
    j->file_index = (int)lens__rbuf_u32(r);
    j->file_rows = lens__rbuf_u64(r);
    j->done_bytes = lens__rbuf_u64(r);
    j->assign_len = lens__rbuf_u64(r);
    j->map_emb_len = lens__rbuf_u64(r);
    j->map_meta_len = lens__rbuf_u64(r);
    lens__rbuf_get(r, j->st, sizeof *j->st);
    for (int a = 0; a < th->n_apps; a++) {
        lens__rbuf_get(r, j->agg[a].theme, ((size_t)th->apps[a].n_themes + 1) * sizeof(counts));
        lens__rbuf_get(r, &j->agg[a].game, sizeof(counts));
    }
    uint32_t n = lens__rbuf_u32(r);
    if (r->bad || n > (r->len - r->at) / sizeof *j->unknown) goto bad;
    if (lens__grow((void **)&j->unknown, &j->cap_unknown, n, sizeof *j->unknown))
        return lens_error_set(err, LENS_ENOMEM, "checkpoint: out of memory");
    j->n_unknown = (int)n;
    lens__rbuf_get(r, j->unknown, (size_t)n * sizeof *j->unknown);

    n = lens__rbuf_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t a = lens__rbuf_u32(r);
        char *name = lens__rbuf_str(r);
        if (r->bad || a >= (uint32_t)th->n_apps || !name) {
            free(name);
            goto bad;
        }
        free(j->agg[a].name);
        j->agg[a].name = name;
        j->agg[a].name_saved = 1;
    }
    n = lens__rbuf_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t a = lens__rbuf_u32(r), s = lens__rbuf_u32(r);
        char *text = lens__rbuf_str(r), *id = lens__rbuf_str(r);
        uint32_t up = lens__rbuf_u32(r);
        if (r->bad || a >= (uint32_t)th->n_apps || s >= (uint32_t)(th->apps[a].n_themes + 1) * SAMPLES || !text || !id) {
            free(text);
            free(id);
            goto bad;
        }
        app_agg *ag = &j->agg[a];
        free(ag->sample[s]);
        free(ag->sample_id[s]);
        ag->sample[s] = text;
        ag->sample_id[s] = id;
        ag->sample_up[s] = (int8_t)up;
        ag->sample_saved[s] = 1;
    }
    n = lens__rbuf_u32(r);
    for (uint32_t i = 0; i < n && !r->bad; i++) {
        uint32_t a = lens__rbuf_u32(r), s = lens__rbuf_u32(r);
        if (r->bad || a >= (uint32_t)th->n_apps || s >= (uint32_t)(th->apps[a].n_themes + 1) * 2) goto bad;
        lens_summary *sum;
        int rc = summary_at(j, (int)a, (int)s, &sum, err);
        if (!rc) rc = lens__summary_load(sum, r, err);
        if (rc) return rc;
    }
    if (r->bad || r->at != r->len) goto bad;
    return LENS_OK;
bad:
    return lens_error_set(err, LENS_EFORMAT, "record does not match this job's themes");
}

/* The summaries' waiting sentences were saved as text: embed them again, in
 * batches of a few thousand over as many summaries as fit. */
typedef struct {
    job *j;
    lens_summary **group;
    int n_group;
    const char **texts;
    size_t *lens, n_texts, cap;
    float *emb;
} reembed;

static int reembed_flush(reembed *re, lens_error *err)
{
    if (!re->n_texts) return LENS_OK;
    int rc = lens_encoder_embed(re->j->enc, re->texts, re->lens, re->n_texts, re->emb, NULL, err);
    size_t at = 0;
    for (int g = 0; !rc && g < re->n_group; g++) {
        const char *const *w;
        size_t n = lens__summary_waiting(re->group[g], &w);
        lens__summary_set_waiting(re->group[g], re->emb + at * re->j->dim);
        at += n;
    }
    re->n_group = 0;
    re->n_texts = 0;
    return rc;
}

static int reembed_waiting(job *j, lens_error *err)
{
    const lens_themes *th = j->themes;
    size_t most = 4096; /* a summary waits on at most its chunk, far fewer */
    for (int a = 0; a < th->n_apps; a++)
        for (int s = 0; s < (th->apps[a].n_themes + 1) * 2; s++) {
            const char *const *w;
            size_t n = j->agg[a].sum[s] ? lens__summary_waiting(j->agg[a].sum[s], &w) : 0;
            if (n > most) most = n;
        }
    reembed re = {.j = j, .cap = most};
    re.group = malloc(most * sizeof *re.group);
    re.texts = malloc(most * sizeof *re.texts);
    re.lens = malloc(most * sizeof *re.lens);
    re.emb = malloc(most * (size_t)j->dim * sizeof *re.emb);
    int rc = re.group && re.texts && re.lens && re.emb ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "checkpoint: out of memory");
    for (int a = 0; !rc && a < th->n_apps; a++)
        for (int s = 0; !rc && s < (th->apps[a].n_themes + 1) * 2; s++) {
            lens_summary *sum = j->agg[a].sum[s];
            const char *const *w;
            size_t n = sum ? lens__summary_waiting(sum, &w) : 0;
            if (!n) continue;
            if (re.n_texts + n > re.cap && (rc = reembed_flush(&re, err))) break;
            for (size_t i = 0; i < n; i++) {
                re.texts[re.n_texts + i] = w[i];
                re.lens[re.n_texts + i] = strlen(w[i]);
            }
            re.n_texts += n;
            re.group[re.n_group++] = sum;
        }
    if (!rc) rc = reembed_flush(&re, err);
    free(re.group);
    free(re.texts);
    free(re.lens);
    free(re.emb);
    return rc;
}

/* Reads the journal: 1 when the job was restored, 0 when there is nothing to
 * resume (no journal, another job's, or no complete record). */
static int restore(job *j, const char *path, const lens__wbuf *manifest, lens_error *err)
{
    int fd = open(path, O_RDWR);
    if (fd < 0) return 0;
    char magic[8];
    uint32_t mlen;
    char *m = NULL;
    if (read_all(fd, magic, 8) || memcmp(magic, MAGIC_FILE, 8) || read_all(fd, &mlen, 4) || mlen != manifest->len ||
        !(m = malloc(mlen)) || read_all(fd, m, mlen) || memcmp(m, manifest->p, mlen)) {
        fprintf(stderr, "lens: %s is from another job (inputs, themes, model or options differ); starting over\n", path);
        free(m);
        close(fd);
        return 0;
    }
    free(m);
    off_t good = 8 + 4 + (off_t)mlen;
    int records = 0, rc = 0;
    unsigned char *payload = NULL;
    for (;;) {
        uint32_t rmagic;
        uint64_t len;
        unsigned char sum[32], want[32];
        if (read_all(fd, &rmagic, 4) || rmagic != MAGIC_REC || read_all(fd, &len, 8) || len > MAX_RECORD) break;
        unsigned char *p = realloc(payload, len ? len : 1);
        if (!p) {
            rc = lens_error_set(err, LENS_ENOMEM, "checkpoint %s: out of memory", path);
            break;
        }
        payload = p;
        if (read_all(fd, payload, len) || read_all(fd, want, 32)) break;
        lens__sha256 h;
        lens__sha256_init(&h);
        lens__sha256_update(&h, payload, len);
        lens__sha256_final(&h, sum);
        if (memcmp(sum, want, 32)) break; /* torn by a kill: the chunk is done again */
        lens__rbuf r = {.p = payload, .len = len};
        if ((rc = apply_record(j, &r, err))) {
            lens_error_wrap(err, "checkpoint %s, record %d", path, records + 1);
            break;
        }
        records++;
        good += 4 + 8 + (off_t)len + 32;
    }
    free(payload);
    if (!rc && records && ftruncate(fd, good))
        rc = lens_error_set(err, LENS_EIO, "checkpoint %s: %s", path, strerror(errno));
    close(fd);
    if (rc) return rc;
    return records > 0;
}

int lens__ckpt_open(job *j, char *const *inputs, int n_inputs, lens_error *err)
{
    const lens_analyze_opts *o = j->o;
    snprintf(j->ckpt_dir, sizeof j->ckpt_dir, "%s/.lens-checkpoint", o->out_dir);
    snprintf(j->assign_tmp, sizeof j->assign_tmp, "%s/assignments.csv.tmp", o->out_dir);
    char path[4400];
    snprintf(path, sizeof path, "%s/journal", j->ckpt_dir);
    lens__wbuf manifest = {0};
    build_manifest(j, inputs, n_inputs, &manifest);
    if (manifest.oom) return lens_error_set(err, LENS_ENOMEM, "checkpoint: out of memory");
    int rc = 0, resumed = 0;
    if (!o->restart) {
        resumed = restore(j, path, &manifest, err);
        if (resumed < 0) rc = resumed;
    }
    if (!rc && resumed) {
        /* assignments.csv.tmp was synced before the record: cut what the
         * unfinished chunk wrote after it */
        struct stat st;
        if (stat(j->assign_tmp, &st) || (uint64_t)st.st_size < j->assign_len)
            rc = lens_error_set(err, LENS_EFORMAT, "checkpoint %s: %s is shorter than recorded; run with --restart",
                                j->ckpt_dir, j->assign_tmp);
        else if (truncate(j->assign_tmp, (off_t)j->assign_len) || !(j->assign = fopen(j->assign_tmp, "ab")))
            rc = lens_error_set(err, LENS_EIO, "%s: %s", j->assign_tmp, strerror(errno));
        if (!rc) rc = reembed_waiting(j, err);
        j->resumed = 1;
    } else if (!rc) {
        /* a fresh start: nothing of an earlier journal may survive */
        if ((rc = lens__rmtree(j->ckpt_dir, err)) == 0 && (rc = lens__mkdirs(j->ckpt_dir, err)) == 0) {
            if (!(j->assign = fopen(j->assign_tmp, "wb")))
                rc = lens_error_set(err, LENS_EIO, "%s: %s", j->assign_tmp, strerror(errno));
            else
                fputs("review_id,app_id,theme,similarity,sentiment,rank\n", j->assign);
        }
        if (!rc) {
            j->created = 1;
            j->journal = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
            uint32_t mlen = (uint32_t)manifest.len;
            if (j->journal < 0 || write_all(j->journal, MAGIC_FILE, 8) || write_all(j->journal, &mlen, 4) ||
                write_all(j->journal, manifest.p, manifest.len))
                rc = lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
        }
    }
    if (!rc && j->journal < 0 && (j->journal = open(path, O_WRONLY | O_APPEND)) < 0)
        rc = lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    lens__wbuf_free(&manifest);
    return rc;
}

int lens__ckpt_commit(job *j, lens_error *err)
{
    if (fflush(j->assign) || fdatasync(fileno(j->assign)))
        return lens_error_set(err, LENS_EIO, "%s: %s", j->assign_tmp, strerror(errno));
    j->assign_len = (uint64_t)ftello(j->assign);
    if (j->map_emb && lens__map_sync(j, err)) return err->code;
    lens__wbuf *b = &j->record;
    b->len = 0;
    uint64_t zero = 0;
    lens__wbuf_u32(b, MAGIC_REC);
    lens__wbuf_u64(b, zero); /* payload length, patched below */
    put_record(j, b);
    if (b->oom) return lens_error_set(err, LENS_ENOMEM, "checkpoint: out of memory");
    uint64_t len = b->len - 12;
    memcpy(b->p + 4, &len, sizeof len);
    unsigned char sum[32];
    lens__sha256 h;
    lens__sha256_init(&h);
    lens__sha256_update(&h, b->p + 12, len);
    lens__sha256_final(&h, sum);
    lens__wbuf_put(b, sum, sizeof sum);
    if (b->oom) return lens_error_set(err, LENS_ENOMEM, "checkpoint: out of memory");
    /* the first record of a new checkpoint: the names of the files it
     * counts on (journal, map.*, assignments.csv.tmp) must survive a power
     * loss as well as their data */
    if (j->created && !j->commits) {
        int rc = lens__fsync_path(j->ckpt_dir, err);
        if (!rc) rc = lens__fsync_path(j->o->out_dir, err);
        if (rc) return rc;
    }
    if (write_all(j->journal, b->p, b->len) || fdatasync(j->journal))
        return lens_error_set(err, LENS_EIO, "cannot write %s/journal: %s", j->ckpt_dir, strerror(errno));
    j->commits++;
    return LENS_OK;
}

int lens__ckpt_close(job *j, int finished, lens_error *err)
{
    if (j->journal >= 0) close(j->journal);
    j->journal = -1;
    lens__wbuf_free(&j->record);
    /* a run that failed before its first chunk leaves nothing to resume */
    int rc = LENS_OK;
    if (j->ckpt_dir[0] && (finished || (j->created && !j->commits))) {
        lens_error e;
        rc = lens__rmtree(j->ckpt_dir, finished ? err : &e);
        if (!finished) unlink(j->assign_tmp);
    }
    return finished ? rc : LENS_OK;
}
