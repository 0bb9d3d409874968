/* The job manager's state shared by jobs.c, store.c and the job kinds
 * (internal). */
#ifndef LENS_JOBS_INTERNAL_H
#define LENS_JOBS_INTERNAL_H

#include <jansson.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "lens/jobs.h"

enum { STOP_NONE, STOP_PAUSE, STOP_CANCEL, STOP_SHUTDOWN, STOP_DELETE };
enum { PHASES = 5 }; /* read, embed, assign, summarize, write */

typedef struct job_entry {
    char id[33], kind[16];
    lens_job_state state;
    json_t *params;
    double created, started, finished, not_before; /* unix seconds; 0: not yet */
    int attempts;
    char error[512];
    /* progress */
    uint64_t processed, total, chunk, chunks;
    double percent, eta, phases[PHASES];
    /* control: stop is what a running job polls (from its own threads);
     * reason says why */
    atomic_int stop;
    int stop_reason;
    uint64_t ver; /* bumped on every change, for waiters */
    int unsaved;  /* jobs.db lacks the last change (a write failed): written again */
} job_entry;

struct lens_jobs {
    lens_jobs_opts o;
    char data_dir[4096];
    char data_root[4096]; /* realpath of o.data_root; "" without one */
    sqlite3 *db;
    pthread_mutex_t mu;
    pthread_cond_t wake;    /* workers: a job may be ready */
    pthread_cond_t changed; /* waiters: some job changed */
    job_entry **jobs;
    int n;
    size_t cap;
    uint64_t ver;
    int closing;
    double store_retry_at; /* after a failed write: when to try the unsaved again */
    pthread_t *workers;
    int n_workers;
};

/* One run of one job, handed to its kind. */
typedef struct job_run {
    lens_jobs *jobs;
    job_entry *e;
    char dir[4200];       /* data_dir/jobs/<id> */
    double t0, f0;        /* when this run started (monotonic), fraction done then */
    int first;            /* no progress reported yet in this run */
    uint64_t total;       /* the kind's row total when it knows one (analyze: counted), else 0 */
} job_run;

typedef struct job_kind {
    const char *name;
    /* checks params (the caller's JSON); may rewrite paths in place */
    int (*check)(lens_jobs *j, json_t *params, const char *job_dir, lens_error *err);
    int (*run)(job_run *r, lens_error *err);
} job_kind;

extern const job_kind lens__job_kind_analyze, lens__job_kind_project;

/* jobs.c: checking a kind's params. fields: the names it takes, NULL-ended */
int lens__job_fields(json_t *params, const char *kind, const char *const *fields, lens_error *err);
/* *out = params[name] when present: a number (an integer if integer) in lo..hi */
int lens__job_number(json_t *params, const char *name, double lo, double hi, int integer, double *out, lens_error *err);

/* jobs.c: the directory job dir's inputs are confined to: dir itself when
 * path (an input) lies in it (an upload), else the data root (NULL: none) */
const char *lens__job_root(const lens_jobs *j, const char *dir, const char *path);
/* jobs.c: msg without server paths (the job's directory, the data root)
 * and naming the service's fields instead of the CLI's flags */
void lens__job_clean_msg(const lens_jobs *j, const char *id, char *msg, size_t cap);

/* jobs.c: progress from a running job (any thread) */
void lens__job_progress(job_run *r, uint64_t processed, double fraction, uint64_t chunk_rows, const double phases[PHASES]);

/* store.c; called with mu held. put and delete fail with "jobs.db: cannot
 * save|delete job ID: why" */
int lens__store_open(lens_jobs *j, lens_error *err);
void lens__store_close(lens_jobs *j);
int lens__store_put(lens_jobs *j, const job_entry *e, lens_error *err);
int lens__store_delete(lens_jobs *j, const char *id, lens_error *err);
/* loads every job into j->jobs */
int lens__store_load(lens_jobs *j, lens_error *err);

#endif
