/* libFuzzer target for the TF.js graph loader and plan: the input is
 * model.json, a NUL byte, then the bytes of its weight shard (every path the
 * manifest names reads them). Errors are fine; crashes, leaks, UB and
 * unbounded allocation are not. Built and run by tests/fuzz/run_graph.sh;
 * test_graph replays the saved crashers (tests/fixtures/graph/crashers/graph-*). */
#include <stdlib.h>
#include <string.h>

#include "graph/graph_internal.h"

typedef struct {
    const unsigned char *data;
    size_t n;
} mem;

static int shard(void *ctx, const char *path, unsigned char **data, size_t *n, lens_error *err)
{
    const mem *m = ctx;
    (void)path;
    if (!(*data = malloc(m->n ? m->n : 1))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    memcpy(*data, m->data, m->n);
    *n = m->n;
    return LENS_OK;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
    const unsigned char *nul = memchr(data, 0, size);
    size_t jn = nul ? (size_t)(nul - data) : size;
    mem m = {nul ? nul + 1 : data, nul ? size - jn - 1 : 0};
    lens_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup("fuzz"))) {
        free(g);
        return 0;
    }
    lens_error err = {0};
    if (lens__graph_load(g, (const char *)data, jn, shard, &m, &err) == 0) lens__graph_plan(g, &err);
    lens__graph_free(g);
    return 0;
}
