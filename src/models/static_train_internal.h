/* lens_static_train's stages (internal): reading the texts into a corpus
 * of word ids and choosing the vocabulary (static_corpus.c), then training
 * the vectors by skip-gram with negative sampling (static_sgns.c);
 * static_train.c runs them, derives the SIF parameters and writes the
 * model directory. */
#ifndef LENS_MODELS_STATIC_TRAIN_INTERNAL_H
#define LENS_MODELS_STATIC_TRAIN_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/static_train.h"

#define EXP_TABLE 1024
#define MAX_EXP 6.0f

/* ---- the corpus: every distinct word once, the texts as ids */

typedef struct {
    uint64_t off;   /* into arena */
    uint32_t len;
    uint32_t hash;
    uint64_t count;
} w2v_entry;

typedef struct {
    char *arena;
    size_t arena_len, arena_cap;
    w2v_entry *ents; /* by provisional id, first-seen order */
    uint32_t n_ents, ents_cap;
    int32_t *slots; /* -1 empty, else provisional id */
    uint32_t mask;
    /* the corpus as provisional ids, and where each text starts */
    uint32_t *ids;
    size_t n_ids, ids_cap;
    uint64_t *starts;
    size_t n_texts, starts_cap;
} w2v_corpus;

/* An empty corpus with room for its first words; -1 when out of memory. */
int lens__w2v_corpus_init(w2v_corpus *c);
/* Reads every input into c (words by lens__words_split), counting words. */
int lens__w2v_read_inputs(const lens_static_train_opts *o, w2v_corpus *c, lens_static_train_stats *st,
                    lens_error *err);
void lens__w2v_corpus_free(w2v_corpus *c);

typedef struct {
    int32_t n;
    uint32_t *pid;    /* [n] provisional id of each word */
    uint64_t *count;  /* [n] */
    uint64_t total;   /* sum of count */
} w2v_vocab;

/* Keeps the max_vocab most frequent words seen >= min_count times and
 * rewrites the corpus in place to their ids, dropping the others. */
int lens__w2v_build_vocab(w2v_corpus *c, int min_count, int max_vocab, w2v_vocab *v, lens_error *err);

/* ---- training */

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
} w2v_trainer;

/* Trains tr->syn0 (the word vectors) on c with o->threads workers,
 * reporting progress and honouring o->stop. */
int lens__w2v_train(const lens_static_train_opts *o, w2v_trainer *tr, const w2v_corpus *c, const w2v_vocab *v,
              lens_error *err);

#endif
