/* lens analyze: reviews + themes.json -> themes, sentiment and reports. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sys/stat.h>

#include "cli.h"
#include "lens/analyze.h"

static const char *analyze_usage =
    "usage: lens analyze --themes THEMES.json -o OUTDIR [options] INPUT...\n"
    "  INPUT                 review files (.csv, .jsonl, optionally .zst; .parquet) or directories\n"
    "  --themes F            steamLens themes.json: {\"<appid>\": {\"<theme>\": [keywords]}}\n"
    "  -o, --output DIR      where assignments.csv, report.csv, report.json, summaries.csv and\n"
    "                        report.html go; a stopped or killed run resumes when run again\n"
    "  --model M             model directory or cached name (default: all-MiniLM-L6-v2 when\n"
    "                        pulled, else the bundled static model trained on Steam reviews)\n"
    "  --precision P         fp32 | bf16 | int8 (default fp32)\n"
    "  --language L          keep reviews in this language (default english; 'all' keeps all)\n"
    "  --min-similarity S    reviews whose best theme is below S go to 'unassigned'; auto (the\n"
    "                        default): the model's value chosen from data (0.14 for the bundled\n"
    "                        static model; tools/choose_min_similarity.py), off: never\n"
    "  --top-k K             assign each review to its K best themes (default 1, at most 8)\n"
    "  --sentiment S         auto (default): voted_up where a file has it, else VADER on the\n"
    "                        text; voted_up: an error without it; vader: always VADER\n"
    "  --quotes K            representative quotes per game, theme and sentiment, chosen from\n"
    "                        every sentence of every review (default 5; 0 skips summaries)\n"
    "  --threads N, --batch-tokens N\n"
    "  --chunk N             reviews per chunk and checkpoint (default 2048, the most)\n"
    "  --restart             ignore the checkpoint in OUTDIR instead of resuming from it\n"
    "  --map                 also a 2-D map of the reviews (UMAP): map.csv and, per game, a\n"
    "                        map coloured by theme in report.html\n"
    "  --app-column C, --text-column C, --voted-column C, --language-column C,\n"
    "  --name-column C, --id-column C   override the detected Steam columns\n";

typedef struct {
    cli_progress bar;
    const lens_analyze_stats *st;
    int rebased;
} progress_ctx;

static void on_progress(void *ctx, uint64_t rows, double fraction)
{
    progress_ctx *p = ctx;
    p->bar.total = p->st->rows_total;
    if (!p->rebased) { /* the first call: reading starts (a resumed job: where it stood) */
        cli_progress_rebase(&p->bar, rows, fraction);
        p->rebased = 1;
        if (p->st->resumed)
            fprintf(stderr, "lens: resuming from the checkpoint in the output directory: %llu rows done\n",
                    (unsigned long long)rows);
        return;
    }
    cli_progress_update(&p->bar, rows, fraction);
}

int cmd_analyze(int argc, char **argv)
{
    char cache[4200];
    lens_analyze_opts o = {.model = cli_default_model(cache, sizeof cache), .language = "english", .min_similarity = NAN, .vader_lexicon = LENS_BUNDLED_VADER,
                           .top_k = 1, .quotes = 5, .batch_tokens = 4096};
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    if (!inputs) return cli_fail("out of memory");
    int n = 0, status = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        const char **target = NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(analyze_usage, stdout);
            free(inputs);
            return 0;
        }
        if (!strcmp(a, "--themes")) target = &o.themes;
        else if (!strcmp(a, "-o") || !strcmp(a, "--output")) target = &o.out_dir;
        else if (!strcmp(a, "--model")) target = &o.model;
        else if (!strcmp(a, "--language")) target = &o.language;
        else if (!strcmp(a, "--app-column")) target = &o.col_app;
        else if (!strcmp(a, "--text-column")) target = &o.col_text;
        else if (!strcmp(a, "--voted-column")) target = &o.col_voted;
        else if (!strcmp(a, "--language-column")) target = &o.col_language;
        else if (!strcmp(a, "--name-column")) target = &o.col_name;
        else if (!strcmp(a, "--id-column")) target = &o.col_id;
        else if (!strcmp(a, "--sentiment")) {
            if (!v || (strcmp(v, "auto") && strcmp(v, "voted_up") && strcmp(v, "vader"))) {
                cli_fail("--sentiment must be auto, voted_up or vader");
                goto out;
            }
            o.sentiment = v[0] == 'a' ? LENS_SENTIMENT_AUTO : v[1] == 'o' ? LENS_SENTIMENT_VOTED_UP : LENS_SENTIMENT_VADER;
            i++;
            continue;
        } else if (!strcmp(a, "--restart") || !strcmp(a, "--map")) {
            if (a[2] == 'r') o.restart = 1;
            else o.map = 1;
            continue;
        } else if (!strcmp(a, "--precision")) {
            if (!v || lens_precision_parse(v, &o.precision)) { cli_fail("--precision must be fp32, bf16 or int8"); goto out; }
            i++;
            continue;
        } else if (!strcmp(a, "--threads") || !strcmp(a, "--batch-tokens") || !strcmp(a, "--top-k") ||
                   !strcmp(a, "--quotes") || !strcmp(a, "--chunk")) {
            int *dst = !strcmp(a, "--threads") ? &o.threads : !strcmp(a, "--batch-tokens") ? &o.batch_tokens
                     : !strcmp(a, "--top-k") ? &o.top_k : !strcmp(a, "--chunk") ? &o.chunk : &o.quotes;
            int hi = dst == &o.top_k ? 8 : dst == &o.quotes ? 100 : dst == &o.chunk ? 2048 : 1 << 20;
            if (cli_int(a, v, dst == &o.quotes ? 0 : 1, hi, dst)) goto out;
            i++;
            continue;
        } else if (!strcmp(a, "--min-similarity")) {
            char *end = "";
            int word = v && (!strcmp(v, "off") || !strcmp(v, "auto"));
            o.min_similarity = !v ? 0 : !word ? strtof(v, &end) : v[0] == 'o' ? -2.0f : NAN;
            if (!v || *end || (!word && (o.min_similarity < -1 || o.min_similarity > 1))) {
                cli_fail("--min-similarity needs a number in -1..1, auto or off");
                goto out;
            }
            i++;
            continue;
        } else if (a[0] == '-' && a[1]) {
            cli_fail("analyze: unknown option %s (see lens analyze --help)", a);
            goto out;
        } else {
            inputs[n++] = a;
            continue;
        }
        if (!v) {
            cli_fail("analyze: %s needs a value", a);
            goto out;
        }
        *target = v;
        i++;
    }
    if (!o.themes || !o.out_dir || n == 0) {
        fputs(analyze_usage, stderr);
        status = 2;
        goto out;
    }
    if (!strcmp(o.language, "all")) o.language = NULL;
    o.inputs = inputs;
    o.n_inputs = n;
    cli_install_signals();
    lens_analyze_stats st;
    progress_ctx p = {.st = &st};
    cli_progress_start(&p.bar, "analyze");
    o.progress = on_progress;
    o.ctx = &p;
    o.stop = &cli_stop;
    lens_error err = {0};
    if (lens_analyze_run(&o, &st, &err)) {
        if (err.code == LENS_ECANCEL) {
            cli_fail("stopped after %llu reviews; progress is saved in %s/.lens-checkpoint: run the same command "
                     "again to resume", (unsigned long long)st.rows, o.out_dir);
            status = 130;
        } else {
            cli_fail("%s", err.msg);
        }
        goto out;
    }
    char extra[512];
    snprintf(extra, sizeof extra,
             "%llu analyzed, %llu empty, %llu other language, %llu reviews of %d apps without themes, %llu unassigned; "
             "%llu sentences%s; read %.1fs, embed %.1fs, assign %.1fs, summarize %.1fs, write %.1fs -> %s",
             (unsigned long long)st.analyzed, (unsigned long long)st.empty, (unsigned long long)st.other_language,
             (unsigned long long)st.unknown_app, st.unknown_apps, (unsigned long long)st.unassigned,
             (unsigned long long)st.sentences, st.resumed ? " (resumed from a checkpoint)" : "", st.seconds_read, st.seconds_embed, st.seconds_assign,
             st.seconds_summarize, st.seconds_write, o.out_dir);
    cli_progress_done(&p.bar, st.rows, extra);
    if (st.invalid_utf8)
        fprintf(stderr, "lens: %llu rows had invalid UTF-8: %llu bytes replaced by U+FFFD (counts.invalid_utf8 in "
                        "report.json)\n", (unsigned long long)st.invalid_utf8, (unsigned long long)st.invalid_utf8_bytes);
    status = 0;
out:
    free(inputs);
    return status;
}
