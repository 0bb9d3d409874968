/* color_analysis: per shot and per video, from the frames sampled at
 * opts.sample_fps at SAMPLE_W wide: dominant colours (k-means in CIELAB on
 * pixels taken on a grid, up to K, each with its share and hex), brightness
 * (mean luma), contrast (RMS of the luma), saturation (mean HSV
 * saturation), colourfulness (Hasler and Suesstrunk 2003, pooled over the
 * shot's pixels), warm/cool balance (mean of R - B) and black bars (dark
 * rows or columns at the edges of every frame of the shot).
 *
 * Shots are announced after they end, so each sampled frame's figures (a
 * few sums and PPF Lab pixels) wait in a bounded queue; a shot's and the
 * video's pixels are reservoirs of at most SHOT_CAP and VIDEO_CAP, so
 * memory does not grow with the video. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video/video_internal.h"

#define SAMPLE_W 160
#define QCAP 256       /* > LENS__VIDEO_LAG: sampled frames waiting for their shot */
#define PPF 600        /* Lab pixels kept per sampled frame */
#define SHOT_CAP 6000  /* a shot's pixels for k-means */
#define VIDEO_CAP 12000
#define K 5
#define MIN_SHARE 0.01 /* smaller clusters join their nearest */
#define MERGE_DE 10.0  /* centres nearer than this (CIE76) are one colour */
#define BAR_MEAN 20    /* a bar row or column: mean luma at most this */
#define BAR_MAX 40     /* and no pixel brighter */
#define WARM 0.03      /* |mean(R - B)|/255 beyond this: warm or cool */

typedef struct stats {
    double n, y, y2, s, rg, rg2, yb, yb2, warm;
    int frames, bars_frames;
    int top, bottom, left, right; /* rows/columns at the analysis size; min over frames */
} stats;

typedef struct pool { /* a reservoir of Lab pixels */
    float (*px)[3];
    int n, cap;
    int64_t seen;
} pool;

typedef struct entry {
    int64_t index;
    stats st;
    int npx;
} entry;

typedef struct color {
    const lens__vinfo *info;
    int aw, ah;              /* analysis size */
    int step;                /* the pixel grid's step */
    entry q[QCAP];
    float (*qpx)[PPF][3];    /* each queue slot's pixels */
    size_t q0, qn;
    stats shot, video;
    pool sp, vp;
    uint64_t rng;
    float lin[256];          /* sRGB to linear */
    int *assign;             /* k-means scratch, VIDEO_CAP */
    json_t *shots;
} color;

static void stats_reset(stats *s)
{
    memset(s, 0, sizeof *s);
    s->top = s->bottom = s->left = s->right = -1;
}

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    (void)run;
    color *c = calloc(1, sizeof *c);
    if (!c) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    *state = c;
    c->info = info;
    c->rng = 0x9e3779b97f4a7c15ull;
    c->sp.cap = SHOT_CAP, c->vp.cap = VIDEO_CAP;
    c->qpx = malloc(sizeof *c->qpx * QCAP);
    c->sp.px = malloc(sizeof *c->sp.px * SHOT_CAP);
    c->vp.px = malloc(sizeof *c->vp.px * VIDEO_CAP);
    c->assign = malloc(sizeof *c->assign * VIDEO_CAP);
    c->shots = json_array();
    if (!c->qpx || !c->sp.px || !c->vp.px || !c->assign || !c->shots)
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    stats_reset(&c->shot), stats_reset(&c->video);
    for (int i = 0; i < 256; i++) {
        double v = i / 255.0;
        c->lin[i] = (float)(v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4));
    }
    return 0;
}

static uint64_t rnd(color *c)
{
    c->rng ^= c->rng << 13, c->rng ^= c->rng >> 7, c->rng ^= c->rng << 17;
    return c->rng;
}

static double flab(double t) { return t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116; }

static void rgb2lab(const float *lin, const uint8_t *p, float *lab)
{
    double r = lin[p[0]], g = lin[p[1]], b = lin[p[2]];
    double x = (0.4124564 * r + 0.3575761 * g + 0.1804375 * b) / 0.95047;
    double y = 0.2126729 * r + 0.7151522 * g + 0.0721750 * b;
    double z = (0.0193339 * r + 0.1191920 * g + 0.9503041 * b) / 1.08883;
    double fx = flab(x), fy = flab(y), fz = flab(z);
    lab[0] = (float)(116 * fy - 16), lab[1] = (float)(500 * (fx - fy)), lab[2] = (float)(200 * (fy - fz));
}

static double finv(double t) { return t * t * t > 216.0 / 24389 ? t * t * t : (116 * t - 16) / (24389.0 / 27); }
static int gam(double v)
{
    v = v <= 0.0031308 ? 12.92 * v : 1.055 * pow(v, 1 / 2.4) - 0.055;
    return v <= 0 ? 0 : v >= 1 ? 255 : (int)lround(v * 255);
}

static void lab2hex(const float *lab, char *hex)
{
    double fy = (lab[0] + 16) / 116, fx = fy + lab[1] / 500, fz = fy - lab[2] / 200;
    double x = 0.95047 * finv(fx), y = finv(fy), z = 1.08883 * finv(fz);
    double r = 3.2404542 * x - 1.5371385 * y - 0.4985314 * z;
    double g = -0.9692660 * x + 1.8760108 * y + 0.0415560 * z;
    double b = 0.0556434 * x - 0.2040259 * y + 1.0572252 * z;
    snprintf(hex, 8, "#%02x%02x%02x", gam(r), gam(g), gam(b));
}

static void pool_add(color *c, pool *p, const float *lab)
{
    p->seen++;
    if (p->n < p->cap) {
        memcpy(p->px[p->n++], lab, sizeof p->px[0]);
        return;
    }
    uint64_t j = rnd(c) % (uint64_t)p->seen;
    if (j < (uint64_t)p->cap) memcpy(p->px[j], lab, sizeof p->px[0]);
}

static int lum(const uint8_t *p) { return (77 * p[0] + 150 * p[1] + 29 * p[2]) >> 8; }

/* dark edge rows (dy = 1: rows from y0 down, -1: up) or columns */
static int dark_run(const uint8_t *rgb, int w, int h, int vertical, int from_end)
{
    int n = vertical ? w : h, len = vertical ? h : w;
    for (int k = 0; k < n; k++) {
        int line = from_end ? n - 1 - k : k, sum = 0, mx = 0;
        for (int i = 0; i < len; i++) {
            const uint8_t *p = vertical ? rgb + 3 * ((size_t)i * w + line) : rgb + 3 * ((size_t)line * w + i);
            int y = lum(p);
            sum += y, mx = y > mx ? y : mx;
        }
        if (sum > BAR_MEAN * len || mx > BAR_MAX) return k;
    }
    return n;
}

static void stats_frame(const uint8_t *rgb, int w, int h, stats *s)
{
    for (int i = 0; i < w * h; i++) {
        const uint8_t *p = rgb + 3 * i;
        int r = p[0], g = p[1], b = p[2];
        int mx = r > g ? (r > b ? r : b) : (g > b ? g : b), mn = r < g ? (r < b ? r : b) : (g < b ? g : b);
        double y = lum(p), rg = r - g, yb = 0.5 * (r + g) - b;
        s->y += y, s->y2 += y * y;
        s->s += mx ? (double)(mx - mn) / mx : 0;
        s->rg += rg, s->rg2 += rg * rg, s->yb += yb, s->yb2 += yb * yb;
        s->warm += r - b;
    }
    s->n = (double)w * h;
    s->frames = 1;
    /* bars: a frame that is all dark says nothing about them */
    int top = dark_run(rgb, w, h, 0, 0);
    if (top == h) return;
    s->bars_frames = 1;
    s->top = top, s->bottom = dark_run(rgb, w, h, 0, 1);
    s->left = dark_run(rgb, w, h, 1, 0), s->right = dark_run(rgb, w, h, 1, 1);
}

static int imin(int a, int b) { return a < 0 ? b : b < 0 ? a : a < b ? a : b; }

static void stats_add(stats *a, const stats *b)
{
    a->n += b->n, a->y += b->y, a->y2 += b->y2, a->s += b->s;
    a->rg += b->rg, a->rg2 += b->rg2, a->yb += b->yb, a->yb2 += b->yb2, a->warm += b->warm;
    a->frames += b->frames, a->bars_frames += b->bars_frames;
    if (b->bars_frames) {
        a->top = imin(a->top, b->top), a->bottom = imin(a->bottom, b->bottom);
        a->left = imin(a->left, b->left), a->right = imin(a->right, b->right);
    }
}

/* the oldest queued frame joins the open shot */
static void take(color *c)
{
    entry *e = &c->q[c->q0];
    stats_add(&c->shot, &e->st);
    for (int i = 0; i < e->npx; i++) pool_add(c, &c->sp, c->qpx[c->q0][i]);
    c->q0 = (c->q0 + 1) % QCAP, c->qn--;
}

static void on_frame(void *state, const lens__vframe *f)
{
    color *c = state;
    if (!f->sampled) return;
    if (!c->aw) {
        c->aw = f->w, c->ah = f->h;
        c->step = 1;
        while ((f->w / c->step) * (f->h / c->step) > PPF) c->step++;
    }
    if (c->qn == QCAP) take(c); /* cannot happen within the lag */
    size_t k = (c->q0 + c->qn++) % QCAP;
    entry *e = &c->q[k];
    e->index = f->index;
    stats_reset(&e->st);
    stats_frame(f->rgb, f->w, f->h, &e->st);
    stats_add(&c->video, &e->st);
    /* a grid centred in the frame, PPF pixels at most */
    int n = 0, s = c->step, ox = (f->w % s) / 2 + s / 2, oy = (f->h % s) / 2 + s / 2;
    for (int y = oy; y < f->h && n < PPF; y += s)
        for (int x = ox; x < f->w && n < PPF; x += s) {
            rgb2lab(c->lin, f->rgb + 3 * ((size_t)y * f->w + x), c->qpx[k][n]);
            pool_add(c, &c->vp, c->qpx[k][n]);
            n++;
        }
    e->npx = n;
}

static double d2(const float *a, const float *b)
{
    double x = a[0] - b[0], y = a[1] - b[1], z = a[2] - b[2];
    return x * x + y * y + z * z;
}

/* k-means (k-means++ seeding, deterministic), then clusters closer than
 * MERGE_DE or smaller than MIN_SHARE folded into others; sorted by share */
static json_t *palette(color *c, const pool *p)
{
    json_t *out = json_array();
    int n = p->n;
    if (!n) return out;
    float cen[K][3];
    double cnt[K];
    int k = 0;
    uint64_t seed = 0x2545f4914f6cdd1dull;
    memcpy(cen[k++], p->px[0], sizeof cen[0]);
    while (k < K) { /* k-means++: the next centre far from the ones chosen */
        double tot = 0;
        for (int i = 0; i < n; i++) {
            double best = 1e30;
            for (int j = 0; j < k; j++) {
                double d = d2(p->px[i], cen[j]);
                if (d < best) best = d;
            }
            tot += best;
        }
        if (tot < 1e-6) break;
        seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
        double r = (double)(seed >> 11) / 9007199254740992.0 * tot;
        int pick = n - 1;
        for (int i = 0; i < n; i++) {
            double best = 1e30;
            for (int j = 0; j < k; j++) {
                double d = d2(p->px[i], cen[j]);
                if (d < best) best = d;
            }
            if ((r -= best) <= 0) { pick = i; break; }
        }
        memcpy(cen[k++], p->px[pick], sizeof cen[0]);
    }
    int alive[K];
    for (int j = 0; j < K; j++) alive[j] = j < k;
    for (;;) { /* ends: a lone cluster is never dropped */
        for (int it = 0; it < 30; it++) {
            double sum[K][3] = {{0}};
            memset(cnt, 0, sizeof cnt);
            int changed = 0;
            for (int i = 0; i < n; i++) {
                int bj = -1;
                double best = 1e30;
                for (int j = 0; j < k; j++) {
                    if (!alive[j]) continue;
                    double d = d2(p->px[i], cen[j]);
                    if (d < best) best = d, bj = j;
                }
                changed += c->assign[i] != bj, c->assign[i] = bj;
                cnt[bj]++;
                for (int a = 0; a < 3; a++) sum[bj][a] += p->px[i][a];
            }
            for (int j = 0; j < k; j++)
                if (alive[j] && cnt[j])
                    for (int a = 0; a < 3; a++) cen[j][a] = (float)(sum[j][a] / cnt[j]);
            if (!changed && it) break;
        }
        /* drop the smallest cluster under MIN_SHARE, or the smaller of the closest pair under MERGE_DE */
        int drop = -1;
        for (int j = 0; j < k; j++)
            if (alive[j] && cnt[j] < MIN_SHARE * n && (drop < 0 || cnt[j] < cnt[drop])) drop = j;
        if (drop < 0) {
            double best = MERGE_DE * MERGE_DE;
            for (int a = 0; a < k; a++)
                for (int b = a + 1; b < k; b++)
                    if (alive[a] && alive[b] && d2(cen[a], cen[b]) < best)
                        best = d2(cen[a], cen[b]), drop = cnt[a] < cnt[b] ? a : b;
        }
        if (drop < 0) break;
        alive[drop] = 0;
        for (int i = 0; i < n; i++) c->assign[i] = -1; /* recount */
    }
    int ord[K], m = 0;
    for (int j = 0; j < k; j++)
        if (alive[j] && cnt[j] > 0) ord[m++] = j;
    for (int a = 1; a < m; a++)
        for (int b = a; b > 0 && cnt[ord[b]] > cnt[ord[b - 1]]; b--) {
            int t = ord[b];
            ord[b] = ord[b - 1], ord[b - 1] = t;
        }
    for (int a = 0; a < m; a++) {
        const float *l = cen[ord[a]];
        char hex[8];
        lab2hex(l, hex);
        json_array_append_new(out, json_pack("{sssfs[fff]}", "hex", hex, "share", round(cnt[ord[a]] / n * 1000) / 1000,
                                             "lab", round(l[0] * 10) / 10, round(l[1] * 10) / 10, round(l[2] * 10) / 10));
    }
    return out;
}

static double r3(double x) { return round(x * 1000) / 1000; }

static json_t *report(color *c, const stats *s, const pool *p)
{
    json_t *o = json_object();
    json_object_set_new(o, "samples", json_integer(s->frames));
    if (!s->frames) return o;
    double n = s->n, my = s->y / n;
    double mrg = s->rg / n, myb = s->yb / n;
    double vrg = fmax(0, s->rg2 / n - mrg * mrg), vyb = fmax(0, s->yb2 / n - myb * myb);
    double warm = s->warm / n / 255;
    json_object_set_new(o, "dominant_colors", palette(c, p));
    json_object_set_new(o, "brightness", json_real(r3(my / 255)));
    json_object_set_new(o, "contrast", json_real(r3(sqrt(fmax(0, s->y2 / n - my * my)) / 255)));
    json_object_set_new(o, "saturation", json_real(r3(s->s / n)));
    json_object_set_new(o, "colorfulness",
                        json_real(round((sqrt(vrg + vyb) + 0.3 * sqrt(mrg * mrg + myb * myb)) * 10) / 10));
    json_object_set_new(o, "warmth", json_real(r3(warm)));
    json_object_set_new(o, "tone", json_string(warm > WARM ? "warm" : warm < -WARM ? "cool" : "neutral"));
    /* bars at the source's size; a side counts from 2% of it */
    json_t *b = json_object();
    int H = c->info->height, W = c->info->width;
    int sz[4] = {s->top, s->bottom, s->left, s->right};
    const char *nm[4] = {"top", "bottom", "left", "right"};
    int px[4];
    for (int i = 0; i < 4; i++) {
        int full = i < 2 ? c->ah : c->aw, src = i < 2 ? H : W;
        px[i] = sz[i] > 0 && sz[i] < full ? (int)lround((double)sz[i] * src / full) : 0;
        if (px[i] < 0.02 * src) px[i] = 0;
        json_object_set_new(b, nm[i], json_integer(px[i]));
    }
    json_object_set_new(b, "letterbox", json_boolean(px[0] > 0 && px[1] > 0));
    json_object_set_new(b, "pillarbox", json_boolean(px[2] > 0 && px[3] > 0));
    json_object_set_new(o, "black_bars", b);
    return o;
}

static void on_shot(void *state, const lens__vshot *shot)
{
    color *c = state;
    while (c->qn && c->q[c->q0].index < shot->end) take(c);
    json_t *o = report(c, &c->shot, &c->sp);
    json_object_set_new(o, "index", json_integer(shot->index));
    json_array_append_new(c->shots, o);
    stats_reset(&c->shot);
    c->sp.n = 0, c->sp.seen = 0;
}

static int finish(void *state, json_t *out, lens_error *err)
{
    (void)err;
    color *c = state;
    json_object_set_new(out, "shots", json_incref(c->shots)); /* empty without video */
    if (!c->info->has_video) return 0;
    char m[64];
    snprintf(m, sizeof m, "%dx%d", c->aw, c->ah);
    json_object_set_new(out, "analysis_size", json_string(m));
    json_object_set_new(out, "video", report(c, &c->video, &c->vp));
    return 0;
}

static void cfree(void *state)
{
    color *c = state;
    if (!c) return;
    json_decref(c->shots);
    free(c->qpx), free(c->sp.px), free(c->vp.px), free(c->assign);
    free(c);
}

const lens__vanalyzer lens__video_color_analysis = {
    .name = "color_analysis",
    .needs = LENS__VNEED_SAMPLED,
    .sample_width = SAMPLE_W,
    .init = init,
    .on_frame = on_frame,
    .on_shot = on_shot,
    .finish = finish,
    .free = cfree,
};
