/* lens video: shots, transitions and container facts of videos, one decode
 * each; OUT/<name>/video.json with shot thumbnails, OUT/index.json and
 * OUT/report.html. The
 * work is lens_video_batch's; this parses flags and draws progress. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"
#include "lens/video.h"

static const char *video_usage =
    "usage: lens video -o OUT [options] INPUT...\n"
    "  INPUT                video files, or directories searched for them (mp4, mkv, webm, mov, avi, ...)\n"
    "  -o, --output OUT     OUT/<name>/video.json and shot thumbnails per video, OUT/index.json,\n"
    "                       OUT/report.html (the batch on one page)\n"
    "  --analyzers LIST     comma-separated, or all (default): cut_analysis, content_quality,\n"
    "                       color_analysis, camera_analysis, audio_analysis;\n"
    "                       none: decode alone (benchmarks)\n"
    "                       (cut_analysis always runs: shots are the unit of the others)\n"
    "  --sample-fps F       frames per second for the sampled analyzers (default 2)\n"
    "  --threads N          decoding and analysis threads (default: all CPUs)\n"
    "Run it again to resume: videos already done with the same options are verified and skipped.\n";

typedef struct bar {
    int tty;
    size_t i, n;
    const char *path;
    double start, last_draw;
    int64_t size, before, total;  /* bytes: this video, those before it, all */
    double work_s;                /* seconds spent on the videos analyzed so far */
    int64_t work_bytes;           /* ... and their bytes: the batch's rate */
} bar;

static void on_start(void *ctx, size_t i, size_t n, const char *path, int64_t size, int64_t before, int64_t total)
{
    bar *b = ctx;
    b->i = i, b->n = n, b->path = path, b->start = lens__clock_mono(), b->last_draw = 0;
    b->size = size, b->before = before, b->total = total;
}

/* videos, this one's share, frames, realtime factor and its ETA; with more
 * videos to come, the batch's ETA at the rate (bytes a second) of the videos
 * analyzed so far, this one included (skipped ones cost nothing) */
static void on_progress(void *ctx, int64_t frames, double seconds, double fraction)
{
    bar *b = ctx;
    if (!b->tty) return;
    double now = lens__clock_mono();
    if (now - b->last_draw < 0.2) return;
    b->last_draw = now;
    double el = now - b->start, rt = el > 0 ? seconds / el : 0;
    char eta[32] = "?", all[48] = "";
    if (fraction > 0.001) cli_fmt_secs(eta, sizeof eta, el * (1 - fraction) / fraction);
    double cur = fraction > 0 ? fraction * (double)b->size : 0, done = (double)b->work_bytes + cur;
    if (b->i + 1 < b->n && done > 0 && b->work_s + el > 0) {
        char t[32];
        cli_fmt_secs(t, sizeof t, ((double)b->total - (double)b->before - cur) * (b->work_s + el) / done);
        snprintf(all, sizeof all, ", batch ETA %s", t);
    }
    const char *name = strrchr(b->path, '/') ? strrchr(b->path, '/') + 1 : b->path;
    fprintf(stderr, "\r\033[Kvideo %zu/%zu %.40s %3.0f%% %lld frames, %.1fx realtime, ETA %s%s", b->i + 1, b->n, name,
            fraction >= 0 ? 100 * fraction : 0.0, (long long)frames, rt, eta, all);
}

static void on_end(void *ctx, size_t i, size_t n, const char *path, const char *status, const char *reason,
                   double duration_s, int64_t frames, int shots, double wall_s)
{
    bar *b = ctx;
    if (b->tty) fputs("\r\033[K", stderr);
    if (strcmp(status, "skipped")) b->work_s += wall_s, b->work_bytes += b->size;
    if (!strcmp(status, "failed")) fprintf(stderr, "lens: %s\n", reason ? reason : path);
    else if (!strcmp(status, "skipped"))
        fprintf(stderr, "video %zu/%zu %s: skipped, already done (%lld frames, %d shots)\n", i + 1, n, path,
                (long long)frames, shots);
    else
        fprintf(stderr, "video %zu/%zu %s: %.2f s, %lld frames, %d shots in %.2fs (%.1fx realtime)\n", i + 1, n, path,
                duration_s, (long long)frames, shots, wall_s, wall_s > 0 ? duration_s / wall_s : 0.0);
}

int cmd_video(int argc, char **argv)
{
    const char *out = NULL;
    lens_video_opts vo = {0};
    const char **inputs = calloc((size_t)argc, sizeof *inputs);
    size_t n = 0;
    if (!inputs) return cli_fail("out of memory");
    int rc = 0;
    for (int i = 1; i < argc && !rc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            fputs(video_usage, stdout);
            free(inputs);
            return 0;
        } else if (!strcmp(a, "-o") || !strcmp(a, "--output")) out = v, i++;
        else if (!strcmp(a, "--analyzers")) vo.analyzers = v, i++;
        else if (!strcmp(a, "--threads")) rc = cli_int(a, v, 1, 256, &vo.threads), i++;
        else if (!strcmp(a, "--sample-fps")) {
            char *end;
            double f = v ? strtod(v, &end) : NAN;
            if (!v || !*v || *end || !(f > 0 && f <= 1000)) rc = cli_fail("--sample-fps needs a number in (0, 1000]");
            vo.sample_fps = f;
            i++;
        } else if (a[0] == '-' && a[1]) rc = cli_fail("video: unknown option %s (see lens video --help)", a);
        else inputs[n++] = a;
        if (!rc && i >= argc) rc = cli_fail("video: %s needs a value", a);
    }
    if (!rc && (!out || !n)) {
        fputs(video_usage, stderr);
        rc = 2;
    }
    if (rc) {
        free(inputs);
        return rc;
    }
    lens_video_ffmpeg_log_level(0);
    cli_install_signals();
    vo.stop = &cli_stop;
    bar b = {.tty = isatty(STDERR_FILENO)};
    lens_video_batch_opts bo = {.inputs = inputs, .n_inputs = n, .out_dir = out, .video = vo, .on_start = on_start,
                                .on_end = on_end, .progress = on_progress, .ctx = &b};
    lens_video_batch_stats st;
    lens_error err;
    lens_error_clear(&err);
    double t0 = lens__clock_mono();
    int r = lens_video_batch(&bo, &st, &err);
    free(inputs);
    if (r == LENS_ECANCEL) return cli_fail("%s; run the same command again to resume", err.msg);
    if (r) return cli_fail("%s", err.msg);
    fprintf(stderr, "lens video: %zu done, %zu skipped, %zu failed in %.2fs; %s/report.html\n", st.done, st.skipped,
            st.failed, lens__clock_mono() - t0, out);
    return st.failed ? 1 : 0;
}
