#include "vocab.h"

#include <stdlib.h>
#include <string.h>

#include "base/hash.h"

int lens__vocab_init(lens__vocab *v, int32_t n_ids, lens_error *err)
{
    memset(v, 0, sizeof *v);
    if (n_ids <= 0 || n_ids > (1 << 24))
        return lens_error_set(err, LENS_EFORMAT, "vocabulary size %d out of range", (int)n_ids);
    uint32_t n_slots = 1024;
    while (n_slots < (uint32_t)n_ids * 2u) n_slots <<= 1;
    v->tokens = calloc((size_t)n_ids, sizeof *v->tokens);
    v->lens = calloc((size_t)n_ids, sizeof *v->lens);
    v->slots = malloc(n_slots * sizeof *v->slots);
    if (!v->tokens || !v->lens || !v->slots) {
        lens__vocab_free(v);
        return lens_error_set(err, LENS_ENOMEM, "vocabulary: out of memory");
    }
    memset(v->slots, 0xff, n_slots * sizeof *v->slots);
    v->mask = n_slots - 1;
    v->n_ids = n_ids;
    return LENS_OK;
}

void lens__vocab_free(lens__vocab *v)
{
    if (v->tokens)
        for (int32_t i = 0; i < v->n_ids; i++) free(v->tokens[i]);
    free(v->tokens);
    free(v->lens);
    free(v->slots);
    memset(v, 0, sizeof *v);
}

static int32_t probe(const lens__vocab *v, uint32_t h, const char *prefix, size_t plen,
                     const char *s, size_t len, uint32_t *slot_out)
{
    for (uint32_t i = h & v->mask;; i = (i + 1) & v->mask) {
        int32_t id = v->slots[i];
        if (id < 0) {
            if (slot_out) *slot_out = i;
            return -1;
        }
        const char *t = v->tokens[id];
        if (v->lens[id] == plen + len && memcmp(t, prefix, plen) == 0 &&
            memcmp(t + plen, s, len) == 0)
            return id;
    }
}

int32_t lens__vocab_find(const lens__vocab *v, const char *prefix, size_t plen, const char *s,
                        size_t len)
{
    if (plen + len > v->max_token_len) return -1;
    uint32_t h = lens__hash_fold32(lens__hash_bytes(lens__hash_bytes(LENS__HASH_INIT, prefix, plen), s, len));
    return probe(v, h, prefix ? prefix : "", plen, s, len, NULL);
}

int lens__vocab_add(lens__vocab *v, const char *tok, size_t len, int32_t id, lens_error *err)
{
    if (id < 0 || id >= v->n_ids)
        return lens_error_set(err, LENS_EFORMAT, "token id %d out of range 0..%d", (int)id,
                              (int)v->n_ids - 1);
    if (memchr(tok, '\0', len))
        return lens_error_set(err, LENS_EFORMAT, "token id %d contains a NUL byte", (int)id);
    if (v->tokens[id])
        return lens_error_set(err, LENS_EFORMAT, "token id %d assigned twice", (int)id);
    uint32_t slot;
    size_t saved = v->max_token_len;
    v->max_token_len = (size_t)-1; /* let probe compare any length */
    int32_t existing = probe(v, lens__hash_fold32(lens__hash_bytes(LENS__HASH_INIT, tok, len)), "", 0, tok, len, &slot);
    v->max_token_len = saved;
    char *copy = malloc(len + 1);
    if (!copy) return lens_error_set(err, LENS_ENOMEM, "vocabulary: out of memory");
    memcpy(copy, tok, len);
    copy[len] = '\0';
    v->tokens[id] = copy;
    v->lens[id] = (uint32_t)len;
    if (existing < 0) v->slots[slot] = id;
    if (len > v->max_token_len) v->max_token_len = len;
    return LENS_OK;
}
