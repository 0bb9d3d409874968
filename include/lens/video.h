/* lens — video analysis: one decode of each video feeds every analyzer
 * (shots and transitions, container facts; colour, camera motion, quality
 * and audio to come on the same pipeline). Results are JSON text: one
 * video.json per video, an index.json per batch. */
#ifndef LENS_VIDEO_H
#define LENS_VIDEO_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/pool.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_video_opts {
    const char *analyzers; /* comma-separated names or "all" (NULL: all) */
    double sample_fps;     /* rate of the sampled analyzers' frames (<= 0: 2) */
    int threads;           /* FFmpeg's decoding threads, and the analyzers' pool's when pool is
                              NULL (<= 0: one per CPU; 1: all on the calling thread) */
    const char *thumbs_dir;/* a directory for shot thumbnails (shot_NNNN.jpg), or NULL */
    /* called now and then from the decoding thread: frames decoded so far,
     * video seconds done, fraction of the video done (< 0 when unknown) */
    void (*progress)(void *ctx, int64_t frames, double seconds, double fraction);
    void *ctx;
    atomic_int *stop;      /* set non-zero (any thread): LENS_ECANCEL soon after */
    lens_pool *pool;       /* analyzers run on it, side by side (NULL: a pool of `threads` per video) */
} lens_video_opts;

/* The analyzers lens knows, comma-separated ("cut_analysis,content_quality,audio_analysis"). */
LENS_API const char *lens_video_analyzer_names(void);

/* Analyzes one video: *json gets the text of its video.json (malloc'd; the
 * caller frees it). A corrupt, truncated or unsupported file fails with
 * LENS_EFORMAT or LENS_EUNSUP and a message giving the reason. */
LENS_API int lens_video_analyze(const char *path, const lens_video_opts *o, char **json, lens_error *err);

/* A batch: every input (files, or directories searched recursively for
 * video files, in name order) gets OUT/<name>/video.json and its shot
 * thumbnails, written to a staging directory and put in place whole; then
 * OUT/index.json lists every video with its status ("done", "skipped":
 * already done with the same options, outputs verified; "failed" with the
 * reason), and OUT/report.html shows the batch on one self-contained page
 * (both rewritten after every video). A failed video does not stop the batch. */
typedef struct lens_video_batch_opts {
    const char *const *inputs;
    size_t n_inputs;
    const char *out_dir;
    lens_video_opts video;   /* thumbs_dir and progress are set per video */
    /* per video: before it starts (i of n, its input path, its size in
     * bytes, the bytes of the inputs before it and of all of them: what a
     * batch's ETA can go by) and when it ends (status "done", "skipped" or
     * "failed", with the reason; its video.json facts: seconds of video,
     * frames, shots, wall seconds) */
    void (*on_start)(void *ctx, size_t i, size_t n, const char *path, int64_t size, int64_t bytes_before,
                     int64_t bytes_total);
    void (*on_end)(void *ctx, size_t i, size_t n, const char *path, const char *status, const char *reason,
                   double duration_s, int64_t frames, int shots, double wall_s);
    void (*progress)(void *ctx, int64_t frames, double seconds, double fraction);
    void *ctx;
} lens_video_batch_opts;

typedef struct lens_video_batch_stats {
    size_t done, skipped, failed;
} lens_video_batch_stats;

/* 0 when the batch ran (some videos may have failed: see st), an error
 * when it could not (no inputs, OUT not writable, stopped). */
LENS_API int lens_video_batch(const lens_video_batch_opts *o, lens_video_batch_stats *st, lens_error *err);

/* FFmpeg logs process-wide: 0 silences it (the CLI does), AV_LOG_* values otherwise. */
LENS_API void lens_video_ffmpeg_log_level(int level);

#ifdef __cplusplus
}
#endif
#endif
