/* lens tokenize: token ids of each text as a JSON array per line. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "lens/io.h"
#include "lens/tokenizer.h"

int cmd_tokenize(int argc, char **argv)
{
    const char *input = NULL, *tok_path = NULL;
    lens_reader_opts ro = {0};
    int max_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            puts("usage: lens tokenize --tokenizer DIR|tokenizer.json|vocab.txt [--max-len N] "
                 "[--field F] [--column C] INPUT");
            return 0;
        }
        if (!strcmp(a, "--tokenizer")) tok_path = v, i++;
        else if (!strcmp(a, "--field")) ro.field = v, i++;
        else if (!strcmp(a, "--column")) ro.column = v, i++;
        else if (!strcmp(a, "--max-len")) {
            if (cli_int(a, v, 2, 1 << 20, &max_len)) return 1;
            i++;
        } else if (a[0] == '-' && a[1]) return cli_fail("tokenize: unknown option %s", a);
        else input = a;
        if (i >= argc) return cli_fail("tokenize: %s needs a value", a);
    }
    if (!input || !tok_path) return cli_fail("tokenize: need --tokenizer and INPUT (see --help)");
    lens_error err = {0};
    lens_tokenizer *tok = NULL;
    lens_reader *rd = NULL;
    lens_tok_work *w = lens_tok_work_new();
    int status = 1;
    if (!w || lens_tokenizer_open(&tok, tok_path, &err) || lens_reader_open(&rd, input, &ro, &err)) {
        cli_fail("%s", w ? err.msg : "out of memory");
        goto out;
    }
    for (;;) {
        const char *t, *id;
        size_t len, n;
        const int32_t *ids;
        int r = lens_reader_next(rd, &t, &len, &id, &err);
        if (r == 0) break;
        if (r < 0 || lens_tokenizer_encode(tok, w, t, len, (size_t)max_len, &ids, &n, &err)) {
            cli_fail("%s", err.msg);
            goto out;
        }
        putchar('[');
        for (size_t k = 0; k < n; k++) printf(k ? ",%d" : "%d", (int)ids[k]);
        puts("]");
    }
    status = 0;
out:
    lens_reader_close(rd);
    lens_tokenizer_close(tok);
    lens_tok_work_free(w);
    return status;
}
