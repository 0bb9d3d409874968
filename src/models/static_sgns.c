/* Skip-gram with negative sampling (word2vec) for lens_static_train: worker
 * threads over contiguous ranges of texts, updating shared vectors without
 * locks (Hogwild, as word2vec does). Built with -O3 (see CMakeLists.txt):
 * the inner loops over the dimensions need it to be vectorised. */
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "static_train_internal.h"

#define ALPHA_EVERY 10000 /* words between learning-rate updates */

/* xorshift64*: cheap, 64 good bits, the same everywhere; state never 0 */
static inline uint64_t rnd(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 2685821657736338717ULL;
}

/* uniform in [0, n) from the high half of r (multiply-shift, no division) */
static inline uint32_t below(uint64_t r, uint32_t n) { return (uint32_t)(((r >> 32) * n) >> 32); }

/* uniform in [0, 1) from the low 24 bits of r */
static inline float unit24(uint64_t r) { return (float)(r & 0xFFFFFF) * (1.0f / 16777216.0f); }

static uint64_t splitmix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ULL;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

typedef struct {
    w2v_trainer *tr;
    int t;
    size_t lo, hi;  /* texts */
    size_t max_len; /* longest text */
    int failed;
    pthread_t th;
} worker;

/* eight lanes in a fixed order: vectorised without -ffast-math, and the
 * same sum whatever the vector width */
static inline float dot(const float *a, const float *b, int n)
{
    float s[8] = {0}, t = 0;
    int i = 0;
    for (; i + 8 <= n; i += 8)
        for (int k = 0; k < 8; k++) s[k] += a[i + k] * b[i + k];
    for (; i < n; i++) t += a[i] * b[i];
    return (((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]))) + t;
}

static inline void axpy(float *y, float g, const float *x, int n)
{
    for (int i = 0; i < n; i++) y[i] += g * x[i];
}

/* Skip-gram updates for one (subsampled) text: word2vec's inner loop.
 * With several threads they update the shared rows without locks, as
 * word2vec does ("Hogwild!", Recht et al. 2011): an update now and then
 * lost to another thread's costs nothing SGD notices. That is a data race
 * by design, the one ThreadSanitizer is told to pass over
 * (tests/tsan.supp); a lock per row made two threads slower than one, and
 * one thread, which the shipped model used, gives the same bytes every
 * run. */
static void skipgram(w2v_trainer *tr, const uint32_t *sen, size_t n, float *neu1e, float alpha, uint64_t *rngp)
{
    const int D = tr->D, window = tr->window;
    uint64_t rng = *rngp;
    for (size_t p = 0; p < n; p++) {
        uint32_t word = sen[p];
        int b = (int)below(rnd(&rng), (uint32_t)window);
        for (int a = b; a < 2 * window + 1 - b; a++) {
            if (a == window) continue;
            long c = (long)p - window + a;
            if (c < 0 || c >= (long)n) continue;
            float *l1 = tr->syn0 + (size_t)sen[c] * D;
            memset(neu1e, 0, (size_t)D * sizeof *neu1e);
            for (int d = 0; d <= tr->negative; d++) {
                uint32_t target;
                float label;
                if (d == 0) {
                    target = word;
                    label = 1;
                } else {
                    uint64_t r = rnd(&rng);
                    uint32_t i = below(r, (uint32_t)tr->V);
                    target = unit24(r) < tr->alias[i].p ? i : (uint32_t)tr->alias[i].other;
                    if (target == word) continue;
                    label = 0;
                }
                float *l2 = tr->syn1 + (size_t)target * D;
                float f = dot(l1, l2, D), g;
                if (f >= MAX_EXP) g = (label - 1) * alpha;
                else if (f <= -MAX_EXP) g = label * alpha;
                else g = (label - tr->exp_table[(int)((f + MAX_EXP) * (EXP_TABLE / MAX_EXP / 2))]) * alpha;
                axpy(neu1e, g, l2, D);
                axpy(l2, g, l1, D);
            }
            axpy(l1, 1.0f, neu1e, D);
        }
    }
    *rngp = rng;
}

static void *train_worker(void *arg)
{
    worker *w = arg;
    w2v_trainer *tr = w->tr;
    const int D = tr->D;
    uint64_t local = 0, reported = 0;
    uint32_t *sen = malloc((w->max_len + 1) * sizeof *sen);
    float *neu1e = malloc((size_t)D * sizeof *neu1e);
    if (!sen || !neu1e) {
        w->failed = 1;
        atomic_store(&tr->cancel, 1);
        goto out;
    }
    uint64_t rng = splitmix(tr->seed ^ splitmix((uint64_t)w->t + 1)) | 1;
    float alpha = tr->alpha0;
    for (int ep = 0; ep < tr->epochs; ep++) {
        for (size_t t = w->lo; t < w->hi; t++) {
            if (atomic_load_explicit(&tr->cancel, memory_order_relaxed)) goto out;
            size_t lo = tr->starts[t], hi = tr->starts[t + 1], n = 0;
            for (size_t i = lo; i < hi; i++) {
                uint32_t id = tr->ids[i];
                if (tr->keep[id] < 1.0f && tr->keep[id] < unit24(rnd(&rng))) continue;
                sen[n++] = id;
            }
            local += hi - lo;
            if (local - reported >= ALPHA_EVERY) {
                uint64_t done = atomic_fetch_add(&tr->done, local - reported) + (local - reported);
                reported = local;
                alpha = tr->alpha0 * (float)(1.0 - (double)done / (double)(tr->total + 1));
                if (alpha < tr->alpha0 * 1e-4f) alpha = tr->alpha0 * 1e-4f;
            }
            skipgram(tr, sen, n, neu1e, alpha, &rng);
        }
    }
out:
    if (local > reported) atomic_fetch_add(&tr->done, local - reported);
    free(sen);
    free(neu1e);
    atomic_fetch_sub(&tr->running, 1);
    return NULL;
}

/* Vose's construction of the alias table for count^0.75 */
static int make_alias(w2v_trainer *tr, const w2v_vocab *v)
{
    int32_t n = v->n, *small = malloc((size_t)n * sizeof *small), *large = malloc((size_t)n * sizeof *large);
    double *q = malloc((size_t)n * sizeof *q);
    tr->alias = malloc((size_t)n * sizeof *tr->alias);
    if (!small || !large || !q || !tr->alias) {
        free(small); free(large); free(q);
        return -1;
    }
    double sum = 0;
    for (int32_t i = 0; i < n; i++) sum += pow((double)v->count[i], 0.75);
    int32_t ns = 0, nl = 0;
    for (int32_t i = 0; i < n; i++) {
        q[i] = pow((double)v->count[i], 0.75) / sum * n;
        if (q[i] < 1) small[ns++] = i;
        else large[nl++] = i;
    }
    while (ns && nl) {
        int32_t s = small[--ns], l = large[nl - 1];
        tr->alias[s] = (struct alias_ent){(float)q[s], l};
        q[l] -= 1 - q[s];
        if (q[l] < 1) {
            nl--;
            small[ns++] = l;
        }
    }
    /* what is left is 1 up to rounding */
    while (nl) {
        int32_t i = large[--nl];
        tr->alias[i] = (struct alias_ent){1.0f, i};
    }
    while (ns) {
        int32_t i = small[--ns];
        tr->alias[i] = (struct alias_ent){1.0f, i};
    }
    free(small); free(large); free(q);
    return 0;
}

int lens__w2v_train(const lens_static_train_opts *o, w2v_trainer *tr, const w2v_corpus *c, const w2v_vocab *v,
              lens_error *err)
{
    int T = tr->T, rc = LENS_OK;
    size_t VD = (size_t)v->n * tr->D;
    tr->syn0 = malloc(VD * sizeof *tr->syn0);
    tr->syn1 = calloc(VD, sizeof *tr->syn1);
    tr->keep = malloc((size_t)v->n * sizeof *tr->keep);
    worker *ws = calloc((size_t)T, sizeof *ws);
    if (!tr->syn0 || !tr->syn1 || !tr->keep || !ws || make_alias(tr, v)) {
        free(ws);
        return lens_error_set(err, LENS_ENOMEM, "train-static: out of memory for %d x %d vectors",
                              (int)v->n, tr->D);
    }
    uint64_t rng = splitmix(tr->seed) | 1;
    for (size_t i = 0; i < VD; i++) tr->syn0[i] = (unit24(rnd(&rng)) - 0.5f) / (float)tr->D;
    double thresh = o->sample * (double)v->total;
    for (int32_t i = 0; i < v->n; i++) {
        double f = (double)v->count[i];
        tr->keep[i] = thresh > 0 ? (float)((sqrt(f / thresh) + 1) * thresh / f) : 1.0f;
    }
    for (int i = 0; i <= EXP_TABLE; i++) {
        double x = exp(((double)i / EXP_TABLE * 2 - 1) * MAX_EXP);
        tr->exp_table[i] = (float)(x / (x + 1));
    }
    tr->V = v->n;
    tr->ids = c->ids;
    tr->starts = c->starts;
    tr->total = (uint64_t)tr->epochs * c->n_ids;
    atomic_init(&tr->done, 0);
    atomic_init(&tr->cancel, 0);
    atomic_init(&tr->running, T);
    /* contiguous ranges of texts with about the same number of words */
    size_t t0 = 0;
    for (int t = 0; t < T; t++) {
        size_t goal = (size_t)((double)c->n_ids * (t + 1) / T), t1 = t0;
        while (t1 < c->n_texts && (t == T - 1 || c->starts[t1 + 1] <= goal)) t1++;
        ws[t] = (worker){.tr = tr, .t = t, .lo = t0, .hi = t1};
        for (size_t k = t0; k < t1; k++) {
            size_t len = c->starts[k + 1] - c->starts[k];
            if (len > ws[t].max_len) ws[t].max_len = len;
        }
        t0 = t1;
    }
    int started = 0;
    for (; started < T; started++)
        if (pthread_create(&ws[started].th, NULL, train_worker, &ws[started]) != 0) break;
    if (started < T) {
        atomic_store(&tr->cancel, 1);
        atomic_fetch_sub(&tr->running, T - started);
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: cannot start %d threads", T);
    }
    while (atomic_load(&tr->running) > 0) {
        struct timespec ts = {0, 100 * 1000 * 1000};
        nanosleep(&ts, NULL);
        if (o->stop && *o->stop) atomic_store(&tr->cancel, 1);
        uint64_t done = atomic_load(&tr->done);
        if (o->progress) o->progress(o->ctx, "train", tr->total ? (double)done / tr->total : 1, done);
    }
    int failed = 0;
    for (int t = 0; t < started; t++) {
        pthread_join(ws[t].th, NULL);
        failed |= ws[t].failed;
    }
    free(ws);
    if (!rc && failed) rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory in a worker");
    if (!rc && o->stop && *o->stop) rc = lens_error_set(err, LENS_ECANCEL, "train-static: stopped while training");
    return rc;
}
