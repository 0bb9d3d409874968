/* Themes (see lens/themes.h): loading themes.json with a small JSON reader
 * that keeps line:column for every value, so a bad file gets an error that
 * points at the offending spot (jansson reports positions only for syntax
 * errors); lookups by app; embedding the keywords into theme vectors; and
 * assigning a review's embedding to its nearest themes. */
#include "lens/themes.h"
#include "analysis/themes_internal.h"
#include "base/fs.h"

#include <fcntl.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    const char *path;
    const char *s, *p, *end;
    lens_error *err;
    int rc;
} parser;

static void pos(const parser *ps, const char *at, int *line, int *col)
{
    *line = 1;
    *col = 1;
    for (const char *q = ps->s; q < at; q++) {
        if (*q == '\n') {
            (*line)++;
            *col = 1;
        } else if (((unsigned char)*q & 0xC0) != 0x80) {
            (*col)++;
        }
    }
}

static int fail(parser *ps, const char *at, const char *what)
{
    int line, col;
    pos(ps, at, &line, &col);
    if (!ps->rc) ps->rc = lens_error_set(ps->err, LENS_EFORMAT, "%s:%d:%d: %s", ps->path, line, col, what);
    return ps->rc;
}

static void ws(parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++;
}

static int expect(parser *ps, char c, const char *what)
{
    ws(ps);
    if (ps->p >= ps->end || *ps->p != c) return fail(ps, ps->p, what);
    ps->p++;
    return 0;
}

static int hex4(const char *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        unsigned d = c >= '0' && c <= '9' ? (unsigned)(c - '0') : c >= 'a' && c <= 'f' ? (unsigned)(c - 'a' + 10)
                   : c >= 'A' && c <= 'F' ? (unsigned)(c - 'A' + 10) : 16u;
        if (d > 15) return -1;
        *v = *v << 4 | d;
    }
    return 0;
}

static size_t put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) { o[0] = (char)cp; return 1; }
    if (cp < 0x800) { o[0] = (char)(0xC0 | cp >> 6); o[1] = (char)(0x80 | (cp & 0x3F)); return 2; }
    if (cp < 0x10000) {
        o[0] = (char)(0xE0 | cp >> 12); o[1] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[2] = (char)(0x80 | (cp & 0x3F));
        return 3;
    }
    o[0] = (char)(0xF0 | cp >> 18); o[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
    o[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); o[3] = (char)(0x80 | (cp & 0x3F));
    return 4;
}

/* Parses a JSON string at ps->p into a new NUL-terminated buffer. */
static char *string(parser *ps, const char *what)
{
    ws(ps);
    if (ps->p >= ps->end || *ps->p != '"') {
        fail(ps, ps->p, what);
        return NULL;
    }
    const char *start = ++ps->p, *q = start;
    /* sized to the raw string, not to the rest of the document: one
     * document-sized buffer per keyword made a large inline themes object
     * cost gigabytes (decoding never grows) */
    while (q < ps->end && *q != '"') q += *q == '\\' && q + 1 < ps->end ? 2 : 1;
    char *out = malloc((size_t)(q - start) + 1), *o = out;
    if (!out) {
        fail(ps, start, "out of memory");
        return NULL;
    }
    while (ps->p < ps->end && *ps->p != '"') {
        unsigned char c = (unsigned char)*ps->p;
        if (c < 0x20) {
            fail(ps, ps->p, "control character inside a string");
            free(out);
            return NULL;
        }
        if (c != '\\') {
            *o++ = (char)c;
            ps->p++;
            continue;
        }
        const char *esc = ps->p++;
        if (ps->p >= ps->end) break;
        char e = *ps->p++;
        unsigned cp;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u':
            if (ps->end - ps->p < 4 || hex4(ps->p, &cp)) goto bad;
            ps->p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) { /* surrogate pair */
                unsigned lo;
                if (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u' || hex4(ps->p + 2, &lo) ||
                    lo < 0xDC00 || lo > 0xDFFF)
                    goto bad;
                ps->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                goto bad;
            }
            o += put_utf8(o, cp);
            break;
        default:
        bad:
            fail(ps, esc, "bad escape in string");
            free(out);
            return NULL;
        }
    }
    if (ps->p >= ps->end) {
        fail(ps, start - 1, "string never closed");
        free(out);
        return NULL;
    }
    ps->p++;
    *o = '\0';
    return out;
}

/* Calls item() for each member of an object ({ "key": value, ... }). */
static int object(parser *ps, const char *what, int (*item)(parser *, char *key, const char *at, void *), void *ctx)
{
    if (expect(ps, '{', what)) return ps->rc;
    ws(ps);
    if (ps->p < ps->end && *ps->p == '}') {
        ps->p++;
        return 0;
    }
    for (;;) {
        ws(ps);
        const char *at = ps->p;
        char *key = string(ps, "expected a quoted key");
        if (!key) return ps->rc;
        if (expect(ps, ':', "expected ':' after the key")) {
            free(key);
            return ps->rc;
        }
        if (item(ps, key, at, ctx)) return ps->rc; /* item owns key */
        ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        return expect(ps, '}', "expected ',' or '}'");
    }
}

static int theme_item(parser *ps, char *name, const char *at, void *ctx)
{
    lens_app_themes *app = ctx;
    for (int i = 0; i < app->n_themes; i++)
        if (strcmp(app->themes[i].name, name) == 0) {
            free(name);
            return fail(ps, at, "theme listed twice for this app");
        }
    lens_theme *grown = realloc(app->themes, (size_t)(app->n_themes + 1) * sizeof *grown);
    if (!grown) {
        free(name);
        return fail(ps, at, "out of memory");
    }
    app->themes = grown;
    lens_theme *t = &app->themes[app->n_themes++];
    memset(t, 0, sizeof *t);
    t->name = name;
    if (expect(ps, '[', "a theme's value must be an array of keyword strings")) return ps->rc;
    ws(ps);
    if (ps->p < ps->end && *ps->p == ']') return fail(ps, ps->p, "a theme needs at least one keyword");
    for (;;) {
        ws(ps);
        const char *kat = ps->p;
        char *kw = string(ps, "keywords must be strings");
        if (!kw) return ps->rc;
        if (!kw[strspn(kw, " \t\r\n")]) {
            free(kw);
            return fail(ps, kat, "empty keyword");
        }
        char **k = realloc(t->keywords, (size_t)(t->n_keywords + 1) * sizeof *k);
        if (!k) {
            free(kw);
            return fail(ps, kat, "out of memory");
        }
        t->keywords = k;
        t->keywords[t->n_keywords++] = kw;
        ws(ps);
        if (ps->p < ps->end && *ps->p == ',') {
            ps->p++;
            continue;
        }
        return expect(ps, ']', "expected ',' or ']' in the keyword list");
    }
}

static int app_item(parser *ps, char *app_id, const char *at, void *ctx)
{
    lens_themes *t = ctx;
    if (!*app_id || app_id[strspn(app_id, "0123456789")] != '\0') {
        free(app_id);
        return fail(ps, at, "app ids must be decimal numbers, like \"391540\"");
    }
    for (int i = 0; i < t->n_apps; i++)
        if (strcmp(t->apps[i].app_id, app_id) == 0) {
            free(app_id);
            return fail(ps, at, "app id listed twice");
        }
    lens_app_themes *grown = realloc(t->apps, (size_t)(t->n_apps + 1) * sizeof *grown);
    if (!grown) {
        free(app_id);
        return fail(ps, at, "out of memory");
    }
    t->apps = grown;
    lens_app_themes *app = &t->apps[t->n_apps++];
    memset(app, 0, sizeof *app);
    app->app_id = app_id;
    const char *vat = ps->p;
    if (object(ps, "an app's value must be an object of themes", theme_item, app)) return ps->rc;
    if (app->n_themes == 0) return fail(ps, vat, "an app needs at least one theme");
    return 0;
}

int lens_themes_load(lens_themes **out, const char *path, lens_error *err)
{
    return lens__themes_load_in(out, NULL, path, err);
}

int lens__themes_load_in(lens_themes **out, const char *root, const char *path, lens_error *err)
{
    *out = NULL;
    lens_error e2;
    int fd = lens__open_beneath(root, path, O_RDONLY | O_CLOEXEC, &e2);
    if (fd < 0 && fd == LENS_ENOTFOUND) return lens_error_set(err, LENS_ENOTFOUND, "themes %s: cannot open", path);
    if (fd < 0) return lens_error_set(err, fd, "themes %s", e2.msg);
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return lens_error_set(err, LENS_ENOMEM, "themes %s: out of memory", path);
    }
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 1 << 16;
            if (cap > (64u << 20)) {
                free(buf);
                fclose(f);
                return lens_error_set(err, LENS_ENOMEM, "themes %s: larger than 64 MB", path);
            }
            char *b = realloc(buf, cap);
            if (!b) {
                free(buf);
                fclose(f);
                return lens_error_set(err, LENS_ENOMEM, "themes %s: out of memory", path);
            }
            buf = b;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got == 0) break;
    }
    fclose(f);
    int rc = lens_themes_parse(out, buf, n, path, err);
    free(buf);
    return rc;
}

int lens_themes_parse(lens_themes **out, const char *buf, size_t n, const char *name, lens_error *err)
{
    *out = NULL;
    const char *path = name;
    lens_themes *t = calloc(1, sizeof *t);
    parser ps = {.path = path, .s = buf, .p = buf, .end = buf + n, .err = err};
    if (n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) ps.p += 3;
    if (!t) ps.rc = lens_error_set(err, LENS_ENOMEM, "themes %s: out of memory", path);
    else if (!object(&ps, "themes must be a JSON object of app ids", app_item, t)) {
        ws(&ps);
        if (ps.p != ps.end) fail(&ps, ps.p, "unexpected text after the top-level object");
        else if (t->n_apps == 0) fail(&ps, buf, "no apps in the file");
    }
    if (ps.rc) {
        lens_themes_free(t);
        return ps.rc;
    }
    *out = t;
    return LENS_OK;
}

void lens_themes_free(lens_themes *t)
{
    if (!t) return;
    for (int a = 0; a < t->n_apps; a++) {
        lens_app_themes *app = &t->apps[a];
        for (int i = 0; i < app->n_themes; i++) {
            for (int k = 0; k < app->themes[i].n_keywords; k++) free(app->themes[i].keywords[k]);
            free(app->themes[i].keywords);
            free(app->themes[i].name);
        }
        free(app->themes);
        free(app->vectors);
        free(app->app_id);
    }
    free(t->apps);
    free(t->unknown);
    free(t);
}

const lens_app_themes *lens_themes_find(const lens_themes *t, const char *app_id)
{
    for (int a = 0; a < t->n_apps; a++)
        if (strcmp(t->apps[a].app_id, app_id) == 0) return &t->apps[a];
    return NULL;
}

const char *lens_themes_name(const lens_app_themes *app, int t)
{
    return t >= 0 && t < app->n_themes ? app->themes[t].name : "unassigned";
}

static int encoder_fn(void *ctx, const char *const *texts, size_t n, float *out, lens_error *err)
{
    return lens_encoder_embed(ctx, texts, NULL, n, out, NULL, err);
}

/* A static model gives every text without a known word one fixed vector
 * (counted by lens_encoder_empty): the empty text's. */
int lens_themes_unknown(lens_encoder *enc, int dim, float **out, lens_error *err)
{
    *out = NULL;
    float *u = malloc((size_t)dim * sizeof *u);
    if (!u) return lens_error_set(err, LENS_ENOMEM, "themes: out of memory");
    const char *blank = "";
    uint64_t before = lens_encoder_empty(enc);
    int rc = lens_encoder_embed(enc, &blank, NULL, 1, u, NULL, err);
    if (rc || lens_encoder_empty(enc) == before) free(u);
    else *out = u;
    return rc;
}

int lens_themes_embed(lens_themes *t, lens_encoder *enc, int dim, lens_error *err)
{
    free(t->unknown);
    int rc = lens_themes_unknown(enc, dim, &t->unknown, err);
    return rc ? rc : lens_themes_embed_with(t, dim, encoder_fn, enc, err);
}

int lens_themes_embed_with(lens_themes *t, int dim, lens_embed_fn embed, void *ctx, lens_error *err)
{
    t->dim = dim;
    for (int a = 0; a < t->n_apps; a++) {
        lens_app_themes *app = &t->apps[a];
        int total = 0;
        for (int i = 0; i < app->n_themes; i++) total += app->themes[i].n_keywords;
        const char **kw = malloc((size_t)total * sizeof *kw);
        float *e = malloc((size_t)total * dim * sizeof *e);
        free(app->vectors);
        app->vectors = calloc((size_t)app->n_themes * dim, sizeof *app->vectors);
        if (!kw || !e || !app->vectors) {
            free(kw);
            free(e);
            return lens_error_set(err, LENS_ENOMEM, "themes: out of memory");
        }
        for (int i = 0, n = 0; i < app->n_themes; i++)
            for (int k = 0; k < app->themes[i].n_keywords; k++) kw[n++] = app->themes[i].keywords[k];
        int rc = embed(ctx, kw, (size_t)total, e, err);
        app->unknown = t->unknown;
        for (int i = 0, n = 0; !rc && i < app->n_themes; i++) {
            float *v = app->vectors + (size_t)i * dim;
            double acc[4096] = {0}, norm = 0;
            for (int k = 0; k < app->themes[i].n_keywords; k++, n++) {
                const float *x = e + (size_t)n * dim;
                if (t->unknown && !memcmp(x, t->unknown, (size_t)dim * sizeof *x)) continue; /* says nothing */
                for (int d = 0; d < dim && d < 4096; d++) acc[d] += x[d];
            }
            for (int d = 0; d < dim && d < 4096; d++) norm += acc[d] * acc[d];
            norm = norm > 0 ? sqrt(norm) : 1;
            for (int d = 0; d < dim && d < 4096; d++) v[d] = (float)(acc[d] / norm);
        }
        free(kw);
        free(e);
        if (rc) return lens_error_wrap(err, "embedding the keywords of app %s", app->app_id);
    }
    return LENS_OK;
}

int lens_themes_assign(const lens_app_themes *app, int dim, const float *emb, float min_sim, int top_k,
                       float *sims, int *picks)
{
    for (int i = 0; i < app->n_themes; i++) {
        const float *v = app->vectors + (size_t)i * dim;
        double dot = 0;
        for (int d = 0; d < dim; d++) dot += (double)v[d] * emb[d];
        sims[i] = (float)dot;
    }
    /* a text with no word the model knows has a zero vector: it says nothing
     * about any theme, whatever min_sim is */
    float norm = 0;
    for (int d = 0; d < dim; d++) norm += emb[d] * emb[d];
    if (norm == 0.0f || (app->unknown && !memcmp(emb, app->unknown, (size_t)dim * sizeof *emb))) return 0;
    /* top_k by repeated selection: n_themes is small; ties go to the
     * earlier theme so results are deterministic */
    int n = 0;
    for (; n < top_k && n < app->n_themes; n++) {
        int best = -1;
        for (int i = 0; i < app->n_themes; i++) {
            int taken = 0;
            for (int j = 0; j < n; j++) taken |= picks[j] == i;
            if (!taken && (best < 0 || sims[i] > sims[best])) best = i;
        }
        if (sims[best] < min_sim) break;
        picks[n] = best;
    }
    return n;
}
