/* camera_analysis: per shot, what the camera did (static, pan, tilt, zoom,
 * shaky), from the global motion between consecutive frames at ANALYSIS_W
 * wide: a similarity (translation, scale, a little rotation) about the
 * frame's centre, fitted to the grey levels directly (Lucas-Kanade,
 * Gauss-Newton, coarse to fine over a 3-level pyramid, Huber weights so
 * moving objects and the borders count less). Magnitudes are given in the
 * source's pixels per second (pan, tilt) and in natural-log scale change
 * per second (zoom: 0.1 is about 10% a second).
 *
 * The motion into frame i waits in a queue until frame i's shot is known;
 * the pair across a shot boundary belongs to no shot. Per shot only sums. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "video/video_internal.h"

#define ANALYSIS_W 160
#define NL 3          /* pyramid levels */
#define QCAP 256      /* > LENS__VIDEO_LAG */
#define MOVE 0.02     /* pan/tilt from 2% of the frame's size a second, zoom from 2% a second */
#define FLAT 2.0      /* mean squared luma gradient below this: too flat to measure */
#define SHAKE 0.005   /* shaky: RMS change of the frame-to-frame shift above 0.5% of the width */

typedef struct level {
    int w, h;
    float *img[2], *gx[2], *gy[2]; /* [cur]: the newest frame, [!cur]: the one before */
} level;

typedef struct motion {
    int64_t index;
    double tx, ty, ls, dt; /* analysis pixels, log scale; from the frame before */
    int valid;
} motion;

typedef struct shotsum {
    double tx, ty, ls, dt, dd;
    int n, nd, have_last;
    double ltx, lty;
} shotsum;

typedef struct camera {
    const lens__vinfo *info;
    level lv[NL];
    int cur, have_prev;
    double texture[2];  /* mean squared gradient of each frame at full analysis size */
    double prev_t;
    motion q[QCAP];
    size_t q0, qn;
    shotsum s;
    int failed; /* out of memory: no motion measured */
    json_t *shots;
} camera;

static int init(void **state, lens__vrun *run, const lens__vinfo *info, lens_error *err)
{
    (void)run;
    camera *c = calloc(1, sizeof *c);
    if (!c) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    *state = c;
    c->info = info;
    c->shots = json_array();
    if (!c->shots) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    return 0;
}

static int alloc_levels(camera *c, int w, int h)
{
    for (int l = 0; l < NL; l++) {
        level *v = &c->lv[l];
        v->w = w, v->h = h;
        for (int k = 0; k < 2; k++) {
            size_t n = (size_t)w * h;
            if (!(v->img[k] = malloc(n * sizeof(float))) || !(v->gx[k] = malloc(n * sizeof(float))) ||
                !(v->gy[k] = malloc(n * sizeof(float))))
                return -1;
        }
        w = w / 2 > 1 ? w / 2 : 1, h = h / 2 > 1 ? h / 2 : 1;
    }
    return 0;
}

static double gradients(level *v, int k)
{
    double e = 0;
    int w = v->w, h = v->h;
    const float *p = v->img[k];
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            int xl = x ? x - 1 : x, xr = x < w - 1 ? x + 1 : x, yu = y ? y - 1 : y, yd = y < h - 1 ? y + 1 : y;
            v->gx[k][y * w + x] = (p[y * w + xr] - p[y * w + xl]) / (float)(xr - xl ? xr - xl : 1);
            v->gy[k][y * w + x] = (p[yd * w + x] - p[yu * w + x]) / (float)(yd - yu ? yd - yu : 1);
            e += v->gx[k][y * w + x] * v->gx[k][y * w + x] + v->gy[k][y * w + x] * v->gy[k][y * w + x];
        }
    return e / ((double)w * h);
}

static float bilin(const float *p, int w, double x, double y)
{
    int x0 = (int)x, y0 = (int)y;
    float fx = (float)(x - x0), fy = (float)(y - y0);
    const float *a = p + (size_t)y0 * w + x0;
    return (a[0] * (1 - fx) + a[1] * fx) * (1 - fy) + (a[w] * (1 - fx) + a[w + 1] * fx) * fy;
}

/* solves the 4x4 system (Gaussian elimination, partial pivoting); 0 when singular */
static int solve4(double A[4][5], double *x)
{
    for (int i = 0; i < 4; i++) {
        int p = i;
        for (int r = i + 1; r < 4; r++)
            if (fabs(A[r][i]) > fabs(A[p][i])) p = r;
        if (fabs(A[p][i]) < 1e-9) return 0;
        for (int cc = 0; cc < 5; cc++) {
            double t = A[i][cc];
            A[i][cc] = A[p][cc], A[p][cc] = t;
        }
        for (int r = 0; r < 4; r++)
            if (r != i) {
                double f = A[r][i] / A[i][i];
                for (int cc = i; cc < 5; cc++) A[r][cc] -= f * A[i][cc];
            }
    }
    for (int i = 0; i < 4; i++) x[i] = A[i][4] / A[i][i];
    return 1;
}

/* the motion from the frame before (prev) to this one (cur) at level l,
 * refining p = {tx, ty, a, b}: x' = x + t + [a -b; b a](x - centre) */
static int refine(const level *v, int cur, double *p, int iters)
{
    int w = v->w, h = v->h, pr = !cur, ok = 0;
    if (w < 8 || h < 8) return 1;
    double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, sigma = 8;
    for (int it = 0; it < iters; it++) {
        double A[4][5] = {{0}}, abs_sum = 0;
        long n = 0;
        double k = 1.345 * sigma + 0.5;
        for (int y = 1; y < h - 1; y++)
            for (int x = 1; x < w - 1; x++) {
                double dx = x - cx, dy = y - cy;
                double xp = x + p[0] + p[2] * dx - p[3] * dy, yp = y + p[1] + p[2] * dy + p[3] * dx;
                if (xp < 0 || yp < 0 || xp >= w - 1 || yp >= h - 1) continue;
                size_t i = (size_t)y * w + x;
                double e = bilin(v->img[cur], w, xp, yp) - v->img[pr][i];
                double gx = 0.5 * (bilin(v->gx[cur], w, xp, yp) + v->gx[pr][i]);
                double gy = 0.5 * (bilin(v->gy[cur], w, xp, yp) + v->gy[pr][i]);
                double J[4] = {gx, gy, gx * dx + gy * dy, -gx * dy + gy * dx};
                double ae = fabs(e), wt = ae <= k ? 1 : k / ae;
                abs_sum += ae, n++;
                for (int a = 0; a < 4; a++) {
                    for (int b = a; b < 4; b++) A[a][b] += wt * J[a] * J[b];
                    A[a][4] -= wt * J[a] * e;
                }
            }
        if (n < 32) return ok;
        /* an edge or stripes say nothing along them: both directions need texture (the
         * smaller eigenvalue of the translation block, weighted by Huber) */
        double txx = A[0][0] / n, tyy = A[1][1] / n, txy = A[0][1] / n;
        double lmin = 0.5 * (txx + tyy) - sqrt(0.25 * (txx - tyy) * (txx - tyy) + txy * txy);
        if (lmin < FLAT / 4) return 0;
        for (int a = 0; a < 4; a++)
            for (int b = 0; b < a; b++) A[a][b] = A[b][a];
        double d[4];
        if (!solve4(A, d)) return ok;
        for (int a = 0; a < 4; a++) p[a] += d[a];
        ok = 1;
        sigma = 1.25 * abs_sum / n; /* mean absolute residual: a robust enough scale */
        if (fabs(d[0]) + fabs(d[1]) < 0.005 && fabs(d[2]) + fabs(d[3]) < 1e-5) break;
    }
    return ok;
}

static void push(camera *c, motion m)
{
    if (c->qn == QCAP) c->q0 = (c->q0 + 1) % QCAP, c->qn--; /* cannot happen within the lag */
    c->q[(c->q0 + c->qn++) % QCAP] = m;
}

static void on_frame(void *state, const lens__vframe *f)
{
    camera *c = state;
    if (f->sampled) return;
    if (c->failed) return;
    if (!c->lv[0].img[0] && alloc_levels(c, f->w, f->h) != 0) {
        c->failed = 1;
        return;
    }
    level *v0 = &c->lv[0];
    if (f->w != v0->w || f->h != v0->h) return;
    int cur = c->cur = !c->cur;
    float *g = v0->img[cur];
    for (int i = 0; i < f->w * f->h; i++) {
        const uint8_t *q = f->rgb + 3 * i;
        g[i] = (float)(0.299 * q[0] + 0.587 * q[1] + 0.114 * q[2]);
    }
    for (int l = 1; l < NL; l++) { /* 2x2 means */
        level *a = &c->lv[l - 1], *b = &c->lv[l];
        for (int y = 0; y < b->h; y++)
            for (int x = 0; x < b->w; x++) {
                int x0 = 2 * x, y0 = 2 * y, x1 = x0 + 1 < a->w ? x0 + 1 : x0, y1 = y0 + 1 < a->h ? y0 + 1 : y0;
                const float *s = a->img[cur];
                b->img[cur][y * b->w + x] =
                    0.25f * (s[y0 * a->w + x0] + s[y0 * a->w + x1] + s[y1 * a->w + x0] + s[y1 * a->w + x1]);
            }
    }
    for (int l = 0; l < NL; l++) {
        double e = gradients(&c->lv[l], cur);
        if (!l) c->texture[cur] = e;
    }
    if (c->have_prev) {
        double p[4] = {0};
        int ok = c->texture[0] >= FLAT && c->texture[1] >= FLAT;
        for (int l = NL - 1; l >= 0; l--) {
            if (ok) ok &= refine(&c->lv[l], cur, p, l ? 10 : 5);
            if (l) p[0] *= 2, p[1] *= 2;
        }
        motion m = {.index = f->index, .tx = p[0], .ty = p[1], .dt = f->t - c->prev_t, .valid = ok};
        double sc = sqrt((1 + p[2]) * (1 + p[2]) + p[3] * p[3]);
        m.ls = sc > 0 ? log(sc) : 0;
        if (!isfinite(m.tx) || !isfinite(m.ty) || !isfinite(m.ls) || fabs(m.tx) > f->w || fabs(m.ls) > 1) m.valid = 0;
        push(c, m);
    }
    c->have_prev = 1, c->prev_t = f->t;
}

static void add(camera *c, const motion *m, int64_t shot_start)
{
    if (m->index == shot_start || !m->valid || m->dt <= 0) { /* across the boundary, or unmeasured */
        c->s.have_last = 0;
        return;
    }
    shotsum *s = &c->s;
    s->tx += m->tx, s->ty += m->ty, s->ls += m->ls, s->dt += m->dt, s->n++;
    if (s->have_last) {
        double a = m->tx - s->ltx, b = m->ty - s->lty;
        s->dd += a * a + b * b, s->nd++;
    }
    s->have_last = 1, s->ltx = m->tx, s->lty = m->ty;
}

static double r1(double x) { return round(x * 10) / 10; }

static void on_shot(void *state, const lens__vshot *shot)
{
    camera *c = state;
    while (c->qn && c->q[c->q0].index < shot->end) {
        add(c, &c->q[c->q0], shot->start);
        c->q0 = (c->q0 + 1) % QCAP, c->qn--;
    }
    shotsum *s = &c->s;
    json_t *o = json_object(), *labels = json_array();
    json_object_set_new(o, "index", json_integer(shot->index));
    json_object_set_new(o, "pairs", json_integer(s->n));
    if (s->n >= 2 && s->dt > 0 && c->lv[0].w) {
        double aw = c->lv[0].w, ah = c->lv[0].h;
        double sx = c->info->width / aw, sy = c->info->height / ah;
        /* the picture moves against the camera: content moving left is a pan right */
        double pan = -s->tx / s->dt, tilt = s->ty / s->dt, zoom = s->ls / s->dt;
        double shake = s->nd ? sqrt(s->dd / s->nd) : 0;
        double rp = fabs(pan) / (MOVE * aw), rt = fabs(tilt) / (MOVE * ah), rz = fabs(zoom) / MOVE;
        int shaky = shake > SHAKE * aw;
        const char *main = "static";
        double best = 1;
        if (shaky) json_array_append_new(labels, json_string("shaky"));
        if (rp >= 1) json_array_append_new(labels, json_string(pan > 0 ? "pan_right" : "pan_left"));
        if (rt >= 1) json_array_append_new(labels, json_string(tilt > 0 ? "tilt_up" : "tilt_down"));
        if (rz >= 1) json_array_append_new(labels, json_string(zoom > 0 ? "zoom_in" : "zoom_out"));
        if (rp >= best) best = rp, main = pan > 0 ? "pan_right" : "pan_left";
        if (rt >= best) best = rt, main = tilt > 0 ? "tilt_up" : "tilt_down";
        if (rz >= best) best = rz, main = zoom > 0 ? "zoom_in" : "zoom_out";
        if (shaky) main = "shaky";
        if (!json_array_size(labels)) json_array_append_new(labels, json_string("static"));
        json_object_set_new(o, "motion", json_string(main));
        json_object_set_new(o, "pan_px_s", json_real(r1(pan * sx)));
        json_object_set_new(o, "tilt_px_s", json_real(r1(tilt * sy)));
        json_object_set_new(o, "zoom_rate_s", json_real(round(zoom * 10000) / 10000));
        json_object_set_new(o, "shake_px", json_real(round(shake * sx * 100) / 100));
    } else {
        json_object_set_new(o, "motion", json_string("unknown"));
    }
    json_object_set_new(o, "labels", labels);
    json_array_append_new(c->shots, o);
    memset(s, 0, sizeof *s);
}

static int finish(void *state, json_t *out, lens_error *err)
{
    (void)err;
    camera *c = state;
    json_object_set_new(out, "shots", json_incref(c->shots)); /* empty without video */
    if (!c->info->has_video) return 0;
    char m[64];
    snprintf(m, sizeof m, "%dx%d", c->lv[0].w, c->lv[0].h);
    json_object_set_new(out, "analysis_size", json_string(m));
    json_object_set_new(out, "units",
                        json_string("pan_px_s, tilt_px_s: source pixels a second (pan right, tilt up > 0); "
                                    "zoom_rate_s: log scale change a second (in > 0); shake_px: RMS change of "
                                    "the frame-to-frame shift, source pixels"));
    return 0;
}

static void cfree(void *state)
{
    camera *c = state;
    if (!c) return;
    json_decref(c->shots);
    for (int l = 0; l < NL; l++)
        for (int k = 0; k < 2; k++) free(c->lv[l].img[k]), free(c->lv[l].gx[k]), free(c->lv[l].gy[k]);
    free(c);
}

const lens__vanalyzer lens__video_camera_analysis = {
    .name = "camera_analysis",
    .needs = LENS__VNEED_EVERY,
    .width = ANALYSIS_W,
    .init = init,
    .on_frame = on_frame,
    .on_shot = on_shot,
    .finish = finish,
    .free = cfree,
};
