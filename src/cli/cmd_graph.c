/* lens graph: TF.js graph models (model.json + weight shards). */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lens/graph.h"

static const char *graph_usage =
    "usage: lens graph info MODEL_DIR   inputs, outputs, op histogram, parameters, FLOPs\n"
    "MODEL_DIR holds a TF.js graph model: model.json and the weight shards it names\n"
    "(`lens model pull human-models` installs twelve under <cache>/human-models/).\n";

static void print_port(const char *what, const lens_graph_port *p)
{
    printf("%s %s %s [", what, p->name, lens_graph_dtype_name(p->dtype));
    for (int i = 0; i < p->rank; i++) printf("%s%lld", i ? ", " : "", (long long)p->dims[i]);
    printf("]\n");
}

static int info(const char *dir)
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
        if (argc != 3) return cli_fail("graph info: needs one MODEL_DIR");
        return info(argv[2]);
    }
    return cli_fail("graph: unknown subcommand '%s' (info)", argv[1]);
}
