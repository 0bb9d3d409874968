/* lens train-static: word vectors + SIF pooling into a lens-static model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"
#include "lens/static_train.h"

#define MAX_INPUTS 256

static const char *train_static_usage =
    "usage: lens train-static [options] INPUT... -o DIR\n"
    "  INPUT               .txt (one text per line), .jsonl or .csv, optionally .zst\n"
    "  -o, --output DIR    model directory (config.json, vocab.txt, model.safetensors),\n"
    "                      written to a temporary directory and renamed into place\n"
    "  --dim N             vector size (default 128)\n"
    "  --epochs N          passes over the texts (default 5)\n"
    "  --window N          context words each side (default 5)\n"
    "  --negative N        negative samples per context word (default 5)\n"
    "  --min-count N       ignore words seen fewer times (default 5)\n"
    "  --max-vocab N       keep the N most frequent words (default 60000)\n"
    "  --threads N         training threads (default: all CPUs); 1 gives the same\n"
    "                      bytes on every run, more threads are faster but not bit-exact\n"
    "  --seed N            random seed (default 1)\n"
    "  --text-column C     CSV text column (default text, else review)\n"
    "  --field F           JSONL text field (default text)\n";

typedef struct {
    const char *phase;
    double phase_start, last;
    int tty;
} progress;

static void on_progress(void *ctx, const char *phase, double fraction, uint64_t words)
{
    progress *p = ctx;
    double now = lens__clock_mono();
    if (!p->phase || strcmp(p->phase, phase) != 0) {
        p->phase = phase;
        p->phase_start = now;
    }
    if (!p->tty || now - p->last < 0.2) return;
    p->last = now;
    double el = now - p->phase_start, rate = el > 0 ? words / el : 0;
    char eta[32] = "?";
    if (fraction > 0.001) {
        double s = el * (1 - fraction) / fraction;
        if (s < 60) snprintf(eta, sizeof eta, "%.0fs", s);
        else snprintf(eta, sizeof eta, "%dm%02ds", (int)s / 60, (int)s % 60);
    }
    int width = 24, fill = (int)(fraction * width + 0.5);
    char bar[32];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    fprintf(stderr, "\r%-5s [%s] %3.0f%% %llu words, %.0f words/s, ETA %s   ", phase, bar,
            fraction * 100, (unsigned long long)words, rate, eta);
}

int cmd_train_static(int argc, char **argv)
{
    const char *inputs[MAX_INPUTS];
    lens_static_train_opts o = {.inputs = inputs, .seed = 1};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        int *num = NULL, lo = 1, hi = 1 << 30;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(train_static_usage, stdout);
            return 0;
        }
        if (!strcmp(a, "-o") || !strcmp(a, "--output")) o.out_dir = v;
        else if (!strcmp(a, "--dim")) num = &o.dim, hi = 4096;
        else if (!strcmp(a, "--epochs")) num = &o.epochs, hi = 1000;
        else if (!strcmp(a, "--window")) num = &o.window, hi = 100;
        else if (!strcmp(a, "--negative")) num = &o.negative, hi = 100;
        else if (!strcmp(a, "--min-count")) num = &o.min_count;
        else if (!strcmp(a, "--max-vocab")) num = &o.max_vocab, hi = 10000000;
        else if (!strcmp(a, "--threads")) num = &o.threads, hi = 256;
        else if (!strcmp(a, "--seed")) {
            char *end;
            unsigned long long s = v ? strtoull(v, &end, 10) : 0;
            if (!v || *end || v[0] == '-') return cli_fail("--seed needs a non-negative integer");
            o.seed = s;
        } else if (!strcmp(a, "--text-column") || !strcmp(a, "--column")) o.column = v;
        else if (!strcmp(a, "--field")) o.field = v;
        else if (a[0] == '-' && a[1])
            return cli_fail("train-static: unknown option %s (see lens train-static --help)", a);
        else if (o.n_inputs == MAX_INPUTS) return cli_fail("train-static: more than %d inputs", MAX_INPUTS);
        else {
            inputs[o.n_inputs++] = a;
            continue;
        }
        if (!v) return cli_fail("train-static: %s needs a value", a);
        if (num && cli_int(a, v, lo, hi, num)) return 1;
        i++;
    }
    if (!o.n_inputs || !o.out_dir) {
        fputs(train_static_usage, stderr);
        return 2;
    }
    progress p = {.tty = isatty(STDERR_FILENO)};
    lens_static_train_stats st = {0};
    o.progress = on_progress;
    o.ctx = &p;
    o.stop = &cli_stop;
    o.stats = &st;
    cli_install_signals();
    lens_error err = {0};
    int rc = lens_static_train(&o, &err);
    if (p.tty) fputs("\r\033[K", stderr);
    if (rc) return rc == LENS_ECANCEL ? (cli_fail("%s; %s was not written", err.msg, o.out_dir), 130)
                                      : cli_fail("%s", err.msg);
    fprintf(stderr,
            "train-static: %llu texts, %llu words, vocabulary %d (%llu words), read in %.1fs, "
            "trained in %.1fs (%.0f words/s, %d epoch%s) -> %s\n",
            (unsigned long long)st.texts, (unsigned long long)st.words, (int)st.vocab,
            (unsigned long long)st.train_words, st.read_s, st.train_s,
            st.train_s > 0 ? (double)st.train_words * (o.epochs ? o.epochs : 5) / st.train_s : 0.0,
            o.epochs ? o.epochs : 5, (o.epochs ? o.epochs : 5) == 1 ? "" : "s", o.out_dir);
    return 0;
}
