/* The video pipeline's insides (internal): one decode, frames scaled once
 * per analysis size, handed to every analyzer in one pass.
 *
 * An analyzer declares what it needs (every frame at a width of its choice,
 * frames sampled at opts.sample_fps, 16 kHz mono float audio) and gets them
 * in presentation order. Shots are the pipeline's: the cut detector reports
 * boundaries (lens__video_cut) a bounded number of frames after they happen
 * (LENS__VIDEO_LAG), and each finished shot is announced to every analyzer
 * (on_shot), so per-shot state is the open shot's plus at most LAG frames of
 * per-frame figures. Memory never grows with the video's length. */
#ifndef LENS_VIDEO_INTERNAL_H
#define LENS_VIDEO_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"
#include "lens/video.h"

/* the most frames a cut may be reported after the frame where it happens */
#define LENS__VIDEO_LAG 192

enum {
    LENS__VNEED_EVERY = 1,   /* every frame, at the analyzer's width */
    LENS__VNEED_SAMPLED = 2, /* frames at opts.sample_fps, at its sample_width */
    LENS__VNEED_AUDIO = 4,   /* 16 kHz mono float */
    LENS__VNEED_AUDIO_NATIVE = 8 /* interleaved float at the stream's own rate and channels (on_audio_native) */
};

/* What the container and the streams say, before decoding. */
typedef struct lens__vinfo {
    const char *path, *format;     /* format: libavformat's short name */
    int has_video, has_audio;
    int width, height;             /* as displayed (rotation applied) */
    int coded_width, coded_height;
    int rotation;                  /* 0, 90, 180, 270 (clockwise, as displayed) */
    double fps;                    /* declared average rate (0 when unknown) */
    double duration_s;             /* declared (0 when unknown) */
    int64_t bit_rate;              /* container's, bits/s (0 when unknown) */
    int64_t frames_declared;       /* 0 when unknown */
    const char *vcodec, *pix_fmt, *acodec;
    int64_t vbit_rate, abit_rate;
    int sample_rate, channels;
    int64_t file_size;
} lens__vinfo;

typedef struct lens__vframe {
    int64_t index;       /* from 0, in presentation order */
    double t;            /* seconds from the start, from the frame's timestamp (VFR-safe) */
    int w, h;            /* as displayed */
    const uint8_t *rgb;  /* packed RGB24, 3*w bytes a row */
    int sampled;         /* 1: a sampled frame at sample_width, 0: an every-frame one at width */
    /* sampled frames: the decoder's own luma plane at the coded size, not
     * rotated, when it is 8-bit YUV (else NULL): block grids and grain */
    const uint8_t *y;
    int y_w, y_h, y_stride;
    int y_full;          /* full range (0..255); else limited (16..235) */
} lens__vframe;

typedef struct lens__vshot {
    int index;
    int64_t start, end;  /* frames, end exclusive */
    double start_s, end_s;
    const char *transition; /* into this shot: "none" (the first), "cut", "fade", "dissolve" */
    double confidence;
} lens__vshot;

typedef struct lens__vrun lens__vrun;

typedef struct lens__vanalyzer {
    const char *name;
    int needs;
    int width;           /* every frame's width (height keeps the aspect); capped at the video's */
    int sample_width;    /* sampled frames' width; an analyzer that needs both gets both calls */
    int (*init)(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err);
    void (*on_frame)(void *state, const lens__vframe *f);
    void (*on_audio)(void *state, const float *pcm, size_t n, double t);
    void (*on_shot)(void *state, const lens__vshot *shot);
    /* the end of the video: frames decoded; may still report cuts */
    void (*on_end)(void *state, int64_t frames);
    /* its results, set on out (an object that becomes video.json's NAME) */
    int (*finish)(void *state, json_t *out, lens_error *err);
    void (*free)(void *state);
    /* LENS__VNEED_AUDIO_NATIVE: n frames of `channels` interleaved floats at `rate` Hz */
    void (*on_audio_native)(void *state, const float *pcm, size_t n, int channels, int rate);
} lens__vanalyzer;

extern const lens__vanalyzer lens__video_cut_analysis;
extern const lens__vanalyzer lens__video_content_quality;
extern const lens__vanalyzer lens__video_color_analysis;
extern const lens__vanalyzer lens__video_camera_analysis;
extern const lens__vanalyzer lens__video_audio_analysis;

/* A shot boundary at frame `frame` (the new shot's first frame), reported
 * by the shot analyzer (cut_analysis, the only caller) from on_frame or
 * on_end, at most LENS__VIDEO_LAG frames after it, in increasing order;
 * span is the transition's frames [span_start, span_end) (a cut: [frame,
 * frame+1)). It takes effect (on_shot of every analyzer) once all analyzers
 * are done with the frame, so their on_frame calls may run side by side. */
void lens__video_cut(lens__vrun *run, int64_t frame, const char *transition, double confidence,
                     int64_t span_start, int64_t span_end);
/* the timestamp of a recent frame (within LENS__VIDEO_LAG of the newest) */
double lens__video_time(const lens__vrun *run, int64_t frame);

/* Writes rgb (w x h, packed RGB24) as a JPEG through lens__afile. */
int lens__video_write_jpeg(const char *path, const uint8_t *rgb, int w, int h, lens_error *err);

/* The analyzers a list (as lens_video_opts.analyzers) selects, in the
 * registry's order, comma-separated: what video.json's options record. */
int lens__video_analyzer_list(const char *list, char *out, size_t cap, lens_error *err);

/* OUT/report.html (report.c): a batch of n videos on one page. A video's
 * part is rendered from OUT/<name>/video.json once it is done or skipped
 * (input: its path as given) and kept; write puts the page in place
 * (through lens__afile) from the parts and index (index.json's object). */
typedef struct lens__vreport lens__vreport;
int lens__vreport_new(lens__vreport **out, size_t n, lens_error *err);
int lens__vreport_video(lens__vreport *r, size_t i, const char *out_dir, const char *name, const char *input,
                        lens_error *err);
int lens__vreport_write(const lens__vreport *r, const char *out_dir, const json_t *index, lens_error *err);
void lens__vreport_free(lens__vreport *r);

/* "00:01:02.345" */
void lens__video_timecode(double s, char *buf, size_t cap);

#endif
