/* loadgen: a closed-loop HTTP/1.1 load generator for lens serve.
 *
 * N threads (the concurrency), each with one keep-alive TCP connection,
 * send POST PATH {"texts":[one text]} back to back for a fixed time or a
 * fixed number of requests, and record each request's latency (from the
 * first byte sent to the last byte of the reply read). The texts come from
 * a JSONL file (field "text" by default), one different text per request,
 * round-robin over the file; each text is copied into the body as the JSON
 * string it was in the file, escapes and all.
 *
 * Prints a human-readable summary on stderr and one line on stdout:
 *   RESULT concurrency=C requests=N seconds=S rps=R p50_ms=A p95_ms=B
 *          p99_ms=C max_ms=D errors=E http503=F cpu_s=G
 * (cpu_s: the load generator's own CPU time, user and system)
 * Errors are replies other than 200 and broken connections (which are
 * reopened); 503s are counted among the errors and also on their own.
 *
 * usage: loadgen --port N --texts FILE [--host 127.0.0.1] [--path /v1/embed]
 *                [--field text] [--concurrency 1] [--duration SECONDS | --requests N]
 *                [--warmup SECONDS] [--timeout SECONDS]
 * --warmup runs the same load first and throws its numbers away. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *msg)
{
    fprintf(stderr, "loadgen: %s\n", msg);
    exit(2);
}

/* ---------------------------------------------------------------- texts */

typedef struct {
    char *s; /* the JSON string literal, quotes included */
    size_t n;
} text;

static text *texts;
static size_t n_texts;

/* Past the JSON string that starts at p (a '"'); NULL if it does not end. */
static const char *skip_string(const char *p, const char *end)
{
    for (p++; p < end; p++) {
        if (*p == '\\') p++;
        else if (*p == '"') return p + 1;
    }
    return NULL;
}

/* The raw string value of top-level key field in a JSON object line. */
static int find_field(const char *line, size_t len, const char *field, const char **val, size_t *vlen)
{
    const char *p = line, *end = line + len;
    size_t flen = strlen(field);
    int depth = 0, expect_key = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            const char *q = skip_string(p, end);
            if (!q) return 0;
            if (depth == 1 && expect_key) {
                int match = (size_t)(q - p - 2) == flen && !memcmp(p + 1, field, flen);
                p = q;
                while (p < end && (*p == ' ' || *p == '\t' || *p == ':')) p++;
                if (match) {
                    if (p >= end || *p != '"') return 0; /* not a string */
                    const char *e = skip_string(p, end);
                    if (!e) return 0;
                    *val = p;
                    *vlen = (size_t)(e - p);
                    return 1;
                }
                expect_key = 0;
                continue;
            }
            p = q;
            continue;
        }
        if (c == '{') {
            depth++;
            expect_key = depth == 1;
        } else if (c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            depth--;
        } else if (c == ',' && depth == 1) {
            expect_key = 1;
        }
        p++;
    }
    return 0;
}

static void load_texts(const char *path, const char *field)
{
    FILE *f = fopen(path, "rb");
    if (!f) die("cannot open the texts file");
    char *line = NULL;
    size_t cap = 0, tcap = 0;
    ssize_t got;
    while ((got = getline(&line, &cap, f)) > 0) {
        const char *v;
        size_t vlen;
        if (!find_field(line, (size_t)got, field, &v, &vlen) || vlen <= 2) continue; /* no text, or "" */
        if (n_texts == tcap) {
            tcap = tcap ? tcap * 2 : 1024;
            texts = realloc(texts, tcap * sizeof *texts);
            if (!texts) die("out of memory");
        }
        texts[n_texts].s = malloc(vlen);
        if (!texts[n_texts].s) die("out of memory");
        memcpy(texts[n_texts].s, v, vlen);
        texts[n_texts++].n = vlen;
    }
    free(line);
    fclose(f);
    if (!n_texts) die("no texts in the file (wrong --field?)");
}

/* ---------------------------------------------------------------- HTTP */

static struct sockaddr_in addr;
static const char *host = "127.0.0.1", *path = "/v1/embed";
static char host_header[300]; /* host:port: a server without a token checks it */
static double timeout_s = 60;

typedef struct {
    int fd;
    char *buf; /* reply bytes read and not consumed */
    size_t len, cap;
} conn;

static int conn_open(conn *c)
{
    c->len = 0;
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0) return -1;
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {.tv_sec = (time_t)timeout_s, .tv_usec = (suseconds_t)((timeout_s - (time_t)timeout_s) * 1e6)};
    setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (connect(c->fd, (struct sockaddr *)&addr, sizeof addr)) {
        close(c->fd);
        c->fd = -1;
        return -1;
    }
    return 0;
}

static void conn_close(conn *c)
{
    if (c->fd >= 0) close(c->fd);
    c->fd = -1;
    c->len = 0;
}

static int send_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

/* reads more into c->buf; -1 on EOF, error or timeout */
static int fill(conn *c)
{
    if (c->cap - c->len < 65536) {
        size_t cap = c->cap ? c->cap * 2 : 1 << 17;
        char *b = realloc(c->buf, cap);
        if (!b) return -1;
        c->buf = b;
        c->cap = cap;
    }
    for (;;) {
        ssize_t r = recv(c->fd, c->buf + c->len, c->cap - c->len - 1, 0);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        c->len += (size_t)r;
        c->buf[c->len] = '\0';
        return 0;
    }
}

/* whether [l, e) contains word, in any case */
static int line_has(const char *l, const char *e, const char *word)
{
    size_t n = strlen(word);
    for (; l + n <= e; l++)
        if (!strncasecmp(l, word, n)) return 1;
    return 0;
}

/* Reads one reply: its status, or -1 when the connection broke. *keep is 0
 * when the server will close the connection. */
static int read_reply(conn *c, int *keep)
{
    char *hdr_end;
    for (;;) {
        if (c->len && (hdr_end = memmem(c->buf, c->len, "\r\n\r\n", 4))) break;
        if (fill(c)) return -1;
    }
    size_t hlen = (size_t)(hdr_end - c->buf) + 4;
    int major, minor, status;
    if (sscanf(c->buf, "HTTP/%d.%d %d", &major, &minor, &status) != 3) return -1;
    long long clen = -1;
    int chunked = 0;
    *keep = !(major == 1 && minor == 0);
    for (char *l = strstr(c->buf, "\r\n") + 2; l < hdr_end; l = strstr(l, "\r\n") + 2) {
        char *e = strstr(l, "\r\n");
        if (!strncasecmp(l, "Content-Length:", 15)) clen = strtoll(l + 15, NULL, 10);
        else if (!strncasecmp(l, "Transfer-Encoding:", 18) && line_has(l, e, "chunked")) chunked = 1;
        else if (!strncasecmp(l, "Connection:", 11) && line_has(l, e, "close")) *keep = 0;
    }
    size_t at = hlen;
    if (chunked) {
        for (;;) {
            char *e;
            while (!(e = memmem(c->buf + at, c->len - at, "\r\n", 2)))
                if (fill(c)) return -1;
            size_t sz = strtoul(c->buf + at, NULL, 16);
            at = (size_t)(e - c->buf) + 2;
            while (c->len - at < sz + 2)
                if (fill(c)) return -1;
            at += sz + 2;
            if (!sz) break; /* no trailers from lens */
        }
    } else if (clen >= 0) {
        while (c->len - at < (size_t)clen)
            if (fill(c)) return -1;
        at += (size_t)clen;
    } else {
        while (!fill(c)) {} /* until close */
        at = c->len;
        *keep = 0;
    }
    memmove(c->buf, c->buf + at, c->len - at);
    c->len -= at;
    return status;
}

/* ---------------------------------------------------------------- load */

static int concurrency = 1;
static double duration = 10, warmup = 0;
static long max_requests = 0;
static atomic_ulong next_text, issued;
static atomic_int go; /* the start line: workers wait for it, then read t_start */
static double t_start, t_stop;

typedef struct {
    pthread_t th;
    double *lat; /* seconds */
    size_t n, cap;
    unsigned long errors, http503, reconnects;
    double last_done;
    int recording;
} worker;

static void *run(void *arg)
{
    worker *w = arg;
    conn c = {.fd = -1};
    size_t bcap = 0;
    char *req = NULL;
    while (!go) usleep(100);
    for (;;) {
        double t = now();
        if (max_requests && w->recording) {
            if (atomic_fetch_add(&issued, 1) >= (unsigned long)max_requests) break;
        } else if (t >= t_stop) {
            break;
        }
        const text *tx = &texts[atomic_fetch_add(&next_text, 1) % n_texts];
        size_t body = tx->n + 12; /* {"texts":[ ... ]} */
        if (bcap < body + 512) {
            bcap = body + 512;
            req = realloc(req, bcap);
            if (!req) die("out of memory");
        }
        int h = snprintf(req, bcap,
                         "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                         "Content-Length: %zu\r\n\r\n{\"texts\":[",
                         path, host_header, body);
        memcpy(req + h, tx->s, tx->n);
        memcpy(req + h + tx->n, "]}", 2);
        size_t n = (size_t)h + tx->n + 2;
        if (c.fd < 0 && conn_open(&c)) {
            w->errors++;
            usleep(10000);
            continue;
        }
        double t0 = now();
        int keep = 0, status = send_all(c.fd, req, n) ? -1 : read_reply(&c, &keep);
        double t1 = now();
        if (status < 0) {
            conn_close(&c);
            w->reconnects++;
        } else if (!keep) {
            conn_close(&c);
        }
        if (!w->recording || t0 < t_start) continue;
        if (status != 200) {
            w->errors++;
            if (status == 503) w->http503++;
            continue;
        }
        if (w->n == w->cap) {
            w->cap = w->cap ? w->cap * 2 : 4096;
            w->lat = realloc(w->lat, w->cap * sizeof *w->lat);
            if (!w->lat) die("out of memory");
        }
        w->lat[w->n++] = t1 - t0;
        w->last_done = t1;
    }
    conn_close(&c);
    free(c.buf);
    free(req);
    return NULL;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double pct(const double *v, size_t n, double p)
{
    if (!n) return 0;
    size_t i = (size_t)(p * (double)(n - 1) + 0.5);
    return v[i < n ? i : n - 1];
}

/* one phase: warm-up (not recorded) or the measurement */
static void phase(worker *w, int recording, double secs)
{
    atomic_store(&issued, 0);
    go = 0;
    for (int i = 0; i < concurrency; i++) {
        w[i].recording = recording;
        if (pthread_create(&w[i].th, NULL, run, &w[i])) die("cannot start a thread");
    }
    t_start = now();
    t_stop = t_start + secs;
    go = 1;
    for (int i = 0; i < concurrency; i++) pthread_join(w[i].th, NULL);
}

int main(int argc, char **argv)
{
    const char *texts_path = NULL, *field = "text";
    int port = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs("usage: loadgen --port N --texts FILE [--host 127.0.0.1] [--path /v1/embed] [--field text]\n"
                  "               [--concurrency 1] [--duration SECONDS | --requests N] [--warmup SECONDS]\n"
                  "               [--timeout SECONDS]\n", stdout);
            return 0;
        }
        if (!v) die("an option needs a value (see --help)");
        if (!strcmp(a, "--host")) host = v;
        else if (!strcmp(a, "--port")) port = atoi(v);
        else if (!strcmp(a, "--path")) path = v;
        else if (!strcmp(a, "--texts")) texts_path = v;
        else if (!strcmp(a, "--field")) field = v;
        else if (!strcmp(a, "--concurrency")) concurrency = atoi(v);
        else if (!strcmp(a, "--duration")) duration = atof(v);
        else if (!strcmp(a, "--requests")) max_requests = atol(v);
        else if (!strcmp(a, "--warmup")) warmup = atof(v);
        else if (!strcmp(a, "--timeout")) timeout_s = atof(v);
        else die("unknown option (see --help)");
        i++;
    }
    if (!texts_path || port <= 0 || port > 65535) die("--port and --texts are required (see --help)");
    if (concurrency < 1 || concurrency > 4096) die("--concurrency must be 1..4096");
    if (timeout_s <= 0) timeout_s = 60;
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    snprintf(host_header, sizeof host_header, "%s:%d", host, port);
    if (inet_pton(AF_INET, !strcmp(host, "localhost") ? "127.0.0.1" : host, &addr.sin_addr) != 1)
        die("--host must be an IPv4 address");
    signal(SIGPIPE, SIG_IGN);
    load_texts(texts_path, field);

    worker *w = calloc((size_t)concurrency, sizeof *w);
    if (!w) die("out of memory");
    if (warmup > 0) {
        long mr = max_requests;
        max_requests = 0;
        phase(w, 0, warmup);
        max_requests = mr;
    }
    phase(w, 1, max_requests ? 1e9 : duration);

    size_t total = 0;
    unsigned long errors = 0, e503 = 0, reconnects = 0;
    double last = t_start;
    for (int i = 0; i < concurrency; i++) {
        total += w[i].n;
        errors += w[i].errors;
        e503 += w[i].http503;
        reconnects += w[i].reconnects;
        if (w[i].last_done > last) last = w[i].last_done;
    }
    double *all = malloc((total ? total : 1) * sizeof *all);
    if (!all) die("out of memory");
    size_t at = 0;
    for (int i = 0; i < concurrency; i++) {
        memcpy(all + at, w[i].lat, w[i].n * sizeof *all);
        at += w[i].n;
        free(w[i].lat);
    }
    qsort(all, total, sizeof *all, cmp_double);
    double secs = last - t_start, rps = secs > 0 ? (double)total / secs : 0;
    double p50 = pct(all, total, 0.50) * 1e3, p95 = pct(all, total, 0.95) * 1e3, p99 = pct(all, total, 0.99) * 1e3;
    double mx = total ? all[total - 1] * 1e3 : 0, mean = 0;
    for (size_t i = 0; i < total; i++) mean += all[i];
    mean = total ? mean / (double)total * 1e3 : 0;
    fprintf(stderr,
            "loadgen: %s%s, %d connections, %zu texts: %zu requests in %.2f s = %.1f req/s; latency ms: "
            "mean %.2f p50 %.2f p95 %.2f p99 %.2f max %.2f; errors %lu (503: %lu), reconnects %lu\n",
            host, path, concurrency, n_texts, total, secs, rps, mean, p50, p95, p99, mx, errors, e503, reconnects);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec * 1e-6;
    printf("RESULT concurrency=%d requests=%zu seconds=%.3f rps=%.2f mean_ms=%.3f p50_ms=%.3f p95_ms=%.3f "
           "p99_ms=%.3f max_ms=%.3f errors=%lu http503=%lu cpu_s=%.3f\n",
           concurrency, total, secs, rps, mean, p50, p95, p99, mx, errors, e503, cpu);
    free(all);
    free(w);
    for (size_t i = 0; i < n_texts; i++) free(texts[i].s);
    free(texts);
    return 0;
}
