/* lens — the HTTP service: jobs (lens/jobs.h), inference with dynamic
 * batching, metrics and the web UI, in one process (libmicrohttpd, a thread
 * per connection). Routes are described in web/openapi.json. */
#ifndef LENS_SERVER_H
#define LENS_SERVER_H

#include <stddef.h>

#include "lens/error.h"
#include "lens/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_server_opts {
    const char *host;          /* default 127.0.0.1 */
    int port;                  /* default 8080; 0 picks a free one */
    const char *data_dir;      /* jobs.db and job directories (default ./lens-data) */
    const char *data_root;     /* JSON job requests may name files under it; NULL: uploads only */
    const char *token;         /* bearer token; required when host is not loopback */
    const char *model;         /* model name or directory */
    lens_precision precision;
    int threads;               /* encoder threads (0: all CPUs) */
    const char *themes;        /* themes.json for /v1/themes/assign by app id (optional) */
    const char *vader_lexicon; /* data/vader */
    int max_jobs;              /* jobs running at once (default 1) */
    int job_attempts;          /* tries before a job fails (default 3) */
    double job_ttl_s;          /* finished jobs expire after (default 7 days) */
    int max_batch;             /* texts gathered into one batch (default 256; 1 turns batching off) */
    int batch_tokens;          /* token budget of a forward pass (default 8192); a batch answers each
                                  request when the pass holding its last text is done */
    double max_wait_ms;        /* how long a batch may wait for more (default 0: never) */
    int queue;                 /* texts waiting at most, else 503 (default 4096) */
    int cache;                 /* texts in the embedding LRU cache (default 10000; 0 off) */
    size_t max_body;           /* JSON body limit (default 8 MB) */
    size_t max_upload;         /* upload limit per job (default 1 GB) */
    const char *web_dir;       /* UI files (index.html, app.js, style.css, openapi.json) */
    double timeout_s;          /* a connection that sends nothing (headers, body) or reads nothing this
                                  long is closed (default 30); waiting for inference or events is not idle */
} lens_server_opts;

typedef struct lens_server lens_server;

/* Loads the model, opens the job store, starts listening. */
LENS_API int lens_server_open(lens_server **out, const lens_server_opts *o, lens_error *err);
LENS_API int lens_server_port(const lens_server *s);
/* Stops accepting, answers what is queued, stops jobs at their next chunk
 * (they resume at the next start), closes. */
LENS_API void lens_server_close(lens_server *s);

#ifdef __cplusplus
}
#endif
#endif
