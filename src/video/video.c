/* The video pipeline: one decode (libavformat/libavcodec with FFmpeg's own
 * frame and slice threads), each frame scaled once per analysis size (the
 * every-frame sizes from one small base, shrink.h; sampled frames and other
 * pixel formats by libswscale) and rotated as displayed, audio resampled once to 16 kHz
 * mono float (libswresample), all of it handed to the analyzers in one
 * pass; shots, their thumbnails and video.json. */
#include <errno.h>
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/channel_layout.h>
#include <libavutil/display.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "lens/pool.h"
#include "base/clock.h"
#include "video/shrink.h"
#include "video/video_internal.h"

#define MAX_SCALERS 4
#define TIMES (LENS__VIDEO_LAG + 64) /* recent frames' timestamps */
#define THUMB_W 320
#define THUMB_RING 8
#define CANDS 4 /* a shot's frames at the last CANDS power-of-two offsets */

static const lens__vanalyzer *const registry[] = {&lens__video_cut_analysis, &lens__video_content_quality,
                                                  &lens__video_color_analysis, &lens__video_camera_analysis,
                                                  &lens__video_audio_analysis};
#define N_REG (sizeof registry / sizeof *registry)

const char *lens_video_analyzer_names(void)
{
    return "cut_analysis,content_quality,color_analysis,camera_analysis,audio_analysis";
}

void lens_video_ffmpeg_log_level(int level) { av_log_set_level(level ? level : AV_LOG_QUIET); }

typedef struct scaler {
    int w, h;   /* as displayed */
    int sw, sh; /* scaled, before rotation */
    int every;  /* some analyzer wants every frame at this size (else: sampled ones only) */
    struct SwsContext *sws;
    lens__vsize fast; /* every-frame sizes of 8-bit YUV frames: from the run's base */
    /* two slots: the analyzers read one frame's while the next frame is
     * scaled into the other; pre: before rotation (== out when not rotated) */
    uint8_t *pre[2], *out[2];
} scaler;

/* a decoded frame kept for a thumbnail: a reference to the decoder's
 * buffer, no copy; only the chosen one is ever scaled */
typedef struct pending_cut {
    int64_t frame;
    const char *transition;
    double confidence;
} pending_cut;
#define PEND 16 /* boundaries reported during one frame, at most */

typedef struct thumb {
    int64_t index; /* -1: empty */
    AVFrame *f;
} thumb;

struct lens__vrun {
    const lens_video_opts *o;
    lens__vinfo info;
    AVFormatContext *fmt;
    AVCodecContext *vdec, *adec;
    int vidx, aidx, want_audio, decode_audio;
    SwrContext *swr;
    float *pcm;
    size_t pcm_cap;
    int want_native;       /* an analyzer wants the stream's own rate and channels */
    SwrContext *nswr;      /* to interleaved float, rate and layout kept */
    int nrate, nch;
    float *npcm;
    size_t npcm_cap;
    int64_t audio_samples; /* at 16 kHz */
    double audio_s;        /* decoded, at the stream's own rate */
    const lens__vanalyzer *an[N_REG];
    void *st[N_REG];
    int an_every[N_REG], an_sampled[N_REG]; /* their scalers */
    int n_an;
    scaler sc[MAX_SCALERS];
    int n_sc;
    lens__vbase base; /* the every-frame sizes' shared base (shrink.h) */
    int base_w, base_h; /* the largest every-frame size, before rotation */
    double times[TIMES];
    int64_t frames;        /* decoded so far */
    double last_t, frame_dur, next_sample_t;
    /* shots */
    int64_t shot_start;
    pending_cut pend[PEND];
    int n_pend;
    const char *shot_transition;
    double shot_conf;
    int n_shots;
    json_t *shots;
    /* thumbnails: the last THUMB_RING frames and the open shot's frames at
     * power-of-two offsets from its start, so one near the middle of a shot
     * (between a quarter and a half of it) is kept whatever its length */
    scaler tsc;
    thumb ring[THUMB_RING], cand[CANDS];
    int thumb_err;
    lens_error terr;
    int decode_errors, packets;
    char first_err[160];
    /* the pipeline: the analyzers' on_frame calls for frame `cur` run on the
     * pool (analyzers side by side, each in its own task) while the next
     * decoded frame is scaled into the other slot; FFmpeg's threads decode
     * ahead meanwhile. Two frames in flight, whatever the video's length. */
    lens_pool *pool, *own_pool;
    int have_cur, cur_slot, cur_sampled, cur_y;
    int64_t cur_index;
    AVFrame *yf[2]; /* per slot: the decoded frame whose luma its sampled frame carries (cur_y) */
    double cur_t;
    /* audio decoded while a frame waits for its analyzers, at 16 kHz and
     * at the native rate, in the order decoded: delivered after it, as a
     * serial run would */
    float *apcm;
    size_t apcm_cap, apcm_n;
    struct achunk {
        size_t off, n; /* n frames of ch floats at off */
        double t;
        int ch, rate;  /* ch 0: the 16 kHz mono path */
    } *ach;
    size_t ach_cap, n_ach;
};

static int averr(lens_error *err, int code, const char *what, int e)
{
    char buf[AV_ERROR_MAX_STRING_SIZE];
    av_strerror(e, buf, sizeof buf);
    return lens_error_set(err, code, "%s: %s", what, buf);
}

void lens__video_timecode(double s, char *buf, size_t cap)
{
    if (s < 0) s = 0;
    long long ms = llround(s * 1000);
    snprintf(buf, cap, "%02lld:%02lld:%02lld.%03lld", ms / 3600000, ms / 60000 % 60, ms / 1000 % 60, ms % 1000);
}

double lens__video_time(const lens__vrun *run, int64_t frame)
{
    if (frame >= run->frames) return run->frames ? run->last_t + run->frame_dur : 0;
    if (frame < 0) frame = 0;
    if (run->frames - frame > TIMES) frame = run->frames - TIMES;
    return run->times[frame % TIMES];
}

static double ms(double s) { return round(s * 1000) / 1000; }

/* ---- scaling and rotation ---- */

static void rotate(const uint8_t *src, int sw, int sh, int rot, uint8_t *dst)
{
    int dw = rot == 180 ? sw : sh, dh = rot == 180 ? sh : sw;
    for (int y = 0; y < dh; y++)
        for (int x = 0; x < dw; x++) {
            int sx, sy;
            if (rot == 90) sx = y, sy = sh - 1 - x;
            else if (rot == 270) sx = sw - 1 - y, sy = x;
            else sx = sw - 1 - x, sy = sh - 1 - y;
            memcpy(dst + 3 * ((size_t)y * dw + x), src + 3 * ((size_t)sy * sw + sx), 3);
        }
}

/* a size of width at most w for the displayed picture, even sides */
static void fit(const lens__vinfo *in, int w, int *ow, int *oh)
{
    if (w > in->width) w = in->width;
    int h = (int)lrint((double)w * in->height / in->width);
    w &= ~1, h &= ~1;
    *ow = w < 2 ? 2 : w, *oh = h < 2 ? 2 : h;
}

static int scaler_for(lens__vrun *r, int width, int every, lens_error *err)
{
    int w, h;
    fit(&r->info, width, &w, &h);
    for (int i = 0; i < r->n_sc; i++)
        if (r->sc[i].w == w && r->sc[i].h == h) {
            r->sc[i].every |= every;
            return i;
        }
    if (r->n_sc == MAX_SCALERS) return lens_error_set(err, LENS_EINVAL, "too many analysis sizes");
    scaler *s = &r->sc[r->n_sc];
    s->w = w, s->h = h, s->every = every;
    int swap = r->info.rotation == 90 || r->info.rotation == 270;
    s->sw = swap ? h : w, s->sh = swap ? w : h;
    r->n_sc++; /* freed with the run from here on */
    for (int k = 0; k < 2; k++) {
        s->out[k] = malloc((size_t)w * h * 3);
        s->pre[k] = r->info.rotation ? malloc((size_t)w * h * 3) : s->out[k];
        if (!s->out[k] || !s->pre[k]) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    return r->n_sc - 1;
}

static int scale(scaler *s, const AVFrame *f, int rotation, int slot)
{
    /* area averaging: the analyzers see every source pixel, without aliasing */
    s->sws = sws_getCachedContext(s->sws, f->width, f->height, f->format, s->sw, s->sh, AV_PIX_FMT_RGB24,
                                  SWS_AREA, NULL, NULL, NULL);
    if (!s->sws) return -1;
    uint8_t *dst[4] = {s->pre[slot]};
    int stride[4] = {3 * s->sw};
    sws_scale(s->sws, (const uint8_t *const *)f->data, f->linesize, 0, f->height, dst, stride);
    if (rotation) rotate(s->pre[slot], s->sw, s->sh, rotation, s->out[slot]);
    return 0;
}

/* the every-frame sizes from one base (shrink.h): -1 out of memory */
static int scale_fast(lens__vrun *r, const AVFrame *f, int slot)
{
    if (lens__vbase_fill(&r->base, f, r->base_w, r->base_h) != 0) return -1;
    for (int i = 0; i < r->n_sc; i++) {
        scaler *s = &r->sc[i];
        if (!s->every) continue;
        s->fast.w = s->sw, s->fast.h = s->sh;
        if (lens__vsize_rgb(&s->fast, &r->base, s->pre[slot]) != 0) return -1;
        if (r->info.rotation) rotate(s->pre[slot], s->sw, s->sh, r->info.rotation, s->out[slot]);
    }
    return 0;
}

static void scaler_free(scaler *s)
{
    lens__vsize_free(&s->fast);
    sws_freeContext(s->sws);
    for (int k = 0; k < 2; k++) {
        if (s->pre[k] != s->out[k]) free(s->pre[k]);
        free(s->out[k]);
    }
}

/* ---- shots and thumbnails ---- */

static int thumb_put(thumb *t, int64_t index, const AVFrame *f)
{
    av_frame_unref(t->f);
    t->index = av_frame_ref(t->f, f) < 0 ? -1 : index;
    return t->index < 0;
}

/* a new candidate in place of the oldest */
static int cand_push(lens__vrun *r, int64_t index, const AVFrame *f)
{
    thumb old = r->cand[0];
    memmove(r->cand, r->cand + 1, (CANDS - 1) * sizeof *r->cand);
    r->cand[CANDS - 1] = old;
    return thumb_put(&r->cand[CANDS - 1], index, f);
}

/* A frame of one flat colour (the black of a fade): its luma, on a grid of
 * 32 x 18 samples, hardly varies. Only 8-bit YUV is looked at (the usual
 * case); any other format counts as not blank. */
static int blank(const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL)) ||
        d->comp[0].depth != 8 || d->comp[0].step != 1 || d->comp[0].plane != 0 || f->width < 1 || f->height < 1)
        return 0;
    double sum = 0, sq = 0;
    for (int y = 0; y < 18; y++)
        for (int x = 0; x < 32; x++) {
            int v = f->data[0][(size_t)(y * (f->height - 1) / 17) * f->linesize[0] + x * (f->width - 1) / 31];
            sum += v, sq += (double)v * v;
        }
    double mean = sum / 576;
    return sq / 576 - mean * mean < 16;
}

/* 8-bit YUV with luma in a plane of its own */
static int yuv8(const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    return d && !(d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL)) &&
           (d->flags & AV_PIX_FMT_FLAG_PLANAR) && d->comp[0].depth == 8 && d->comp[0].step == 1 && d->comp[0].plane == 0;
}

static int pow2_offset(int64_t off) { return off == 0 || (off & (off - 1)) == 0; }

static void end_shot(lens__vrun *r, int64_t end)
{
    lens__vshot s = {.index = r->n_shots, .start = r->shot_start, .end = end,
                     .start_s = lens__video_time(r, r->shot_start), .end_s = lens__video_time(r, end),
                     .transition = r->shot_transition, .confidence = r->shot_conf};
    char tc0[32], tc1[32], name[32] = "";
    lens__video_timecode(s.start_s, tc0, sizeof tc0);
    lens__video_timecode(s.end_s, tc1, sizeof tc1);
    if (r->o->thumbs_dir && r->tsc.out[0] && !r->thumb_err) {
        /* the kept frame of this shot nearest its middle, not blank if it can be */
        thumb *best = NULL;
        int best_blank = 1;
        double mid = s.start + (s.end - s.start) / 2.0;
        thumb *all[THUMB_RING + CANDS];
        int n = 0;
        for (int i = 0; i < THUMB_RING; i++) all[n++] = &r->ring[i];
        for (int i = 0; i < CANDS; i++) all[n++] = &r->cand[i];
        for (int i = 0; i < n; i++) {
            if (all[i]->index < s.start || all[i]->index >= s.end) continue;
            int b = blank(all[i]->f);
            if (!best || b < best_blank || (b == best_blank && fabs(all[i]->index - mid) < fabs(best->index - mid)))
                best = all[i], best_blank = b;
        }
        if (best) {
            snprintf(name, sizeof name, "shot_%04d.jpg", s.index);
            char path[4200];
            snprintf(path, sizeof path, "%s/%s", r->o->thumbs_dir, name);
            if (scale(&r->tsc, best->f, r->info.rotation, 0) != 0)
                r->thumb_err = 1, lens_error_set(&r->terr, LENS_EUNSUP, "%s: cannot convert a frame for its thumbnail", r->info.path);
            else if (lens__video_write_jpeg(path, r->tsc.out[0], r->tsc.w, r->tsc.h, &r->terr) != 0)
                r->thumb_err = 1;
        }
    }
    json_t *j = json_object();
    json_object_set_new(j, "index", json_integer(s.index));
    json_object_set_new(j, "start_frame", json_integer(s.start));
    json_object_set_new(j, "end_frame", json_integer(s.end));
    json_object_set_new(j, "start_s", json_real(ms(s.start_s)));
    json_object_set_new(j, "end_s", json_real(ms(s.end_s)));
    json_object_set_new(j, "start_tc", json_string(tc0));
    json_object_set_new(j, "end_tc", json_string(tc1));
    json_object_set_new(j, "transition", json_string(s.transition));
    json_object_set_new(j, "confidence", json_real(round(s.confidence * 1000) / 1000));
    if (*name) json_object_set_new(j, "thumbnail", json_string(name));
    json_array_append_new(r->shots, j);
    for (int i = 0; i < r->n_an; i++)
        if (r->an[i]->on_shot) r->an[i]->on_shot(r->st[i], &s);
    r->n_shots++;
}

void lens__video_cut(lens__vrun *r, int64_t frame, const char *transition, double confidence,
                     int64_t span_start, int64_t span_end)
{
    (void)span_start, (void)span_end;
    if (r->n_pend < PEND) r->pend[r->n_pend++] = (pending_cut){frame, transition, confidence};
}

/* A boundary reported during a frame takes effect once every analyzer is
 * done with the frame: ending a shot calls every analyzer's on_shot. */
static void apply_cut(lens__vrun *r, int64_t frame, const char *transition, double confidence)
{
    if (frame <= r->shot_start || frame >= r->frames) return; /* out of order or past the end */
    if (r->frames - frame > LENS__VIDEO_LAG) frame = r->frames - LENS__VIDEO_LAG;
    end_shot(r, frame);
    r->shot_start = frame;
    r->shot_transition = transition;
    r->shot_conf = confidence;
    /* the new shot's candidates, from the frames already seen */
    for (int i = 0; i < CANDS; i++) r->cand[i].index = -1;
    if (!r->tsc.out[0]) return;
    for (int64_t i = frame; i < r->frames; i++) {
        thumb *t = &r->ring[i % THUMB_RING];
        if (t->index == i && pow2_offset(i - frame)) cand_push(r, i, t->f);
    }
}

static void apply_cuts(lens__vrun *r)
{
    for (int i = 0; i < r->n_pend; i++) apply_cut(r, r->pend[i].frame, r->pend[i].transition, r->pend[i].confidence);
    r->n_pend = 0;
}

/* ---- decoding ---- */

static int open_decoder(AVStream *st, int threads, AVCodecContext **out, const char *path, lens_error *err)
{
    const AVCodec *c = avcodec_find_decoder(st->codecpar->codec_id);
    if (!c)
        return lens_error_set(err, LENS_EUNSUP, "%s: no decoder for %s", path, avcodec_get_name(st->codecpar->codec_id));
    AVCodecContext *d = avcodec_alloc_context3(c);
    if (!d) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    *out = d;
    int e = avcodec_parameters_to_context(d, st->codecpar);
    if (e < 0) return averr(err, LENS_EFORMAT, path, e);
    d->pkt_timebase = st->time_base;
    d->thread_count = threads;
    d->thread_type = FF_THREAD_FRAME | FF_THREAD_SLICE;
    if ((e = avcodec_open2(d, c, NULL)) < 0) return averr(err, LENS_EUNSUP, path, e);
    return 0;
}

static int display_rotation(AVStream *st)
{
    const uint8_t *m = av_stream_get_side_data(st, AV_PKT_DATA_DISPLAYMATRIX, NULL);
    if (!m) return 0;
    double theta = -av_display_rotation_get((const int32_t *)m);
    if (isnan(theta)) return 0;
    int r = (int)lrint(theta - 360 * floor(theta / 360 + 0.9 / 360));
    return r == 90 || r == 180 || r == 270 ? r : 0;
}

static int probe(lens__vrun *r, const char *path, lens_error *err)
{
    lens__vinfo *in = &r->info;
    in->path = path;
    int e = avformat_open_input(&r->fmt, path, NULL, NULL);
    if (e < 0) return averr(err, e == AVERROR(ENOENT) ? LENS_ENOTFOUND : LENS_EFORMAT, path, e);
    if ((e = avformat_find_stream_info(r->fmt, NULL)) < 0) return averr(err, LENS_EFORMAT, path, e);
    in->format = r->fmt->iformat->name;
    r->vidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    r->aidx = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, -1, NULL, 0);
    /* cover art is a picture, not a video */
    if (r->vidx >= 0 && (r->fmt->streams[r->vidx]->disposition & AV_DISPOSITION_ATTACHED_PIC)) r->vidx = -1;
    if (r->vidx < 0 && r->aidx < 0) return lens_error_set(err, LENS_EUNSUP, "%s: no video or audio stream", path);
    in->has_video = r->vidx >= 0, in->has_audio = r->aidx >= 0;
    if (r->fmt->duration > 0) in->duration_s = r->fmt->duration / (double)AV_TIME_BASE;
    in->bit_rate = r->fmt->bit_rate;
    if (in->has_video) {
        AVStream *st = r->fmt->streams[r->vidx];
        AVCodecParameters *p = st->codecpar;
        if (p->width <= 0 || p->height <= 0) return lens_error_set(err, LENS_EFORMAT, "%s: video without a size", path);
        in->coded_width = p->width, in->coded_height = p->height;
        in->rotation = display_rotation(st);
        int swap = in->rotation == 90 || in->rotation == 270;
        in->width = swap ? p->height : p->width, in->height = swap ? p->width : p->height;
        if (st->avg_frame_rate.num > 0 && st->avg_frame_rate.den > 0) in->fps = av_q2d(st->avg_frame_rate);
        in->frames_declared = st->nb_frames;
        in->vcodec = avcodec_get_name(p->codec_id);
        in->pix_fmt = p->format >= 0 ? av_get_pix_fmt_name(p->format) : NULL;
        in->vbit_rate = p->bit_rate;
    }
    if (in->has_audio) {
        AVCodecParameters *p = r->fmt->streams[r->aidx]->codecpar;
        in->acodec = avcodec_get_name(p->codec_id);
        in->abit_rate = p->bit_rate;
        in->sample_rate = p->sample_rate;
        in->channels = p->ch_layout.nb_channels;
    }
    return 0;
}

static void note_decode_error(lens__vrun *r, const char *what, int e)
{
    if (!r->decode_errors++) {
        char buf[AV_ERROR_MAX_STRING_SIZE];
        av_strerror(e, buf, sizeof buf);
        snprintf(r->first_err, sizeof r->first_err, "%s: %s", what, buf);
    }
}

/* One pool run: every analyzer's on_frame calls for the waiting frame, one
 * task each (an analyzer's calls stay in order; different analyzers' run
 * side by side), and the next frame `next` (NULL: none) scaled into the
 * other slot, one task per scaler. */
typedef struct step {
    lens__vrun *r;
    int an[N_REG], n_an; /* analyzers with frames to see */
    const AVFrame *next;
    int next_slot, next_sampled;
    int fast;            /* task n_an makes every every-frame size from the base */
    int sc[MAX_SCALERS], n_sc; /* then one task per libswscale size */
    atomic_int scale_failed, out_of_memory;
} step;

static void step_task(void *ctx, int task, int thread)
{
    (void)thread;
    step *s = ctx;
    lens__vrun *r = s->r;
    if (task < s->n_an) {
        int i = s->an[task];
        const lens__vanalyzer *a = r->an[i];
        if (a->needs & LENS__VNEED_EVERY) {
            scaler *sc = &r->sc[r->an_every[i]];
            lens__vframe vf = {.index = r->cur_index, .t = r->cur_t, .w = sc->w, .h = sc->h,
                               .rgb = sc->out[r->cur_slot], .sampled = 0};
            a->on_frame(r->st[i], &vf);
        }
        if ((a->needs & LENS__VNEED_SAMPLED) && r->cur_sampled) {
            scaler *sc = &r->sc[r->an_sampled[i]];
            lens__vframe vf = {.index = r->cur_index, .t = r->cur_t, .w = sc->w, .h = sc->h,
                               .rgb = sc->out[r->cur_slot], .sampled = 1};
            if (r->cur_y) {
                const AVFrame *f = r->yf[r->cur_slot];
                vf.y = f->data[0], vf.y_w = f->width, vf.y_h = f->height, vf.y_stride = f->linesize[0];
                vf.y_full = f->color_range == AVCOL_RANGE_JPEG || f->format == AV_PIX_FMT_YUVJ420P ||
                            f->format == AV_PIX_FMT_YUVJ422P || f->format == AV_PIX_FMT_YUVJ444P;
            }
            a->on_frame(r->st[i], &vf);
        }
        return;
    }
    task -= s->n_an;
    if (s->fast && task-- == 0) {
        if (scale_fast(r, s->next, s->next_slot) != 0) atomic_store(&s->out_of_memory, 1);
        return;
    }
    if (scale(&r->sc[s->sc[task]], s->next, r->info.rotation, s->next_slot) != 0) atomic_store(&s->scale_failed, 1);
}

static void deliver_audio(lens__vrun *r, const float *pcm, size_t n, double t)
{
    for (int i = 0; i < r->n_an; i++)
        if ((r->an[i]->needs & LENS__VNEED_AUDIO) && r->an[i]->on_audio && n > 0) r->an[i]->on_audio(r->st[i], pcm, n, t);
}

static void deliver_native(lens__vrun *r, const float *pcm, size_t n, int ch, int rate)
{
    for (int i = 0; i < r->n_an; i++)
        if ((r->an[i]->needs & LENS__VNEED_AUDIO_NATIVE) && r->an[i]->on_audio_native && n > 0)
            r->an[i]->on_audio_native(r->st[i], pcm, n, ch, rate);
}

/* Audio now, or (a frame waits for its analyzers) queued to follow it.
 * ch 0: n samples at 16 kHz from t; else n frames of ch channels at rate. */
static int audio_out(lens__vrun *r, const float *pcm, size_t n, int ch, int rate, double t, lens_error *err)
{
    if (!n) return 0;
    if (!r->have_cur) {
        if (ch) deliver_native(r, pcm, n, ch, rate);
        else deliver_audio(r, pcm, n, t);
        return 0;
    }
    size_t len = n * (size_t)(ch ? ch : 1);
    if (lens__grow((void **)&r->apcm, &r->apcm_cap, r->apcm_n + len, sizeof(float)) != 0 ||
        lens__grow((void **)&r->ach, &r->ach_cap, r->n_ach + 1, sizeof *r->ach) != 0)
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    memcpy(r->apcm + r->apcm_n, pcm, len * sizeof(float));
    r->ach[r->n_ach++] = (struct achunk){r->apcm_n, n, t, ch, rate};
    r->apcm_n += len;
    return 0;
}

/* Runs the waiting frame's analyzers (and scales `next`, if any), then
 * applies the cuts they reported and delivers the audio that came in
 * meanwhile: the order a serial run has. */
static int step_run(lens__vrun *r, const AVFrame *next, int next_sampled, lens_error *err)
{
    step s = {.r = r, .next = next, .next_slot = r->have_cur ? !r->cur_slot : 0, .next_sampled = next_sampled};
    if (r->have_cur)
        for (int i = 0; i < r->n_an; i++) {
            const lens__vanalyzer *a = r->an[i];
            if (a->on_frame && ((a->needs & LENS__VNEED_EVERY) || ((a->needs & LENS__VNEED_SAMPLED) && r->cur_sampled)))
                s.an[s.n_an++] = i;
        }
    if (next) {
        s.fast = r->base_w > 0 && lens__vbase_fits(next);
        for (int i = 0; i < r->n_sc; i++)
            if (r->sc[i].every ? !s.fast : next_sampled) s.sc[s.n_sc++] = i;
    }
    lens_pool_run(r->pool, s.n_an + s.fast + s.n_sc, step_task, &s);
    if (atomic_load(&s.out_of_memory)) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (atomic_load(&s.scale_failed))
        return lens_error_set(err, LENS_EUNSUP, "%s: cannot convert pixel format %s", r->info.path,
                              av_get_pix_fmt_name(next->format));
    if (r->have_cur) {
        apply_cuts(r);
        r->have_cur = 0;
        av_frame_unref(r->yf[r->cur_slot]);
        for (size_t i = 0; i < r->n_ach; i++) {
            const struct achunk *c = &r->ach[i];
            if (c->ch) deliver_native(r, r->apcm + c->off, c->n, c->ch, c->rate);
            else deliver_audio(r, r->apcm + c->off, c->n, c->t);
        }
        r->n_ach = r->apcm_n = 0;
    }
    return 0;
}

/* the end of the frames: the last one's analyzers */
static int step_flush(lens__vrun *r, lens_error *err) { return r->have_cur ? step_run(r, NULL, 0, err) : 0; }

static int on_video_frame(lens__vrun *r, AVFrame *f, lens_error *err)
{
    AVStream *st = r->fmt->streams[r->vidx];
    int64_t pts = f->best_effort_timestamp;
    double t;
    if (pts == AV_NOPTS_VALUE) t = r->frames ? r->last_t + r->frame_dur : 0;
    else {
        int64_t start = st->start_time != AV_NOPTS_VALUE ? st->start_time : 0;
        t = (pts - start) * av_q2d(st->time_base);
    }
    /* timestamps only go forward (a broken stream can repeat or reorder them) */
    if (r->frames && t <= r->last_t) t = r->last_t + 1e-6;
    if (t < 0) t = 0;
    int sampled = 0;
    if (t + 1e-9 >= r->next_sample_t) {
        sampled = 1;
        double dt = 1.0 / r->o->sample_fps;
        while (r->next_sample_t <= t + 1e-9) r->next_sample_t += dt;
    }
    /* the waiting frame's analyzers see the run as it was at that frame,
     * so this frame is counted only after them */
    int slot = r->have_cur ? !r->cur_slot : 0;
    if (step_run(r, f, sampled, err)) return err->code;

    /* a frame lasts 1/fps, or (no declared rate) as long as the interval before it */
    if (r->frames && r->info.fps <= 0) r->frame_dur = t - r->last_t;
    r->last_t = t;
    r->times[r->frames % TIMES] = t;
    int64_t index = r->frames++;
    if (r->tsc.out[0]) {
        int bad = thumb_put(&r->ring[index % THUMB_RING], index, f);
        if (pow2_offset(index - r->shot_start)) bad |= cand_push(r, index, f);
        if (bad) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    /* a sampled frame's analyzers read the decoder's luma plane a step
     * later: the slot keeps a reference to it until they are done */
    av_frame_unref(r->yf[slot]);
    r->cur_y = 0;
    if (sampled && yuv8(f)) {
        if (av_frame_ref(r->yf[slot], f) < 0) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        r->cur_y = 1;
    }
    r->have_cur = 1, r->cur_slot = slot, r->cur_index = index, r->cur_t = t, r->cur_sampled = sampled;
    return 0;
}

static int on_audio_frame(lens__vrun *r, AVFrame *f, lens_error *err)
{
    if (f->sample_rate > 0) r->audio_s += (double)f->nb_samples / f->sample_rate;
    if (r->want_native) {
        if (!r->nswr) {
            AVChannelLayout inl;
            if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || !f->ch_layout.nb_channels)
                av_channel_layout_default(&inl, f->ch_layout.nb_channels ? f->ch_layout.nb_channels : 1);
            else if (av_channel_layout_copy(&inl, &f->ch_layout) < 0)
                return lens_error_set(err, LENS_ENOMEM, "out of memory");
            r->nrate = f->sample_rate, r->nch = inl.nb_channels;
            int e = swr_alloc_set_opts2(&r->nswr, &inl, AV_SAMPLE_FMT_FLT, f->sample_rate, &inl, f->format,
                                        f->sample_rate, 0, NULL);
            av_channel_layout_uninit(&inl);
            if (e < 0 || (e = swr_init(r->nswr)) < 0) return averr(err, LENS_EUNSUP, r->info.path, e);
        }
        int need = swr_get_out_samples(r->nswr, f->nb_samples);
        if (need < 0) return lens_error_set(err, LENS_EFORMAT, "%s: audio conversion failed", r->info.path);
        if (lens__grow((void **)&r->npcm, &r->npcm_cap, (size_t)need * r->nch, sizeof(float)) != 0)
            return lens_error_set(err, LENS_ENOMEM, "out of memory");
        uint8_t *out[1] = {(uint8_t *)r->npcm};
        int n = swr_convert(r->nswr, out, need, (const uint8_t **)f->extended_data, f->nb_samples);
        if (n < 0) return averr(err, LENS_EFORMAT, r->info.path, n);
        if (n > 0 && audio_out(r, r->npcm, (size_t)n, r->nch, r->nrate, 0, err)) return err->code;
    }
    if (!r->want_audio) return 0;
    if (!r->swr) {
        AVChannelLayout mono = AV_CHANNEL_LAYOUT_MONO, inl;
        if (f->ch_layout.order == AV_CHANNEL_ORDER_UNSPEC || !f->ch_layout.nb_channels)
            av_channel_layout_default(&inl, f->ch_layout.nb_channels ? f->ch_layout.nb_channels : 1);
        else if (av_channel_layout_copy(&inl, &f->ch_layout) < 0)
            return lens_error_set(err, LENS_ENOMEM, "out of memory");
        int e = swr_alloc_set_opts2(&r->swr, &mono, AV_SAMPLE_FMT_FLT, 16000, &inl, f->format, f->sample_rate, 0, NULL);
        av_channel_layout_uninit(&inl);
        if (e < 0 || (e = swr_init(r->swr)) < 0) return averr(err, LENS_EUNSUP, r->info.path, e);
    }
    int need = swr_get_out_samples(r->swr, f->nb_samples);
    if (need < 0) return lens_error_set(err, LENS_EFORMAT, "%s: audio resampling failed", r->info.path);
    if (lens__grow((void **)&r->pcm, &r->pcm_cap, (size_t)need, sizeof(float)) != 0)
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    uint8_t *out[1] = {(uint8_t *)r->pcm};
    int n = swr_convert(r->swr, out, need, (const uint8_t **)f->extended_data, f->nb_samples);
    if (n < 0) return averr(err, LENS_EFORMAT, r->info.path, n);
    double t = r->audio_samples / 16000.0;
    r->audio_samples += n;
    if (n <= 0) return 0;
    return audio_out(r, r->pcm, (size_t)n, 0, 0, t, err);
}

/* Sends pkt (NULL: flush) and takes every frame out. */
static int decode(lens__vrun *r, AVCodecContext *d, AVPacket *pkt, AVFrame *f, lens_error *err)
{
    int e = avcodec_send_packet(d, pkt);
    if (e < 0 && e != AVERROR_EOF) note_decode_error(r, d == r->vdec ? "video" : "audio", e);
    for (;;) {
        e = avcodec_receive_frame(d, f);
        if (e == AVERROR(EAGAIN) || e == AVERROR_EOF) return 0;
        if (e < 0) {
            note_decode_error(r, d == r->vdec ? "video" : "audio", e);
            return 0;
        }
        int rc = d == r->vdec ? on_video_frame(r, f, err) : on_audio_frame(r, f, err);
        av_frame_unref(f);
        if (rc) return rc;
        if (r->thumb_err) return lens_error_set(err, r->terr.code, "%s", r->terr.msg);
        if (d == r->vdec && r->o->progress && r->frames % 16 == 0)
            r->o->progress(r->o->ctx, r->frames, r->last_t,
                           r->info.duration_s > 0 ? fmin(1, r->last_t / r->info.duration_s) : -1);
    }
}

static int run_decode(lens__vrun *r, lens_error *err)
{
    AVPacket *pkt = av_packet_alloc();
    AVFrame *f = av_frame_alloc();
    if (!pkt || !f) {
        av_packet_free(&pkt), av_frame_free(&f);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    int rc = 0;
    for (;;) {
        if (r->o->stop && atomic_load(r->o->stop)) {
            rc = lens_error_set(err, LENS_ECANCEL, "%s: stopped", r->info.path);
            break;
        }
        int e = av_read_frame(r->fmt, pkt);
        if (e == AVERROR_EOF) break;
        if (e < 0) {
            rc = averr(err, LENS_EFORMAT, r->info.path, e);
            break;
        }
        if (pkt->stream_index == r->vidx) r->packets++, rc = decode(r, r->vdec, pkt, f, err);
        else if (pkt->stream_index == r->aidx && r->decode_audio) r->packets++, rc = decode(r, r->adec, pkt, f, err);
        av_packet_unref(pkt);
        if (rc) break;
    }
    if (!rc && r->vdec) rc = decode(r, r->vdec, NULL, f, err);
    if (!rc && r->adec && r->decode_audio) rc = decode(r, r->adec, NULL, f, err);
    if (!rc) rc = step_flush(r, err);
    av_packet_free(&pkt);
    av_frame_free(&f);
    return rc;
}

/* ---- the run ---- */

/* which of the registry a list names; cut_analysis always (the shots every
 * other analyzer works per) */
static int parse_list(const char *list, int want[N_REG], lens_error *err)
{
    memset(want, 0, N_REG * sizeof *want);
    if (list && !strcmp(list, "none")) return 0; /* decode alone (benchmarks): one shot, no analysis */
    want[0] = 1;
    if (!list || !*list || !strcmp(list, "all")) {
        for (size_t i = 0; i < N_REG; i++) want[i] = 1;
        return 0;
    }
    const char *p = list;
    while (*p) {
        size_t n = strcspn(p, ",");
        size_t i = 0;
        for (; i < N_REG; i++)
            if (strlen(registry[i]->name) == n && !strncmp(registry[i]->name, p, n)) break;
        if (i == N_REG)
            return lens_error_set(err, LENS_EINVAL, "unknown analyzer '%.*s' (known: %s, all)", (int)n, p,
                                  lens_video_analyzer_names());
        want[i] = 1;
        p += n + (p[n] == ',');
    }
    return 0;
}

int lens__video_analyzer_list(const char *list, char *out, size_t cap, lens_error *err)
{
    int want[N_REG];
    if (parse_list(list, want, err)) return err->code;
    size_t len = 0;
    out[0] = '\0';
    for (size_t i = 0; i < N_REG; i++)
        if (want[i]) len += (size_t)snprintf(out + len, len < cap ? cap - len : 0, "%s%s", len ? "," : "", registry[i]->name);
    return len < cap ? 0 : lens_error_set(err, LENS_EINVAL, "analyzer list too long");
}

static int select_analyzers(lens__vrun *r, const char *list, lens_error *err)
{
    int want[N_REG];
    if (parse_list(list, want, err)) return err->code;
    for (size_t i = 0; i < N_REG; i++)
        if (want[i]) r->an[r->n_an++] = registry[i];
    return 0;
}

static void free_run(lens__vrun *r)
{
    for (int i = 0; i < r->n_an; i++)
        if (r->st[i] && r->an[i]->free) r->an[i]->free(r->st[i]);
    for (int i = 0; i < r->n_sc; i++) scaler_free(&r->sc[i]);
    scaler_free(&r->tsc);
    lens__vbase_free(&r->base);
    for (int i = 0; i < THUMB_RING; i++) av_frame_free(&r->ring[i].f);
    for (int i = 0; i < CANDS; i++) av_frame_free(&r->cand[i].f);
    avcodec_free_context(&r->vdec);
    avcodec_free_context(&r->adec);
    avformat_close_input(&r->fmt);
    swr_free(&r->swr);
    free(r->pcm);
    swr_free(&r->nswr);
    free(r->npcm);
    for (int k = 0; k < 2; k++) av_frame_free(&r->yf[k]);
    free(r->apcm);
    free(r->ach);
    lens_pool_free(r->own_pool);
    json_decref(r->shots);
}

static int setup(lens__vrun *r, lens_error *err)
{
    int threads = r->o->threads > 0 ? r->o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (threads < 1) threads = 1;
    if (r->info.has_video && open_decoder(r->fmt->streams[r->vidx], threads, &r->vdec, r->info.path, err)) return err->code;
    for (int k = 0; k < 2 && r->info.has_video; k++)
        if (!(r->yf[k] = av_frame_alloc())) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    /* the analyzers' pool: the caller's, or one of `threads` for this video */
    r->pool = r->o->pool;
    if (!r->pool && threads > 1 && r->info.has_video) {
        if (lens_pool_new(&r->own_pool, threads, err)) return err->code;
        r->pool = r->own_pool;
    }
    for (int i = 0; i < r->n_an; i++) {
        const lens__vanalyzer *a = r->an[i];
        if (a->needs & LENS__VNEED_AUDIO) r->want_audio = 1;
        if (a->needs & LENS__VNEED_AUDIO_NATIVE) r->want_native = 1;
        if (r->info.has_video && (a->needs & LENS__VNEED_EVERY)) {
            if ((r->an_every[i] = scaler_for(r, a->width, 1, err)) < 0) return err->code;
        }
        if (r->info.has_video && (a->needs & LENS__VNEED_SAMPLED)) {
            if ((r->an_sampled[i] = scaler_for(r, a->sample_width, 0, err)) < 0) return err->code;
        }
    }
    for (int i = 0; i < r->n_sc; i++)
        if (r->sc[i].every) {
            if (r->sc[i].sw > r->base_w) r->base_w = r->sc[i].sw;
            if (r->sc[i].sh > r->base_h) r->base_h = r->sc[i].sh;
        }
    /* audio is decoded when an analyzer listens, or when it is all there is */
    r->decode_audio = r->info.has_audio && (r->want_audio || r->want_native || !r->info.has_video);
    if (r->decode_audio && open_decoder(r->fmt->streams[r->aidx], 1, &r->adec, r->info.path, err)) {
        if (r->info.has_video && err->code == LENS_EUNSUP) { /* a video whose audio we cannot decode: analyze the video */
            r->decode_audio = 0, r->info.has_audio = 0;
            avcodec_free_context(&r->adec);
            lens_error_clear(err);
        } else return err->code;
    }
    if (r->o->thumbs_dir && r->info.has_video) {
        fit(&r->info, THUMB_W, &r->tsc.w, &r->tsc.h);
        int swap = r->info.rotation == 90 || r->info.rotation == 270;
        r->tsc.sw = swap ? r->tsc.h : r->tsc.w, r->tsc.sh = swap ? r->tsc.w : r->tsc.h;
        size_t n = (size_t)r->tsc.w * r->tsc.h * 3;
        r->tsc.out[0] = malloc(n);
        r->tsc.pre[0] = r->info.rotation ? malloc(n) : r->tsc.out[0];
        if (!r->tsc.out[0] || !r->tsc.pre[0]) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        for (int i = 0; i < THUMB_RING; i++)
            if (!(r->ring[i].f = av_frame_alloc())) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        for (int i = 0; i < CANDS; i++)
            if (!(r->cand[i].f = av_frame_alloc())) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    for (int i = 0; i < THUMB_RING; i++) r->ring[i].index = -1;
    for (int i = 0; i < CANDS; i++) r->cand[i].index = -1;
    for (int i = 0; i < r->n_an; i++)
        if (r->an[i]->init && r->an[i]->init(&r->st[i], r, &r->info, err)) return err->code;
    return 0;
}

static int check_complete(lens__vrun *r, lens_error *err)
{
    const char *p = r->info.path;
    double got = fmax(r->frames ? r->last_t + r->frame_dur : 0, r->audio_s);
    if (!r->frames && r->audio_s <= 0)
        return lens_error_set(err, LENS_EFORMAT, "%s: nothing decodable%s%s%s", p, r->decode_errors ? " (" : "",
                              r->decode_errors ? r->first_err : "", r->decode_errors ? ")" : "");
    if (r->decode_errors > 2 && r->decode_errors * 100 > r->packets)
        return lens_error_set(err, LENS_EFORMAT, "%s: corrupt: %d of %d packets undecodable (%s)", p, r->decode_errors,
                              r->packets, r->first_err);
    /* a file cut short still decodes: what it declares says it is incomplete */
    if (r->info.duration_s > 1 && got < 0.9 * r->info.duration_s - 0.5)
        return lens_error_set(err, LENS_EFORMAT, "%s: truncated: decoded %.2f s of the %.2f s it declares", p, got,
                              r->info.duration_s);
    return 0;
}

int lens_video_analyze(const char *path, const lens_video_opts *opts, char **json, lens_error *err)
{
    *json = NULL;
    lens_video_opts o = *opts;
    if (o.sample_fps <= 0) o.sample_fps = 2;
    double t0 = lens__clock_mono();
    struct stat sb;
    if (stat(path, &sb) != 0) return lens_error_set(err, LENS_ENOTFOUND, "%s: %s", path, strerror(errno));
    lens__vrun *r = calloc(1, sizeof *r);
    if (!r) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    r->o = &o;
    r->shots = json_array();
    r->shot_transition = "none";
    r->shot_conf = 1;
    r->info.file_size = sb.st_size;
    int rc = select_analyzers(r, o.analyzers, err);
    if (!rc) rc = probe(r, path, err);
    if (!rc) r->frame_dur = r->info.fps > 0 ? 1 / r->info.fps : 0;
    if (!rc) rc = setup(r, err);
    if (!rc) rc = run_decode(r, err);
    if (!rc) rc = check_complete(r, err);
    if (!rc)
        for (int i = 0; i < r->n_an; i++)
            if (r->an[i]->on_end) r->an[i]->on_end(r->st[i], r->frames);
    if (!rc) apply_cuts(r);
    if (!rc && r->frames) end_shot(r, r->frames);
    if (!rc && r->thumb_err) rc = lens_error_set(err, r->terr.code, "%s", r->terr.msg);
    json_t *root = NULL;
    if (!rc) {
        lens__vinfo *in = &r->info;
        double dur = fmax(r->frames ? r->last_t + r->frame_dur : 0, r->audio_s);
        if (dur <= 0) dur = in->duration_s;
        double fps = in->fps > 0 ? in->fps : (r->frames && dur > 0 ? r->frames / dur : 0);
        root = json_object();
        json_object_set_new(root, "lens_video", json_integer(1));
        json_t *src = json_object();
        json_object_set_new(src, "path", json_string(path));
        json_object_set_new(src, "size", json_integer(sb.st_size));
        json_object_set_new(src, "mtime_ns", json_integer((json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec));
        json_object_set_new(src, "format", json_string(in->format));
        json_object_set_new(root, "source", src);
        json_t *opt = json_object(), *names = json_array();
        for (int i = 0; i < r->n_an; i++) json_array_append_new(names, json_string(r->an[i]->name));
        json_object_set_new(opt, "analyzers", names);
        json_object_set_new(opt, "sample_fps", json_real(o.sample_fps));
        json_object_set_new(root, "options", opt);
        json_object_set_new(root, "duration_s", json_real(ms(dur)));
        json_object_set_new(root, "fps", json_real(round(fps * 1000) / 1000));
        json_object_set_new(root, "frames", json_integer(r->frames));
        json_object_set_new(root, "width", json_integer(in->width));
        json_object_set_new(root, "height", json_integer(in->height));
        json_object_set_new(root, "rotation", json_integer(in->rotation));
        json_object_set_new(root, "has_video", json_boolean(in->has_video));
        json_object_set_new(root, "has_audio", json_boolean(in->has_audio));
        json_object_set_new(root, "shots", json_incref(r->shots));
        for (int i = 0; i < r->n_an && !rc; i++) {
            json_t *a = json_object();
            json_object_set_new(root, r->an[i]->name, a);
            if (r->an[i]->finish) rc = r->an[i]->finish(r->st[i], a, err);
        }
        double wall = lens__clock_mono() - t0;
        json_object_set_new(root, "decode_errors", json_integer(r->decode_errors));
        json_object_set_new(root, "wall_s", json_real(ms(wall)));
        json_object_set_new(root, "realtime_factor", json_real(wall > 0 ? round(dur / wall * 10) / 10 : 0));
    }
    if (!rc) {
        *json = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(10));
        if (!*json) rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    json_decref(root);
    free_run(r);
    free(r);
    return rc;
}
