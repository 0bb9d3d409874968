/* UMAP benchmark driver.
 *
 *   bench_umap gen N DIM OUT.npy [--clusters C] [--seed S] [--iso]
 *       synthetic clustered points (see synth_row) as float32 .npy
 *   bench_umap run IN OUT.npy [--fit-size N] [--full] [--threads N] [--metric M]
 *                  [--epochs N] [--neighbors K] [--seed S] [--chunk N]
 *       IN is a float32 .npy or syn:N:DIM[:C] / iso:N:DIM[:C] (the same
 *       synthetic points made row by row on demand, so the input itself
 *       takes no memory). --full
 *       fits every point (lens_umap_fit); otherwise lens_umap_run_rows fits
 *       a sample and streams the rest. Prints one line of phase timings. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/clock.h"
#include "lens/io.h"
#include "lens/umap.h"

static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static double unif(uint64_t *s)
{
    *s += 0x9e3779b97f4a7c15ULL;
    return ((mix(*s) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

static double gauss(uint64_t *s)
{
    double u = unif(s), v = unif(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

/* Synthetic embeddings: C clusters, each a Gaussian of intrinsic dimension
 * R (10) in a random subspace of R^dim around a random centre, plus a little
 * isotropic noise; norms about 1 like sentence embeddings. Cluster sizes and
 * spreads vary. Row i depends only on (seed, i), so rows can be made on
 * demand. "iso" instead: isotropic Gaussian blobs (every within-cluster
 * distance alike, the hard case for neighbour search). */
#define R 10

typedef struct {
    int dim, clusters, iso;
    uint64_t seed;
    float *centers, *basis; /* clusters x dim; clusters x R x dim */
} synth;

static void synth_init(synth *g, int dim, int clusters, uint64_t seed, int iso)
{
    g->dim = dim;
    g->clusters = clusters;
    g->seed = seed;
    g->iso = iso;
    g->centers = malloc((size_t)clusters * dim * sizeof *g->centers);
    g->basis = malloc((size_t)clusters * R * dim * sizeof *g->basis);
    uint64_t s = mix(seed);
    double sc = 1.0 / sqrt((double)dim);
    for (int i = 0; i < clusters * dim; i++) g->centers[i] = (float)(gauss(&s) * (iso ? 1.0 : sc));
    for (int i = 0; i < clusters * R * dim; i++) g->basis[i] = (float)(gauss(&s) * sc);
}

static void synth_row(const synth *g, size_t i, float *out)
{
    uint64_t s = mix(g->seed ^ mix(i + 1));
    /* cluster c with probability ~ 1 + (c % 5): sizes vary fivefold */
    double u = unif(&s) * g->clusters * 3.0, acc = 0;
    int c = 0;
    for (; c < g->clusters - 1; c++) {
        acc += 1 + (c % 5);
        if (u < acc) break;
    }
    const float *cen = g->centers + (size_t)c * g->dim;
    if (g->iso) {
        float spread = 0.25f + 0.25f * (float)(c % 4);
        for (int d = 0; d < g->dim; d++) out[d] = cen[d] + spread * (float)gauss(&s);
        return;
    }
    float z[R], spread = 0.15f + 0.05f * (float)(c % 5), noise = 0.05f / sqrtf((float)g->dim) * 1.7320508f;
    for (int r = 0; r < R; r++) z[r] = (float)gauss(&s) * spread;
    for (int d = 0; d < g->dim; d++) {
        /* cheap noise: a sum of two uniforms, scaled to the wanted deviation */
        uint64_t h = mix(s + (uint64_t)d * 0x9e3779b97f4a7c15ULL);
        float e = ((float)(h >> 40) + (float)((h >> 16) & 0xffffff)) * (1.0f / 16777216.0f) - 1.0f;
        out[d] = cen[d] + noise * e;
    }
    const float *B = g->basis + (size_t)c * R * g->dim;
    for (int r = 0; r < R; r++)
        for (int d = 0; d < g->dim; d++) out[d] += z[r] * B[(size_t)r * g->dim + d];
}

static int synth_rows(void *ctx, size_t first, size_t count, float *out, lens_error *err)
{
    const synth *g = ctx;
    for (size_t i = 0; i < count; i++) synth_row(g, first + i, out + i * g->dim);
    return 0;
}

typedef struct {
    double t0, last;
    const char *phase;
    char log[512];
    size_t len;
} timing;

static void on_progress(void *ctx, size_t done, size_t total, const char *phase)
{
    timing *t = ctx;
    if (t->phase && strcmp(t->phase, phase) != 0) {
        double x = lens__clock_mono();
        t->len += snprintf(t->log + t->len, sizeof t->log - t->len, " %s %.2fs", t->phase, x - t->last);
        t->last = x;
    }
    t->phase = phase;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && !strcmp(argv[1], "gen")) {
        size_t n = strtoull(argv[2], NULL, 10);
        int dim = atoi(argv[3]), clusters = 50, iso = 0;
        uint64_t seed = 1;
        for (int i = 5; i < argc; i++) {
            if (!strcmp(argv[i], "--iso")) iso = 1;
            else if (i + 1 < argc && !strcmp(argv[i], "--clusters")) clusters = atoi(argv[++i]);
            else if (i + 1 < argc && !strcmp(argv[i], "--seed")) seed = strtoull(argv[++i], NULL, 10);
        }
        synth g;
        synth_init(&g, dim, clusters, seed, iso);
        lens_error err = {0};
        lens_npy_writer *w;
        float *row = malloc((size_t)dim * 4096 * sizeof *row);
        if (lens_npy_create(&w, argv[4], dim, &err)) goto fail;
        for (size_t i = 0; i < n; i += 4096) {
            size_t m = n - i < 4096 ? n - i : 4096;
            synth_rows(&g, i, m, row, &err);
            if (lens_npy_append(w, row, m, &err)) goto fail;
        }
        if (lens_npy_finish(w, &err)) goto fail;
        free(row);
        free(g.centers);
        free(g.basis);
        return 0;
    fail:
        fprintf(stderr, "bench_umap: %s\n", err.msg);
        return 1;
    }
    if (argc < 4 || strcmp(argv[1], "run") != 0) {
        fputs("usage: bench_umap gen N DIM OUT.npy [--clusters C] [--seed S] [--iso]\n"
              "       bench_umap run IN.npy|syn:N:DIM[:C]|iso:N:DIM[:C] OUT.npy [--fit-size N] [--full] [--threads N]\n"
              "                  [--metric euclidean|cosine] [--epochs N] [--neighbors K] [--seed S] [--chunk N]\n",
              stderr);
        return 2;
    }
    const char *in = argv[2], *outp = argv[3];
    lens_umap_opts o;
    lens_umap_opts_default(&o);
    int full = 0;
    for (int i = 4; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "0";
        if (!strcmp(a, "--full")) { full = 1; continue; }
        if (!strcmp(a, "--fit-size")) o.fit_size = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--threads")) o.threads = atoi(v);
        else if (!strcmp(a, "--metric")) lens_umap_metric_parse(v, &o.metric);
        else if (!strcmp(a, "--epochs")) o.n_epochs = atoi(v);
        else if (!strcmp(a, "--neighbors")) o.n_neighbors = atoi(v);
        else if (!strcmp(a, "--seed")) o.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--chunk")) o.chunk = strtoull(v, NULL, 10);
        else { fprintf(stderr, "bench_umap: unknown option %s\n", a); return 2; }
        i++;
    }
    lens_error err = {0};
    float *x = NULL;
    size_t n = 0, dim = 0;
    synth g = {0};
    double t0 = lens__clock_mono();
    if (!strncmp(in, "syn:", 4) || !strncmp(in, "iso:", 4)) {
        unsigned long long nn = 0;
        int d = 0, c = 50;
        if (sscanf(in + 4, "%llu:%d:%d", &nn, &d, &c) < 2) { fprintf(stderr, "bench_umap: bad %s\n", in); return 2; }
        n = nn;
        dim = (size_t)d;
        synth_init(&g, d, c, 1, in[0] == 'i');
    } else if (lens_npy_read_f32(in, &x, &n, &dim, &err)) {
        fprintf(stderr, "bench_umap: %s\n", err.msg);
        return 1;
    }
    double t_load = lens__clock_mono() - t0;
    timing tm = {0};
    tm.t0 = tm.last = lens__clock_mono();
    o.progress = on_progress;
    o.ctx = &tm;
    float *out = malloc(n * (size_t)o.n_components * sizeof *out);
    int rc;
    if (full) {
        lens_pool *pool = NULL;
        lens_umap *u = NULL;
        if (!x) {
            x = malloc(n * dim * sizeof *x);
            synth_rows(&g, 0, n, x, &err);
        }
        rc = lens_pool_new(&pool, o.threads, &err);
        if (!rc) rc = lens_umap_fit(&u, x, n, (int)dim, &o, pool, &err);
        if (!rc) memcpy(out, lens_umap_embedding(u), n * o.n_components * sizeof *out);
        lens_umap_free(u);
        lens_pool_free(pool);
    } else if (x) {
        rc = lens_umap_run(x, n, (int)dim, &o, out, &err);
    } else {
        rc = lens_umap_run_rows(synth_rows, &g, n, (int)dim, &o, out, &err);
    }
    if (rc) {
        fprintf(stderr, "bench_umap: %s\n", err.msg);
        return 1;
    }
    on_progress(&tm, 0, 0, "end");
    double t_umap = lens__clock_mono() - tm.t0;
    lens_npy_writer *w;
    if (lens_npy_create(&w, outp, o.n_components, &err) || lens_npy_append(w, out, n, &err) ||
        lens_npy_finish(w, &err)) {
        fprintf(stderr, "bench_umap: %s\n", err.msg);
        return 1;
    }
    printf("lens: %zu points x %zu, %s, load %.2fs, umap %.2fs:%s\n", n, dim, full ? "full fit" : "fit+stream", t_load,
           t_umap, tm.log);
    free(x);
    free(out);
    free(g.centers);
    free(g.basis);
    return 0;
}
