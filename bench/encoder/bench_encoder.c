/* bench_encoder: reviews/s and real tokens/s of the lens encoder on a JSONL
 * sample, per precision. One warm-up pass, then the best of --reps passes.
 * Prints one JSON line per precision (read by bench/encoder/run.sh).
 * usage: bench_encoder MODEL_DIR TEXTS.jsonl [--threads N] [--reps R]
 *        [--batch-tokens N] [--precision fp32,bf16,int8] [--per-call N]
 * --per-call N hands the encoder N texts per call (default: all at once);
 * 1 is what a server without batching does, one forward pass per text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "lens/io.h"
#include "lens/model.h"

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL_DIR TEXTS.jsonl [--threads N] [--reps R] [--batch-tokens N] [--precision LIST] [--per-call N]\n", argv[0]);
        return 2;
    }
    int threads = 0, reps = 3, batch_tokens = 4096;
    size_t per_call = 0;
    const char *precs = "fp32,bf16,int8";
    for (int i = 3; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--threads")) threads = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--reps")) reps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--batch-tokens")) batch_tokens = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--precision")) precs = argv[i + 1];
        else if (!strcmp(argv[i], "--per-call")) per_call = (size_t)atol(argv[i + 1]);
    }
    lens_error err = {0};
    lens_reader *r = NULL;
    if (lens_reader_open(&r, argv[2], NULL, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    size_t n = 0, cap = 1024;
    char **texts = malloc(cap * sizeof *texts);
    const char *t, *id;
    size_t len;
    while (lens_reader_next(r, &t, &len, &id, &err) == 1) {
        if (n == cap) texts = realloc(texts, (cap *= 2) * sizeof *texts);
        texts[n++] = strdup(t);
    }
    lens_reader_close(r);
    lens_pool *pool = NULL;
    if (lens_pool_new(&pool, threads, &err)) return 1;
    char list[64];
    snprintf(list, sizeof list, "%s", precs);
    for (char *p = strtok(list, ","); p; p = strtok(NULL, ",")) {
        lens_model_opts o = {0};
        if (lens_precision_parse(p, &o.precision)) {
            fprintf(stderr, "bad precision %s\n", p);
            return 1;
        }
        lens_model *m = NULL;
        lens_encoder *e = NULL;
        if (lens_model_open(&m, argv[1], &o, &err) || lens_encoder_new(&e, m, pool, batch_tokens, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        float *out = malloc(n * lens_model_dim(m) * sizeof *out);
        double best = 1e30;
        uint64_t tokens = 0;
        for (int rep = 0; rep <= reps; rep++) {
            tokens = 0;
            double t0 = lens__clock_mono();
            size_t step = per_call ? per_call : n;
            for (size_t i = 0; i < n; i += step)
                if (lens_encoder_embed(e, (const char *const *)texts + i, NULL, n - i < step ? n - i : step,
                                       out + i * lens_model_dim(m), &tokens, &err)) {
                    fprintf(stderr, "%s\n", err.msg);
                    return 1;
                }
            double dt = lens__clock_mono() - t0;
            if (rep > 0 && dt < best) best = dt; /* rep 0 warms up */
        }
        printf("{\"peer\":\"lens\",\"precision\":\"%s\",\"kernel\":\"%s\",\"threads\":%d,\"reviews\":%zu,"
               "\"per_call\":%zu,\"tokens\":%llu,\"seconds\":%.4f,\"reviews_per_s\":%.1f,\"tokens_per_s\":%.1f}\n",
               p, lens_model_kernel(m), lens_pool_size(pool), n, per_call ? per_call : n, (unsigned long long)tokens, best, n / best,
               tokens / best);
        fflush(stdout);
        free(out);
        lens_encoder_free(e);
        lens_model_close(m);
    }
    lens_pool_free(pool);
    for (size_t i = 0; i < n; i++) free(texts[i]);
    free(texts);
    return 0;
}
