/* lens_static_train: skip-gram with negative sampling (word2vec) plus SIF
 * parameters, written as a lens-static model directory. */
#include "lens/static_train.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../base/buf.h"
#include "../base/clock.h"
#include "../base/fs.h"
#include "../base/hash.h"
#include "../text/words.h"
#include "lens/io.h"
#include "static.h"

#define EXP_TABLE 1024
#define MAX_EXP 6.0f
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

/* ---------------------------------------------------------------- counting */

typedef struct {
    uint64_t off;   /* into arena */
    uint32_t len;
    uint32_t hash;
    uint64_t count;
} entry;

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    entry *ents;    /* by provisional id, first-seen order */
    uint32_t n_ents, ents_cap;
    int32_t *slots; /* -1 empty, else provisional id */
    uint32_t mask;
    /* the corpus as provisional ids, and where each text starts */
    uint32_t *ids;
    size_t n_ids, ids_cap;
    uint64_t *starts;
    size_t n_texts, starts_cap;
} corpus;

static int rehash(corpus *c, uint32_t n_slots)
{
    int32_t *slots = malloc((size_t)n_slots * sizeof *slots);
    if (!slots) return -1;
    memset(slots, 0xff, (size_t)n_slots * sizeof *slots);
    for (uint32_t id = 0; id < c->n_ents; id++) {
        uint32_t i = c->ents[id].hash & (n_slots - 1);
        while (slots[i] >= 0) i = (i + 1) & (n_slots - 1);
        slots[i] = (int32_t)id;
    }
    free(c->slots);
    c->slots = slots;
    c->mask = n_slots - 1;
    return 0;
}

/* Provisional id of a word, added with count 0 when new; -1 when out of memory. */
static int64_t intern(corpus *c, const char *w, size_t n)
{
    uint32_t h = lens_hash_fold32(lens_hash_bytes(LENS_HASH_INIT, w, n)), i = h & c->mask;
    for (int32_t id; (id = c->slots[i]) >= 0; i = (i + 1) & c->mask) {
        const entry *e = &c->ents[id];
        if (e->hash == h && e->len == n && memcmp(c->arena + e->off, w, n) == 0) return id;
    }
    if (c->n_ents >= INT32_MAX - 1) return -1;
    size_t cap = c->ents_cap;
    if (lens_grow((void **)&c->ents, &cap, (size_t)c->n_ents + 1, sizeof *c->ents) ||
        lens_grow((void **)&c->arena, &c->arena_cap, c->arena_len + n, 1))
        return -1;
    c->ents_cap = (uint32_t)cap;
    memcpy(c->arena + c->arena_len, w, n);
    c->ents[c->n_ents] = (entry){.off = c->arena_len, .len = (uint32_t)n, .hash = h, .count = 0};
    c->arena_len += n;
    c->slots[i] = (int32_t)c->n_ents;
    uint32_t id = c->n_ents++;
    if ((uint64_t)c->n_ents * 2 > (uint64_t)c->mask + 1 && rehash(c, (c->mask + 1) * 2)) return -1;
    return id;
}

static void corpus_free(corpus *c)
{
    free(c->arena);
    free(c->ents);
    free(c->slots);
    free(c->ids);
    free(c->starts);
}

static int read_inputs(const lens_static_train_opts *o, corpus *c, lens_static_train_stats *st,
                       lens_error *err)
{
    lens_reader_opts ro = {.field = o->field, .column = o->column};
    lens_words w;
    lens_words_init(&w);
    int rc = LENS_OK;
    double last = 0;
    uint64_t words = 0;
    for (int f = 0; f < o->n_inputs && !rc; f++) {
        lens_reader *rd = NULL;
        if ((rc = lens_reader_open(&rd, o->inputs[f], &ro, err))) break;
        for (;;) {
            const char *text, *id;
            size_t len;
            int r = lens_reader_next(rd, &text, &len, &id, err);
            if (r < 0) rc = r;
            if (r <= 0) break;
            if (lens_words_split(&w, text, len) ||
                lens_grow((void **)&c->ids, &c->ids_cap, c->n_ids + w.n, sizeof *c->ids) ||
                lens_grow((void **)&c->starts, &c->starts_cap, c->n_texts + 2, sizeof *c->starts)) {
                rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory after %llu words", o->inputs[f],
                                    (unsigned long long)words);
                break;
            }
            c->starts[c->n_texts++] = c->n_ids;
            for (size_t i = 0; i < w.n; i++) {
                size_t wl;
                const char *s = lens_words_at(&w, i, &wl);
                int64_t pid = intern(c, s, wl);
                if (pid < 0) {
                    rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory after %llu words",
                                        o->inputs[f], (unsigned long long)words);
                    break;
                }
                c->ents[pid].count++;
                c->ids[c->n_ids++] = (uint32_t)pid;
            }
            words += w.n;
            if (rc) break;
            if ((c->n_texts & 1023) == 0) {
                if (o->stop && *o->stop) {
                    rc = lens_error_set(err, LENS_ECANCEL, "train-static: stopped while reading %s",
                                        o->inputs[f]);
                    break;
                }
                double t = lens_clock_mono();
                if (o->progress && t - last > 0.2) {
                    last = t;
                    uint64_t size = lens_reader_size(rd);
                    double frac = size ? (double)lens_reader_offset(rd) / size : 0;
                    o->progress(o->ctx, "read", (f + frac) / o->n_inputs, words);
                }
            }
        }
        lens_reader_close(rd);
    }
    if (!rc) c->starts[c->n_texts] = c->n_ids;
    st->texts = c->n_texts;
    st->words = words;
    lens_words_free(&w);
    return rc;
}

/* ---------------------------------------------------------------- vocab */

typedef struct {
    uint64_t count;
    const char *s;
    uint32_t len, pid;
} ranked;

/* most frequent first; ties by bytes, so the order never depends on hashing */
static int by_count(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->count != b->count) return a->count > b->count ? -1 : 1;
    size_t n = a->len < b->len ? a->len : b->len;
    int r = memcmp(a->s, b->s, n);
    return r ? r : (a->len > b->len) - (a->len < b->len);
}

typedef struct {
    int32_t n;
    uint32_t *pid;    /* [n] provisional id of each word */
    uint64_t *count;  /* [n] */
    uint64_t total;   /* sum of count */
} vocab;

/* Keeps the max_vocab most frequent words seen >= min_count times and
 * rewrites the corpus in place to their ids, dropping the others. */
static int build_vocab(corpus *c, int min_count, int max_vocab, vocab *v, lens_error *err)
{
    ranked *r = malloc(((size_t)c->n_ents + 1) * sizeof *r);
    int32_t *map = malloc(((size_t)c->n_ents + 1) * sizeof *map);
    if (!r || !map) {
        free(r);
        free(map);
        return lens_error_set(err, LENS_ENOMEM, "train-static: out of memory ranking %u words", c->n_ents);
    }
    size_t n = 0;
    for (uint32_t i = 0; i < c->n_ents; i++) {
        map[i] = -1;
        if (c->ents[i].count >= (uint64_t)min_count)
            r[n++] = (ranked){c->ents[i].count, c->arena + c->ents[i].off, c->ents[i].len, i};
    }
    qsort(r, n, sizeof *r, by_count);
    if (n > (size_t)max_vocab) n = (size_t)max_vocab;
    v->n = (int32_t)n;
    v->pid = malloc((n + 1) * sizeof *v->pid);
    v->count = malloc((n + 1) * sizeof *v->count);
    if (!v->pid || !v->count) {
        free(r);
        free(map);
        return lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
    }
    v->total = 0;
    for (size_t i = 0; i < n; i++) {
        v->pid[i] = r[i].pid;
        v->count[i] = r[i].count;
        v->total += r[i].count;
        map[r[i].pid] = (int32_t)i;
    }
    size_t out = 0;
    for (size_t t = 0; t < c->n_texts; t++) {
        size_t lo = c->starts[t], hi = c->starts[t + 1];
        c->starts[t] = out;
        for (size_t i = lo; i < hi; i++)
            if (map[c->ids[i]] >= 0) c->ids[out++] = (uint32_t)map[c->ids[i]];
    }
    c->starts[c->n_texts] = out;
    c->n_ids = out;
    free(r);
    free(map);
    return LENS_OK;
}

/* ---------------------------------------------------------------- training */

typedef struct {
    int D, window, negative, epochs, T;
    float alpha0;
    int32_t V;
    const uint32_t *ids;
    const uint64_t *starts;
    float *syn0, *syn1;
    /* negatives ~ count^0.75 by Walker's alias method: V entries that stay
     * in cache, where word2vec's 1e8-slot table misses it on every draw */
    struct alias_ent { float p; int32_t other; } *alias;
    float *keep; /* [V] probability of keeping a word (may exceed 1) */
    float exp_table[EXP_TABLE + 1];
    uint64_t total; /* epochs * words per epoch */
    uint64_t seed;
    atomic_uint_fast64_t done;
    atomic_int cancel, running;
} trainer;

typedef struct {
    trainer *tr;
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

/* Skip-gram updates for one (subsampled) text: word2vec's inner loop. */
static void skipgram(trainer *tr, const uint32_t *sen, size_t n, float *neu1e, float alpha, uint64_t *rngp)
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
    trainer *tr = w->tr;
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
static int make_alias(trainer *tr, const vocab *v)
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

static int train(const lens_static_train_opts *o, trainer *tr, const corpus *c, const vocab *v,
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

/* ---------------------------------------------------------------- SIF */

/* IEEE half, round to nearest even */
static uint16_t f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xFF, m = x & 0x7FFFFF;
    if (e == 0xFF) return (uint16_t)(sign | 0x7C00 | (m ? 0x200 : 0));
    int ee = (int)e - 127 + 15;
    if (ee >= 31) return (uint16_t)(sign | 0x7C00);
    if (ee <= 0) {
        if (ee < -10) return (uint16_t)sign;
        m |= 0x800000;
        int shift = 14 - ee;
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)ee << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* may carry into the exponent: fine */
    return (uint16_t)(sign | h);
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF, x;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return sign ? -f : f;
    }
    if (e == 31) x = sign | 0x7F800000 | (m << 13);
    else x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* First principal direction (uncentred, as Arora et al.) of the SIF vectors
 * of up to k texts spread evenly over the corpus, by power iteration. */
static int common_component(const corpus *c, const float *vec, const float *weight, int D, int k,
                            float *u, int *used)
{
    double *C = calloc((size_t)D * D, sizeof *C), *acc = malloc((size_t)D * sizeof *acc);
    double *v = malloc((size_t)D * sizeof *v), *nv = malloc((size_t)D * sizeof *nv);
    float *x = malloc((size_t)D * sizeof *x);
    if (!C || !acc || !v || !nv || !x) {
        free(C); free(acc); free(v); free(nv); free(x);
        return -1;
    }
    size_t m = 0;
    for (size_t t = 0; t < c->n_texts; t++) m += c->starts[t + 1] > c->starts[t];
    size_t want = (size_t)k < m ? (size_t)k : m, j = 0, seen = 0;
    for (size_t t = 0; t < c->n_texts && j < want; t++) {
        size_t lo = c->starts[t], n = c->starts[t + 1] - lo;
        if (!n) continue;
        if (seen++ != j * m / want) continue;
        j++;
        lens_static_pool_ids(vec, weight, NULL, D, (const int32_t *)(c->ids + lo), n, acc, x);
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++) C[(size_t)a * D + b] += (double)x[a] * x[b];
    }
    *used = (int)j;
    for (int a = 0; a < D; a++) v[a] = 1.0 / sqrt((double)D);
    for (int it = 0; it < 1000 && j; it++) {
        double ss = 0, diff = 0;
        for (int a = 0; a < D; a++) {
            double s = 0;
            for (int b = 0; b < D; b++) s += C[(size_t)a * D + b] * v[b];
            nv[a] = s;
            ss += s * s;
        }
        if (ss <= 0) break;
        for (int a = 0; a < D; a++) {
            nv[a] /= sqrt(ss);
            diff += fabs(nv[a] - v[a]);
            v[a] = nv[a];
        }
        if (diff < 1e-12) break;
    }
    int big = 0;
    for (int a = 1; a < D; a++)
        if (fabs(v[a]) > fabs(v[big])) big = a;
    double sgn = v[big] < 0 ? -1 : 1; /* a fixed sign, so reruns agree */
    for (int a = 0; a < D; a++) u[a] = j ? (float)(sgn * v[a]) : 0.0f;
    free(C); free(acc); free(v); free(nv); free(x);
    return 0;
}

/* ---------------------------------------------------------------- writing */

static int put_u64le(FILE *f, uint64_t x)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(x >> (8 * i));
    return fwrite(b, 1, 8, f) == 8 ? 0 : -1;
}

static int put_f32le(FILE *f, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                              (unsigned char)(u >> 24)};
        if (fwrite(b, 1, 4, f) != 4) return -1;
    }
    return 0;
}

static int write_safetensors(const char *path, const uint16_t *vec16, const float *prob,
                             const float *common, int32_t V, int D, lens_error *err)
{
    uint64_t nv = (uint64_t)V * D * 2, np = (uint64_t)V * 4, nc = (uint64_t)D * 4;
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr,
                     "{\"__metadata__\":{\"format\":\"lens-static\"},"
                     "\"vectors\":{\"dtype\":\"F16\",\"shape\":[%d,%d],\"data_offsets\":[0,%llu]},"
                     "\"word_prob\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]},"
                     "\"common_component\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}}",
                     (int)V, D, (unsigned long long)nv, (int)V, (unsigned long long)nv,
                     (unsigned long long)(nv + np), D, (unsigned long long)(nv + np),
                     (unsigned long long)(nv + np + nc));
    while (n % 8) hdr[n++] = ' '; /* the data starts 8-byte aligned */
    FILE *f = fopen(path, "wb");
    if (!f) return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    int bad = put_u64le(f, (uint64_t)n) || fwrite(hdr, 1, (size_t)n, f) != (size_t)n;
    for (size_t i = 0; !bad && i < (size_t)V * D; i++) {
        unsigned char b[2] = {(unsigned char)vec16[i], (unsigned char)(vec16[i] >> 8)};
        bad = fwrite(b, 1, 2, f) != 2;
    }
    bad = bad || put_f32le(f, prob, (size_t)V) || put_f32le(f, common, (size_t)D);
    if (fclose(f) != 0 || bad) return lens_error_set(err, LENS_EIO, "%s: write failed", path);
    return LENS_OK;
}

static int write_vocab(const char *path, const corpus *c, const vocab *v, lens_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    int bad = 0;
    for (int32_t i = 0; i < v->n && !bad; i++) {
        const entry *e = &c->ents[v->pid[i]];
        bad = fwrite(c->arena + e->off, 1, e->len, f) != e->len || fputc('\n', f) == EOF;
    }
    if (fclose(f) != 0 || bad) return lens_error_set(err, LENS_EIO, "%s: write failed", path);
    return LENS_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int write_config(const char *path, const lens_static_train_opts *o, const trainer *tr,
                        const vocab *v, const lens_static_train_stats *st, int pc_used,
                        lens_error *err)
{
    json_t *train = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:i, s:I, s:I, s:I, s:i}",
                              "method", "skip-gram, negative sampling", "epochs", tr->epochs,
                              "window", tr->window, "negative", tr->negative, "min_count", o->min_count,
                              "max_vocab", o->max_vocab, "sample", o->sample, "alpha", o->alpha,
                              "seed", (json_int_t)o->seed, "threads", tr->T,
                              "texts", (json_int_t)st->texts, "words", (json_int_t)st->words,
                              "words_in_vocab", (json_int_t)v->total, "common_component_texts", pc_used);
    json_t *inputs = json_array();
    for (int i = 0; inputs && i < o->n_inputs; i++) json_array_append_new(inputs, json_string(base_name(o->inputs[i])));
    json_t *root = json_pack("{s:s, s:i, s:f, s:i, s:s, s:s, s:o, s:o}", "model_type", "lens-static",
                             "dim", tr->D, "sif_a", o->sif_a, "vocab_size", (int)v->n,
                             "vectors_dtype", "F16", "tokenizer",
                             "BERT BasicTokenizer words: lowercase, NFD, no accents, split on "
                             "whitespace and punctuation",
                             "inputs", inputs, "training", train);
    FILE *f = root ? fopen(path, "wb") : NULL;
    int bad = !f || json_dumpf(root, f, JSON_INDENT(2) | JSON_REAL_PRECISION(10)) != 0 || fputc('\n', f) == EOF;
    if (f && fclose(f) != 0) bad = 1;
    json_decref(root);
    return bad ? lens_error_set(err, LENS_EIO, "%s: write failed", path) : LENS_OK;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

/* An existing out_dir may be replaced only when it holds nothing of value. */
static int check_out_dir(const char *dir, lens_error *err)
{
    if (!lens_is_dir(dir)) {
        struct stat st;
        if (stat(dir, &st) == 0) return lens_error_set(err, LENS_EINVAL, "%s exists and is not a directory", dir);
        return LENS_OK;
    }
    if (dir_is_empty(dir) || lens_static_detect(dir)) return LENS_OK;
    return lens_error_set(err, LENS_EINVAL,
                          "%s exists and is not a lens-static model; remove it or choose another -o", dir);
}

static int install(const char *tmp, const char *dir, lens_error *err)
{
    int rc = check_out_dir(dir, err);
    if (rc) return rc;
    char old[4300];
    snprintf(old, sizeof old, "%s.old-%ld", dir, (long)getpid());
    int had = lens_is_dir(dir);
    if (had && rename(dir, old) != 0)
        return lens_error_set(err, LENS_EIO, "rename %s -> %s: %s", dir, old, strerror(errno));
    if (rename(tmp, dir) != 0) {
        rc = lens_error_set(err, LENS_EIO, "rename %s -> %s: %s", tmp, dir, strerror(errno));
        if (had) rename(old, dir);
        return rc;
    }
    return had ? lens_rmtree(old, err) : LENS_OK;
}

/* ---------------------------------------------------------------- entry */

int lens_static_train(const lens_static_train_opts *oin, lens_error *err)
{
    lens_static_train_opts o = *oin;
    if (!o.out_dir || !*o.out_dir) return lens_error_set(err, LENS_EINVAL, "train-static: no output directory");
    if (o.n_inputs < 1) return lens_error_set(err, LENS_EINVAL, "train-static: no input files");
    if (!o.dim) o.dim = 128;
    if (!o.epochs) o.epochs = 5;
    if (!o.window) o.window = 5;
    if (!o.negative) o.negative = 5;
    if (!o.min_count) o.min_count = 5;
    if (!o.max_vocab) o.max_vocab = 60000;
    if (!o.sample) o.sample = 1e-4;
    if (!o.alpha) o.alpha = 0.025;
    if (!o.sif_a) o.sif_a = 1e-3;
    if (!o.pc_texts) o.pc_texts = 20000;
    if (o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (int)n : 1;
    }
    if (o.dim < 1 || o.dim > 4096 || o.epochs < 1 || o.window < 1 || o.negative < 0 || o.min_count < 1 ||
        o.max_vocab < 1 || o.threads > 1024 || o.sample < 0 || o.alpha < 0 || o.sif_a < 0 || o.pc_texts < 0)
        return lens_error_set(err, LENS_EINVAL, "train-static: an option is out of range");
    int rc = check_out_dir(o.out_dir, err);
    if (rc) return rc;

    lens_static_train_stats st = {0};
    corpus c = {0};
    vocab v = {0};
    trainer tr = {.D = o.dim, .window = o.window, .negative = o.negative, .epochs = o.epochs,
                  .T = o.threads, .alpha0 = (float)o.alpha, .seed = o.seed};
    uint16_t *vec16 = NULL;
    float *vec = NULL, *prob = NULL, *weight = NULL, *common = NULL;
    char tmp[4300], path[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", o.out_dir, (long)getpid());
    int made_tmp = 0;

    double t0 = lens_clock_mono();
    if (rehash(&c, 1 << 16)) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }
    if ((rc = read_inputs(&o, &c, &st, err))) goto out;
    st.read_s = lens_clock_mono() - t0;
    if ((rc = build_vocab(&c, o.min_count, o.max_vocab, &v, err))) goto out;
    if (v.n < 2) {
        rc = lens_error_set(err, LENS_EINVAL,
                            "train-static: only %d word%s seen %d or more times in %llu words; need 2",
                            (int)v.n, v.n == 1 ? "" : "s", o.min_count, (unsigned long long)st.words);
        goto out;
    }
    st.vocab = v.n;
    st.train_words = c.n_ids;
    t0 = lens_clock_mono();
    if ((rc = train(&o, &tr, &c, &v, err))) goto out;
    st.train_s = lens_clock_mono() - t0;

    /* the loader sees F16 vectors: compute the SIF component from those */
    size_t VD = (size_t)v.n * o.dim;
    vec16 = malloc(VD * sizeof *vec16);
    vec = malloc(VD * sizeof *vec);
    prob = malloc((size_t)v.n * sizeof *prob);
    weight = malloc((size_t)v.n * sizeof *weight);
    common = malloc((size_t)o.dim * sizeof *common);
    if (!vec16 || !vec || !prob || !weight || !common) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }
    for (size_t i = 0; i < VD; i++) vec[i] = f16_to_f32(vec16[i] = f32_to_f16(tr.syn0[i]));
    float a = (float)o.sif_a;
    for (int32_t i = 0; i < v.n; i++) {
        prob[i] = (float)((double)v.count[i] / (double)v.total);
        weight[i] = a / (a + prob[i]); /* as the loader computes it */
    }
    int pc_used = 0;
    if (common_component(&c, vec, weight, o.dim, o.pc_texts, common, &pc_used)) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }

    if ((rc = lens_rmtree(tmp, err)) || (rc = lens_mkdirs(tmp, err))) goto out;
    made_tmp = 1;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    if ((rc = write_safetensors(path, vec16, prob, common, v.n, o.dim, err))) goto out;
    snprintf(path, sizeof path, "%s/vocab.txt", tmp);
    if ((rc = write_vocab(path, &c, &v, err))) goto out;
    snprintf(path, sizeof path, "%s/config.json", tmp);
    if ((rc = write_config(path, &o, &tr, &v, &st, pc_used, err))) goto out;
    if ((rc = install(tmp, o.out_dir, err))) goto out;
    made_tmp = 0;
    if (o.stats) *o.stats = st;
out:
    if (made_tmp) {
        lens_error e2;
        lens_rmtree(tmp, &e2);
    }
    free(vec16); free(vec); free(prob); free(weight); free(common);
    free(tr.syn0); free(tr.syn1); free(tr.alias); free(tr.keep);
    free(v.pid); free(v.count);
    corpus_free(&c);
    return rc;
}
