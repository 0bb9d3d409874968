/* Dynamic batching: requests from every connection queue here; one thread
 * takes whatever is queued (up to max_batch texts), runs it through the
 * encoder (forward passes of its token budget) and, as each pass finishes,
 * hands the requests whose texts are all done their rows and calls their
 * done() (which resumes a suspended HTTP connection: nothing waits in a
 * thread per request). A request that finds the thread idle runs at once: batches form only while a pass is running (or, with
 * max_wait_ms, for at most that long after the first request). The encoder
 * gives a text the same bits in any batch, so batching changes nothing but
 * speed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/buf.h"
#include "base/clock.h"
#include "server_internal.h"

typedef lens__breq breq;

struct lens__batcher {
    lens_encoder *enc;
    int dim, max_batch;
    double max_wait_ms;
    size_t queue, queued;
    lens__metrics *metrics;
    pthread_mutex_t mu;
    pthread_cond_t work;
    breq *head, *tail;
    int stop;
    pthread_t th;
    /* the batch thread's scratch, grown to the largest batch */
    const char **texts;
    size_t *lens, cap;
    float *emb;
    /* the batch being embedded: requests from cur on are not answered yet;
     * cur's first row is cur_row */
    breq *cur;
    size_t cur_row;
};

/* Answers the requests whose rows are all in (the encoder finishes texts in
 * order) with rc; rows < done are final. */
static void answer(lens__batcher *b, size_t done, int rc, const char *msg)
{
    while (b->cur && (rc || b->cur_row + b->cur->n <= done)) {
        breq *r = b->cur, *next = r->next; /* r belongs to its requester once done() runs */
        if (!rc) memcpy(r->out, b->emb + b->cur_row * b->dim, r->n * (size_t)b->dim * sizeof *r->out);
        b->cur_row += r->n;
        b->cur = next;
        r->done(r->ctx, rc, msg);
    }
}

/* The encoder's progress: a batch larger than one forward pass answers its
 * first requests when their pass is done, not when the last one is. */
static int on_rows(void *ctx, size_t done)
{
    answer(ctx, done, LENS_OK, NULL);
    return 0;
}

static int reserve(lens__batcher *b, size_t n)
{
    size_t cap = b->cap, cap2 = b->cap, cap3 = b->cap;
    if (lens__grow((void **)&b->texts, &cap, n, sizeof *b->texts) || lens__grow((void **)&b->lens, &cap2, n, sizeof *b->lens) ||
        lens__grow((void **)&b->emb, &cap3, n, (size_t)b->dim * sizeof *b->emb))
        return -1;
    b->cap = cap;
    return 0;
}

static void *batch_thread(void *arg)
{
    lens__batcher *b = arg;
    pthread_mutex_lock(&b->mu);
    for (;;) {
        while (!b->head && !b->stop) pthread_cond_wait(&b->work, &b->mu);
        if (!b->head) break; /* stopping, nothing left */
        if (b->max_wait_ms > 0 && !b->stop) {
            struct timespec ts = lens__clock_deadline(b->max_wait_ms * 1e-3);
            while (b->queued < (size_t)b->max_batch && !b->stop)
                if (pthread_cond_timedwait(&b->work, &b->mu, &ts) == ETIMEDOUT) break;
        }
        /* take requests in arrival order, at least one */
        breq *first = b->head, *last = b->head;
        size_t n = first->n;
        while (last->next && n + last->next->n <= (size_t)b->max_batch) {
            last = last->next;
            n += last->n;
        }
        b->head = last->next;
        if (!b->head) b->tail = NULL;
        last->next = NULL;
        b->queued -= n;
        pthread_mutex_unlock(&b->mu);

        lens_error err = {0};
        uint64_t tokens = 0;
        double t0 = lens__clock_mono();
        int rc = reserve(b, n) ? lens_error_set(&err, LENS_ENOMEM, "batch: out of memory") : LENS_OK;
        size_t at = 0;
        for (breq *r = first; !rc && r; r = r->next) {
            memcpy(b->texts + at, r->texts, r->n * sizeof *b->texts);
            memcpy(b->lens + at, r->lens, r->n * sizeof *b->lens);
            at += r->n;
        }
        b->cur = first;
        b->cur_row = 0;
        if (!rc) rc = lens_encoder_embed(b->enc, b->texts, b->lens, n, b->emb, &tokens, &err);
        if (!rc && b->metrics) lens__metrics_batch(b->metrics, n, tokens, lens__clock_mono() - t0);
        answer(b, n, rc, rc ? err.msg : NULL); /* all answered on success already */
        pthread_mutex_lock(&b->mu);
    }
    pthread_mutex_unlock(&b->mu);
    return NULL;
}

int lens__batcher_new(lens__batcher **out, lens_encoder *enc, int dim, int max_batch, int batch_tokens,
                     double max_wait_ms, int queue, struct lens__metrics *m, lens_error *err)
{
    (void)batch_tokens; /* the encoder splits a batch by its own token budget */
    *out = NULL;
    lens__batcher *b = calloc(1, sizeof *b);
    if (!b) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    b->enc = enc;
    b->dim = dim;
    b->max_batch = max_batch > 0 ? max_batch : 256;
    b->max_wait_ms = max_wait_ms;
    b->queue = queue > 0 ? (size_t)queue : 4096;
    b->metrics = m;
    pthread_mutex_init(&b->mu, NULL);
    pthread_cond_init(&b->work, NULL);
    lens_encoder_on_progress(enc, on_rows, b);
    if (pthread_create(&b->th, NULL, batch_thread, b)) {
        free(b);
        return lens_error_set(err, LENS_ENOMEM, "batcher: cannot start its thread");
    }
    *out = b;
    return LENS_OK;
}

int lens__batcher_submit(lens__batcher *b, lens__breq *r, const char *const *texts, const size_t *lens, size_t n,
                        float *out, lens__batch_done_fn done, void *ctx, lens_error *err)
{
    *r = (breq){.texts = texts, .lens = lens, .n = n, .out = out, .done = done, .ctx = ctx};
    pthread_mutex_lock(&b->mu);
    if (b->stop || (b->queued && b->queued + n > b->queue)) {
        pthread_mutex_unlock(&b->mu);
        return lens_error_set(err, LENS_ENOMEM, "queue full");
    }
    if (b->tail) b->tail->next = r;
    else b->head = r;
    b->tail = r;
    b->queued += n;
    pthread_cond_signal(&b->work);
    pthread_mutex_unlock(&b->mu);
    return LENS_OK;
}

/* lens__batcher_embed: a submit that waits for its own done() */
typedef struct {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int finished, rc;
    char err[512];
} waiter;

static void wake(void *ctx, int rc, const char *msg)
{
    waiter *w = ctx;
    pthread_mutex_lock(&w->mu);
    w->rc = rc;
    if (msg) snprintf(w->err, sizeof w->err, "%s", msg);
    w->finished = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int lens__batcher_embed(lens__batcher *b, const char *const *texts, const size_t *lens, size_t n, float *out,
                       lens_error *err)
{
    if (!n) return LENS_OK;
    breq r;
    waiter w = {.finished = 0};
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    int rc = lens__batcher_submit(b, &r, texts, lens, n, out, wake, &w, err);
    pthread_mutex_lock(&w.mu);
    while (!rc && !w.finished) pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    if (!rc && w.rc) rc = lens_error_set(err, w.rc, "%s", w.err);
    return rc;
}

int lens__batcher_fn(void *ctx, const char *const *texts, size_t n, float *out, lens_error *err)
{
    size_t *lens = malloc((n ? n : 1) * sizeof *lens);
    if (!lens) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    for (size_t i = 0; i < n; i++) lens[i] = strlen(texts[i]);
    int rc = lens__batcher_embed(ctx, texts, lens, n, out, err);
    free(lens);
    return rc;
}

size_t lens__batcher_depth(lens__batcher *b)
{
    pthread_mutex_lock(&b->mu);
    size_t n = b->queued;
    pthread_mutex_unlock(&b->mu);
    return n;
}

void lens__batcher_free(lens__batcher *b)
{
    if (!b) return;
    pthread_mutex_lock(&b->mu);
    b->stop = 1;
    pthread_cond_signal(&b->work);
    pthread_mutex_unlock(&b->mu);
    pthread_join(b->th, NULL);
    pthread_mutex_destroy(&b->mu);
    pthread_cond_destroy(&b->work);
    free(b->texts);
    free(b->lens);
    free(b->emb);
    free(b);
}
