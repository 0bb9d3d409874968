/* lens model: pull | path | info */
#include <stdio.h>
#include <string.h>

#include "base/clock.h"
#include "cli.h"
#include "lens/model.h"

static const char *model_usage =
    "usage: lens model pull NAME [--sha256 HEX] [--revision REV] [--endpoint URL]\n"
    "       lens model pull human-models [--models-dir DIR] [--tarball FILE] [--force]\n"
    "                                the TF.js vision models, with npm (DIR: else <cache>/human-models)\n"
    "       lens model path NAME     print where NAME lives (cache directory)\n"
    "       lens model info NAME|DIR print geometry, pooling and kernel\n"
    "Models are cached in $XDG_CACHE_HOME/lens/models (else ~/.cache/lens/models).\n"
    "The hub endpoint is $HF_ENDPOINT or https://huggingface.co; HF_TOKEN is sent if set.\n";

static void on_progress(void *ctx, const char *file, uint64_t done, uint64_t total)
{
    cli_progress *p = ctx;
    if (!p->tty || total < (1 << 20)) return;
    double now = lens__clock_mono();
    if (now - p->last_draw < 0.2 && done < total) return;
    p->last_draw = now;
    fprintf(stderr, "\rpull %s: %.1f / %.1f MB ", file, done / 1e6, total / 1e6);
}

int cmd_model(int argc, char **argv)
{
    if (argc < 3 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
        fputs(model_usage, argc < 3 ? stderr : stdout);
        return argc < 3 ? 2 : 0;
    }
    const char *sub = argv[1], *name = argv[2];
    lens_error err = {0};
    if (!strcmp(sub, "pull")) {
        lens_pull_opts o = {0};
        for (int i = 3; i < argc; i++) {
            const char *v = i + 1 < argc ? argv[i + 1] : NULL;
            if (!strcmp(argv[i], "--force")) {
                o.force = 1;
                continue;
            }
            if (!v) return cli_fail("model pull: %s needs a value", argv[i]);
            if (!strcmp(argv[i], "--sha256")) o.sha256 = v;
            else if (!strcmp(argv[i], "--models-dir")) o.models_dir = v;
            else if (!strcmp(argv[i], "--tarball")) o.tarball = v;
            else if (!strcmp(argv[i], "--revision")) o.revision = v;
            else if (!strcmp(argv[i], "--endpoint")) o.endpoint = v;
            else return cli_fail("model pull: unknown option %s", argv[i]);
            i++;
        }
        cli_progress p;
        cli_progress_start(&p, "pull");
        o.progress = on_progress;
        o.ctx = &p;
        o.stop = &cli_stop; /* Ctrl-C: the partial download is removed */
        cli_install_signals();
        char dir[4096];
        int rc = lens_model_pull(name, &o, dir, sizeof dir, &err);
        if (p.tty) fputs("\r\033[K", stderr);
        if (rc) {
            cli_fail("%s", err.msg);
            return rc == LENS_ECANCEL ? 130 : 1;
        }
        printf("%s\n", dir);
        return 0;
    }
    if (!strcmp(sub, "path")) {
        char cache[4096];
        if (lens_model_cache_dir(cache, sizeof cache, &err)) return cli_fail("%s", err.msg);
        lens_model *m = NULL;
        if (lens_model_open(&m, name, NULL, &err)) return cli_fail("%s", err.msg);
        printf("%s\n", lens_model_path(m));
        lens_model_close(m);
        return 0;
    }
    if (!strcmp(sub, "info")) {
        lens_model *m = NULL;
        if (lens_model_open(&m, name, NULL, &err)) return cli_fail("%s", err.msg);
        static const char *pools[] = {"mean", "cls", "max", "mean_sqrt_len"};
        printf("path: %s\ndim: %d\nmax_seq_len: %d\npooling: %s\nnormalize: %s\nvocab: %d\nkernel: %s\n",
               lens_model_path(m), lens_model_dim(m), lens_model_max_seq_len(m),
               pools[lens_model_pooling(m)], lens_model_normalize(m) ? "yes" : "no",
               lens_model_vocab_size(m), lens_model_kernel(m));
        lens_model_close(m);
        return 0;
    }
    return cli_fail("model: unknown subcommand '%s' (pull, path, info)", sub);
}
