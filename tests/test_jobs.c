/* The job service through its public API alone, linked against liblens.so:
 * params and descriptions cross it as JSON text (no jansson in lens/jobs.h).
 * A projection job over a generated .npy runs to its result; bad params,
 * an unknown kind and an unknown id are refused with the right codes; the
 * state machine answers every state x action as documented.
 * usage: test_jobs */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lens/io.h"
#include "lens/jobs.h"
#include "test.h"

/* the job's state, from its JSON text ("" when gone) */
static void state_of(lens_jobs *j, const char *id, char *out, size_t cap)
{
    char *text = lens_jobs_get(j, id);
    json_t *o = text ? json_loads(text, 0, NULL) : NULL;
    snprintf(out, cap, "%s", o ? json_string_value(json_object_get(o, "state")) : "");
    json_decref(o);
    free(text);
}

/* every state x action, as lens/jobs.h and the OpenAPI document it */
static void state_machine(void)
{
    static const char *const want[][4] = {
        /* state        cancel        pause      resume */
        {"queued", "cancelled", "paused", "queued"},
        {"running", "cancelling", "pausing", "running"},
        {"pausing", "cancelling", "pausing", "-"},
        {"paused", "cancelled", "paused", "queued"},
        {"cancelling", "cancelling", "-", "-"},
        {"cancelled", "cancelled", "-", "-"},
        {"succeeded", "-", "-", "-"},
        {"failed", "-", "-", "-"},
    };
    static const char *const actions[3] = {"cancel", "pause", "resume"};
    CHECK(sizeof want / sizeof *want == LENS_JOB_N_STATES, "states: %d", (int)LENS_JOB_N_STATES);
    for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
        int from = lens_job_state_parse(want[i][0]);
        CHECK(from >= 0 && !strcmp(lens_job_state_name((lens_job_state)from), want[i][0]), "state %s", want[i][0]);
        for (int a = 0; a < 3; a++) {
            int to = lens_job_transition((lens_job_state)from, actions[a]);
            const char *got = to < 0 ? "-" : lens_job_state_name((lens_job_state)to);
            CHECK(!strcmp(got, want[i][a + 1]), "%s on %s: %s, want %s", actions[a], want[i][0], got, want[i][a + 1]);
        }
    }
    CHECK(lens_job_transition(LENS_JOB_QUEUED, "restart") == -1, "unknown action");
}

int main(void)
{
    char dir[] = "/tmp/lens-test-jobs-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    lens_error err;
    state_machine();

    /* 300 points in two clusters, 8-D */
    char npy[256];
    snprintf(npy, sizeof npy, "%s/points.npy", dir);
    lens_npy_writer *w;
    float row[8];
    int rc = lens_npy_create(&w, npy, 8, &err);
    CHECK(rc == LENS_OK, "npy: %s", err.msg);
    srand(7);
    for (int i = 0; !rc && i < 300; i++) {
        for (int d = 0; d < 8; d++) row[d] = (i % 2 ? 5.0f : -5.0f) + (float)rand() / RAND_MAX;
        rc = lens_npy_append(w, row, 1, &err);
    }
    CHECK(!rc && lens_npy_finish(w, &err) == LENS_OK, "npy: %s", err.msg);

    char data[256];
    snprintf(data, sizeof data, "%s/data", dir);
    lens_jobs_opts o = {.data_dir = data, .threads = 1};
    lens_jobs *j = NULL;
    CHECK(lens_jobs_open(&j, &o, &err) == LENS_OK, "open: %s", err.msg);
    if (!j) TEST_DONE();

    char id[33], input[4200];
    CHECK(lens_jobs_prepare(j, id, input, sizeof input, &err) == LENS_OK, "prepare: %s", err.msg);
    rc = lens_jobs_submit(j, id, "project", "{\"input\": ", &err);
    CHECK(rc == LENS_EINVAL && strstr(err.msg, "params"), "bad JSON: rc=%d %s", rc, err.msg);
    rc = lens_jobs_submit(j, id, "project", "[1, 2]", &err);
    CHECK(rc == LENS_EINVAL && strstr(err.msg, "object"), "not an object: rc=%d %s", rc, err.msg);
    rc = lens_jobs_submit(j, id, "sculpt", "{}", &err);
    CHECK(rc == LENS_EINVAL && strstr(err.msg, "sculpt"), "unknown kind: rc=%d %s", rc, err.msg);
    rc = lens_jobs_submit(j, id, "project", "{\"input\": \"/nonexistent.npy\"}", &err);
    CHECK(rc == LENS_EINVAL && strstr(err.msg, "input"), "missing input: rc=%d %s", rc, err.msg);

    char params[512];
    snprintf(params, sizeof params, "{\"input\": \"%s\", \"neighbors\": 10, \"epochs\": 50, \"seed\": 3}", npy);
    rc = lens_jobs_submit(j, id, "project", params, &err);
    CHECK(rc == LENS_OK, "submit: %s", err.msg);

    char state[32] = "";
    uint64_t ver = 0;
    for (int i = 0; i < 1200; i++) { /* up to a minute */
        state_of(j, id, state, sizeof state);
        if (!strcmp(state, "succeeded") || !strcmp(state, "failed") || !strcmp(state, "cancelled")) break;
        ver = lens_jobs_wait(j, id, ver, 50);
    }
    CHECK(!strcmp(state, "succeeded"), "state %s", state);

    char path[4400];
    CHECK(lens_jobs_result(j, id, "projection.csv", path, sizeof path, &err) == LENS_OK, "result: %s", err.msg);
    FILE *f = fopen(path, "r");
    int lines = 0;
    for (int c; f && (c = fgetc(f)) != EOF;) lines += c == '\n';
    if (f) fclose(f);
    CHECK(lines == 301, "projection.csv has %d lines, want a header and 300 rows", lines);

    char *list = lens_jobs_list(j, -1, 10, 0);
    json_t *lo = list ? json_loads(list, 0, NULL) : NULL;
    CHECK(lo && json_integer_value(json_object_get(lo, "total")) == 1 &&
              json_array_size(json_object_get(lo, "jobs")) == 1,
          "list: %s", list ? list : "NULL");
    json_decref(lo);
    free(list);

    CHECK(lens_jobs_get(j, "0123456789abcdef0123456789abcdef") == NULL, "unknown id has a description");
    rc = lens_jobs_pause(j, "nope", &err);
    CHECK(rc == LENS_ENOTFOUND, "pause unknown: rc=%d", rc);
    CHECK(lens_jobs_delete(j, id, &err) == LENS_OK, "delete: %s", err.msg);
    lens_jobs_close(j);

    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) fprintf(stderr, "could not remove %s\n", dir);
    TEST_DONE();
}
