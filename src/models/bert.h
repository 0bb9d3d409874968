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

typedef struct lens_bert_config {
    int vocab_size, hidden, layers, heads, intermediate, max_positions, type_vocab;
    float ln_eps;
} lens_bert_config;

typedef struct lens_bert_layer {
    lens_linear qkv, attn_out, ffn_in, ffn_out;
    float *ln1_g, *ln1_b, *ln2_g, *ln2_b;
} lens_bert_layer;

typedef struct lens_bert {
    lens_bert_config cfg;
    lens_precision prec;
    lens_kernel kernel;
    float *word_emb, *pos_emb, *type_emb, *emb_ln_g, *emb_ln_b;
    lens_bert_layer *layer;
} lens_bert;

/* Scratch for one forward pass of up to max_tokens tokens, max_len per seq. */
typedef struct lens_bert_ws {
    int max_tokens, max_len;
    float *x, *qkv, *att, *ff;
    float *attn_scratch;
    size_t attn_stride;
    lens_linear_ws lin;
} lens_bert_ws;

int lens_bert_config_read(lens_bert_config *cfg, const char *config_json, lens_error *err);
int lens_bert_load(lens_bert *m, const lens_bert_config *cfg, const lens_safetensors *st,
                   lens_precision prec, lens_kernel kernel, lens_error *err);
void lens_bert_free(lens_bert *m);

int lens_bert_ws_init(lens_bert_ws *ws, const lens_bert *m, int max_tokens, int max_len,
                      int n_threads, lens_error *err);
void lens_bert_ws_free(lens_bert_ws *ws);

/* ids: T token ids; offs: n_seq + 1 row offsets (offs[n_seq] = T). The last
 * hidden states are left in ws->x [T, hidden]. */
void lens_bert_forward(const lens_bert *m, const int32_t *ids, const int32_t *offs, int n_seq,
                       lens_bert_ws *ws, lens_pool *pool);

#endif
