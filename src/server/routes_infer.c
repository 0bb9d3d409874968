/* Inference routes: POST /v1/embed, /v1/sentiment, /v1/themes/assign. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

typedef struct {
    const char **texts;
    size_t *lens, n;
} texts;

static void texts_free(texts *t)
{
    free(t->texts);
    free(t->lens);
    memset(t, 0, sizeof *t); /* parse_texts frees on errors; the route's state frees again */
}

/* Checks that body has only the allowed fields and a "texts" array of
 * strings; replies 4xx and returns NULL when not. */
static json_t *parse_texts(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *const *allowed,
                           texts *t)
{
    memset(t, 0, sizeof *t);
    json_t *o = lens__req_json(c, r);
    if (!o) return NULL;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = !strcmp(key, "texts");
        for (int i = 0; allowed && allowed[i]; i++) ok |= !strcmp(key, allowed[i]);
        if (!ok) {
            lens__reply_error(c, r, 400, "unknown field '%s'", key);
            json_decref(o);
            return NULL;
        }
    }
    json_t *arr = json_object_get(o, "texts");
    if (!json_is_array(arr)) {
        lens__reply_error(c, r, 400, "'texts' must be an array of strings");
        json_decref(o);
        return NULL;
    }
    t->n = json_array_size(arr);
    if (t->n > (size_t)s->o.queue) {
        lens__reply_error(c, r, 413, "%zu texts in one request; at most %d", t->n, s->o.queue);
        json_decref(o);
        return NULL;
    }
    t->texts = malloc((t->n ? t->n : 1) * sizeof *t->texts);
    t->lens = malloc((t->n ? t->n : 1) * sizeof *t->lens);
    if (!t->texts || !t->lens) {
        texts_free(t);
        json_decref(o);
        lens__reply_error(c, r, 503, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_string(e)) {
            lens__reply_error(c, r, 400, "texts[%zu] is not a string", i);
            texts_free(t);
            json_decref(o);
            return NULL;
        }
        t->texts[i] = json_string_value(e);
        t->lens[i] = json_string_length(e);
    }
    return o;
}

static enum MHD_Result reply_lens_error(struct MHD_Connection *c, lens__req *r, const lens_error *err)
{
    return lens__reply_error(c, r, lens__http_status(err->code), "%s", err->msg);
}

/* ------------------------------------------------ embedding, asynchronously
 *
 * A route parses its request, takes what the cache has, submits the rest
 * (plus any extra texts, such as inline theme keywords) to the batcher and
 * suspends its connection; the batch thread fills the embeddings and
 * resumes it, and MHD calls the route again to write the reply. No thread
 * waits for a forward pass. */
typedef struct {
    lens_server *s;
    lens__req *r;
    json_t *o;
    texts t;
    float *e;              /* [t.n][dim]: the request's embeddings */
    size_t n_extra;        /* extra texts, embedded first */
    const char **extra;
    size_t *miss, n_miss;  /* rows of e the batcher fills */
    const char **mt;       /* the batcher's texts: extra, then misses */
    size_t *ml;
    float *me;             /* the batcher's rows: [n_extra] extra, then the misses */
    lens__breq breq;
    int waiting; /* suspended for the batcher: the next call writes the reply */
    int rc;
    char err[512];
    /* themes/assign */
    lens_themes *inline_themes;
    const lens_app_themes *app;
    int top_k;
    float min_sim;
} infer;

static void infer_free(void *p)
{
    infer *q = p;
    if (!q) return;
    texts_free(&q->t);
    json_decref(q->o);
    free(q->e);
    free(q->extra);
    free(q->miss);
    free(q->mt);
    free(q->ml);
    free(q->me);
    lens_themes_free(q->inline_themes);
    free(q);
}

static void batch_done(void *ctx, int rc, const char *msg)
{
    infer *q = ctx;
    q->rc = rc;
    if (msg) snprintf(q->err, sizeof q->err, "%s", msg);
    lens__resume(q->s, q->r); /* last: q belongs to the connection's thread after this */
}

/* Starts embedding q->extra and q->t: 1 when the connection is suspended
 * (the route runs again when the embeddings are in), 0 when everything came
 * from the cache, -1 with err set on failure. */
static int embed_begin(infer *q, lens_error *err)
{
    lens_server *s = q->s;
    size_t n = q->t.n, dim = (size_t)s->dim, cap = q->n_extra + n;
    q->e = malloc((n ? n : 1) * dim * sizeof *q->e);
    q->miss = malloc((n ? n : 1) * sizeof *q->miss);
    q->mt = malloc((cap ? cap : 1) * sizeof *q->mt);
    q->ml = malloc((cap ? cap : 1) * sizeof *q->ml);
    if (!q->e || !q->miss || !q->mt || !q->ml) return lens_error_set(err, LENS_ENOMEM, "out of memory"), -1;
    size_t m = 0;
    for (size_t i = 0; i < q->n_extra; i++, m++) {
        q->mt[m] = q->extra[i];
        q->ml[m] = strlen(q->extra[i]);
    }
    for (size_t i = 0; i < n; i++)
        if (!lens__cache_get(s->cache, q->t.texts[i], q->t.lens[i], q->e + i * dim)) {
            q->miss[q->n_miss++] = i;
            q->mt[m] = q->t.texts[i];
            q->ml[m++] = q->t.lens[i];
        }
    if (s->cache) lens__metrics_cache(s->metrics, n - q->n_miss, q->n_miss);
    if (!m) return 0;
    if (s->stopping) return lens_error_set(err, LENS_ENOMEM, "the server is stopping"), -1;
    q->me = malloc(m * dim * sizeof *q->me);
    if (!q->me) return lens_error_set(err, LENS_ENOMEM, "out of memory"), -1;
    /* suspended before the batch thread can resume it */
    q->waiting = 1;
    lens__suspend(s, q->r);
    if (lens__batcher_submit(s->batcher, &q->breq, q->mt, q->ml, m, q->me, batch_done, q, err)) {
        batch_done(q, err->code, err->msg); /* the resumed call replies, as it would after a batch */
        *err = (lens_error){0};
    }
    return 1;
}

/* After the batch: spreads the batcher's rows of the misses into e and
 * caches them (the extra texts' rows stay at the start of me). */
static int embed_finish(infer *q, lens_error *err)
{
    if (q->rc) return lens_error_set(err, q->rc, "%s", q->err);
    size_t dim = (size_t)q->s->dim;
    for (size_t k = 0; k < q->n_miss; k++) {
        const float *v = q->me + (q->n_extra + k) * dim;
        memcpy(q->e + q->miss[k] * dim, v, dim * sizeof *v);
        lens__cache_put(q->s->cache, q->t.texts[q->miss[k]], q->t.lens[q->miss[k]], v);
    }
    return LENS_OK;
}

static enum MHD_Result reply_embeddings(struct MHD_Connection *c, infer *q)
{
    lens_server *s = q->s;
    /* written by hand: %.9g gives every float back exactly, and is far
     * smaller than jansson's doubles */
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return lens__reply_error(c, q->r, 503, "out of memory");
    fputs("{\"model\":", f);
    json_t *jname = json_string(s->model_name);
    char *name = jname ? json_dumps(jname, JSON_ENCODE_ANY) : NULL;
    json_decref(jname);
    fputs(name ? name : "\"\"", f);
    free(name);
    fprintf(f, ",\"dim\":%d,\"embeddings\":[", s->dim);
    for (size_t i = 0; i < q->t.n; i++) {
        fputs(i ? ",[" : "[", f);
        for (int d = 0; d < s->dim; d++) fprintf(f, d ? ",%.9g" : "%.9g", q->e[i * s->dim + d]);
        fputc(']', f);
    }
    fputs("]}\n", f);
    /* the memory stream grows as it is written: a failed allocation shows
     * as a write error, and the text is then cut short */
    if (ferror(f) | fclose(f)) {
        free(buf);
        return lens__reply_error(c, q->r, 503, "out of memory");
    }
    return lens__reply(c, q->r, 200, "application/json", buf, len);
}

static infer *infer_new(lens_server *s, struct MHD_Connection *c, lens__req *r)
{
    infer *q = calloc(1, sizeof *q);
    if (!q) {
        lens__reply_error(c, r, 503, "out of memory");
        return NULL;
    }
    q->s = s;
    q->r = r;
    r->state = q;
    r->state_free = infer_free;
    return q;
}

enum MHD_Result lens__route_embed(lens_server *s, struct MHD_Connection *c, lens__req *r)
{
    infer *q = r->state;
    lens_error err = {0};
    if (!q) { /* first call: parse and submit */
        if (!(q = infer_new(s, c, r))) return MHD_YES;
        if (!(q->o = parse_texts(s, c, r, NULL, &q->t))) return MHD_YES;
        int st = embed_begin(q, &err);
        if (st > 0) return MHD_YES;
        if (st < 0) return reply_lens_error(c, r, &err);
        return reply_embeddings(c, q);
    }
    if (!q->waiting) return MHD_NO; /* called again after a reply MHD refused */
    q->waiting = 0;
    if (embed_finish(q, &err)) return reply_lens_error(c, r, &err);
    return reply_embeddings(c, q);
}

enum MHD_Result lens__route_sentiment(lens_server *s, struct MHD_Connection *c, lens__req *r)
{
    texts t;
    json_t *o = parse_texts(s, c, r, NULL, &t);
    if (!o) return MHD_YES;
    if (!s->vader) {
        texts_free(&t);
        json_decref(o);
        return lens__reply_error(c, r, 503, "VADER is not loaded (--vader-lexicon)");
    }
    lens_vader_scratch *sc = lens_vader_scratch_new();
    json_t *arr = json_array();
    lens_error err = {0};
    int rc = sc ? LENS_OK : lens_error_set(&err, LENS_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < t.n; i++) {
        lens_sentiment v;
        if ((rc = lens_vader_score(s->vader, sc, t.texts[i], t.lens[i], &v, &err))) break;
        json_array_append_new(arr, json_pack("{sssfsfsfsf}", "label", v.compound >= 0 ? "positive" : "negative",
                                             "compound", v.compound, "neg", v.neg, "neu", v.neu, "pos", v.pos));
    }
    lens_vader_scratch_free(sc);
    texts_free(&t);
    json_decref(o);
    if (rc) {
        json_decref(arr);
        return reply_lens_error(c, r, &err);
    }
    return lens__reply_json(c, r, 200, json_pack("{ssso}", "model", "vader-3.3.2", "sentiment", arr));
}

/* lens_themes_embed_with's embed function for inline themes: their
 * keywords were embedded with the request's texts, in the same order */
static int replay(void *ctx, const char *const *kw, size_t n, float *out, lens_error *err)
{
    (void)kw;
    (void)err;
    infer *q = ctx;
    if (n) memcpy(out, q->me, n * (size_t)q->s->dim * sizeof *out); /* me starts with them */
    return LENS_OK;
}

static enum MHD_Result reply_assignments(struct MHD_Connection *c, infer *q)
{
    lens_server *s = q->s;
    const lens_app_themes *app = q->app;
    float *sims = malloc((size_t)app->n_themes * sizeof *sims);
    int *picks = malloc((size_t)app->n_themes * sizeof *picks);
    if (!sims || !picks) {
        free(sims);
        free(picks);
        return lens__reply_error(c, q->r, 503, "out of memory");
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < q->t.n; i++) {
        const float *v = q->e + i * (size_t)s->dim;
        int k = lens_themes_assign(app, s->dim, v, q->min_sim, q->top_k, sims, picks);
        json_t *th_arr = json_array();
        for (int j = 0; j < k; j++)
            json_array_append_new(th_arr, json_pack("{sssf}", "theme", app->themes[picks[j]].name, "similarity",
                                                    (double)sims[picks[j]]));
        float best = -2;
        for (int j = 0; j < app->n_themes; j++) best = fmaxf(best, sims[j]);
        json_array_append_new(arr, json_pack("{sosf}", "themes", th_arr, "best_similarity", (double)best));
    }
    free(sims);
    free(picks);
    return lens__reply_json(c, q->r, 200,
                           json_pack("{sssosiso}", "model", s->model_name, "min_similarity",
                                     q->min_sim < -1 ? json_null() : json_real(q->min_sim), "top_k", q->top_k,
                                     "assignments", arr));
}

/* inline themes' keywords are embedded with every request that sends them:
 * as many as the texts one request may have (--queue's default) */
#define MAX_INLINE_KEYWORDS 4096

/* First call: checks the request and starts embedding (inline themes'
 * keywords with the texts). 1 when it has replied (errors) or suspended,
 * with *ret set; 0 when the cache had everything and the route goes on. */
static int assign_begin(lens_server *s, struct MHD_Connection *c, lens__req *r, infer *q, enum MHD_Result *ret)
{
#define REPLY(x) return (*ret = (x)), 1
    *ret = MHD_YES;
    static const char *const allowed[] = {"app_id", "themes", "top_k", "min_similarity", NULL};
    if (!(q->o = parse_texts(s, c, r, allowed, &q->t))) return 1;
    lens_error err = {0};
    json_t *o = q->o;
    json_t *app_id = json_object_get(o, "app_id"), *th = json_object_get(o, "themes");
    json_t *tk = json_object_get(o, "top_k"), *ms = json_object_get(o, "min_similarity");
    q->top_k = 1;
    q->min_sim = -2;
    if (tk && (!json_is_integer(tk) || json_integer_value(tk) < 1 || json_integer_value(tk) > 8))
        REPLY(lens__reply_error(c, r, 400, "'top_k' must be an integer in 1..8"));
    if (tk) q->top_k = (int)json_integer_value(tk);
    if (!ms || (json_is_string(ms) && !strcmp(json_string_value(ms), "auto"))) {
        if (!lens_model_min_similarity(s->model, &q->min_sim)) q->min_sim = -2;
    } else if (json_is_number(ms) && json_number_value(ms) >= -1 && json_number_value(ms) <= 1) {
        q->min_sim = (float)json_number_value(ms);
    } else if (!(json_is_string(ms) && !strcmp(json_string_value(ms), "off"))) {
        REPLY(lens__reply_error(c, r, 400, "'min_similarity' must be a number in -1..1, \"auto\" or \"off\""));
    }
    if (!!app_id == !!th)
        REPLY(lens__reply_error(c, r, 400, "give either 'app_id' (themes the server loaded) or 'themes' "
                                           "({\"theme\": [\"keyword\", ...]})"));
    if (app_id) {
        const char *id = json_is_string(app_id) ? json_string_value(app_id) : NULL;
        char num[32];
        if (json_is_integer(app_id)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(app_id));
            id = num;
        }
        if (!id || !s->themes || !(q->app = lens_themes_find(s->themes, id)))
            REPLY(lens__reply_error(c, r, 404, "no themes for app_id %s%s", id ? id : "(not a string)",
                                    s->themes ? "" : " (the server has no --themes)"));
    } else {
        /* inline: the steamLens format for one app, parsed by the same parser */
        json_t *wrap = json_pack("{sO}", "0", th); /* app ids are numbers */
        char *text = json_dumps(wrap, JSON_COMPACT);
        json_decref(wrap);
        int rc = text ? lens_themes_parse(&q->inline_themes, text, strlen(text), "themes", &err)
                      : lens_error_set(&err, LENS_ENOMEM, "out of memory");
        free(text);
        if (rc) REPLY(reply_lens_error(c, r, &err));
        const lens_app_themes *a = &q->inline_themes->apps[0];
        for (int i = 0; i < a->n_themes; i++) q->n_extra += (size_t)a->themes[i].n_keywords;
        if (q->n_extra > MAX_INLINE_KEYWORDS)
            REPLY(lens__reply_error(c, r, 413, "%zu inline keywords in one request; at most %d (across all themes)",
                                    q->n_extra, MAX_INLINE_KEYWORDS));
        if (!(q->extra = malloc((q->n_extra ? q->n_extra : 1) * sizeof *q->extra)))
            REPLY(lens__reply_error(c, r, 503, "out of memory"));
        size_t n = 0; /* lens_themes_embed_with's order */
        for (int i = 0; i < a->n_themes; i++)
            for (int k = 0; k < a->themes[i].n_keywords; k++) q->extra[n++] = a->themes[i].keywords[k];
    }
    int st = embed_begin(q, &err);
    if (st > 0) return 1;
    if (st < 0) REPLY(reply_lens_error(c, r, &err));
    return 0;
#undef REPLY
}

enum MHD_Result lens__route_assign(lens_server *s, struct MHD_Connection *c, lens__req *r)
{
    infer *q = r->state;
    lens_error err = {0};
    if (!q) {
        if (!(q = infer_new(s, c, r))) return MHD_YES;
        enum MHD_Result ret;
        if (assign_begin(s, c, r, q, &ret)) return ret;
    } else if (!q->waiting) {
        return MHD_NO; /* called again after a reply MHD refused */
    } else {
        q->waiting = 0;
        if (embed_finish(q, &err)) return reply_lens_error(c, r, &err);
    }
    if (q->inline_themes) {
        if (lens__server_themes_unknown(s, q->inline_themes, &err) ||
            lens_themes_embed_with(q->inline_themes, s->dim, replay, q, &err))
            return reply_lens_error(c, r, &err);
        q->app = &q->inline_themes->apps[0];
    }
    return reply_assignments(c, q);
}
