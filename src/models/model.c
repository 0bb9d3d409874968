/* lens_model: a sentence-transformers model directory, opened once. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "io/safetensors.h"
#include "lens/model.h"
#include "model_internal.h"
#include "registry.h"

int lens_precision_parse(const char *s, lens_precision *out)
{
    if (strcmp(s, "fp32") == 0) *out = LENS_FP32;
    else if (strcmp(s, "bf16") == 0) *out = LENS_BF16;
    else if (strcmp(s, "int8") == 0) *out = LENS_INT8;
    else return LENS_EINVAL;
    return LENS_OK;
}

const char *lens_precision_name(lens_precision p)
{
    return p == LENS_BF16 ? "bf16" : p == LENS_INT8 ? "int8" : "fp32";
}

/* config.json may recommend a theme similarity threshold for the model,
 * chosen from data by tools/choose_min_similarity.py. */
static void read_min_similarity(lens_model *m)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", m->dir);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    json_t *v = json_object_get(root, "min_similarity");
    if (json_is_number(v) && json_number_value(v) >= -1 && json_number_value(v) <= 1) {
        m->min_similarity = (float)json_number_value(v);
        m->has_min_similarity = 1;
    }
    json_decref(root);
}

/* Reads modules.json and the Pooling module's config; defaults follow
 * sentence-transformers for a plain transformer directory (mean, no norm). */
static int read_st_modules(lens_model *m, lens_error *err)
{
    char path[4200];
    m->pooling = LENS_POOLING_MEAN;
    m->normalize = 0;
    snprintf(path, sizeof path, "%s/modules.json", m->dir);
    if (!lens__is_file(path)) return LENS_OK;
    json_error_t je;
    json_t *mods = json_load_file(path, 0, &je);
    if (!mods) return lens_error_set(err, LENS_EFORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    if (!json_is_array(mods)) {
        json_decref(mods);
        return lens_error_set(err, LENS_EFORMAT, "%s: expected a JSON array of modules", path);
    }
    int rc = LENS_OK;
    size_t i;
    json_t *mod;
    json_array_foreach(mods, i, mod) {
        const char *type = json_string_value(json_object_get(mod, "type"));
        const char *mpath = json_string_value(json_object_get(mod, "path"));
        if (!type) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: module %zu has no type", path, i);
            break;
        }
        const char *dot = strrchr(type, '.');
        const char *kind = dot ? dot + 1 : type;
        if (strcmp(kind, "Transformer") == 0) continue;
        if (strcmp(kind, "Normalize") == 0) {
            m->normalize = 1;
            continue;
        }
        if (strcmp(kind, "Pooling") != 0) {
            rc = lens_error_set(err, LENS_EUNSUP, "%s: module type %s is not supported", path, type);
            break;
        }
        char cpath[4300];
        snprintf(cpath, sizeof cpath, "%s/%s/config.json", m->dir, mpath ? mpath : "");
        json_t *pc = json_load_file(cpath, 0, &je);
        if (!pc) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%d:%d: %s", cpath, je.line, je.column, je.text);
            break;
        }
        static const struct { const char *key; lens_pooling mode; } modes[] = {
            {"pooling_mode_cls_token", LENS_POOLING_CLS},
            {"pooling_mode_max_tokens", LENS_POOLING_MAX},
            {"pooling_mode_mean_sqrt_len_tokens", LENS_POOLING_MEAN_SQRT_LEN},
            {"pooling_mode_mean_tokens", LENS_POOLING_MEAN},
        };
        int n_on = 0;
        for (size_t k = 0; k < sizeof modes / sizeof *modes; k++)
            if (json_is_true(json_object_get(pc, modes[k].key))) {
                m->pooling = modes[k].mode;
                n_on++;
            }
        json_t *dim = json_object_get(pc, "word_embedding_dimension");
        if (json_is_integer(dim)) m->pool_dim = (int)json_integer_value(dim);
        json_decref(pc);
        if (n_on != 1) {
            rc = lens_error_set(err, LENS_EUNSUP,
                                "%s: exactly one pooling mode must be on (found %d); lens does "
                                "not concatenate pooling modes",
                                cpath, n_on);
            break;
        }
    }
    json_decref(mods);
    return rc;
}

static int read_max_seq_len(lens_model *m, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/sentence_bert_config.json", m->dir);
    m->max_seq_len = 512;
    if (!lens__is_file(path)) return LENS_OK;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) return lens_error_set(err, LENS_EFORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    json_t *v = json_object_get(root, "max_seq_length");
    if (json_is_integer(v) && json_integer_value(v) >= 2) m->max_seq_len = (int)json_integer_value(v);
    json_decref(root);
    return LENS_OK;
}

int lens_model_open(lens_model **out, const char *name_or_dir, const lens_model_opts *opts,
                    lens_error *err)
{
    *out = NULL;
    lens_model *m = calloc(1, sizeof *m);
    if (!m) return lens_error_set(err, LENS_ENOMEM, "model: out of memory");
    int rc;
    lens__safetensors *st = NULL;
    if (lens__is_dir(name_or_dir)) {
        snprintf(m->dir, sizeof m->dir, "%s", name_or_dir);
    } else if ((rc = lens__registry_cached_dir(name_or_dir, m->dir, sizeof m->dir, err))) {
        goto fail;
    }
    m->precision = opts ? opts->precision : LENS_FP32;
    read_min_similarity(m);
    if (lens__static_detect(m->dir)) { /* word vectors + SIF pooling, fp32 only */
        if ((rc = lens__static_open(&m->wv, m->dir, err))) goto fail;
        m->precision = LENS_FP32;
        m->normalize = 1;
        m->max_seq_len = 0; /* no sequence limit: every word counts */
        *out = m;
        return LENS_OK;
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", m->dir);
    if ((rc = lens__bert_config_read(&m->cfg, path, err))) goto fail;
    if ((rc = read_st_modules(m, err)) || (rc = read_max_seq_len(m, err))) goto fail;
    if (opts && opts->max_seq_len > 0) m->max_seq_len = opts->max_seq_len;
    if (m->max_seq_len > m->cfg.max_positions) m->max_seq_len = m->cfg.max_positions;
    if (m->pool_dim && m->pool_dim != m->cfg.hidden) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: pooling dimension %d != hidden_size %d",
                            m->dir, m->pool_dim, m->cfg.hidden);
        goto fail;
    }
    if ((rc = lens_tokenizer_open(&m->tok, m->dir, err))) goto fail;
    if (lens_tokenizer_vocab_size(m->tok) > m->cfg.vocab_size) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: tokenizer has %d tokens but vocab_size is %d",
                            m->dir, lens_tokenizer_vocab_size(m->tok), m->cfg.vocab_size);
        goto fail;
    }
    snprintf(path, sizeof path, "%s/model.safetensors", m->dir);
    if (!lens__is_file(path)) {
        char bin[4200];
        snprintf(bin, sizeof bin, "%s/pytorch_model.bin", m->dir);
        rc = lens_error_set(err, LENS_ENOTFOUND, "%s: no model.safetensors%s", m->dir,
                            lens__is_file(bin) ? " (pytorch_model.bin is not read; convert it to "
                                               "safetensors)"
                                             : "");
        goto fail;
    }
    if ((rc = lens__st_open(&st, path, err))) goto fail;
    m->kernel = lens__kernel_detect();
    rc = lens__bert_load(&m->bert, &m->cfg, st, m->precision, m->kernel, err);
    lens__st_close(st);
    if (rc) goto fail;
    *out = m;
    return LENS_OK;
fail:
    lens_model_close(m);
    return rc;
}

void lens_model_close(lens_model *m)
{
    if (!m) return;
    lens__bert_free(&m->bert);
    lens_tokenizer_close(m->tok);
    lens__static_close(m->wv);
    free(m);
}

int lens_model_dim(const lens_model *m) { return m->wv ? m->wv->dim : m->cfg.hidden; }
int lens_model_max_seq_len(const lens_model *m) { return m->max_seq_len; }
lens_precision lens_model_precision(const lens_model *m) { return m->precision; }
lens_pooling lens_model_pooling(const lens_model *m) { return m->pooling; }
int lens_model_normalize(const lens_model *m) { return m->normalize; }
const char *lens_model_path(const lens_model *m) { return m->dir; }
const char *lens_model_kernel(const lens_model *m)
{
    return m->wv ? "static" : lens__kernel_name(m->kernel);
}
const lens_tokenizer *lens_model_tokenizer(const lens_model *m) { return m->tok; }
int lens_model_vocab_size(const lens_model *m)
{
    return m->wv ? (int)m->wv->n_words : lens_tokenizer_vocab_size(m->tok);
}

int lens_model_min_similarity(const lens_model *m, float *out)
{
    if (m->has_min_similarity) *out = m->min_similarity;
    return m->has_min_similarity;
}
