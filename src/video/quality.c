/* content_quality: what the container says (resolution, frame rate,
 * bitrate, codecs, duration) next to what decoding found (frames, their
 * real rate and whether it varies, audio level), and the sharpness of the
 * sampled frames (variance of the Laplacian of their luma at SAMPLE_W
 * wide), black and frozen frames (every frame, at the cut detector's low
 * resolution), per shot and per video. On the same sampled frames:
 *  - noise: Immerkaer's estimate (the mean absolute response to a 3x3 mask
 *    that cancels planes and edges' first order, times sqrt(pi/2)/6: the
 *    standard deviation of white noise, in luma levels) over the flattest
 *    half of the picture (Sobel gradient under its median), at the
 *    decoder's own size (rows and columns sampled down to about 640 wide);
 *  - exposure clipping: the shares of pixels at or beyond black and white
 *    in the decoder's luma (<= 16 and >= 235 in limited range, <= 1 and
 *    >= 254 in full range; RGB luma at SAMPLE_W when it gives no 8-bit YUV);
 *  - blockiness: the mean luma step across the 8x8 block grid over that
 *    inside blocks, at the decoder's own size (the codec's grid; 1: no
 *    blocking), only where the decoder gives 8-bit YUV.
 *
 * Shots are announced a few frames after they end (on_shot), so figures
 * wait in a queue until the shot they belong to is known. One older than
 * LENS__VIDEO_LAG frames can only be the open shot's: when a queue is full
 * its oldest entry joins that shot's running totals (carry). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video/video_internal.h"

#define SAMPLE_W 320
#define QCAP 256 /* > LENS__VIDEO_LAG */
#define BLACK_LUMA 16 /* as the cut detector's black */
#define FROZEN_MAD 0.5 /* mean absolute luma difference of a repeated frame, at most */

enum { F_BLACK = 1, F_FROZEN = 2 };

typedef struct acc {
    double sharp, noise, block, dark, bright;
    int n, nb; /* nb: samples with a blockiness */
} acc;

typedef struct sample {
    int64_t index;
    double sharp, noise, block, dark, bright; /* block: < 0 when not measured */
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
    double dark, bright;    /* the last clipping() call's */
    sample q[QCAP];
    size_t q0, qn;          /* queue: first, count */
    acc carry;              /* samples pushed out of a full queue: the next shot's */
    acc video;
    double max_dark, max_bright;
    int hist[2048];         /* noise: gradient histogram */
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

/* |Sobel x| + |Sobel y| at c: the edge strength that tells flat regions */
static inline int sobel(const uint8_t *c, int stride)
{
    int gx = c[-stride + 1] + 2 * c[1] + c[stride + 1] - c[-stride - 1] - 2 * c[-1] - c[stride - 1];
    int gy = c[stride - 1] + 2 * c[stride] + c[stride + 1] - c[-stride - 1] - 2 * c[-stride] - c[-stride + 1];
    return abs(gx) + abs(gy);
}

/* Immerkaer's noise sigma over the pixels whose gradient is under the
 * median, on every step-th row and column */
static double noise(quality *q, const uint8_t *p, int w, int h, int stride)
{
    int step = w > 640 ? (w + 639) / 640 : 1;
    memset(q->hist, 0, sizeof q->hist);
    long total = 0;
    for (int y = 1; y < h - 1; y += step)
        for (int x = 1; x < w - 1; x += step) {
            const uint8_t *c = p + (size_t)y * stride + x;
            int g = sobel(c, stride);
            q->hist[g > 2047 ? 2047 : g]++, total++;
        }
    if (!total) return 0;
    int thr = 0;
    for (long below = 0; thr < 2047 && (below += q->hist[thr]) < total / 2;) thr++;
    double sum = 0;
    long n = 0;
    for (int y = 1; y < h - 1; y += step)
        for (int x = 1; x < w - 1; x += step) {
            const uint8_t *c = p + (size_t)y * stride + x;
            if (sobel(c, stride) > thr) continue;
            int r = c[-stride - 1] - 2 * c[-stride] + c[-stride + 1] - 2 * c[-1] + 4 * c[0] - 2 * c[1] + c[stride - 1] -
                    2 * c[stride] + c[stride + 1];
            sum += abs(r), n++;
        }
    return n ? sqrt(M_PI / 2) / 6 * sum / n : 0;
}

/* shares of pixels at or below lo and at or above hi, rows and columns sampled */
static void clipping(quality *q, const uint8_t *p, int w, int h, int stride, int lo, int hi)
{
    int step = w > 640 ? (w + 639) / 640 : 1;
    long dark = 0, bright = 0, n = 0;
    for (int y = 0; y < h; y += step)
        for (int x = 0; x < w; x += step) {
            int v = p[(size_t)y * stride + x];
            dark += v <= lo, bright += v >= hi, n++;
        }
    q->dark = n ? (double)dark / n : 0, q->bright = n ? (double)bright / n : 0;
}

/* mean |step| across the 8x8 grid over inside it, both directions */
static double blockiness(const uint8_t *p, int w, int h, int stride)
{
    double edge = 0, in = 0;
    long ne = 0, ni = 0;
    for (int y = 0; y < h; y++) {
        const uint8_t *r = p + (size_t)y * stride, *up = y ? r - stride : NULL;
        int vedge = (y & 7) == 0;
        for (int x = 1; x < w; x++) {
            int d = abs(r[x] - r[x - 1]);
            if (x & 7) in += d, ni++;
            else edge += d, ne++;
        }
        if (!up) continue;
        long s = 0;
        for (int x = 0; x < w; x++) s += abs(r[x] - up[x]);
        if (vedge) edge += s, ne += w;
        else in += s, ni += w;
    }
    if (!ne || !ni) return -1;
    /* +0.5: a flat picture is not blocky */
    return (edge / ne + 0.5) / (in / ni + 0.5);
}

static void acc_add(acc *a, const sample *s)
{
    a->sharp += s->sharp, a->noise += s->noise, a->dark += s->dark, a->bright += s->bright, a->n++;
    if (s->block >= 0) a->block += s->block, a->nb++;
}

static void on_frame(void *state, const lens__vframe *f)
{
    quality *q = state;
    if (f->sampled) {
        if (!q->luma) {
            q->sw = f->w, q->sh = f->h;
            if (!(q->luma = malloc((size_t)f->w * f->h))) return;
        }
        double sharp = sharpness(q, f);
        if (f->y) clipping(q, f->y, f->y_w, f->y_h, f->y_stride, f->y_full ? 1 : 16, f->y_full ? 254 : 235);
        else clipping(q, q->luma, f->w, f->h, f->w, 1, 254);
        sample s = {.index = f->index, .sharp = sharp, .dark = q->dark, .bright = q->bright, .block = -1};
        if (f->y) {
            s.noise = noise(q, f->y, f->y_w, f->y_h, f->y_stride);
            s.block = blockiness(f->y, f->y_w, f->y_h, f->y_stride);
        } else s.noise = noise(q, q->luma, f->w, f->h, f->w);
        acc_add(&q->video, &s);
        if (s.dark > q->max_dark) q->max_dark = s.dark;
        if (s.bright > q->max_bright) q->max_bright = s.bright;
        if (q->qn == QCAP) { /* cannot happen within the lag; kept for the next shot */
            acc_add(&q->carry, &q->q[q->q0]);
            q->q0 = (q->q0 + 1) % QCAP, q->qn--;
        }
        q->q[(q->q0 + q->qn++) % QCAP] = s;
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

static json_t *real_or_null(int n, double v, double scale) { return n ? json_real(round(v / n * scale) / scale) : json_null(); }

/* noise, clipping and blockiness of some samples */
static void measures(json_t *o, const acc *a)
{
    json_object_set_new(o, "noise", real_or_null(a->n, a->noise, 100));
    json_object_set_new(o, "clipped_dark", real_or_null(a->n, a->dark, 10000));
    json_object_set_new(o, "clipped_bright", real_or_null(a->n, a->bright, 10000));
    json_object_set_new(o, "blockiness", real_or_null(a->nb, a->block, 1000));
}

static void on_shot(void *state, const lens__vshot *shot)
{
    quality *q = state;
    acc a = q->carry;
    memset(&q->carry, 0, sizeof q->carry);
    while (q->qn && q->q[q->q0].index < shot->end) {
        acc_add(&a, &q->q[q->q0]);
        q->q0 = (q->q0 + 1) % QCAP, q->qn--;
    }
    int black = q->carry_black, frozen = q->carry_frozen;
    q->carry_black = q->carry_frozen = 0;
    while (q->fn && q->fq[q->f0].index < shot->end) {
        black += !!(q->fq[q->f0].flags & F_BLACK), frozen += !!(q->fq[q->f0].flags & F_FROZEN);
        q->f0 = (q->f0 + 1) % QCAP, q->fn--;
    }
    json_t *j = json_pack("{sisosisisi}", "index", shot->index, "sharpness",
                          a.n ? json_real(round(a.sharp / a.n * 10) / 10) : json_null(), "samples", a.n,
                          "black_frames", black, "frozen_frames", frozen);
    measures(j, &a);
    json_array_append_new(q->shots, j);
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
        json_object_set_new(sh, "video", real_or_null(q->video.n, q->video.sharp, 10));
        json_object_set_new(sh, "samples", json_integer(q->video.n));
        json_object_set_new(out, "sharpness", sh);
        json_t *ms = json_object();
        json_object_set_new(ms, "noise_measure",
                            json_string("Immerkaer noise sigma (luma levels) over the flattest half of the picture, decoder's size"));
        json_object_set_new(ms, "clipping_measure",
                            json_string("shares of pixels at or beyond black (dark) and white (bright) in the decoded luma"));
        json_object_set_new(ms, "blockiness_measure",
                            json_string("mean luma step across the 8x8 grid over inside it (1: none); null: not 8-bit YUV"));
        measures(ms, &q->video);
        json_object_set_new(ms, "max_clipped_dark", json_real(round(q->max_dark * 10000) / 10000));
        json_object_set_new(ms, "max_clipped_bright", json_real(round(q->max_bright * 10000) / 10000));
        json_object_set_new(out, "measures", ms);
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
