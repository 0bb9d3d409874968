/* lens_encoder: tokenize, pack into token-budget batches, run the BERT
 * forward pass, pool and normalise. One encoder per concurrent caller; the
 * model it reads is shared. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lens/model.h"
#include "model_internal.h"

#define GROUP 256 /* texts tokenized per parallel step */

struct lens_encoder {
    const lens_model *m;
    lens_pool *pool;
    int n_threads, batch_tokens, max_len;
    lens__bert_ws ws;
    lens_tok_work **tw;   /* per thread */
    int32_t *slot_ids;    /* [GROUP][max_len] tokenized texts of a group */
    size_t *slot_n;
    /* the batch being filled */
    int32_t *ids, *offs;  /* [batch_tokens], [batch_tokens + 1] */
    size_t *rows;         /* output row of each sequence */
    int n_seq;
    float *out;
    lens__static_enc *se; /* static models: word vectors, none of the above */
    lens_encoder_progress_fn progress;
    void *progress_ctx;
    int stopped; /* the progress hook asked to stop this call */
};

void lens_encoder_on_progress(lens_encoder *e, lens_encoder_progress_fn fn, void *ctx)
{
    e->progress = fn;
    e->progress_ctx = ctx;
}

int lens_encoder_new(lens_encoder **out, const lens_model *m, lens_pool *pool, int batch_tokens,
                     lens_error *err)
{
    *out = NULL;
    if (batch_tokens <= 0) batch_tokens = 4096;
    if (batch_tokens < m->max_seq_len) batch_tokens = m->max_seq_len;
    lens_encoder *e = calloc(1, sizeof *e);
    if (!e) return lens_error_set(err, LENS_ENOMEM, "encoder: out of memory");
    e->m = m;
    e->pool = pool;
    e->n_threads = lens_pool_size(pool);
    e->batch_tokens = batch_tokens;
    e->max_len = m->max_seq_len;
    if (m->wv) {
        int src = lens__static_enc_new(&e->se, m->wv, e->n_threads, err);
        if (src) {
            free(e);
            return src;
        }
        *out = e;
        return LENS_OK;
    }
    int rc = lens__bert_ws_init(&e->ws, &m->bert, batch_tokens, e->max_len, e->n_threads, err);
    if (rc) {
        free(e);
        return rc;
    }
    e->tw = calloc((size_t)e->n_threads, sizeof *e->tw);
    e->slot_ids = malloc((size_t)GROUP * e->max_len * sizeof *e->slot_ids);
    e->slot_n = malloc(GROUP * sizeof *e->slot_n);
    e->ids = malloc((size_t)batch_tokens * sizeof *e->ids);
    e->offs = malloc(((size_t)batch_tokens + 1) * sizeof *e->offs);
    e->rows = malloc((size_t)batch_tokens * sizeof *e->rows);
    int ok = e->tw && e->slot_ids && e->slot_n && e->ids && e->offs && e->rows;
    for (int t = 0; ok && t < e->n_threads; t++) ok = (e->tw[t] = lens_tok_work_new()) != NULL;
    if (!ok) {
        lens_encoder_free(e);
        return lens_error_set(err, LENS_ENOMEM, "encoder: out of memory");
    }
    *out = e;
    return LENS_OK;
}

void lens_encoder_free(lens_encoder *e)
{
    if (!e) return;
    lens__bert_ws_free(&e->ws);
    if (e->tw)
        for (int t = 0; t < e->n_threads; t++) lens_tok_work_free(e->tw[t]);
    free(e->tw);
    free(e->slot_ids);
    free(e->slot_n);
    free(e->ids);
    free(e->offs);
    free(e->rows);
    lens__static_enc_free(e->se);
    free(e);
}

/* ---------------------------------------------------------------- pooling */

static void pool_task(void *ctx, int s, int thread)
{
    (void)thread;
    lens_encoder *e = ctx;
    const lens_model *m = e->m;
    int H = m->cfg.hidden, o = e->offs[s], L = e->offs[s + 1] - o;
    const float *x = e->ws.x + (size_t)o * H;
    float *y = e->out + e->rows[s] * H;
    double acc[4096];
    int Hc = H < 4096 ? H : 4096;
    switch (m->pooling) {
    case LENS_POOLING_CLS:
        for (int i = 0; i < Hc; i++) acc[i] = x[i];
        break;
    case LENS_POOLING_MAX:
        for (int i = 0; i < Hc; i++) acc[i] = x[i];
        for (int r = 1; r < L; r++)
            for (int i = 0; i < Hc; i++) acc[i] = fmax(acc[i], x[(size_t)r * H + i]);
        break;
    default: {
        for (int i = 0; i < Hc; i++) acc[i] = 0.0;
        for (int r = 0; r < L; r++)
            for (int i = 0; i < Hc; i++) acc[i] += x[(size_t)r * H + i];
        double div = m->pooling == LENS_POOLING_MEAN_SQRT_LEN ? sqrt((double)L) : (double)L;
        for (int i = 0; i < Hc; i++) acc[i] /= div;
    }
    }
    double norm = 1.0;
    if (m->normalize) {
        double ss = 0.0;
        for (int i = 0; i < Hc; i++) ss += acc[i] * acc[i];
        norm = fmax(sqrt(ss), 1e-12);
    }
    for (int i = 0; i < Hc; i++) y[i] = (float)(acc[i] / norm);
}

static int stopped(lens_error *err)
{
    return lens_error_set(err, LENS_ECANCEL, "encoder: stopped by its progress hook");
}

static void flush(lens_encoder *e)
{
    if (!e->n_seq) return;
    lens__bert_forward(&e->m->bert, e->ids, e->offs, e->n_seq, &e->ws, e->pool);
    lens_pool_run(e->pool, e->n_seq, pool_task, e);
    size_t done = e->rows[e->n_seq - 1] + 1; /* rows are added in increasing order */
    e->n_seq = 0;
    e->offs[0] = 0;
    if (e->progress && e->progress(e->progress_ctx, done)) e->stopped = 1;
}

static void add_seq(lens_encoder *e, const int32_t *ids, size_t n, size_t row)
{
    if (e->offs[e->n_seq] + (int)n > e->batch_tokens) flush(e);
    if (e->stopped) return;
    int32_t at = e->offs[e->n_seq];
    memcpy(e->ids + at, ids, n * sizeof *ids);
    e->rows[e->n_seq] = row;
    e->offs[++e->n_seq] = at + (int32_t)n;
}

/* ---------------------------------------------------------------- embed */

typedef struct {
    lens_encoder *e;
    const char *const *texts;
    const size_t *lens;
    size_t base;
    int count;
    int failed;
    lens_error err;
} tok_job;

static void tok_task(void *ctx, int i, int thread)
{
    tok_job *j = ctx;
    lens_encoder *e = j->e;
    const char *t = j->texts[j->base + (size_t)i];
    size_t len = j->lens ? j->lens[j->base + (size_t)i] : strlen(t);
    const int32_t *ids;
    size_t n;
    lens_error err;
    if (lens_tokenizer_encode(e->m->tok, e->tw[thread], t, len, (size_t)e->max_len, &ids, &n, &err)) {
        j->failed = 1; /* only ENOMEM can get here; any one message will do */
        j->err = err;
        return;
    }
    memcpy(e->slot_ids + (size_t)i * e->max_len, ids, n * sizeof *ids);
    e->slot_n[i] = n;
}

int lens_encoder_embed(lens_encoder *e, const char *const *texts, const size_t *lens, size_t n,
                       float *out, uint64_t *tokens, lens_error *err)
{
    if (e->se) {
        int rc = lens__static_enc_embed(e->se, e->pool, texts, lens, n, out, tokens, err);
        if (!rc && e->progress && n && e->progress(e->progress_ctx, n)) rc = stopped(err);
        return rc;
    }
    e->out = out;
    e->n_seq = 0;
    e->offs[0] = 0;
    e->stopped = 0;
    for (size_t base = 0; base < n && !e->stopped; base += GROUP) {
        tok_job j = {.e = e, .texts = texts, .lens = lens, .base = base,
                     .count = n - base < GROUP ? (int)(n - base) : GROUP};
        lens_pool_run(e->pool, j.count, tok_task, &j);
        if (j.failed) {
            if (err) *err = j.err;
            return j.err.code;
        }
        for (int i = 0; i < j.count; i++) {
            add_seq(e, e->slot_ids + (size_t)i * e->max_len, e->slot_n[i], base + (size_t)i);
            if (e->stopped) break;
            if (tokens) *tokens += e->slot_n[i];
        }
    }
    if (!e->stopped) flush(e);
    if (e->stopped) {
        e->n_seq = 0;
        e->offs[0] = 0;
        return stopped(err);
    }
    return LENS_OK;
}

int lens_encoder_embed_ids(lens_encoder *e, const int32_t *const *ids, const size_t *n_ids,
                           size_t n, float *out, lens_error *err)
{
    if (e->se)
        return lens_error_set(err, LENS_EUNSUP, "%s: a static model embeds texts, not token ids",
                              e->m->dir);
    for (size_t i = 0; i < n; i++) {
        if (n_ids[i] < 1 || n_ids[i] > (size_t)e->max_len)
            return lens_error_set(err, LENS_EINVAL, "sequence %zu has %zu ids; 1..%d allowed", i,
                                  n_ids[i], e->max_len);
        for (size_t k = 0; k < n_ids[i]; k++)
            if (ids[i][k] < 0 || ids[i][k] >= e->m->cfg.vocab_size)
                return lens_error_set(err, LENS_EINVAL, "sequence %zu: id %d out of range", i,
                                      (int)ids[i][k]);
    }
    e->out = out;
    e->n_seq = 0;
    e->offs[0] = 0;
    e->stopped = 0;
    for (size_t i = 0; i < n && !e->stopped; i++) add_seq(e, ids[i], n_ids[i], i);
    if (!e->stopped) flush(e);
    if (e->stopped) {
        e->n_seq = 0;
        e->offs[0] = 0;
        return stopped(err);
    }
    return LENS_OK;
}

uint64_t lens_encoder_empty(const lens_encoder *e) { return e->se ? lens__static_enc_empty(e->se) : 0; }
