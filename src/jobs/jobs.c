/* The job manager: a queue of jobs in memory, mirrored in SQLite, run by a
 * few worker threads (see lens/jobs.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fs.h"
#include "jobs_internal.h"
#include "jobs_json.h"

static const job_kind *const kinds[] = {&lens__job_kind_analyze, &lens__job_kind_project};
static const char *const state_names[LENS_JOB_N_STATES] = {"queued",    "running", "paused",  "succeeded",
                                                          "failed",    "cancelled", "pausing", "cancelling"};
static const char *const result_files[] = {"report.html", "report.csv", "report.json", "summaries.csv",
                                           "assignments.csv", "map.csv", "projection.csv"};

const char *lens_job_state_name(lens_job_state s) { return s < LENS_JOB_N_STATES ? state_names[s] : "?"; }

int lens_job_state_parse(const char *name)
{
    for (int i = 0; name && i < LENS_JOB_N_STATES; i++)
        if (!strcmp(name, state_names[i])) return i;
    return -1;
}

static int finished_state(lens_job_state s)
{
    return s == LENS_JOB_SUCCEEDED || s == LENS_JOB_FAILED || s == LENS_JOB_CANCELLED;
}

/* a worker has it: running, or stopping at its next check point */
static int active_state(lens_job_state s)
{
    return s == LENS_JOB_RUNNING || s == LENS_JOB_PAUSING || s == LENS_JOB_CANCELLING;
}

/* ---------------------------------------------------------------- the state machine */

enum { ACT_CANCEL, ACT_PAUSE, ACT_RESUME, N_ACTIONS };
static const char *const action_names[N_ACTIONS] = {"cancel", "pause", "resume"};
#define NO (-1)
/* state x action -> new state (the same state: nothing to do), NO: 409 */
static const int transitions[LENS_JOB_N_STATES][N_ACTIONS] = {
    /*                       cancel               pause              resume */
    [LENS_JOB_QUEUED] = {LENS_JOB_CANCELLED, LENS_JOB_PAUSED, LENS_JOB_QUEUED},
    [LENS_JOB_RUNNING] = {LENS_JOB_CANCELLING, LENS_JOB_PAUSING, LENS_JOB_RUNNING},
    [LENS_JOB_PAUSING] = {LENS_JOB_CANCELLING, LENS_JOB_PAUSING, NO},
    [LENS_JOB_PAUSED] = {LENS_JOB_CANCELLED, LENS_JOB_PAUSED, LENS_JOB_QUEUED},
    [LENS_JOB_CANCELLING] = {LENS_JOB_CANCELLING, NO, NO},
    [LENS_JOB_CANCELLED] = {LENS_JOB_CANCELLED, NO, NO},
    [LENS_JOB_SUCCEEDED] = {NO, NO, NO},
    [LENS_JOB_FAILED] = {NO, NO, NO},
};

static int action_parse(const char *name)
{
    for (int i = 0; name && i < N_ACTIONS; i++)
        if (!strcmp(name, action_names[i])) return i;
    return -1;
}

int lens_job_transition(lens_job_state from, const char *action)
{
    int a = action_parse(action);
    if (a < 0 || (unsigned)from >= LENS_JOB_N_STATES) return -1;
    return transitions[from][a];
}

static job_entry *find(lens_jobs *j, const char *id)
{
    for (int i = 0; i < j->n; i++)
        if (!strcmp(j->jobs[i]->id, id)) return j->jobs[i];
    return NULL;
}

static void job_dir(const lens_jobs *j, const char *id, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/jobs/%s", j->data_dir, id);
}

static void log_line(lens_jobs *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(lens_jobs *j, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (j->o.log) j->o.log(j->o.log_ctx, line);
    else fprintf(stderr, "lens: jobs: %s\n", line);
}

/* Writes e's row. A failure is logged once per job until a write lands
 * again; a background change stays unsaved and is written again (the row
 * goes whole, so the latest state wins). Called with mu held. */
static int save(lens_jobs *j, job_entry *e, lens_error *err)
{
    lens_error local;
    if (!err) err = &local;
    int rc = lens__store_put(j, e, err);
    if (rc) {
        if (!e->unsaved) log_line(j, "%s", err->msg);
        j->store_retry_at = lens__clock_mono() + 1;
    } else if (e->unsaved) {
        log_line(j, "jobs.db: job %s saved again", e->id);
    }
    e->unsaved = rc != 0;
    return rc;
}

/* A change the job service makes itself (a worker starts or ends a job,
 * progress): persist it and wake whoever waits. It stands even when jobs.db
 * cannot take it yet (the job did run); save logs that and the workers
 * write it again. Called with mu held. */
static void touch(lens_jobs *j, job_entry *e)
{
    e->ver = ++j->ver;
    save(j, e, NULL);
    pthread_cond_broadcast(&j->changed);
}

/* A change a caller asks for: it counts only once jobs.db has it; the
 * caller undoes it on failure. Called with mu held. */
static int commit(lens_jobs *j, job_entry *e, lens_error *err)
{
    int rc = lens__store_put(j, e, err);
    if (rc) {
        log_line(j, "%s", err->msg);
        return rc;
    }
    if (e->unsaved) log_line(j, "jobs.db: job %s saved again", e->id);
    e->unsaved = 0;
    e->ver = ++j->ver;
    pthread_cond_broadcast(&j->changed);
    return LENS_OK;
}

/* Writes the unsaved jobs again, at most once a second after a failure
 * (each try may wait out SQLite's busy timeout). Called with mu held. */
static void retry_unsaved(lens_jobs *j)
{
    if (lens__clock_mono() < j->store_retry_at) return;
    for (int i = 0; i < j->n; i++)
        if (j->jobs[i]->unsaved && save(j, j->jobs[i], NULL)) return;
}

static void free_entry(job_entry *e)
{
    if (!e) return;
    json_decref(e->params);
    free(e);
}

/* Removes e from jobs.db, then its files and e itself; nothing when jobs.db
 * cannot take it. Called with mu held. */
static int remove_entry(lens_jobs *j, job_entry *e, lens_error *err)
{
    int rc = lens__store_delete(j, e->id, err);
    if (rc) {
        log_line(j, "%s", err->msg);
        j->store_retry_at = lens__clock_mono() + 1;
        return rc;
    }
    char dir[4200];
    lens_error rm;
    job_dir(j, e->id, dir, sizeof dir);
    if (lens__rmtree(dir, &rm)) log_line(j, "job %s is removed but its files are not: %s", e->id, rm.msg);
    for (int i = 0; i < j->n; i++)
        if (j->jobs[i] == e) {
            memmove(j->jobs + i, j->jobs + i + 1, (size_t)(j->n - i - 1) * sizeof *j->jobs);
            j->n--;
            break;
        }
    j->ver++;
    pthread_cond_broadcast(&j->changed);
    free_entry(e);
    return LENS_OK;
}

static const job_kind *kind_of(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i]->name, name)) return kinds[i];
    return NULL;
}

/* ---------------------------------------------------------------- params */

int lens__job_fields(json_t *params, const char *kind, const char *const *fields, lens_error *err)
{
    const char *key;
    json_t *v;
    json_object_foreach(params, key, v) {
        int known = 0;
        for (int i = 0; fields[i]; i++) known |= !strcmp(key, fields[i]);
        if (known) continue;
        char list[512] = "";
        for (int i = 0; fields[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "", fields[i]);
        return lens_error_set(err, LENS_EINVAL, "unknown field '%s' (%s takes %s)", key, kind, list);
    }
    return LENS_OK;
}

int lens__job_number(json_t *params, const char *name, double lo, double hi, int integer, double *out, lens_error *err)
{
    json_t *v = json_object_get(params, name);
    if (!v) return LENS_OK;
    if (!(integer ? json_is_integer(v) : json_is_number(v)) || json_number_value(v) < lo || json_number_value(v) > hi)
        return lens_error_set(err, LENS_EINVAL, "'%s' must be %s in %g..%g", name, integer ? "an integer" : "a number",
                              lo, hi);
    *out = json_number_value(v);
    return LENS_OK;
}

/* ---------------------------------------------------------------- paths */

const char *lens__job_root(const lens_jobs *j, const char *dir, const char *path)
{
    size_t n = strlen(dir);
    if (path && !strncmp(path, dir, n) && path[n] == '/') return dir;
    return j->data_root[0] ? j->data_root : NULL;
}

/* removes every occurrence of what from s */
static void cut(char *s, const char *what)
{
    size_t n = strlen(what);
    for (char *m; n && (m = strstr(s, what));) memmove(m, m + n, strlen(m + n) + 1);
}

/* replaces every occurrence of what in s (capacity cap) by with */
static void swap_text(char *s, size_t cap, const char *what, const char *with)
{
    size_t n = strlen(what), w = strlen(with);
    for (char *m = strstr(s, what); m; m = strstr(m + w, what)) {
        size_t rest = strlen(m + n);
        if ((size_t)(m - s) + w + rest + 1 > cap) return;
        memmove(m + w, m + n, rest + 1);
        memcpy(m, with, w);
    }
}

void lens__job_clean_msg(const lens_jobs *j, const char *id, char *msg, size_t cap)
{
    /* the job's own files by name: "/any/prefix/jobs/ID/input/x.csv" -> "x.csv" */
    char marker[64];
    snprintf(marker, sizeof marker, "/jobs/%s/", id);
    for (char *m; (m = strstr(msg, marker));) {
        char *start = m, *end = m + strlen(marker);
        while (start > msg && start[-1] != ' ' && start[-1] != '\'' && start[-1] != '"') start--;
        if (!strncmp(end, "input/", 6)) end += 6;
        memmove(start, end, strlen(end) + 1);
    }
    if (j->data_root[0] && strcmp(j->data_root, "/")) { /* a root of / hides nothing */
        char root[4200];
        snprintf(root, sizeof root, "%s/", j->data_root);
        cut(msg, root);
        cut(msg, j->data_root); /* the root itself */
    }
    static const char *const flags[][2] = {
        {"--app-column", "'app_column'"},       {"--text-column", "'text_column'"},
        {"--voted-column", "'voted_column'"},   {"--language-column", "'language_column'"},
        {"--name-column", "'name_column'"},     {"--id-column", "'id_column'"},
        {"--sentiment vader", "'sentiment': \"vader\""}, {"--top-k", "'top_k'"},
        {"--chunk", "'chunk'"},
    };
    for (size_t i = 0; i < sizeof flags / sizeof *flags; i++) swap_text(msg, cap, flags[i][0], flags[i][1]);
}

/* a path as clients see it: relative to the job's directory or the data root */
static json_t *shown_path(const lens_jobs *j, const char *id, json_t *v)
{
    if (!json_is_string(v)) return json_incref(v);
    char p[4400];
    snprintf(p, sizeof p, "%s", json_string_value(v));
    lens__job_clean_msg(j, id, p, sizeof p);
    return json_string(p[0] ? p : "."); /* the root itself */
}

static json_t *shown_params(const lens_jobs *j, const job_entry *e)
{
    json_t *p = json_deep_copy(e->params);
    static const char *const single[] = {"themes", "input"};
    for (int i = 0; i < 2; i++) {
        json_t *v = json_object_get(p, single[i]);
        if (v) json_object_set_new(p, single[i], shown_path(j, e->id, v));
    }
    json_t *in = json_object_get(p, "inputs");
    for (size_t i = 0; i < json_array_size(in); i++) json_array_set_new(in, i, shown_path(j, e->id, json_array_get(in, i)));
    return p;
}

/* ---------------------------------------------------------------- workers */

void lens__job_progress(job_run *r, uint64_t processed, double fraction, uint64_t chunk_rows, const double phases[PHASES])
{
    lens_jobs *j = r->jobs;
    job_entry *e = r->e;
    double now = lens__clock_mono();
    pthread_mutex_lock(&j->mu);
    if (r->first) { /* where the run stood when its work began (after setup) is the ETA's baseline */
        r->f0 = fraction;
        r->t0 = now;
    }
    r->first = 0;
    e->processed = processed;
    if (fraction >= 0) e->percent = fraction >= 1 ? 100 : 100 * fraction;
    if (r->total) e->total = r->total;
    else if (fraction > 0) e->total = (uint64_t)llround((double)processed / fraction);
    if (e->total < processed) e->total = processed;
    e->chunk = chunk_rows ? (processed + chunk_rows - 1) / chunk_rows : 0;
    e->chunks = chunk_rows ? (e->total + chunk_rows - 1) / chunk_rows : 0;
    double done = fraction - r->f0;
    e->eta = done > 1e-6 ? (now - r->t0) * (1 - fraction) / done : -1;
    memcpy(e->phases, phases, sizeof e->phases);
    touch(j, e);
    pthread_mutex_unlock(&j->mu);
}

/* The oldest queued job whose retry time has come; *wait: seconds until
 * the next one will be ready. */
static job_entry *next_ready(lens_jobs *j, double *wait)
{
    double now = lens__clock_wall();
    job_entry *best = NULL;
    *wait = 1.0;
    for (int i = 0; i < j->n; i++) {
        job_entry *e = j->jobs[i];
        if (e->state != LENS_JOB_QUEUED) continue;
        if (e->not_before > now) {
            if (e->not_before - now < *wait) *wait = e->not_before - now;
            continue;
        }
        if (!best || e->created < best->created) best = e;
    }
    return best;
}

static void expire(lens_jobs *j)
{
    if (j->o.expire_s < 0 || lens__clock_mono() < j->store_retry_at) return;
    double now = lens__clock_wall();
    for (int i = 0; i < j->n; i++) {
        job_entry *e = j->jobs[i];
        if (finished_state(e->state) && e->finished > 0 && now - e->finished > j->o.expire_s) {
            lens_error err;
            if (remove_entry(j, e, &err)) return; /* tried again after a while */
            i--;
        }
    }
}

static void *worker(void *arg)
{
    lens_jobs *j = arg;
    pthread_mutex_lock(&j->mu);
    while (!j->closing) {
        retry_unsaved(j);
        expire(j);
        double wait;
        job_entry *e = next_ready(j, &wait);
        if (!e) {
            struct timespec ts = lens__clock_deadline(wait > 0.01 ? wait : 0.01);
            pthread_cond_timedwait(&j->wake, &j->mu, &ts);
            continue;
        }
        const job_kind *k = kind_of(e->kind);
        e->state = LENS_JOB_RUNNING;
        if (!e->started) e->started = lens__clock_wall();
        atomic_store(&e->stop, 0);
        e->stop_reason = STOP_NONE;
        e->eta = -1;
        touch(j, e);
        job_run r = {.jobs = j, .e = e, .t0 = lens__clock_mono(), .first = 1};
        job_dir(j, e->id, r.dir, sizeof r.dir);
        pthread_mutex_unlock(&j->mu);
        lens_error err = {0};
        int rc = k ? k->run(&r, &err) : lens_error_set(&err, LENS_EUNSUP, "unknown job kind %s", e->kind);
        pthread_mutex_lock(&j->mu);
        e->eta = -1;
        if (rc == LENS_OK) {
            e->state = LENS_JOB_SUCCEEDED;
            e->percent = 100;
            e->eta = 0;
            e->error[0] = '\0';
            e->finished = lens__clock_wall();
        } else if (e->stop_reason == STOP_CANCEL || e->stop_reason == STOP_DELETE) {
            /* asked to cancel: cancelled, whatever else went wrong meanwhile */
            e->state = LENS_JOB_CANCELLED;
            e->finished = lens__clock_wall();
        } else if (rc == LENS_ECANCEL && e->stop_reason != STOP_NONE) {
            e->state = e->stop_reason == STOP_PAUSE ? LENS_JOB_PAUSED : LENS_JOB_QUEUED;
        } else {
            /* tried again from its checkpoint after a growing delay, unless
             * trying again cannot help: bad input or options */
            int permanent = rc == LENS_EINVAL || rc == LENS_EFORMAT || rc == LENS_EUNSUP;
            e->attempts++;
            lens__job_clean_msg(j, e->id, err.msg, sizeof err.msg);
            snprintf(e->error, sizeof e->error, "%s", err.msg);
            if (permanent || e->attempts >= j->o.max_attempts) {
                e->state = LENS_JOB_FAILED;
                e->finished = lens__clock_wall();
            } else {
                /* a pause asked for meanwhile holds it */
                e->state = e->stop_reason == STOP_PAUSE ? LENS_JOB_PAUSED : LENS_JOB_QUEUED;
                e->not_before = lens__clock_wall() + j->o.retry_base_s * pow(2, e->attempts - 1);
            }
        }
        atomic_store(&e->stop, 0);
        touch(j, e);
    }
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

/* ---------------------------------------------------------------- API */

int lens_jobs_open(lens_jobs **out, const lens_jobs_opts *o, lens_error *err)
{
    *out = NULL;
    lens_jobs *j = calloc(1, sizeof *j);
    if (!j) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    j->o = *o;
    if (j->o.max_running <= 0) j->o.max_running = 1;
    if (j->o.max_attempts <= 0) j->o.max_attempts = 3;
    if (j->o.retry_base_s <= 0) j->o.retry_base_s = 2;
    if (j->o.expire_s == 0) j->o.expire_s = 7 * 86400.0;
    snprintf(j->data_dir, sizeof j->data_dir, "%s", o->data_dir);
    if (o->data_root && *o->data_root && !realpath(o->data_root, j->data_root)) {
        int e = errno;
        free(j);
        return lens_error_set(err, LENS_ENOTFOUND, "data root %s: %s", o->data_root, strerror(e));
    }
    j->o.data_root = j->data_root[0] ? j->data_root : NULL;
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->wake, NULL);
    pthread_cond_init(&j->changed, NULL);
    char dir[4200];
    snprintf(dir, sizeof dir, "%s/jobs", j->data_dir);
    int rc = lens__mkdirs(dir, err);
    if (!rc) rc = lens__store_open(j, err);
    if (!rc) rc = lens__store_load(j, err);
    if (rc) {
        lens_jobs_close(j);
        return rc;
    }
    /* jobs a dead process was running go on from their checkpoints; a store
     * that cannot take that is no store to run on */
    for (int i = 0; i < j->n && !rc; i++) {
        job_entry *e = j->jobs[i];
        if (!active_state(e->state)) continue;
        /* a pause or cancel the dead process was carrying out is done: the job stopped */
        if (e->state == LENS_JOB_PAUSING) e->state = LENS_JOB_PAUSED;
        else if (e->state == LENS_JOB_CANCELLING) {
            e->state = LENS_JOB_CANCELLED;
            e->finished = lens__clock_wall();
        } else e->state = LENS_JOB_QUEUED;
        rc = commit(j, e, err);
    }
    if (rc) {
        lens_jobs_close(j);
        return rc;
    }
    j->workers = calloc((size_t)j->o.max_running, sizeof *j->workers);
    for (int i = 0; j->workers && i < j->o.max_running; i++)
        if (pthread_create(&j->workers[i], NULL, worker, j) == 0) j->n_workers++;
    if (!j->n_workers) {
        lens_jobs_close(j);
        return lens_error_set(err, LENS_ENOMEM, "jobs: cannot start worker threads");
    }
    *out = j;
    return LENS_OK;
}

void lens_jobs_close(lens_jobs *j)
{
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->closing = 1;
    for (int i = 0; i < j->n; i++)
        if (j->jobs[i]->state == LENS_JOB_RUNNING) { /* pausing and cancelling ones keep their reason */
            j->jobs[i]->stop_reason = STOP_SHUTDOWN;
            atomic_store(&j->jobs[i]->stop, 1);
        }
    pthread_cond_broadcast(&j->wake);
    pthread_cond_broadcast(&j->changed);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->n_workers; i++) pthread_join(j->workers[i], NULL);
    free(j->workers);
    /* a last try for what jobs.db could not take; what still fails is logged */
    for (int i = 0; j->db && i < j->n; i++)
        if (j->jobs[i]->unsaved && save(j, j->jobs[i], NULL))
            log_line(j, "job %s closes with its last change not in jobs.db", j->jobs[i]->id);
    for (int i = 0; i < j->n; i++) free_entry(j->jobs[i]);
    free(j->jobs);
    if (j->db) lens__store_close(j);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->wake);
    pthread_cond_destroy(&j->changed);
    free(j);
}

int lens_jobs_prepare(lens_jobs *j, char id[33], char *input_dir, size_t cap, lens_error *err)
{
    unsigned char r[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    if (fd < 0 || read(fd, r, sizeof r) != (ssize_t)sizeof r) {
        if (fd >= 0) close(fd);
        return lens_error_set(err, LENS_EIO, "/dev/urandom: %s", strerror(errno));
    }
    close(fd);
    for (int i = 0; i < 16; i++) snprintf(id + 2 * i, 3, "%02x", r[i]);
    char dir[4200];
    job_dir(j, id, dir, sizeof dir);
    snprintf(input_dir, cap, "%s/input", dir);
    return lens__mkdirs(input_dir, err);
}

void lens_jobs_discard(lens_jobs *j, const char *id)
{
    char dir[4200];
    lens_error err;
    job_dir(j, id, dir, sizeof dir);
    lens__rmtree(dir, &err);
}

int lens__jobs_submit_obj(lens_jobs *j, const char *id, const char *kind, json_t *params, lens_error *err)
{
    const job_kind *k = kind_of(kind);
    if (!k) return lens_error_set(err, LENS_EINVAL, "unknown job kind '%s' (known: analyze, project)", kind);
    if (!json_is_object(params)) return lens_error_set(err, LENS_EINVAL, "params must be a JSON object");
    char dir[4200];
    job_dir(j, id, dir, sizeof dir);
    int rc = k->check(j, params, dir, err);
    if (rc) {
        lens__job_clean_msg(j, id, err->msg, sizeof err->msg);
        return rc;
    }
    job_entry *e = calloc(1, sizeof *e);
    if (!e) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    snprintf(e->id, sizeof e->id, "%s", id);
    snprintf(e->kind, sizeof e->kind, "%s", kind);
    e->params = json_incref(params);
    e->state = LENS_JOB_QUEUED;
    e->created = lens__clock_wall();
    e->eta = -1;
    pthread_mutex_lock(&j->mu);
    if (lens__grow((void **)&j->jobs, &j->cap, (size_t)j->n + 1, sizeof *j->jobs)) {
        pthread_mutex_unlock(&j->mu);
        free_entry(e);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    if ((rc = commit(j, e, err))) { /* not queued: the caller discards its directory */
        pthread_mutex_unlock(&j->mu);
        free_entry(e);
        return rc;
    }
    j->jobs[j->n++] = e;
    pthread_cond_signal(&j->wake);
    pthread_mutex_unlock(&j->mu);
    return LENS_OK;
}

static json_t *time_or_null(double t) { return t > 0 ? json_real(floor(t * 1000) / 1000) : json_null(); }

static json_t *describe(lens_jobs *j, const job_entry *e)
{
    static const char *phase_names[PHASES] = {"read", "embed", "assign", "summarize", "write"};
    json_t *ph = json_object();
    for (int i = 0; i < PHASES; i++) json_object_set_new(ph, phase_names[i], json_real(round(e->phases[i] * 1000) / 1000));
    json_t *prog = json_pack("{sIsIsfsIsI}", "processed", (json_int_t)e->processed, "total", (json_int_t)e->total,
                             "percent", round(e->percent * 10) / 10, "chunk", (json_int_t)e->chunk, "chunks",
                             (json_int_t)e->chunks);
    json_t *o = json_pack("{sssssssososososososisoso}", "id", e->id, "kind", e->kind, "state",
                          lens_job_state_name(e->state), "progress", prog, "eta_seconds",
                          e->state == LENS_JOB_RUNNING && e->eta >= 0 ? json_real(round(e->eta * 10) / 10) : json_null(),
                          "created", time_or_null(e->created), "started", time_or_null(e->started), "finished",
                          time_or_null(e->finished), "phases", ph, "attempts", e->attempts, "error",
                          e->error[0] ? json_string(e->error) : json_null(), "params", shown_params(j, e));
    if (e->state == LENS_JOB_QUEUED && e->not_before > lens__clock_wall())
        json_object_set_new(o, "retry_at", json_real(floor(e->not_before)));
    if (e->state == LENS_JOB_SUCCEEDED) {
        json_t *files = json_array();
        char dir[4200], p[4400];
        job_dir(j, e->id, dir, sizeof dir);
        for (size_t i = 0; i < sizeof result_files / sizeof *result_files; i++) {
            snprintf(p, sizeof p, "%s/out/%s", dir, result_files[i]);
            if (lens__is_file(p)) json_array_append_new(files, json_string(result_files[i]));
        }
        json_object_set_new(o, "results", files);
    }
    return o;
}

json_t *lens__jobs_get_obj(lens_jobs *j, const char *id)
{
    pthread_mutex_lock(&j->mu);
    job_entry *e = find(j, id);
    json_t *o = e ? describe(j, e) : NULL;
    pthread_mutex_unlock(&j->mu);
    return o;
}

json_t *lens__jobs_list_obj(lens_jobs *j, int state, int limit, int offset)
{
    json_t *arr = json_array();
    int total = 0;
    pthread_mutex_lock(&j->mu);
    for (int i = j->n - 1; i >= 0; i--) { /* newest first: jobs are kept in creation order */
        job_entry *e = j->jobs[i];
        if (state >= 0 && (int)e->state != state) continue;
        if (total >= offset && total < offset + limit) json_array_append_new(arr, describe(j, e));
        total++;
    }
    pthread_mutex_unlock(&j->mu);
    return json_pack("{sosisisi}", "jobs", arr, "total", total, "limit", limit, "offset", offset);
}

/* The public API in JSON text, over the objects above. */
int lens_jobs_submit(lens_jobs *j, const char *id, const char *kind, const char *params_json, lens_error *err)
{
    json_error_t je;
    json_t *params = json_loads(params_json ? params_json : "", JSON_REJECT_DUPLICATES, &je);
    if (!params) return lens_error_set(err, LENS_EINVAL, "params: %s at line %d, column %d", je.text, je.line, je.column);
    int rc = lens__jobs_submit_obj(j, id, kind, params, err);
    json_decref(params);
    return rc;
}

static char *dump(json_t *o)
{
    char *s = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    return s;
}

char *lens_jobs_get(lens_jobs *j, const char *id) { return dump(lens__jobs_get_obj(j, id)); }

char *lens_jobs_list(lens_jobs *j, int state, int limit, int offset)
{
    return dump(lens__jobs_list_obj(j, state, limit, offset));
}

/* Applies the state machine's action to job id; *changed: 0 when the job
 * was already there (nothing done). */
int lens__jobs_control(lens_jobs *j, const char *id, const char *action, int *changed, lens_error *err)
{
    int what = action_parse(action);
    if (changed) *changed = 0;
    if (what < 0) return lens_error_set(err, LENS_EINVAL, "unknown action '%s'", action ? action : "");
    pthread_mutex_lock(&j->mu);
    job_entry *e = find(j, id);
    if (!e) {
        pthread_mutex_unlock(&j->mu);
        return lens_error_set(err, LENS_ENOTFOUND, "no job %s", id);
    }
    int to = transitions[e->state][what], rc = LENS_OK;
    if (to == NO) {
        rc = lens_error_set(err, LENS_EINVAL, "cannot %s job %s: it is %s%s", action_names[what], id,
                            lens_job_state_name(e->state),
                            e->state == LENS_JOB_PAUSING ? " (resume it once it is paused)"
                            : e->state == LENS_JOB_CANCELLING ? " (a cancel is under way)" : "");
    } else if (to != (int)e->state) {
        if (changed) *changed = 1;
        if (active_state(e->state)) {
            /* the worker sees the flag at the job's next check point and moves
             * the job on by stop_reason; the change stands even when jobs.db
             * cannot take it yet (touch writes it again) */
            e->state = (lens_job_state)to;
            e->stop_reason = to == LENS_JOB_PAUSING ? STOP_PAUSE : STOP_CANCEL;
            atomic_store(&e->stop, 1);
            touch(j, e);
        } else {
            /* undone when jobs.db cannot take it */
            lens_job_state state = e->state;
            double finished = e->finished, not_before = e->not_before;
            e->state = (lens_job_state)to;
            if (to == LENS_JOB_CANCELLED) e->finished = lens__clock_wall();
            if (to == LENS_JOB_QUEUED) e->not_before = 0;
            if ((rc = commit(j, e, err))) {
                e->state = state;
                e->finished = finished;
                e->not_before = not_before;
            } else if (to == LENS_JOB_QUEUED) {
                pthread_cond_signal(&j->wake);
            }
        }
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int lens_jobs_cancel(lens_jobs *j, const char *id, lens_error *err) { return lens__jobs_control(j, id, "cancel", NULL, err); }
int lens_jobs_pause(lens_jobs *j, const char *id, lens_error *err) { return lens__jobs_control(j, id, "pause", NULL, err); }
int lens_jobs_resume(lens_jobs *j, const char *id, lens_error *err) { return lens__jobs_control(j, id, "resume", NULL, err); }

int lens_jobs_delete(lens_jobs *j, const char *id, lens_error *err)
{
    pthread_mutex_lock(&j->mu);
    job_entry *e = find(j, id);
    if (!e) {
        pthread_mutex_unlock(&j->mu);
        return lens_error_set(err, LENS_ENOTFOUND, "no job %s", id);
    }
    if (active_state(e->state)) {
        e->stop_reason = STOP_DELETE;
        atomic_store(&e->stop, 1);
        while (find(j, id) == e && active_state(e->state)) pthread_cond_wait(&j->changed, &j->mu);
    }
    int rc = find(j, id) == e ? remove_entry(j, e, err) : LENS_OK;
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int lens_jobs_result(lens_jobs *j, const char *id, const char *file, char *path, size_t cap, lens_error *err)
{
    int known = 0;
    for (size_t i = 0; i < sizeof result_files / sizeof *result_files; i++) known |= !strcmp(file, result_files[i]);
    if (!known) return lens_error_set(err, LENS_ENOTFOUND, "no result file '%s' (report.html, report.csv, "
                                                           "report.json, summaries.csv, assignments.csv, map.csv, "
                                                           "projection.csv)", file);
    pthread_mutex_lock(&j->mu);
    job_entry *e = find(j, id);
    int rc = LENS_OK;
    if (!e) rc = lens_error_set(err, LENS_ENOTFOUND, "no job %s", id);
    else if (e->state != LENS_JOB_SUCCEEDED)
        rc = lens_error_set(err, LENS_ENOTFOUND, "job %s is %s: results come when it has succeeded", id,
                            lens_job_state_name(e->state));
    else {
        char dir[4200];
        job_dir(j, id, dir, sizeof dir);
        snprintf(path, cap, "%s/out/%s", dir, file);
        if (!lens__is_file(path)) rc = lens_error_set(err, LENS_ENOTFOUND, "job %s has no %s", id, file);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

uint64_t lens_jobs_wait(lens_jobs *j, const char *id, uint64_t after, int timeout_ms)
{
    struct timespec ts = lens__clock_deadline(timeout_ms * 1e-3);
    pthread_mutex_lock(&j->mu);
    uint64_t v = 0;
    for (;;) {
        job_entry *e = find(j, id);
        v = e ? e->ver : 0;
        if (!e || v > after || j->closing) break;
        if (pthread_cond_timedwait(&j->changed, &j->mu, &ts) == ETIMEDOUT) {
            e = find(j, id);
            v = e ? e->ver : 0;
            break;
        }
    }
    pthread_mutex_unlock(&j->mu);
    return v;
}

void lens_jobs_counts(lens_jobs *j, uint64_t counts[LENS_JOB_N_STATES])
{
    memset(counts, 0, LENS_JOB_N_STATES * sizeof *counts);
    pthread_mutex_lock(&j->mu);
    for (int i = 0; i < j->n; i++) counts[j->jobs[i]->state]++;
    pthread_mutex_unlock(&j->mu);
}
