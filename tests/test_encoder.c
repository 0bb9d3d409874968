/* Encoder parity against a float64 torch reference (committed .npy), and
 * the reduced-precision paths against fp32.
 *
 * usage: test_encoder MODEL_DIR TEXTS.jsonl REF.npy [N]   (N: only the first N texts)
 * fp32 must be within 1e-5 absolute and 1 - cos <= 1e-8 of the reference for
 * every text; bf16 min cosine >= 0.9999, int8 min cosine >= 0.998 vs fp32.
 * Results must not depend on batch size or thread count (bit for bit). */
#include <jansson.h>
#include <math.h>
#include <string.h>

#include "lens/io.h"
#include "lens/model.h"
#include "test.h"

/* lens_encoder_on_progress: texts come out in order, each row final when
 * reported (its sum then equals its sum at the end) */
typedef struct {
    const float *out;
    int dim, calls, bad;
    size_t last;
    double *sums;
} progress;

static double row_sum(const float *r, int dim)
{
    double s = 0;
    for (int d = 0; d < dim; d++) s += r[d];
    return s;
}

static int on_progress(void *ctx, size_t done)
{
    progress *p = ctx;
    p->calls++;
    p->bad += done <= p->last;
    for (size_t i = p->last; i < done; i++) p->sums[i] = row_sum(p->out + i * p->dim, p->dim);
    p->last = done;
    return 0;
}

static float *embed(const char *dir, lens_precision p, int threads, int batch_tokens, const char **texts,
                    size_t n, int *dim)
{
    lens_model_opts o = {.precision = p};
    lens_model *m = NULL;
    lens_pool *pool = NULL;
    lens_encoder *e = NULL;
    lens_error err = {0};
    float *out = NULL;
    CHECK(lens_model_open(&m, dir, &o, &err) == 0, "%s", err.msg);
    CHECK(lens_pool_new(&pool, threads, &err) == 0, "%s", err.msg);
    if (m && pool && lens_encoder_new(&e, m, pool, batch_tokens, &err) == 0) {
        *dim = lens_model_dim(m);
        out = malloc(n * (size_t)*dim * sizeof *out);
        progress pr = {.out = out, .dim = *dim, .sums = calloc(n, sizeof(double))};
        lens_encoder_on_progress(e, on_progress, &pr);
        CHECK(lens_encoder_embed(e, texts, NULL, n, out, NULL, &err) == 0, "%s", err.msg);
        int changed = 0;
        for (size_t i = 0; i < n; i++) changed += pr.sums[i] != row_sum(out + i * *dim, *dim);
        CHECK(pr.last == n && !pr.bad && !changed && (batch_tokens > 1000 || pr.calls > 1),
              "progress: %d calls, last %zu of %zu, %d out of order, %d rows changed after", pr.calls, pr.last, n,
              pr.bad, changed);
        free(pr.sums);
    }
    lens_encoder_free(e);
    lens_pool_free(pool);
    lens_model_close(m);
    return out;
}

static void compare(const char *what, const float *a, const float *b, size_t n, int dim, double *max_abs,
                    double *min_cos)
{
    *max_abs = 0;
    *min_cos = 1;
    for (size_t i = 0; i < n; i++) {
        double dot = 0, na = 0, nb = 0;
        for (int d = 0; d < dim; d++) {
            double x = a[i * dim + d], y = b[i * dim + d];
            *max_abs = fmax(*max_abs, fabs(x - y));
            dot += x * y;
            na += x * x;
            nb += y * y;
        }
        *min_cos = fmin(*min_cos, dot / sqrt(na * nb));
    }
    printf("%-22s max |diff| %.3g, min cosine %.10f (1 - cos %.3g)\n", what, *max_abs, *min_cos, 1 - *min_cos);
}

int main(int argc, char **argv)
{
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: %s MODEL_DIR TEXTS.jsonl REF.npy [N]\n", argv[0]);
        return 2;
    }
    lens_error err = {0};
    float *ref = NULL;
    size_t rows = 0, cols = 0;
    CHECK(lens_npy_read_f32(argv[3], &ref, &rows, &cols, &err) == 0, "%s", err.msg);
    lens_reader *r = NULL;
    CHECK(lens_reader_open(&r, argv[2], NULL, &err) == 0, "%s", err.msg);
    if (!ref || !r) TEST_DONE();
    if (argc == 5 && (size_t)atol(argv[4]) < rows) rows = (size_t)atol(argv[4]);
    const char **texts = calloc(rows + 1, sizeof *texts);
    size_t n = 0;
    const char *t, *id;
    size_t len;
    while (n < rows && lens_reader_next(r, &t, &len, &id, &err) == 1) texts[n++] = strdup(t);
    CHECK(n == rows, "%zu texts but %zu reference rows", n, rows);
    if (argc != 5 && lens_reader_next(r, &t, &len, &id, &err) == 1) CHECK(0, "more texts than reference rows");
    lens_reader_close(r);
    if (n != rows) TEST_DONE();

    int dim = 0;
    float *fp32 = embed(argv[1], LENS_FP32, 2, 4096, texts, n, &dim);
    if (!fp32) TEST_DONE();
    CHECK((size_t)dim == cols, "dim %d vs reference %zu", dim, cols);
    double max_abs, min_cos;
    compare("fp32 vs torch float64", fp32, ref, n, dim, &max_abs, &min_cos);
    CHECK(max_abs <= 1e-5, "fp32 max abs diff %g > 1e-5", max_abs);
    CHECK(1 - min_cos <= 1e-8, "fp32 1 - cos %g > 1e-8", 1 - min_cos);

    /* batch size and threads must not change a single bit */
    float *small = embed(argv[1], LENS_FP32, 1, 300, texts, n, &dim);
    CHECK(small && memcmp(small, fp32, n * dim * sizeof(float)) == 0, "fp32 differs with 1 thread, 300-token batches");
    free(small);

    float *bf16 = embed(argv[1], LENS_BF16, 2, 4096, texts, n, &dim);
    compare("bf16 vs fp32", bf16, fp32, n, dim, &max_abs, &min_cos);
    CHECK(min_cos >= 0.9999, "bf16 min cosine %.6f < 0.9999", min_cos);
    float *int8 = embed(argv[1], LENS_INT8, 2, 4096, texts, n, &dim);
    compare("int8 vs fp32", int8, fp32, n, dim, &max_abs, &min_cos);
    CHECK(min_cos >= 0.998, "int8 min cosine %.6f < 0.998", min_cos);
    float *int8b = embed(argv[1], LENS_INT8, 1, 300, texts, n, &dim);
    CHECK(int8b && memcmp(int8b, int8, n * dim * sizeof(float)) == 0, "int8 differs with 1 thread, 300-token batches");

    free(bf16); free(int8); free(int8b); free(fp32); free(ref);
    for (size_t i = 0; i < n; i++) free((void *)texts[i]);
    free(texts);
    TEST_DONE();
}
