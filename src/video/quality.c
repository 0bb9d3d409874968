/* content_quality: what the container says (resolution, frame rate,
 * bitrate, codecs, duration) next to what decoding found (frames, their
 * real rate and whether it varies, audio level). Per-shot sharpness, noise,
 * clipping, blockiness and frozen or black frames come next, on the sampled
 * frames. */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "video/video_internal.h"

typedef struct quality {
    const lens__vinfo *info;
    int64_t frames;
    double first_t, last_t, min_dt, max_dt;
    double peak, sumsq;
    int64_t samples;
} quality;

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    quality *q = calloc(1, sizeof *q);
    if (!q) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    q->info = info;
    q->min_dt = DBL_MAX;
    *state = q;
    return 0;
}

static void on_frame(void *state, const lens__vframe *f)
{
    quality *q = state;
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
    return 0;
}

static void qfree(void *state) { free(state); }

const lens__vanalyzer lens__video_content_quality = {
    .name = "content_quality",
    .needs = LENS__VNEED_EVERY | LENS__VNEED_AUDIO,
    .width = 128, /* the cut detector's size: the same scaled frame, no second scale */
    .init = init,
    .on_frame = on_frame,
    .on_audio = on_audio,
    .finish = finish,
    .free = qfree,
};
