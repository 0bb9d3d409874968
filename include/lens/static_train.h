/* lens — training a static word-vector sentence model.
 *
 * Word vectors by skip-gram with negative sampling (word2vec), trained on
 * texts read with lens_reader, then SIF pooling parameters (Arora et al.
 * 2017): each word's probability and the first principal component of a
 * sample of the texts' vectors. The result is a directory lens_model_open
 * reads as a "lens-static" model.
 *
 * With threads = 1 the output is the same bytes for the same inputs, options
 * and binary. With more threads the workers update shared vectors without
 * locks (Hogwild, as word2vec does) and interleave differently on every
 * run, so the vectors differ from run to run: the quality does not (on the
 * Steam reviews, leave-one-out theme accuracy 0.425 with one thread, 0.424
 * with two). */
#ifndef LENS_STATIC_TRAIN_H
#define LENS_STATIC_TRAIN_H

#include <stdatomic.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_static_train_stats {
    uint64_t texts;         /* records read */
    uint64_t words;         /* words read */
    uint64_t train_words;   /* words in the vocabulary, per epoch */
    int32_t vocab;          /* vocabulary size */
    double read_s, train_s; /* seconds spent reading and training */
} lens_static_train_stats;

/* Zero means the default given on each field. */
typedef struct lens_static_train_opts {
    const char *const *inputs; /* .txt, .jsonl, .csv, optionally .zst */
    int n_inputs;
    const char *column; /* CSV text column; NULL: "text", else "review" */
    const char *field;  /* JSONL text field; NULL: "text" */
    const char *out_dir;
    int dim;           /* 128 */
    int epochs;        /* 5 */
    int window;        /* 5: up to this many words each side */
    int negative;      /* 5: negative samples per context word */
    int min_count;     /* 5 */
    int max_vocab;     /* 60000: most frequent words kept */
    int threads;       /* one per online CPU */
    uint64_t seed;     /* used as given (0 is a seed like any other) */
    double sample;     /* 1e-4: frequent-word subsampling threshold */
    double alpha;      /* 0.025: learning rate, decayed linearly to 0 */
    double sif_a;      /* 1e-3: SIF weight a / (a + p(w)) */
    int pc_texts;      /* 20000: texts sampled for the common component */
    /* Called from the calling thread a few times a second; phase is "read"
     * or "train", fraction in [0,1], words read or trained so far. */
    void (*progress)(void *ctx, const char *phase, double fraction, uint64_t words);
    void *ctx;
    atomic_int *stop;              /* non-NULL and set (any thread): stop with LENS_ECANCEL */
    lens_static_train_stats *stats; /* filled when non-NULL */
} lens_static_train_opts;

/* Trains and writes o->out_dir (config.json, vocab.txt, model.safetensors)
 * through a temporary directory renamed into place; an existing out_dir is
 * replaced only when it is empty or a lens-static model. */
LENS_API int lens_static_train(const lens_static_train_opts *o, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
