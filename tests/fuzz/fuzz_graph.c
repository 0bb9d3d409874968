/* libFuzzer target for the TF.js graph loader, plan and executor: the input is
 * model.json, a NUL byte, then the bytes of its weight shard (every path the
 * manifest names reads them); a small graph that plans is run on zeros.
 * Errors are fine; crashes, leaks, UB and
 * unbounded allocation are not. Built and run by tests/fuzz/run_graph.sh;
 * test_graph replays the saved crashers (tests/fixtures/graph/crashers/graph-*). */
#include <stdlib.h>
#include <string.h>

#include "graph/graph_internal.h"

typedef struct {
    const unsigned char *data;
    size_t n;
} fuzz_mem;

static int fuzz_shard(void *ctx, const char *path, unsigned char **data, size_t *n, lens_error *err)
{
    const fuzz_mem *m = ctx;
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
    fuzz_mem m = {nul ? nul + 1 : data, nul ? size - jn - 1 : 0};
    lens_graph *g = calloc(1, sizeof *g);
    if (!g || !(g->name = strdup("fuzz"))) {
        free(g);
        return 0;
    }
    lens_error err = {0};
    if (lens__graph_load(g, (const char *)data, jn, fuzz_shard, &m, &err) == 0 && lens__graph_plan(g, &err) == 0) {
        /* a small plan runs too, on zeros: the kernels must hold on any graph the plan accepts */
        int64_t cells = 0;
        for (int k = 0; k < g->n_order; k++) {
            const lens__gnode *nd = &g->nodes[g->order[k]];
            for (int p = 0; p < nd->n_out; p++) {
                int64_t n = lens__gshape_numel(&nd->out_shape[p]);
                cells += n < 0 ? (int64_t)1 << 40 : n;
            }
        }
        if (cells <= (1 << 20) && g->stats.flops <= 1e8) {
            float **in = calloc((size_t)g->n_inputs + 1, sizeof *in);
            void **out = calloc((size_t)g->n_outputs + 1, sizeof *out);
            int ok = in && out;
            for (int i = 0; ok && i < g->n_inputs; i++) {
                const lens__gnode *nd = &g->nodes[g->inputs[i].ref.node];
                int64_t n = nd->out_shape ? lens__gshape_numel(&nd->out_shape[0]) : -1;
                ok = n >= 0 && (in[i] = calloc((size_t)n + 1, sizeof **in)) != NULL;
            }
            if (ok && lens_graph_run(g, (const float *const *)in, out, &err) == 0)
                for (int i = 0; i < g->n_outputs; i++) free(out[i]);
            for (int i = 0; in && i < g->n_inputs; i++) free(in[i]);
            free(in);
            free(out);
        }
    }
    lens__graph_free(g);
    return 0;
}
