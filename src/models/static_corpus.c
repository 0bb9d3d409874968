/* The corpus of lens_static_train: the input texts as word ids, every
 * distinct word counted once in an open-addressing table, and the
 * vocabulary of the most frequent ones (see static_train_internal.h). */
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/hash.h"
#include "text/words.h"
#include "lens/io.h"
#include "static_train_internal.h"

static int rehash(w2v_corpus *c, uint32_t n_slots)
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

int lens__w2v_corpus_init(w2v_corpus *c)
{
    memset(c, 0, sizeof *c);
    return rehash(c, 1 << 16);
}

/* Provisional id of a word, added with count 0 when new; -1 when out of memory. */
static int64_t intern(w2v_corpus *c, const char *w, size_t n)
{
    uint32_t h = lens__hash_fold32(lens__hash_bytes(LENS__HASH_INIT, w, n)), i = h & c->mask;
    for (int32_t id; (id = c->slots[i]) >= 0; i = (i + 1) & c->mask) {
        const w2v_entry *e = &c->ents[id];
        if (e->hash == h && e->len == n && memcmp(c->arena + e->off, w, n) == 0) return id;
    }
    if (c->n_ents >= INT32_MAX - 1) return -1;
    size_t cap = c->ents_cap;
    if (lens__grow((void **)&c->ents, &cap, (size_t)c->n_ents + 1, sizeof *c->ents) ||
        lens__grow((void **)&c->arena, &c->arena_cap, c->arena_len + n, 1))
        return -1;
    c->ents_cap = (uint32_t)cap;
    memcpy(c->arena + c->arena_len, w, n);
    c->ents[c->n_ents] = (w2v_entry){.off = c->arena_len, .len = (uint32_t)n, .hash = h, .count = 0};
    c->arena_len += n;
    c->slots[i] = (int32_t)c->n_ents;
    uint32_t id = c->n_ents++;
    if ((uint64_t)c->n_ents * 2 > (uint64_t)c->mask + 1 && rehash(c, (c->mask + 1) * 2)) return -1;
    return id;
}

void lens__w2v_corpus_free(w2v_corpus *c)
{
    free(c->arena);
    free(c->ents);
    free(c->slots);
    free(c->ids);
    free(c->starts);
}

int lens__w2v_read_inputs(const lens_static_train_opts *o, w2v_corpus *c, lens_static_train_stats *st,
                    lens_error *err)
{
    lens_reader_opts ro = {.field = o->field, .column = o->column};
    lens__words w;
    lens__words_init(&w);
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
            if (lens__words_split(&w, text, len) ||
                lens__grow((void **)&c->ids, &c->ids_cap, c->n_ids + w.n, sizeof *c->ids) ||
                lens__grow((void **)&c->starts, &c->starts_cap, c->n_texts + 2, sizeof *c->starts)) {
                rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory after %llu words", o->inputs[f],
                                    (unsigned long long)words);
                break;
            }
            c->starts[c->n_texts++] = c->n_ids;
            for (size_t i = 0; i < w.n; i++) {
                size_t wl;
                const char *s = lens__words_at(&w, i, &wl);
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
                double t = lens__clock_mono();
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
    lens__words_free(&w);
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

/* Keeps the max_vocab most frequent words seen >= min_count times and
 * rewrites the corpus in place to their ids, dropping the others. */
int lens__w2v_build_vocab(w2v_corpus *c, int min_count, int max_vocab, w2v_vocab *v, lens_error *err)
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
