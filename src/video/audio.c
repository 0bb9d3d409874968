/* audio_analysis: EBU R128 loudness (libebur128, at the stream's own rate
 * and channels, as FFmpeg's ebur128 filter measures it: downmixing to
 * 16 kHz mono would move a stereo file's loudness by up to 3 LU and hide
 * true peaks), a short-term loudness curve, silence and a tempo estimate
 * (from the pipeline's 16 kHz mono).
 *  - loudness: integrated (gated), in histogram mode so memory does not
 *    grow with the length; the true peak here (libebur128's took half of
 *    its time): each channel oversampled 4x below 96 kHz (2x below 192)
 *    by a Hann-windowed sinc of 12 taps a phase, the phases in one vector,
 *    as BS.1770-4 Annex 2 describes; the loudness range from the
 *    short-term loudness every 100 ms (EBU Tech 3342, as FFmpeg's filter
 *    takes it: libebur128's own takes one a second and moves the range of
 *    real soundtracks by up to 1 LU), in a histogram of 0.01 LU bins;
 *  - curve: short-term (3 s) loudness every STEP s; past CURVE_MAX points
 *    every other point is dropped and the step doubles, so a long video has
 *    at most CURVE_MAX points;
 *  - silence: 100 ms windows with an RMS below SIL_DB dBFS, runs of at least
 *    SIL_MIN s (a pause, not the gap between two beats);
 *  - tempo: an onset-strength envelope (the rise of log energy over 20 ms,
 *    every 2.5 ms), its autocorrelation accumulated as it streams over lags
 *    of 0.3 to 2 s; the strongest lag for 60-200 BPM (halved while half of
 *    it is nearly as strong: the beat, not the bar), refined by a parabola.
 *    No clear peak: bpm null with the reason. */
#include <ebur128.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "base/v4.h"
#include "video/video_internal.h"

#define RATE 16000
#define LRA_BINS 8001  /* -70 to +10 LUFS by 0.01 */
#define STEP 0.5       /* curve step at the start, seconds */
#define CURVE_MAX 400
#define SIL_WIN 1600   /* 100 ms */
#define SIL_DB (-50.0)
#define SIL_MIN 1.0
#define SIL_MAX 500    /* segments listed, at most */
#define HOP 40         /* envelope rate: 400 Hz */
#define ENV_HZ (RATE / HOP)
#define EWIN 8         /* energy over 8 hops: 20 ms */
#define LAG_MIN 120    /* 200 BPM */
#define LAG_BEAT 400   /* 60 BPM */
#define LAG_MAX 800    /* twice that: the halving test */
#define CLARITY 0.2    /* a tempo's autocorrelation, at least this share of the variance */
#define MIN_TEMPO_S 5.0
#define TP_TAPS 12     /* true peak: taps a phase */

typedef struct audio {
    const lens__vinfo *info;
    /* loudness, native */
    ebur128_state *eb;
    int rate, channels, eb_failed;
    v4f tp_h[TP_TAPS]; /* tap j of the (up to) four phases */
    float *tp_hist;    /* per channel, its last TP_TAPS - 1 samples */
    float *tp_x;       /* one channel's history and new samples */
    size_t tp_cap;
    v4f tp_max;        /* the largest |oversampled value| a phase */
    size_t to_tick;  /* frames until the next 100 ms tick */
    int64_t ticks;
    double step;
    int lra_hist[LRA_BINS];
    double lra_power;
    int64_t lra_n;
    float curve[CURVE_MAX];
    int n_curve, skip; /* skip: points dropped between kept ones, minus 1 */
    int64_t native_frames;
    /* silence, 16 kHz */
    int64_t samples;
    double sil_acc;
    int sil_n;
    int64_t sil_start; /* window index where the run began, -1: none */
    int64_t win;       /* windows done */
    double sil_total;
    int n_sil, sil_omitted;
    float sil[SIL_MAX][2];
    /* tempo */
    double hop_acc;
    int hop_n;
    double blocks[2 * EWIN];
    int64_t hops;
    float env[LAG_MAX + 1]; /* ring of the envelope */
    double ac[LAG_MAX + 1], env_sum;
    int64_t env_n;
} audio;

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    (void)run;
    audio *a = calloc(1, sizeof *a);
    if (!a) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    a->info = info;
    a->step = STEP;
    a->sil_start = -1;
    *state = a;
    return 0;
}

static double power(double lufs) { return pow(10, (lufs + 0.691) / 10); }

/* every 100 ms: the short-term loudness into the range's histogram, and
 * every step_s into the curve */
static void tick(audio *a)
{
    double st;
    if (ebur128_loudness_shortterm(a->eb, &st) != EBUR128_SUCCESS) st = -HUGE_VAL;
    a->ticks++;
    if (a->native_frames >= 3 * (int64_t)a->rate && st >= -70) { /* a whole 3 s window, above the absolute gate */
        long b = lrint((st + 70) * 100);
        a->lra_hist[b < LRA_BINS ? b : LRA_BINS - 1]++;
        a->lra_power += power(st), a->lra_n++;
    }
    if (a->ticks % lrint(a->step * 10)) return;
    if (a->n_curve == CURVE_MAX) { /* keep every other point: twice the step */
        for (int i = 0; i < CURVE_MAX / 2; i++) a->curve[i] = a->curve[2 * i + 1];
        a->n_curve = CURVE_MAX / 2;
        a->step *= 2;
        if (a->ticks % lrint(a->step * 10)) return; /* between two points of the new step */
    }
    a->curve[a->n_curve++] = (float)st;
}

/* the interpolation kernel: sinc under a Hann window of TP_TAPS samples */
static double tp_kernel(double t)
{
    if (fabs(t) >= TP_TAPS / 2.0) return 0;
    double s = t == 0 ? 1 : sin(M_PI * t) / (M_PI * t);
    return s * 0.5 * (1 + cos(2 * M_PI * t / TP_TAPS));
}

static int tp_init(audio *a, int channels, int rate)
{
    int L = rate < 96000 ? 4 : rate < 192000 ? 2 : 1;
    /* phase q's output lies q/L of a sample after the window's middle sample:
     * q = 0 is that sample itself */
    for (int j = 0; j < TP_TAPS; j++)
        for (int q = 0; q < 4; q++) a->tp_h[j][q] = (float)tp_kernel(j - TP_TAPS / 2 + (double)(q % L) / L);
    a->tp_hist = calloc((size_t)channels * (TP_TAPS - 1), sizeof(float));
    return a->tp_hist ? 0 : -1;
}

/* n frames of interleaved audio through each channel's interpolator */
static int tp_add(audio *a, const float *pcm, size_t n)
{
    int ch = a->channels, H = TP_TAPS - 1;
    if (lens__grow((void **)&a->tp_x, &a->tp_cap, n + (size_t)H, sizeof(float))) return -1;
    v4f mx = a->tp_max;
    for (int c = 0; c < ch; c++) {
        float *x = a->tp_x, *hist = a->tp_hist + (size_t)c * H;
        memcpy(x, hist, (size_t)H * sizeof *x);
        for (size_t i = 0; i < n; i++) x[H + i] = pcm[i * (size_t)ch + c];
        for (size_t m = 0; m < n; m++) {
            const float *w = x + m + H; /* the newest sample of the window */
            v4f acc = a->tp_h[0] * w[0];
            for (int j = 1; j < TP_TAPS; j++) acc += a->tp_h[j] * w[-j];
            acc = abs4(acc);
            mx = sel4(acc > mx, acc, mx);
        }
        memcpy(hist, x + n, (size_t)H * sizeof *x);
    }
    a->tp_max = mx;
    return 0;
}

static void on_audio_native(void *state, const float *pcm, size_t n, int channels, int rate)
{
    audio *a = state;
    if (a->eb_failed) return;
    if (!a->eb) {
        a->eb = ebur128_init((unsigned)channels, (unsigned long)rate,
                             EBUR128_MODE_I | EBUR128_MODE_S | EBUR128_MODE_HISTOGRAM);
        if (!a->eb || tp_init(a, channels, rate)) {
            a->eb_failed = 1;
            return;
        }
        a->rate = rate, a->channels = channels;
        a->to_tick = (size_t)rate / 10;
    }
    if (tp_add(a, pcm, n)) {
        a->eb_failed = 1;
        return;
    }
    while (n) {
        size_t k = n < a->to_tick ? n : a->to_tick;
        ebur128_add_frames_float(a->eb, pcm, k);
        pcm += k * (size_t)channels, n -= k, a->to_tick -= k, a->native_frames += (int64_t)k;
        if (!a->to_tick) {
            tick(a);
            a->to_tick = (size_t)a->rate / 10;
        }
    }
}

static void silence_window(audio *a)
{
    double rms = sqrt(a->sil_acc / a->sil_n);
    int quiet = rms <= 0 || 20 * log10(rms) < SIL_DB;
    if (quiet && a->sil_start < 0) a->sil_start = a->win;
    a->win++;
    if (!quiet && a->sil_start >= 0) {
        double s = a->sil_start * 0.1, e = fmin((a->win - 1) * 0.1, a->samples / (double)RATE);
        if (e - s >= SIL_MIN - 1e-9) {
            a->sil_total += e - s;
            if (a->n_sil < SIL_MAX) a->sil[a->n_sil][0] = (float)s, a->sil[a->n_sil][1] = (float)e, a->n_sil++;
            else a->sil_omitted++;
        }
        a->sil_start = -1;
    }
    a->sil_acc = 0, a->sil_n = 0;
}

static void envelope(audio *a, double block)
{
    /* energy of the last EWIN hops against the EWIN before them */
    memmove(a->blocks, a->blocks + 1, (2 * EWIN - 1) * sizeof *a->blocks);
    a->blocks[2 * EWIN - 1] = block;
    double now = 0, before = 0;
    for (int i = 0; i < EWIN; i++) before += a->blocks[i], now += a->blocks[EWIN + i];
    a->hops++;
    if (a->hops < 2 * EWIN) return;
    double floor = 1e-7 * EWIN * HOP; /* -70 dBFS: the rise of noise under it is no onset */
    double o = log10(now + floor) - log10(before + floor);
    /* a rise under 1 dB is the ripple of a steady sound, no onset */
    float e = o > 0.1 ? (float)(o - 0.1) : 0;
    int64_t i = a->env_n++;
    a->env[i % (LAG_MAX + 1)] = e;
    a->env_sum += e;
    int top = i < LAG_MAX ? (int)i : LAG_MAX;
    a->ac[0] += (double)e * e;
    for (int lag = LAG_MIN; lag <= top; lag++) a->ac[lag] += (double)e * a->env[(i - lag) % (LAG_MAX + 1)];
}

static void on_audio(void *state, const float *pcm, size_t n, double t)
{
    (void)t;
    audio *a = state;
    for (size_t i = 0; i < n; i++) {
        double v = (double)pcm[i] * pcm[i];
        a->sil_acc += v;
        if (++a->sil_n == SIL_WIN) silence_window(a);
        a->hop_acc += v;
        if (++a->hop_n == HOP) {
            envelope(a, a->hop_acc);
            a->hop_acc = 0, a->hop_n = 0;
        }
    }
    a->samples += (int64_t)n;
}

/* the centred autocorrelation at lag, over the variance */
static double acn(const audio *a, int lag)
{
    double m = a->env_sum / a->env_n;
    double var = a->ac[0] / a->env_n - m * m;
    if (var <= 0 || a->env_n <= lag) return 0;
    return (a->ac[lag] / (a->env_n - lag) - m * m) / var;
}

/* the strongest lag within [lo, hi] */
static int peak(const audio *a, int lo, int hi)
{
    if (lo < LAG_MIN) lo = LAG_MIN;
    if (hi > LAG_MAX) hi = LAG_MAX;
    int best = lo;
    for (int l = lo; l <= hi; l++)
        if (acn(a, l) > acn(a, best)) best = l;
    return best;
}

static json_t *tempo(const audio *a)
{
    json_t *t = json_object();
    json_object_set_new(t, "method", json_string("autocorrelation of an onset-strength envelope (400 Hz), 60-200 BPM"));
    const char *why = NULL;
    double bpm = 0, clarity = 0;
    if (a->env_n < (int64_t)(MIN_TEMPO_S * ENV_HZ)) why = "too short (under 5 s of audio)";
    else if (a->ac[0] <= 0) why = "no onsets (silence or a steady sound)";
    else {
        int best = peak(a, LAG_MIN, LAG_BEAT);
        /* the beat, not the bar: a lag half as long nearly as strong wins */
        while (best / 2 >= LAG_MIN) {
            int h = peak(a, best / 2 - best / 50 - 1, best / 2 + best / 50 + 1);
            if (acn(a, h) < 0.7 * acn(a, best)) break;
            best = h;
        }
        clarity = acn(a, best);
        double y0 = acn(a, best - 1), y1 = clarity, y2 = best + 1 <= LAG_MAX ? acn(a, best + 1) : y1;
        double den = y0 - 2 * y1 + y2, off = den < 0 ? 0.5 * (y0 - y2) / den : 0;
        if (off > 0.5 || off < -0.5) off = 0;
        double lag = best + off;
        /* the same beat twice over: a finer estimate of its period */
        if (2 * best + 2 <= LAG_MAX) {
            int b2 = peak(a, 2 * best - 3, 2 * best + 3);
            if (acn(a, b2) > 0.5 * clarity) {
                double z0 = acn(a, b2 - 1), z1 = acn(a, b2), z2 = acn(a, b2 + 1);
                double d2 = z0 - 2 * z1 + z2, o2 = d2 < 0 ? 0.5 * (z0 - z2) / d2 : 0;
                if (o2 <= 0.5 && o2 >= -0.5) lag = (lag + (b2 + o2) / 2) / 2;
            }
        }
        bpm = fmin(200, fmax(60, 60.0 * ENV_HZ / lag));
        if (clarity < CLARITY) why = "no clear periodicity";
    }
    json_object_set_new(t, "bpm", why ? json_null() : json_real(round(bpm * 10) / 10));
    json_object_set_new(t, "clarity", json_real(round(clarity * 1000) / 1000));
    json_object_set_new(t, "reason", why ? json_string(why) : json_null());
    return t;
}

/* the range between the 10th and 95th percentiles of the short-term
 * loudness above the relative gate (20 LU under their mean power) */
static double loudness_range(const audio *a)
{
    if (!a->lra_n) return 0;
    double gate = -0.691 + 10 * log10(a->lra_power / a->lra_n) - 20;
    long g = lrint((gate + 70) * 100);
    if (g < 0) g = 0;
    int64_t n = 0;
    for (long i = g; i < LRA_BINS; i++) n += a->lra_hist[i];
    if (!n) return 0;
    int64_t plo = llrint(0.10 * n), phi = llrint(0.95 * n), cum = 0;
    double lo = NAN, hi = NAN;
    for (long i = g; i < LRA_BINS && isnan(hi); i++) {
        cum += a->lra_hist[i];
        if (isnan(lo) && cum >= plo) lo = i / 100.0 - 70;
        if (cum >= phi) hi = i / 100.0 - 70;
    }
    return isnan(lo) || isnan(hi) ? 0 : hi - lo;
}

static json_t *db(double v, double scale)
{
    return isfinite(v) ? json_real(round(v * scale) / scale) : json_null();
}

static int finish(void *state, json_t *out, lens_error *err)
{
    (void)err;
    audio *a = state;
    if (a->sil_n) silence_window(a);
    if (a->sil_start >= 0) { /* a run up to the end */
        a->sil_n = 1, a->sil_acc = 1;
        silence_window(a);
        a->win--;
    }
    int has = a->samples > 0 || a->native_frames > 0;
    json_object_set_new(out, "has_audio", json_boolean(has));
    if (!has) {
        json_object_set_new(out, "reason", json_string(a->info->has_audio ? "the audio stream decoded to nothing" : "no audio stream"));
        return 0;
    }
    json_object_set_new(out, "sample_rate", json_integer(a->rate));
    json_object_set_new(out, "channels", json_integer(a->channels));
    json_object_set_new(out, "duration_s", json_real(round(a->samples / (double)RATE * 1000) / 1000));
    double il = -HUGE_VAL, lra = 0, tp = 0;
    if (a->eb) {
        ebur128_loudness_global(a->eb, &il);
        lra = loudness_range(a);
        for (int q = 0; q < 4; q++) tp = fmax(tp, a->tp_max[q]);
    }
    json_object_set_new(out, "integrated_lufs", db(il, 100));
    json_object_set_new(out, "loudness_range_lu", db(lra, 100));
    json_object_set_new(out, "true_peak_dbtp", tp > 0 ? db(20 * log10(tp), 100) : json_null());
    json_t *c = json_object(), *v = json_array();
    json_object_set_new(c, "measure", json_string("short-term loudness (3 s window), LUFS; null: silence"));
    json_object_set_new(c, "step_s", json_real(a->step));
    json_object_set_new(c, "first_s", json_real(a->step));
    for (int i = 0; i < a->n_curve; i++) json_array_append_new(v, db(a->curve[i], 10));
    json_object_set_new(c, "lufs", v);
    json_object_set_new(out, "loudness_curve", c);
    json_t *s = json_object(), *seg = json_array();
    json_object_set_new(s, "threshold_dbfs", json_real(SIL_DB));
    json_object_set_new(s, "min_duration_s", json_real(SIL_MIN));
    for (int i = 0; i < a->n_sil; i++)
        json_array_append_new(seg, json_pack("{sfsf}", "start_s", round(a->sil[i][0] * 10) / 10.0, "end_s",
                                             round(a->sil[i][1] * 10) / 10.0));
    json_object_set_new(s, "segments", seg);
    json_object_set_new(s, "segments_omitted", json_integer(a->sil_omitted));
    json_object_set_new(s, "total_s", json_real(round(a->sil_total * 10) / 10));
    json_object_set_new(out, "silence", s);
    json_object_set_new(out, "tempo", tempo(a));
    return 0;
}

static void afree(void *state)
{
    audio *a = state;
    if (a->eb) ebur128_destroy(&a->eb);
    free(a->tp_hist);
    free(a->tp_x);
    free(a);
}

const lens__vanalyzer lens__video_audio_analysis = {
    .name = "audio_analysis",
    .needs = LENS__VNEED_AUDIO | LENS__VNEED_AUDIO_NATIVE,
    .init = init,
    .on_audio = on_audio,
    .finish = finish,
    .free = afree,
    .on_audio_native = on_audio_native,
};
