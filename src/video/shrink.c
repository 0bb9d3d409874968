/* Every-frame analysis sizes from one small base (see shrink.h). */
#include <libavutil/frame.h>
#include <libavutil/pixdesc.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "video/shrink.h"

int lens__vbase_fits(const AVFrame *f)
{
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    if (!d || d->nb_components < 3 || (d->flags & (AV_PIX_FMT_FLAG_RGB | AV_PIX_FMT_FLAG_PAL | AV_PIX_FMT_FLAG_HWACCEL |
                                                   AV_PIX_FMT_FLAG_BITSTREAM | AV_PIX_FMT_FLAG_BAYER)) ||
        !(d->flags & AV_PIX_FMT_FLAG_PLANAR) || f->width < 1 || f->height < 1)
        return 0;
    for (int c = 0; c < 3; c++)
        if (d->comp[c].depth != 8 || d->comp[c].step != 1 || d->comp[c].plane != c || d->comp[c].shift ||
            d->comp[c].offset)
            return 0;
    return 1;
}

static void base_free(lens__vbase *b)
{
    for (int c = 0; c < 3; c++) free(b->pl[c]), b->pl[c] = NULL;
    free(b->acc), b->acc = NULL;
    b->src_w = 0;
}

void lens__vbase_free(lens__vbase *b) { base_free(b); }

static int base_setup(lens__vbase *b, const AVFrame *f, int maxw, int maxh)
{
    base_free(b);
    const AVPixFmtDescriptor *d = av_pix_fmt_desc_get(f->format);
    b->src_w = f->width, b->src_h = f->height, b->fmt = f->format;
    b->xs = d->log2_chroma_w, b->ys = d->log2_chroma_h;
    /* the largest whole factor that leaves at least the largest size: that
     * size is then the base itself when the factor divides the frame (1080p
     * to 160x90), or close to it */
    int kx = f->width / (maxw > 0 ? maxw : 1), ky = f->height / (maxh > 0 ? maxh : 1);
    b->k = kx < ky ? kx : ky;
    if (b->k < 1) b->k = 1;
    if (b->k > 255) b->k = 255; /* the row sums are 16-bit */
    /* subsampled chroma by a factor that much smaller, so it keeps its
     * own detail: 1080p 4:2:0 gives 160x90 for all three planes */
    b->kcx = b->k >> b->xs > 0 ? b->k >> b->xs : 1, b->kcy = b->k >> b->ys > 0 ? b->k >> b->ys : 1;
    int cw = -((-f->width) >> b->xs), ch = -((-f->height) >> b->ys);
    int pw[3] = {f->width, cw, cw}, ph[3] = {f->height, ch, ch};
    for (int c = 0; c < 3; c++) {
        int fx = c ? b->kcx : b->k, fy = c ? b->kcy : b->k;
        b->w[c] = (pw[c] + fx - 1) / fx, b->h[c] = (ph[c] + fy - 1) / fy;
        if (!(b->pl[c] = malloc((size_t)b->w[c] * b->h[c] * sizeof(float)))) return -1;
    }
    if (!(b->acc = malloc((size_t)f->width * sizeof *b->acc))) return -1;
    b->full = f->format == AV_PIX_FMT_YUVJ420P || f->format == AV_PIX_FMT_YUVJ422P ||
              f->format == AV_PIX_FMT_YUVJ444P || f->format == AV_PIX_FMT_YUVJ440P ||
              f->format == AV_PIX_FMT_YUVJ411P;
    return 0;
}

/* n blocks of K sums each; K a constant where inlined */
static inline void hsum(const uint16_t *acc, int n, int K, float inv, float *o)
{
    for (int b = 0; b < n; b++, acc += K) {
        uint32_t s = 0;
        for (int j = 0; j < K; j++) s += acc[j];
        o[b] = (float)s * inv;
    }
}

/* one plane, W x H, box-averaged by k across and ky down into out
 * (ceil(W/k) x ceil(H/ky)); the blocks at the right and bottom edges
 * average the pixels they have */
static void box(const uint8_t *src, int stride, int W, int H, int k, int ky, uint16_t *acc, float *out)
{
    int ow = (W + k - 1) / k;
    for (int y0 = 0; y0 < H; y0 += ky) {
        int rows = H - y0 < ky ? H - y0 : ky;
        const uint8_t *p = src + (size_t)y0 * stride;
        for (int x = 0; x < W; x++) acc[x] = p[x];
        for (int r = 1; r < rows; r++) {
            p += stride;
            for (int x = 0; x < W; x++) acc[x] += p[x]; /* the bulk of the work: vectorised */
        }
        float *o = out + (size_t)(y0 / ky) * ow;
        float inv = 1.0f / (float)(k * rows);
        int whole = W / k;
        switch (k) { /* the usual factors unrolled: a loop of k adds costs more than the adds */
        case 2: hsum(acc, whole, 2, inv, o); break;
        case 3: hsum(acc, whole, 3, inv, o); break;
        case 4: hsum(acc, whole, 4, inv, o); break;
        case 5: hsum(acc, whole, 5, inv, o); break;
        case 6: hsum(acc, whole, 6, inv, o); break;
        case 8: hsum(acc, whole, 8, inv, o); break;
        case 12: hsum(acc, whole, 12, inv, o); break;
        default: hsum(acc, whole, k, inv, o);
        }
        if (whole * k < W) { /* the last, narrower block */
            uint32_t s = 0;
            for (int x = whole * k; x < W; x++) s += acc[x];
            o[whole] = (float)s / (float)((W - whole * k) * rows);
        }
    }
}

int lens__vbase_fill(lens__vbase *b, const AVFrame *f, int maxw, int maxh)
{
    if ((!b->src_w || b->src_w != f->width || b->src_h != f->height || b->fmt != f->format) &&
        base_setup(b, f, maxw, maxh) != 0) {
        base_free(b);
        return -1;
    }
    int cw = -((-f->width) >> b->xs), ch = -((-f->height) >> b->ys);
    box(f->data[0], f->linesize[0], f->width, f->height, b->k, b->k, b->acc, b->pl[0]);
    box(f->data[1], f->linesize[1], cw, ch, b->kcx, b->kcy, b->acc, b->pl[1]);
    box(f->data[2], f->linesize[2], cw, ch, b->kcx, b->kcy, b->acc, b->pl[2]);
    return 0;
}

/* ---- area resampling from the base ---- */

static void axis_free(lens__vaxis *a)
{
    free(a->first), free(a->w);
    a->first = NULL, a->w = NULL, a->n = a->in = 0;
}

/* n outputs over in inputs: output i covers [i*in/n, (i+1)*in/n) and takes
 * each input by the length it overlaps (enlarging, as chroma may be: the
 * input it lies in) */
static int axis_make(lens__vaxis *a, int in, int n)
{
    axis_free(a);
    double r = (double)in / n;
    a->taps = (int)ceil(r) + 1;
    if (a->taps > in) a->taps = in;
    a->n = n, a->in = in;
    a->first = malloc((size_t)n * sizeof *a->first);
    a->w = calloc((size_t)n * a->taps, sizeof *a->w);
    if (!a->first || !a->w) return -1;
    for (int i = 0; i < n; i++) {
        double s = i * r, e = (i + 1) * r;
        int f = (int)floor(s);
        if (f + a->taps > in) f = in - a->taps;
        a->first[i] = f;
        float *w = a->w + (size_t)i * a->taps;
        double sum = 0;
        for (int j = 0; j < a->taps; j++) {
            double lo = fmax(s, f + j), hi = fmin(e, f + j + 1);
            w[j] = hi > lo ? (float)(hi - lo) : 0;
            sum += w[j];
        }
        for (int j = 0; j < a->taps; j++) w[j] = sum > 0 ? (float)(w[j] / sum) : 1.0f / a->taps;
    }
    return 0;
}

void lens__vsize_free(lens__vsize *s)
{
    for (int c = 0; c < 2; c++) axis_free(&s->ax[c]), axis_free(&s->ay[c]);
    free(s->tmp), s->tmp = NULL;
    for (int c = 0; c < 3; c++) free(s->pl[c]), s->pl[c] = NULL;
    free(s->p8), s->p8 = NULL;
}

static int size_setup(lens__vsize *s, const lens__vbase *b)
{
    int w = s->w, h = s->h;
    lens__vsize_free(s);
    s->w = w, s->h = h;
    for (int c = 0; c < 2; c++)
        if (axis_make(&s->ax[c], b->w[c], w) || axis_make(&s->ay[c], b->h[c], h)) return -1;
    int bw = b->w[0] > b->w[1] ? b->w[0] : b->w[1];
    if (!(s->tmp = malloc((size_t)h * bw * sizeof(float)))) return -1;
    for (int c = 0; c < 3; c++)
        if (!(s->pl[c] = malloc((size_t)w * h * sizeof(float)))) return -1;
    if (!(s->p8 = malloc((size_t)w * h * 3))) return -1;
    return 0;
}

/* one row through the horizontal axis; T: its taps, a constant where
 * inlined so the compiler unrolls the taps */
static inline void hrow(const float *row, const lens__vaxis *ax, float *t, int T)
{
    for (int x = 0; x < ax->n; x++) {
        const float *wt = ax->w + (size_t)x * T, *r = row + ax->first[x];
        float s = 0;
        for (int j = 0; j < T; j++) s += wt[j] * r[j];
        t[x] = s;
    }
}

/* vertical first (vectorised over the row), then the horizontal pass,
 * which does not vectorise, over the fewer output rows */
static void resample(const float *in, int iw, int ih, const lens__vaxis *ax, const lens__vaxis *ay, float *tmp,
                     float *out)
{
    int w = ax->n;
    if (iw == w && ih == ay->n) { /* the base is this size */
        memcpy(out, in, (size_t)iw * ih * sizeof *out);
        return;
    }
    for (int y = 0; y < ay->n; y++) {
        const float *wt = ay->w + (size_t)y * ay->taps;
        const float *r = in + (size_t)ay->first[y] * iw;
        float *t = tmp + (size_t)y * iw;
        for (int x = 0; x < iw; x++) t[x] = wt[0] * r[x];
        for (int j = 1; j < ay->taps; j++) {
            r += iw;
            for (int x = 0; x < iw; x++) t[x] += wt[j] * r[x];
        }
    }
    for (int y = 0; y < ay->n; y++) {
        const float *row = tmp + (size_t)y * iw;
        float *o = out + (size_t)y * w;
        switch (ax->taps) {
        case 1: hrow(row, ax, o, 1); break;
        case 2: hrow(row, ax, o, 2); break;
        case 3: hrow(row, ax, o, 3); break;
        case 4: hrow(row, ax, o, 4); break;
        default: hrow(row, ax, o, ax->taps);
        }
    }
}

static inline uint8_t clamp8(float v)
{
    int i = (int)(v + 0.5f); /* a whole-vector conversion; the clamp after it, in integers, too */
    i = i < 0 ? 0 : i;
    return (uint8_t)(i > 255 ? 255 : i);
}

/* planes first: this loop vectorises (restrict: byte stores may alias
 * anything otherwise), a packed one does not */
static void to_rgb(const float *restrict py, const float *restrict pu, const float *restrict pv, size_t n, float yo,
                   float ys, float cs, uint8_t *restrict r8, uint8_t *restrict g8, uint8_t *restrict b8)
{
    for (size_t i = 0; i < n; i++) {
        float Y = (py[i] - yo) * ys, U = (pu[i] - 128) * cs, V = (pv[i] - 128) * cs;
        r8[i] = clamp8(Y + 1.402f * V);
        g8[i] = clamp8(Y - 0.344136f * U - 0.714136f * V);
        b8[i] = clamp8(Y + 1.772f * U);
    }
}

int lens__vsize_rgb(lens__vsize *s, const lens__vbase *b, uint8_t *rgb)
{
    if ((s->ax[0].in != b->w[0] || s->ay[0].in != b->h[0] || s->ax[1].in != b->w[1] || s->ay[1].in != b->h[1] ||
         !s->tmp) && size_setup(s, b) != 0) {
        lens__vsize_free(s);
        return -1;
    }
    for (int c = 0; c < 3; c++)
        resample(b->pl[c], b->w[c], b->h[c], &s->ax[c > 0], &s->ay[c > 0], s->tmp, s->pl[c]);
    /* BT.601, as libswscale's default */
    float ys = b->full ? 1.0f : 255.0f / 219, yo = b->full ? 0 : 16, cs = b->full ? 1.0f : 255.0f / 224;
    size_t n = (size_t)s->w * s->h;
    const float *py = s->pl[0], *pu = s->pl[1], *pv = s->pl[2];
    uint8_t *r8 = s->p8, *g8 = r8 + n, *b8 = g8 + n;
    to_rgb(py, pu, pv, n, yo, ys, cs, r8, g8, b8);
    for (size_t i = 0; i < n; i++) rgb[3 * i] = r8[i], rgb[3 * i + 1] = g8[i], rgb[3 * i + 2] = b8[i];
    return 0;
}
