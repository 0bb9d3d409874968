/* An LRU cache of text -> embedding (see server_internal.h): a hash table
 * of entries on a doubly linked recency list, one lock. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "base/hash.h"
#include "server_internal.h"

typedef struct entry {
    uint64_t hash;
    char *text;
    size_t len;
    float *emb;
    struct entry *prev, *next, *chain;
} entry;

struct lens__cache {
    pthread_mutex_t mu;
    int capacity, dim, n;
    entry **table;
    size_t buckets;
    entry head; /* head.next: most recent; head.prev: least */
};

lens__cache *lens__cache_new(int capacity, int dim)
{
    if (capacity <= 0) return NULL;
    lens__cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->capacity = capacity;
    c->dim = dim;
    c->buckets = 1;
    while (c->buckets < (size_t)capacity * 2) c->buckets <<= 1;
    c->table = calloc(c->buckets, sizeof *c->table);
    if (!c->table) {
        free(c);
        return NULL;
    }
    c->head.next = c->head.prev = &c->head;
    pthread_mutex_init(&c->mu, NULL);
    return c;
}

void lens__cache_free(lens__cache *c)
{
    if (!c) return;
    for (entry *e = c->head.next; e != &c->head;) {
        entry *n = e->next;
        free(e->text);
        free(e->emb);
        free(e);
        e = n;
    }
    free(c->table);
    pthread_mutex_destroy(&c->mu);
    free(c);
}

static void unlink_lru(entry *e)
{
    e->prev->next = e->next;
    e->next->prev = e->prev;
}

static void push_front(lens__cache *c, entry *e)
{
    e->next = c->head.next;
    e->prev = &c->head;
    c->head.next->prev = e;
    c->head.next = e;
}

static entry **slot(lens__cache *c, uint64_t h, const char *text, size_t len)
{
    entry **p = &c->table[h & (c->buckets - 1)];
    while (*p && !((*p)->hash == h && (*p)->len == len && !memcmp((*p)->text, text, len))) p = &(*p)->chain;
    return p;
}

int lens__cache_get(lens__cache *c, const char *text, size_t len, float *out)
{
    if (!c) return 0;
    uint64_t h = lens__hash_bytes(LENS__HASH_INIT, text, len);
    pthread_mutex_lock(&c->mu);
    entry *e = *slot(c, h, text, len);
    if (e) {
        memcpy(out, e->emb, (size_t)c->dim * sizeof *out);
        unlink_lru(e);
        push_front(c, e);
    }
    pthread_mutex_unlock(&c->mu);
    return e != NULL;
}

void lens__cache_put(lens__cache *c, const char *text, size_t len, const float *emb)
{
    if (!c) return;
    uint64_t h = lens__hash_bytes(LENS__HASH_INIT, text, len);
    pthread_mutex_lock(&c->mu);
    entry **p = slot(c, h, text, len);
    if (*p) {
        pthread_mutex_unlock(&c->mu);
        return;
    }
    entry *e = calloc(1, sizeof *e);
    if (e) {
        e->text = malloc(len ? len : 1);
        e->emb = malloc((size_t)c->dim * sizeof *e->emb);
    }
    if (!e || !e->text || !e->emb) { /* a cache that cannot grow just misses */
        if (e) {
            free(e->text);
            free(e->emb);
        }
        free(e);
        pthread_mutex_unlock(&c->mu);
        return;
    }
    memcpy(e->text, text, len);
    memcpy(e->emb, emb, (size_t)c->dim * sizeof *emb);
    e->len = len;
    e->hash = h;
    *p = e;
    push_front(c, e);
    if (++c->n > c->capacity) { /* evict the least recent */
        entry *old = c->head.prev;
        unlink_lru(old);
        entry **q = slot(c, old->hash, old->text, old->len);
        *q = old->chain;
        free(old->text);
        free(old->emb);
        free(old);
        c->n--;
    }
    pthread_mutex_unlock(&c->mu);
}
