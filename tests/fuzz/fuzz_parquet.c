/* libFuzzer target for the Parquet reader: any bytes, opened from memory,
 * every flat column of every row group decoded and every value touched.
 * Errors are fine; crashes, leaks, UB and unbounded allocation are not.
 * Built and run by tests/fuzz/run.sh. */
#include <stddef.h>
#include <stdint.h>

#include "lens/parquet.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lens_parquet *p;
    lens_error err = {0};
    if (lens_parquet_open_memory(&p, "fuzz.parquet", data, size, &err)) return 0;
    /* well under libFuzzer's RSS limit: a file asking for more must be refused, not OOM */
    lens_parquet_set_memory_limit(p, (size_t)256 << 20);
    int sel[256], n = 0;
    for (int i = 0; i < lens_parquet_num_columns(p) && n < 256; i++)
        if (!lens_parquet_describe(p, i)->nested) sel[n++] = i;
    if (lens_parquet_select(p, sel, n, &err) == 0) {
        for (int g = 0; g < lens_parquet_num_row_groups(p); g++) {
            if (lens_parquet_read_row_group(p, g, &err)) continue; /* a bad group need not spoil the next */
            for (int c = 0; c < n; c++) {
                lens_parquet_values v;
                if (lens_parquet_values_get(p, c, &v)) continue;
                volatile unsigned sum = 0;
                for (int64_t r = 0; r < v.n; r++) {
                    char scratch[64];
                    size_t len;
                    const char *t = lens_parquet_value_text(&v, lens_parquet_describe(p, sel[c]), r, scratch, &len);
                    if (t && len) sum += (unsigned char)t[0] + (unsigned char)t[len - 1];
                }
            }
        }
    }
    lens_parquet_close(p);
    return 0;
}
