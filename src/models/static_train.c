/* lens_static_train: reads the corpus (static_corpus.c), trains word
 * vectors (static_sgns.c), then computes the SIF parameters from them and
 * writes a lens-static model directory, replacing the old one only when
 * everything is written. */
#include "lens/static_train.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "io/jsonfile.h"
#include "static.h"
#include "static_train_internal.h"

/* ---------------------------------------------------------------- SIF */

/* IEEE half, round to nearest even */
static uint16_t f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000, e = (x >> 23) & 0xFF, m = x & 0x7FFFFF;
    if (e == 0xFF) return (uint16_t)(sign | 0x7C00 | (m ? 0x200 : 0));
    int ee = (int)e - 127 + 15;
    if (ee >= 31) return (uint16_t)(sign | 0x7C00);
    if (ee <= 0) {
        if (ee < -10) return (uint16_t)sign;
        m |= 0x800000;
        int shift = 14 - ee;
        uint32_t h = m >> shift, rem = m & ((1u << shift) - 1), half = 1u << (shift - 1);
        if (rem > half || (rem == half && (h & 1))) h++;
        return (uint16_t)(sign | h);
    }
    uint32_t h = ((uint32_t)ee << 10) | (m >> 13), rem = m & 0x1FFF;
    if (rem > 0x1000 || (rem == 0x1000 && (h & 1))) h++; /* may carry into the exponent: fine */
    return (uint16_t)(sign | h);
}

static float f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, e = (h >> 10) & 0x1F, m = h & 0x3FF, x;
    if (e == 0) {
        float f = ldexpf((float)m, -24);
        return sign ? -f : f;
    }
    if (e == 31) x = sign | 0x7F800000 | (m << 13);
    else x = sign | ((e - 15 + 127) << 23) | (m << 13);
    float f;
    memcpy(&f, &x, 4);
    return f;
}

/* First principal direction (uncentred, as Arora et al.) of the SIF vectors
 * of up to k texts spread evenly over the corpus, by power iteration. */
static int common_component(const w2v_corpus *c, const float *vec, const float *weight, int D, int k,
                            float *u, int *used)
{
    double *C = calloc((size_t)D * D, sizeof *C), *acc = malloc((size_t)D * sizeof *acc);
    double *v = calloc((size_t)D, sizeof *v), *nv = malloc((size_t)D * sizeof *nv); /* calloc: GCC cannot see D >= 1 */
    float *x = malloc((size_t)D * sizeof *x);
    if (!C || !acc || !v || !nv || !x) {
        free(C); free(acc); free(v); free(nv); free(x);
        return -1;
    }
    size_t m = 0;
    for (size_t t = 0; t < c->n_texts; t++) m += c->starts[t + 1] > c->starts[t];
    size_t want = (size_t)k < m ? (size_t)k : m, j = 0, seen = 0;
    for (size_t t = 0; t < c->n_texts && j < want; t++) {
        size_t lo = c->starts[t], n = c->starts[t + 1] - lo;
        if (!n) continue;
        if (seen++ != j * m / want) continue;
        j++;
        lens__static_pool_ids(vec, weight, NULL, D, (const int32_t *)(c->ids + lo), n, acc, x);
        for (int a = 0; a < D; a++)
            for (int b = 0; b < D; b++) C[(size_t)a * D + b] += (double)x[a] * x[b];
    }
    *used = (int)j;
    for (int a = 0; a < D; a++) v[a] = 1.0 / sqrt((double)D);
    for (int it = 0; it < 1000 && j; it++) {
        double ss = 0, diff = 0;
        for (int a = 0; a < D; a++) {
            double s = 0;
            for (int b = 0; b < D; b++) s += C[(size_t)a * D + b] * v[b];
            nv[a] = s;
            ss += s * s;
        }
        if (ss <= 0) break;
        for (int a = 0; a < D; a++) {
            nv[a] /= sqrt(ss);
            diff += fabs(nv[a] - v[a]);
            v[a] = nv[a];
        }
        if (diff < 1e-12) break;
    }
    int big = 0;
    for (int a = 1; a < D; a++)
        if (fabs(v[a]) > fabs(v[big])) big = a;
    double sgn = v[big] < 0 ? -1 : 1; /* a fixed sign, so reruns agree */
    for (int a = 0; a < D; a++) u[a] = j ? (float)(sgn * v[a]) : 0.0f;
    free(C); free(acc); free(v); free(nv); free(x);
    return 0;
}

/* ---------------------------------------------------------------- writing */

static int put_u64le(FILE *f, uint64_t x)
{
    unsigned char b[8];
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(x >> (8 * i));
    return fwrite(b, 1, 8, f) == 8 ? 0 : -1;
}

static int put_f32le(FILE *f, const float *x, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], 4);
        unsigned char b[4] = {(unsigned char)u, (unsigned char)(u >> 8), (unsigned char)(u >> 16),
                              (unsigned char)(u >> 24)};
        if (fwrite(b, 1, 4, f) != 4) return -1;
    }
    return 0;
}

static int write_safetensors(const char *path, const uint16_t *vec16, const float *prob,
                             const float *common, int32_t V, int D, lens_error *err)
{
    uint64_t nv = (uint64_t)V * D * 2, np = (uint64_t)V * 4, nc = (uint64_t)D * 4;
    char hdr[1024];
    int n = snprintf(hdr, sizeof hdr,
                     "{\"__metadata__\":{\"format\":\"lens-static\"},"
                     "\"vectors\":{\"dtype\":\"F16\",\"shape\":[%d,%d],\"data_offsets\":[0,%llu]},"
                     "\"word_prob\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]},"
                     "\"common_component\":{\"dtype\":\"F32\",\"shape\":[%d],\"data_offsets\":[%llu,%llu]}}",
                     (int)V, D, (unsigned long long)nv, (int)V, (unsigned long long)nv,
                     (unsigned long long)(nv + np), D, (unsigned long long)(nv + np),
                     (unsigned long long)(nv + np + nc));
    while (n % 8) hdr[n++] = ' '; /* the data starts 8-byte aligned */
    FILE *f = fopen(path, "wb");
    if (!f) return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    int bad = put_u64le(f, (uint64_t)n) || fwrite(hdr, 1, (size_t)n, f) != (size_t)n;
    for (size_t i = 0; !bad && i < (size_t)V * D; i++) {
        unsigned char b[2] = {(unsigned char)vec16[i], (unsigned char)(vec16[i] >> 8)};
        bad = fwrite(b, 1, 2, f) != 2;
    }
    bad = bad || put_f32le(f, prob, (size_t)V) || put_f32le(f, common, (size_t)D);
    bad |= fclose(f) != 0;
    if (bad) return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
    return LENS_OK;
}

static int write_vocab(const char *path, const w2v_corpus *c, const w2v_vocab *v, lens_error *err)
{
    FILE *f = fopen(path, "wb");
    if (!f) return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    int bad = 0;
    for (int32_t i = 0; i < v->n && !bad; i++) {
        const w2v_entry *e = &c->ents[v->pid[i]];
        bad = fwrite(c->arena + e->off, 1, e->len, f) != e->len || fputc('\n', f) == EOF;
    }
    bad |= fclose(f) != 0;
    if (bad) return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
    return LENS_OK;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int write_config(const char *path, const lens_static_train_opts *o, const w2v_trainer *tr,
                        const w2v_vocab *v, const lens_static_train_stats *st, int pc_used,
                        lens_error *err)
{
    json_t *train = json_pack("{s:s, s:i, s:i, s:i, s:i, s:i, s:f, s:f, s:I, s:i, s:I, s:I, s:I, s:i}",
                              "method", "skip-gram, negative sampling", "epochs", tr->epochs,
                              "window", tr->window, "negative", tr->negative, "min_count", o->min_count,
                              "max_vocab", o->max_vocab, "sample", o->sample, "alpha", o->alpha,
                              "seed", (json_int_t)o->seed, "threads", tr->T,
                              "texts", (json_int_t)st->texts, "words", (json_int_t)st->words,
                              "words_in_vocab", (json_int_t)v->total, "common_component_texts", pc_used);
    json_t *inputs = json_array();
    for (int i = 0; inputs && i < o->n_inputs; i++) json_array_append_new(inputs, json_string(base_name(o->inputs[i])));
    json_t *root = json_pack("{s:s, s:i, s:f, s:i, s:s, s:s, s:o, s:o}", "model_type", "lens-static",
                             "dim", tr->D, "sif_a", o->sif_a, "vocab_size", (int)v->n,
                             "vectors_dtype", "F16", "tokenizer",
                             "BERT BasicTokenizer words: lowercase, NFD, no accents, split on "
                             "whitespace and punctuation",
                             "inputs", inputs, "training", train);
    int rc = root ? lens__json_save(path, root, JSON_INDENT(2) | JSON_REAL_PRECISION(10), err)
                  : lens_error_set(err, LENS_ENOMEM, "out of memory");
    json_decref(root);
    return rc;
}

static int dir_is_empty(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    struct dirent *e;
    int empty = 1;
    while (empty && (e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) empty = 0;
    closedir(d);
    return empty;
}

/* An existing out_dir may be replaced only when it holds nothing of value. */
static int check_out_dir(const char *dir, lens_error *err)
{
    if (!lens__is_dir(dir)) {
        struct stat st;
        if (stat(dir, &st) == 0) return lens_error_set(err, LENS_EINVAL, "%s exists and is not a directory", dir);
        return LENS_OK;
    }
    if (dir_is_empty(dir) || lens__static_detect(dir)) return LENS_OK;
    return lens_error_set(err, LENS_EINVAL,
                          "%s exists and is not a lens-static model; remove it or choose another -o", dir);
}

/* tmp, complete, replaces dir in one step */
static int install(const char *tmp, const char *dir, lens_error *err)
{
    int rc = check_out_dir(dir, err);
    return rc ? rc : lens__replace_dir(tmp, dir, err);
}

/* ---------------------------------------------------------------- entry */

int lens_static_train(const lens_static_train_opts *oin, lens_error *err)
{
    lens_static_train_opts o = *oin;
    if (!o.out_dir || !*o.out_dir) return lens_error_set(err, LENS_EINVAL, "train-static: no output directory");
    if (o.n_inputs < 1) return lens_error_set(err, LENS_EINVAL, "train-static: no input files");
    if (!o.dim) o.dim = 128;
    if (!o.epochs) o.epochs = 5;
    if (!o.window) o.window = 5;
    if (!o.negative) o.negative = 5;
    if (!o.min_count) o.min_count = 5;
    if (!o.max_vocab) o.max_vocab = 60000;
    if (!o.sample) o.sample = 1e-4;
    if (!o.alpha) o.alpha = 0.025;
    if (!o.sif_a) o.sif_a = 1e-3;
    if (!o.pc_texts) o.pc_texts = 20000;
    if (o.threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        o.threads = n > 0 ? (int)n : 1;
    }
    if (o.dim < 1 || o.dim > 4096 || o.epochs < 1 || o.window < 1 || o.negative < 0 || o.min_count < 1 ||
        o.max_vocab < 1 || o.threads > 1024 || o.sample < 0 || o.alpha < 0 || o.sif_a < 0 || o.pc_texts < 0)
        return lens_error_set(err, LENS_EINVAL, "train-static: an option is out of range");
    int rc = check_out_dir(o.out_dir, err);
    if (rc) return rc;

    lens_static_train_stats st = {0};
    w2v_corpus c = {0};
    w2v_vocab v = {0};
    w2v_trainer tr = {.D = o.dim, .window = o.window, .negative = o.negative, .epochs = o.epochs,
                  .T = o.threads, .alpha0 = (float)o.alpha, .seed = o.seed};
    uint16_t *vec16 = NULL;
    float *vec = NULL, *prob = NULL, *weight = NULL, *common = NULL;
    char tmp[4300], path[4400];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", o.out_dir, (long)getpid());
    int made_tmp = 0;

    double t0 = lens__clock_mono();
    if (lens__w2v_corpus_init(&c)) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }
    if ((rc = lens__w2v_read_inputs(&o, &c, &st, err))) goto out;
    st.read_s = lens__clock_mono() - t0;
    if ((rc = lens__w2v_build_vocab(&c, o.min_count, o.max_vocab, &v, err))) goto out;
    if (v.n < 2) {
        rc = lens_error_set(err, LENS_EINVAL,
                            "train-static: only %d word%s seen %d or more times in %llu words; need 2",
                            (int)v.n, v.n == 1 ? "" : "s", o.min_count, (unsigned long long)st.words);
        goto out;
    }
    st.vocab = v.n;
    st.train_words = c.n_ids;
    t0 = lens__clock_mono();
    if ((rc = lens__w2v_train(&o, &tr, &c, &v, err))) goto out;
    st.train_s = lens__clock_mono() - t0;

    /* the loader sees F16 vectors: compute the SIF component from those */
    size_t VD = (size_t)v.n * o.dim;
    vec16 = malloc(VD * sizeof *vec16);
    vec = malloc(VD * sizeof *vec);
    prob = malloc((size_t)v.n * sizeof *prob);
    weight = malloc((size_t)v.n * sizeof *weight);
    common = malloc((size_t)o.dim * sizeof *common);
    if (!vec16 || !vec || !prob || !weight || !common) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }
    for (size_t i = 0; i < VD; i++) vec[i] = f16_to_f32(vec16[i] = f32_to_f16(tr.syn0[i]));
    float a = (float)o.sif_a;
    for (int32_t i = 0; i < v.n; i++) {
        prob[i] = (float)((double)v.count[i] / (double)v.total);
        weight[i] = a / (a + prob[i]); /* as the loader computes it */
    }
    int pc_used = 0;
    if (common_component(&c, vec, weight, o.dim, o.pc_texts, common, &pc_used)) {
        rc = lens_error_set(err, LENS_ENOMEM, "train-static: out of memory");
        goto out;
    }

    if ((rc = lens__rmtree(tmp, err)) || (rc = lens__mkdirs(tmp, err))) goto out;
    made_tmp = 1;
    snprintf(path, sizeof path, "%s/model.safetensors", tmp);
    if ((rc = write_safetensors(path, vec16, prob, common, v.n, o.dim, err))) goto out;
    snprintf(path, sizeof path, "%s/vocab.txt", tmp);
    if ((rc = write_vocab(path, &c, &v, err))) goto out;
    snprintf(path, sizeof path, "%s/config.json", tmp);
    if ((rc = write_config(path, &o, &tr, &v, &st, pc_used, err))) goto out;
    if ((rc = install(tmp, o.out_dir, err))) goto out;
    made_tmp = 0;
    if (o.stats) *o.stats = st;
out:
    if (made_tmp) {
        lens_error e2;
        lens__rmtree(tmp, &e2);
    }
    free(vec16); free(vec); free(prob); free(weight); free(common);
    free(tr.syn0); free(tr.syn1); free(tr.alias); free(tr.keep);
    free(v.pid); free(v.count);
    lens__w2v_corpus_free(&c);
    return rc;
}
