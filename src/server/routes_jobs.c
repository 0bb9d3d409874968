/* Job routes: POST /v1/jobs (multipart upload or JSON naming files under
 * the data root), GET /v1/jobs[/{id}], POST /v1/jobs/{id}/cancel|pause|
 * resume, DELETE /v1/jobs/{id}, GET /v1/jobs/{id}/events (Server-Sent
 * Events) and GET /v1/jobs/{id}/results/{file}. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/clock.h"
#include "base/fs.h"
#include "server_internal.h"

/* ---------------------------------------------------------------- upload */

typedef struct upload {
    lens_server *s;
    struct MHD_PostProcessor *pp;
    char id[33], input_dir[4300], themes_path[4400];
    json_t *inputs;  /* paths written so far */
    char *options;   /* the "options" field: JSON */
    char kind[16];   /* the "kind" field: analyze (default) or project */
    size_t options_len;
    FILE *f;         /* the file being written */
    char part[256];  /* its name, as the client gave it */
    size_t total;
    int has_themes, has_kind; /* parts seen */
    int status;      /* 0, or the 4xx to answer */
    char msg[600];
} upload;

static void upload_fail(upload *u, int status, const char *msg, const char *arg)
{
    if (u->status) return;
    u->status = status;
    snprintf(u->msg, sizeof u->msg, msg, arg);
}

/* The part written so far is complete: synced, as the job it becomes an
 * input of must find it whole after a crash. */
static void close_part(upload *u)
{
    if (!u->f) return;
    int e = fflush(u->f) != 0 || fsync(fileno(u->f)) != 0 ? errno : 0;
    if (fclose(u->f) != 0 && !e) e = errno;
    u->f = NULL;
    if (e) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %s", u->part, strerror(e));
        upload_fail(u, 500, "cannot write the upload %s", msg);
    }
}

/* length of n's review-file extension (".csv.zst" ...), 0 without one */
static size_t review_ext(const char *n)
{
    static const char *ext[] = {".csv.zst", ".jsonl.zst", ".ndjson.zst", ".txt.zst", ".csv", ".jsonl", ".ndjson",
                                ".parquet", ".txt", ".npy"};
    size_t len = strlen(n);
    for (size_t i = 0; i < sizeof ext / sizeof *ext; i++) {
        size_t m = strlen(ext[i]);
        if (len > m && !strcmp(n + len - m, ext[i])) return m;
    }
    return 0;
}

/* The name an uploaded file is kept under: the client's base name with
 * every byte but [A-Za-z0-9._-] replaced by '_' ("steam reviews (1).csv"
 * -> "steam_reviews__1_.csv"), no leading dot, at most 120 bytes before
 * the extension. 0 when it is only dots and spaces before the extension or
 * its extension is not a review file's. */
static int clean_name(const char *given, char *out, size_t cap)
{
    const char *b = given ? given : "";
    for (const char *p = b; *p; p++)
        if (*p == '/' || *p == '\\') b = p + 1; /* browsers may send a path */
    size_t n = strlen(b), ext = review_ext(b);
    if (!ext || n - ext == 0 || cap < 128 + ext) return 0;
    size_t stem = n - ext < 120 ? n - ext : 120, k = 0;
    for (size_t i = 0; i < stem; i++) {
        char c = b[i];
        int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
                 (c == '.' && i > 0);
        out[k++] = ok ? c : '_';
    }
    memcpy(out + k, b + n - ext, ext + 1);
    size_t filler = 0; /* dots and spaces are no name ("..csv", " .csv") */
    while (filler < stem && (b[filler] == '.' || b[filler] == ' ')) filler++;
    return filler < stem;
}

static enum MHD_Result on_field(void *cls, enum MHD_ValueKind kind, const char *key, const char *filename,
                                const char *content_type, const char *transfer_encoding, const char *data,
                                uint64_t off, size_t size)
{
    (void)kind;
    (void)content_type;
    (void)transfer_encoding;
    upload *u = cls;
    if (u->status) return MHD_YES; /* keep reading; the error is answered at the end */
    if (!key) { /* a part without Content-Disposition: form-data; name="..." */
        upload_fail(u, 400, "a form part has no name (Content-Disposition: form-data; name=...)%s", "");
        return MHD_YES;
    }
    u->total += size;
    if (u->total > u->s->o.max_upload) {
        upload_fail(u, 413, "upload larger than the limit (--max-upload)%s", "");
        return MHD_YES;
    }
    if (off == 0 && ((!strcmp(key, "kind") && u->has_kind++) || (!strcmp(key, "options") && u->options))) {
        upload_fail(u, 400, "form field '%s' given twice", key);
        return MHD_YES;
    }
    if (!strcmp(key, "kind")) {
        if (off + size >= sizeof u->kind) {
            upload_fail(u, 400, "form field 'kind' must be analyze or project%s", "");
            return MHD_YES;
        }
        memcpy(u->kind + off, data, size);
        u->kind[off + size] = '\0';
        return MHD_YES;
    }
    if (!strcmp(key, "options")) {
        char *b = realloc(u->options, u->options_len + size + 1);
        if (!b) return MHD_NO;
        memcpy(b + u->options_len, data, size);
        u->options = b;
        u->options_len += size;
        b[u->options_len] = '\0';
        return MHD_YES;
    }
    int is_themes = !strcmp(key, "themes");
    if (!is_themes && strcmp(key, "files")) {
        upload_fail(u, 400, "unknown form field '%s' (files, themes, options, kind)", key);
        return MHD_YES;
    }
    if (off == 0) { /* a new part */
        close_part(u);
        if (u->status) return MHD_YES;
        char path[4600];
        char name[256];
        if (is_themes) {
            if (u->has_themes++) {
                upload_fail(u, 400, "form field 'themes' given twice%s", "");
                return MHD_YES;
            }
            snprintf(path, sizeof path, "%s", u->themes_path);
            snprintf(name, sizeof name, "themes.json");
        } else {
            if (!clean_name(filename, name, sizeof name)) {
                char shown[200];
                snprintf(shown, sizeof shown, "%s", filename ? filename : "");
                upload_fail(u, 400, "file name '%s' must have a name and end in .csv, .jsonl, .ndjson, .txt "
                                    "(optionally .zst), .parquet or .npy", shown);
                return MHD_YES;
            }
            /* two uploads cleaned to one name: the later gets -2, -3, ... before its extension */
            size_t ext = review_ext(name), stem = strlen(name) - ext;
            char base[256];
            snprintf(base, sizeof base, "%s", name);
            for (int k = 2, taken = 1; taken; k++) {
                snprintf(path, sizeof path, "%s/%s", u->input_dir, name);
                taken = 0;
                for (size_t i = 0; i < json_array_size(u->inputs); i++)
                    taken |= !strcmp(json_string_value(json_array_get(u->inputs, i)), path);
                if (taken) snprintf(name, sizeof name, "%.*s-%d%s", (int)stem, base, k, base + stem);
            }
            json_array_append_new(u->inputs, json_string(path));
        }
        snprintf(u->part, sizeof u->part, "%s", name);
        if (!(u->f = fopen(path, "wb"))) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s: %s", u->part, strerror(errno));
            upload_fail(u, 500, "cannot write the upload %s", msg);
            return MHD_YES;
        }
    }
    if (u->f && size && fwrite(data, 1, size, u->f) != size) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s: %s", u->part, strerror(errno));
        upload_fail(u, 500, "cannot write the upload %s", msg);
    }
    return MHD_YES;
}

void lens__upload_free(lens__req *r)
{
    upload *u = r->upload;
    if (!u) return;
    if (u->pp) MHD_destroy_post_processor(u->pp);
    if (u->f) fclose(u->f);
    if (u->id[0]) lens_jobs_discard(u->s->jobs, u->id); /* not submitted */
    json_decref(u->inputs);
    free(u->options);
    free(u);
    r->upload = NULL;
}

enum MHD_Result lens__jobs_upload(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *data, size_t size)
{
    upload *u = r->upload;
    if (!u) {
        if (!(u = calloc(1, sizeof *u))) return MHD_NO;
        r->upload = u;
        u->s = s;
        u->inputs = json_array();
        lens_error err = {0};
        if (lens_jobs_prepare(s->jobs, u->id, u->input_dir, sizeof u->input_dir, &err)) {
            u->id[0] = '\0';
            upload_fail(u, 500, "%s", err.msg);
            return MHD_YES;
        }
        snprintf(u->themes_path, sizeof u->themes_path, "%s/../themes.json", u->input_dir);
        u->pp = MHD_create_post_processor(c, 64 * 1024, on_field, u);
        if (!u->pp) upload_fail(u, 400, "multipart/form-data body expected%s", "");
    }
    if (u->pp && !u->status && MHD_post_process(u->pp, data, size) != MHD_YES)
        upload_fail(u, 400, "malformed multipart/form-data body%s", "");
    return MHD_YES;
}

/* ---------------------------------------------------------------- create */

/* path under the data root, or 0 */
static int under_root(lens_server *s, const char *p, char *out)
{
    char joined[PATH_MAX * 2];
    if (p[0] == '/') snprintf(joined, sizeof joined, "%s", p);
    else snprintf(joined, sizeof joined, "%s/%s", s->data_root, p);
    if (!realpath(joined, out)) return 0;
    size_t n = strlen(s->data_root);
    return !strncmp(out, s->data_root, n) && (out[n] == '/' || out[n] == '\0');
}

/* Errors about uploaded files name them as the client did, not by where
 * the server keeps them. */
static void hide_job_dir(char *msg, const char *id)
{
    char marker[64];
    snprintf(marker, sizeof marker, "/jobs/%s/", id);
    char *m;
    while ((m = strstr(msg, marker))) {
        char *start = m, *end = m + strlen(marker);
        while (start > msg && start[-1] != ' ') start--;
        if (!strncmp(end, "input/", 6)) end += 6;
        memmove(start, end, strlen(end) + 1);
    }
}

static enum MHD_Result submit(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *id, const char *kind,
                              json_t *params)
{
    lens_error err = {0};
    if (lens__jobs_submit_obj(s->jobs, id, kind, params, &err)) {
        hide_job_dir(err.msg, id);
        lens_jobs_discard(s->jobs, id);
        int st = lens__http_status(err.code); /* a store that cannot take the job: 5xx */
        return lens__reply_error(c, r, st >= 500 ? st : 400, "%s", err.msg);
    }
    return lens__reply_json(c, r, 202, json_pack("{ssss}", "id", id, "state", "queued"));
}

enum MHD_Result lens__route_jobs_create(lens_server *s, struct MHD_Connection *c, lens__req *r)
{
    upload *u = r->upload;
    if (u) {
        if (u->pp) {
            MHD_destroy_post_processor(u->pp);
            u->pp = NULL;
        }
        close_part(u);
        struct stat st;
        int project = !strcmp(u->kind, "project");
        if (!u->status && u->kind[0] && !project && strcmp(u->kind, "analyze"))
            upload_fail(u, 400, "form field 'kind' must be analyze or project, not '%s'", u->kind);
        if (!u->status && !json_array_size(u->inputs)) upload_fail(u, 400, "no input files (form field 'files')%s", "");
        if (!u->status && project && json_array_size(u->inputs) != 1)
            upload_fail(u, 400, "a project job takes one file (.npy or texts)%s", "");
        if (!u->status && !project && stat(u->themes_path, &st)) upload_fail(u, 400, "no themes.json (form field 'themes')%s", "");
        if (!u->status && project && u->has_themes)
            upload_fail(u, 400, "a project job takes no themes (form field 'themes'): it maps the file's texts or "
                                "embeddings%s", "");
        if (u->status) return lens__reply_error(c, r, u->status, "%s", u->msg);
        /* the files' names too, before the job that counts on them is saved */
        char job_dir[4400];
        lens__dirname(u->input_dir, job_dir, sizeof job_dir);
        lens_error err = {0};
        if (lens__fsync_path(u->input_dir, &err) || lens__fsync_path(job_dir, &err)) {
            hide_job_dir(err.msg, u->id);
            return lens__reply_error(c, r, 500, "%s", err.msg);
        }
        json_t *params = json_object();
        if (u->options) {
            json_error_t je;
            json_t *opt = json_loads(u->options, JSON_REJECT_DUPLICATES, &je);
            if (!json_is_object(opt)) {
                json_decref(opt);
                json_decref(params);
                return lens__reply_error(c, r, 400, "form field 'options' must be a JSON object (%s)", je.text);
            }
            json_object_update(params, opt);
            json_decref(opt);
            if (json_object_get(params, "inputs") || json_object_get(params, "themes") || json_object_get(params, "input")) {
                json_decref(params);
                return lens__reply_error(c, r, 400, "'options' cannot name input files: upload them");
            }
        }
        if (project) {
            json_object_set(params, "input", json_array_get(u->inputs, 0));
        } else {
            char themes[4400];
            if (!realpath(u->themes_path, themes)) snprintf(themes, sizeof themes, "%s", u->themes_path);
            json_object_set(params, "inputs", u->inputs);
            json_object_set_new(params, "themes", json_string(themes));
        }
        char id[33];
        memcpy(id, u->id, sizeof id);
        u->id[0] = '\0'; /* submit owns the directory now (it discards it on failure) */
        enum MHD_Result ret = submit(s, c, r, id, project ? "project" : "analyze", params);
        json_decref(params);
        return ret;
    }
    json_t *o = lens__req_json(c, r);
    if (!o) return MHD_YES;
    enum MHD_Result ret = MHD_YES;
    json_t *kind = json_object_get(o, "kind");
    char kn[16];
    snprintf(kn, sizeof kn, "%s", !kind ? "analyze" : json_is_string(kind) ? json_string_value(kind) : "");
    if (strcmp(kn, "analyze") && strcmp(kn, "project")) {
        ret = lens__reply_error(c, r, 400, "'kind' must be \"analyze\" or \"project\"");
        goto out;
    }
    int project = !strcmp(kn, "project");
    json_object_del(o, "kind");
    if (!s->data_root[0]) {
        ret = lens__reply_error(c, r, 400, "this server takes no file paths (start it with --data-root); upload the "
                                          "files as multipart/form-data instead");
        goto out;
    }
    /* every path must resolve inside the data root */
    char real[PATH_MAX];
    if (project) {
        const char *p = json_string_value(json_object_get(o, "input"));
        if (!p || !under_root(s, p, real)) {
            ret = lens__reply_error(c, r, 400, "input '%s' is not a file under the data root", p ? p : "(missing)");
            goto out;
        }
        json_object_set_new(o, "input", json_string(real));
        goto submit;
    }
    json_t *in = json_object_get(o, "inputs"), *th = json_object_get(o, "themes");
    if (!json_is_array(in) || !json_is_string(th)) {
        ret = lens__reply_error(c, r, 400, "'inputs' (array of paths) and 'themes' (path) are required");
        goto out;
    }
    for (size_t i = 0; i < json_array_size(in); i++) {
        const char *p = json_string_value(json_array_get(in, i));
        if (!p || !under_root(s, p, real)) {
            ret = lens__reply_error(c, r, 400, "input '%s' is not a file under the data root", p ? p : "(not a string)");
            goto out;
        }
        json_array_set_new(in, i, json_string(real));
    }
    if (!under_root(s, json_string_value(th), real)) {
        ret = lens__reply_error(c, r, 400, "themes '%s' is not a file under the data root", json_string_value(th));
        goto out;
    }
    json_object_set_new(o, "themes", json_string(real));
submit:;
    char id[33], dir[4300];
    lens_error err = {0};
    if (lens_jobs_prepare(s->jobs, id, dir, sizeof dir, &err)) {
        ret = lens__reply_error(c, r, 500, "%s", err.msg);
        goto out;
    }
    ret = submit(s, c, r, id, kn, o);
out:
    json_decref(o);
    return ret;
}

/* ---------------------------------------------------------------- events */

typedef struct sse {
    lens__parked park; /* while there is no news */
    lens_server *s;
    struct MHD_Connection *conn;
    char id[33];
    uint64_t ver;
    double last; /* when something was last sent */
    char *buf;
    size_t len, off;
    int done;
} sse;

/* MHD asks for more of the stream: the job's state when it changed, a
 * keep-alive comment after a quiet second, else nothing yet: the connection
 * parks until the ticker's next round (it never waits in this thread). */
static ssize_t sse_read(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)pos;
    sse *e = cls;
    while (e->off == e->len) {
        if (e->done || e->s->stopping) return MHD_CONTENT_READER_END_OF_STREAM;
        free(e->buf);
        e->buf = NULL;
        e->len = e->off = 0;
        uint64_t v = lens_jobs_wait(e->s->jobs, e->id, e->ver, 0);
        double now = lens__clock_mono();
        if (v == 0) {
            e->buf = strdup("event: deleted\ndata: {}\n\n");
            e->done = 1;
        } else if (v == e->ver) {
            if (now - e->last < 1.0) {
                lens__sse_park(e->s, &e->park, e->conn);
                return 0;
            }
            e->buf = strdup(": keep-alive\n\n"); /* a comment, so proxies keep the stream open */
        } else {
            e->ver = v;
            json_t *j = lens__jobs_get_obj(e->s->jobs, e->id);
            char *d = j ? json_dumps(j, JSON_COMPACT) : NULL;
            const char *state = j ? json_string_value(json_object_get(j, "state")) : "";
            e->done = !strcmp(state, "succeeded") || !strcmp(state, "failed") || !strcmp(state, "cancelled");
            if (d && asprintf(&e->buf, "event: %s\ndata: %s\n\n", e->done ? "done" : "progress", d) < 0) e->buf = NULL;
            free(d);
            json_decref(j);
        }
        if (!e->buf) return MHD_CONTENT_READER_END_WITH_ERROR;
        e->len = strlen(e->buf);
        e->last = now;
    }
    size_t n = e->len - e->off < max ? e->len - e->off : max;
    memcpy(out, e->buf + e->off, n);
    e->off += n;
    return (ssize_t)n;
}

static void sse_free(void *cls)
{
    sse *e = cls;
    free(e->buf);
    free(e);
}

/* ---------------------------------------------------------------- the rest */

static int valid_id(const char *id, size_t n)
{
    if (n != 32) return 0;
    for (size_t i = 0; i < n; i++)
        if (!((id[i] >= '0' && id[i] <= '9') || (id[i] >= 'a' && id[i] <= 'f'))) return 0;
    return 1;
}

enum MHD_Result lens__route_jobs(lens_server *s, struct MHD_Connection *c, lens__req *r, const char *method,
                                const char *path)
{
    int get = !strcmp(method, "GET") || !strcmp(method, "HEAD");
    lens_error err = {0};
    if (r->route == R_JOBS_LIST) {
        if (!get) return lens__reply_error(c, r, 405, "%s is not allowed on /v1/jobs", method);
        const char *st = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "state");
        const char *lim = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "limit");
        const char *off = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "offset");
        int state = st ? lens_job_state_parse(st) : -1;
        if (st && state < 0)
            return lens__reply_error(c, r, 400, "state must be queued, running, pausing, paused, cancelling, succeeded, "
                                                "failed or cancelled");
        char *end_l = NULL, *end_o = NULL;
        errno = 0;
        long limit = lim ? strtol(lim, &end_l, 10) : 50, offset = off ? strtol(off, &end_o, 10) : 0;
        if (limit < 1 || limit > 1000 || offset < 0 || offset > INT_MAX || errno || (lim && (end_l == lim || *end_l)) ||
            (off && (end_o == off || *end_o)))
            return lens__reply_error(c, r, 400, "limit must be an integer in 1..1000 and offset an integer >= 0");
        return lens__reply_json(c, r, 200, lens__jobs_list_obj(s->jobs, state, (int)limit, (int)offset));
    }
    const char *id = path + strlen("/v1/jobs/");
    const char *rest = strchr(id, '/');
    size_t id_len = rest ? (size_t)(rest - id) : strlen(id);
    if (!valid_id(id, id_len)) return lens__reply_error(c, r, 404, "no job %.*s", (int)(id_len < 64 ? id_len : 64), id);
    char jid[33];
    memcpy(jid, id, 32);
    jid[32] = '\0';
    if (!rest) {
        if (get) {
            json_t *j = lens__jobs_get_obj(s->jobs, jid);
            return j ? lens__reply_json(c, r, 200, j) : lens__reply_error(c, r, 404, "no job %s", jid);
        }
        if (!strcmp(method, "DELETE")) {
            if (lens_jobs_delete(s->jobs, jid, &err)) return lens__reply_error(c, r, lens__http_status(err.code), "%s", err.msg);
            return lens__reply_json(c, r, 200, json_pack("{sssb}", "id", jid, "deleted", 1));
        }
        return lens__reply_error(c, r, 405, "%s is not allowed on a job", method);
    }
    if (!strcmp(rest, "/cancel") || !strcmp(rest, "/pause") || !strcmp(rest, "/resume")) {
        if (strcmp(method, "POST")) return lens__reply_error(c, r, 405, "use POST for %s", rest + 1);
        /* lens_job_transition: 202 when the job changes state, 200 when it
         * already was there, 409 when its state does not allow it */
        int changed = 0, rc = lens__jobs_control(s->jobs, jid, rest + 1, &changed, &err);
        if (rc) return lens__reply_error(c, r, rc == LENS_EINVAL ? 409 : lens__http_status(rc), "%s", err.msg);
        json_t *j = lens__jobs_get_obj(s->jobs, jid);
        return j ? lens__reply_json(c, r, changed ? 202 : 200, j) : lens__reply_error(c, r, 404, "no job %s", jid);
    }
    if (!strcmp(rest, "/events")) {
        if (!get) return lens__reply_error(c, r, 405, "use GET for events");
        json_t *j = lens__jobs_get_obj(s->jobs, jid);
        if (!j) return lens__reply_error(c, r, 404, "no job %s", jid);
        json_decref(j);
        sse *e = calloc(1, sizeof *e);
        if (!e) return MHD_NO;
        e->s = s;
        e->conn = c;
        memcpy(e->id, jid, sizeof e->id);
        struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, sse_read, e, sse_free);
        if (!resp) {
            free(e);
            return MHD_NO;
        }
        MHD_add_response_header(resp, "Content-Type", "text/event-stream");
        MHD_add_response_header(resp, "Cache-Control", "no-store");
        r->status = 200;
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    if (!strncmp(rest, "/results/", 9)) {
        if (!get) return lens__reply_error(c, r, 405, "use GET for results");
        char file[4400];
        if (lens_jobs_result(s->jobs, jid, rest + 9, file, sizeof file, &err))
            return lens__reply_error(c, r, 404, "%s", err.msg);
        int fd = open(file, O_RDONLY | O_CLOEXEC);
        struct stat st;
        if (fd < 0 || fstat(fd, &st)) {
            if (fd >= 0) close(fd);
            return lens__reply_error(c, r, 404, "job %s has no %s", jid, rest + 9);
        }
        struct MHD_Response *resp = MHD_create_response_from_fd((uint64_t)st.st_size, fd);
        if (!resp) {
            close(fd);
            return MHD_NO;
        }
        const char *n = rest + 9;
        MHD_add_response_header(resp, "Content-Type", strstr(n, ".html") ? "text/html; charset=utf-8"
                                                      : strstr(n, ".json") ? "application/json"
                                                                           : "text/csv; charset=utf-8");
        r->status = 200;
        enum MHD_Result ret = MHD_queue_response(c, 200, resp);
        MHD_destroy_response(resp);
        return ret;
    }
    return lens__reply_error(c, r, 404, "no route %s %s", method, path);
}
