/* The job service as jansson objects (internal), for lens serve: what
 * lens/jobs.h takes and gives as JSON text, without the round trip through
 * text. Returned objects are new references. */
#ifndef LENS_JOBS_JSON_H
#define LENS_JOBS_JSON_H

#include <jansson.h>

#include "lens/jobs.h"

int lens__jobs_submit_obj(lens_jobs *j, const char *id, const char *kind, json_t *params, lens_error *err);
json_t *lens__jobs_get_obj(lens_jobs *j, const char *id);
json_t *lens__jobs_list_obj(lens_jobs *j, int state, int limit, int offset);
/* pause, resume or cancel by lens_job_transition; *changed (may be NULL):
 * 0 when the job already was where the action leads */
int lens__jobs_control(lens_jobs *j, const char *id, const char *action, int *changed, lens_error *err);

#endif
