/* Static word-vector model: loading and SIF embedding (see static.h). */
#include "static.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "io/safetensors.h"

#define MAX_DIM 4096
#define TEXTS_PER_TASK 16 /* amortises the pool's task hand-out */

/* ---------------------------------------------------------------- loading */

static json_t *read_config(const char *dir, char *path, size_t cap, json_error_t *je)
{
    snprintf(path, cap, "%s/config.json", dir);
    return json_load_file(path, 0, je);
}

int lens__static_detect(const char *dir)
{
    char path[4200];
    json_error_t je;
    json_t *root = read_config(dir, path, sizeof path, &je);
    if (!root) return 0;
    const char *type = json_string_value(json_object_get(root, "model_type"));
    int yes = type && strcmp(type, "lens-static") == 0;
    json_decref(root);
    return yes;
}

static int load_config(lens__static *s, const char *dir, lens_error *err)
{
    char path[4200];
    json_error_t je;
    json_t *root = read_config(dir, path, sizeof path, &je);
    if (!root)
        return lens_error_set(err, LENS_EFORMAT, "%s:%d:%d: %s", path, je.line, je.column, je.text);
    int rc = LENS_OK;
    const char *type = json_string_value(json_object_get(root, "model_type"));
    json_t *dim = json_object_get(root, "dim"), *a = json_object_get(root, "sif_a");
    if (!type || strcmp(type, "lens-static") != 0)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: model_type is not \"lens-static\"", path);
    else if (!json_is_integer(dim) || json_integer_value(dim) < 1 || json_integer_value(dim) > MAX_DIM)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: \"dim\" must be an integer in 1..%d", path, MAX_DIM);
    else if (a && (!json_is_number(a) || !(json_number_value(a) > 0)))
        rc = lens_error_set(err, LENS_EFORMAT, "%s: \"sif_a\" must be a positive number", path);
    else {
        s->dim = (int)json_integer_value(dim);
        s->sif_a = a ? (float)json_number_value(a) : 1e-3f;
    }
    json_decref(root);
    return rc;
}

static int load_vocab(lens__static *s, const char *dir, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/vocab.txt", dir);
    FILE *f = fopen(path, "rb");
    if (!f) return lens_error_set(err, LENS_ENOTFOUND, "%s: cannot open", path);
    struct stat st;
    char *data = NULL;
    int rc = LENS_OK;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (1 << 30)) {
        rc = lens_error_set(err, LENS_EIO, "%s: cannot size file (or over 1 GiB)", path);
        goto out;
    }
    size_t size = (size_t)st.st_size;
    data = malloc(size + 1);
    if (!data || fread(data, 1, size, f) != size) {
        rc = lens_error_set(err, data ? LENS_EIO : LENS_ENOMEM, "%s: read failed", path);
        goto out;
    }
    int32_t n = 0;
    for (size_t i = 0; i < size; i++) n += data[i] == '\n';
    if (size && data[size - 1] != '\n') n++;
    if (n == 0) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: no words", path);
        goto out;
    }
    if ((rc = lens__vocab_init(&s->vocab, n, err))) goto out;
    char *p = data, *end = data + size;
    for (int32_t id = 0; p < end; id++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p), wl = l;
        if (wl && p[wl - 1] == '\r') wl--;
        if (wl == 0) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%d: empty word", path, (int)id + 1);
            goto out;
        }
        if (lens__vocab_find(&s->vocab, NULL, 0, p, wl) >= 0) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s:%d: duplicate word \"%.*s\"", path, (int)id + 1,
                                (int)(wl < 64 ? wl : 64), p);
            goto out;
        }
        if ((rc = lens__vocab_add(&s->vocab, p, wl, id, err))) {
            lens_error_wrap(err, "%s:%d", path, (int)id + 1);
            goto out;
        }
        p += l + 1;
    }
    s->n_words = n;
out:
    free(data);
    fclose(f);
    return rc;
}

static int load_tensors(lens__static *s, const char *dir, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    struct stat stt;
    if (stat(path, &stt) != 0) return lens_error_set(err, LENS_ENOTFOUND, "%s: no such file", path);
    lens__safetensors *st = NULL;
    int rc = lens__st_open(&st, path, err);
    if (rc) return rc;
    int64_t V = s->n_words, D = s->dim;
    const lens__st_tensor *t = lens__st_find(st, "vectors");
    if (t && (t->ndim != 2 || t->shape[0] != V || t->shape[1] != D)) {
        rc = lens_error_set(err, LENS_EFORMAT,
                            "%s: tensor 'vectors' has shape [%lld%s%lld] but vocab.txt has %lld "
                            "words and config.json says dim %lld",
                            path, (long long)t->shape[0], t->ndim > 1 ? "," : "",
                            t->ndim > 1 ? (long long)t->shape[1] : 0LL, (long long)V, (long long)D);
        goto out;
    }
    s->vectors = malloc((size_t)V * (size_t)D * sizeof *s->vectors);
    s->weight = malloc((size_t)V * sizeof *s->weight);
    s->common = malloc((size_t)D * sizeof *s->common);
    if (!s->vectors || !s->weight || !s->common) {
        rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory for %lld x %lld vectors", path,
                            (long long)V, (long long)D);
        goto out;
    }
    int64_t shape[2] = {V, D};
    if ((rc = lens__st_read_f32(st, "vectors", 2, shape, s->vectors, err)) ||
        (rc = lens__st_read_f32(st, "word_prob", 1, &V, s->weight, err)) ||
        (rc = lens__st_read_f32(st, "common_component", 1, &D, s->common, err)))
        goto out;
    for (int64_t i = 0; i < V; i++) {
        float p = s->weight[i];
        if (!(p >= 0.0f && p <= 1.0f)) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: word_prob[%lld] = %g is not in [0, 1]", path,
                                (long long)i, p);
            goto out;
        }
        s->weight[i] = s->sif_a / (s->sif_a + p);
    }
    double ss = 0.0;
    for (int64_t d = 0; d < D; d++) ss += (double)s->common[d] * s->common[d];
    if (!isfinite(ss)) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: common_component is not finite", path);
        goto out;
    }
    /* stored unit length; renormalise so rounding cannot leave a residue */
    for (int64_t d = 0; d < D; d++) s->common[d] = ss > 0 ? (float)(s->common[d] / sqrt(ss)) : 0.0f;
out:
    lens__st_close(st);
    return rc;
}

int lens__static_open(lens__static **out, const char *dir, lens_error *err)
{
    *out = NULL;
    lens__static *s = calloc(1, sizeof *s);
    if (!s) return lens_error_set(err, LENS_ENOMEM, "static model: out of memory");
    int rc;
    if ((rc = load_config(s, dir, err)) || (rc = load_vocab(s, dir, err)) ||
        (rc = load_tensors(s, dir, err))) {
        lens__static_close(s);
        return rc;
    }
    *out = s;
    return LENS_OK;
}

void lens__static_close(lens__static *s)
{
    if (!s) return;
    free(s->vectors);
    free(s->weight);
    free(s->common);
    lens__vocab_free(&s->vocab);
    free(s);
}

/* ---------------------------------------------------------------- pooling */

int lens__static_pool_ids(const float *vectors, const float *weight, const float *common, int dim,
                         const int32_t *ids, size_t n, double *acc, float *out)
{
    if (n == 0) {
        memset(out, 0, (size_t)dim * sizeof *out);
        return 0;
    }
    for (int d = 0; d < dim; d++) acc[d] = 0.0;
    for (size_t i = 0; i < n; i++) {
        const float *v = vectors + (size_t)ids[i] * dim;
        double wt = weight[ids[i]];
        for (int d = 0; d < dim; d++) acc[d] += wt * v[d];
    }
    /* the 1/n of the mean cancels in the normalisation below */
    if (common) {
        double dot = 0.0;
        for (int d = 0; d < dim; d++) dot += acc[d] * common[d];
        for (int d = 0; d < dim; d++) acc[d] -= dot * common[d];
    }
    double ss = 0.0;
    for (int d = 0; d < dim; d++) ss += acc[d] * acc[d];
    double inv = ss > 0 ? 1.0 / sqrt(ss) : 0.0;
    for (int d = 0; d < dim; d++) out[d] = (float)(acc[d] * inv);
    return ss > 0; /* words whose vectors cancel (or are all common component) leave no direction */
}

/* ---------------------------------------------------------------- encoder */

typedef struct {
    lens__words words;
    int32_t *ids;
    size_t ids_cap;
    double *acc;
    uint64_t empty, words_seen;
    int failed;
} scratch;

struct lens__static_enc {
    const lens__static *s;
    int n_threads;
    scratch *sc;
    uint64_t empty;
    /* the call in progress */
    const char *const *texts;
    const size_t *lens;
    size_t n;
    float *out;
};

int lens__static_enc_new(lens__static_enc **out, const lens__static *s, int n_threads, lens_error *err)
{
    *out = NULL;
    if (n_threads < 1) n_threads = 1;
    lens__static_enc *e = calloc(1, sizeof *e);
    if (e) e->sc = calloc((size_t)n_threads, sizeof *e->sc);
    int ok = e && e->sc;
    if (ok) e->n_threads = n_threads;
    for (int t = 0; ok && t < n_threads; t++)
        ok = (e->sc[t].acc = malloc((size_t)s->dim * sizeof *e->sc[t].acc)) != NULL;
    if (!ok) {
        lens__static_enc_free(e);
        return lens_error_set(err, LENS_ENOMEM, "static encoder: out of memory");
    }
    e->s = s;
    *out = e;
    return LENS_OK;
}

void lens__static_enc_free(lens__static_enc *e)
{
    if (!e) return;
    for (int t = 0; e->sc && t < e->n_threads; t++) {
        lens__words_free(&e->sc[t].words);
        free(e->sc[t].ids);
        free(e->sc[t].acc);
    }
    free(e->sc);
    free(e);
}

uint64_t lens__static_enc_empty(const lens__static_enc *e) { return e->empty; }

/* A text with no known word has no direction of its own; a zero vector would
 * make every cosine with it undefined. It gets one fixed unit vector instead,
 * the same for all such texts: the common component, which every other
 * text's vector has projected out (so it is orthogonal to them: similarity 0,
 * below any theme threshold), or e_0 for a model without one. */
static void unknown_vector(const lens__static *s, float *out)
{
    int has_common = 0;
    for (int d = 0; s->common && d < s->dim && !has_common; d++) has_common = s->common[d] != 0.0f;
    for (int d = 0; d < s->dim; d++) out[d] = has_common ? s->common[d] : (float)(d == 0);
}

static int embed_one(const lens__static *s, scratch *sc, const char *text, size_t len, float *out)
{
    if (lens__words_split(&sc->words, text, len)) return -1;
    size_t nw = sc->words.n;
    if (lens__grow((void **)&sc->ids, &sc->ids_cap, nw, sizeof *sc->ids)) return -1;
    size_t n = 0;
    for (size_t i = 0; i < nw; i++) {
        size_t wl;
        const char *w = lens__words_at(&sc->words, i, &wl);
        int32_t id = lens__vocab_find(&s->vocab, NULL, 0, w, wl);
        if (id >= 0) sc->ids[n++] = id;
    }
    sc->words_seen += nw;
    if (!lens__static_pool_ids(s->vectors, s->weight, s->common, s->dim, sc->ids, n, sc->acc, out)) {
        sc->empty++;
        unknown_vector(s, out);
    }
    return 0;
}

static void embed_task(void *ctx, int task, int thread)
{
    lens__static_enc *e = ctx;
    scratch *sc = &e->sc[thread];
    size_t lo = (size_t)task * TEXTS_PER_TASK, hi = lo + TEXTS_PER_TASK;
    if (hi > e->n) hi = e->n;
    for (size_t i = lo; i < hi && !sc->failed; i++) {
        const char *t = e->texts[i];
        size_t len = e->lens ? e->lens[i] : strlen(t);
        if (embed_one(e->s, sc, t, len, e->out + i * (size_t)e->s->dim)) sc->failed = 1;
    }
}

int lens__static_enc_embed(lens__static_enc *e, lens_pool *pool, const char *const *texts,
                          const size_t *lens, size_t n, float *out, uint64_t *tokens,
                          lens_error *err)
{
    if (lens_pool_size(pool) > e->n_threads)
        return lens_error_set(err, LENS_EINVAL, "static encoder: pool has %d threads, encoder %d",
                              lens_pool_size(pool), e->n_threads);
    e->texts = texts;
    e->lens = lens;
    e->out = out;
    for (size_t base = 0; base < n;) {
        /* lens_pool_run takes an int task count */
        size_t chunk = n - base < ((size_t)1 << 24) ? n - base : (size_t)1 << 24;
        e->texts = texts + base;
        e->lens = lens ? lens + base : NULL;
        e->out = out + base * (size_t)e->s->dim;
        e->n = chunk;
        lens_pool_run(pool, (int)((chunk + TEXTS_PER_TASK - 1) / TEXTS_PER_TASK), embed_task, e);
        base += chunk;
    }
    int failed = 0;
    for (int t = 0; t < e->n_threads; t++) {
        scratch *sc = &e->sc[t];
        failed |= sc->failed;
        sc->failed = 0;
        e->empty += sc->empty;
        if (tokens) *tokens += sc->words_seen;
        sc->empty = sc->words_seen = 0;
    }
    if (failed) return lens_error_set(err, LENS_ENOMEM, "static encoder: out of memory splitting words");
    return LENS_OK;
}
