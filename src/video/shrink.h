/* The every-frame analysis sizes without a full-size pass per size: an
 * 8-bit planar YUV frame is box-averaged once, by a whole factor, to a
 * small base (about twice the largest analysis size), and each analysis
 * size is area-resampled from that base and turned into RGB24. On 1080p
 * this reads the decoded planes once instead of once per size through
 * libswscale's full-size filters. Colours as libswscale gives them by
 * default (BT.601; full range for the yuvj formats), so sizes made here
 * and sampled ones made by libswscale agree. Other pixel formats go to
 * libswscale (lens__vbase_fits says which). */
#ifndef LENS_VIDEO_SHRINK_H
#define LENS_VIDEO_SHRINK_H

#include <stdint.h>

struct AVFrame;

typedef struct lens__vbase {
    int src_w, src_h, fmt;   /* what the buffers are for */
    int k;                   /* the box factor (luma) */
    int kcx, kcy;            /* chroma's, across and down */
    int xs, ys;              /* chroma subsampling (log2) */
    int w[3], h[3];          /* base planes' sizes */
    float *pl[3];
    uint16_t *acc;           /* one row's vertical sums */
    int full;                /* full-range luma */
} lens__vbase;

/* an area-resampling axis: output i = sum of w[i*taps + j] * in[first[i] + j] */
typedef struct lens__vaxis {
    int n, taps, in;
    int *first;
    float *w;
} lens__vaxis;

typedef struct lens__vsize {
    int w, h;                /* before rotation */
    lens__vaxis ax[2], ay[2]; /* luma, chroma */
    float *tmp, *pl[3];
    uint8_t *p8;             /* R, G and B planes before packing */
} lens__vsize;

/* 8-bit planar YUV (three planes) that the base path takes */
int lens__vbase_fits(const struct AVFrame *f);
/* Fills the base from f (its buffers made or remade when f's size or
 * format changes, so only then does it allocate); maxw x maxh: the largest
 * size that will be made from it. -1: out of memory. */
int lens__vbase_fill(lens__vbase *b, const struct AVFrame *f, int maxw, int maxh);
/* The size's RGB24 picture (w*h*3 bytes) from the base; -1: out of memory
 * (its tables are remade when the base's geometry changes). */
int lens__vsize_rgb(lens__vsize *s, const lens__vbase *b, uint8_t *rgb);
void lens__vbase_free(lens__vbase *b);
void lens__vsize_free(lens__vsize *s);

#endif
