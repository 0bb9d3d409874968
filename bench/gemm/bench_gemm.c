/* bench_gemm: GFLOPS of the lens linear kernels on the encoder's shapes,
 * next to OpenBLAS sgemm in the same process (when linked).
 * usage: bench_gemm [M] [threads] */
#include <stdio.h>
#include <stdlib.h>

#include "base/clock.h"
#include "nn/linear.h"
#ifdef HAVE_OPENBLAS
#include <cblas.h>
#endif

int main(int argc, char **argv)
{
    int M = argc > 1 ? atoi(argv[1]) : 4096, threads = argc > 2 ? atoi(argv[2]) : 0;
    static const int shapes[][2] = {{1152, 384}, {384, 384}, {1536, 384}, {384, 1536}}; /* n, k */
    lens_pool *pool = NULL;
    lens_error err = {0};
    if (lens_pool_new(&pool, threads, &err)) return 1;
    lens__kernel kern = lens__kernel_detect();
    printf("M=%d threads=%d kernel=%s\n%-12s %10s %10s %10s %10s\n", M, lens_pool_size(pool), lens__kernel_name(kern),
           "n x k", "fp32", "bf16", "int8", "openblas");
    for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
        int n = shapes[s][0], k = shapes[s][1];
        float *W = malloc((size_t)n * k * 4), *x = malloc((size_t)M * k * 4), *y = malloc((size_t)M * n * 4);
        for (size_t i = 0; i < (size_t)n * k; i++) W[i] = (float)rand() / RAND_MAX - 0.5f;
        for (size_t i = 0; i < (size_t)M * k; i++) x[i] = (float)rand() / RAND_MAX - 0.5f;
        double flops = 2.0 * M * n * k, g[4] = {0};
        for (int p = 0; p < 3; p++) {
            lens__linear l;
            lens__linear_ws ws = {0};
            lens__linear_init(&l, W, NULL, n, k, (lens_precision)p, kern, NULL, &err);
            lens__linear_ws_reserve(&ws, M, k, &err);
            double best = 1e30;
            for (int rep = 0; rep < 6; rep++) {
                double t0 = lens__clock_mono();
                lens__linear_forward(&l, x, M, y, LENS__EPI_BIAS, NULL, &ws, pool);
                double dt = lens__clock_mono() - t0;
                if (rep && dt < best) best = dt;
            }
            g[p] = flops / best / 1e9;
            lens__linear_free(&l);
            lens__linear_ws_free(&ws);
        }
#ifdef HAVE_OPENBLAS
        openblas_set_num_threads(lens_pool_size(pool));
        double best = 1e30;
        for (int rep = 0; rep < 6; rep++) {
            double t0 = lens__clock_mono();
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, M, n, k, 1.0f, x, k, W, k, 0.0f, y, n);
            double dt = lens__clock_mono() - t0;
            if (rep && dt < best) best = dt;
        }
        g[3] = flops / best / 1e9;
#endif
        char name[32];
        snprintf(name, sizeof name, "%dx%d", n, k);
        printf("%-12s %10.1f %10.1f %10.1f %10.1f   GFLOPS (int8/bf16: effective)\n", name, g[0], g[1], g[2], g[3]);
        free(W); free(x); free(y);
    }
    lens_pool_free(pool);
    return 0;
}
