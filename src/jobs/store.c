/* Jobs in SQLite: one row per job, written whole on every change. WAL and
 * synchronous=NORMAL: a crash of the process loses nothing; a power loss at
 * most the last progress update, which the job's checkpoint covers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "jobs_internal.h"

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA synchronous=NORMAL;"
    "CREATE TABLE IF NOT EXISTS jobs ("
    " id TEXT PRIMARY KEY, kind TEXT NOT NULL, state TEXT NOT NULL, params TEXT NOT NULL,"
    " created REAL NOT NULL, started REAL, finished REAL, not_before REAL, attempts INTEGER NOT NULL,"
    " error TEXT, progress TEXT);";

int lens__store_open(lens_jobs *j, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/jobs.db", j->data_dir);
    if (sqlite3_open_v2(path, &j->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL) !=
        SQLITE_OK) {
        int rc = lens_error_set(err, LENS_EIO, "%s: %s", path, j->db ? sqlite3_errmsg(j->db) : "cannot open");
        sqlite3_close(j->db);
        j->db = NULL;
        return rc;
    }
    sqlite3_busy_timeout(j->db, 5000);
    char *msg = NULL;
    if (sqlite3_exec(j->db, schema, NULL, NULL, &msg) != SQLITE_OK) {
        int rc = lens_error_set(err, LENS_EIO, "%s: %s", path, msg ? msg : "schema");
        sqlite3_free(msg);
        return rc;
    }
    return LENS_OK;
}

void lens__store_close(lens_jobs *j)
{
    sqlite3_close(j->db);
    j->db = NULL;
}

static json_t *progress_json(const job_entry *e)
{
    json_t *ph = json_array();
    for (int i = 0; i < PHASES; i++) json_array_append_new(ph, json_real(e->phases[i]));
    return json_pack("{sIsIsIsIsfsfso}", "processed", (json_int_t)e->processed, "total", (json_int_t)e->total, "chunk",
                     (json_int_t)e->chunk, "chunks", (json_int_t)e->chunks, "percent", e->percent, "eta", e->eta,
                     "phases", ph);
}

/* what went wrong, for a message; sqlite3_errmsg is the connection's last
 * error, and every caller holds mu */
static int store_error(lens_jobs *j, int code, lens_error *err, const char *what, const char *id)
{
    return lens_error_set(err, code == SQLITE_NOMEM ? LENS_ENOMEM : LENS_EIO, "jobs.db: cannot %s job %s: %s", what, id,
                          code == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(j->db));
}

int lens__store_put(lens_jobs *j, const job_entry *e, lens_error *err)
{
    static const char sql[] = "INSERT OR REPLACE INTO jobs(id, kind, state, params, created, started, finished,"
                              " not_before, attempts, error, progress) VALUES(?,?,?,?,?,?,?,?,?,?,?)";
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(j->db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK) return store_error(j, rc, err, "save", e->id);
    char *params = json_dumps(e->params, JSON_COMPACT);
    json_t *p = progress_json(e);
    char *prog = p ? json_dumps(p, JSON_COMPACT) : NULL;
    json_decref(p);
    if (!params || !prog) {
        sqlite3_finalize(st);
        free(params);
        free(prog);
        return lens_error_set(err, LENS_ENOMEM, "jobs.db: cannot save job %s: out of memory", e->id);
    }
    /* a bind fails only for want of memory; step then reports it */
    int b = sqlite3_bind_text(st, 1, e->id, -1, SQLITE_STATIC);
    if (!b) b = sqlite3_bind_text(st, 2, e->kind, -1, SQLITE_STATIC);
    if (!b) b = sqlite3_bind_text(st, 3, lens_job_state_name(e->state), -1, SQLITE_STATIC);
    if (!b) b = sqlite3_bind_text(st, 4, params, -1, SQLITE_TRANSIENT);
    if (!b) b = sqlite3_bind_double(st, 5, e->created);
    if (!b) b = sqlite3_bind_double(st, 6, e->started);
    if (!b) b = sqlite3_bind_double(st, 7, e->finished);
    if (!b) b = sqlite3_bind_double(st, 8, e->not_before);
    if (!b) b = sqlite3_bind_int(st, 9, e->attempts);
    if (!b) b = sqlite3_bind_text(st, 10, e->error, -1, SQLITE_STATIC);
    if (!b) b = sqlite3_bind_text(st, 11, prog, -1, SQLITE_TRANSIENT);
    rc = b ? b : sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? LENS_OK : store_error(j, rc, err, "save", e->id);
    sqlite3_finalize(st);
    free(params);
    free(prog);
    return ret;
}

int lens__store_delete(lens_jobs *j, const char *id, lens_error *err)
{
    sqlite3_stmt *st;
    int rc = sqlite3_prepare_v2(j->db, "DELETE FROM jobs WHERE id = ?", -1, &st, NULL);
    if (rc != SQLITE_OK) return store_error(j, rc, err, "delete", id);
    rc = sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
    if (!rc) rc = sqlite3_step(st);
    int ret = rc == SQLITE_DONE ? LENS_OK : store_error(j, rc, err, "delete", id);
    sqlite3_finalize(st);
    return ret;
}

static void load_progress(job_entry *e, const char *text)
{
    json_t *p = text ? json_loads(text, 0, NULL) : NULL;
    if (!p) return;
    e->processed = (uint64_t)json_integer_value(json_object_get(p, "processed"));
    e->total = (uint64_t)json_integer_value(json_object_get(p, "total"));
    e->chunk = (uint64_t)json_integer_value(json_object_get(p, "chunk"));
    e->chunks = (uint64_t)json_integer_value(json_object_get(p, "chunks"));
    e->percent = json_number_value(json_object_get(p, "percent"));
    e->eta = json_number_value(json_object_get(p, "eta"));
    json_t *ph = json_object_get(p, "phases");
    for (int i = 0; i < PHASES; i++) e->phases[i] = json_number_value(json_array_get(ph, (size_t)i));
    json_decref(p);
}

int lens__store_load(lens_jobs *j, lens_error *err)
{
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(j->db,
                           "SELECT id, kind, state, params, created, started, finished, not_before, attempts, error,"
                           " progress FROM jobs ORDER BY created",
                           -1, &st, NULL) != SQLITE_OK)
        return lens_error_set(err, LENS_EIO, "jobs.db: %s", sqlite3_errmsg(j->db));
    int rc = LENS_OK, step;
    while ((step = sqlite3_step(st)) == SQLITE_ROW) {
        job_entry *e = calloc(1, sizeof *e);
        if (!e || lens__grow((void **)&j->jobs, &j->cap, (size_t)j->n + 1, sizeof *j->jobs)) {
            free(e);
            rc = lens_error_set(err, LENS_ENOMEM, "jobs.db: out of memory");
            break;
        }
        const unsigned char *id = sqlite3_column_text(st, 0), *kind = sqlite3_column_text(st, 1);
        snprintf(e->id, sizeof e->id, "%s", id ? (const char *)id : "");
        snprintf(e->kind, sizeof e->kind, "%s", kind ? (const char *)kind : "");
        int s = lens_job_state_parse((const char *)sqlite3_column_text(st, 2));
        e->state = s < 0 ? LENS_JOB_FAILED : (lens_job_state)s;
        const unsigned char *params = sqlite3_column_text(st, 3);
        e->params = params ? json_loads((const char *)params, 0, NULL) : NULL;
        if (!e->params) e->params = json_object();
        e->created = sqlite3_column_double(st, 4);
        e->started = sqlite3_column_double(st, 5);
        e->finished = sqlite3_column_double(st, 6);
        e->not_before = sqlite3_column_double(st, 7);
        e->attempts = sqlite3_column_int(st, 8);
        const unsigned char *er = sqlite3_column_text(st, 9);
        snprintf(e->error, sizeof e->error, "%s", er ? (const char *)er : "");
        load_progress(e, (const char *)sqlite3_column_text(st, 10));
        e->ver = 1;
        j->jobs[j->n++] = e;
    }
    /* a read that fails half way must not pass for fewer jobs */
    if (!rc && step != SQLITE_DONE) rc = lens_error_set(err, LENS_EIO, "jobs.db: cannot read the jobs: %s", sqlite3_errmsg(j->db));
    sqlite3_finalize(st);
    return rc;
}
