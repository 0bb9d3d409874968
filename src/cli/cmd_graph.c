/* lens graph: TF.js graph models (model.json + weight shards). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "graph/graph_internal.h"
#include "lens/graph.h"

static const char *graph_usage =
    "usage: lens graph info MODEL_DIR [--nodes]\n"
    "       inputs, outputs, op histogram, parameters, FLOPs; --nodes: the plan, one\n"
    "       line per node that runs (op, name, inputs, output dtypes and shapes)\n"
    "MODEL_DIR holds a TF.js graph model: model.json and the weight shards it names\n"
    "(`lens model pull human-models` installs twelve under <cache>/human-models/).\n";

static void print_port(const char *what, const lens_graph_port *p)
{
    printf("%s %s %s [", what, p->name, lens_graph_dtype_name(p->dtype));
    for (int i = 0; i < p->rank; i++) printf("%s%lld", i ? ", " : "", (long long)p->dims[i]);
    printf("]\n");
}

static void print_shape(const lens__gshape *s)
{
    printf("[");
    for (int i = 0; i < s->rank; i++) printf("%s%lld", i ? "," : "", (long long)s->d[i]);
    printf("]");
}

/* the plan: what the kernels will run, in order */
static void print_nodes(const lens_graph *g)
{
    for (int k = 0; k < g->n_order; k++) {
        const lens__gnode *nd = &g->nodes[g->order[k]];
        printf("node %d %s %s <-", k, nd->op, nd->name);
        for (int i = 0; i < nd->n_in; i++) {
            const lens__gnode *s = &g->nodes[nd->in[i].node];
            printf(" %s", s->out_const && s->out_const[nd->in[i].port] ? "const" : "");
            print_shape(&s->out_shape[nd->in[i].port]);
        }
        printf(" ->");
        for (int i = 0; i < nd->n_out; i++) {
            printf(" %s", lens_graph_dtype_name(nd->out_dtype[i]));
            print_shape(&nd->out_shape[i]);
        }
        printf("\n");
    }
}

static int info(const char *dir, int nodes)
{
    lens_graph *g;
    lens_error err = {0};
    if (lens_graph_open(&g, dir, &err)) return cli_fail("%s", err.msg);
    lens_graph_stats st;
    lens_graph_get_stats(g, &st);
    printf("model %s\n", lens_graph_name(g));
    lens_graph_port p;
    for (int i = 0; i < lens_graph_num_inputs(g); i++) {
        lens_graph_input(g, i, &p);
        print_port("input", &p);
    }
    for (int i = 0; i < lens_graph_num_outputs(g); i++) {
        lens_graph_output(g, i, &p);
        print_port("output", &p);
    }
    printf("nodes %d (planned %d, folded %d)\n", st.nodes, st.planned, st.folded);
    printf("params %lld (%.2f MB of shards)\n", (long long)st.params, st.weight_bytes / 1e6);
    printf("flops %.0f (%.3f GFLOP per run, batch 1)\n", st.flops, st.flops / 1e9);
    for (int i = 0; i < lens_graph_num_ops(g); i++) {
        const char *op;
        int n;
        double fl;
        lens_graph_op(g, i, &op, &n, &fl);
        if (fl > 0) printf("op %s %d %.0f\n", op, n, fl);
        else printf("op %s %d\n", op, n);
    }
    if (nodes) print_nodes(g);
    lens_graph_close(g);
    return 0;
}

int cmd_graph(int argc, char **argv)
{
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(graph_usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    if (!strcmp(argv[1], "info")) {
        const char *dir = NULL;
        int nodes = 0;
        for (int i = 2; i < argc; i++) {
            if (!strcmp(argv[i], "--nodes")) nodes = 1;
            else if (argv[i][0] == '-') return cli_fail("graph info: unknown option %s", argv[i]);
            else if (dir) return cli_fail("graph info: one MODEL_DIR only");
            else dir = argv[i];
        }
        if (!dir) return cli_fail("graph info: needs a MODEL_DIR");
        return info(dir, nodes);
    }
    return cli_fail("graph: unknown subcommand '%s' (info)", argv[1]);
}
