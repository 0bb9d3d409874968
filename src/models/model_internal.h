/* The parts of lens_model the encoder reads (internal). */
#ifndef LENS_MODELS_MODEL_INTERNAL_H
#define LENS_MODELS_MODEL_INTERNAL_H

#include "bert.h"
#include "static.h"
#include "lens/model.h"

struct lens_model {
    char dir[4096];
    lens__bert_config cfg;
    lens__bert bert;
    lens_tokenizer *tok;
    lens_precision precision;
    lens__kernel kernel;
    lens_pooling pooling;
    int normalize;
    int pool_dim;
    int max_seq_len;
    lens__static *wv; /* set for a "lens-static" word-vector model (no BERT) */
    float min_similarity; /* config.json's recommended --min-similarity, if has_min_similarity */
    int has_min_similarity;
};

#endif
