/* content_quality: what the container says (resolution, frame rate,
 * bitrate, codecs, duration) next to what decoding found (frames, their
 * real rate and whether it varies, audio level), and the sharpness of the
 * sampled frames (variance of the Laplacian of their luma at SAMPLE_W
 * wide), black and frozen frames (every frame, at the cut detector's low
 * resolution), per shot and per video. Noise, clipping and blockiness come
 * next on the same frames.
 *
 * Shots are announced a few frames after they end (on_shot), so figures
 * wait in a queue until the shot they belong to is known. One older than
 * LENS__VIDEO_LAG frames can only be the open shot's: when a queue is full
 * its oldest entry joins that shot's running totals (carry). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "video/video_internal.h"

#define SAMPLE_W 320
#define QCAP 256 /* > LENS__VIDEO_LAG */
#define BLACK_LUMA 16 /* as the cut detector's black */
#define FROZEN_MAD 0.5 /* mean absolute luma difference of a repeated frame, at most */

enum { F_BLACK = 1, F_FROZEN = 2 };

typedef struct sample {
    int64_t index;
    double sharp;
} sample;

typedef struct quality {
    const lens__vinfo *info;
    int64_t frames;
    double first_t, last_t, min_dt, max_dt;
    double peak, sumsq;
    int64_t samples;
    /* sharpness */
    uint8_t *luma;
    int sw, sh;
    sample q[QCAP];
    size_t q0, qn;          /* queue: first, count */
    double carry_sum;       /* samples pushed out of a full queue: the next shot's */
    int carry_n;
    double video_sum;
    int video_n;
    /* black and frozen frames */
    uint8_t *prev;          /* the last frame's luma at the low resolution */
    int pw, ph;
    struct { int64_t index; uint8_t flags; } fq[QCAP];
    size_t f0, fn;
    int carry_black, carry_frozen;
    int64_t black, frozen, frozen_run, longest_frozen;
    json_t *shots;
} quality;

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    quality *q = calloc(1, sizeof *q);
    if (!q) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    q->info = info;
    q->min_dt = DBL_MAX;
    q->shots = json_array();
    *state = q;
    return 0;
}

/* variance of the 4-neighbour Laplacian of the luma */
static double sharpness(quality *q, const lens__vframe *f)
{
    int w = f->w, h = f->h;
    for (int i = 0; i < w * h; i++) {
        const uint8_t *p = f->rgb + 3 * i;
        q->luma[i] = (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8);
    }
    double sum = 0, sq = 0;
    long n = 0;
    for (int y = 1; y < h - 1; y++)
        for (int x = 1; x < w - 1; x++) {
            const uint8_t *c = q->luma + (size_t)y * w + x;
            int l = 4 * c[0] - c[-1] - c[1] - c[-w] - c[w];
            sum += l, sq += (double)l * l, n++;
        }
    return n ? sq / n - (sum / n) * (sum / n) : 0;
}

static void on_frame(void *state, const lens__vframe *f)
{
    quality *q = state;
    if (f->sampled) {
        if (!q->luma) {
            q->sw = f->w, q->sh = f->h;
            if (!(q->luma = malloc((size_t)f->w * f->h))) return;
        }
        double v = sharpness(q, f);
        q->video_sum += v, q->video_n++;
        if (q->qn == QCAP) { /* cannot happen within the lag; kept for the next shot */
            q->carry_sum += q->q[q->q0].sharp, q->carry_n++;
            q->q0 = (q->q0 + 1) % QCAP, q->qn--;
        }
        q->q[(q->q0 + q->qn++) % QCAP] = (sample){f->index, v};
        return;
    }
    if (!q->prev) {
        q->pw = f->w, q->ph = f->h;
        if (!(q->prev = calloc((size_t)f->w * f->h, 1))) return;
    }
    /* black: dark with hardly a bright pixel; frozen: the same picture again */
    int n = q->pw * q->ph, bright = 0;
    long lsum = 0, dsum = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = f->rgb + 3 * i;
        int y = (77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8;
        lsum += y, bright += y > 48;
        dsum += abs(y - q->prev[i]);
        q->prev[i] = (uint8_t)y;
    }
    uint8_t flags = 0;
    if ((double)lsum / n <= BLACK_LUMA && bright < n / 50) flags |= F_BLACK, q->black++;
    if (q->frames && (double)dsum / n <= FROZEN_MAD) {
        flags |= F_FROZEN, q->frozen++;
        if (++q->frozen_run > q->longest_frozen) q->longest_frozen = q->frozen_run;
    } else q->frozen_run = 0;
    if (q->fn == QCAP) {
        q->carry_black += !!(q->fq[q->f0].flags & F_BLACK), q->carry_frozen += !!(q->fq[q->f0].flags & F_FROZEN);
        q->f0 = (q->f0 + 1) % QCAP, q->fn--;
    }
    size_t k = (q->f0 + q->fn++) % QCAP;
    q->fq[k].index = f->index, q->fq[k].flags = flags;
    if (q->frames) {
        double dt = f->t - q->last_t;
        if (dt < q->min_dt) q->min_dt = dt;
        if (dt > q->max_dt) q->max_dt = dt;
    } else q->first_t = f->t;
    q->last_t = f->t;
    q->frames++;
}

static void on_audio(void *state, const float *pcm, size_t n, double t)
{
    quality *q = state;
    for (size_t i = 0; i < n; i++) {
        double v = fabs(pcm[i]);
        if (v > q->peak) q->peak = v;
        q->sumsq += v * v;
    }
    q->samples += (int64_t)n;
}

static void on_shot(void *state, const lens__vshot *shot)
{
    quality *q = state;
    double sum = q->carry_sum;
    int n = q->carry_n;
    q->carry_sum = 0, q->carry_n = 0;
    while (q->qn && q->q[q->q0].index < shot->end) {
        sum += q->q[q->q0].sharp, n++;
        q->q0 = (q->q0 + 1) % QCAP, q->qn--;
    }
    int black = q->carry_black, frozen = q->carry_frozen;
    q->carry_black = q->carry_frozen = 0;
    while (q->fn && q->fq[q->f0].index < shot->end) {
        black += !!(q->fq[q->f0].flags & F_BLACK), frozen += !!(q->fq[q->f0].flags & F_FROZEN);
        q->f0 = (q->f0 + 1) % QCAP, q->fn--;
    }
    json_array_append_new(q->shots, json_pack("{sisosisisi}", "index", shot->index, "sharpness",
                                              n ? json_real(round(sum / n * 10) / 10) : json_null(), "samples", n,
                                              "black_frames", black, "frozen_frames", frozen));
}

static double r3(double x) { return round(x * 1000) / 1000; }
static void set_str(json_t *o, const char *k, const char *v) { json_object_set_new(o, k, v ? json_string(v) : json_null()); }

static int finish(void *state, json_t *out, lens_error *err)
{
    quality *q = state;
    const lens__vinfo *in = q->info;
    json_t *c = json_object();
    set_str(c, "format", in->format);
    json_object_set_new(c, "file_size", json_integer(in->file_size));
    json_object_set_new(c, "duration_s", json_real(r3(in->duration_s)));
    json_object_set_new(c, "bit_rate", json_integer(in->bit_rate));
    if (in->has_video) {
        json_t *v = json_object();
        set_str(v, "codec", in->vcodec);
        set_str(v, "pix_fmt", in->pix_fmt);
        json_object_set_new(v, "width", json_integer(in->width));
        json_object_set_new(v, "height", json_integer(in->height));
        json_object_set_new(v, "coded_width", json_integer(in->coded_width));
        json_object_set_new(v, "coded_height", json_integer(in->coded_height));
        json_object_set_new(v, "rotation", json_integer(in->rotation));
        json_object_set_new(v, "fps", json_real(r3(in->fps)));
        json_object_set_new(v, "bit_rate", json_integer(in->vbit_rate));
        json_object_set_new(v, "frames_declared", json_integer(in->frames_declared));
        json_object_set_new(c, "video", v);
    }
    if (in->has_audio) {
        json_t *a = json_object();
        set_str(a, "codec", in->acodec);
        json_object_set_new(a, "sample_rate", json_integer(in->sample_rate));
        json_object_set_new(a, "channels", json_integer(in->channels));
        json_object_set_new(a, "bit_rate", json_integer(in->abit_rate));
        json_object_set_new(c, "audio", a);
    }
    json_object_set_new(out, "container", c);
    json_t *d = json_object();
    json_object_set_new(d, "frames", json_integer(q->frames));
    if (q->frames > 1) {
        double span = q->last_t - q->first_t;
        json_object_set_new(d, "fps", json_real(r3((q->frames - 1) / span)));
        json_object_set_new(d, "min_frame_interval_s", json_real(r3(q->min_dt)));
        json_object_set_new(d, "max_frame_interval_s", json_real(r3(q->max_dt)));
        /* variable frame rate: intervals differing by more than a millisecond and 10% */
        json_object_set_new(d, "variable_frame_rate",
                            json_boolean(q->max_dt - q->min_dt > 0.001 && q->max_dt > 1.1 * q->min_dt));
    }
    if (q->samples) {
        double rms = sqrt(q->sumsq / q->samples);
        json_object_set_new(d, "audio_s", json_real(r3(q->samples / 16000.0)));
        json_object_set_new(d, "audio_peak_dbfs", q->peak > 0 ? json_real(round(200 * log10(q->peak)) / 10) : json_null());
        json_object_set_new(d, "audio_rms_dbfs", rms > 0 ? json_real(round(200 * log10(rms)) / 10) : json_null());
    }
    json_object_set_new(out, "decoded", d);
    if (in->has_video) {
        json_t *sh = json_object();
        char m[96];
        snprintf(m, sizeof m, "variance of the Laplacian of luma (0..255) at %dx%d", q->sw, q->sh);
        json_object_set_new(sh, "measure", json_string(m));
        json_object_set_new(sh, "video", q->video_n ? json_real(round(q->video_sum / q->video_n * 10) / 10) : json_null());
        json_object_set_new(sh, "samples", json_integer(q->video_n));
        json_object_set_new(out, "sharpness", sh);
        json_t *fr = json_object();
        json_object_set_new(fr, "black_frames", json_integer(q->black));
        json_object_set_new(fr, "frozen_frames", json_integer(q->frozen));
        json_object_set_new(fr, "longest_frozen_frames", json_integer(q->longest_frozen));
        json_object_set_new(out, "frames", fr);
        json_object_set_new(out, "shots", json_incref(q->shots));
    }
    return 0;
}

static void qfree(void *state)
{
    quality *q = state;
    json_decref(q->shots);
    free(q->luma);
    free(q->prev);
    free(q);
}

const lens__vanalyzer lens__video_content_quality = {
    .name = "content_quality",
    .needs = LENS__VNEED_EVERY | LENS__VNEED_SAMPLED | LENS__VNEED_AUDIO,
    .width = 128, /* the cut detector's size: the same scaled frame, no second scale */
    .init = init,
    .on_frame = on_frame,
    .on_audio = on_audio,
    .on_shot = on_shot,
    .sample_width = SAMPLE_W,
    .finish = finish,
    .free = qfree,
};
