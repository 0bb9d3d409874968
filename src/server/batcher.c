/* Dynamic batching: requests from every connection queue here; one thread
 * takes whatever is queued (up to max_batch texts), runs it through the
 * encoder (forward passes of its token budget) and, as each pass finishes,
 * hands the requests whose texts are all done their rows and calls their
 * done() (which resumes a suspended HTTP connection: nothing waits in a
 * thread per request). A request that finds the thread idle runs at once:
 * batches form only while a pass is running (or, with max_wait_ms, for at
 * most that long after the first request). Requests are taken round-robin,
 * a slice of at most max_batch texts at a time: a request larger than that
 * goes back to the end of the queue with the rest, so a one-text request
 * behind a large one waits for one slice, not for the whole. The encoder
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

typedef struct {
    breq *r;
    size_t off, n; /* rows off..off+n of r */
} slice;

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
    slice *sl;
    size_t sl_cap;
    /* the batch being embedded: slices from cur on are not answered yet;
     * cur's first row is cur_row */
    size_t n_sl, cur, cur_row;
};

/* Drops r from the queue (it failed while the rest of it waited there). */
static void unqueue(lens__batcher *b, breq *r)
{
    pthread_mutex_lock(&b->mu);
    for (breq **p = &b->head, *prev = NULL; *p; prev = *p, p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            if (b->tail == r) b->tail = prev;
            b->queued -= r->n - r->taken;
            break;
        }
    pthread_mutex_unlock(&b->mu);
}

/* Hands out the slices whose rows are all in (the encoder finishes texts in
 * order) and answers the requests that are complete; with rc, fails every
 * request of the slices left. Rows < done are final. */
static void answer(lens__batcher *b, size_t done, int rc, const char *msg)
{
    while (b->cur < b->n_sl && (rc || b->cur_row + b->sl[b->cur].n <= done)) {
        slice *x = &b->sl[b->cur++];
        breq *r = x->r;
        b->cur_row += x->n;
        if (r->failed) continue;
        if (rc) {
            unqueue(b, r);
            r->failed = 1;
            r->done(r->ctx, rc, msg); /* r belongs to its requester once done() runs */
            continue;
        }
        memcpy(r->out + x->off * (size_t)b->dim, b->emb + (b->cur_row - x->n) * (size_t)b->dim,
               x->n * (size_t)b->dim * sizeof *r->out);
        r->finished += x->n;
        if (r->finished == r->n) r->done(r->ctx, LENS_OK, NULL); /* all taken: not queued any more */
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
        /* round-robin: a slice of each queued request in turn while there is
         * room; one with rows left (the batch is full then) goes to the back */
        size_t n = 0, room = (size_t)b->max_batch;
        b->n_sl = 0;
        while (b->head && n < room) {
            if (lens__grow((void **)&b->sl, &b->sl_cap, b->n_sl + 1, sizeof *b->sl)) break; /* this batch as is */
            breq *r = b->head;
            size_t k = r->n - r->taken < room - n ? r->n - r->taken : room - n;
            b->sl[b->n_sl++] = (slice){.r = r, .off = r->taken, .n = k};
            r->taken += k;
            n += k;
            b->head = r->next;
            if (!b->head) b->tail = NULL;
            r->next = NULL;
            if (r->taken < r->n) {
                if (b->tail) b->tail->next = r;
                else b->head = r;
                b->tail = r;
            }
        }
        b->queued -= n;
        pthread_mutex_unlock(&b->mu);

        lens_error err = {0};
        uint64_t tokens = 0;
        double t0 = lens__clock_mono();
        int rc = !b->n_sl || reserve(b, n) ? lens_error_set(&err, LENS_ENOMEM, "batch: out of memory") : LENS_OK;
        for (size_t i = 0, at = 0; !rc && i < b->n_sl; at += b->sl[i++].n) {
            memcpy(b->texts + at, b->sl[i].r->texts + b->sl[i].off, b->sl[i].n * sizeof *b->texts);
            memcpy(b->lens + at, b->sl[i].r->lens + b->sl[i].off, b->sl[i].n * sizeof *b->lens);
        }
        b->cur = 0;
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
    free(b->sl);
    free(b);
}
