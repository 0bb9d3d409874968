/* One lens_graph serves every thread: runs of one graph on several threads
 * at once (the first of them packing the convolution filters) give exactly
 * what one run on a graph of its own gives.
 * usage: test_graph_threads MODELS_DIR (the human-models cache) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lens/graph.h"

#define THREADS 4
#define RUNS 3

static const char *const models[] = {"emotion", "iris", "blazeface"};

typedef struct {
    lens_graph *g;
    const float *const *in;
    void **ref;
    size_t *bytes;
    int n_out, bad;
} job;

static void *worker(void *arg)
{
    job *j = arg;
    void *out[16];
    for (int r = 0; r < RUNS; r++) {
        lens_error err;
        lens_error_clear(&err);
        if (lens_graph_run(j->g, j->in, out, &err)) {
            fprintf(stderr, "run: %s\n", err.msg);
            j->bad = 1;
            return NULL;
        }
        for (int o = 0; o < j->n_out; o++) {
            if (memcmp(out[o], j->ref[o], j->bytes[o])) j->bad = 1;
            free(out[o]);
        }
    }
    return NULL;
}

static int one(const char *dir)
{
    lens_error err;
    lens_error_clear(&err);
    lens_graph *solo, *shared;
    if (lens_graph_open(&solo, dir, &err) || lens_graph_open(&shared, dir, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    int n_in = lens_graph_num_inputs(solo), n_out = lens_graph_num_outputs(solo);
    if (n_in > 16 || n_out > 16) return 1;
    float *in[16];
    void *ref[16];
    size_t bytes[16];
    unsigned s = 12345;
    for (int i = 0; i < n_in; i++) {
        lens_graph_port p;
        lens_graph_input(solo, i, &p);
        size_t n = 1;
        for (int d = 0; d < p.rank; d++) n *= (size_t)(p.dims[d] > 0 ? p.dims[d] : 1);
        in[i] = malloc(n * sizeof(float));
        for (size_t k = 0; k < n; k++) {
            s = s * 1664525u + 1013904223u;
            in[i][k] = p.dtype == LENS_GRAPH_INT32 ? (float)(s >> 24) : (float)(s >> 8) / 16777216.0f;
        }
    }
    if (lens_graph_run(solo, (const float *const *)in, ref, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    for (int o = 0; o < n_out; o++) {
        lens_graph_port p;
        lens_graph_output(solo, o, &p);
        bytes[o] = 4;
        for (int d = 0; d < p.rank; d++) bytes[o] *= (size_t)p.dims[d];
    }
    pthread_t th[THREADS];
    job jobs[THREADS];
    for (int t = 0; t < THREADS; t++) {
        jobs[t] = (job){shared, (const float *const *)in, ref, bytes, n_out, 0};
        pthread_create(&th[t], NULL, worker, &jobs[t]);
    }
    int bad = 0;
    for (int t = 0; t < THREADS; t++) pthread_join(th[t], NULL), bad |= jobs[t].bad;
    printf("%s: %d threads x %d runs of one graph %s a run of its own\n", lens_graph_name(shared), THREADS, RUNS,
           bad ? "DIFFER from" : "equal");
    for (int i = 0; i < n_in; i++) free(in[i]);
    for (int o = 0; o < n_out; o++) free(ref[o]);
    lens_graph_close(solo);
    lens_graph_close(shared);
    return bad;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_graph_threads MODELS_DIR\n");
        return 2;
    }
    int failed = 0;
    for (size_t m = 0; m < sizeof models / sizeof *models; m++) {
        char dir[4096];
        snprintf(dir, sizeof dir, "%s/%s", argv[1], models[m]);
        failed += one(dir);
    }
    printf("%d passed, %d failed\n", (int)(sizeof models / sizeof *models) - failed, failed);
    return failed != 0;
}
