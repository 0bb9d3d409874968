/* BERT tokenizer: loading (tokenizer.json or vocab.txt) and encoding. */
#include "lens/tokenizer.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "base/buf.h"
#include "base/fs.h"
#include "normalize.h"
#include "unicode.h"
#include "vocab.h"

#define MAX_ADDED 64

typedef struct {
    char *text;
    size_t len;
    int32_t id;
    int single_word;
} added_token;

struct lens_tokenizer {
    lens__vocab vocab;
    int lowercase, strip_accents, handle_cjk, clean_text;
    int drop_unassigned; /* HF tokenizers (Rust) treat Cn as control */
    char prefix[16];     /* continuing-subword prefix, "##" */
    size_t prefix_len;
    size_t max_word_chars;
    int32_t unk_id, cls_id, sep_id, pad_id;
    added_token added[MAX_ADDED];
    int n_added;
};

struct lens_tok_work {
    uint32_t *a, *b;    /* code point scratch */
    size_t ab_cap;
    char *word;         /* UTF-8 of the current word */
    uint32_t *offs;     /* byte offset of each code point of the word */
    size_t word_cap;
    int32_t *ids;
    size_t n_ids, ids_cap;
};

/* ---------------------------------------------------------------- scratch */

lens_tok_work *lens_tok_work_new(void) { return calloc(1, sizeof(lens_tok_work)); }

void lens_tok_work_free(lens_tok_work *w)
{
    if (!w) return;
    free(w->a);
    free(w->b);
    free(w->word);
    free(w->offs);
    free(w->ids);
    free(w);
}

static int grow_ab(lens_tok_work *w, size_t need)
{
    if (need <= w->ab_cap) return 0;
    size_t cap = w->ab_cap, cap2 = w->ab_cap;
    if (lens__grow((void **)&w->a, &cap, need, sizeof *w->a)) return -1;
    if (lens__grow((void **)&w->b, &cap2, need, sizeof *w->b)) return -1;
    w->ab_cap = cap < cap2 ? cap : cap2;
    return 0;
}

static int push_id(lens_tok_work *w, int32_t id)
{
    if (lens__grow((void **)&w->ids, &w->ids_cap, w->n_ids + 1, sizeof *w->ids)) return -1;
    w->ids[w->n_ids++] = id;
    return 0;
}

/* ---------------------------------------------------------------- encode */

/* WordPiece on one pre-token (code points cps[0..n)); appends ids. */
static int wordpiece(const lens_tokenizer *t, lens_tok_work *w, const uint32_t *cps, size_t n)
{
    if (n > t->max_word_chars) return push_id(w, t->unk_id);
    size_t wcap = w->word_cap, ocap = w->word_cap;
    if (lens__grow((void **)&w->word, &wcap, 4 * n + 4, 1) ||
        lens__grow((void **)&w->offs, &ocap, n + 1, sizeof *w->offs))
        return -1;
    w->word_cap = wcap < ocap ? wcap : ocap;
    size_t nb = 0;
    for (size_t i = 0; i < n; i++) {
        w->offs[i] = (uint32_t)nb;
        nb += lens__utf8_encode(cps[i], w->word + nb);
    }
    w->offs[n] = (uint32_t)nb;

    size_t mark = w->n_ids, start = 0;
    while (start < n) {
        int32_t id = -1;
        size_t end = n;
        for (; end > start; end--) {
            const char *pre = start ? t->prefix : NULL;
            size_t plen = start ? t->prefix_len : 0;
            id = lens__vocab_find(&t->vocab, pre, plen, w->word + w->offs[start],
                                 w->offs[end] - w->offs[start]);
            if (id >= 0) break;
        }
        if (id < 0) {
            w->n_ids = mark; /* the whole word is unknown */
            return push_id(w, t->unk_id);
        }
        if (push_id(w, id)) return -1;
        start = end;
    }
    return 0;
}

/* Normalizes text[0..len) (no special tokens inside) and appends its ids. */
static int encode_segment(const lens_tokenizer *t, lens_tok_work *w, const unsigned char *s,
                          size_t len)
{
    if (len == 0) return 0;
    if (grow_ab(w, lens__bert_norm_cap(len))) return -1;
    lens__bert_norm o = {.clean_text = t->clean_text, .drop_unassigned = t->drop_unassigned,
                        .handle_cjk = t->handle_cjk, .lowercase = t->lowercase, .strip_accents = t->strip_accents};
    uint32_t *a;
    size_t na = lens__bert_normalize(&o, s, len, w->a, w->b, &a);

    /* 4. split on whitespace and punctuation, WordPiece each piece */
    size_t start = 0;
    for (size_t i = 0; i <= na; i++) {
        int brk = (i == na) || a[i] == ' ' || lens__uc_is_punct(a[i]);
        if (!brk) continue;
        if (i > start && wordpiece(t, w, a + start, i - start)) return -1;
        if (i < na && a[i] != ' ' && wordpiece(t, w, a + i, 1)) return -1;
        start = i + 1;
    }
    return 0;
}

static int is_word_byte(unsigned char c)
{
    return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
           c == '_' || c >= 0x80;
}

/* Longest added token matching at s[pos], or -1. */
static int match_added(const lens_tokenizer *t, const unsigned char *s, size_t len, size_t pos)
{
    int best = -1;
    for (int k = 0; k < t->n_added; k++) {
        const added_token *a = &t->added[k];
        if (a->len == 0 || a->len > len - pos || memcmp(s + pos, a->text, a->len) != 0) continue;
        if (a->single_word && ((pos > 0 && is_word_byte(s[pos - 1])) ||
                               (pos + a->len < len && is_word_byte(s[pos + a->len]))))
            continue;
        if (best < 0 || a->len > t->added[best].len) best = k;
    }
    return best;
}

int lens_tokenizer_encode(const lens_tokenizer *t, lens_tok_work *w, const char *text,
                          size_t len, size_t max_len, const int32_t **ids, size_t *n_ids,
                          lens_error *err)
{
    const unsigned char *s = (const unsigned char *)text;
    if (max_len == 1) return lens_error_set(err, LENS_EINVAL, "tokenizer: max_len must be >= 2");
    /* content ids may grow to `limit` before [SEP] */
    size_t limit = max_len ? max_len - 1 : (size_t)-1;
    w->n_ids = 0;
    if (push_id(w, t->cls_id)) goto oom;
    size_t seg = 0;
    for (size_t pos = 0; pos < len && w->n_ids < limit;) {
        int k = t->n_added ? match_added(t, s, len, pos) : -1;
        if (k < 0) {
            pos++;
            continue;
        }
        if (encode_segment(t, w, s + seg, pos - seg)) goto oom;
        if (w->n_ids < limit && push_id(w, t->added[k].id)) goto oom;
        pos += t->added[k].len;
        seg = pos;
    }
    if (w->n_ids < limit && seg < len && encode_segment(t, w, s + seg, len - seg)) goto oom;
    if (w->n_ids > limit) w->n_ids = limit;
    if (push_id(w, t->sep_id)) goto oom;
    *ids = w->ids;
    *n_ids = w->n_ids;
    return LENS_OK;
oom:
    return lens_error_set(err, LENS_ENOMEM, "tokenizer: out of memory on a %zu-byte text", len);
}

/* ---------------------------------------------------------------- loading */

int lens_tokenizer_vocab_size(const lens_tokenizer *t) { return t->vocab.n_ids; }
int32_t lens_tokenizer_cls_id(const lens_tokenizer *t) { return t->cls_id; }
int32_t lens_tokenizer_sep_id(const lens_tokenizer *t) { return t->sep_id; }
int32_t lens_tokenizer_pad_id(const lens_tokenizer *t) { return t->pad_id; }

int32_t lens_tokenizer_token_id(const lens_tokenizer *t, const char *token)
{
    return lens__vocab_find(&t->vocab, NULL, 0, token, strlen(token));
}

const char *lens_tokenizer_token(const lens_tokenizer *t, int32_t id)
{
    return (id >= 0 && id < t->vocab.n_ids) ? t->vocab.tokens[id] : NULL;
}

void lens_tokenizer_close(lens_tokenizer *t)
{
    if (!t) return;
    lens__vocab_free(&t->vocab);
    for (int i = 0; i < t->n_added; i++) free(t->added[i].text);
    free(t);
}

static int add_special(lens_tokenizer *t, const char *text, int32_t id, int single_word,
                       const char *path, lens_error *err)
{
    if (t->n_added == MAX_ADDED)
        return lens_error_set(err, LENS_EUNSUP, "%s: more than %d added tokens", path, MAX_ADDED);
    added_token *a = &t->added[t->n_added];
    a->text = strdup(text);
    if (!a->text) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    a->len = strlen(text);
    a->id = id;
    a->single_word = single_word;
    t->n_added++;
    return LENS_OK;
}

static int32_t special_id(lens_tokenizer *t, const char *name, const char *path, lens_error *err)
{
    int32_t id = lens_tokenizer_token_id(t, name);
    if (id < 0) lens_error_set(err, LENS_EFORMAT, "%s: vocabulary has no %s token", path, name);
    return id;
}

static int resolve_specials(lens_tokenizer *t, const char *path, lens_error *err)
{
    if ((t->unk_id = special_id(t, "[UNK]", path, err)) < 0) return err->code;
    if (t->cls_id < 0 && (t->cls_id = special_id(t, "[CLS]", path, err)) < 0) return err->code;
    if (t->sep_id < 0 && (t->sep_id = special_id(t, "[SEP]", path, err)) < 0) return err->code;
    t->pad_id = lens_tokenizer_token_id(t, "[PAD]");
    if (t->pad_id < 0) t->pad_id = 0;
    return LENS_OK;
}

static void set_defaults(lens_tokenizer *t)
{
    t->lowercase = t->strip_accents = t->handle_cjk = t->clean_text = 1;
    t->drop_unassigned = 0;
    memcpy(t->prefix, "##", 3);
    t->prefix_len = 2;
    t->max_word_chars = 100;
    t->cls_id = t->sep_id = -1;
}

static int read_file(const char *path, char **data, size_t *size, lens_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lens_error_set(err, LENS_EIO, "cannot open %s", path);
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > (1 << 30)) {
        fclose(f);
        return lens_error_set(err, LENS_EIO, "%s: cannot size file (or over 1 GiB)", path);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        fclose(f);
        return lens_error_set(err, LENS_EIO, "%s: read failed", path);
    }
    fclose(f);
    buf[st.st_size] = '\0';
    *data = buf;
    *size = (size_t)st.st_size;
    return LENS_OK;
}

/* Optional tokenizer_config.json next to a vocab.txt (slow-tokenizer flags). */
static void read_tokenizer_config(lens_tokenizer *t, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    json_t *root = json_load_file(path, 0, NULL);
    if (!root) return;
    json_t *v;
    if ((v = json_object_get(root, "do_lower_case")) && json_is_boolean(v))
        t->lowercase = json_is_true(v);
    if ((v = json_object_get(root, "tokenize_chinese_chars")) && json_is_boolean(v))
        t->handle_cjk = json_is_true(v);
    t->strip_accents = t->lowercase;
    if ((v = json_object_get(root, "strip_accents")) && json_is_boolean(v))
        t->strip_accents = json_is_true(v);
    json_decref(root);
}

static int load_vocab_txt(lens_tokenizer *t, const char *path, lens_error *err)
{
    char *data = NULL;
    size_t size = 0;
    int rc = read_file(path, &data, &size, err);
    if (rc) return rc;
    int32_t n = 0;
    for (size_t i = 0; i < size; i++) n += data[i] == '\n';
    if (size && data[size - 1] != '\n') n++;
    if ((rc = lens__vocab_init(&t->vocab, n, err))) goto out;
    char *p = data, *end = data + size;
    for (int32_t id = 0; p < end; id++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p);
        size_t tl = l;
        if (tl && p[tl - 1] == '\r') tl--;
        if ((rc = lens__vocab_add(&t->vocab, p, tl, id, err))) {
            lens_error_wrap(err, "%s:%d", path, (int)id + 1);
            goto out;
        }
        p += l + 1;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = '\0'; else strcpy(dir, ".");
    read_tokenizer_config(t, dir);
    if ((rc = resolve_specials(t, path, err))) goto out;
    static const char *specials[] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (size_t i = 0; i < sizeof specials / sizeof *specials; i++) {
        int32_t id = lens_tokenizer_token_id(t, specials[i]);
        if (id >= 0 && (rc = add_special(t, specials[i], id, 0, path, err))) goto out;
    }
out:
    free(data);
    return rc;
}

static const char *jstr(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static int load_tokenizer_json(lens_tokenizer *t, const char *path, lens_error *err)
{
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root)
        return lens_error_set(err, LENS_EFORMAT, "%s:%d:%d: %s", path, je.line, je.column,
                              je.text);
    int rc = LENS_OK;
    json_t *model = json_object_get(root, "model");
    const char *type = model ? jstr(model, "type") : NULL;
    if (!type || strcmp(type, "WordPiece") != 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: model type %s is not WordPiece", path,
                            type ? type : "(missing)");
        goto out;
    }
    json_t *norm = json_object_get(root, "normalizer");
    if (json_is_object(norm)) {
        const char *nt = jstr(norm, "type");
        if (!nt || strcmp(nt, "BertNormalizer") != 0) {
            rc = lens_error_set(err, LENS_EUNSUP, "%s: normalizer %s is not supported", path,
                                nt ? nt : "(missing)");
            goto out;
        }
        json_t *v;
        if ((v = json_object_get(norm, "lowercase")) && json_is_boolean(v))
            t->lowercase = json_is_true(v);
        if ((v = json_object_get(norm, "clean_text")) && json_is_boolean(v))
            t->clean_text = json_is_true(v);
        if ((v = json_object_get(norm, "handle_chinese_chars")) && json_is_boolean(v))
            t->handle_cjk = json_is_true(v);
        t->strip_accents = t->lowercase; /* null follows lowercase */
        if ((v = json_object_get(norm, "strip_accents")) && json_is_boolean(v))
            t->strip_accents = json_is_true(v);
    }
    json_t *pre = json_object_get(root, "pre_tokenizer");
    const char *pt = json_is_object(pre) ? jstr(pre, "type") : NULL;
    if (pt && strcmp(pt, "BertPreTokenizer") != 0) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: pre_tokenizer %s is not supported", path, pt);
        goto out;
    }
    const char *prefix = jstr(model, "continuing_subword_prefix");
    if (prefix) {
        if (strlen(prefix) >= sizeof t->prefix) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: continuing_subword_prefix too long", path);
            goto out;
        }
        strcpy(t->prefix, prefix);
        t->prefix_len = strlen(prefix);
    }
    json_t *mw = json_object_get(model, "max_input_chars_per_word");
    if (json_is_integer(mw) && json_integer_value(mw) > 0)
        t->max_word_chars = (size_t)json_integer_value(mw);

    json_t *vocab = json_object_get(model, "vocab");
    if (!json_is_object(vocab)) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: model.vocab is not an object", path);
        goto out;
    }
    int32_t max_id = -1;
    const char *key;
    json_t *val;
    json_object_foreach(vocab, key, val) {
        if (!json_is_integer(val) || json_integer_value(val) < 0 ||
            json_integer_value(val) >= (1 << 24)) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: vocab entry \"%s\" has a bad id", path, key);
            goto out;
        }
        if (json_integer_value(val) > max_id) max_id = (int32_t)json_integer_value(val);
    }
    if ((rc = lens__vocab_init(&t->vocab, max_id + 1, err))) goto out;
    json_object_foreach(vocab, key, val) {
        if ((rc = lens__vocab_add(&t->vocab, key, strlen(key), (int32_t)json_integer_value(val),
                                 err))) {
            lens_error_wrap(err, "%s", path);
            goto out;
        }
    }
    /* [CLS]/[SEP] from the post-processor template when present */
    json_t *post = json_object_get(root, "post_processor");
    json_t *st = json_is_object(post) ? json_object_get(post, "special_tokens") : NULL;
    if (json_is_object(st)) {
        json_t *cls = json_object_get(st, "[CLS]"), *sep = json_object_get(st, "[SEP]");
        json_t *ci = cls ? json_array_get(json_object_get(cls, "ids"), 0) : NULL;
        json_t *si = sep ? json_array_get(json_object_get(sep, "ids"), 0) : NULL;
        if (json_is_integer(ci)) t->cls_id = (int32_t)json_integer_value(ci);
        if (json_is_integer(si)) t->sep_id = (int32_t)json_integer_value(si);
    }
    if ((rc = resolve_specials(t, path, err))) goto out;
    json_t *added = json_object_get(root, "added_tokens");
    size_t i;
    json_array_foreach(added, i, val) {
        const char *content = jstr(val, "content");
        json_t *id = json_object_get(val, "id");
        if (!content || !json_is_integer(id)) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: added_tokens[%zu] lacks content or id",
                                path, i);
            goto out;
        }
        if ((rc = add_special(t, content, (int32_t)json_integer_value(id),
                              json_is_true(json_object_get(val, "single_word")), path, err)))
            goto out;
    }
out:
    json_decref(root);
    return rc;
}

static int exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int lens_tokenizer_open(lens_tokenizer **out, const char *path, lens_error *err)
{
    *out = NULL;
    lens_tokenizer *t = calloc(1, sizeof *t);
    if (!t) return lens_error_set(err, LENS_ENOMEM, "tokenizer: out of memory");
    set_defaults(t);
    int rc;
    char buf[4096];
    if (lens__is_dir(path)) {
        snprintf(buf, sizeof buf, "%s/tokenizer.json", path);
        if (exists(buf)) {
            rc = load_tokenizer_json(t, buf, err);
        } else {
            snprintf(buf, sizeof buf, "%s/vocab.txt", path);
            if (exists(buf))
                rc = load_vocab_txt(t, buf, err);
            else
                rc = lens_error_set(err, LENS_ENOTFOUND,
                                    "%s: no tokenizer.json or vocab.txt in this directory", path);
        }
    } else if (!exists(path)) {
        rc = lens_error_set(err, LENS_ENOTFOUND, "tokenizer %s: no such file or directory", path);
    } else if (ends_with(path, ".json")) {
        rc = load_tokenizer_json(t, path, err);
    } else {
        rc = load_vocab_txt(t, path, err);
    }
    if (rc) {
        lens_tokenizer_close(t);
        return rc;
    }
    *out = t;
    return LENS_OK;
}
