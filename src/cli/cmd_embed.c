/* lens embed: texts in, one embedding per text out (.npy or .jsonl). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fs.h"
#include "cli.h"
#include "lens/escape.h"
#include "lens/io.h"
#include "lens/model.h"

#define CHUNK 2048 /* texts per encoder call: bounds memory, sets cancel latency */

static const char *embed_usage =
    "usage: lens embed [options] INPUT -o OUT\n"
    "  INPUT                .txt (one text per line), .jsonl or .csv, optionally .zst\n"
    "  -o, --output OUT     .npy (float32 [n, dim]) or .jsonl ({\"index\",[\"id\",]\"embedding\"})\n"
    "  --model M            model directory or cached name (default all-MiniLM-L6-v2)\n"
    "  --precision P        fp32 | bf16 | int8 (default fp32)\n"
    "  --batch-tokens N     tokens per forward pass (default 4096)\n"
    "  --threads N          worker threads (default: all CPUs)\n"
    "  --field F            JSONL text field (default text)\n"
    "  --column C           CSV text column (default text, else review)\n"
    "  --id F               JSONL field / CSV column copied into .jsonl output as \"id\"\n";

typedef struct {
    char *buf;
    size_t len, cap;
    size_t *off, *lens, *id_off;
    const char **texts;
} chunk;

static int chunk_add(chunk *c, size_t i, const char *s, size_t n, const char *id)
{
    size_t idn = strlen(id);
    if (lens__grow((void **)&c->buf, &c->cap, c->len + n + idn + 2, 1)) return -1;
    c->off[i] = c->len;
    memcpy(c->buf + c->len, s, n);
    c->buf[c->len + n] = '\0';
    c->lens[i] = n;
    c->len += n + 1;
    c->id_off[i] = c->len;
    memcpy(c->buf + c->len, id, idn + 1);
    c->len += idn + 1;
    return 0;
}

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

int cmd_embed(int argc, char **argv)
{
    const char *input = NULL, *output = NULL, *model_name = "all-MiniLM-L6-v2";
    lens_model_opts mo = {0};
    lens_reader_opts ro = {0};
    int batch_tokens = 4096, threads = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(embed_usage, stdout);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) { output = v; i++; }
        else if (!strcmp(a, "--model")) { model_name = v; i++; }
        else if (!strcmp(a, "--precision")) {
            if (!v || lens_precision_parse(v, &mo.precision)) return cli_fail("--precision must be fp32, bf16 or int8");
            i++;
        } else if (!strcmp(a, "--batch-tokens")) {
            if (cli_int(a, v, 16, 1 << 20, &batch_tokens)) return 1;
            i++;
        } else if (!strcmp(a, "--threads")) {
            if (cli_int(a, v, 1, 256, &threads)) return 1;
            i++;
        } else if (!strcmp(a, "--field")) { ro.field = v; i++; }
        else if (!strcmp(a, "--column")) { ro.column = v; i++; }
        else if (!strcmp(a, "--id")) { ro.id_field = v; i++; }
        else if (a[0] == '-' && a[1]) return cli_fail("embed: unknown option %s (see lens embed --help)", a);
        else if (!input) input = a;
        else return cli_fail("embed: more than one INPUT (%s)", a);
        if (i >= argc) return cli_fail("embed: %s needs a value", a);
    }
    if (!input || !output) {
        fputs(embed_usage, stderr);
        return 2;
    }
    int as_npy = ends_with(output, ".npy");
    if (!as_npy && !ends_with(output, ".jsonl"))
        return cli_fail("%s: output must end in .npy or .jsonl", output);
    if (!model_name) return cli_fail("--model needs a value");

    lens_error err = {0};
    lens_reader *rd = NULL;
    lens_model *model = NULL;
    lens_pool *pool = NULL;
    lens_encoder *enc = NULL;
    lens_npy_writer *npy = NULL; /* both write a temporary that becomes output when complete */
    lens__afile *jout = NULL;
    FILE *jf = NULL;
    chunk c = {0};
    float *emb = NULL;
    int status = 1;

    if (lens_reader_open(&rd, input, &ro, &err) || lens_model_open(&model, model_name, &mo, &err) ||
        lens_pool_new(&pool, threads, &err) || lens_encoder_new(&enc, model, pool, batch_tokens, &err)) {
        cli_fail("%s", err.msg);
        goto out;
    }
    int dim = lens_model_dim(model);
    c.off = malloc(CHUNK * sizeof *c.off);
    c.lens = malloc(CHUNK * sizeof *c.lens);
    c.id_off = malloc(CHUNK * sizeof *c.id_off);
    c.texts = malloc(CHUNK * sizeof *c.texts);
    emb = malloc((size_t)CHUNK * dim * sizeof *emb);
    if (!c.off || !c.lens || !c.id_off || !c.texts || !emb) {
        cli_fail("out of memory");
        goto out;
    }
    if (as_npy ? lens_npy_create(&npy, output, dim, &err) != 0 : lens__afile_open(&jout, output, &err) != 0) {
        cli_fail("%s", err.msg);
        goto out;
    }
    if (jout) jf = lens__afile_stream(jout);
    cli_install_signals();
    cli_progress p;
    cli_progress_start(&p, "embed");
    uint64_t rows = 0, tokens = 0;
    for (int done = 0; !done;) {
        size_t n = 0;
        c.len = 0;
        while (n < CHUNK) {
            const char *t, *id;
            size_t len;
            int r = lens_reader_next(rd, &t, &len, &id, &err);
            if (r < 0) {
                cli_fail("%s", err.msg);
                goto out;
            }
            if (r == 0) {
                done = 1;
                break;
            }
            if (chunk_add(&c, n++, t, len, id)) {
                cli_fail("out of memory");
                goto out;
            }
        }
        for (size_t i = 0; i < n; i++) c.texts[i] = c.buf + c.off[i];
        if (n && lens_encoder_embed(enc, c.texts, c.lens, n, emb, &tokens, &err)) {
            cli_fail("%s", err.msg);
            goto out;
        }
        if (as_npy) {
            if (lens_npy_append(npy, emb, n, &err)) {
                cli_fail("%s", err.msg);
                goto out;
            }
        } else {
            for (size_t i = 0; i < n; i++) {
                fprintf(jf, "{\"index\":%llu,", (unsigned long long)(rows + i));
                if (ro.id_field) {
                    fputs("\"id\":", jf);
                    lens_json_str(jf, c.buf + c.id_off[i]);
                    fputc(',', jf);
                }
                fputs("\"embedding\":[", jf);
                for (int d = 0; d < dim; d++) fprintf(jf, d ? ",%.9g" : "%.9g", emb[i * dim + d]);
                fputs("]}\n", jf);
            }
            if (ferror(jf)) {
                cli_fail("cannot write %s: %s", output, strerror(errno));
                goto out;
            }
        }
        rows += n;
        uint64_t size = lens_reader_size(rd);
        cli_progress_update(&p, rows, size ? (double)lens_reader_offset(rd) / size : -1);
        if (cli_stop) {
            cli_fail("interrupted after %llu rows; %s was not written", (unsigned long long)rows, output);
            goto out;
        }
    }
    if (as_npy) {
        int r = lens_npy_finish(npy, &err);
        npy = NULL;
        if (r) {
            cli_fail("%s", err.msg);
            goto out;
        }
    } else {
        int r = lens__afile_commit(jout, &err);
        jout = NULL;
        if (r) {
            cli_fail("%s", err.msg);
            goto out;
        }
    }
    char extra[256];
    double el = lens__clock_mono() - p.start;
    snprintf(extra, sizeof extra, "%llu tokens (%.0f tokens/s), %s, %s kernels, %d thread%s -> %s",
             (unsigned long long)tokens, el > 0 ? tokens / el : 0.0, lens_precision_name(mo.precision),
             lens_model_kernel(model), lens_pool_size(pool), lens_pool_size(pool) == 1 ? "" : "s", output);
    cli_progress_done(&p, rows, extra);
    status = 0;
out:
    lens_npy_abort(npy);
    lens__afile_abort(jout);
    free(c.buf); free(c.off); free(c.lens); free(c.id_off); free(c.texts); free(emb);
    lens_encoder_free(enc);
    lens_pool_free(pool);
    lens_model_close(model);
    lens_reader_close(rd);
    return cli_stop && status ? 130 : status;
}
