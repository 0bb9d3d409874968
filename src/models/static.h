/* Static word-vector sentence model (internal): a directory with
 *
 *   config.json        {"model_type": "lens-static", "dim": D, "sif_a": 0.001, ...}
 *   vocab.txt          one word per line, line i is id i
 *   model.safetensors  "vectors" [V, D] (F16 or F32), "word_prob" [V] F32,
 *                      "common_component" [D] F32
 *
 * A text's vector is the SIF embedding of Arora et al. (2017): the average
 * of its known words' vectors weighted a / (a + p(w)), minus its projection
 * on the common component, L2-normalised. Texts without a known word get
 * all zeros. */
#ifndef LENS_MODELS_STATIC_H
#define LENS_MODELS_STATIC_H

#include <stddef.h>
#include <stdint.h>

#include "text/vocab.h"
#include "text/words.h"
#include "lens/error.h"
#include "lens/pool.h"

typedef struct lens__static {
    int dim;
    int32_t n_words;
    float sif_a;
    float *vectors; /* [n_words][dim] */
    float *weight;  /* [n_words] a / (a + p(w)) */
    float *common;  /* [dim], unit length or zero */
    lens__vocab vocab;
} lens__static;

/* 1 when dir/config.json says "model_type": "lens-static". */
int lens__static_detect(const char *dir);
int lens__static_open(lens__static **out, const char *dir, lens_error *err);
void lens__static_close(lens__static *s);

/* SIF pooling of known word ids into out[dim]: weighted mean, minus the
 * projection on common (may be NULL), L2-normalised. Shared by the loader
 * and the trainer so both compute the same vectors. Returns 0 (and zeros)
 * when n is 0 or the pooled vector is zero; the encoder then gives the
 * model's fixed "unknown" unit vector (static.c). acc is scratch of dim
 * doubles. */
int lens__static_pool_ids(const float *vectors, const float *weight, const float *common, int dim,
                         const int32_t *ids, size_t n, double *acc, float *out);

/* Per-encoder state: one scratch per pool thread, so embedding allocates
 * nothing per text after warm-up. */
typedef struct lens__static_enc lens__static_enc;

int lens__static_enc_new(lens__static_enc **out, const lens__static *s, int n_threads,
                        lens_error *err);
void lens__static_enc_free(lens__static_enc *e);
/* Embeds n texts into out[n * dim] on pool; adds word counts to *tokens. */
int lens__static_enc_embed(lens__static_enc *e, lens_pool *pool, const char *const *texts,
                          const size_t *lens, size_t n, float *out, uint64_t *tokens,
                          lens_error *err);
/* Texts embedded as zeros (no known word) since the encoder was made. */
uint64_t lens__static_enc_empty(const lens__static_enc *e);

#endif
