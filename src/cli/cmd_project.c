/* lens project: a 2-D or 3-D UMAP map of embeddings (or of texts, embedded
 * first), written as CSV rows id,x,y[,z] in input order. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "lens/io.h"
#include "lens/model.h"
#include "lens/project.h"
#include "lens/umap.h"


static const char *project_usage =
    "usage: lens project INPUT -o OUT.csv [options]\n"
    "  INPUT                float32/float64 .npy matrix [n, dim] (as lens embed writes), or texts:\n"
    "                       .txt (one per line), .jsonl or .csv, optionally .zst, embedded first\n"
    "  -o, --output OUT     CSV with header id,x,y[,z]; one row per input row, in input order\n"
    "  --neighbors N        UMAP n_neighbors, 2..200 (default 15)\n"
    "  --min-dist D         minimum distance between mapped points (default 0.1)\n"
    "  --spread S           scale of the mapped clusters (default 1.0)\n"
    "  --metric M           cosine | euclidean (default cosine)\n"
    "  --components N       2 or 3 (default 2)\n"
    "  --epochs N           optimisation epochs; 0: 500 up to 10,000 fitted points, else 200\n"
    "  --seed S             random seed (default 42); same seed, same map\n"
    "  --fit-size N         fit on a random sample of N points and place the rest by\n"
    "                       transform, chunk by chunk (default 25000; at least 1000)\n"
    "  --threads N          worker threads (default: all CPUs)\n"
    "  --model M            texts only: model directory or cached name (default: all-MiniLM-L6-v2\n"
    "                       when pulled, else the bundled static model)\n"
    "  --precision P        texts only: fp32 | bf16 | int8 (default fp32)\n"
    "  --field F            JSONL text field (default text)\n"
    "  --column C           CSV text column (default text, else review)\n"
    "  --id F               JSONL field / CSV column written as the id (default: the row index)\n";

/* lens_project_run reports the share of the whole run (embedding, fit,
 * transform) */
static void on_progress(void *ctx, const char *phase, size_t rows, double fraction)
{
    (void)phase;
    cli_progress_update(ctx, rows, fraction);
}

int cmd_project(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *model_name = NULL;
    char cache[4200];
    lens_umap_opts o;
    lens_umap_opts_default(&o);
    o.metric = LENS_UMAP_COSINE;
    lens_model_opts mo = {0};
    lens_reader_opts ro = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int ival;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(project_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { output = v; i++; }
        else if (!strcmp(a, "--model")) { model_name = v; i++; }
        else if (!strcmp(a, "--field")) { ro.field = v; i++; }
        else if (!strcmp(a, "--column")) { ro.column = v; i++; }
        else if (!strcmp(a, "--id")) { ro.id_field = v; i++; }
        else if (!strcmp(a, "--precision")) {
            if (!v || lens_precision_parse(v, &mo.precision)) return cli_fail("--precision must be fp32, bf16 or int8");
            i++;
        } else if (!strcmp(a, "--metric")) {
            if (lens_umap_metric_parse(v, &o.metric)) return cli_fail("--metric must be cosine or euclidean");
            i++;
        } else if (!strcmp(a, "--neighbors")) {
            if (cli_int(a, v, 2, 200, &o.n_neighbors)) return 1;
            i++;
        } else if (!strcmp(a, "--components")) {
            if (cli_int(a, v, 2, 3, &o.n_components)) return 1;
            i++;
        } else if (!strcmp(a, "--epochs")) {
            if (cli_int(a, v, 0, 100000, &o.n_epochs)) return 1;
            i++;
        } else if (!strcmp(a, "--threads")) {
            if (cli_int(a, v, 1, 256, &o.threads)) return 1;
            i++;
        } else if (!strcmp(a, "--fit-size")) {
            if (cli_int(a, v, 1, 1 << 30, &ival)) return 1;
            o.fit_size = (size_t)ival;
            i++;
        } else if (!strcmp(a, "--seed")) {
            char *end;
            unsigned long long s = v ? strtoull(v, &end, 10) : 0;
            if (!v || !*v || *end || v[0] == '-') return cli_fail("--seed needs a non-negative integer");
            o.seed = s;
            i++;
        } else if (!strcmp(a, "--min-dist") || !strcmp(a, "--spread")) {
            char *end;
            float f = v ? strtof(v, &end) : NAN;
            int spread = a[2] == 's';
            if (!v || !*v || *end || !isfinite(f) || (spread ? !(f > 0) : !(f >= 0)))
                return cli_fail("%s needs a number %s", a, spread ? "> 0" : ">= 0");
            if (spread) o.spread = f;
            else o.min_dist = f;
            i++;
        } else if (a[0] == '-' && a[1]) return cli_fail("project: unknown option %s (see lens project --help)", a);
        else if (!input) input = a;
        else return cli_fail("project: more than one INPUT (%s)", a);
        if (i >= argc) return cli_fail("project: %s needs a value", a);
    }
    if (!input || !output) {
        fputs(project_usage, stderr);
        return 2;
    }
    if (!(o.min_dist < 3 * o.spread)) return cli_fail("--min-dist must be below 3 x --spread");
    if (!model_name) model_name = cli_default_model(cache, sizeof cache);

    cli_install_signals();
    cli_progress bar;
    cli_progress_start(&bar, "project");
    lens_project_opts po = {.input = input, .output = output, .texts = ro, .model = model_name,
                            .precision = mo.precision, .threads = o.threads, .umap = o, .progress = on_progress,
                            .ctx = &bar, .stop = &cli_stop};
    lens_project_stats st;
    lens_error err = {0};
    int rc = lens_project_run(&po, &st, &err);
    if (rc == LENS_ECANCEL) {
        cli_fail("interrupted; %s was not written", output);
        return 130;
    }
    if (rc) return cli_fail("%s", err.msg);
    char extra[256];
    snprintf(extra, sizeof extra, "%d-D, %s, %zu fitted%s -> %s", o.n_components,
             o.metric == LENS_UMAP_COSINE ? "cosine" : "euclidean", st.fitted,
             st.rows > st.fitted ? " + the rest transformed" : "", output);
    cli_progress_done(&bar, st.rows, extra);
    return 0;
}
