/* lens serve's parts (internal): the batcher that groups requests into
 * forward passes, the embedding cache, the metrics, and the server and
 * request state that http.c (connections, suspension, replies) shares with
 * the routes (routes_infer.c, routes_jobs.c). */
#ifndef LENS_SERVER_INTERNAL_H
#define LENS_SERVER_INTERNAL_H

#include <jansson.h>
#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "jobs/jobs_json.h"
#include "lens/jobs.h"
#include "lens/sentiment.h"
#include "lens/server.h"
#include "lens/themes.h"

/* ---- batcher.c: requests from every connection share forward passes */
typedef struct lens_batcher lens_batcher;
struct lens_metrics;
int lens_batcher_new(lens_batcher **out, lens_encoder *enc, int dim, int max_batch, int batch_tokens,
                     double max_wait_ms, int queue, struct lens_metrics *m, lens_error *err);
/* Queues texts for the next batch and returns at once; the batch thread
 * writes out[n][dim] and then calls done(ctx, rc, message) (message NULL on
 * success). r, texts, lens and out must live until then. LENS_ENOMEM with
 * "queue full" when the queue is full or the batcher is stopping (the
 * caller answers 503); done() is not called then. */
typedef void (*lens_batch_done_fn)(void *ctx, int rc, const char *msg);
typedef struct lens_breq { /* the batcher's; callers only provide the storage */
    const char *const *texts;
    const size_t *lens;
    size_t n;
    float *out;
    lens_batch_done_fn done;
    void *ctx;
    struct lens_breq *next;
} lens_breq;
int lens_batcher_submit(lens_batcher *b, lens_breq *r, const char *const *texts, const size_t *lens, size_t n,
                        float *out, lens_batch_done_fn done, void *ctx, lens_error *err);
/* Embeds texts into out[n][dim]; blocks until done (startup and jobs only:
 * HTTP handlers submit and suspend instead). */
int lens_batcher_embed(lens_batcher *b, const char *const *texts, const size_t *lens, size_t n, float *out,
                       lens_error *err);
/* Answers everything queued, then stops. */
void lens_batcher_free(lens_batcher *b);
size_t lens_batcher_depth(lens_batcher *b);
/* a lens_embed_fn over a batcher (ctx) */
int lens_batcher_fn(void *ctx, const char *const *texts, size_t n, float *out, lens_error *err);

/* ---- cache.c: LRU of text -> embedding */
typedef struct lens_cache lens_cache;
lens_cache *lens_cache_new(int capacity, int dim);
void lens_cache_free(lens_cache *c);
int lens_cache_get(lens_cache *c, const char *text, size_t len, float *out); /* 1: hit */
void lens_cache_put(lens_cache *c, const char *text, size_t len, const float *emb);

/* ---- metrics.c: Prometheus text format */
enum { R_EMBED, R_SENTIMENT, R_ASSIGN, R_JOBS_CREATE, R_JOBS_LIST, R_JOB_GET, R_JOB_CONTROL, R_JOB_DELETE,
       R_JOB_EVENTS, R_JOB_RESULT, R_HEALTH, R_METRICS, R_UI, R_OTHER, N_ROUTES };
typedef struct lens_metrics lens_metrics;
lens_metrics *lens_metrics_new(void);
void lens_metrics_free(lens_metrics *m);
void lens_metrics_request(lens_metrics *m, int route, int status, double seconds);
void lens_metrics_batch(lens_metrics *m, size_t texts, size_t tokens, double seconds);
void lens_metrics_cache(lens_metrics *m, uint64_t hits, uint64_t misses);
/* a new malloc'd text; gauges passed in */
char *lens_metrics_render(lens_metrics *m, size_t queue_depth, const uint64_t jobs[LENS_JOB_N_STATES]);

/* ---- the server */
struct lens_server {
    lens_server_opts o;
    struct MHD_Daemon *d;
    int port;
    lens_model *model;
    const char *model_name;
    lens_pool *pool;
    lens_encoder *enc;
    int dim;
    lens_batcher *batcher;
    lens_cache *cache;
    lens_metrics *metrics;
    lens_vader *vader;
    lens_themes *themes; /* for /v1/themes/assign by app id; may be NULL */
    pthread_mutex_t themes_mu;
    lens_jobs *jobs;
    char data_root[4096]; /* realpath, "" when JSON paths are off */
    char web_dir[4096];
    atomic_int stopping; /* set by close, read by connection threads */
    /* connections parked with MHD_suspend_connection (MHD must not stop
     * while any is), and the event streams among them, which the ticker
     * resumes to look for news */
    pthread_mutex_t susp_mu;
    pthread_cond_t susp_cv;
    int n_suspended;
    struct lens_parked *parked;
    int ticker_on, ticker_stop;
    pthread_t ticker;
};

/* a parsed request, kept across MHD's calls for one request */
typedef struct lens_req {
    int route;
    double t0;
    int status;
    char *body;
    size_t len, cap;
    int too_big;
    void *upload; /* routes_jobs.c: multipart state */
    struct MHD_Connection *conn;
    void *state;  /* a route's state while its connection is suspended */
    void (*state_free)(void *state);
} lens_req;

/* http.c: parks r's connection (from its route) until lens_resume (any
 * thread), when MHD calls the route again; nothing waits in a thread */
void lens_suspend(lens_server *s, lens_req *r);
void lens_resume(lens_server *s, lens_req *r);
/* an event stream's connection, parked until the ticker's next round (every
 * 100 ms), when its reader looks for news again; p lives in the stream's
 * state, which MHD keeps while the connection is suspended */
typedef struct lens_parked {
    struct MHD_Connection *conn;
    struct lens_parked *next;
} lens_parked;
void lens_sse_park(lens_server *s, lens_parked *p, struct MHD_Connection *c);

/* http.c: responses (return MHD_YES/NO from MHD_queue_response) */
enum MHD_Result lens_reply(struct MHD_Connection *c, lens_req *r, int status, const char *type, char *body, size_t len);
enum MHD_Result lens_reply_json(struct MHD_Connection *c, lens_req *r, int status, json_t *o);
enum MHD_Result lens_reply_error(struct MHD_Connection *c, lens_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* status for a lens error code */
int lens_http_status(int code);
/* the request body as a JSON object; replies 4xx and returns NULL when not */
json_t *lens_req_json(struct MHD_Connection *c, lens_req *r);

/* routes_infer.c */
enum MHD_Result lens_route_embed(lens_server *s, struct MHD_Connection *c, lens_req *r);
enum MHD_Result lens_route_sentiment(lens_server *s, struct MHD_Connection *c, lens_req *r);
enum MHD_Result lens_route_assign(lens_server *s, struct MHD_Connection *c, lens_req *r);

/* routes_jobs.c */
/* upload data for POST /v1/jobs (multipart); returns MHD_NO to abort */
enum MHD_Result lens_jobs_upload(lens_server *s, struct MHD_Connection *c, lens_req *r, const char *data, size_t size);
enum MHD_Result lens_route_jobs_create(lens_server *s, struct MHD_Connection *c, lens_req *r);
enum MHD_Result lens_route_jobs(lens_server *s, struct MHD_Connection *c, lens_req *r, const char *method,
                                const char *path);
void lens_upload_free(lens_req *r);

#endif
