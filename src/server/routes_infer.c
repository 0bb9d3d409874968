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
}

/* Checks that body has only the allowed fields and a "texts" array of
 * strings; replies 4xx and returns NULL when not. */
static json_t *parse_texts(lens_server *s, struct MHD_Connection *c, lens_req *r, const char *const *allowed,
                           texts *t)
{
    memset(t, 0, sizeof *t);
    json_t *o = lens_req_json(c, r);
    if (!o) return NULL;
    const char *key;
    json_t *v;
    json_object_foreach(o, key, v) {
        int ok = !strcmp(key, "texts");
        for (int i = 0; allowed && allowed[i]; i++) ok |= !strcmp(key, allowed[i]);
        if (!ok) {
            lens_reply_error(c, r, 400, "unknown field '%s'", key);
            json_decref(o);
            return NULL;
        }
    }
    json_t *arr = json_object_get(o, "texts");
    if (!json_is_array(arr)) {
        lens_reply_error(c, r, 400, "'texts' must be an array of strings");
        json_decref(o);
        return NULL;
    }
    t->n = json_array_size(arr);
    if (t->n > (size_t)s->o.queue) {
        lens_reply_error(c, r, 413, "%zu texts in one request; at most %d", t->n, s->o.queue);
        json_decref(o);
        return NULL;
    }
    t->texts = malloc((t->n ? t->n : 1) * sizeof *t->texts);
    t->lens = malloc((t->n ? t->n : 1) * sizeof *t->lens);
    if (!t->texts || !t->lens) {
        texts_free(t);
        json_decref(o);
        lens_reply_error(c, r, 503, "out of memory");
        return NULL;
    }
    for (size_t i = 0; i < t->n; i++) {
        json_t *e = json_array_get(arr, i);
        if (!json_is_string(e)) {
            lens_reply_error(c, r, 400, "texts[%zu] is not a string", i);
            texts_free(t);
            json_decref(o);
            return NULL;
        }
        t->texts[i] = json_string_value(e);
        t->lens[i] = json_string_length(e);
    }
    return o;
}

/* Embeddings of t into out, from the cache where it has them. */
static int embed(lens_server *s, const texts *t, float *out, lens_error *err)
{
    size_t *miss = malloc((t->n ? t->n : 1) * sizeof *miss), n_miss = 0;
    const char **mt = malloc((t->n ? t->n : 1) * sizeof *mt);
    size_t *ml = malloc((t->n ? t->n : 1) * sizeof *ml);
    float *me = NULL;
    int rc = miss && mt && ml ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "out of memory");
    for (size_t i = 0; !rc && i < t->n; i++)
        if (!lens_cache_get(s->cache, t->texts[i], t->lens[i], out + i * (size_t)s->dim)) {
            miss[n_miss] = i;
            mt[n_miss] = t->texts[i];
            ml[n_miss++] = t->lens[i];
        }
    if (!rc && s->cache) lens_metrics_cache(s->metrics, t->n - n_miss, n_miss);
    if (!rc && n_miss) {
        me = malloc(n_miss * (size_t)s->dim * sizeof *me);
        rc = me ? lens_batcher_embed(s->batcher, mt, ml, n_miss, me, err) : lens_error_set(err, LENS_ENOMEM, "out of memory");
        for (size_t k = 0; !rc && k < n_miss; k++) {
            memcpy(out + miss[k] * s->dim, me + k * (size_t)s->dim, (size_t)s->dim * sizeof *out);
            lens_cache_put(s->cache, mt[k], ml[k], me + k * (size_t)s->dim);
        }
    }
    free(miss);
    free(mt);
    free(ml);
    free(me);
    return rc;
}

static enum MHD_Result reply_lens_error(struct MHD_Connection *c, lens_req *r, const lens_error *err)
{
    return lens_reply_error(c, r, lens_http_status(err->code), "%s", err->msg);
}

enum MHD_Result lens_route_embed(lens_server *s, struct MHD_Connection *c, lens_req *r)
{
    texts t;
    json_t *o = parse_texts(s, c, r, NULL, &t);
    if (!o) return MHD_YES;
    float *e = malloc((t.n ? t.n : 1) * (size_t)s->dim * sizeof *e);
    lens_error err = {0};
    int rc = e ? embed(s, &t, e, &err) : lens_error_set(&err, LENS_ENOMEM, "out of memory");
    enum MHD_Result ret;
    if (rc) {
        ret = reply_lens_error(c, r, &err);
    } else {
        /* written by hand: %.9g gives every float back exactly, and is far
         * smaller than jansson's doubles */
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        fputs("{\"model\":", f);
        json_t *jname = json_string(s->model_name);
        char *name = jname ? json_dumps(jname, JSON_ENCODE_ANY) : NULL;
        json_decref(jname);
        fputs(name ? name : "\"\"", f);
        free(name);
        fprintf(f, ",\"dim\":%d,\"embeddings\":[", s->dim);
        for (size_t i = 0; i < t.n; i++) {
            fputs(i ? ",[" : "[", f);
            for (int d = 0; d < s->dim; d++) fprintf(f, d ? ",%.9g" : "%.9g", e[i * s->dim + d]);
            fputc(']', f);
        }
        fputs("]}\n", f);
        fclose(f);
        ret = lens_reply(c, r, 200, "application/json", buf, len);
    }
    free(e);
    texts_free(&t);
    json_decref(o);
    return ret;
}

enum MHD_Result lens_route_sentiment(lens_server *s, struct MHD_Connection *c, lens_req *r)
{
    texts t;
    json_t *o = parse_texts(s, c, r, NULL, &t);
    if (!o) return MHD_YES;
    if (!s->vader) {
        texts_free(&t);
        json_decref(o);
        return lens_reply_error(c, r, 503, "VADER is not loaded (--vader-lexicon)");
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
    return lens_reply_json(c, r, 200, json_pack("{ssso}", "model", "vader-3.3.2", "sentiment", arr));
}

enum MHD_Result lens_route_assign(lens_server *s, struct MHD_Connection *c, lens_req *r)
{
    static const char *const allowed[] = {"app_id", "themes", "top_k", "min_similarity", NULL};
    texts t;
    json_t *o = parse_texts(s, c, r, allowed, &t);
    if (!o) return MHD_YES;
    lens_error err = {0};
    enum MHD_Result ret = MHD_YES;
    lens_themes *inline_themes = NULL;
    const lens_app_themes *app = NULL;
    float *e = NULL, *sims = NULL;
    int *picks = NULL;
    json_t *app_id = json_object_get(o, "app_id"), *th = json_object_get(o, "themes");
    json_t *tk = json_object_get(o, "top_k"), *ms = json_object_get(o, "min_similarity");
    int top_k = 1;
    float min_sim = -2;
    if (tk && (!json_is_integer(tk) || json_integer_value(tk) < 1 || json_integer_value(tk) > 8)) {
        ret = lens_reply_error(c, r, 400, "'top_k' must be an integer in 1..8");
        goto out;
    }
    if (tk) top_k = (int)json_integer_value(tk);
    if (!ms || (json_is_string(ms) && !strcmp(json_string_value(ms), "auto"))) {
        if (!lens_model_min_similarity(s->model, &min_sim)) min_sim = -2;
    } else if (json_is_number(ms) && json_number_value(ms) >= -1 && json_number_value(ms) <= 1) {
        min_sim = (float)json_number_value(ms);
    } else if (!(json_is_string(ms) && !strcmp(json_string_value(ms), "off"))) {
        ret = lens_reply_error(c, r, 400, "'min_similarity' must be a number in -1..1, \"auto\" or \"off\"");
        goto out;
    }
    if (!!app_id == !!th) {
        ret = lens_reply_error(c, r, 400, "give either 'app_id' (themes the server loaded) or 'themes' "
                                          "({\"theme\": [\"keyword\", ...]})");
        goto out;
    }
    if (app_id) {
        const char *id = json_is_string(app_id) ? json_string_value(app_id) : NULL;
        char num[32];
        if (json_is_integer(app_id)) {
            snprintf(num, sizeof num, "%lld", (long long)json_integer_value(app_id));
            id = num;
        }
        if (!id || !s->themes || !(app = lens_themes_find(s->themes, id))) {
            ret = lens_reply_error(c, r, 404, "no themes for app_id %s%s", id ? id : "(not a string)",
                                   s->themes ? "" : " (the server has no --themes)");
            goto out;
        }
    } else {
        /* inline: the steamLens format for one app, parsed by the same parser */
        json_t *wrap = json_pack("{sO}", "0", th); /* app ids are numbers */
        char *text = json_dumps(wrap, JSON_COMPACT);
        json_decref(wrap);
        int rc = text ? lens_themes_parse(&inline_themes, text, strlen(text), "themes", &err)
                      : lens_error_set(&err, LENS_ENOMEM, "out of memory");
        free(text);
        if (!rc) rc = lens_themes_embed_with(inline_themes, s->dim, lens_batcher_fn, s->batcher, &err);
        if (rc) {
            ret = reply_lens_error(c, r, &err);
            goto out;
        }
        app = &inline_themes->apps[0];
    }
    e = malloc((t.n ? t.n : 1) * (size_t)s->dim * sizeof *e);
    sims = malloc((size_t)app->n_themes * sizeof *sims);
    picks = malloc((size_t)app->n_themes * sizeof *picks);
    if (!e || !sims || !picks) {
        ret = lens_reply_error(c, r, 503, "out of memory");
        goto out;
    }
    if (embed(s, &t, e, &err)) {
        ret = reply_lens_error(c, r, &err);
        goto out;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < t.n; i++) {
        const float *v = e + i * (size_t)s->dim;
        int k = lens_themes_assign(app, s->dim, v, min_sim, top_k, sims, picks);
        json_t *th_arr = json_array();
        for (int q = 0; q < k; q++)
            json_array_append_new(th_arr, json_pack("{sssf}", "theme", app->themes[picks[q]].name, "similarity",
                                                    (double)sims[picks[q]]));
        float best = -2;
        for (int q = 0; q < app->n_themes; q++) best = fmaxf(best, sims[q]);
        json_array_append_new(arr, json_pack("{sosf}", "themes", th_arr, "best_similarity", (double)best));
    }
    ret = lens_reply_json(c, r, 200,
                          json_pack("{sssosiso}", "model", s->model_name, "min_similarity",
                                    min_sim < -1 ? json_null() : json_real(min_sim), "top_k", top_k,
                                    "assignments", arr));
out:
    texts_free(&t);
    json_decref(o);
    lens_themes_free(inline_themes);
    free(e);
    free(sims);
    free(picks);
    return ret;
}
