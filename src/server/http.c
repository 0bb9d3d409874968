/* lens serve's HTTP layer: libmicrohttpd, a small pool of epoll threads;
 * routing, bearer-token auth, body limits, JSON replies, the UI's files,
 * /healthz and /metrics. Nothing blocks a pool thread for long: inference
 * requests and event streams suspend their connection while they wait
 * (for the batcher, for job progress) and are resumed when there is news. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fs.h"
#include "server_internal.h"

int lens__http_status(int code)
{
    switch (code) {
    case LENS_EINVAL: case LENS_EFORMAT: return 400;
    case LENS_ENOTFOUND: return 404;
    case LENS_EUNSUP: return 422;
    case LENS_ENOMEM: return 503;
    default: return 500;
    }
}

enum MHD_Result lens__reply(struct MHD_Connection *c, lens__req *r, int status, const char *type, char *body, size_t len)
{
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", type);
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    if (status == 503) MHD_add_response_header(resp, "Retry-After", "1");
    if (status == 401) MHD_add_response_header(resp, "WWW-Authenticate", "Bearer realm=\"lens\"");
    if (r) r->status = status;
    enum MHD_Result ret = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result lens__reply_json(struct MHD_Connection *c, lens__req *r, int status, json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(12)) : NULL;
    json_decref(o);
    if (!s) return MHD_NO;
    size_t n = strlen(s);
    char *body = realloc(s, n + 2); /* a newline, for people reading with curl */
    if (!body) {
        free(s);
        return MHD_NO;
    }
    body[n] = '\n';
    return lens__reply(c, r, status, "application/json", body, n + 1);
}

/* Makes s valid UTF-8 in place, as jansson requires (json_pack fails, and
 * the client gets no reply at all, otherwise): every byte that does not
 * begin a well-formed sequence becomes '?'. Error messages quote what
 * clients sent (paths, field and file names, ids), and vsnprintf may cut
 * a sequence in two. */
static void utf8_sanitize(char *s)
{
    unsigned char *p = (unsigned char *)s;
    while (*p) {
        int n = *p < 0x80 ? 1 : (*p & 0xE0) == 0xC0 ? 2 : (*p & 0xF0) == 0xE0 ? 3 : (*p & 0xF8) == 0xF0 ? 4 : 0;
        int ok = n > 0;
        for (int i = 1; ok && i < n; i++) ok = (p[i] & 0xC0) == 0x80; /* stops at the NUL */
        unsigned cp = 0;
        if (ok && n > 1) {
            cp = p[0] & (0x7F >> n);
            for (int i = 1; i < n; i++) cp = cp << 6 | (p[i] & 0x3F);
            ok = cp >= (n == 2 ? 0x80u : n == 3 ? 0x800u : 0x10000u) && cp <= 0x10FFFF && (cp < 0xD800 || cp > 0xDFFF);
        }
        if (!ok) {
            *p++ = '?';
            continue;
        }
        p += n;
    }
}

enum MHD_Result lens__reply_error(struct MHD_Connection *c, lens__req *r, int status, const char *fmt, ...)
{
    char msg[600];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    utf8_sanitize(msg);
    return lens__reply_json(c, r, status, json_pack("{s{siss}}", "error", "status", status, "message", msg));
}

json_t *lens__req_json(struct MHD_Connection *c, lens__req *r)
{
    if (r->too_big) {
        lens__reply_error(c, r, 413, "request body is larger than the limit (--max-body)");
        return NULL;
    }
    json_error_t je;
    json_t *o = json_loadb(r->body ? r->body : "", r->len, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        lens__reply_error(c, r, 400, "malformed JSON at line %d, column %d: %s", je.line, je.column, je.text);
        return NULL;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        lens__reply_error(c, r, 400, "the body must be a JSON object");
        return NULL;
    }
    return o;
}

/* ---------------------------------------------------------------- parking */

static void suspend_conn(lens_server *s, struct MHD_Connection *c)
{
    pthread_mutex_lock(&s->susp_mu);
    s->n_suspended++;
    pthread_mutex_unlock(&s->susp_mu);
    MHD_suspend_connection(c);
}

void lens__suspend(lens_server *s, lens__req *r) { suspend_conn(s, r->conn); }

static void resume_conn(lens_server *s, struct MHD_Connection *c)
{
    MHD_resume_connection(c);
    pthread_mutex_lock(&s->susp_mu);
    if (--s->n_suspended == 0) pthread_cond_broadcast(&s->susp_cv);
    pthread_mutex_unlock(&s->susp_mu);
}

void lens__resume(lens_server *s, lens__req *r)
{
    resume_conn(s, r->conn); /* r may be gone once the connection runs again */
}

void lens__sse_park(lens_server *s, lens__parked *p, struct MHD_Connection *c)
{
    suspend_conn(s, c);
    pthread_mutex_lock(&s->susp_mu);
    p->conn = c;
    p->next = s->parked;
    s->parked = p;
    pthread_mutex_unlock(&s->susp_mu);
}

/* Resumes every parked event stream each 100 ms; each reader either has
 * news (or a keep-alive) to send or parks again. One thread for any number
 * of streams, instead of one blocked thread per stream. */
static void *ticker_main(void *arg)
{
    lens_server *s = arg;
    pthread_mutex_lock(&s->susp_mu);
    while (!s->ticker_stop) {
        struct timespec ts = lens__clock_deadline(0.1);
        pthread_cond_timedwait(&s->susp_cv, &s->susp_mu, &ts);
        lens__parked *p = s->parked;
        s->parked = NULL;
        pthread_mutex_unlock(&s->susp_mu);
        while (p) {
            lens__parked *next = p->next; /* p is the stream's again after the resume */
            resume_conn(s, p->conn);
            p = next;
        }
        pthread_mutex_lock(&s->susp_mu);
    }
    pthread_mutex_unlock(&s->susp_mu);
    return NULL;
}

/* ---------------------------------------------------------------- routes */

static int route_of(const char *method, const char *url)
{
    if (!strcmp(url, "/healthz")) return R_HEALTH;
    if (!strcmp(url, "/metrics")) return R_METRICS;
    if (!strcmp(url, "/v1/embed")) return R_EMBED;
    if (!strcmp(url, "/v1/sentiment")) return R_SENTIMENT;
    if (!strcmp(url, "/v1/themes/assign")) return R_ASSIGN;
    if (!strcmp(url, "/v1/jobs")) return !strcmp(method, "POST") ? R_JOBS_CREATE : R_JOBS_LIST;
    if (!strncmp(url, "/v1/jobs/", 9)) {
        if (strstr(url + 9, "/events")) return R_JOB_EVENTS;
        if (strstr(url + 9, "/results/")) return R_JOB_RESULT;
        if (!strcmp(method, "DELETE")) return R_JOB_DELETE;
        if (!strcmp(method, "POST")) return R_JOB_CONTROL;
        return R_JOB_GET;
    }
    if (!strncmp(url, "/v1/", 4)) return R_OTHER;
    return R_UI;
}

static const char *const web_files[][2] = {
    {"/", "index.html"},     {"/index.html", "index.html"}, {"/app.js", "app.js"},
    {"/style.css", "style.css"}, {"/openapi.json", "openapi.json"}, {"/map.js", "map.js"},
};

static enum MHD_Result serve_file(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *url)
{
    for (size_t i = 0; i < sizeof web_files / sizeof *web_files; i++) {
        if (strcmp(url, web_files[i][0])) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", s->web_dir, web_files[i][1]);
        FILE *f = fopen(path, "rb");
        if (!f) return lens__reply_error(c, r, 500, "UI file %s is missing", web_files[i][1]);
        char *buf = NULL;
        size_t len = 0, cap = 0;
        for (;;) {
            if (len == cap) {
                cap = cap ? cap * 2 : 65536;
                char *b = realloc(buf, cap);
                if (!b) break;
                buf = b;
            }
            size_t got = fread(buf + len, 1, cap - len, f);
            if (!got) break;
            len += got;
        }
        fclose(f);
        const char *n = web_files[i][1];
        const char *type = strstr(n, ".html") ? "text/html; charset=utf-8"
                         : strstr(n, ".js") ? (strstr(n, ".json") ? "application/json" : "text/javascript")
                         : "text/css";
        return lens__reply(c, r, 200, type, buf, len);
    }
    return lens__reply_error(c, r, 404, "no such page: %s", url);
}

static int authorized(lens_server *s, struct MHD_Connection *c, int route)
{
    if (!s->o.token || !*s->o.token) return 1;
    const char *h = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Authorization");
    if (h && !strncasecmp(h, "Bearer ", 7)) { /* the scheme is case-insensitive (RFC 9110) */
        h += 7;
        while (*h == ' ') h++;
    } else if (route == R_JOB_EVENTS || route == R_JOB_RESULT) {
        /* EventSource and download links cannot send headers: only these
         * take ?token= (a token in a URL lands in logs and histories) */
        h = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "token");
        if (!h) return 0;
    } else {
        return 0;
    }
    size_t a = strlen(h), b = strlen(s->o.token);
    unsigned diff = (unsigned)(a ^ b);
    for (size_t i = 0; i < a && i < b; i++) diff |= (unsigned char)(h[i] ^ s->o.token[i]); /* constant time */
    return diff == 0;
}

/* splits "host[:port]" ("[v6]:port" too) into host's length and the port,
 * dflt when absent */
static size_t authority(const char *a, int dflt, int *port)
{
    const char *v6 = strrchr(a, ']'), *colon = strrchr(v6 ? v6 : a, ':');
    *port = colon ? atoi(colon + 1) : dflt;
    return colon ? (size_t)(colon - a) : strlen(a);
}

/* Host is one of the server's own names with its port: a token-less server
 * on loopback must not answer a page whose DNS name was rebound to it */
static int host_allowed(lens_server *s, const char *h)
{
    if (!h) return 1; /* HTTP/1.0 without Host: not a browser */
    int port;
    size_t n = authority(h, 80, &port);
    const char *names[] = {"localhost", "127.0.0.1", "[::1]", s->o.host};
    for (size_t i = 0; port == s->port && i < sizeof names / sizeof *names; i++)
        if (strlen(names[i]) == n && !strncasecmp(h, names[i], n)) return 1;
    return 0;
}

/* A browser sends Origin with every cross-origin POST (no-cors forms and
 * fetches too): a state-changing request must come from no page or from
 * the server's own: the host:port that Host names, or X-Forwarded-Host
 * (a reverse proxy's; a page cannot send it cross-site without a CORS
 * preflight, which this server never grants). Behind a TLS proxy both
 * lack the port. */
static int origin_allowed(struct MHD_Connection *c)
{
    const char *o = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
    if (!o) return 1;
    const char *auth = strstr(o, "://");
    if (!auth) return 0; /* "null" (sandboxed pages, file:) */
    int dflt = !strncasecmp(o, "https://", 8) ? 443 : 80, op, hp;
    auth += 3;
    size_t on = authority(auth, dflt, &op);
    const char *hosts[] = {MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host"),
                           MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Forwarded-Host")};
    for (int i = 0; i < 2; i++)
        if (hosts[i] && authority(hosts[i], dflt, &hp) == on && op == hp && !strncasecmp(auth, hosts[i], on))
            return 1;
    return 0;
}

/* media type of Content-Type (parameters such as charset allowed) */
static int content_type_is(struct MHD_Connection *c, const char *want)
{
    const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    if (!ct) return 0;
    while (*ct == ' ') ct++;
    size_t n = strlen(want);
    if (strncasecmp(ct, want, n)) return 0;
    ct += n;
    while (*ct == ' ' || *ct == '\t') ct++;
    return !*ct || *ct == ';';
}

/* The checks every request passes before its route: Host (token-less
 * servers), Origin (state-changing methods), the token, the body's type.
 * Replies and returns 1 when the request is refused. */
static int refuse(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *method, enum MHD_Result *ret)
{
    int safe = !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
    int tokenless = !s->o.token || !*s->o.token;
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Host");
    if (tokenless && !host_allowed(s, host))
        *ret = lens__reply_error(c, r, 403, "Host '%s' is not this server's (without --token only loopback names "
                                            "with the port are answered)", host);
    else if (!safe && !origin_allowed(c))
        *ret = lens__reply_error(c, r, 403, "cross-origin %s refused (Origin %s is not this server's)", method,
                                 MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin"));
    else if (r->route != R_UI && r->route != R_HEALTH && !authorized(s, c, r->route))
        *ret = lens__reply_error(c, r, 401, "missing or wrong bearer token (Authorization: Bearer ...)");
    else if (!strcmp(method, "POST") && (r->route == R_EMBED || r->route == R_SENTIMENT || r->route == R_ASSIGN) &&
             !content_type_is(c, "application/json"))
        *ret = lens__reply_error(c, r, 415, "the body must be sent as Content-Type: application/json");
    else if (r->route == R_JOBS_CREATE && !strcmp(method, "POST") && !content_type_is(c, "application/json") &&
             !content_type_is(c, "multipart/form-data"))
        *ret = lens__reply_error(c, r, 415, "a job is created with Content-Type: application/json or "
                                            "multipart/form-data");
    else
        return 0;
    return 1;
}

static enum MHD_Result dispatch(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *url,
                                const char *method)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD"), post = !strcmp(method, "POST");
    switch (r->route) {
    case R_HEALTH:
        return lens__reply_json(c, r, 200, json_pack("{sssssi}", "status", "ok", "model", s->model_name, "dim", s->dim));
    case R_METRICS: {
        if (!get) break;
        uint64_t counts[LENS_JOB_N_STATES];
        lens_jobs_counts(s->jobs, counts);
        char *text = lens__metrics_render(s->metrics, lens__batcher_depth(s->batcher), counts);
        if (!text) return lens__reply_error(c, r, 503, "out of memory");
        return lens__reply(c, r, 200, "text/plain; version=0.0.4", text, strlen(text));
    }
    case R_EMBED: if (post) return lens__route_embed(s, c, r); break;
    case R_SENTIMENT: if (post) return lens__route_sentiment(s, c, r); break;
    case R_ASSIGN: if (post) return lens__route_assign(s, c, r); break;
    case R_JOBS_CREATE: return lens__route_jobs_create(s, c, r);
    case R_UI: if (get) return serve_file(s, c, r, url); break;
    case R_OTHER: return lens__reply_error(c, r, 404, "no route %s %s (see /openapi.json)", method, url);
    default: return lens__route_jobs(s, c, r, method, url);
    }
    return lens__reply_error(c, r, 405, "%s is not allowed on %s", method, url);
}

/* Request heads past these get JSON 414/431 from us; libmicrohttpd answers
 * only heads beyond its connection memory (MHD_MEM), with an HTML page. */
enum { URI_MAX = 8192, HEADERS_MAX = 16384, MHD_MEM = 256 * 1024 };

static enum MHD_Result add_len(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    (void)kind;
    *(size_t *)cls += (key ? strlen(key) : 0) + (value ? strlen(value) : 0) + 4;
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                                  const char *version, const char *upload_data, size_t *upload_data_size,
                                  void **con_cls)
{
    (void)version;
    lens_server *s = cls;
    lens__req *r = *con_cls;
    if (!r) {
        if (!(r = calloc(1, sizeof *r))) return MHD_NO;
        r->t0 = lens__clock_mono();
        r->route = route_of(method, url);
        r->conn = c;
        *con_cls = r;
        size_t uri = strlen(url), head = 0;
        MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_len, &uri);
        MHD_get_connection_values(c, MHD_HEADER_KIND, add_len, &head);
        if (uri > URI_MAX || head > HEADERS_MAX) {
            r->too_big = -1;
            return uri > URI_MAX ? lens__reply_error(c, r, 414, "request URI longer than %d bytes", URI_MAX)
                                 : lens__reply_error(c, r, 431, "request headers larger than %d bytes", HEADERS_MAX);
        }
        enum MHD_Result ret;
        if (refuse(s, c, r, method, &ret)) {
            r->too_big = -1; /* answered: ignore the body */
            return ret;
        }
        return MHD_YES;
    }
    if (r->too_big < 0) { /* already answered */
        *upload_data_size = 0;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;
        *upload_data_size = 0;
        if (r->route == R_JOBS_CREATE && r->upload) return lens__jobs_upload(s, c, r, upload_data, n);
        if (r->route == R_JOBS_CREATE) {
            const char *ct = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
            if (ct && !strncasecmp(ct, "multipart/form-data", 19)) return lens__jobs_upload(s, c, r, upload_data, n);
        }
        double took = lens__clock_mono() - r->t0;
        if (took > s->o.timeout_s && (double)r->len < took * 1024)
            return MHD_NO; /* a body dripping in (slowloris): each byte in time, the whole never */
        if (r->too_big || r->len + n > s->o.max_body) {
            r->too_big = 1;
            return MHD_YES;
        }
        if (lens__grow((void **)&r->body, &r->cap, r->len + n + 1, 1)) return MHD_NO;
        memcpy(r->body + r->len, upload_data, n);
        r->len += n;
        r->body[r->len] = '\0';
        return MHD_YES;
    }
    return dispatch(s, c, r, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls, enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    lens_server *s = cls;
    lens__req *r = *con_cls;
    if (!r) return;
    lens__metrics_request(s->metrics, r->route, r->status ? r->status : 500, lens__clock_mono() - r->t0);
    lens__upload_free(r);
    if (r->state_free) r->state_free(r->state);
    free(r->body);
    free(r);
    *con_cls = NULL;
}

/* ---------------------------------------------------------------- lifecycle */

/* libmicrohttpd's error log, less what is normal: a client that goes away
 * (an event stream closed, a download stopped) is not a server error */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char msg[1024];
    vsnprintf(msg, sizeof msg, fmt, ap);
    /* "Failed to send the chunked response body / the footers / ... Error:
     * The socket is no longer available": the peer has gone */
    if (!strncmp(msg, "Failed to send ", 15)) return;
    fputs(msg, stderr);
}

static int loopback(const char *host)
{
    return !strcmp(host, "127.0.0.1") || !strcmp(host, "localhost") || !strncmp(host, "127.", 4);
}

/* lens_themes_embed_with's embed function at startup: the encoder, counted
 * as startup work */
static int embed_startup(void *ctx, const char *const *texts, size_t n, float *out, lens_error *err)
{
    lens_server *s = ctx;
    uint64_t tokens = 0;
    double t0 = lens__clock_mono();
    int rc = lens_encoder_embed(s->enc, texts, NULL, n, out, &tokens, err);
    if (!rc) lens__metrics_startup(s->metrics, n, tokens, lens__clock_mono() - t0);
    return rc;
}

int lens__server_themes_unknown(const lens_server *s, lens_themes *t, lens_error *err)
{
    if (!s->unknown || t->unknown) return LENS_OK;
    if (!(t->unknown = malloc((size_t)s->dim * sizeof *t->unknown)))
        return lens_error_set(err, LENS_ENOMEM, "themes: out of memory");
    memcpy(t->unknown, s->unknown, (size_t)s->dim * sizeof *t->unknown);
    return LENS_OK;
}

int lens_server_open(lens_server **out, const lens_server_opts *opts, lens_error *err)
{
    *out = NULL;
    lens_server *s = calloc(1, sizeof *s);
    if (!s) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    s->o = *opts;
    lens_server_opts *o = &s->o;
    if (!o->host) o->host = "127.0.0.1";
    if (!o->data_dir) o->data_dir = "lens-data";
    if (!o->max_body) o->max_body = 8u << 20;
    if (!o->max_upload) o->max_upload = (size_t)1 << 30;
    if (o->max_batch <= 0) o->max_batch = 256;
    if (o->batch_tokens <= 0) o->batch_tokens = 8192;
    if (o->queue <= 0) o->queue = 4096;
    if (o->timeout_s <= 0) o->timeout_s = 30;
    snprintf(s->web_dir, sizeof s->web_dir, "%s", o->web_dir ? o->web_dir : "web");
    pthread_mutex_init(&s->themes_mu, NULL);
    pthread_mutex_init(&s->susp_mu, NULL);
    pthread_cond_init(&s->susp_cv, NULL);
    int rc = LENS_OK;
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)o->port)};
    if (inet_pton(AF_INET, !strcmp(o->host, "localhost") ? "127.0.0.1" : o->host, &sa.sin_addr) != 1)
        rc = lens_error_set(err, LENS_EINVAL, "--host %s: not an IPv4 address", o->host);
    else if (!loopback(o->host) && (!o->token || !*o->token))
        rc = lens_error_set(err, LENS_EINVAL, "binding to %s (not loopback) needs a bearer token: --token or LENS_TOKEN",
                            o->host);
    if (!rc && o->data_root && *o->data_root && !realpath(o->data_root, s->data_root))
        rc = lens_error_set(err, LENS_ENOTFOUND, "--data-root %s: %s", o->data_root, strerror(errno));
    lens_model_opts mo = {.precision = o->precision};
    lens__basename(o->model, s->model_name, sizeof s->model_name); /* clients see its name, not its path */
    if (!rc) rc = lens__mkdirs(o->data_dir, err);
    if (!rc) rc = lens_model_open(&s->model, o->model, &mo, err);
    if (!rc) rc = lens_pool_new(&s->pool, o->threads, err);
    if (!rc) rc = lens_encoder_new(&s->enc, s->model, s->pool, o->batch_tokens, err);
    if (!rc) {
        s->dim = lens_model_dim(s->model);
        s->metrics = lens__metrics_new();
        s->cache = lens__cache_new(o->cache, s->dim);
        if (!s->metrics) rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    /* a static model's vector for texts without a known word: themes leave
     * such keywords out and such texts unassigned, as lens analyze does */
    if (!rc) rc = lens_themes_unknown(s->enc, s->dim, &s->unknown, err);
    /* the themes' keywords go through the encoder before the batcher
     * exists: startup work, not inference requests, in /metrics */
    if (!rc && o->themes && *o->themes) {
        rc = lens_themes_load(&s->themes, o->themes, err);
        if (!rc) rc = lens__server_themes_unknown(s, s->themes, err);
        if (!rc) rc = lens_themes_embed_with(s->themes, s->dim, embed_startup, s, err);
    }
    if (!rc) rc = lens__batcher_new(&s->batcher, s->enc, s->dim, o->max_batch, o->batch_tokens, o->max_wait_ms,
                                   o->queue, s->metrics, err);
    if (!rc && o->vader_lexicon) rc = lens_vader_open(&s->vader, o->vader_lexicon, err);
    if (!rc) {
        lens_jobs_opts jo = {.data_dir = o->data_dir, .max_running = o->max_jobs, .max_attempts = o->job_attempts,
                             .expire_s = o->job_ttl_s, .threads = o->threads, .model = s->model,
                             .model_name = o->model, .vader_lexicon = o->vader_lexicon,
                             .data_root = s->data_root[0] ? s->data_root : NULL};
        rc = lens_jobs_open(&s->jobs, &jo, err);
    }
    if (!rc) {
        if (pthread_create(&s->ticker, NULL, ticker_main, s))
            rc = lens_error_set(err, LENS_ENOMEM, "cannot start the event-stream thread");
        else
            s->ticker_on = 1;
    }
    if (!rc) {
        /* epoll threads, one per CPU (2..8): handlers parse, format and
         * write files but never wait, so a few threads serve any number of
         * connections; the limit is what file descriptors allow */
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        unsigned threads = cpus < 2 ? 2 : cpus > 8 ? 8 : (unsigned)cpus, limit = 1024;
        struct rlimit rl;
        if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 256)
            limit = (unsigned)(rl.rlim_cur - 128 < 65536 ? rl.rlim_cur - 128 : 65536);
        /* the socket is bound here, so the port (an ephemeral one for
         * --port 0) is known before the first request checks Host */
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
        struct sockaddr_in bound;
        socklen_t bl = sizeof bound;
        if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
            bind(fd, (struct sockaddr *)&sa, sizeof sa) || listen(fd, SOMAXCONN) ||
            getsockname(fd, (struct sockaddr *)&bound, &bl)) {
            rc = lens_error_set(err, LENS_EIO, "cannot listen on %s:%d: %s", o->host, o->port, strerror(errno));
            if (fd >= 0) close(fd);
            fd = -1;
        } else {
            s->port = ntohs(bound.sin_port);
        }
        if (fd >= 0)
            s->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
                                    (uint16_t)o->port, NULL, NULL, on_request, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log,
                                    s, MHD_OPTION_LISTEN_SOCKET, fd,
                                    MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, on_completed,
                                    s, MHD_OPTION_CONNECTION_LIMIT, limit, MHD_OPTION_CONNECTION_TIMEOUT,
                                    (unsigned)(o->timeout_s < 1 ? 1 : o->timeout_s + 0.5), MHD_OPTION_CONNECTION_MEMORY_LIMIT,
                                    (size_t)MHD_MEM, MHD_OPTION_END);
        if (fd >= 0 && !s->d) {
            close(fd);
            rc = lens_error_set(err, LENS_EIO, "cannot serve on %s:%d", o->host, o->port);
        }
    }
    if (rc) {
        lens_server_close(s);
        return rc;
    }
    *out = s;
    return LENS_OK;
}

int lens_server_port(const lens_server *s) { return s->port; }

void lens_server_close(lens_server *s)
{
    if (!s) return;
    s->stopping = 1; /* event streams end, new inference requests get 503 */
    if (s->d) {
        MHD_socket fd = MHD_quiesce_daemon(s->d); /* no new connections */
        /* MHD must not stop with a connection suspended: wait until the
         * batcher (still running) has answered every queued request and the
         * ticker has let every event stream see that we stop */
        pthread_mutex_lock(&s->susp_mu);
        while (s->n_suspended > 0) pthread_cond_wait(&s->susp_cv, &s->susp_mu);
        pthread_mutex_unlock(&s->susp_mu);
        MHD_stop_daemon(s->d);
        if (fd != MHD_INVALID_SOCKET) close(fd);
    }
    if (s->ticker_on) {
        pthread_mutex_lock(&s->susp_mu);
        s->ticker_stop = 1;
        pthread_cond_broadcast(&s->susp_cv);
        pthread_mutex_unlock(&s->susp_mu);
        pthread_join(s->ticker, NULL);
    }
    lens__batcher_free(s->batcher);
    lens_jobs_close(s->jobs);
    lens__cache_free(s->cache);
    lens__metrics_free(s->metrics);
    lens_vader_close(s->vader);
    lens_themes_free(s->themes);
    free(s->unknown);
    lens_encoder_free(s->enc);
    lens_pool_free(s->pool);
    lens_model_close(s->model);
    pthread_mutex_destroy(&s->themes_mu);
    pthread_mutex_destroy(&s->susp_mu);
    pthread_cond_destroy(&s->susp_cv);
    free(s);
}
