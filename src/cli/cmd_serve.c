/* lens serve: the HTTP service. Every option also comes from an
 * environment variable (the flag wins). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "lens/server.h"

static const char *serve_usage =
    "usage: lens serve [options]          (environment variable in brackets)\n"
    "  --host H              address to bind (default 127.0.0.1) [LENS_HOST]\n"
    "  --port N              port (default 8080; 0 picks a free one) [LENS_PORT]\n"
    "  --data-dir DIR        jobs.db and job files (default ./lens-data) [LENS_DATA_DIR]\n"
    "  --data-root DIR       JSON job requests may name files under DIR [LENS_DATA_ROOT]\n"
    "  --token T             bearer token; required off loopback [LENS_TOKEN]\n"
    "  --model M             model name or directory (default: all-MiniLM-L6-v2 when\n"
    "                        pulled, else the bundled static model) [LENS_MODEL]\n"
    "  --precision P         fp32 | bf16 | int8 (default fp32) [LENS_PRECISION]\n"
    "  --threads N           encoder threads (default all CPUs) [LENS_THREADS]\n"
    "  --themes F            themes.json for /v1/themes/assign by app id [LENS_THEMES]\n"
    "  --max-jobs N          jobs running at once (default 1) [LENS_MAX_JOBS]\n"
    "  --job-attempts N      tries before a job fails (default 3) [LENS_JOB_ATTEMPTS]\n"
    "  --job-ttl S           seconds finished jobs are kept (default 604800) [LENS_JOB_TTL]\n"
    "  --max-batch N         texts gathered into one batch; 1 turns batching off (default 256) [LENS_MAX_BATCH]\n"
    "  --batch-tokens N      tokens per forward pass; a batch answers each request when the pass\n"
    "                        holding its last text is done (default 8192) [LENS_BATCH_TOKENS]\n"
    "  --max-wait-ms MS      how long a batch may wait to fill (default 0) [LENS_MAX_WAIT_MS]\n"
    "  --queue N             texts waiting at most, then 503 (default 4096) [LENS_QUEUE]\n"
    "  --cache N             embeddings kept in the LRU cache (default 10000; 0 off) [LENS_CACHE]\n"
    "  --max-body BYTES      JSON body limit (default 8388608) [LENS_MAX_BODY]\n"
    "  --max-upload BYTES    upload limit per job (default 1073741824) [LENS_MAX_UPLOAD]\n"
    "  --timeout S           close a connection idle S seconds: headers and bodies must keep\n"
    "                        coming (default 30) [LENS_TIMEOUT]\n";

typedef struct {
    const char *flag, *env;
    int kind; /* 0 string, 1 int, 2 double, 3 size, 4 precision */
    void *dst;
    double lo, hi;
} option;

static int set(const option *op, const char *v)
{
    char *end;
    switch (op->kind) {
    case 0: *(const char **)op->dst = v; return 0;
    case 4: return lens_precision_parse(v, op->dst) ? cli_fail("%s must be fp32, bf16 or int8", op->flag) : 0;
    default: {
        double x = strtod(v, &end);
        if (!*v || *end || x < op->lo || x > op->hi)
            return cli_fail("%s needs a number in %.15g..%.15g (got '%s')", op->flag, op->lo, op->hi, v);
        if (op->kind == 1) *(int *)op->dst = (int)x;
        else if (op->kind == 2) *(double *)op->dst = x;
        else *(size_t *)op->dst = (size_t)x;
        return 0;
    }
    }
}

int cmd_serve(int argc, char **argv)
{
    char cache[4200];
    lens_server_opts o = {.port = 8080, .model = cli_default_model(cache, sizeof cache), .cache = 10000,
                          .vader_lexicon = LENS_BUNDLED_VADER, .themes = LENS_BUNDLED_THEMES,
                          .web_dir = LENS_WEB_DIR};
    const option ops[] = {
        {"--host", "LENS_HOST", 0, &o.host, 0, 0},
        {"--port", "LENS_PORT", 1, &o.port, 0, 65535},
        {"--data-dir", "LENS_DATA_DIR", 0, &o.data_dir, 0, 0},
        {"--data-root", "LENS_DATA_ROOT", 0, &o.data_root, 0, 0},
        {"--token", "LENS_TOKEN", 0, &o.token, 0, 0},
        {"--model", "LENS_MODEL", 0, &o.model, 0, 0},
        {"--precision", "LENS_PRECISION", 4, &o.precision, 0, 0},
        {"--threads", "LENS_THREADS", 1, &o.threads, 0, 1024},
        {"--themes", "LENS_THEMES", 0, &o.themes, 0, 0},
        {"--max-jobs", "LENS_MAX_JOBS", 1, &o.max_jobs, 1, 64},
        {"--job-attempts", "LENS_JOB_ATTEMPTS", 1, &o.job_attempts, 1, 100},
        {"--job-ttl", "LENS_JOB_TTL", 2, &o.job_ttl_s, 1, 1e9},
        {"--max-batch", "LENS_MAX_BATCH", 1, &o.max_batch, 1, 65536},
        {"--batch-tokens", "LENS_BATCH_TOKENS", 1, &o.batch_tokens, 256, 1 << 20},
        {"--max-wait-ms", "LENS_MAX_WAIT_MS", 2, &o.max_wait_ms, 0, 10000},
        {"--queue", "LENS_QUEUE", 1, &o.queue, 1, 1 << 24},
        {"--cache", "LENS_CACHE", 1, &o.cache, 0, 1 << 24},
        {"--max-body", "LENS_MAX_BODY", 3, &o.max_body, 1024, 1e12},
        {"--max-upload", "LENS_MAX_UPLOAD", 3, &o.max_upload, 1024, 1e13},
        {"--timeout", "LENS_TIMEOUT", 2, &o.timeout_s, 1, 86400},
    };
    const size_t n_ops = sizeof ops / sizeof *ops;
    for (size_t k = 0; k < n_ops; k++) {
        const char *v = getenv(ops[k].env);
        if (v && *v && set(&ops[k], v)) return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            fputs(serve_usage, stdout);
            return 0;
        }
        size_t k = 0;
        while (k < n_ops && strcmp(argv[i], ops[k].flag)) k++;
        if (k == n_ops) {
            cli_fail("serve: unknown option %s (see lens serve --help)", argv[i]);
            return 2;
        }
        if (i + 1 >= argc) {
            cli_fail("serve: %s needs a value", argv[i]);
            return 2;
        }
        if (set(&ops[k], argv[++i])) return 2;
    }
    if (o.themes && !*o.themes) o.themes = NULL;
    /* SIGINT and SIGTERM are blocked here, before the server's threads
     * exist (they inherit the mask), and taken by sigwait below: no handler
     * and no flag, so no window between testing a flag and sleeping in
     * which a signal is missed; one that comes while the model loads waits */
    sigset_t stop_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_set, NULL);
    signal(SIGPIPE, SIG_IGN); /* a client that hangs up is not our death */
    lens_server *s;
    lens_error err = {0};
    if (lens_server_open(&s, &o, &err)) return cli_fail("%s", err.msg);
    fprintf(stderr, "lens serve: listening on http://%s:%d (model %s, data %s)\n", o.host ? o.host : "127.0.0.1",
            lens_server_port(s), o.model, o.data_dir ? o.data_dir : "lens-data");
    int sig;
    while (sigwait(&stop_set, &sig) != 0) {
    }
    fprintf(stderr, "lens serve: stopping: answering queued requests; running jobs resume at the next start\n");
    lens_server_close(s);
    return 0;
}
