/* Tokenizer parity: every line of the reference fixture (20,000 real Steam
 * reviews + synthetic edge cases, ids from transformers.js) must encode to
 * the same ids, except the listed lines where transformers.js is known to
 * differ from HF tokenizers (Rust); there the Rust-semantics ids are expected.
 * Both loaders (tokenizer.json, vocab.txt) and truncation are checked too. */
#include <jansson.h>
#include <string.h>

#include "io/stream.h"
#include "lens/tokenizer.h"
#include "test.h"

#define MAX_DIV 64

typedef struct {
    char rid[64];
    json_t *ids;
} divergence;

static int read_line(lens__stream *s, char **buf, size_t *cap, size_t *len)
{
    *len = 0;
    int ch;
    while ((ch = lens__stream_getc(s)) >= 0 && ch != '\n') {
        if (*len + 1 >= *cap) {
            *cap = *cap ? *cap * 2 : 1 << 16;
            *buf = realloc(*buf, *cap);
        }
        (*buf)[(*len)++] = (char)ch;
    }
    if (ch == -2) return -1;
    return *len > 0 || ch == '\n';
}

static int ids_equal(json_t *want, const int32_t *ids, size_t n)
{
    if (json_array_size(want) != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (json_integer_value(json_array_get(want, i)) != ids[i]) return 0;
    return 1;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: %s MODEL_DIR FIXTURE.jsonl.zst DIVERGENCES.jsonl\n", argv[0]);
        return 2;
    }
    char path[4096];
    lens_error err = {0};
    lens_tokenizer *tj = NULL, *tv = NULL;
    snprintf(path, sizeof path, "%s/tokenizer.json", argv[1]);
    CHECK(lens_tokenizer_open(&tj, path, &err) == 0, "%s", err.msg);
    snprintf(path, sizeof path, "%s/vocab.txt", argv[1]);
    CHECK(lens_tokenizer_open(&tv, path, &err) == 0, "%s", err.msg);
    if (!tj || !tv) TEST_DONE();
    CHECK(lens_tokenizer_vocab_size(tj) == 30522 && lens_tokenizer_vocab_size(tv) == 30522, "vocab sizes");
    CHECK(lens_tokenizer_cls_id(tj) == 101 && lens_tokenizer_sep_id(tj) == 102, "special ids");

    divergence div[MAX_DIV];
    int n_div = 0;
    FILE *df = fopen(argv[3], "r");
    CHECK(df != NULL, "cannot open %s", argv[3]);
    char line[1 << 16];
    while (df && fgets(line, sizeof line, df) && n_div < MAX_DIV) {
        json_t *o = json_loads(line, 0, NULL);
        CHECK(o != NULL, "bad divergence line");
        if (!o) continue;
        snprintf(div[n_div].rid, sizeof div[n_div].rid, "%s", json_string_value(json_object_get(o, "rid")));
        div[n_div].ids = json_incref(json_object_get(o, "ids"));
        json_decref(o);
        n_div++;
    }
    if (df) fclose(df);

    lens__stream *s = NULL;
    CHECK(lens__stream_open(&s, argv[2], &err) == 0, "%s", err.msg);
    if (!s) TEST_DONE();
    lens_tok_work *w = lens_tok_work_new();
    char *buf = NULL;
    size_t cap = 0, len;
    int lines = 0, mismatches = 0, used_div = 0, truncated = 0;
    while (read_line(s, &buf, &cap, &len) > 0) {
        json_error_t je;
        json_t *o = json_loadb(buf, len, JSON_ALLOW_NUL, &je);
        CHECK(o != NULL, "fixture line %d: %s", lines + 1, je.text);
        if (!o) break;
        lines++;
        const char *rid = json_string_value(json_object_get(o, "rid"));
        json_t *text = json_object_get(o, "text"), *want = json_object_get(o, "ids");
        for (int d = 0; d < n_div; d++)
            if (strcmp(rid, div[d].rid) == 0) {
                want = div[d].ids;
                used_div++;
            }
        const int32_t *ids;
        size_t n;
        int rc = lens_tokenizer_encode(tj, w, json_string_value(text), json_string_length(text), 0, &ids, &n, &err);
        CHECK(rc == 0, "%s", err.msg);
        if (!ids_equal(want, ids, n)) {
            if (mismatches++ < 5) CHECK(0, "review %s: ids differ from the reference (%zu vs %zu ids)", rid, n, json_array_size(want));
        }
        /* vocab.txt loader: identical ids */
        const int32_t *ids2;
        size_t n2;
        lens_tokenizer_encode(tv, w, json_string_value(text), json_string_length(text), 0, &ids2, &n2, &err);
        CHECK(ids_equal(want, ids2, n2), "review %s: vocab.txt loader differs", rid);
        /* sentence-transformers truncation at 256: [CLS] + first 254 + [SEP] */
        lens_tokenizer_encode(tj, w, json_string_value(text), json_string_length(text), 256, &ids2, &n2, &err);
        size_t full = json_array_size(want);
        if (full > 256) {
            truncated++;
            int ok = n2 == 256 && ids2[255] == 102;
            for (size_t k = 0; ok && k < 255; k++) ok = ids2[k] == json_integer_value(json_array_get(want, k));
            CHECK(ok, "review %s: truncation to 256 wrong", rid);
        } else {
            CHECK(ids_equal(want, ids2, n2), "review %s: truncation changed a short text", rid);
        }
        json_decref(o);
    }
    CHECK(mismatches == 0, "%d of %d fixture lines differ", mismatches, lines);
    CHECK(lines >= 20000, "only %d fixture lines", lines);
    CHECK(used_div == n_div, "%d of %d divergence lines matched a fixture line", used_div, n_div);
    CHECK(truncated > 1000, "only %d long reviews exercised truncation", truncated);
    printf("%d reviews tokenized identically (%d truncated at 256, %d Rust-semantics lines)\n", lines, truncated, used_div);

    /* edge cases */
    const int32_t *ids;
    size_t n;
    lens_tokenizer_encode(tj, w, "", 0, 0, &ids, &n, &err);
    CHECK(n == 2 && ids[0] == 101 && ids[1] == 102, "empty text -> [CLS] [SEP]");
    lens_tokenizer_encode(tj, w, "hello world", 11, 2, &ids, &n, &err);
    CHECK(n == 2 && ids[0] == 101 && ids[1] == 102, "max_len 2 keeps only [CLS] [SEP]");
    lens_tokenizer_encode(tj, w, "x[SEP]y", 7, 0, &ids, &n, &err);
    CHECK(n == 5 && ids[2] == 102, "literal [SEP] is the special token");
    lens_tokenizer_encode(tj, w, "ab\xff\xfe" "cd", 6, 0, &ids, &n, &err);
    CHECK(n >= 3, "invalid UTF-8 is dropped, not fatal");
    CHECK(lens_tokenizer_encode(tj, w, "a", 1, 1, &ids, &n, &err) != 0, "max_len 1 is rejected");

    lens_tokenizer *bad = NULL;
    CHECK(lens_tokenizer_open(&bad, "/nonexistent/tok.json", &err) == LENS_ENOTFOUND, "missing file: %s", err.msg);
    CHECK(strstr(err.msg, "/nonexistent/tok.json") != NULL, "error names the file: %s", err.msg);

    for (int d = 0; d < n_div; d++) json_decref(div[d].ids);
    free(buf);
    lens_tok_work_free(w);
    lens__stream_close(s);
    lens_tokenizer_close(tj);
    lens_tokenizer_close(tv);
    TEST_DONE();
}
