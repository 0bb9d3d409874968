/* libFuzzer target for lens serve's request handling: a lens_server runs
 * in-process (the bundled static model, a temporary data directory, a data
 * root with a small reviews.csv and themes.json, a bearer token, small body
 * and upload limits), and every input becomes one raw HTTP/1.1 request on a
 * fresh loopback connection. The reply must be a well-formed HTTP response
 * with a status below 500 (503 allowed; 505 is libmicrohttpd's answer to a
 * bad HTTP version) whose JSON bodies parse, with {"error": {"status",
 * "message"}} on errors - or a closed connection, for requests too broken
 * to answer (a well-formed request must get a reply). The server must never
 * crash, hang or trip ASan/UBSan. The job id routes use the id of the last
 * job the server accepted, so fuzzed jobs get paused, cancelled, deleted,
 * streamed and their results fetched while they run. Bit 5 of the flags
 * byte also picks the method of the fuzzed-path route (bits 5-7).
 *
 * An input is shaped by a small grammar so the fuzzer spends its time in the
 * JSON and multipart handling rather than on getting a request line right:
 *   byte 0      the route and method (routes[] below; one of them takes the
 *               rest of the input as the raw request, another a fuzzed path)
 *   byte 1      flags: bits 0-1 body framing (Content-Length, chunked, a
 *               wrong Content-Length, none), 2 extra header lines follow,
 *               3 Connection: close, 4 no Authorization header, 5 the job
 *               id comes from the input (else: the last job the server
 *               created), 6 Expect: 100-continue, 7 the body in two writes
 *   [headers]   with flag 2: raw header lines up to the first NUL
 *   [suffix]    for routes that take one (a job id, a query, a result
 *               file name, a path): up to the next NUL
 *   body        the rest
 * Built and run by tests/fuzz/run_serve.sh, which sets LENS_ROOT (the
 * repository, for the model, lexicon and UI files). FUZZ_SERVE_VERBOSE=1
 * prints every request's status. */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "base/clock.h"
#include "lens/server.h"

#ifndef LENS_ROOT
#define LENS_ROOT "."
#endif
#define TOKEN "fuzz-token"
#define REPLY_TIMEOUT_MS 15000

static lens_server *server;
static int port;
static char last_id[33];
static int verbose;

/* ---------------------------------------------------------------- setup */

static const char reviews_csv[] =
    "app_id,app_name,recommendationid,language,review,voted_up\n"
    "391540,Undertale,1,english,\"The music is wonderful, best soundtrack ever\",True\n"
    "391540,Undertale,2,english,Great story and lovely characters,True\n"
    "391540,Undertale,3,english,\"Too short, and the combat is boring\",False\n"
    "391540,Undertale,4,english,The soundtrack made me cry,True\n"
    "391540,Undertale,5,english,\"Graphics are simple, but the art has charm\",True\n"
    "391540,Undertale,6,english,I did not like the puzzles at all,False\n"
    "10,Counter-Strike,7,english,Servers lag and the aim feels off,False\n"
    "10,Counter-Strike,8,english,Best competitive shooter with great maps,True\n"
    "10,Counter-Strike,9,english,\"Cheaters everywhere, the servers are terrible\",False\n"
    "10,Counter-Strike,10,english,Weapons feel great and the recoil is fair,True\n"
    "10,Counter-Strike,11,schinese,很好玩,True\n"
    "10,Counter-Strike,12,english,,True\n";

static const char themes_json[] =
    "{\"391540\": {\"music\": [\"music\", \"soundtrack\", \"songs\"], \"story\": [\"story\", \"characters\"],"
    " \"combat\": [\"combat\", \"fight\", \"puzzles\"], \"art\": [\"graphics\", \"art\"]},\n"
    " \"10\": {\"servers\": [\"servers\", \"lag\", \"cheaters\"], \"gunplay\": [\"weapons\", \"aim\", \"recoil\"],"
    " \"maps\": [\"maps\", \"levels\"]}}\n";

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f || fputs(text, f) < 0 || fclose(f)) {
        fprintf(stderr, "fuzz_serve: cannot write %s\n", path);
        abort();
    }
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    signal(SIGPIPE, SIG_IGN);
    verbose = getenv("FUZZ_SERVE_VERBOSE") != NULL;
    const char *root = getenv("LENS_ROOT") ? getenv("LENS_ROOT") : LENS_ROOT;
    const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    static char base[4096], data[4200], data_root[4200], path[4300], model[4200], vader[4200], web[4200],
        themes[4300];
    snprintf(base, sizeof base, "%s/fuzz_serve.XXXXXX", tmp);
    if (!mkdtemp(base)) {
        fprintf(stderr, "fuzz_serve: mkdtemp %s: %s\n", base, strerror(errno));
        abort();
    }
    snprintf(data, sizeof data, "%s/data", base);
    snprintf(data_root, sizeof data_root, "%s/root", base);
    mkdir(data_root, 0755);
    mkdir(strcat(strcpy(path, data_root), "/sub"), 0755);
    write_file(strcat(strcpy(path, data_root), "/reviews.csv"), reviews_csv);
    write_file(strcat(strcpy(path, data_root), "/sub/more.csv"), reviews_csv);
    write_file(strcat(strcpy(themes, data_root), "/themes.json"), themes_json);
    write_file(strcat(strcpy(path, data_root), "/bad_themes.json"), "{\"10\": {\"a\": [\"x\", 5]}}");
    snprintf(model, sizeof model, "%s/models/steam-static", root);
    snprintf(vader, sizeof vader, "%s/data/vader", root);
    snprintf(web, sizeof web, "%s/web", root);
    lens_server_opts o = {.host = "127.0.0.1", .port = 0, .data_dir = data, .data_root = data_root,
                          .token = TOKEN, .model = model, .threads = 1, .themes = themes,
                          .vader_lexicon = vader, .max_jobs = 1, .job_attempts = 2, .job_ttl_s = 20,
                          .max_batch = 64, .queue = 256, .cache = 64, .max_body = 16 << 10,
                          .max_upload = 8 << 10, .web_dir = web}; /* limits within -max_len's reach */
    lens_error err = {0};
    if (lens_server_open(&server, &o, &err)) {
        fprintf(stderr, "fuzz_serve: cannot start the server: %s\n", err.msg);
        abort();
    }
    port = lens_server_port(server);
    fprintf(stderr, "fuzz_serve: server on 127.0.0.1:%d, data in %s\n", port, base);
    return 0;
}

/* ---------------------------------------------------------------- grammar */

enum { B_JSON, B_MULTIPART, B_NONE };
enum { S_NONE, S_ID, S_TEXT };

typedef struct {
    const char *method, *prefix, *suffix; /* path: prefix [id or text] suffix */
    int body, arg;
} route;

static const route routes[] = {
    {"POST", "/v1/embed", "", B_JSON, S_NONE},
    {"POST", "/v1/sentiment", "", B_JSON, S_NONE},
    {"POST", "/v1/themes/assign", "", B_JSON, S_NONE},
    {"POST", "/v1/jobs", "", B_JSON, S_NONE},
    {"POST", "/v1/jobs", "", B_MULTIPART, S_NONE},
    {"GET", "/v1/jobs?", "", B_NONE, S_TEXT},
    {"GET", "/v1/jobs/", "", B_NONE, S_ID},
    {"POST", "/v1/jobs/", "/pause", B_NONE, S_ID},
    {"POST", "/v1/jobs/", "/resume", B_NONE, S_ID},
    {"POST", "/v1/jobs/", "/cancel", B_NONE, S_ID},
    {"DELETE", "/v1/jobs/", "", B_NONE, S_ID},
    {"GET", "/v1/jobs/", "/events", B_NONE, S_ID},
    {"GET", "/v1/jobs/", "/results/", B_NONE, S_ID}, /* + the file name, from the input */
    {"GET", "/metrics", "", B_NONE, S_NONE},
    {"GET", "/", "", B_NONE, S_NONE},
    {"GET", "/healthz", "", B_NONE, S_NONE},
    {"HEAD", "/openapi.json", "", B_NONE, S_NONE},
    {NULL, NULL, NULL, B_JSON, S_TEXT}, /* a fuzzed method (flags) and path */
    {NULL, NULL, NULL, B_NONE, S_NONE}, /* the raw request */
};
enum { N_ROUTES = sizeof routes / sizeof *routes };
static const char *const methods[] = {"GET", "POST", "PUT", "DELETE", "HEAD", "OPTIONS", "PATCH", "POST"};

typedef struct {
    char *p;
    size_t len, cap;
} buf;

static void put(buf *b, const void *d, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) abort();
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, d, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void printf_(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void printf_(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    put(b, tmp, n < (int)sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* the next NUL-terminated piece of the input */
static void take(const uint8_t **d, size_t *n, const uint8_t **piece, size_t *len)
{
    const uint8_t *z = memchr(*d, 0, *n);
    *piece = *d;
    *len = z ? (size_t)(z - *d) : *n;
    *d += z ? *len + 1 : *len;
    *n -= z ? *len + 1 : *len;
}

static int printable(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] <= 0x20 || p[i] >= 0x7f) return 0;
    return 1;
}

/* Builds the request; *split: where to pause between two writes (0: none);
 * *head: HEAD request (no body in the reply); *stream: an event stream;
 * *wellformed: a valid HTTP/1.1 request, which must get a reply. */
static void build(const uint8_t *d, size_t n, buf *req, size_t *split, int *head, int *stream, int *wellformed)
{
    const route *r = &routes[d[0] % N_ROUTES];
    uint8_t fl = n > 1 ? d[1] : 0;
    d += n > 1 ? 2 : 1;
    n -= n > 1 ? 2 : 1;
    *split = 0;
    *head = 0;
    *stream = 0;
    *wellformed = 0;
    if (!r->method && r->body == B_NONE) { /* raw */
        put(req, d, n);
        *head = n >= 4 && !memcmp(d, "HEAD", 4);
        return;
    }
    const uint8_t *hdrs = NULL, *arg = NULL;
    size_t hdrs_len = 0, arg_len = 0;
    if (fl & 4) take(&d, &n, &hdrs, &hdrs_len);
    if (r->arg == S_TEXT || (r->arg == S_ID && ((fl & 32) || !last_id[0])) || (r->suffix && !strcmp(r->suffix, "/results/")))
        take(&d, &n, &arg, &arg_len);
    int arg_ok = printable(arg, arg_len);
    const char *method = r->method ? r->method : methods[(fl >> 5) & 7];
    *head = !strcmp(method, "HEAD");
    *stream = r->suffix && !strcmp(r->suffix, "/events");
    puts_(req, method);
    puts_(req, " ");
    if (!r->method) {
        if (!arg_len || arg[0] != '/') puts_(req, "/");
        put(req, arg, arg_len);
    } else {
        puts_(req, r->prefix);
        if (r->arg == S_ID) {
            if ((fl & 32) || !last_id[0]) {
                const uint8_t *id = arg;
                size_t id_len = arg_len;
                if (!strcmp(r->suffix, "/results/")) { /* "id/file" */
                    const uint8_t *sl = memchr(arg, '/', arg_len);
                    id_len = sl ? (size_t)(sl - arg) : arg_len;
                }
                put(req, id, id_len);
                arg += id_len + (id_len < arg_len);
                arg_len -= id_len + (id_len < arg_len);
            } else {
                puts_(req, last_id);
            }
            puts_(req, r->suffix);
            if (!strcmp(r->suffix, "/results/")) put(req, arg, arg_len);
        } else if (r->arg == S_TEXT) {
            put(req, arg, arg_len);
        }
    }
    puts_(req, " HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    if (!(fl & 16)) puts_(req, "Authorization: Bearer " TOKEN "\r\n");
    if (fl & 8) puts_(req, "Connection: close\r\n");
    if (fl & 64) puts_(req, "Expect: 100-continue\r\n");
    if (r->body == B_JSON) puts_(req, "Content-Type: application/json\r\n"); /* else 415 */
    if (r->body == B_MULTIPART) puts_(req, "Content-Type: multipart/form-data; boundary=FUZZB\r\n");
    if (hdrs) put(req, hdrs, hdrs_len);
    int framing = fl & 3;
    if (r->body == B_NONE && !n) framing = 3;
    *wellformed = !(fl & 4) && (framing < 2 || (framing == 3 && !n)) && r->method && arg_ok;
    if (framing == 0) printf_(req, "Content-Length: %zu\r\n", n);
    else if (framing == 1) puts_(req, "Transfer-Encoding: chunked\r\n");
    else if (framing == 2) printf_(req, "Content-Length: %zu\r\n", n + (fl & 128 ? 7 : 0) - (n && !(fl & 128) ? 1 : 0));
    puts_(req, "\r\n");
    size_t body_at = req->len;
    if (framing == 1) { /* chunks of a size set by the flags */
        size_t chunk = ((size_t)(fl >> 5) + 1) * 97;
        for (size_t at = 0; at < n; at += chunk) {
            size_t c = n - at < chunk ? n - at : chunk;
            printf_(req, "%zx\r\n", c);
            put(req, d + at, c);
            puts_(req, "\r\n");
        }
        puts_(req, "0\r\n\r\n");
    } else {
        put(req, d, n);
    }
    if ((fl & 128) && req->len > body_at) *split = body_at + (req->len - body_at) / 2;
}

/* ---------------------------------------------------------------- the exchange */

static int wait_fd(int fd, short ev, int ms)
{
    struct pollfd p = {.fd = fd, .events = ev};
    int r;
    do r = poll(&p, 1, ms);
    while (r < 0 && errno == EINTR);
    return r;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        if (wait_fd(fd, POLLOUT, REPLY_TIMEOUT_MS) <= 0) return -1;
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (w < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (w <= 0) return -1; /* the server closed it (e.g. after a 4xx): fine */
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* Reads into rep until the reply is complete, the peer closes or the time is
 * up; returns 1 done, 0 closed, -1 timeout. */
static int read_some(int fd, buf *rep, double deadline)
{
    for (;;) {
        int ms = (int)((deadline - lens__clock_mono()) * 1e3);
        if (ms <= 0) return -1;
        int r = wait_fd(fd, POLLIN, ms);
        if (r == 0) return -1;
        char tmp[65536];
        ssize_t got = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
        if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
        if (got <= 0) return 0;
        put(rep, tmp, (size_t)got);
        return 1;
    }
}

static void fail(const char *why, const buf *req, const buf *rep)
{
    fprintf(stderr, "fuzz_serve: %s\n--- request (%zu bytes) ---\n%.*s\n--- reply (%zu bytes) ---\n%.*s\n---\n", why,
            req->len, (int)(req->len < 4000 ? req->len : 4000), req->p, rep->len,
            (int)(rep->len < 4000 ? rep->len : 4000), rep->p ? rep->p : "");
    abort();
}

static const char *header(const char *h, const char *end, const char *name)
{
    size_t n = strlen(name);
    for (const char *l = h; l && l < end; l = strstr(l, "\r\n") ? strstr(l, "\r\n") + 2 : NULL)
        if (!strncasecmp(l, name, n) && l[n] == ':') {
            l += n + 1;
            while (*l == ' ' || *l == '\t') l++;
            return l;
        }
    return NULL;
}

/* Checks one complete reply of rep (starting at 0); returns 1 when done,
 * 0 when more bytes are needed. */
static int check_reply(const buf *req, const buf *rep, int head, int stream, int closed)
{
    const char *p = rep->p;
    const char *end_h = rep->len ? strstr(p, "\r\n\r\n") : NULL;
    if (!end_h) {
        if (closed && rep->len) fail("the reply ends inside its headers", req, rep);
        return 0;
    }
    int major, minor, status, off = 0;
    if (sscanf(p, "HTTP/%d.%d %3d%n", &major, &minor, &status, &off) != 3 || major != 1 || off != 12 ||
        (p[off] != ' ' && p[off] != '\r'))
        fail("not an HTTP/1.x status line", req, rep);
    if (status < 200 || status > 599) fail("status out of range", req, rep);
    if (status >= 500 && status != 503 && status != 505) fail("a 5xx other than 503", req, rep);
    const char *body = end_h + 4;
    size_t have = rep->len - (size_t)(body - p);
    if (stream && status == 200) return 1; /* an event stream: the headers will do */
    const char *te = header(p, end_h, "Transfer-Encoding"), *cl = header(p, end_h, "Content-Length");
    const char *ct = header(p, end_h, "Content-Type");
    size_t blen;
    if (head || status == 304 || status == 204) {
        blen = 0;
    } else if (te && !strncasecmp(te, "chunked", 7)) {
        if (!memmem(body, have, "0\r\n\r\n", 5)) {
            if (closed) fail("chunked reply cut short", req, rep);
            return 0;
        }
        return 1; /* only event streams are chunked: not checked further */
    } else if (cl) {
        char *e;
        blen = strtoull(cl, &e, 10);
        if (e == cl) fail("bad Content-Length", req, rep);
        if (have < blen) {
            if (closed) fail("reply shorter than its Content-Length", req, rep);
            return 0;
        }
    } else {
        if (!closed) return 0;
        blen = have;
    }
    if (status == 202 && ct && !strncmp(ct, "application/json", 16)) { /* a job was created: remember it */
        json_t *j = json_loadb(body, blen, 0, NULL);
        const char *id = json_string_value(json_object_get(j, "id"));
        if (id && strlen(id) == 32) memcpy(last_id, id, 33);
        json_decref(j);
    }
    if (!head && ct && !strncmp(ct, "application/json", 16) && blen) {
        json_error_t je;
        json_t *j = json_loadb(body, blen, 0, &je);
        if (!j) fail("a JSON reply that does not parse", req, rep);
        if (status >= 400) {
            json_t *e = json_object_get(j, "error");
            if (!json_is_object(e) || json_integer_value(json_object_get(e, "status")) != status ||
                !json_is_string(json_object_get(e, "message")))
                fail("an error reply without {\"error\": {\"status\", \"message\"}}", req, rep);
        }
        json_decref(j);
    }
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) return 0;
    buf req = {0}, rep = {0};
    size_t split;
    int head, stream, wellformed;
    build(data, size, &req, &split, &head, &stream, &wellformed);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) abort();
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa)) {
        fprintf(stderr, "fuzz_serve: connect: %s (is the server gone?)\n", strerror(errno));
        abort();
    }
    int sent = 0;
    if (split) {
        sent = send_all(fd, req.p, split) == 0;
        if (sent) {
            usleep(2000); /* let the server see the first half alone */
            sent = send_all(fd, req.p + split, req.len - split) == 0;
        }
    } else {
        sent = send_all(fd, req.p, req.len) == 0;
    }
    /* Read the reply. A well-formed request must get one within 15 s. After
     * 100 ms without one, say that no more is coming for the others (not at
     * once: libmicrohttpd drops a request with a body when the client
     * half-closes before it is answered): an incomplete request is then
     * answered or its connection closed, within 15 s. */
    double t0 = lens__clock_mono();
    int half_closed = 0, closed = 0;
    for (;;) {
        /* skip interim 1xx replies */
        while (rep.len >= 12 && !strncmp(rep.p, "HTTP/1.1 1", 10) && strstr(rep.p, "\r\n\r\n")) {
            char *e = strstr(rep.p, "\r\n\r\n") + 4;
            rep.len -= (size_t)(e - rep.p);
            memmove(rep.p, e, rep.len + 1);
        }
        if (rep.len && check_reply(&req, &rep, head, stream, closed)) break;
        if (closed) {
            if (wellformed && sent) fail("a well-formed request got no reply", &req, &rep);
            break; /* nothing, or 1xx only: a refused request */
        }
        int r = read_some(fd, &rep, t0 + (half_closed || wellformed ? REPLY_TIMEOUT_MS / 1e3 : 0.1));
        if (r == 0) {
            closed = 1;
        } else if (r < 0) {
            if (half_closed || wellformed) fail("no reply and no close in 15 s", &req, &rep);
            shutdown(fd, SHUT_WR);
            half_closed = 1;
        }
    }
    if (verbose)
        fprintf(stderr, "fuzz_serve: route %d flags %02x -> %.12s%s\n", data[0] % N_ROUTES, size > 1 ? data[1] : 0,
                rep.len ? rep.p : "(closed)", half_closed ? " (after half-close)" : "");
    close(fd);
    free(req.p);
    free(rep.p);
    return 0;
}
