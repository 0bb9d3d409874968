/* lens — long jobs: submit, progress with an ETA, pause/resume/cancel,
 * durable state and retries.
 *
 * A lens_jobs keeps every job in SQLite (WAL) under data_dir and runs them
 * on its own worker threads, at most max_running at once; the rest wait in
 * submission order. Each job has a directory, data_dir/jobs/<id>/ (input/
 * for uploads, out/ for results and the job's checkpoint). Pause and cancel
 * take effect at the job's next chunk; a paused job resumes from its
 * checkpoint. A job that fails is tried again, from its checkpoint, after
 * retry_base_s, then twice that, ... until max_attempts, then it fails with
 * the reason; a failure trying again cannot mend (bad input or options:
 * LENS_EINVAL, LENS_EFORMAT, LENS_EUNSUP) fails it at once. When the process dies, the jobs it was running are queued
 * again at the next lens_jobs_open and resume from their checkpoints.
 *
 * Kinds: "analyze" (lens analyze; params: {"inputs": [paths], "themes":
 * path, and optional "language", "min_similarity", "top_k", "quotes",
 * "sentiment", "chunk", "map", and the input's column names "app_column",
 * "text_column", "voted_column", "language_column", "name_column",
 * "id_column"}; submit reads each input's header and first review and
 * refuses what the job could not read) and "project" (lens project; params: {"input":
 * path, and optional "neighbors", "min_dist", "spread", "metric",
 * "components", "epochs", "seed", "fit_size", "field", "column", "id"}).
 * Params and job descriptions cross this API as JSON text; the strings it
 * returns are the caller's, to free(). */
#ifndef LENS_JOBS_H
#define LENS_JOBS_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    LENS_JOB_QUEUED,
    LENS_JOB_RUNNING,
    LENS_JOB_PAUSED,
    LENS_JOB_SUCCEEDED,
    LENS_JOB_FAILED,
    LENS_JOB_CANCELLED,
    LENS_JOB_PAUSING,    /* running, asked to pause: paused at its next check point */
    LENS_JOB_CANCELLING, /* running, asked to cancel: cancelled at its next check point */
    LENS_JOB_N_STATES
} lens_job_state;

LENS_API const char *lens_job_state_name(lens_job_state s);
/* -1 when name is not a state */
LENS_API int lens_job_state_parse(const char *name);

/* The job state machine, the one rule every request follows: the state a
 * job in state from goes to when asked to action ("pause", "resume",
 * "cancel"); from itself when it is already there (the request changes
 * nothing and succeeds); -1 when the state does not allow it.
 *   queued:     pause -> paused,  cancel -> cancelled,  resume: stays
 *   running:    pause -> pausing, cancel -> cancelling, resume: stays
 *   pausing:    cancel -> cancelling, pause: stays, resume: refused
 *   paused:     resume -> queued, cancel -> cancelled,  pause: stays
 *   cancelling: cancel: stays, pause and resume refused (a pending cancel
 *               is never undone)
 *   cancelled:  cancel: stays, the rest refused
 *   succeeded, failed: everything refused
 * The worker moves pausing to paused and cancelling to cancelled at the
 * job's next check point (between chunks). */
LENS_API int lens_job_transition(lens_job_state from, const char *action);

typedef struct lens_jobs lens_jobs;

typedef struct lens_jobs_opts {
    const char *data_dir;
    int max_running;          /* jobs running at once (default 1) */
    int max_attempts;         /* tries before a job fails (default 3) */
    double retry_base_s;      /* first retry delay, doubling after (default 2) */
    double expire_s;          /* finished jobs are removed this long after (default 7 days; < 0 never) */
    int threads;              /* encoder threads per job (0: all CPUs) */
    const lens_model *model;  /* the model analyze jobs share */
    const char *model_name;   /* how reports name it */
    const char *vader_lexicon;
    /* optional: the directory job params may name files under (lens serve
     * --data-root). Jobs open their inputs confined to it (or to their own
     * input/ for uploads): a symlink leading out is refused when the file is
     * opened. Descriptions and errors show paths relative to it. */
    const char *data_root;
    /* what goes wrong in the background, one line each: a change jobs.db
     * cannot take (kept in memory and written again until it lands), files
     * a removed job leaves; NULL: "lens: jobs: ..." on stderr */
    void (*log)(void *ctx, const char *line);
    void *log_ctx;
} lens_jobs_opts;

LENS_API int lens_jobs_open(lens_jobs **out, const lens_jobs_opts *o, lens_error *err);
/* Stops the workers: running jobs stop at their next chunk and stay
 * queued in the store, to resume when it is opened again. */
LENS_API void lens_jobs_close(lens_jobs *j);

/* Checks params (unknown fields, types, paths that exist) and queues the
 * job; its directory is created first, so callers may fill input/ before
 * calling with prepared = the id from lens_jobs_prepare. id: 33 bytes. */
LENS_API int lens_jobs_prepare(lens_jobs *j, char id[33], char *input_dir, size_t cap, lens_error *err);
/* params_json: a JSON object (LENS_EINVAL, saying where, when it is not). */
LENS_API int lens_jobs_submit(lens_jobs *j, const char *id, const char *kind, const char *params_json, lens_error *err);
/* Forgets a prepared job that was never submitted (a failed upload). */
LENS_API void lens_jobs_discard(lens_jobs *j, const char *id);

/* A new JSON description of the job (id, kind, state, progress {processed,
 * total, percent, chunk, chunks}, eta_seconds, created/started/finished
 * (unix seconds), phases (seconds), attempts, error), or NULL for an
 * unknown id. */
LENS_API char *lens_jobs_get(lens_jobs *j, const char *id);
/* {"jobs": [...], "total": n, "limit", "offset"}, newest first; state -1:
 * all. NULL when out of memory. */
LENS_API char *lens_jobs_list(lens_jobs *j, int state, int limit, int offset);

/* LENS_ENOTFOUND for an unknown id, LENS_EINVAL when the state does not
 * allow it (lens_job_transition; the message says why). Submit, cancel, pause, resume and delete
 * fail (LENS_EIO, the job as it was) when jobs.db cannot take the change. */
LENS_API int lens_jobs_cancel(lens_jobs *j, const char *id, lens_error *err);
LENS_API int lens_jobs_pause(lens_jobs *j, const char *id, lens_error *err);
LENS_API int lens_jobs_resume(lens_jobs *j, const char *id, lens_error *err);
/* Stops the job if it runs, then removes it and its files. */
LENS_API int lens_jobs_delete(lens_jobs *j, const char *id, lens_error *err);

/* Path of a result file of a job (report.html, *.csv, report.json):
 * LENS_ENOTFOUND unless the job has it. */
LENS_API int lens_jobs_result(lens_jobs *j, const char *id, const char *file, char *path, size_t cap, lens_error *err);

/* Change notification: returns the version of job id (0 if it is gone)
 * once it is greater than after, or after timeout_ms. */
LENS_API uint64_t lens_jobs_wait(lens_jobs *j, const char *id, uint64_t after, int timeout_ms);
/* Jobs per state. */
LENS_API void lens_jobs_counts(lens_jobs *j, uint64_t counts[LENS_JOB_N_STATES]);

#ifdef __cplusplus
}
#endif
#endif
