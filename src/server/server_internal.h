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
typedef struct lens__batcher lens__batcher;
struct lens__metrics;
int lens__batcher_new(lens__batcher **out, lens_encoder *enc, int dim, int max_batch, int batch_tokens,
                     double max_wait_ms, int queue, struct lens__metrics *m, lens_error *err);
/* Queues texts for the next batch and returns at once; the batch thread
 * writes out[n][dim] and then calls done(ctx, rc, message) (message NULL on
 * success). r, texts, lens and out must live until then. LENS_ENOMEM with
 * "queue full" when the queue is full or the batcher is stopping (the
 * caller answers 503); done() is not called then. */
typedef void (*lens__batch_done_fn)(void *ctx, int rc, const char *msg);
typedef struct lens__breq { /* the batcher's; callers only provide the storage */
    const char *const *texts;
    const size_t *lens;
    size_t n;
    float *out;
    lens__batch_done_fn done;
    void *ctx;
    struct lens__breq *next;
    size_t taken, finished; /* rows handed to batches, rows embedded */
    int failed;
} lens__breq;
int lens__batcher_submit(lens__batcher *b, lens__breq *r, const char *const *texts, const size_t *lens, size_t n,
                        float *out, lens__batch_done_fn done, void *ctx, lens_error *err);
/* Answers everything queued, then stops. */
void lens__batcher_free(lens__batcher *b);
size_t lens__batcher_depth(lens__batcher *b);

/* ---- cache.c: LRU of text -> embedding */
typedef struct lens__cache lens__cache;
lens__cache *lens__cache_new(int capacity, int dim);
void lens__cache_free(lens__cache *c);
int lens__cache_get(lens__cache *c, const char *text, size_t len, float *out); /* 1: hit */
void lens__cache_put(lens__cache *c, const char *text, size_t len, const float *emb);

/* ---- metrics.c: Prometheus text format */
enum { R_EMBED, R_SENTIMENT, R_ASSIGN, R_JOBS_CREATE, R_JOBS_LIST, R_JOB_GET, R_JOB_CONTROL, R_JOB_DELETE,
       R_JOB_EVENTS, R_JOB_RESULT, R_HEALTH, R_METRICS, R_UI, R_OTHER, N_ROUTES };
typedef struct lens__metrics lens__metrics;
lens__metrics *lens__metrics_new(void);
void lens__metrics_free(lens__metrics *m);
void lens__metrics_request(lens__metrics *m, int route, int status, double seconds);
void lens__metrics_batch(lens__metrics *m, size_t texts, size_t tokens, double seconds);
void lens__metrics_cache(lens__metrics *m, uint64_t hits, uint64_t misses);
/* work done before serving (the --themes keywords), kept apart from requests' */
void lens__metrics_startup(lens__metrics *m, size_t texts, size_t tokens, double seconds);
/* a new malloc'd text; gauges passed in */
char *lens__metrics_render(lens__metrics *m, size_t queue_depth, const uint64_t jobs[LENS_JOB_N_STATES]);

/* ---- the server */
struct lens_server {
    lens_server_opts o;
    struct MHD_Daemon *d;
    int port;
    lens_model *model;
    char model_name[256]; /* the model's name, never its path on this machine */
    lens_pool *pool;
    lens_encoder *enc;
    int dim;
    lens__batcher *batcher;
    lens__cache *cache;
    lens__metrics *metrics;
    lens_vader *vader;
    lens_themes *themes; /* for /v1/themes/assign by app id; may be NULL */
    float *unknown;      /* lens_themes_unknown's vector (a static model), or NULL */
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
    struct lens__parked *parked;
    int ticker_on, ticker_stop;
    pthread_t ticker;
};

/* a parsed request, kept across MHD's calls for one request */
typedef struct lens__req {
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
} lens__req;

/* http.c: parks r's connection (from its route) until lens__resume (any
 * thread), when MHD calls the route again; nothing waits in a thread */
void lens__suspend(lens_server *s, lens__req *r);
void lens__resume(lens_server *s, lens__req *r);
/* an event stream's connection, parked until the ticker's next round (every
 * 100 ms), when its reader looks for news again; p lives in the stream's
 * state, which MHD keeps while the connection is suspended */
typedef struct lens__parked {
    struct MHD_Connection *conn;
    struct lens__parked *next;
} lens__parked;
void lens__sse_park(lens_server *s, lens__parked *p, struct MHD_Connection *c);

/* http.c: responses (return MHD_YES/NO from MHD_queue_response) */
enum MHD_Result lens__reply(struct MHD_Connection *c, lens__req *r, int status, const char *type, char *body, size_t len);
enum MHD_Result lens__reply_json(struct MHD_Connection *c, lens__req *r, int status, json_t *o);
enum MHD_Result lens__reply_error(struct MHD_Connection *c, lens__req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* status for a lens error code */
int lens__http_status(int code);
/* the request body as a JSON object; replies 4xx and returns NULL when not */
json_t *lens__req_json(struct MHD_Connection *c, lens__req *r);

/* routes_infer.c */
/* gives t the server's unknown vector (a copy), if its model has one */
int lens__server_themes_unknown(const lens_server *s, lens_themes *t, lens_error *err);
enum MHD_Result lens__route_embed(lens_server *s, struct MHD_Connection *c, lens__req *r);
enum MHD_Result lens__route_sentiment(lens_server *s, struct MHD_Connection *c, lens__req *r);
enum MHD_Result lens__route_assign(lens_server *s, struct MHD_Connection *c, lens__req *r);

/* routes_jobs.c */
/* upload data for POST /v1/jobs (multipart); returns MHD_NO to abort */
enum MHD_Result lens__jobs_upload(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *data, size_t size);
enum MHD_Result lens__route_jobs_create(lens_server *s, struct MHD_Connection *c, lens__req *r);
enum MHD_Result lens__route_jobs(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *method,
                                const char *path);
void lens__upload_free(lens__req *r);

#endif
