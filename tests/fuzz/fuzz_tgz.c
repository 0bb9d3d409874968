/* libFuzzer target for the gzip'd tar reader (src/io/tgz.c) that unpacks the
 * npm tarball of `lens model pull human-models`: any bytes, every entry
 * listed and its data read. Errors are fine; crashes, leaks and UB are not.
 * Built and run by tests/fuzz/run_graph.sh. */
#include <stddef.h>
#include <stdint.h>

#include "io/tgz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    lens__tgz *t;
    lens_error err = {0};
    if (lens__tgz_open_memory(&t, "fuzz.tgz", data, size, &err)) return 0;
    lens__tgz_entry e;
    unsigned char buf[4096];
    volatile unsigned sum = 0;
    for (int i = 0; i < 10000 && lens__tgz_next(t, &e, &err) == 1; i++) {
        size_t got;
        sum += (unsigned char)e.name[0];
        while (lens__tgz_read(t, buf, sizeof buf, &got, &err) == 0 && got) sum += buf[0];
    }
    lens__tgz_close(t);
    return 0;
}
