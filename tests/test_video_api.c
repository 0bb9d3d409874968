/* lens video through its public API alone, linked against liblens.so as a
 * program outside the project would be: video.json comes back as JSON text;
 * progress is reported; a missing file, a file that is no video and an
 * unknown analyzer are refused with the right codes and messages naming
 * them; a stop request cancels.
 * usage: test_video_api FIXTURES_DIR */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "lens/video.h"
#include "test.h"

static void on_progress(void *ctx, int64_t frames, double seconds, double fraction)
{
    double *last = ctx;
    if (fraction > *last) *last = fraction;
}

static void stop_now(void *ctx, int64_t frames, double seconds, double fraction) { atomic_store((atomic_int *)ctx, 1); }

int main(int argc, char **argv)
{
    if (argc != 2) return 2;
    char bbb[4096], cuts[4096];
    snprintf(bbb, sizeof bbb, "%s/video/bbb_180p_10s.webm", argv[1]);
    snprintf(cuts, sizeof cuts, "%s/video/cuts.json", argv[1]);
    lens_video_ffmpeg_log_level(0);
    CHECK(strstr(lens_video_analyzer_names(), "cut_analysis") != NULL, "names: %s", lens_video_analyzer_names());

    lens_error err;
    double last = 0;
    lens_video_opts o = {.analyzers = "all", .threads = 2, .progress = on_progress, .ctx = &last};
    char *text = NULL;
    int rc = lens_video_analyze(bbb, &o, &text, &err);
    CHECK(rc == LENS_OK && text, "analyze: %s", err.msg);
    json_t *j = text ? json_loads(text, 0, NULL) : NULL;
    CHECK(j != NULL, "video.json is JSON");
    CHECK(json_integer_value(json_object_get(j, "frames")) == 300, "frames");
    CHECK(json_integer_value(json_object_get(j, "width")) == 320, "width");
    CHECK(json_array_size(json_object_get(j, "shots")) == 1, "one shot");
    CHECK(!json_object_get(json_array_get(json_object_get(j, "shots"), 0), "thumbnail"), "no thumbnails without thumbs_dir");
    CHECK(json_object_get(j, "content_quality") != NULL, "content_quality");
    CHECK(last > 0.9, "progress reached %.2f", last);
    json_decref(j);
    free(text);

    o = (lens_video_opts){.analyzers = "cut_analysis"};
    rc = lens_video_analyze(bbb, &o, &text, &err);
    j = rc ? NULL : json_loads(text, 0, NULL);
    CHECK(j && json_object_get(j, "cut_analysis") && !json_object_get(j, "content_quality"), "only cut_analysis");
    json_decref(j);
    free(text);

    rc = lens_video_analyze("/nonexistent/x.mp4", &o, &text, &err);
    CHECK(rc == LENS_ENOTFOUND && !text && strstr(err.msg, "/nonexistent/x.mp4"), "missing: %d %s", rc, err.msg);
    rc = lens_video_analyze(cuts, &o, &text, &err);
    CHECK(rc == LENS_EFORMAT && !text && strstr(err.msg, "cuts.json"), "not a video: %d %s", rc, err.msg);
    o.analyzers = "cut_analysis,colour";
    rc = lens_video_analyze(bbb, &o, &text, &err);
    CHECK(rc == LENS_EINVAL && strstr(err.msg, "'colour'"), "unknown analyzer: %d %s", rc, err.msg);

    atomic_int stop = 0;
    o = (lens_video_opts){.progress = stop_now, .ctx = &stop, .stop = &stop};
    rc = lens_video_analyze(bbb, &o, &text, &err);
    CHECK(rc == LENS_ECANCEL && !text, "stop: %d %s", rc, err.msg);
    TEST_DONE();
}
