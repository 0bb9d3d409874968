/* cut_analysis: shot boundaries from every frame at low resolution.
 *
 * Each frame becomes HSV planes, a colour histogram, its mean luma and
 * whether it is blank (black, a title in small letters allowed, or one flat
 * colour), and its deltas to the frame before: content (mean of the hue
 * (circular), saturation and value differences, 0..255) and histogram
 * (1 - intersection). Three detectors share them:
 *  - hard cuts: a content delta above a floor and well above the median of
 *    its neighbours' (the WIN frames before and LA after: an adaptive
 *    threshold), or a histogram change that stands out the same way (a cut
 *    in fast motion, where every frame's pixels change anyway); kept only
 *    if the picture does not come back: every frame up to LA after must
 *    still differ from every frame up to LA+1 before. A flash, a muzzle
 *    blast or one frame of fast motion comes back and splits nothing;
 *    steady fast motion has high deltas all around, so none stands out.
 *    A change next to a blank frame is left to the fades.
 *  - fades: a run of blank frames inside the video (through black, white
 *    or any flat colour); the boundary is the middle of the run, the span
 *    from where the luma began to fall to where it stopped rising. One or
 *    two blank frames with the same picture either side are a blink.
 *  - dissolves: over a window of L frames the net change of saturation and
 *    value rises well above that of the windows before, is most of their
 *    total variation (motion moves pixels up and down), no single step
 *    holds most of it (that is a cut), and the middle frame lies near the
 *    mean of the two ends (each pixel moves on a line). A run of such
 *    windows, away from blank frames, shorter than 4 s, after which the
 *    picture differs from before, is a dissolve; the boundary is its middle.
 * Decisions lag the frames by a bounded number (LA for cuts, the run plus
 * 2L for dissolves, half a blank run for fades), within LENS__VIDEO_LAG. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "video/video_internal.h"

#define K 16          /* frames kept (features): > 2*LA + 2 and > L */
#define LA 3          /* lookahead of the hard-cut test */
#define WIN 8         /* frames before a candidate in its adaptive ratio */
#define L 8           /* the dissolve window */
#define MIN_DELTA 12  /* a cut's delta at least this (0..255) */
#define RATIO 3.0     /* ... and this many times its neighbours' median */
#define HIST_MIN 0.3  /* or its colour histogram's change at least this */
#define HIST_RATIO 2.5 /* ... and this many times its neighbours' median */
#define RETURN 0.4    /* the picture "came back" below this share of the cut's delta */
#define BLACK_LUMA 16 /* mean luma of a black frame, at most */
#define FLAT_STD 3    /* luma deviation of a frame of one flat colour, at most */
#define DIS_NET 8     /* a dissolve window's net S+V change, at least */
#define DIS_RISE 2.5  /* ... and this many times that of the windows before */
#define DIS_MONO 0.5  /* ... at least this share of its total variation */
#define DIS_BEND 0.8  /* ... its middle frame near the mean of its ends */
#define DIS_STEP 0.35 /* ... with no step above this share */

#define HB 96 /* colour histogram: 8 hues x 3 saturations x 3 values, 24 greys */

typedef struct slot {
    int64_t index;
    uint8_t *hsv; /* h plane, s plane, v plane */
    float hist[HB]; /* shares of the pixels */
    double luma, bright, d, dsv, hd;
    int black;
} slot;

typedef struct transition {
    int64_t frame, span0, span1;
    double t;
    const char *type;
    double conf;
} transition;

typedef struct cut {
    lens__vrun *run;
    double fps;
    int w, h, npix;
    slot ring[K];
    int64_t n;            /* frames seen */
    int64_t last_cut, min_gap;
    /* fades */
    int in_black;
    int64_t black_start, dec_start, last_black, fade_pending; /* fade_pending: its transition's index, or -1 */
    int64_t fade0, fade1; /* the last fade's span (black at the start or end too) */
    int fade_rising;
    /* dissolves */
    int64_t run0, run1;   /* current run of dissolve windows [run0, run1), run1 < 0: none */
    double run_mono;
    int run_long;         /* the run has gone on too long to be a dissolve */
    double base_net;      /* moving mean of the net change of windows outside runs */
    slot pre;             /* the frame before the run's first window */
    int64_t dis_frame, dis_span0, dis_span1, dis_due; /* a pending dissolve, dis_due < 0: none */
    double dis_conf;
    transition *tr;
    size_t n_tr, cap_tr;
    int hard, fades, dissolves, flashes;
    int oom;
} cut;

static slot *at(cut *c, int64_t i) { return &c->ring[i % K]; }

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    cut *c = calloc(1, sizeof *c);
    if (!c) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    *state = c;
    c->run = run;
    c->fps = info->fps > 0 ? info->fps : 25;
    c->last_cut = 0;
    c->min_gap = (int64_t)fmax(3, 0.2 * c->fps);
    c->last_black = -1000000;
    c->fade_pending = -1;
    c->fade0 = c->fade1 = 0;
    c->run1 = -1, c->dis_due = -1;
    return 0;
}

static void add_transition(cut *c, int64_t frame, const char *type, double conf, int64_t s0, int64_t s1)
{
    if (frame <= c->last_cut) return;
    if (frame - c->last_cut < c->min_gap && c->last_cut > 0) return;
    if (lens__grow((void **)&c->tr, &c->cap_tr, c->n_tr + 1, sizeof *c->tr)) {
        c->oom = 1;
        return;
    }
    c->tr[c->n_tr++] = (transition){frame, s0, s1, lens__video_time(c->run, frame), type, conf};
    c->last_cut = frame;
    lens__video_cut(c->run, frame, type, conf, s0, s1);
}

/* mean of the H (circular), S and V differences of two kept frames */
static double delta(const cut *c, const slot *a, const slot *b)
{
    const uint8_t *ha = a->hsv, *hb = b->hsv;
    int n = c->npix;
    long sum = 0;
    for (int i = 0; i < n; i++) {
        int dh = abs(ha[i] - hb[i]);
        if (dh > 128) dh = 256 - dh;
        sum += dh + abs(ha[n + i] - hb[n + i]) + abs(ha[2 * n + i] - hb[2 * n + i]);
    }
    return sum / (3.0 * n);
}

static double delta_sv(const cut *c, const slot *a, const slot *b)
{
    const uint8_t *pa = a->hsv + c->npix, *pb = b->hsv + c->npix;
    long sum = 0;
    for (int i = 0; i < 2 * c->npix; i++) sum += abs(pa[i] - pb[i]);
    return sum / (2.0 * c->npix);
}

/* 1 - histogram intersection: 0 for the same colours, 1 for none shared */
static double hist_dist(const slot *a, const slot *b)
{
    double in = 0;
    for (int i = 0; i < HB; i++) in += a->hist[i] < b->hist[i] ? a->hist[i] : b->hist[i];
    return 1 - in;
}

/* how far the middle of a window is from the mean of its ends, as a share
 * of their distance: 0 for a dissolve (each pixel moves on a line), about
 * 1 for motion */
static double bend(const cut *c, const slot *a, const slot *m, const slot *b)
{
    const uint8_t *pa = a->hsv + c->npix, *pm = m->hsv + c->npix, *pb = b->hsv + c->npix;
    long off = 0, net = 0;
    for (int i = 0; i < 2 * c->npix; i++) {
        off += abs(2 * pm[i] - pa[i] - pb[i]);
        net += abs(pa[i] - pb[i]);
    }
    return net ? (double)off / net : 1;
}

static void features(cut *c, slot *s, const lens__vframe *f)
{
    int n = c->npix;
    uint8_t *H = s->hsv, *S = H + n, *V = S + n;
    long lsum = 0, lsq = 0;
    int bright = 0;
    for (int i = 0; i < n; i++) {
        const uint8_t *p = f->rgb + 3 * i;
        int r = p[0], g = p[1], b = p[2];
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b);
        int mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        int d = mx - mn, hue = 0;
        if (d) {
            /* hue on 0..255, 256 being a full turn */
            if (mx == r) hue = (43 * (g - b)) / d;
            else if (mx == g) hue = 85 + (43 * (b - r)) / d;
            else hue = 171 + (43 * (r - g)) / d;
            hue &= 255;
        }
        H[i] = (uint8_t)hue;
        S[i] = (uint8_t)(mx ? 255 * d / mx : 0);
        V[i] = (uint8_t)mx;
        int y = (77 * r + 150 * g + 29 * b) >> 8;
        lsum += y;
        lsq += y * y;
        bright += y > 48;
    }
    memset(s->hist, 0, sizeof s->hist);
    float w = 1.0f / n;
    for (int i = 0; i < n; i++) {
        /* a grey pixel has no hue: its own bins */
        int b = S[i] < 40 ? 72 + V[i] * 24 / 256 : (H[i] >> 5) * 9 + (S[i] >= 140 ? 6 : S[i] >= 90 ? 3 : 0) + V[i] / 86;
        s->hist[b] += w;
    }
    s->luma = (double)lsum / n;
    s->bright = (double)bright / n;
    double var = (double)lsq / n - s->luma * s->luma;
    /* black (a title in small letters allowed), or one flat colour (white, grey) */
    s->black = (s->luma <= BLACK_LUMA && s->bright < 0.02) || var <= FLAT_STD * FLAT_STD;
}

static double median(double *v, int n)
{
    if (!n) return 0;
    for (int i = 1; i < n; i++) /* insertion sort: n <= 2 * (WIN + LA) */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double t = v[j];
            v[j] = v[j - 1], v[j - 1] = t;
        }
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* Is frame k a hard cut (lookahead la frames, all of which are kept)? */
static void test_cut(cut *c, int64_t k, int la)
{
    if (k < 1) return;
    slot *s = at(c, k);
    /* a change into black or out of it is the fade's (a fast fade makes
     * steps as big as a cut's) */
    if (s->d < MIN_DELTA) return;
    for (int64_t j = k - 1 - LA; j <= k + la; j++)
        if (j >= 0 && c->n - j <= K && at(c, j)->black) return;
    /* the medians of the neighbours' deltas: one neighbour that is part of
     * the same change (a cut over two frames, a blurred frame) moves them little */
    double dn[2 * WIN + 2 * LA], hn[2 * WIN + 2 * LA];
    int m = 0;
    for (int64_t j = k - WIN; j <= k + la; j++)
        if (j >= 1 && j != k && c->n - j <= K && j < c->n) dn[m] = at(c, j)->d, hn[m] = at(c, j)->hd, m++;
    double ratio = s->d / (median(dn, m) + 2), hratio = s->hd / (median(hn, m) + 0.02);
    /* the pixels change far more than around (a cut within one scene), or
     * the colours do (a cut in fast motion, whose pixels change anyway) */
    int by_pixels = ratio >= RATIO, by_colours = s->hd >= HIST_MIN && hratio >= HIST_RATIO;
    if (!by_pixels && !by_colours) return;
    /* the picture must not come back (a flash, one frame of fast motion) */
    for (int64_t b = k - 1; b >= k - 1 - LA && b >= 0 && c->n - b <= K; b--)
        for (int64_t a = k; a <= k + la; a++)
            if (delta(c, at(c, b), at(c, a)) < RETURN * s->d) {
                c->flashes++;
                return;
            }
    c->hard++;
    add_transition(c, k, "cut", fmin(1, 0.5 + fmax(ratio - RATIO, hratio - HIST_RATIO) / 10), k, k + 1);
}

static void emit_dissolve(cut *c)
{
    /* not next to black: that is a fade */
    if ((c->last_black >= c->dis_span0 - L && c->last_black < c->dis_span1 + L) ||
        (c->fade1 > c->fade0 && c->fade0 < c->dis_span1 + L && c->fade1 + L > c->dis_span0)) {
        c->dis_due = -1;
        return;
    }
    if (c->dis_frame > c->last_cut) {
        c->dissolves++;
        add_transition(c, c->dis_frame, "dissolve", c->dis_conf, c->dis_span0, c->dis_span1);
    }
    c->dis_due = -1;
}

static void end_run(cut *c)
{
    int64_t len = c->run1 - c->run0;
    /* a run of steady change for seconds is a slow move, not a dissolve; and
     * the picture after must differ from the one before (else something
     * passed by) */
    if (len >= 3 && !c->run_long && c->dis_due < 0 && delta(c, &c->pre, at(c, c->n - 1)) >= MIN_DELTA) {
        c->dis_span0 = c->run0 - L, c->dis_span1 = c->run1;
        c->dis_frame = (c->run0 + c->run1 - L) / 2;
        c->dis_conf = fmin(1, c->run_mono / len);
        c->dis_due = c->run1 + L;
        if (c->dis_span0 <= c->last_cut) c->dis_due = -1; /* a cut inside: the cut stands */
    }
    c->run1 = -1;
}

static void test_dissolve(cut *c, int64_t i)
{
    if (i < L) return;
    slot *a = at(c, i - L), *b = at(c, i);
    double total = 0, step = 0;
    for (int64_t k = i - L + 1; k <= i; k++) {
        double d = at(c, k)->dsv;
        total += d;
        if (d > step) step = d;
    }
    double net = delta_sv(c, a, b), mono = total > 0 ? net / total : 0;
    int is = 0;
    if (total > 0 && !a->black && !b->black && a->luma > 2 * BLACK_LUMA && b->luma > 2 * BLACK_LUMA &&
        net >= DIS_NET && net >= DIS_RISE * c->base_net && mono >= DIS_MONO && step <= DIS_STEP * total)
        is = bend(c, a, at(c, i - L / 2), b) <= DIS_BEND;
    if (is) {
        if (c->run1 < 0) {
            c->run0 = i, c->run_mono = 0, c->run_long = 0;
            memcpy(c->pre.hsv, a->hsv, 3 * (size_t)c->npix);
        }
        c->run1 = i + 1;
        c->run_mono += mono;
        if (c->run1 - c->run0 > 4 * c->fps) c->run_long = 1;
        return;
    }
    if (c->run1 >= 0) end_run(c);
    /* the baseline follows the last second or so */
    c->base_net = i == L ? net : c->base_net + (net - c->base_net) / c->fps;
}

/* a rise of the mean luma beyond what motion and noise make */
static int rises(const slot *p, const slot *s) { return s->luma > p->luma + 1 + 0.02 * p->luma; }

static void fades(cut *c, int64_t i)
{
    slot *s = at(c, i);
    /* a fade out starts where the luma began to fall, frame after frame */
    if (i > 0 && !(s->luma < at(c, i - 1)->luma * 0.98 - 0.25)) c->dec_start = i;
    /* a fade in lasts while the luma rises (up to 4 s) */
    if (c->fade_rising && i > 0) {
        if (rises(at(c, i - 1), s) && i - c->fade1 < 4 * c->fps) {
            c->fade1 = i + 1;
            if (c->fade_pending >= 0) c->tr[c->fade_pending].span1 = i + 1;
        } else c->fade_rising = 0, c->fade_pending = -1;
    }
    if (s->black) {
        c->last_black = i;
        if (!c->in_black) {
            c->in_black = 1, c->black_start = i;
            c->fade0 = c->dec_start < i ? c->dec_start : i;
        }
        c->fade1 = i + 1;
        return;
    }
    if (c->in_black) {
        c->in_black = 0;
        c->fade_rising = 1;
        c->fade1 = i + 1;
        int64_t a = c->black_start;
        /* a blank frame or two, and the same
         * picture after as before: a blink or a flash, not a boundary */
        int blink = a > 0 && i - a <= 2 && c->n - (a - 1) <= K &&
                    delta(c, at(c, a - 1), s) < MIN_DELTA;
        if (a > 0 && !blink) {
            /* black inside the video: a fade out, a fade in, or both */
            int64_t mid = (c->black_start + i) / 2;
            size_t before = c->n_tr;
            c->fades++;
            add_transition(c, mid, "fade", 1, c->fade0, i + 1);
            c->fade_pending = c->n_tr > before ? (int64_t)before : -1;
        }
    }
}

static void on_frame(void *state, const lens__vframe *f)
{
    cut *c = state;
    if (!c->npix) {
        c->w = f->w, c->h = f->h, c->npix = f->w * f->h;
        for (int i = 0; i <= K; i++)
            if (!((i < K ? &c->ring[i] : &c->pre)->hsv = malloc(3 * (size_t)c->npix))) c->oom = 1;
    }
    if (c->oom) return;
    int64_t i = c->n++;
    slot *s = at(c, i);
    s->index = i;
    features(c, s, f);
    if (i > 0) {
        s->d = delta(c, at(c, i - 1), s);
        s->dsv = delta_sv(c, at(c, i - 1), s);
        s->hd = hist_dist(at(c, i - 1), s);
    } else s->d = s->dsv = s->hd = 0;
    fades(c, i);
    test_dissolve(c, i);
    if (c->dis_due >= 0 && (i >= c->dis_due || c->last_black >= c->dis_span0 - L)) emit_dissolve(c);
    test_cut(c, i - LA, LA);
}

static void on_end(void *state, int64_t frames)
{
    cut *c = state;
    for (int64_t k = c->n - LA + 1; k < c->n; k++)
        if (k >= 1) test_cut(c, k, (int)(c->n - 1 - k));
    if (c->run1 >= 0) end_run(c);
    if (c->dis_due >= 0) emit_dissolve(c);
}

static int finish(void *state, json_t *out, lens_error *err)
{
    cut *c = state;
    if (c->oom) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    json_t *list = json_array();
    for (size_t i = 0; i < c->n_tr; i++) {
        transition *t = &c->tr[i];
        json_t *j = json_object();
        json_object_set_new(j, "frame", json_integer(t->frame));
        json_object_set_new(j, "time_s", json_real(round(t->t * 1000) / 1000));
        json_object_set_new(j, "type", json_string(t->type));
        json_object_set_new(j, "span", json_pack("[II]", (json_int_t)(t->span0 < 0 ? 0 : t->span0), (json_int_t)t->span1));
        json_object_set_new(j, "confidence", json_real(round(t->conf * 1000) / 1000));
        json_array_append_new(list, j);
    }
    json_object_set_new(out, "transitions", list);
    json_object_set_new(out, "analysis_size", json_pack("[ii]", c->w, c->h));
    json_object_set_new(out, "returns_ignored", json_integer(c->flashes));
    return 0;
}

static void cfree(void *state)
{
    cut *c = state;
    for (int i = 0; i < K; i++) free(c->ring[i].hsv);
    free(c->pre.hsv);
    free(c->tr);
    free(c);
}

const lens__vanalyzer lens__video_cut_analysis = {
    .name = "cut_analysis",
    .needs = LENS__VNEED_EVERY,
    .width = 128,
    .init = init,
    .on_frame = on_frame,
    .on_end = on_end,
    .finish = finish,
    .free = cfree,
};
