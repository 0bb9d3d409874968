#include "bert.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/ops.h"

static int get_int(json_t *root, const char *key, int *out, const char *path, lens_error *err)
{
    json_t *v = json_object_get(root, key);
    if (!json_is_integer(v) || json_integer_value(v) <= 0 || json_integer_value(v) > (1 << 24))
        return lens_error_set(err, LENS_EFORMAT, "%s: \"%s\" must be a positive integer", path, key);
    *out = (int)json_integer_value(v);
    return LENS_OK;
}

int lens__bert_config_read(lens__bert_config *cfg, const char *path, lens_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return lens_error_set(err, je.line < 0 ? LENS_ENOTFOUND : LENS_EFORMAT, "%s:%d:%d: %s",
                              path, je.line, je.column, je.text);
    int rc = LENS_OK;
    memset(cfg, 0, sizeof *cfg);
    json_t *v;
    const char *s;
    if ((v = json_object_get(root, "model_type")) && (s = json_string_value(v)) &&
        strcmp(s, "bert") != 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: model_type \"%s\" is not supported (bert is)",
                            path, s);
        goto out;
    }
    if ((v = json_object_get(root, "hidden_act")) && (s = json_string_value(v)) &&
        strcmp(s, "gelu") != 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: hidden_act \"%s\" is not supported (gelu is)",
                            path, s);
        goto out;
    }
    if ((v = json_object_get(root, "position_embedding_type")) && (s = json_string_value(v)) &&
        strcmp(s, "absolute") != 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: position_embedding_type \"%s\" is not supported",
                            path, s);
        goto out;
    }
    if ((rc = get_int(root, "vocab_size", &cfg->vocab_size, path, err)) ||
        (rc = get_int(root, "hidden_size", &cfg->hidden, path, err)) ||
        (rc = get_int(root, "num_hidden_layers", &cfg->layers, path, err)) ||
        (rc = get_int(root, "num_attention_heads", &cfg->heads, path, err)) ||
        (rc = get_int(root, "intermediate_size", &cfg->intermediate, path, err)) ||
        (rc = get_int(root, "max_position_embeddings", &cfg->max_positions, path, err)))
        goto out;
    cfg->type_vocab = 2;
    if (json_object_get(root, "type_vocab_size") &&
        (rc = get_int(root, "type_vocab_size", &cfg->type_vocab, path, err)))
        goto out;
    cfg->ln_eps = 1e-12f;
    if ((v = json_object_get(root, "layer_norm_eps"))) {
        if (!json_is_number(v) || json_number_value(v) <= 0) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: layer_norm_eps must be a positive number", path);
            goto out;
        }
        cfg->ln_eps = (float)json_number_value(v);
    }
    if (cfg->hidden % cfg->heads != 0)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: hidden_size %d is not a multiple of %d heads",
                            path, cfg->hidden, cfg->heads);
    else if (cfg->hidden / cfg->heads > LENS__ATTN_MAX_HD)
        rc = lens_error_set(err, LENS_EUNSUP, "%s: heads of %d dimensions are not supported (at most %d)", path,
                            cfg->hidden / cfg->heads, LENS__ATTN_MAX_HD);
out:
    json_decref(root);
    return rc;
}

typedef struct {
    const lens__safetensors *st;
    const char *prefix;
    lens_error *err;
    int rc;
} loader;

/* Reads prefix+name into a new fp32 buffer of the given shape. */
static float *load(loader *ld, const char *name, int64_t d0, int64_t d1)
{
    if (ld->rc) return NULL;
    char full[256];
    snprintf(full, sizeof full, "%s%s", ld->prefix, name);
    int64_t shape[2] = {d0, d1};
    int ndim = d1 ? 2 : 1;
    float *buf = malloc((size_t)d0 * (size_t)(d1 ? d1 : 1) * sizeof(float));
    if (!buf) {
        ld->rc = lens_error_set(ld->err, LENS_ENOMEM, "tensor %s: out of memory", full);
        return NULL;
    }
    if ((ld->rc = lens__st_read_f32(ld->st, full, ndim, shape, buf, ld->err))) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Which precision each GEMM of a layer runs at, per requested precision.
 * Measured on the 2,000-review sample with MiniLM-geometry weights (see
 * tests/test_encoder.c): attention logits amplify Q/K errors through the
 * softmax, so the attention block (QKV and its output projection) stays one
 * step more precise than the two FFN GEMMs, which carry two thirds of the
 * FLOPs. In int8, the FFN input's LayerNorm outlier channels are split out
 * in fp32 (see lens__linear_init). */
typedef struct { lens_precision qkv, attn_out, ffn_in, ffn_out; } layer_plan;

static layer_plan plan_for(lens_precision p)
{
    switch (p) {
    case LENS_BF16: return (layer_plan){LENS_FP32, LENS_FP32, LENS_BF16, LENS_BF16};
    case LENS_INT8: return (layer_plan){LENS_BF16, LENS_BF16, LENS_INT8, LENS_INT8};
    default: return (layer_plan){LENS_FP32, LENS_FP32, LENS_FP32, LENS_FP32};
    }
}

/* Activation range of a LayerNorm's output channel c: normalised values are
 * O(1), so about |gamma_c| + |beta_c| (up to a common factor). */
static float *ln_range(const float *g, const float *b, int n)
{
    float *a = malloc((size_t)n * sizeof *a);
    if (a)
        for (int i = 0; i < n; i++) a[i] = fabsf(g[i]) + fabsf(b[i]);
    return a;
}

static int load_layer(loader *ld, const lens__bert_config *c, int i, lens_precision prec,
                      lens__kernel kernel, const float *in_g, const float *in_b, lens__bert_layer *L)
{
    int H = c->hidden, I = c->intermediate;
    char n[128];
#define T(suffix) (snprintf(n, sizeof n, "encoder.layer.%d.%s", i, suffix), n)
    float *wq = load(ld, T("attention.self.query.weight"), H, H);
    float *bq = load(ld, T("attention.self.query.bias"), H, 0);
    float *wk = load(ld, T("attention.self.key.weight"), H, H);
    float *bk = load(ld, T("attention.self.key.bias"), H, 0);
    float *wv = load(ld, T("attention.self.value.weight"), H, H);
    float *bv = load(ld, T("attention.self.value.bias"), H, 0);
    float *wo = load(ld, T("attention.output.dense.weight"), H, H);
    float *bo = load(ld, T("attention.output.dense.bias"), H, 0);
    L->ln1_g = load(ld, T("attention.output.LayerNorm.weight"), H, 0);
    L->ln1_b = load(ld, T("attention.output.LayerNorm.bias"), H, 0);
    float *wi = load(ld, T("intermediate.dense.weight"), I, H);
    float *bi = load(ld, T("intermediate.dense.bias"), I, 0);
    float *w2 = load(ld, T("output.dense.weight"), H, I);
    float *b2 = load(ld, T("output.dense.bias"), H, 0);
    L->ln2_g = load(ld, T("output.LayerNorm.weight"), H, 0);
    L->ln2_b = load(ld, T("output.LayerNorm.bias"), H, 0);
#undef T
    float *wqkv = NULL, *bqkv = NULL;
    if (!ld->rc) {
        /* one [3H, H] GEMM instead of three */
        wqkv = malloc((size_t)3 * H * H * sizeof(float));
        bqkv = malloc((size_t)3 * H * sizeof(float));
        if (!wqkv || !bqkv) {
            ld->rc = lens_error_set(ld->err, LENS_ENOMEM, "layer %d: out of memory", i);
        } else {
            memcpy(wqkv, wq, (size_t)H * H * sizeof(float));
            memcpy(wqkv + (size_t)H * H, wk, (size_t)H * H * sizeof(float));
            memcpy(wqkv + (size_t)2 * H * H, wv, (size_t)H * H * sizeof(float));
            memcpy(bqkv, bq, H * sizeof(float));
            memcpy(bqkv + H, bk, H * sizeof(float));
            memcpy(bqkv + 2 * H, bv, H * sizeof(float));
        }
    }
    layer_plan pl = plan_for(prec);
    float *r_in = NULL, *r_mid = NULL; /* ranges of the LayerNorm outputs feeding QKV and FFN-in */
    if (!ld->rc && prec == LENS_INT8 &&
        (!(r_in = ln_range(in_g, in_b, H)) || !(r_mid = ln_range(L->ln1_g, L->ln1_b, H))))
        ld->rc = lens_error_set(ld->err, LENS_ENOMEM, "layer %d: out of memory", i);
    if (!ld->rc) ld->rc = lens__linear_init(&L->qkv, wqkv, bqkv, 3 * H, H, pl.qkv, kernel, r_in, ld->err);
    if (!ld->rc) ld->rc = lens__linear_init(&L->attn_out, wo, bo, H, H, pl.attn_out, kernel, NULL, ld->err);
    if (!ld->rc) ld->rc = lens__linear_init(&L->ffn_in, wi, bi, I, H, pl.ffn_in, kernel, r_mid, ld->err);
    if (!ld->rc) ld->rc = lens__linear_init(&L->ffn_out, w2, b2, H, I, pl.ffn_out, kernel, NULL, ld->err);
    free(r_in);
    free(r_mid);
    free(wq); free(bq); free(wk); free(bk); free(wv); free(bv); free(wo); free(bo);
    free(wi); free(bi); free(w2); free(b2); free(wqkv); free(bqkv);
    return ld->rc;
}

int lens__bert_load(lens__bert *m, const lens__bert_config *cfg, const lens__safetensors *st,
                   lens_precision prec, lens__kernel kernel, lens_error *err)
{
    memset(m, 0, sizeof *m);
    m->cfg = *cfg;
    m->prec = prec;
    m->kernel = kernel;
    /* sentence-transformers saves a bare BertModel; full checkpoints say "bert." */
    loader ld = {.st = st, .prefix = "", .err = err};
    if (!lens__st_find(st, "embeddings.word_embeddings.weight") &&
        lens__st_find(st, "bert.embeddings.word_embeddings.weight"))
        ld.prefix = "bert.";
    int H = cfg->hidden;
    m->word_emb = load(&ld, "embeddings.word_embeddings.weight", cfg->vocab_size, H);
    m->pos_emb = load(&ld, "embeddings.position_embeddings.weight", cfg->max_positions, H);
    m->type_emb = load(&ld, "embeddings.token_type_embeddings.weight", cfg->type_vocab, H);
    m->emb_ln_g = load(&ld, "embeddings.LayerNorm.weight", H, 0);
    m->emb_ln_b = load(&ld, "embeddings.LayerNorm.bias", H, 0);
    m->layer = calloc((size_t)cfg->layers, sizeof *m->layer);
    if (!m->layer && !ld.rc) ld.rc = lens_error_set(err, LENS_ENOMEM, "model: out of memory");
    for (int i = 0; i < cfg->layers && !ld.rc; i++) {
        /* layer i reads the previous LayerNorm's output */
        const float *g = i ? m->layer[i - 1].ln2_g : m->emb_ln_g, *b = i ? m->layer[i - 1].ln2_b : m->emb_ln_b;
        load_layer(&ld, cfg, i, prec, kernel, g, b, &m->layer[i]);
    }
    if (ld.rc) lens__bert_free(m);
    return ld.rc;
}

void lens__bert_free(lens__bert *m)
{
    if (m->layer) {
        for (int i = 0; i < m->cfg.layers; i++) {
            lens__bert_layer *L = &m->layer[i];
            lens__linear_free(&L->qkv);
            lens__linear_free(&L->attn_out);
            lens__linear_free(&L->ffn_in);
            lens__linear_free(&L->ffn_out);
            free(L->ln1_g); free(L->ln1_b); free(L->ln2_g); free(L->ln2_b);
        }
    }
    free(m->layer);
    free(m->word_emb); free(m->pos_emb); free(m->type_emb);
    free(m->emb_ln_g); free(m->emb_ln_b);
    memset(m, 0, sizeof *m);
}

int lens__bert_ws_init(lens__bert_ws *ws, const lens__bert *m, int max_tokens, int max_len,
                      int n_threads, lens_error *err)
{
    memset(ws, 0, sizeof *ws);
    const lens__bert_config *c = &m->cfg;
    size_t T = (size_t)max_tokens;
    ws->max_tokens = max_tokens;
    ws->max_len = max_len;
    ws->x = malloc(T * c->hidden * sizeof(float));
    ws->qkv = malloc(T * (size_t)((3 * c->hidden + 31) / 32 * 32) * sizeof(float)); /* panel-major */
    ws->att = malloc(T * c->hidden * sizeof(float));
    ws->ff = malloc(T * c->intermediate * sizeof(float));
    ws->attn_stride = lens__attention_scratch(max_len, c->hidden / c->heads);
    ws->attn_scratch = malloc(ws->attn_stride * (size_t)n_threads * sizeof(float));
    int k_max = c->intermediate > c->hidden ? c->intermediate : c->hidden;
    if (!ws->x || !ws->qkv || !ws->att || !ws->ff || !ws->attn_scratch ||
        lens__linear_ws_reserve(&ws->lin, max_tokens, k_max, err)) {
        lens__bert_ws_free(ws);
        return lens_error_set(err, LENS_ENOMEM, "encoder workspace for %d tokens: out of memory",
                              max_tokens);
    }
    return LENS_OK;
}

void lens__bert_ws_free(lens__bert_ws *ws)
{
    free(ws->x); free(ws->qkv); free(ws->att); free(ws->ff); free(ws->attn_scratch);
    lens__linear_ws_free(&ws->lin);
    memset(ws, 0, sizeof *ws);
}

/* ---------------------------------------------------------------- forward */

#define ROWS_PER_TASK 32

typedef struct {
    const lens__bert *m;
    const int32_t *ids, *offs;
    int n_seq, T;
    float *x;
    const float *g, *b;
} row_job;

static void layernorm(const lens__bert *m, float *x, size_t rows, const float *g, const float *b)
{
    if (m->kernel == LENS__KERNEL_AVX512)
        lens__layernorm_rows_avx512(x, rows, m->cfg.hidden, g, b, m->cfg.ln_eps);
    else
        lens__layernorm_rows(x, rows, m->cfg.hidden, g, b, m->cfg.ln_eps);
}

static void embed_task(void *ctx, int task, int thread)
{
    (void)thread;
    row_job *j = ctx;
    const lens__bert *m = j->m;
    int H = m->cfg.hidden;
    int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < j->T ? r0 + ROWS_PER_TASK : j->T;
    /* position of row r = r - start of its sequence (binary search) */
    int lo = 0, hi = j->n_seq - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (j->offs[mid] <= r0) lo = mid; else hi = mid - 1;
    }
    int s = lo;
    for (int r = r0; r < r1; r++) {
        while (r >= j->offs[s + 1]) s++;
        int pos = r - j->offs[s];
        const float *w = m->word_emb + (size_t)j->ids[r] * H, *p = m->pos_emb + (size_t)pos * H,
                    *t = m->type_emb;
        float *x = j->x + (size_t)r * H;
        for (int i = 0; i < H; i++) x[i] = w[i] + p[i] + t[i];
    }
    layernorm(m, j->x + (size_t)r0 * H, (size_t)(r1 - r0), m->emb_ln_g, m->emb_ln_b);
}

static void ln_task(void *ctx, int task, int thread)
{
    (void)thread;
    row_job *j = ctx;
    int H = j->m->cfg.hidden;
    int r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < j->T ? r0 + ROWS_PER_TASK : j->T;
    layernorm(j->m, j->x + (size_t)r0 * H, (size_t)(r1 - r0), j->g, j->b);
}

void lens__bert_forward(const lens__bert *m, const int32_t *ids, const int32_t *offs, int n_seq,
                       lens__bert_ws *ws, lens_pool *pool)
{
    const lens__bert_config *c = &m->cfg;
    int T = offs[n_seq], tasks = (T + ROWS_PER_TASK - 1) / ROWS_PER_TASK;
    row_job rj = {.m = m, .ids = ids, .offs = offs, .n_seq = n_seq, .T = T, .x = ws->x};
    lens_pool_run(pool, tasks, embed_task, &rj);
    lens__attention_args aa = {.qkv = ws->qkv, .out = ws->att, .offs = offs, .n_seq = n_seq,
                              .n_heads = c->heads, .head_dim = c->hidden / c->heads,
                              .scratch = ws->attn_scratch, .scratch_stride = ws->attn_stride,
                              .kernel = m->kernel};
    for (int l = 0; l < c->layers; l++) {
        const lens__bert_layer *L = &m->layer[l];
        lens__linear_forward_panels(&L->qkv, ws->x, T, ws->qkv, &ws->lin, pool);
        lens__attention(&aa, pool);
        lens__linear_forward(&L->attn_out, ws->att, T, ws->x, LENS__EPI_RESIDUAL, ws->x, &ws->lin, pool);
        rj.g = L->ln1_g;
        rj.b = L->ln1_b;
        lens_pool_run(pool, tasks, ln_task, &rj);
        lens__linear_forward(&L->ffn_in, ws->x, T, ws->ff, LENS__EPI_GELU, NULL, &ws->lin, pool);
        lens__linear_forward(&L->ffn_out, ws->ff, T, ws->x, LENS__EPI_RESIDUAL, ws->x, &ws->lin, pool);
        rj.g = L->ln2_g;
        rj.b = L->ln2_b;
        lens_pool_run(pool, tasks, ln_task, &rj);
    }
}
