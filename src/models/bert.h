/* BERT encoder (embeddings + N post-LN transformer layers), internal.
 *
 * Runs on packed batches: the tokens of all sequences are rows of one
 * [T, hidden] matrix with no padding; sequence s is rows offs[s]..offs[s+1]-1.
 * This is exactly the padded-and-masked HF computation (masked keys get zero
 * softmax weight there), without computing the padding. */
#ifndef LENS_MODELS_BERT_H
#define LENS_MODELS_BERT_H

#include <stdint.h>

#include "io/safetensors.h"
#include "nn/linear.h"
#include "lens/error.h"
#include "lens/pool.h"

typedef struct lens__bert_config {
    int vocab_size, hidden, layers, heads, intermediate, max_positions, type_vocab;
    float ln_eps;
} lens__bert_config;

typedef struct lens__bert_layer {
    lens__linear qkv, attn_out, ffn_in, ffn_out;
    float *ln1_g, *ln1_b, *ln2_g, *ln2_b;
} lens__bert_layer;

typedef struct lens__bert {
    lens__bert_config cfg;
    lens_precision prec;
    lens__kernel kernel;
    float *word_emb, *pos_emb, *type_emb, *emb_ln_g, *emb_ln_b;
    lens__bert_layer *layer;
} lens__bert;

/* Scratch for one forward pass of up to max_tokens tokens, max_len per seq. */
typedef struct lens__bert_ws {
    int max_tokens, max_len;
    float *x, *qkv, *att, *ff;
    float *attn_scratch;
    size_t attn_stride;
    lens__linear_ws lin;
} lens__bert_ws;

int lens__bert_config_read(lens__bert_config *cfg, const char *config_json, lens_error *err);
int lens__bert_load(lens__bert *m, const lens__bert_config *cfg, const lens__safetensors *st,
                   lens_precision prec, lens__kernel kernel, lens_error *err);
void lens__bert_free(lens__bert *m);

int lens__bert_ws_init(lens__bert_ws *ws, const lens__bert *m, int max_tokens, int max_len,
                      int n_threads, lens_error *err);
void lens__bert_ws_free(lens__bert_ws *ws);

/* ids: T token ids; offs: n_seq + 1 row offsets (offs[n_seq] = T). The last
 * hidden states are left in ws->x [T, hidden]. */
void lens__bert_forward(const lens__bert *m, const int32_t *ids, const int32_t *offs, int n_seq,
                       lens__bert_ws *ws, lens_pool *pool);

#endif
