/* Running a planned TF.js graph: generic C kernels, NHWC, float32 with int32
 * and bool tensors for indices and masks. This is the first, plain executor:
 * one buffer per node output, freed after its last reader (malloc'd per run:
 * an arena planned once comes next), one thread, generic C with double
 * accumulation; SIMD kernels and the thread pool come next. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"
#include "nn/linear.h"

typedef struct {
    const lens__gshape *s;
    const float *f;
    const int32_t *i;
} view;

typedef struct {
    lens_graph *g;
    lens__gnode *nd;
    void ***bufs; /* per node, per output: the run's values (NULL: the node's constant) */
    lens_error *err;
} rctx;

static int rfail(rctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int rfail(rctx *c, int code, const char *fmt, ...)
{
    char what[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lens_error_set(c->err, code, "%s: node '%s' (%s): %s", c->g->name, c->nd->name, c->nd->op, what);
}

static view in(rctx *c, int i)
{
    const lens__gref r = c->nd->in[i];
    const lens__gnode *s = &c->g->nodes[r.node];
    view v = {&s->out_shape[r.port], NULL, NULL};
    const lens__gtensor *k = s->out_const ? s->out_const[r.port] : NULL;
    if (k) v.f = k->f, v.i = k->i;
    else if (s->out_dtype[r.port] == LENS_GRAPH_FLOAT32) v.f = c->bufs[r.node][r.port];
    else v.i = c->bufs[r.node][r.port];
    return v;
}

static int64_t numel(const lens__gshape *s) { return lens__gshape_numel(s); }
/* a value as double whatever the dtype (int32 exactly) */
static double getf(const view *v, int64_t i) { return v->f ? (double)v->f[i] : (double)v->i[i]; }

static const char *sattr(const lens__gnode *n, const char *k)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && a->kind == LENS__GA_S ? a->s : NULL;
}
static int64_t iattr(const lens__gnode *n, const char *k, int64_t def)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && (a->kind == LENS__GA_I || a->kind == LENS__GA_B) ? a->i : def;
}
static double fattr(const lens__gnode *n, const char *k, double def)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && a->kind == LENS__GA_F ? a->f : def;
}
static const int64_t *lattr(const lens__gnode *n, const char *k, int want)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && a->kind == LENS__GA_LIST && a->list_kind == LENS__GA_I && a->n == want ? a->li : NULL;
}

/* the activation after a fused op: 0 none, else the op's name */
enum { ACT_NONE, ACT_RELU, ACT_RELU6, ACT_LEAKY, ACT_ELU, ACT_SIGMOID, ACT_TANH, ACT_PRELU };

static int fused_act(const lens__gnode *n, int *has_bias)
{
    const lens__gattr *f = lens__gattr_find(n, "fused_ops");
    *has_bias = 0;
    if (!f || f->kind != LENS__GA_LIST || f->list_kind != LENS__GA_S) return ACT_NONE;
    *has_bias = f->n >= 1 && !strcmp(f->ls[0], "BiasAdd");
    if (f->n < 2) return ACT_NONE;
    const char *a = f->ls[1];
    return !strcmp(a, "Relu") ? ACT_RELU : !strcmp(a, "Relu6") ? ACT_RELU6 : !strcmp(a, "LeakyRelu") ? ACT_LEAKY
         : !strcmp(a, "Elu") ? ACT_ELU : !strcmp(a, "Sigmoid") ? ACT_SIGMOID : !strcmp(a, "Tanh") ? ACT_TANH
         : ACT_PRELU;
}

static inline float act(int a, float x, float alpha, const float *pa, int64_t ch)
{
    switch (a) {
    case ACT_RELU: return x > 0 ? x : 0;
    case ACT_RELU6: return x < 0 ? 0 : x > 6 ? 6 : x;
    case ACT_LEAKY: return x < 0 ? alpha * x : x;
    case ACT_ELU: return x < 0 ? expm1f(x) : x;
    case ACT_SIGMOID: return 1.0f / (1.0f + expf(-x));
    case ACT_TANH: return tanhf(x);
    case ACT_PRELU: return x < 0 ? pa[ch] * x : x;
    default: return x;
    }
}

/* SAME / VALID / EXPLICIT: the padding before the first row or column */
static int64_t pad_before(const lens__gnode *n, int64_t in, int64_t out, int64_t k, int64_t s, int64_t d, int dim)
{
    const char *p = sattr(n, "padding");
    if (p && !strcmp(p, "SAME")) {
        int64_t total = (out - 1) * s + (k - 1) * d + 1 - in;
        return total > 0 ? total / 2 : 0;
    }
    if (p && !strcmp(p, "EXPLICIT")) {
        const int64_t *ep = lattr(n, "explicit_paddings", 8);
        return ep ? ep[2 * dim] : 0;
    }
    return 0;
}

/* Conv2D and _FusedConv2D as a GEMM (src/nn's packed kernels, AVX-512/AVX2/
 * generic as the CPU has): rows are output pixels, columns the filter's
 * KH x KW x C window (im2col, in blocks of rows; a 1x1 stride-1 convolution
 * reads the input as it is), the bias in the GEMM's epilogue, the
 * activation after it. The filter is packed once, by the first run that
 * needs it (under the graph's lock: runs on other threads may overlap). */
#define IM2COL_ROWS 256
static int conv_gemm(rctx *c, float *out)
{
    lens__gnode *n = c->nd;
    view x = in(c, 0), w = in(c, 1);
    const lens__gshape *o = &n->out_shape[0];
    int has_bias, a = n->op[0] == '_' ? fused_act(n, &has_bias) : (has_bias = 0, ACT_NONE);
    const float *bias = has_bias ? in(c, 2).f : NULL, *pa = a == ACT_PRELU ? in(c, 3).f : NULL;
    float alpha = (float)fattr(n, "leakyrelu_alpha", 0.2);
    const int64_t *st = lattr(n, "strides", 4), *dl = lattr(n, "dilations", 4);
    int64_t N = x.s->d[0], H = x.s->d[1], W = x.s->d[2], C = x.s->d[3];
    int64_t KH = w.s->d[0], KW = w.s->d[1], OH = o->d[1], OW = o->d[2], OC = o->d[3];
    int64_t sh = st ? st[1] : 1, sw = st ? st[2] : 1, dh = dl ? dl[1] : 1, dw = dl ? dl[2] : 1;
    int64_t ph = pad_before(n, H, OH, KH, sh, dh, 1), pw = pad_before(n, W, OW, KW, sw, dw, 2);
    int64_t K = KH * KW * C, M = N * OH * OW;
    if (K > (1 << 24) || OC > (1 << 24) || M > ((int64_t)1 << 31)) return 1; /* the direct kernel then */
    lens__linear *lin = __atomic_load_n(&n->lin, __ATOMIC_ACQUIRE);
    if (!lin) {
        pthread_mutex_lock(&c->g->pack_mu);
        if (!(lin = n->lin)) {
            /* W^T: [OC][KH*KW*C] from the filter's [KH][KW][C][OC] */
            float *wt = malloc((size_t)(OC * K > 0 ? OC * K : 1) * sizeof *wt);
            lens__linear *l = calloc(1, sizeof *l);
            int rc = !wt || !l ? lens_error_set(c->err, LENS_ENOMEM, "out of memory") : 0;
            if (!rc) {
                for (int64_t k = 0; k < K; k++)
                    for (int64_t j = 0; j < OC; j++) wt[j * K + k] = w.f[k * OC + j];
                rc = lens__linear_init(l, wt, bias, (int)OC, (int)K, LENS_FP32, lens__kernel_detect(), NULL, c->err);
            }
            free(wt);
            if (rc) {
                free(l);
                pthread_mutex_unlock(&c->g->pack_mu);
                return rc;
            }
            __atomic_store_n(&n->lin, l, __ATOMIC_RELEASE);
            lin = l;
        }
        pthread_mutex_unlock(&c->g->pack_mu);
    }
    int direct = KH == 1 && KW == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0;
    int64_t rows = direct ? M : IM2COL_ROWS;
    float *col = direct ? NULL : malloc((size_t)(rows * K) * sizeof *col);
    lens__linear_ws ws = {0};
    int rc = (!direct && !col) ? lens_error_set(c->err, LENS_ENOMEM, "out of memory") : 0;
    if (!rc) rc = lens__linear_ws_reserve(&ws, (int)(rows < M ? rows : M), (int)K, c->err);
    for (int64_t r0 = 0; r0 < M && !rc; r0 += rows) {
        int64_t m = M - r0 < rows ? M - r0 : rows;
        const float *src = x.f + r0 * C;
        if (!direct) {
            for (int64_t r = 0; r < m; r++) {
                int64_t p = r0 + r, b = p / (OH * OW), oy = p / OW % OH, ox = p % OW;
                float *dst = col + r * K;
                for (int64_t ky = 0; ky < KH; ky++) {
                    int64_t iy = oy * sh - ph + ky * dh;
                    for (int64_t kx = 0; kx < KW; kx++, dst += C) {
                        int64_t ix = ox * sw - pw + kx * dw;
                        if (iy < 0 || iy >= H || ix < 0 || ix >= W) memset(dst, 0, (size_t)C * sizeof *dst);
                        else memcpy(dst, x.f + ((b * H + iy) * W + ix) * C, (size_t)C * sizeof *dst);
                    }
                }
            }
            src = col;
        }
        float *y = out + r0 * OC;
        lens__linear_forward(lin, src, (int)m, y, LENS__EPI_BIAS, NULL, &ws, NULL);
        if (a != ACT_NONE)
            for (int64_t i = 0; i < m * OC; i++) y[i] = act(a, y[i], alpha, pa, i % OC);
    }
    lens__linear_ws_free(&ws);
    free(col);
    return rc;
}

/* Conv2D, _FusedConv2D, DepthwiseConv2dNative, FusedDepthwiseConv2dNative */
static int conv(rctx *c, float *out, int depthwise)
{
    if (!depthwise && !getenv("LENS_GRAPH_DIRECT")) {
        int rc = conv_gemm(c, out);
        if (rc <= 0) return rc;
    }
    const lens__gnode *n = c->nd;
    view x = in(c, 0), w = in(c, 1);
    const lens__gshape *o = &n->out_shape[0];
    int has_bias, a = fused_act(n, &has_bias);
    const float *bias = has_bias ? in(c, 2).f : NULL, *pa = a == ACT_PRELU ? in(c, 3).f : NULL;
    float alpha = (float)fattr(n, "leakyrelu_alpha", 0.2);
    const int64_t *st = lattr(n, "strides", 4), *dl = lattr(n, "dilations", 4);
    int64_t N = x.s->d[0], H = x.s->d[1], W = x.s->d[2], C = x.s->d[3];
    int64_t KH = w.s->d[0], KW = w.s->d[1], M = w.s->d[3], OH = o->d[1], OW = o->d[2], OC = o->d[3];
    int64_t sh = st ? st[1] : 1, sw = st ? st[2] : 1, dh = dl ? dl[1] : 1, dw = dl ? dl[2] : 1;
    int64_t ph = pad_before(n, H, OH, KH, sh, dh, 1), pw = pad_before(n, W, OW, KW, sw, dw, 2);
    double *acc = malloc((size_t)OC * sizeof *acc);
    if (!acc) return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
    for (int64_t b = 0; b < N; b++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++) {
                for (int64_t k = 0; k < OC; k++) acc[k] = 0;
                for (int64_t ky = 0; ky < KH; ky++) {
                    int64_t iy = oy * sh - ph + ky * dh;
                    if (iy < 0 || iy >= H) continue;
                    for (int64_t kx = 0; kx < KW; kx++) {
                        int64_t ix = ox * sw - pw + kx * dw;
                        if (ix < 0 || ix >= W) continue;
                        const float *px = x.f + ((b * H + iy) * W + ix) * C, *pk = w.f + (ky * KW + kx) * C * M;
                        if (depthwise) {
                            for (int64_t ci = 0; ci < C; ci++)
                                for (int64_t m = 0; m < M; m++) acc[ci * M + m] += (double)px[ci] * pk[ci * M + m];
                        } else {
                            for (int64_t ci = 0; ci < C; ci++) {
                                double v = px[ci];
                                const float *row = pk + ci * M;
                                for (int64_t k = 0; k < OC; k++) acc[k] += v * row[k];
                            }
                        }
                    }
                }
                float *po = out + ((b * OH + oy) * OW + ox) * OC;
                for (int64_t k = 0; k < OC; k++)
                    po[k] = act(a, (float)acc[k] + (bias ? bias[k] : 0), alpha, pa, k);
            }
    free(acc);
    return 0;
}

static int pool(rctx *c, float *out, int is_max)
{
    const lens__gnode *n = c->nd;
    view x = in(c, 0);
    const lens__gshape *o = &n->out_shape[0];
    const int64_t *k = lattr(n, "ksize", 4), *st = lattr(n, "strides", 4);
    int64_t N = x.s->d[0], H = x.s->d[1], W = x.s->d[2], C = x.s->d[3], OH = o->d[1], OW = o->d[2];
    int64_t KH = k[1], KW = k[2], sh = st[1], sw = st[2];
    int64_t ph = pad_before(n, H, OH, KH, sh, 1, 1), pw = pad_before(n, W, OW, KW, sw, 1, 2);
    for (int64_t b = 0; b < N; b++)
        for (int64_t oy = 0; oy < OH; oy++)
            for (int64_t ox = 0; ox < OW; ox++)
                for (int64_t ch = 0; ch < C; ch++) {
                    double acc = is_max ? -INFINITY : 0;
                    int64_t cnt = 0;
                    for (int64_t ky = 0; ky < KH; ky++) {
                        int64_t iy = oy * sh - ph + ky;
                        if (iy < 0 || iy >= H) continue;
                        for (int64_t kx = 0; kx < KW; kx++) {
                            int64_t ix = ox * sw - pw + kx;
                            if (ix < 0 || ix >= W) continue;
                            double v = x.f[((b * H + iy) * W + ix) * C + ch];
                            acc = is_max ? (v > acc ? v : acc) : acc + v;
                            cnt++;
                        }
                    }
                    out[((b * OH + oy) * OW + ox) * C + ch] = (float)(is_max ? acc : cnt ? acc / (double)cnt : 0);
                }
    return 0;
}

/* the float binary ops, named once per node, not once per element */
enum { B_ADD, B_SUB, B_MUL, B_DIV, B_MAX, B_MIN, B_SQDIFF, B_POW, B_NONE };

static int bop_of(const char *op)
{
    if (!strcmp(op, "Add") || !strcmp(op, "AddV2") || !strcmp(op, "BiasAdd")) return B_ADD;
    if (!strcmp(op, "Sub")) return B_SUB;
    if (!strcmp(op, "Mul")) return B_MUL;
    if (!strcmp(op, "RealDiv") || !strcmp(op, "Div")) return B_DIV;
    if (!strcmp(op, "Maximum")) return B_MAX;
    if (!strcmp(op, "Minimum")) return B_MIN;
    if (!strcmp(op, "SquaredDifference")) return B_SQDIFF;
    if (!strcmp(op, "Pow")) return B_POW;
    return B_NONE;
}

static inline float bin(int k, float a, float b)
{
    switch (k) {
    case B_ADD: return a + b;
    case B_SUB: return a - b;
    case B_MUL: return a * b;
    case B_DIV: return a / b;
    case B_MAX: return a > b ? a : b;
    case B_MIN: return a < b ? a : b;
    case B_SQDIFF: return (a - b) * (a - b);
    case B_POW: return powf(a, b);
    default: return NAN;
    }
}

static int same_shape(const lens__gshape *a, const lens__gshape *b)
{
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] != b->d[i]) return 0;
    return 1;
}

static int binary(rctx *c, float *out)
{
    view a = in(c, 0), b = in(c, 1);
    const lens__gshape *o = &c->nd->out_shape[0];
    int64_t n = numel(o), nb = numel(b.s);
    const char *op = c->nd->op;
    if (!a.f || !b.f || c->nd->out_dtype[0] != LENS_GRAPH_FLOAT32) { /* int32 and bool operands or results */
        lens_graph_dtype t = c->nd->out_dtype[0];
        int isint = !a.f && !b.f;
        for (int64_t i = 0; i < n; i++) {
            double v = lens__graph_binop(op, getf(&a, lens__graph_bidx(a.s, o, i)), getf(&b, lens__graph_bidx(b.s, o, i)), isint);
            if (t == LENS_GRAPH_FLOAT32) out[i] = (float)v;
            else ((int32_t *)out)[i] = t == LENS_GRAPH_BOOL ? v != 0 : (int32_t)fmax(fmin(v, INT32_MAX), INT32_MIN);
        }
        return 0;
    }
    int k = bop_of(op);
    if (same_shape(a.s, o) && (same_shape(b.s, o) || nb == 1)) { /* the common cases, no index arithmetic */
        for (int64_t i = 0; i < n; i++) out[i] = bin(k, a.f[i], b.f[nb == 1 ? 0 : i]);
        return 0;
    }
    if (same_shape(a.s, o) && b.s->rank == 1 && b.s->d[0] == o->d[o->rank - 1]) { /* per channel */
        for (int64_t i = 0; i < n; i++) out[i] = bin(k, a.f[i], b.f[i % nb]);
        return 0;
    }
    for (int64_t i = 0; i < n; i++) out[i] = bin(k, a.f[lens__graph_bidx(a.s, o, i)], b.f[lens__graph_bidx(b.s, o, i)]);
    return 0;
}

static float un(const char *op, float x, float alpha)
{
    if (!strcmp(op, "Relu")) return x > 0 ? x : 0;
    if (!strcmp(op, "Relu6")) return x < 0 ? 0 : x > 6 ? 6 : x;
    if (!strcmp(op, "Sigmoid")) return 1.0f / (1.0f + expf(-x));
    if (!strcmp(op, "Tanh")) return tanhf(x);
    if (!strcmp(op, "Exp")) return expf(x);
    if (!strcmp(op, "Sqrt")) return sqrtf(x);
    if (!strcmp(op, "Rsqrt")) return 1.0f / sqrtf(x);
    if (!strcmp(op, "Abs")) return fabsf(x);
    if (!strcmp(op, "Neg")) return -x;
    if (!strcmp(op, "Reciprocal")) return 1.0f / x;
    if (!strcmp(op, "Square")) return x * x;
    if (!strcmp(op, "LeakyRelu")) return x < 0 ? alpha * x : x;
    if (!strcmp(op, "Elu")) return x < 0 ? expm1f(x) : x;
    return NAN;
}

static const char *const unary_ops[] = {"Relu", "Relu6", "Sigmoid", "Tanh", "Exp", "Sqrt", "Rsqrt", "Abs", "Neg",
                                        "Reciprocal", "Square", "LeakyRelu", "Elu", NULL};
static const char *const binary_ops[] = {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "Maximum", "Minimum",
                                         "SquaredDifference", "Pow", "BiasAdd", "FloorDiv", "FloorMod", "Equal",
                                         "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual", "LogicalAnd",
                                         "LogicalOr", NULL};

static int in_list(const char *op, const char *const *l)
{
    for (; *l; l++)
        if (!strcmp(op, *l)) return 1;
    return 0;
}

/* Mean, Sum, Max, Min over constant axes */
static int reduce(rctx *c, float *out)
{
    view x = in(c, 0), ax = in(c, 1);
    const lens__gnode *n = c->nd;
    int r = x.s->rank, mark[LENS_GRAPH_MAX_RANK] = {0};
    for (int64_t i = 0; i < numel(ax.s); i++) {
        int64_t a = ax.i ? ax.i[i] : (int64_t)ax.f[i];
        mark[a < 0 ? a + r : a] = 1;
    }
    int64_t on = numel(&n->out_shape[0]), xn = numel(x.s), cnt = on ? xn / on : 0;
    double *acc = calloc((size_t)(on ? on : 1), sizeof *acc);
    char *seen = calloc((size_t)(on ? on : 1), 1);
    if (!acc || !seen) {
        free(acc);
        free(seen);
        return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
    }
    char k = n->op[1]; /* mEan, sUm, mAx, mIn */
    for (int64_t i = 0; i < xn; i++) {
        int64_t rem = i, w = 0, stride = 1;
        for (int d = r - 1; d >= 0; d--) {
            int64_t ci = rem % x.s->d[d];
            rem /= x.s->d[d];
            if (!mark[d]) w += ci * stride, stride *= x.s->d[d];
        }
        double v = x.f[i];
        if (!seen[w]) acc[w] = v, seen[w] = 1;
        else if (k == 'e' || k == 'u') acc[w] += v;
        else if (k == 'a') acc[w] = v > acc[w] ? v : acc[w];
        else acc[w] = v < acc[w] ? v : acc[w];
    }
    for (int64_t w = 0; w < on; w++) out[w] = (float)(k == 'e' ? acc[w] / (double)cnt : acc[w]);
    free(acc);
    free(seen);
    return 0;
}

static int softmax(rctx *c, float *out)
{
    view x = in(c, 0);
    int64_t n = numel(x.s), d = x.s->d[x.s->rank - 1];
    for (int64_t r = 0; r < (d ? n / d : 0); r++) {
        const float *p = x.f + r * d;
        float *q = out + r * d, mx = -INFINITY;
        for (int64_t i = 0; i < d; i++) mx = p[i] > mx ? p[i] : mx;
        double s = 0;
        for (int64_t i = 0; i < d; i++) s += q[i] = expf(p[i] - mx);
        for (int64_t i = 0; i < d; i++) q[i] = (float)(q[i] / s);
    }
    return 0;
}

static int matmul(rctx *c, float *out)
{
    view a = in(c, 0), b = in(c, 1);
    const lens__gnode *n = c->nd;
    int ta = (int)iattr(n, "transpose_a", 0), tb = (int)iattr(n, "transpose_b", 0), has_bias;
    int ac = n->op[0] == '_' ? fused_act(n, &has_bias) : (has_bias = 0, ACT_NONE);
    const float *bias = has_bias ? in(c, 2).f : NULL, *pa = ac == ACT_PRELU ? in(c, 3).f : NULL;
    int64_t M = n->out_shape[0].d[0], N = n->out_shape[0].d[1], K = a.s->d[ta ? 0 : 1];
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            double s = 0;
            for (int64_t k = 0; k < K; k++)
                s += (double)a.f[ta ? k * M + i : i * K + k] * b.f[tb ? j * K + k : k * N + j];
            out[i * N + j] = act(ac, (float)s + (bias ? bias[j] : 0), (float)fattr(n, "leakyrelu_alpha", 0.2), pa, j);
        }
    return 0;
}

static int pad(rctx *c, float *out)
{
    view x = in(c, 0), p = in(c, 1);
    const lens__gshape *o = &c->nd->out_shape[0];
    float v = c->nd->n_in > 2 ? in(c, 2).f[0] : 0;
    int64_t n = numel(o);
    for (int64_t w = 0; w < n; w++) {
        int64_t rem = w, off = 0, stride = 1, inside = 1;
        for (int d = o->rank - 1; d >= 0; d--) {
            int64_t ci = rem % o->d[d] - (p.i ? p.i[2 * d] : (int64_t)p.f[2 * d]);
            rem /= o->d[d];
            if (ci < 0 || ci >= x.s->d[d]) inside = 0;
            off += ci * stride;
            stride *= x.s->d[d];
        }
        out[w] = inside ? x.f[off] : v;
    }
    return 0;
}

static int concat(rctx *c, void *out)
{
    const lens__gnode *n = c->nd;
    int k = n->n_in - 1;
    view axv = in(c, k);
    const lens__gshape *o = &n->out_shape[0];
    int64_t a = axv.i ? axv.i[0] : (int64_t)axv.f[0];
    int ax = (int)(a < 0 ? a + o->rank : a);
    int64_t outer = 1;
    for (int i = 0; i < ax; i++) outer *= o->d[i];
    int64_t w = 0;
    for (int64_t r = 0; r < outer; r++)
        for (int i = 0; i < k; i++) {
            view x = in(c, i);
            int64_t chunk = outer ? numel(x.s) / outer : 0;
            const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
            memcpy((uint32_t *)out + w, src + r * chunk, (size_t)chunk * 4);
            w += chunk;
        }
    return 0;
}

static int transpose(rctx *c, void *out)
{
    view x = in(c, 0), p = in(c, 1);
    const lens__gshape *o = &c->nd->out_shape[0];
    int r = x.s->rank;
    int64_t istr[LENS_GRAPH_MAX_RANK], s = 1, n = numel(o);
    for (int i = r - 1; i >= 0; i--) istr[i] = s, s *= x.s->d[i];
    int64_t ostr[LENS_GRAPH_MAX_RANK]; /* input stride of each output dim */
    for (int i = 0; i < r; i++) ostr[i] = istr[p.i ? p.i[i] : (int)p.f[i]];
    const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    uint32_t *dst = out;
    int64_t idx[LENS_GRAPH_MAX_RANK] = {0}, off = 0;
    for (int64_t w = 0; w < n; w++) { /* odometer over the output, 32-bit values whatever the dtype */
        dst[w] = src[off];
        for (int i = r - 1; i >= 0; i--) {
            off += ostr[i];
            if (++idx[i] < o->d[i]) break;
            off -= ostr[i] * o->d[i];
            idx[i] = 0;
        }
    }
    return 0;
}

/* as tfjs's CPU resizeBilinear: effective sizes with align_corners, half-pixel centres */
static int resize_bilinear(rctx *c, float *out)
{
    view x = in(c, 0);
    const lens__gnode *n = c->nd;
    const lens__gshape *o = &n->out_shape[0];
    int ac = (int)iattr(n, "align_corners", 0), hp = (int)iattr(n, "half_pixel_centers", 0);
    int64_t N = x.s->d[0], H = x.s->d[1], W = x.s->d[2], C = x.s->d[3], OH = o->d[1], OW = o->d[2];
    if (numel(x.s) == 0) {
        memset(out, 0, (size_t)numel(o) * 4);
        return 0;
    }
    double ry = (double)(ac && OH > 1 ? H - 1 : H) / (double)(ac && OH > 1 ? OH - 1 : OH);
    double rx = (double)(ac && OW > 1 ? W - 1 : W) / (double)(ac && OW > 1 ? OW - 1 : OW);
    for (int64_t b = 0; b < N; b++)
        for (int64_t y = 0; y < OH; y++) {
            double fy = hp ? ry * ((double)y + 0.5) - 0.5 : ry * (double)y;
            int64_t y0 = (int64_t)fmax(0, floor(fy)), y1 = (int64_t)fmin((double)(H - 1), ceil(fy));
            double dy = fy - (double)y0;
            for (int64_t xx = 0; xx < OW; xx++) {
                double fx = hp ? rx * ((double)xx + 0.5) - 0.5 : rx * (double)xx;
                int64_t x0 = (int64_t)fmax(0, floor(fx)), x1 = (int64_t)fmin((double)(W - 1), ceil(fx));
                double dx = fx - (double)x0;
                const float *tl = x.f + ((b * H + y0) * W + x0) * C, *tr = x.f + ((b * H + y0) * W + x1) * C;
                const float *bl = x.f + ((b * H + y1) * W + x0) * C, *br = x.f + ((b * H + y1) * W + x1) * C;
                float *po = out + ((b * OH + y) * OW + xx) * C;
                for (int64_t ch = 0; ch < C; ch++) {
                    double top = tl[ch] + (tr[ch] - tl[ch]) * dx, bot = bl[ch] + (br[ch] - bl[ch]) * dx;
                    po[ch] = (float)(top + (bot - top) * dy);
                }
            }
        }
    return 0;
}

/* Split (axis first) and SplitV (sizes, axis last) */
static int split(rctx *c)
{
    lens__gnode *n = c->nd;
    int v = n->op[5] == 'V', xi = v ? 0 : 1;
    view x = in(c, xi);
    view axv = in(c, v ? 2 : 0);
    int64_t a = axv.i ? axv.i[0] : (int64_t)axv.f[0];
    int ax = (int)(a < 0 ? a + x.s->rank : a);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= x.s->d[i];
    for (int i = ax + 1; i < x.s->rank; i++) inner *= x.s->d[i];
    const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    int64_t off = 0;
    for (int k = 0; k < n->n_out; k++) {
        int64_t len = n->out_shape[k].d[ax] * inner;
        uint32_t *dst = c->bufs[n - c->g->nodes][k];
        for (int64_t r = 0; r < outer; r++)
            memcpy(dst + r * len, src + r * x.s->d[ax] * inner + off, (size_t)len * 4);
        off += len;
    }
    return 0;
}

static int strided(rctx *c, void *out)
{
    lens__gslice sp;
    int rc = lens__graph_slice(c->g, c->nd, &sp, c->err);
    if (rc) return rc;
    view x = in(c, 0);
    const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    uint32_t *dst = out;
    int64_t n = numel(&c->nd->out_shape[0]), idx[LENS_GRAPH_MAX_RANK] = {0};
    for (int64_t w = 0; w < n; w++) {
        int64_t off = 0;
        for (int i = 0; i < sp.n; i++) off = off * x.s->d[i] + sp.start[i] + idx[i] * sp.step[i];
        dst[w] = src[off];
        for (int i = sp.n - 1; i >= 0; i--) {
            if (++idx[i] < sp.count[i]) break;
            idx[i] = 0;
        }
    }
    return 0;
}

static int cast(rctx *c, void *out)
{
    view x = in(c, 0);
    lens_graph_dtype to = c->nd->out_dtype[0];
    int64_t n = numel(x.s);
    for (int64_t i = 0; i < n; i++) {
        double v = getf(&x, i);
        if (to == LENS_GRAPH_FLOAT32) ((float *)out)[i] = (float)v;
        else if (to == LENS_GRAPH_BOOL) ((int32_t *)out)[i] = v != 0;
        else ((int32_t *)out)[i] = x.i ? x.i[i] : (int32_t)fmax(fmin(trunc(v), INT32_MAX), INT32_MIN);
    }
    return 0;
}

/* the transposed convolution: each input pixel scattered through the filter
 * [kh, kw, out channels, in channels] */
static int conv_transpose(rctx *c, float *out)
{
    const lens__gnode *n = c->nd;
    view w = in(c, 1), dy = in(c, 2);
    const lens__gshape *o = &n->out_shape[0];
    const int64_t *st = lattr(n, "strides", 4);
    int64_t N = o->d[0], H = o->d[1], W = o->d[2], OC = o->d[3], IH = dy.s->d[1], IW = dy.s->d[2], IC = dy.s->d[3];
    int64_t KH = w.s->d[0], KW = w.s->d[1], sh = st ? st[1] : 1, sw = st ? st[2] : 1;
    int64_t ph = pad_before(n, H, IH, KH, sh, 1, 1), pw = pad_before(n, W, IW, KW, sw, 1, 2);
    int64_t total = numel(o);
    double *acc = calloc((size_t)(total ? total : 1), sizeof *acc);
    if (!acc) return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
    for (int64_t b = 0; b < N; b++)
        for (int64_t iy = 0; iy < IH; iy++)
            for (int64_t ix = 0; ix < IW; ix++) {
                const float *pd = dy.f + ((b * IH + iy) * IW + ix) * IC;
                for (int64_t ky = 0; ky < KH; ky++) {
                    int64_t oy = iy * sh - ph + ky;
                    if (oy < 0 || oy >= H) continue;
                    for (int64_t kx = 0; kx < KW; kx++) {
                        int64_t ox = ix * sw - pw + kx;
                        if (ox < 0 || ox >= W) continue;
                        double *po = acc + ((b * H + oy) * W + ox) * OC;
                        const float *pk = w.f + (ky * KW + kx) * OC * IC;
                        for (int64_t co = 0; co < OC; co++) {
                            double s = 0;
                            for (int64_t ci = 0; ci < IC; ci++) s += (double)pd[ci] * pk[co * IC + ci];
                            po[co] += s;
                        }
                    }
                }
            }
    for (int64_t i = 0; i < total; i++) out[i] = (float)acc[i];
    free(acc);
    return 0;
}

/* Pack (run time): N tensors of one shape stacked along a new axis */
static int pack(rctx *c, void *out)
{
    const lens__gnode *n = c->nd;
    const lens__gshape *o = &n->out_shape[0];
    int64_t a = iattr(n, "axis", 0);
    int ax = (int)(a < 0 ? a + o->rank : a);
    int64_t outer = 1, inner = 1;
    for (int i = 0; i < ax; i++) outer *= o->d[i];
    for (int i = ax + 1; i < o->rank; i++) inner *= o->d[i];
    uint32_t *dst = out;
    for (int64_t r = 0; r < outer; r++)
        for (int k = 0; k < n->n_in; k++) {
            view x = in(c, k);
            const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
            memcpy(dst, src + r * inner, (size_t)inner * 4);
            dst += inner;
        }
    return 0;
}

static int unpack(rctx *c)
{
    lens__gnode *n = c->nd;
    view x = in(c, 0);
    int64_t a = iattr(n, "axis", 0);
    int ax = (int)(a < 0 ? a + x.s->rank : a);
    int64_t outer = 1, inner = 1, m = x.s->d[ax];
    for (int i = 0; i < ax; i++) outer *= x.s->d[i];
    for (int i = ax + 1; i < x.s->rank; i++) inner *= x.s->d[i];
    const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    for (int k = 0; k < n->n_out; k++) {
        uint32_t *dst = c->bufs[n - c->g->nodes][k];
        for (int64_t r = 0; r < outer; r++) memcpy(dst + r * inner, src + (r * m + k) * inner, (size_t)inner * 4);
    }
    return 0;
}

static int tile(rctx *c, void *out)
{
    view x = in(c, 0);
    const lens__gshape *o = &c->nd->out_shape[0];
    const uint32_t *src = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    uint32_t *dst = out;
    for (int64_t w = 0; w < numel(o); w++) {
        int64_t rem = w, off = 0, stride = 1;
        for (int i = o->rank - 1; i >= 0; i--) {
            int64_t ci = rem % o->d[i];
            rem /= o->d[i];
            off += (ci % x.s->d[i]) * stride;
            stride *= x.s->d[i];
        }
        dst[w] = src[off];
    }
    return 0;
}

/* Select: a rank-1 condition picks rows (TF's Select), else it broadcasts */
static int select_(rctx *c, void *out)
{
    view k = in(c, 0), x = in(c, 1), y = in(c, 2);
    const lens__gshape *o = &c->nd->out_shape[0];
    int64_t n = numel(o), rows = o->rank ? o->d[0] : 1, per = rows ? n / rows : 0;
    const uint32_t *px = x.f ? (const uint32_t *)x.f : (const uint32_t *)x.i;
    const uint32_t *py = y.f ? (const uint32_t *)y.f : (const uint32_t *)y.i;
    int by_row = k.s->rank == 1 && o->rank > 1 && strcmp(c->nd->op, "SelectV2");
    for (int64_t i = 0; i < n; i++) {
        int pick = by_row ? getf(&k, per ? i / per : 0) != 0 : getf(&k, lens__graph_bidx(k.s, o, i)) != 0;
        ((uint32_t *)out)[i] = pick ? px[lens__graph_bidx(x.s, o, i)] : py[lens__graph_bidx(y.s, o, i)];
    }
    return 0;
}

/* ArgMax / ArgMin: the first extreme along a constant axis, as int32 */
static int argmax(rctx *c, int32_t *out)
{
    view x = in(c, 0), axv = in(c, 1);
    int64_t a = (int64_t)getf(&axv, 0);
    int ax = (int)(a < 0 ? a + x.s->rank : a), mn = c->nd->op[3] == 'M' && c->nd->op[4] == 'i';
    int64_t outer = 1, inner = 1, m = x.s->d[ax];
    for (int i = 0; i < ax; i++) outer *= x.s->d[i];
    for (int i = ax + 1; i < x.s->rank; i++) inner *= x.s->d[i];
    if (m == 0 && outer * inner > 0) return rfail(c, LENS_EINVAL, "arg of an empty axis");
    for (int64_t r = 0; r < outer; r++)
        for (int64_t i = 0; i < inner; i++) {
            int64_t best = 0;
            double bv = getf(&x, r * m * inner + i);
            for (int64_t j = 1; j < m; j++) {
                double v = getf(&x, (r * m + j) * inner + i);
                if (mn ? v < bv : v > bv) bv = v, best = j;
            }
            out[r * inner + i] = (int32_t)best;
        }
    return 0;
}

/* GatherV2 (batch_dims 0) and GatherNd; an index out of range is an error, as in TF */
static int gather(rctx *c, void *out)
{
    const lens__gnode *n = c->nd;
    view p = in(c, 0), ix = in(c, 1);
    const uint32_t *src = p.f ? (const uint32_t *)p.f : (const uint32_t *)p.i;
    uint32_t *dst = out;
    if (!strcmp(n->op, "GatherNd")) {
        int64_t q = ix.s->d[ix.s->rank - 1], rows = q ? numel(ix.s) / q : 0, inner = 1;
        for (int i = (int)q; i < p.s->rank; i++) inner *= p.s->d[i];
        for (int64_t r = 0; r < rows; r++) {
            int64_t off = 0;
            for (int64_t j = 0; j < q; j++) {
                int64_t v = (int64_t)getf(&ix, r * q + j);
                if (v < 0 || v >= p.s->d[j]) return rfail(c, LENS_EINVAL, "index %lld out of range [0, %lld)", (long long)v, (long long)p.s->d[j]);
                off = off * p.s->d[j] + v;
            }
            memcpy(dst + r * inner, src + off * inner, (size_t)inner * 4);
        }
        return 0;
    }
    view axv = in(c, 2);
    int64_t a = (int64_t)getf(&axv, 0);
    int ax = (int)(a < 0 ? a + p.s->rank : a);
    int64_t outer = 1, inner = 1, m = p.s->d[ax], ni = numel(ix.s), w = 0;
    for (int i = 0; i < ax; i++) outer *= p.s->d[i];
    for (int i = ax + 1; i < p.s->rank; i++) inner *= p.s->d[i];
    for (int64_t r = 0; r < outer; r++)
        for (int64_t k = 0; k < ni; k++) {
            int64_t j = (int64_t)getf(&ix, k);
            if (j < 0 || j >= m) return rfail(c, LENS_EINVAL, "index %lld out of range [0, %lld)", (long long)j, (long long)m);
            memcpy(dst + w, src + (r * m + j) * inner, (size_t)inner * 4);
            w += inner;
        }
    return 0;
}

/* TopKV2, sorted: the k largest of each last-axis row, ties by lower index (tfjs's stable sort) */
static int topk(rctx *c)
{
    lens__gnode *n = c->nd;
    view x = in(c, 0);
    int64_t k = n->out_shape[0].d[n->out_shape[0].rank - 1], m = x.s->d[x.s->rank - 1];
    int64_t rows = m ? numel(x.s) / m : 0;
    float *vals = c->bufs[n - c->g->nodes][0];
    int32_t *idx = c->bufs[n - c->g->nodes][1];
    if (k == 0) return 0;
    for (int64_t r = 0; r < rows; r++) {
        float *bv = vals + r * k;
        int32_t *bi = idx + r * k;
        int64_t have = 0;
        for (int64_t j = 0; j < m; j++) {
            float v = (float)getf(&x, r * m + j);
            if (have == k && !(v > bv[k - 1])) continue;
            int64_t p = have < k ? have++ : k - 1;
            while (p > 0 && v > bv[p - 1]) { /* strictly greater moves up: equal values keep index order */
                bv[p] = bv[p - 1], bi[p] = bi[p - 1];
                p--;
            }
            bv[p] = v, bi[p] = (int32_t)j;
        }
    }
    return 0;
}

/* the inputs an op reads as float32 (-1: all of them); others are indices,
 * axes or shapes */
static const struct {
    const char *op;
    int inputs[3];
} float_inputs[] = {
    {"Conv2D", {-1}}, {"_FusedConv2D", {-1}}, {"DepthwiseConv2dNative", {-1}}, {"FusedDepthwiseConv2dNative", {-1}},
    {"MaxPool", {0, -2}}, {"AvgPool", {0, -2}}, {"Prelu", {-1}}, {"AddN", {-1}}, {"Mean", {0, -2}},
    {"Sum", {0, -2}}, {"Max", {0, -2}}, {"Min", {0, -2}}, {"Softmax", {0, -2}}, {"MatMul", {-1}},
    {"_FusedMatMul", {-1}}, {"Pad", {0, -2}}, {"PadV2", {0, 2, -2}}, {"ResizeBilinear", {0, -2}},
    {"Conv2DBackpropInput", {1, 2, -2}},
};

static int check_float_inputs(rctx *c)
{
    const lens__gnode *n = c->nd;
    for (size_t k = 0; k < sizeof float_inputs / sizeof *float_inputs; k++) {
        if (strcmp(n->op, float_inputs[k].op)) continue;
        for (int j = 0; j < 3 && float_inputs[k].inputs[j] != -2; j++) {
            int all = float_inputs[k].inputs[j] == -1;
            for (int i = all ? 0 : float_inputs[k].inputs[j]; i < (all ? n->n_in : float_inputs[k].inputs[j] + 1); i++)
                if (i < n->n_in && !in(c, i).f)
                    return rfail(c, LENS_EUNSUP, "input %d is %s; this kernel takes float32", i,
                                 lens_graph_dtype_name(c->g->nodes[n->in[i].node].out_dtype[n->in[i].port]));
            if (all) break;
        }
    }
    if (in_list(n->op, unary_ops) && !in(c, 0).f) return rfail(c, LENS_EUNSUP, "input 0 is not float32");
    return 0;
}

/* one node's kernel; its outputs are allocated */
static int kernel(rctx *c)
{
    lens__gnode *n = c->nd;
    const char *op = n->op;
    void *o = c->bufs[n - c->g->nodes][0];
    int rc = check_float_inputs(c);
    if (rc) return rc;
    /* ops that move 32-bit values, whatever their dtype */
    if (!strcmp(op, "Transpose")) return transpose(c, o);
    if (!strcmp(op, "StridedSlice")) return strided(c, o);
    if (!strcmp(op, "Split") || !strcmp(op, "SplitV")) return split(c);
    if (!strcmp(op, "Cast")) return cast(c, o);
    if (!strcmp(op, "Pack")) return pack(c, o);
    if (!strcmp(op, "ConcatV2")) return concat(c, o);
    if (!strcmp(op, "Unpack")) return unpack(c);
    if (!strcmp(op, "Tile")) return tile(c, o);
    if (!strcmp(op, "Select") || !strcmp(op, "SelectV2")) return select_(c, o);
    if (!strcmp(op, "ArgMax") || !strcmp(op, "ArgMin")) return argmax(c, o);
    if (!strcmp(op, "GatherV2") || !strcmp(op, "GatherNd")) return gather(c, o);
    if (!strcmp(op, "TopKV2")) return topk(c);
    if (in_list(op, binary_ops)) return binary(c, o);
    if (n->out_dtype[0] != LENS_GRAPH_FLOAT32 && strcmp(op, "Identity") && strcmp(op, "Reshape") &&
        strcmp(op, "Squeeze") && strcmp(op, "ExpandDims"))
        return rfail(c, LENS_EUNSUP, "no kernel yet for %s output", lens_graph_dtype_name(n->out_dtype[0]));
    if (!strcmp(op, "ResizeBilinear")) return resize_bilinear(c, o);
    if (!strcmp(op, "Conv2DBackpropInput")) return conv_transpose(c, o);
    if (!strcmp(op, "Conv2D") || !strcmp(op, "_FusedConv2D")) return conv(c, o, 0);
    if (!strcmp(op, "DepthwiseConv2dNative") || !strcmp(op, "FusedDepthwiseConv2dNative")) return conv(c, o, 1);
    if (!strcmp(op, "MaxPool") || !strcmp(op, "AvgPool")) return pool(c, o, op[1] == 'a');
    if (in_list(op, binary_ops)) return binary(c, o);
    if (in_list(op, unary_ops)) {
        view x = in(c, 0);
        float alpha = (float)fattr(n, "alpha", 0.2);
        for (int64_t i = 0; i < numel(x.s); i++) ((float *)o)[i] = un(op, x.f[i], alpha);
        return 0;
    }
    if (!strcmp(op, "Prelu")) {
        view x = in(c, 0), al = in(c, 1);
        for (int64_t i = 0; i < numel(x.s); i++)
            ((float *)o)[i] = x.f[i] < 0 ? al.f[lens__graph_bidx(al.s, x.s, i)] * x.f[i] : x.f[i];
        return 0;
    }
    if (!strcmp(op, "Identity") || !strcmp(op, "Reshape") || !strcmp(op, "Squeeze") || !strcmp(op, "ExpandDims")) {
        view x = in(c, 0);
        memcpy(o, x.f ? (const void *)x.f : (const void *)x.i, (size_t)numel(x.s) * 4);
        return 0;
    }
    if (!strcmp(op, "AddN")) {
        for (int64_t i = 0; i < numel(&n->out_shape[0]); i++) {
            float s = 0;
            for (int k = 0; k < n->n_in; k++) s += in(c, k).f[i];
            ((float *)o)[i] = s;
        }
        return 0;
    }
    if (!strcmp(op, "Mean") || !strcmp(op, "Sum") || !strcmp(op, "Max") || !strcmp(op, "Min")) return reduce(c, o);
    if (!strcmp(op, "Softmax")) return softmax(c, o);
    if (!strcmp(op, "MatMul") || !strcmp(op, "_FusedMatMul")) return matmul(c, o);
    if (!strcmp(op, "Pad") || !strcmp(op, "PadV2")) return pad(c, o);
    if (!strcmp(op, "ConcatV2")) return concat(c, o);
    return rfail(c, LENS_EUNSUP, "op %s has no kernel yet", op);
}

int lens_graph_run(lens_graph *g, const float *const *inputs, void **outputs, lens_error *err)
{
    for (int i = 0; i < g->n_outputs; i++) outputs[i] = NULL;
    void ***bufs = calloc((size_t)g->n_nodes + 1, sizeof *bufs);
    int *last = malloc(((size_t)g->n_nodes + 1) * sizeof *last);
    if (!bufs || !last) {
        free(bufs);
        free(last);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    /* each value is freed after its last reader (the outputs' at the end) */
    for (int k = 0; k < g->n_nodes; k++) last[k] = -1;
    for (int k = 0; k < g->n_order; k++) {
        const lens__gnode *n = &g->nodes[g->order[k]];
        for (int i = 0; i < n->n_in; i++) last[n->in[i].node] = k;
    }
    for (int i = 0; i < g->n_outputs; i++) last[g->outputs[i].ref.node] = g->n_order;
    int rc = LENS_OK;
    for (int k = 0; k < g->n_order && !rc; k++) {
        lens__gnode *n = &g->nodes[g->order[k]];
        rctx c = {g, n, bufs, err};
        if (!(bufs[g->order[k]] = calloc((size_t)n->n_out, sizeof **bufs))) {
            rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
            break;
        }
        for (int p = 0; p < n->n_out && !rc; p++) {
            int64_t m = numel(&n->out_shape[p]);
            if (m < 0) rc = rfail(&c, LENS_EUNSUP, "output %d has an unknown shape", p);
            else if (!(bufs[g->order[k]][p] = malloc((size_t)(m ? m : 1) * 4)))
                rc = lens_error_set(err, LENS_ENOMEM, "out of memory (node '%s')", n->name);
        }
        if (rc) break;
        if (!strcmp(n->op, "Placeholder")) {
            int which = -1;
            for (int i = 0; i < g->n_inputs; i++)
                if (g->inputs[i].ref.node == g->order[k]) which = i;
            if (which < 0) {
                rc = rfail(&c, LENS_EINVAL, "a placeholder that is not among the graph's inputs");
                break;
            }
            int64_t m = numel(&n->out_shape[0]);
            if (n->out_dtype[0] == LENS_GRAPH_FLOAT32) memcpy(bufs[g->order[k]][0], inputs[which], (size_t)m * 4);
            else
                for (int64_t i = 0; i < m; i++) /* an integer placeholder takes the values rounded */
                    ((int32_t *)bufs[g->order[k]][0])[i] = (int32_t)lrintf(inputs[which][i]);
            continue;
        }
        rc = kernel(&c);
        for (int i = 0; i < n->n_in && !rc; i++) {
            int m = n->in[i].node;
            if (last[m] == k && bufs[m]) {
                for (int p = 0; p < g->nodes[m].n_out; p++) free(bufs[m][p]);
                free(bufs[m]);
                bufs[m] = NULL;
            }
        }
    }
    for (int i = 0; i < g->n_outputs && !rc; i++) {
        const lens__gport *p = &g->outputs[i];
        const lens__gnode *n = &g->nodes[p->ref.node];
        int64_t m = numel(&n->out_shape[p->ref.port]);
        if (!(outputs[i] = malloc((size_t)(m ? m : 1) * 4))) {
            rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
            break;
        }
        const lens__gtensor *k = n->out_const ? n->out_const[p->ref.port] : NULL;
        const void *src = k ? (k->f ? (const void *)k->f : (const void *)k->i) : bufs[p->ref.node][p->ref.port];
        memcpy(outputs[i], src, (size_t)m * 4);
    }
    if (rc)
        for (int i = 0; i < g->n_outputs; i++) {
            free(outputs[i]);
            outputs[i] = NULL;
        }
    for (int k = 0; k < g->n_nodes; k++) {
        if (!bufs[k]) continue;
        for (int p = 0; p < g->nodes[k].n_out; p++) free(bufs[k][p]);
        free(bufs[k]);
    }
    free(bufs);
    free(last);
    return rc;
}
