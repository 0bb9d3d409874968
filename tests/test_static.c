/* Static word-vector models: word splitting, training (deterministic with one
 * thread), loading through lens_model_open, SIF embedding through
 * lens_encoder_embed, one-line errors, and the shipped steam-static model.
 *
 * usage: test_static SHIPPED_MODEL_DIR [TOKENIZER_DIR REVIEWS.jsonl]
 * With a tokenizer and reviews, lens__words_split is checked against the
 * WordPiece tokenizer's pre-tokenization on every review. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "base/fs.h"
#include "text/unicode.h"
#include "text/words.h"
#include "lens/model.h"
#include "lens/static_train.h"
#include "lens/themes.h"
#include "lens/tokenizer.h"
#include "test.h"

static char tmp_root[4096];

/* ---------------------------------------------------------------- words */

static void check_split(lens__words *w, const char *text, const char *want)
{
    char got[512] = "";
    CHECK(lens__words_split(w, text, strlen(text)) == 0, "split failed");
    for (size_t i = 0; i < w->n; i++) {
        size_t len;
        const char *s = lens__words_at(w, i, &len);
        CHECK(strlen(s) == len, "word %zu of \"%s\": length %zu, strlen %zu", i, text, len, strlen(s));
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", i ? "|" : "", s);
    }
    CHECK(strcmp(got, want) == 0, "split(\"%s\") = \"%s\", want \"%s\"", text, got, want);
}

static void test_words(void)
{
    lens__words w;
    lens__words_init(&w);
    check_split(&w, "", "");
    check_split(&w, "...!! ?", "");
    check_split(&w, "Hello, WORLD!!  It's 2 good.", "hello|world|it|s|2|good");
    check_split(&w, "Caf\xc3\xa9 na\xc3\xafve \xc3\x85NGSTR\xc3\x96M", "cafe|naive|angstrom");
    check_split(&w, "co-op spray\xe2\x80\x91" "control", "co|op|spray|control"); /* U+2011 */
    check_split(&w, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e ok", "\xe6\x97\xa5|\xe6\x9c\xac|\xe8\xaa\x9e|ok");
    check_split(&w, "\xc4\xb0stanbul", "istanbul");                    /* U+0130 */
    check_split(&w, "a\x01" "b\xff" "c\td", "abc|d");                  /* control, invalid byte */
    check_split(&w, "\xce\xa3\xce\x9f\xce\xa3", "\xcf\x83\xce\xbf\xcf\x83"); /* no final sigma */
    lens__words_free(&w);
}

/* lens__words_split must be the tokenizer's pre-tokenization without the
 * punctuation: WordPiece over the joined words gives the text's ids minus
 * single-punctuation tokens. [UNK] is left out on both sides: a punctuation
 * character missing from the vocabulary is [UNK] too. */
static void test_words_parity(const char *tok_dir, const char *reviews)
{
    lens_error err = {0};
    lens_tokenizer *tok = NULL;
    if (lens_tokenizer_open(&tok, tok_dir, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    FILE *f = fopen(reviews, "r");
    CHECK(f != NULL, "cannot open %s", reviews);
    lens_tok_work *tw = lens_tok_work_new();
    lens__words w;
    lens__words_init(&w);
    char line[1 << 16];
    int n = 0, bad = 0;
    int32_t *want = malloc((1 << 16) * sizeof *want), unk = lens_tokenizer_token_id(tok, "[UNK]");
    char *joined = malloc(1 << 18);
    while (f && fgets(line, sizeof line, f)) {
        json_t *j = json_loads(line, 0, NULL);
        const char *text = json_string_value(json_object_get(j, "text"));
        if (!text) {
            json_decref(j);
            continue;
        }
        const int32_t *ids;
        size_t nid, nw = 0, nj = 0;
        lens_tokenizer_encode(tok, tw, text, strlen(text), 0, &ids, &nid, &err);
        for (size_t i = 1; i + 1 < nid && nw < (1 << 16); i++) {
            const char *t = lens_tokenizer_token(tok, ids[i]);
            uint32_t cp;
            size_t used = lens__utf8_decode((const unsigned char *)t, strlen(t), &cp);
            if (ids[i] == unk || (used == strlen(t) && lens__uc_is_punct(cp))) continue;
            want[nw++] = ids[i];
        }
        CHECK(lens__words_split(&w, text, strlen(text)) == 0, "split failed");
        for (size_t i = 0; i < w.n && nj + 512 < (1 << 18); i++) {
            size_t len;
            const char *s = lens__words_at(&w, i, &len);
            if (nj) joined[nj++] = ' ';
            memcpy(joined + nj, s, len);
            nj += len;
        }
        lens_tokenizer_encode(tok, tw, joined, nj, 0, &ids, &nid, &err);
        size_t ng = 0;
        for (size_t i = 1; i + 1 < nid; i++) ng += ids[i] != unk;
        int same = ng == nw;
        for (size_t i = 1, k = 0; same && i + 1 < nid; i++)
            if (ids[i] != unk) same = ids[i] == want[k++];
        if (!same && bad++ < 3) CHECK(same, "review %d: words differ from the tokenizer's: %s", n, text);
        n++;
        json_decref(j);
    }
    printf("words parity: %d reviews, %d differ\n", n, bad);
    CHECK(n > 100 && bad == 0, "%d of %d reviews differ", bad, n);
    free(want);
    free(joined);
    lens__words_free(&w);
    lens_tok_work_free(tw);
    lens_tokenizer_close(tok);
    if (f) fclose(f);
}

/* ---------------------------------------------------------------- helpers */

static const char *const groups[4][6] = {
    {"graphics", "visuals", "textures", "lighting", "looks", "pretty"},
    {"bug", "glitch", "crash", "freeze", "patch", "fix"},
    {"music", "soundtrack", "audio", "voice", "listen", "catchy"},
    {"story", "plot", "characters", "ending", "twist", "writing"},
};
static const char *const fillers[] = {"the", "game", "is", "really", "and", "i", "think", "very",
                                      "so", "it", "a", "of"};

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
    return *s >> 33;
}

/* Lines mix words of one topic with common fillers: topics never meet. */
static int write_corpus(const char *path, int lines)
{
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    uint64_t s = 42;
    for (int l = 0; l < lines; l++) {
        int g = (int)(rng_next(&s) % 4), n = 6 + (int)(rng_next(&s) % 8);
        for (int i = 0; i < n; i++) {
            const char *word = rng_next(&s) % 3 ? groups[g][rng_next(&s) % 6] : fillers[rng_next(&s) % 12];
            fprintf(f, "%s%s", i ? (rng_next(&s) % 5 ? " " : ", ") : "", word);
        }
        fputs(rng_next(&s) % 2 ? ".\n" : "!\n", f);
    }
    return fclose(f);
}

static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)size + 1);
    if (b && fread(b, 1, (size_t)size, f) != (size_t)size) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *n = (size_t)size;
    return b;
}

static int same_file(const char *a, const char *b)
{
    size_t na, nb;
    char *x = slurp(a, &na), *y = slurp(b, &nb);
    int same = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return same;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = slurp(from, &n);
    FILE *f = fopen(to, "wb");
    if (b && f) fwrite(b, 1, n, f);
    if (f) fclose(f);
    free(b);
}

static void copy_model(const char *from, const char *to)
{
    lens_error err;
    static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
    char a[4200], b[4200];
    lens__rmtree(to, &err);
    lens__mkdirs(to, &err);
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", from, files[i]);
        snprintf(b, sizeof b, "%s/%s", to, files[i]);
        copy_file(a, b);
    }
}

typedef struct {
    lens_model *m;
    lens_pool *pool;
    lens_encoder *enc;
    int dim;
} model_ctx;

static int open_model(model_ctx *c, const char *dir, int threads)
{
    lens_error err = {0};
    memset(c, 0, sizeof *c);
    int ok = lens_model_open(&c->m, dir, NULL, &err) == 0 && lens_pool_new(&c->pool, threads, &err) == 0 &&
             lens_encoder_new(&c->enc, c->m, c->pool, 0, &err) == 0;
    CHECK(ok, "%s", err.msg);
    if (ok) c->dim = lens_model_dim(c->m);
    return ok;
}

static void close_model(model_ctx *c)
{
    lens_encoder_free(c->enc);
    lens_pool_free(c->pool);
    lens_model_close(c->m);
}

static float *embed(model_ctx *c, const char *const *texts, size_t n)
{
    lens_error err = {0};
    float *out = malloc(n * (size_t)c->dim * sizeof *out);
    for (size_t i = 0; i < n * (size_t)c->dim; i++) out[i] = NAN;
    CHECK(lens_encoder_embed(c->enc, texts, NULL, n, out, NULL, &err) == 0, "%s", err.msg);
    return out;
}

static double cosine(const float *a, const float *b, int dim)
{
    double d = 0, na = 0, nb = 0;
    for (int i = 0; i < dim; i++) {
        d += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na > 0 && nb > 0 ? d / sqrt(na * nb) : 0;
}

static double norm(const float *a, int dim)
{
    double s = 0;
    for (int i = 0; i < dim; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

/* ---------------------------------------------------------------- training */

static int train(const char *corpus, const char *out, int threads, lens_error *err)
{
    const char *inputs[] = {corpus};
    lens_static_train_opts o = {.inputs = inputs, .n_inputs = 1, .out_dir = out, .dim = 16,
                                .epochs = 5, .window = 3, .min_count = 2, .threads = threads,
                                .seed = 7, .sample = 1e-2, .pc_texts = 500};
    return lens_static_train(&o, err);
}

static void test_train(void)
{
    char corpus[4200], d1[4200], d2[4200], d3[4200], a[4400], b[4400];
    snprintf(corpus, sizeof corpus, "%s/corpus.txt", tmp_root);
    snprintf(d1, sizeof d1, "%s/m1", tmp_root);
    snprintf(d2, sizeof d2, "%s/m2", tmp_root);
    snprintf(d3, sizeof d3, "%s/m3", tmp_root);
    CHECK(write_corpus(corpus, 2000) == 0, "cannot write %s", corpus);
    lens_error err = {0};
    CHECK(train(corpus, d1, 1, &err) == 0, "%s", err.msg);
    CHECK(train(corpus, d2, 1, &err) == 0, "%s", err.msg);
    static const char *files[] = {"config.json", "vocab.txt", "model.safetensors"};
    for (int i = 0; i < 3; i++) {
        snprintf(a, sizeof a, "%s/%s", d1, files[i]);
        snprintf(b, sizeof b, "%s/%s", d2, files[i]);
        CHECK(same_file(a, b), "%s differs between two one-thread runs", files[i]);
    }
    /* replacing an existing model in place works; two threads train too */
    CHECK(train(corpus, d2, 2, &err) == 0, "%s", err.msg);
    snprintf(a, sizeof a, "%s/stray.txt", d3);
    lens__mkdirs(d3, &err);
    write_text(a, "not a model\n");
    CHECK(train(corpus, d3, 1, &err) == LENS_EINVAL && strstr(err.msg, d3) &&
              strstr(err.msg, "not a lens-static model"),
          "training over a foreign directory: %s", err.msg);
    const char *none[] = {"/nonexistent/corpus.txt"};
    snprintf(a, sizeof a, "%s/m4", tmp_root);
    lens_static_train_opts o = {.inputs = none, .n_inputs = 1, .out_dir = a};
    CHECK(lens_static_train(&o, &err) != 0 && strstr(err.msg, "/nonexistent/corpus.txt"),
          "missing input: %s", err.msg);

    model_ctx c;
    for (int threads = 1; threads <= 2; threads++) {
        if (!open_model(&c, d1, threads)) return;
        CHECK(c.dim == 16, "dim %d", c.dim);
        CHECK(strcmp(lens_model_kernel(c.m), "static") == 0, "kernel %s", lens_model_kernel(c.m));
        const char *texts[] = {"The graphics and lighting look pretty!",
                               "Gorgeous visuals, lovely textures.",
                               "A glitch made the game crash; waiting for a patch.",
                               "qqqzzx xxqqv",
                               "",
                               "the soundtrack is catchy, I listen to the music"};
        float *e = embed(&c, texts, 6);
        for (int i = 0; i < 6; i++) {
            double n = norm(e + i * 16, 16);
            for (int d = 0; d < 16; d++) CHECK(isfinite(e[i * 16 + d]), "text %d: dim %d not finite", i, d);
            CHECK(fabs(n - 1) < 1e-5, "text %d: norm %g, want a unit vector", i, n);
        }
        uint64_t empties = lens_encoder_empty(c.enc);
        /* unknown words and the empty text: one fixed vector, orthogonal to
         * every known text (the common component is projected out of them) */
        CHECK(memcmp(e + 3 * 16, e + 4 * 16, 16 * sizeof *e) == 0, "unknown-word and empty texts differ");
        for (int i = 0; i < 6; i++)
            if (i != 3 && i != 4)
                CHECK(fabs(cosine(e + i * 16, e + 4 * 16, 16)) < 1e-5, "text %d: cos with the unknown vector %g", i,
                      cosine(e + i * 16, e + 4 * 16, 16));
        /* themes: a keyword the model does not know is left out of its theme,
         * and an unknown-word review is unassigned whatever min_sim is */
        {
            const char *js = "{\"1\": {\"gfx\": [\"graphics\", \"qqqzzx\"], \"bugs\": [\"glitch\", \"crash\"]}}";
            const char *js1 = "{\"1\": {\"gfx\": [\"graphics\"], \"bugs\": [\"glitch\", \"crash\"]}}";
            lens_themes *th = NULL, *th1 = NULL;
            CHECK(lens_themes_parse(&th, js, strlen(js), "t", &err) == 0, "%s", err.msg);
            CHECK(lens_themes_parse(&th1, js1, strlen(js1), "t", &err) == 0, "%s", err.msg);
            CHECK(th && th1 && lens_themes_embed(th, c.enc, 16, &err) == 0 && lens_themes_embed(th1, c.enc, 16, &err) == 0,
                  "%s", err.msg);
            if (th && th1) {
                CHECK(th->unknown != NULL, "no unknown vector for a static model");
                CHECK(memcmp(th->apps[0].vectors, th1->apps[0].vectors, 2 * 16 * sizeof(float)) == 0,
                      "an unknown keyword changed its theme's vector");
                float sims[2];
                int picks[2];
                CHECK(lens_themes_assign(&th->apps[0], 16, e + 3 * 16, -2, 2, sims, picks) == 0,
                      "unknown-word review assigned");
                CHECK(lens_themes_assign(&th->apps[0], 16, e, -2, 1, sims, picks) == 1 && picks[0] == 0,
                      "graphics review not assigned to gfx");
            }
            lens_themes_free(th);
            lens_themes_free(th1);
        }
        CHECK(empties == 2, "%llu empty texts, want 2", (unsigned long long)empties);
        double same = cosine(e, e + 16, 16), other = cosine(e, e + 32, 16), other2 = cosine(e, e + 80, 16);
        printf("tiny model (%d threads): cos(gfx, gfx) %.3f, cos(gfx, bug) %.3f, cos(gfx, audio) %.3f\n",
               threads, same, other, other2);
        CHECK(same > other + 0.3 && same > other2 + 0.3, "topics are not separated");
        const int32_t ids[] = {1, 2};
        const int32_t *pid[] = {ids};
        size_t nid = 2;
        CHECK(lens_encoder_embed_ids(c.enc, pid, &nid, 1, e, &err) == LENS_EUNSUP, "embed_ids on a static model");
        free(e);
        close_model(&c);
    }
}

/* ---------------------------------------------------------------- errors */

/* model.safetensors with F32 tensors of the given sizes */
static void write_st(const char *path, int64_t V, int64_t D, int64_t nprob, int64_t ncommon)
{
    char hdr[512];
    int64_t nv = V * D * 4, np = nprob * 4, nc = ncommon * 4;
    int n = snprintf(hdr, sizeof hdr,
                     "{\"vectors\":{\"dtype\":\"F32\",\"shape\":[%lld,%lld],\"data_offsets\":[0,%lld]},"
                     "\"word_prob\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%lld,%lld]},"
                     "\"common_component\":{\"dtype\":\"F32\",\"shape\":[%lld],\"data_offsets\":[%lld,%lld]}}",
                     (long long)V, (long long)D, (long long)nv, (long long)nprob, (long long)nv,
                     (long long)(nv + np), (long long)ncommon, (long long)(nv + np), (long long)(nv + np + nc));
    FILE *f = fopen(path, "wb");
    if (!f) return;
    uint64_t len = (uint64_t)n;
    fwrite(&len, 8, 1, f);
    fwrite(hdr, 1, (size_t)n, f);
    float zero = 0;
    for (int64_t i = 0; i < (nv + np + nc) / 4; i++) fwrite(&zero, 4, 1, f);
    fclose(f);
}

static void expect_error(const char *dir, const char *what, const char *needle1, const char *needle2)
{
    lens_model *m = NULL;
    lens_error err = {0};
    int rc = lens_model_open(&m, dir, NULL, &err);
    CHECK(rc != 0 && m == NULL, "%s: opened", what);
    CHECK(strstr(err.msg, needle1) && (!needle2 || strstr(err.msg, needle2)) && !strchr(err.msg, '\n'),
          "%s: message \"%s\" should name %s%s%s on one line", what, err.msg, needle1, needle2 ? " and " : "",
          needle2 ? needle2 : "");
    printf("%-26s -> %s\n", what, err.msg);
    lens_model_close(m);
}

static void test_errors(void)
{
    char good[4200], bad[4200], p[4400];
    snprintf(good, sizeof good, "%s/m1", tmp_root);
    snprintf(bad, sizeof bad, "%s/bad", tmp_root);

    copy_model(good, bad);
    snprintf(p, sizeof p, "%s/vocab.txt", bad);
    unlink(p);
    expect_error(bad, "missing vocab.txt", "vocab.txt", NULL);

    copy_model(good, bad);
    snprintf(p, sizeof p, "%s/model.safetensors", bad);
    unlink(p);
    expect_error(bad, "missing model.safetensors", "model.safetensors", NULL);

    copy_model(good, bad);
    snprintf(p, sizeof p, "%s/config.json", bad);
    write_text(p, "{\"model_type\": \"lens-static\", \"dim\": }");
    expect_error(bad, "config.json syntax", "config.json", NULL);

    write_text(p, "{\"model_type\": \"lens-static\", \"dim\": \"16\"}");
    expect_error(bad, "config.json dim type", "config.json", "dim");

    write_text(p, "{\"model_type\": \"lens-static\", \"dim\": 17}");
    expect_error(bad, "dim disagrees", "model.safetensors", "vectors");

    copy_model(good, bad);
    snprintf(p, sizeof p, "%s/vocab.txt", bad);
    FILE *f = fopen(p, "a");
    if (f) fputs("an_extra_word\n", f), fclose(f);
    expect_error(bad, "vocab longer than vectors", "vectors", "vocab.txt");

    write_text(p, "alpha\nbeta\n\ngamma\n");
    expect_error(bad, "empty vocab line", "vocab.txt:3", NULL);
    write_text(p, "alpha\nbeta\nalpha\n");
    expect_error(bad, "duplicate word", "vocab.txt:3", "duplicate");

    write_text(p, "alpha\nbeta\ngamma\n");
    snprintf(p, sizeof p, "%s/model.safetensors", bad);
    write_st(p, 3, 16, 4, 16);
    expect_error(bad, "word_prob shape", "model.safetensors", "word_prob");
    write_st(p, 3, 16, 3, 15);
    expect_error(bad, "common_component shape", "model.safetensors", "common_component");
    write_text(p, "not safetensors");
    expect_error(bad, "corrupt safetensors", "model.safetensors", NULL);
}

/* ---------------------------------------------------------------- shipped */

static void test_shipped(const char *dir)
{
    model_ctx c;
    if (!open_model(&c, dir, 2)) return;
    CHECK(c.dim == 128, "dim %d", c.dim);
    const char *texts[] = {"graphics", "visuals", "glitch", "bug", "multiplayer", "coop", "soundtrack",
                           "music", "story",
                           "The game keeps crashing on startup.",
                           "It crashes every time I launch it, please fix",
                           "Beautiful soundtrack and gorgeous art style."};
    float *e = embed(&c, texts, 12);
    for (int i = 0; i < 12; i++) CHECK(fabs(norm(e + i * 128, 128) - 1) < 1e-5, "text %d not unit", i);
#define COS(i, j) cosine(e + (i) * 128, e + (j) * 128, 128)
    printf("shipped: graphics~visuals %.3f graphics~glitch %.3f bug~glitch %.3f bug~music %.3f "
           "multiplayer~coop %.3f multiplayer~story %.3f music~soundtrack %.3f\n",
           COS(0, 1), COS(0, 2), COS(3, 2), COS(3, 7), COS(4, 5), COS(4, 8), COS(7, 6));
    printf("shipped: crash sentences %.3f, crash vs soundtrack sentence %.3f\n", COS(9, 10), COS(9, 11));
    CHECK(COS(0, 1) > COS(0, 2) + 0.2, "graphics should be nearer visuals than glitch");
    CHECK(COS(3, 2) > COS(3, 7) + 0.2, "bug should be nearer glitch than music");
    CHECK(COS(4, 5) > COS(4, 8) + 0.2, "multiplayer should be nearer coop than story");
    CHECK(COS(7, 6) > COS(7, 3) + 0.2, "music should be nearer soundtrack than bug");
    CHECK(COS(9, 10) > COS(9, 11) + 0.2, "two crash reports should be nearer each other than praise");
#undef COS
    free(e);
    close_model(&c);
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: %s SHIPPED_MODEL_DIR [TOKENIZER_DIR REVIEWS.jsonl]\n", argv[0]);
        return 2;
    }
    const char *t = getenv("TMPDIR");
    snprintf(tmp_root, sizeof tmp_root, "%s/lens-test-static-XXXXXX", t && *t ? t : "/tmp");
    if (!mkdtemp(tmp_root)) {
        perror("mkdtemp");
        return 1;
    }
    test_words();
    if (argc == 4) test_words_parity(argv[2], argv[3]);
    test_train();
    test_errors();
    test_shipped(argv[1]);
    lens_error err;
    lens__rmtree(tmp_root, &err);
    TEST_DONE();
}
