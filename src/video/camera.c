/* camera_analysis: per shot, what the camera did (static, pan, tilt, zoom,
 * shaky), from the global motion between consecutive frames at ANALYSIS_W
 * wide: a similarity (translation, scale, a little rotation) about the
 * frame's centre, fitted to the grey levels directly (Lucas-Kanade,
 * Gauss-Newton, coarse to fine over a 3-level pyramid, Huber weights so
 * moving objects and the borders count less; the finest level takes three
 * steps on alternate rows, which halves the cost and moves no test figure
 * by more than 1%). Magnitudes are given in the
 * source's pixels per second (pan, tilt) and in natural-log scale change
 * per second (zoom: 0.1 is about 10% a second).
 *
 * The motion into frame i waits in a queue until frame i's shot is known;
 * the pair across a shot boundary belongs to no shot. Per shot only sums. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/v4.h"
#include "video/video_internal.h"

#define ANALYSIS_W 160
#define NL 3          /* pyramid levels */
#define LANES 4       /* refine's row sums: one vector (base/v4.h) each */
#define QCAP 256      /* > LENS__VIDEO_LAG */
#define MOVE 0.02     /* pan/tilt from 2% of the frame's size a second, zoom from 2% a second */
#define FLAT 2.0      /* mean squared luma gradient below this: too flat to measure */
#define SHAKE 0.005   /* shaky: RMS change of the frame-to-frame shift above 0.5% of the width */

typedef struct level {
    int w, h;
    float *img[2]; /* [cur]: the newest frame, [!cur]: the one before */
    float *pk[2];  /* the same, packed with its gradients: (grey, gx, gy, 0) a pixel, so one
                    * bilinear step reads the three at once */
    float *re, *rgx, *rgy, *rdx;   /* one row's residuals, gradients and x offsets */
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
    int64_t open_start; /* the open shot's first frame */
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
            if (!(v->img[k] = malloc(n * sizeof(float))) || !(v->pk[k] = malloc(4 * n * sizeof(float))))
                return -1;
        }
        size_t rw = (size_t)w + 2 * LANES; /* a row and its padding */
        if (!(v->re = malloc(rw * sizeof(float))) || !(v->rgx = malloc(rw * sizeof(float))) ||
            !(v->rgy = malloc(rw * sizeof(float))) || !(v->rdx = malloc(rw * sizeof(float))))
            return -1;
        w = w / 2 > 1 ? w / 2 : 1, h = h / 2 > 1 ? h / 2 : 1;
    }
    return 0;
}

/* central differences (one-sided at the borders) into the packed frame;
 * the mean squared gradient */
static double gradients(level *v, int k)
{
    double e = 0;
    int w = v->w, h = v->h;
    const float *p = v->img[k];
    float *o = v->pk[k];
    for (int y = 0; y < h; y++) {
        int yu = y ? y - 1 : y, yd = y < h - 1 ? y + 1 : y;
        float sy = yd - yu == 2 ? 0.5f : yd > yu ? 1.0f : 0.0f, re = 0;
        for (int x = 0; x < w; x++) {
            int xl = x ? x - 1 : x, xr = x < w - 1 ? x + 1 : x;
            float sx = xr - xl == 2 ? 0.5f : xr > xl ? 1.0f : 0.0f;
            float gx = sx * (p[y * w + xr] - p[y * w + xl]), gy = sy * (p[yd * w + x] - p[yu * w + x]);
            float *q = o + 4 * ((size_t)y * w + x);
            q[0] = p[y * w + x], q[1] = gx, q[2] = gy, q[3] = 0;
            re += gx * gx + gy * gy;
        }
        e += re;
    }
    return e / ((double)w * h);
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
 * refining p = {tx, ty, a, b}: x' = x + t + [a -b; b a](x - centre).
 * Single precision per row in two passes, both on 4-float vectors: the
 * warped picture and gradients (a pixel's three in one vector, one set of
 * bilinear weights) into row buffers, then the Huber-weighted normal
 * equations summed over four lanes; each row's sums are added up in double. */
static int refine(level *v, int cur, double *p, int iters, int ystep)
{
    int w = v->w, h = v->h, pr = !cur, ok = 0;
    if (w < 8 || h < 8) return 1;
    const float *pc = v->pk[cur], *pp = v->pk[pr];
    float *E = v->re, *GX = v->rgx, *GY = v->rgy, *DX = v->rdx;
    double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, sigma = 8;
    for (int it = 0; it < iters; it++) {
        double A[4][5] = {{0}}, abs_sum = 0;
        long n = 0;
        float k = (float)(1.345 * sigma + 0.5);
        for (int y = 1 + it % ystep; y < h - 1; y += ystep) { /* level 0: alternate rows, the other half next iteration */
            float dy = (float)(y - cy);
            /* x' and y' are affine in x along the row */
            float xp = (float)(1 + p[0] + p[2] * (1 - cx) - p[3] * dy);
            float yp = (float)(y + p[1] + p[2] * dy + p[3] * (1 - cx));
            float sxx = (float)(1 + p[2]), syx = (float)p[3];
            int m = 0;
            for (int x = 1; x < w - 1; x++, xp += sxx, yp += syx) {
                if (!(xp >= 0 && yp >= 0 && xp < w - 1 && yp < h - 1)) continue;
                int x0 = (int)xp, y0 = (int)yp;
                float fx = xp - x0, fy = yp - y0;
                float w00 = (1 - fx) * (1 - fy), w01 = fx * (1 - fy), w10 = (1 - fx) * fy, w11 = fx * fy;
                const float *a = pc + 4 * ((size_t)y0 * w + x0);
                v4f s = w00 * ld4(a) + w01 * ld4(a + 4) + w10 * ld4(a + 4 * (size_t)w) + w11 * ld4(a + 4 * (size_t)w + 4);
                v4f o = ld4(pp + 4 * ((size_t)y * w + x));
                E[m] = s[0] - o[0];
                GX[m] = 0.5f * (s[1] + o[1]);
                GY[m] = 0.5f * (s[2] + o[2]);
                DX[m++] = (float)(x - cx);
            }
            for (int t = m; t % LANES; t++) E[t] = GX[t] = GY[t] = DX[t] = 0; /* pad: adds nothing */
            v4f r[15] = {{0}}, kv = {k, k, k, k}, dyv = {dy, dy, dy, dy}, one = {1, 1, 1, 1};
            for (int t = 0; t < m; t += LANES) {
                v4f e = ld4(E + t), gx = ld4(GX + t), gy = ld4(GY + t), dx = ld4(DX + t);
                v4f J2 = gx * dx + gy * dyv, J3 = gy * dx - gx * dyv;
                v4f ae = abs4(e), wt = sel4(ae <= kv, one, kv / (ae + (v4f){1e-30f, 1e-30f, 1e-30f, 1e-30f}));
                v4f w0 = wt * gx, w1 = wt * gy, w2 = wt * J2, w3 = wt * J3;
                r[0] += w0 * gx, r[1] += w0 * gy, r[2] += w0 * J2, r[3] += w0 * J3;
                r[4] += w1 * gy, r[5] += w1 * J2, r[6] += w1 * J3;
                r[7] += w2 * J2, r[8] += w2 * J3, r[9] += w3 * J3;
                r[10] -= w0 * e, r[11] -= w1 * e, r[12] -= w2 * e, r[13] -= w3 * e;
                r[14] += ae;
            }
            double rs[15];
            for (int j = 0; j < 15; j++) rs[j] = hsum4(r[j]);
            A[0][0] += rs[0], A[0][1] += rs[1], A[0][2] += rs[2], A[0][3] += rs[3];
            A[1][1] += rs[4], A[1][2] += rs[5], A[1][3] += rs[6];
            A[2][2] += rs[7], A[2][3] += rs[8], A[3][3] += rs[9];
            A[0][4] += rs[10], A[1][4] += rs[11], A[2][4] += rs[12], A[3][4] += rs[13];
            abs_sum += rs[14], n += m;
        }
        if (n < 32) return ok;
        /* an edge or stripes say nothing along them: both directions need texture (the
         * smaller eigenvalue of the translation block, weighted by Huber) */
        double txx = A[0][0] / n, tyy = A[1][1] / n, txy = A[0][1] / n;
        double lmin = 0.5 * (txx + tyy) - sqrt(0.25 * (txx - tyy) * (txx - tyy) + txy * txy);
        if (lmin < FLAT / 4) return 0;
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < i; j++) A[i][j] = A[j][i];
        double d[4];
        if (!solve4(A, d)) return ok;
        for (int i = 0; i < 4; i++) p[i] += d[i];
        ok = 1;
        sigma = 1.25 * abs_sum / n; /* mean absolute residual: a robust enough scale */
        if (fabs(d[0]) + fabs(d[1]) < 0.005 && fabs(d[2]) + fabs(d[3]) < 1e-5) break;
    }
    return ok;
}

static void push(camera *c, motion m);

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
        g[i] = 0.299f * q[0] + 0.587f * q[1] + 0.114f * q[2];
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
            if (ok) ok &= refine(&c->lv[l], cur, p, l == 2 ? 8 : l ? 5 : 3, l ? 1 : 2);
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

/* A motion waits for its shot; one more than LENS__VIDEO_LAG frames old
 * is in the open shot (no cut can come before it now): counted at once, so
 * a shot of any length keeps all its motion in bounded memory. */
static void push(camera *c, motion m)
{
    if (c->qn == QCAP) {
        add(c, &c->q[c->q0], c->open_start);
        c->q0 = (c->q0 + 1) % QCAP, c->qn--;
    }
    c->q[(c->q0 + c->qn++) % QCAP] = m;
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
    c->open_start = shot->end;
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
    for (int l = 0; l < NL; l++) {
        level *v = &c->lv[l];
        for (int k = 0; k < 2; k++) free(v->img[k]), free(v->pk[k]);
        free(v->re), free(v->rgx), free(v->rgy), free(v->rdx);
    }
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
