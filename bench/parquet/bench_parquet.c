/* Decodes one column (default "review") of a Parquet file with lens's reader,
 * row group by row group as lens_table does, and prints MB/s of decoded
 * values and rows/s, best of N runs, on one thread like the node peers.
 * bench/parquet/run.sh compares it with them on the same file.
 *
 * usage: bench_parquet FILE.parquet [COLUMN] [RUNS] */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "lens/parquet.h"

static double now(clockid_t clk)
{
    struct timespec ts;
    clock_gettime(clk, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench(const char *path, const char *col, int runs)
{
    double best = 1e30, best_cpu = 1e30; /* CPU time is steadier on a shared machine */
    long long rows = 0, bytes = 0, nulls = 0;
    unsigned long long check = 0;
    for (int run = 0; run < runs; run++) {
        double t0 = now(CLOCK_MONOTONIC), c0 = now(CLOCK_PROCESS_CPUTIME_ID);
        lens_parquet *p;
        lens_error err = {0};
        if (lens_parquet_open(&p, path, &err)) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        int c = lens_parquet_find_column(p, col);
        if (c < 0 || lens_parquet_select(p, &c, 1, &err)) {
            fprintf(stderr, "%s: no column %s %s\n", path, col, err.msg);
            return 1;
        }
        rows = bytes = nulls = 0;
        check = 0;
        for (int g = 0; g < lens_parquet_num_row_groups(p); g++) {
            if (lens_parquet_read_row_group(p, g, &err)) {
                fprintf(stderr, "%s\n", err.msg);
                return 1;
            }
            lens_parquet_values v;
            lens_parquet_values_get(p, 0, &v);
            rows += v.n;
            if (v.offsets) {
                bytes += v.offsets[v.n] - v.offsets[0];
                /* touch each value's end so nothing is skipped */
                for (int64_t i = 0; i < v.n; i++) {
                    int64_t e = v.offsets[i + 1];
                    if (e > v.offsets[i]) check += v.data[e - 1];
                }
            }
            if (v.valid)
                for (int64_t i = 0; i < v.n; i++) nulls += !v.valid[i];
        }
        lens_parquet_close(p);
        double dt = now(CLOCK_MONOTONIC) - t0, dc = now(CLOCK_PROCESS_CPUTIME_ID) - c0;
        if (dt < best) best = dt;
        if (dc < best_cpu) best_cpu = dc;
    }
    printf("lens: column %s: %lld rows, %lld value bytes, %lld nulls (check %llu)\n", col, rows, bytes, nulls, check);
    printf("lens: best of %d: %.4f s (cpu %.4f s), %.1f MB/s, %.0f rows/s\n", runs, best, best_cpu,
           (double)bytes / best / 1e6, (double)rows / best);
    printf("RESULT lens seconds=%.6f cpu=%.6f rows=%lld bytes=%lld\n", best, best_cpu, rows, bytes);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s FILE.parquet [COLUMN] [RUNS]\n", argv[0]);
        return 2;
    }
    const char *col = argc > 2 ? argv[2] : "review";
    int runs = argc > 3 ? atoi(argv[3]) : 5;
    return bench(argv[1], col, runs);
}
