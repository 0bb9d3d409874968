/* Counters and histograms for GET /metrics (Prometheus text format 0.0.4). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "server_internal.h"

static const char *const route_names[N_ROUTES] = {
    "embed", "sentiment", "themes_assign", "jobs_create", "jobs_list", "job_get", "job_control",
    "job_delete", "job_events", "job_result", "healthz", "metrics", "ui", "other"};
static const double lat_bounds[] = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};
enum { N_LAT = sizeof lat_bounds / sizeof *lat_bounds };
static const double batch_bounds[] = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512};
enum { N_BATCH = sizeof batch_bounds / sizeof *batch_bounds };

struct lens__metrics {
    pthread_mutex_t mu;
    uint64_t requests[N_ROUTES][6]; /* by status class 1xx..5xx (index 1..5) */
    uint64_t lat[N_ROUTES][N_LAT + 1];
    double lat_sum[N_ROUTES];
    uint64_t lat_count[N_ROUTES];
    uint64_t batch[N_BATCH + 1], batches, batch_texts;
    uint64_t tokens;
    double encoder_seconds;
    uint64_t cache_hits, cache_misses;
    uint64_t startup_texts, startup_tokens; /* the bundled themes' keywords, before any request */
    double startup_seconds;
};

lens__metrics *lens__metrics_new(void)
{
    lens__metrics *m = calloc(1, sizeof *m);
    if (m) pthread_mutex_init(&m->mu, NULL);
    return m;
}

void lens__metrics_free(lens__metrics *m)
{
    if (!m) return;
    pthread_mutex_destroy(&m->mu);
    free(m);
}

void lens__metrics_request(lens__metrics *m, int route, int status, double seconds)
{
    if (route < 0 || route >= N_ROUTES) route = R_OTHER;
    int cls = status / 100;
    if (cls < 1 || cls > 5) cls = 5;
    pthread_mutex_lock(&m->mu);
    m->requests[route][cls]++;
    int b = 0;
    while (b < N_LAT && seconds > lat_bounds[b]) b++;
    m->lat[route][b]++;
    m->lat_sum[route] += seconds;
    m->lat_count[route]++;
    pthread_mutex_unlock(&m->mu);
}

void lens__metrics_batch(lens__metrics *m, size_t texts, size_t tokens, double seconds)
{
    pthread_mutex_lock(&m->mu);
    int b = 0;
    while (b < N_BATCH && (double)texts > batch_bounds[b]) b++;
    m->batch[b]++;
    m->batches++;
    m->batch_texts += texts;
    m->tokens += tokens;
    m->encoder_seconds += seconds;
    pthread_mutex_unlock(&m->mu);
}

void lens__metrics_startup(lens__metrics *m, size_t texts, size_t tokens, double seconds)
{
    pthread_mutex_lock(&m->mu);
    m->startup_texts += texts;
    m->startup_tokens += tokens;
    m->startup_seconds += seconds;
    pthread_mutex_unlock(&m->mu);
}

void lens__metrics_cache(lens__metrics *m, uint64_t hits, uint64_t misses)
{
    pthread_mutex_lock(&m->mu);
    m->cache_hits += hits;
    m->cache_misses += misses;
    pthread_mutex_unlock(&m->mu);
}

char *lens__metrics_render(lens__metrics *m, size_t queue_depth, const uint64_t jobs[LENS_JOB_N_STATES])
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) return NULL;
    pthread_mutex_lock(&m->mu);
    fputs("# HELP lens_http_requests_total HTTP requests by route and status class.\n"
          "# TYPE lens_http_requests_total counter\n", f);
    for (int r = 0; r < N_ROUTES; r++)
        for (int c = 1; c <= 5; c++)
            if (m->requests[r][c])
                fprintf(f, "lens_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n", route_names[r], c,
                        (unsigned long long)m->requests[r][c]);
    fputs("# HELP lens_http_request_duration_seconds Time to answer, by route.\n"
          "# TYPE lens_http_request_duration_seconds histogram\n", f);
    for (int r = 0; r < N_ROUTES; r++) {
        if (!m->lat_count[r]) continue;
        uint64_t cum = 0;
        for (int b = 0; b < N_LAT; b++) {
            cum += m->lat[r][b];
            fprintf(f, "lens_http_request_duration_seconds_bucket{route=\"%s\",le=\"%g\"} %llu\n", route_names[r],
                    lat_bounds[b], (unsigned long long)cum);
        }
        fprintf(f, "lens_http_request_duration_seconds_bucket{route=\"%s\",le=\"+Inf\"} %llu\n", route_names[r],
                (unsigned long long)m->lat_count[r]);
        fprintf(f, "lens_http_request_duration_seconds_sum{route=\"%s\"} %.6f\n", route_names[r], m->lat_sum[r]);
        fprintf(f, "lens_http_request_duration_seconds_count{route=\"%s\"} %llu\n", route_names[r],
                (unsigned long long)m->lat_count[r]);
    }
    fputs("# HELP lens_batch_size Texts per forward pass of the inference batcher.\n"
          "# TYPE lens_batch_size histogram\n", f);
    uint64_t cum = 0;
    for (int b = 0; b < N_BATCH; b++) {
        cum += m->batch[b];
        fprintf(f, "lens_batch_size_bucket{le=\"%g\"} %llu\n", batch_bounds[b], (unsigned long long)cum);
    }
    fprintf(f, "lens_batch_size_bucket{le=\"+Inf\"} %llu\nlens_batch_size_sum %llu\nlens_batch_size_count %llu\n",
            (unsigned long long)m->batches, (unsigned long long)m->batch_texts, (unsigned long long)m->batches);
    fprintf(f, "# HELP lens_queue_depth Texts waiting for the batcher.\n# TYPE lens_queue_depth gauge\n"
               "lens_queue_depth %zu\n", queue_depth);
    uint64_t lookups = m->cache_hits + m->cache_misses;
    fprintf(f, "# HELP lens_cache_hits_total Embedding cache hits.\n# TYPE lens_cache_hits_total counter\n"
               "lens_cache_hits_total %llu\n"
               "# HELP lens_cache_misses_total Embedding cache misses.\n# TYPE lens_cache_misses_total counter\n"
               "lens_cache_misses_total %llu\n"
               "# HELP lens_cache_hit_ratio Hits over lookups since start.\n# TYPE lens_cache_hit_ratio gauge\n"
               "lens_cache_hit_ratio %.4f\n",
            (unsigned long long)m->cache_hits, (unsigned long long)m->cache_misses,
            lookups ? (double)m->cache_hits / (double)lookups : 0.0);
    fprintf(f, "# HELP lens_encoder_tokens_total Tokens through the encoder for inference requests.\n"
               "# TYPE lens_encoder_tokens_total counter\nlens_encoder_tokens_total %llu\n"
               "# HELP lens_encoder_tokens_per_second Tokens per second of encoder time.\n"
               "# TYPE lens_encoder_tokens_per_second gauge\nlens_encoder_tokens_per_second %.1f\n",
            (unsigned long long)m->tokens, m->encoder_seconds > 0 ? (double)m->tokens / m->encoder_seconds : 0.0);
    fprintf(f, "# HELP lens_startup_texts_total Texts embedded at startup (the --themes keywords), apart from "
               "inference requests.\n# TYPE lens_startup_texts_total counter\nlens_startup_texts_total %llu\n"
               "# HELP lens_startup_tokens_total Encoder tokens at startup.\n"
               "# TYPE lens_startup_tokens_total counter\nlens_startup_tokens_total %llu\n"
               "# HELP lens_startup_encoder_seconds Encoder time at startup.\n"
               "# TYPE lens_startup_encoder_seconds gauge\nlens_startup_encoder_seconds %.3f\n",
            (unsigned long long)m->startup_texts, (unsigned long long)m->startup_tokens, m->startup_seconds);
    pthread_mutex_unlock(&m->mu);
    fputs("# HELP lens_jobs Jobs by state.\n# TYPE lens_jobs gauge\n", f);
    for (int s = 0; s < LENS_JOB_N_STATES; s++)
        fprintf(f, "lens_jobs{state=\"%s\"} %llu\n", lens_job_state_name((lens_job_state)s), (unsigned long long)jobs[s]);
    if (ferror(f) | fclose(f)) { /* out of memory: the text is cut short */
        free(buf);
        return NULL;
    }
    return buf;
}
