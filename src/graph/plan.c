/* The plan of a TF.js graph: the nodes the outputs need, in topological
 * order; every output's shape and dtype; constants folded (the shape
 * arithmetic of Shape -> StridedSlice -> Pack -> Reshape and the like, so
 * the kernels see constant attributes); op histogram, parameters and FLOPs. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph_internal.h"

#define FOLD_MAX 65536 /* elements: shape arithmetic is small; bigger constants stay run-time work */

typedef struct {
    lens_graph *g;
    lens__gnode *nd;
    lens_error *err;
} ctx;

#define FAIL(c, ...) fail_(c, LENS_EFORMAT, __VA_ARGS__)
#define UNSUP(c, ...) fail_(c, LENS_EUNSUP, __VA_ARGS__)

static int fail_(ctx *c, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_(ctx *c, int code, const char *fmt, ...)
{
    char what[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lens_error_set(c->err, code, "%s: node '%s' (%s): %s", c->g->name, c->nd->name, c->nd->op, what);
}

const char *lens_graph_dtype_name(lens_graph_dtype t)
{
    return t == LENS_GRAPH_FLOAT32 ? "float32" : t == LENS_GRAPH_INT32 ? "int32" : t == LENS_GRAPH_BOOL ? "bool" : "unknown";
}

/* ---- inputs and attrs ---- */

static lens__gnode *src(ctx *c, int i) { return &c->g->nodes[c->nd->in[i].node]; }
static const lens__gshape *ishape(ctx *c, int i) { return &src(c, i)->out_shape[c->nd->in[i].port]; }
static lens_graph_dtype idtype(ctx *c, int i) { return src(c, i)->out_dtype[c->nd->in[i].port]; }
static const lens__gtensor *iconst(ctx *c, int i)
{
    lens__gnode *s = src(c, i);
    return s->out_const ? s->out_const[c->nd->in[i].port] : NULL;
}

static int64_t attr_i(const lens__gnode *n, const char *k, int64_t def)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && (a->kind == LENS__GA_I || a->kind == LENS__GA_B || a->kind == LENS__GA_TYPE) ? a->i : def;
}
static const char *attr_s(const lens__gnode *n, const char *k)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && a->kind == LENS__GA_S ? a->s : NULL;
}
/* a list of ints of exactly want entries (want 0: any), else NULL */
static const lens__gattr *attr_li(const lens__gnode *n, const char *k, int want)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    if (!a || a->kind != LENS__GA_LIST || (a->n && a->list_kind != LENS__GA_I) || (want && a->n != want)) return NULL;
    return a;
}

static int need_inputs(ctx *c, int lo, int hi)
{
    if (c->nd->n_in < lo || c->nd->n_in > hi)
        return lo == hi ? FAIL(c, "needs %d inputs, has %d", lo, c->nd->n_in)
                        : FAIL(c, "needs %d to %d inputs, has %d", lo, hi, c->nd->n_in);
    return 0;
}

/* a constant as an integer: clamped far beyond any real shape value, so the
 * arithmetic on it cannot overflow (NaN: 0) */
static int64_t to_int(double v)
{
    const double lim = (double)((int64_t)1 << 40);
    return v != v ? 0 : v > lim ? (int64_t)lim : v < -lim ? -(int64_t)lim : (int64_t)v;
}

/* input i as constant ints (shape arguments must be constant after folding) */
static int const_ints(ctx *c, int i, int64_t *v, int cap, int *n)
{
    const lens__gtensor *t = iconst(c, i);
    if (!t) return UNSUP(c, "input %d ('%s') is computed at run time; lens needs it constant", i, c->nd->in_names[i]);
    if (t->n > cap) return FAIL(c, "input %d has %lld values, at most %d make sense", i, (long long)t->n, cap);
    for (int64_t k = 0; k < t->n; k++) v[k] = t->f ? to_int(t->f[k]) : t->i[k];
    *n = (int)t->n;
    return 0;
}
static int const_int(ctx *c, int i, int64_t *v)
{
    int n;
    int64_t tmp[1];
    int rc = const_ints(c, i, tmp, 1, &n);
    if (rc) return rc;
    if (n != 1) return FAIL(c, "input %d must be one value", i);
    *v = tmp[0];
    return 0;
}

static int norm_axis(ctx *c, int64_t a, int rank, int *out)
{
    if (a < -rank || a >= rank) return FAIL(c, "axis %lld out of range for rank %d", (long long)a, rank);
    *out = (int)(a < 0 ? a + rank : a);
    return 0;
}

static int known_rank(ctx *c, int i)
{
    if (ishape(c, i)->rank < 0) return FAIL(c, "input %d has an unknown rank", i);
    return 0;
}

/* ---- shapes ---- */

static int broadcast(ctx *c, const lens__gshape *a, const lens__gshape *b, lens__gshape *o)
{
    if (a->rank < 0 || b->rank < 0) {
        o->rank = -1;
        return 0;
    }
    int r = a->rank > b->rank ? a->rank : b->rank;
    o->rank = r;
    for (int i = 0; i < r; i++) {
        int64_t x = i < r - a->rank ? 1 : a->d[i - (r - a->rank)], y = i < r - b->rank ? 1 : b->d[i - (r - b->rank)];
        if (x == 1) o->d[i] = y;
        else if (y == 1) o->d[i] = x;
        else if (x < 0 || y < 0) o->d[i] = x < 0 ? y : x;
        else if (x != y) return FAIL(c, "shapes do not broadcast (dim %d: %lld vs %lld)", i, (long long)x, (long long)y);
        else o->d[i] = x;
    }
    return 0;
}

static int check_nhwc(ctx *c)
{
    const char *df = attr_s(c->nd, "data_format");
    if (df && strcmp(df, "NHWC")) return UNSUP(c, "attr data_format=%s is not supported (NHWC only)", df);
    return 0;
}

/* window output size: SAME, VALID or EXPLICIT padding */
static int window(ctx *c, int64_t in, int64_t k, int64_t s, int64_t dil, int dim, int64_t *out)
{
    const char *pad = attr_s(c->nd, "padding");
    const int64_t M = LENS__GRAPH_MAX_ELEMS;
    if (k < 1 || s < 1 || dil < 1 || k > M || s > M || dil > M)
        return FAIL(c, "window %lld, stride %lld, dilation %lld", (long long)k, (long long)s, (long long)dil);
    int64_t ek = (k - 1) * dil + 1;
    if (in < 0) {
        *out = -1;
        return 0;
    }
    if (!pad) return FAIL(c, "no padding attr");
    if (!strcmp(pad, "SAME")) *out = (in + s - 1) / s;
    else if (!strcmp(pad, "VALID")) *out = in >= ek ? (in - ek) / s + 1 : 0;
    else if (!strcmp(pad, "EXPLICIT")) {
        const lens__gattr *ep = attr_li(c->nd, "explicit_paddings", 8);
        if (!ep) return FAIL(c, "EXPLICIT padding without 8 explicit_paddings");
        int64_t p = ep->li[2 * dim] + ep->li[2 * dim + 1];
        if (ep->li[2 * dim] < 0 || ep->li[2 * dim + 1] < 0 || ep->li[2 * dim] > M || ep->li[2 * dim + 1] > M)
            return FAIL(c, "explicit padding out of range");
        *out = in + p >= ek ? (in + p - ek) / s + 1 : 0;
    } else return UNSUP(c, "attr padding=%s is not supported", pad);
    if (*out <= 0) return FAIL(c, "the window (%lld) is larger than the input (%lld)", (long long)ek, (long long)in);
    return 0;
}

static int conv_like(ctx *c, int64_t kh, int64_t kw, int64_t cout, lens__gshape *o)
{
    const lens__gshape *x = ishape(c, 0);
    int rc;
    if ((rc = check_nhwc(c))) return rc;
    if (x->rank != 4) return FAIL(c, "input is rank %d, not 4 (NHWC)", x->rank);
    const lens__gattr *st = attr_li(c->nd, "strides", 4), *dl = attr_li(c->nd, "dilations", 0);
    if (!st) return FAIL(c, "strides is not a list of 4");
    if (st->li[0] != 1 || st->li[3] != 1) return UNSUP(c, "strides on batch or channels are not supported");
    int64_t dh = 1, dw = 1;
    if (dl && dl->n == 4) {
        dh = dl->li[1];
        dw = dl->li[2];
    }
    o->rank = 4;
    o->d[0] = x->d[0];
    o->d[3] = cout;
    if ((rc = window(c, x->d[1], kh, st->li[1], dh, 1, &o->d[1])) || (rc = window(c, x->d[2], kw, st->li[2], dw, 2, &o->d[2])))
        return rc;
    return 0;
}

static int check_fused(ctx *c, int base)
{
    const lens__gattr *f = lens__gattr_find(c->nd, "fused_ops");
    int64_t args = attr_i(c->nd, "num_args", 0);
    if (c->nd->n_in != base + args) return FAIL(c, "num_args=%lld but %d inputs", (long long)args, c->nd->n_in);
    if (!f || f->kind != LENS__GA_LIST) return 0;
    if (f->n && f->list_kind != LENS__GA_S) return FAIL(c, "fused_ops is not a list of strings");
    static const char *const act[] = {"Relu", "Relu6", "Elu", "LeakyRelu", "Prelu", "Sigmoid", "Tanh"};
    for (int i = 0; i < f->n; i++) {
        int ok = i == 0 && !strcmp(f->ls[i], "BiasAdd");
        for (size_t k = 0; !ok && i == 1 && k < sizeof act / sizeof *act; k++) ok = !strcmp(f->ls[i], act[k]);
        if (!ok || i > 1) return UNSUP(c, "attr fused_ops[%d]=%s is not supported (BiasAdd, then an activation)", i, f->ls[i]);
    }
    return 0;
}

/* the extra arguments of a fused op (bias, PReLU alphas): one value per output channel */
static int check_args(ctx *c, int base, int64_t channels)
{
    for (int i = base; i < c->nd->n_in; i++) {
        int64_t n = lens__gshape_numel(ishape(c, i));
        if (channels >= 0 && n != channels)
            return FAIL(c, "argument %d has %lld values for %lld channels", i, (long long)n, (long long)channels);
    }
    return 0;
}

static int reduce_shape(ctx *c, lens__gshape *o)
{
    int rc = known_rank(c, 0);
    if (rc) return rc;
    const lens__gshape *x = ishape(c, 0);
    int64_t ax[LENS_GRAPH_MAX_RANK];
    int n;
    if ((rc = const_ints(c, 1, ax, LENS_GRAPH_MAX_RANK, &n))) return rc;
    int mark[LENS_GRAPH_MAX_RANK] = {0};
    for (int i = 0; i < n; i++) {
        int a = 0;
        if ((rc = norm_axis(c, ax[i], x->rank, &a))) return rc;
        mark[a] = 1;
    }
    int keep = (int)attr_i(c->nd, "keep_dims", 0);
    o->rank = 0;
    for (int i = 0; i < x->rank; i++)
        if (!mark[i]) o->d[o->rank++] = x->d[i];
        else if (keep) o->d[o->rank++] = 1;
    return 0;
}

typedef lens__gslice slice_spec;

/* TF's StridedSlice: masks, ellipsis, new and shrunk axes */
static int strided_slice(ctx *c, lens__gshape *o, slice_spec *sp)
{
    int rc = known_rank(c, 0);
    if (rc) return rc;
    const lens__gshape *x = ishape(c, 0);
    int64_t b[LENS_GRAPH_MAX_RANK * 2], e[LENS_GRAPH_MAX_RANK * 2], s[LENS_GRAPH_MAX_RANK * 2];
    int nb, ne, ns;
    if ((rc = const_ints(c, 1, b, 16, &nb)) || (rc = const_ints(c, 2, e, 16, &ne)) || (rc = const_ints(c, 3, s, 16, &ns)))
        return rc;
    if (nb != ne || nb != ns) return FAIL(c, "begin, end and strides differ in length");
    int64_t bm = attr_i(c->nd, "begin_mask", 0), em = attr_i(c->nd, "end_mask", 0), elm = attr_i(c->nd, "ellipsis_mask", 0),
            nm = attr_i(c->nd, "new_axis_mask", 0), sm = attr_i(c->nd, "shrink_axis_mask", 0);
    int in = 0;
    o->rank = 0;
    sp->n = x->rank;
    for (int i = 0; i < nb; i++) {
        if (elm >> i & 1) {
            int rest = 0;
            for (int j = i + 1; j < nb; j++) rest += !(nm >> j & 1);
            int num = x->rank - in - rest;
            if (num < 0) return FAIL(c, "slice spec longer than the rank");
            for (int k = 0; k < num; k++, in++) {
                if (o->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
                sp->start[in] = 0, sp->step[in] = 1, sp->count[in] = x->d[in];
                o->d[o->rank++] = x->d[in];
            }
            continue;
        }
        if (nm >> i & 1) {
            if (o->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
            o->d[o->rank++] = 1;
            continue;
        }
        if (in >= x->rank) return FAIL(c, "slice spec longer than the rank %d", x->rank);
        int64_t d = x->d[in], st = s[i];
        if (st == 0) return FAIL(c, "stride 0");
        if (sm >> i & 1) {
            int64_t idx = b[i] < 0 && d >= 0 ? b[i] + d : b[i];
            if (d >= 0 && (idx < 0 || idx >= d)) return FAIL(c, "index %lld out of range for dim %lld", (long long)b[i], (long long)d);
            sp->start[in] = idx, sp->step[in] = 1, sp->count[in] = 1;
            in++;
            continue;
        }
        int64_t lo, hi, cnt = -1;
        if (d >= 0) {
            int64_t mn = st > 0 ? 0 : -1, mx = st > 0 ? d : d - 1;
            if (bm >> i & 1) lo = st > 0 ? 0 : d - 1;
            else {
                lo = b[i] < 0 ? b[i] + d : b[i];
                lo = lo < mn ? mn : lo > mx ? mx : lo;
            }
            if (em >> i & 1) hi = st > 0 ? d : -1;
            else {
                hi = e[i] < 0 ? e[i] + d : e[i];
                hi = hi < mn ? mn : hi > mx ? mx : hi;
            }
            cnt = st > 0 ? (hi > lo ? (hi - lo + st - 1) / st : 0) : (lo > hi ? (lo - hi + (-st) - 1) / (-st) : 0);
            sp->start[in] = lo;
        }
        sp->step[in] = st, sp->count[in] = cnt;
        if (o->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        o->d[o->rank++] = cnt;
        in++;
    }
    for (; in < x->rank; in++) {
        if (o->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        sp->start[in] = 0, sp->step[in] = 1, sp->count[in] = x->d[in];
        o->d[o->rank++] = x->d[in];
    }
    return 0;
}

int lens__graph_slice(lens_graph *g, lens__gnode *nd, lens__gslice *sp, lens_error *err)
{
    ctx c = {g, nd, err};
    lens__gshape o;
    return strided_slice(&c, &o, sp);
}

static int is(const char *op, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(op, *list)) return 1;
    return 0;
}

static const char *const unary[] = {"Identity", "Relu", "Relu6", "Sigmoid", "Tanh", "Exp", "Sqrt", "Rsqrt", "Abs", "Neg",
                                    "Reciprocal", "LeakyRelu", "Elu", "Softmax", "Square", "Log", "Floor", "Ceil",
                                    "Round", "Sign", "Softplus", "Erf", "Snapshot", "StopGradient", "LogicalNot", NULL};
static const char *const binary[] = {"Add", "AddV2", "Sub", "Mul", "RealDiv", "Div", "FloorDiv", "FloorMod", "Maximum",
                                     "Minimum", "SquaredDifference", "Pow", "DivNoNan", NULL};
static const char *const compare[] = {"Equal", "NotEqual", "Less", "LessEqual", "Greater", "GreaterEqual",
                                      "LogicalAnd", "LogicalOr", NULL};

static int set_outputs(ctx *c, int n)
{
    lens__gnode *nd = c->nd;
    if (n < 1 || n > 4096) return FAIL(c, "%d outputs", n);
    lens__gtensor *keep = nd->out_const ? nd->out_const[0] : NULL;
    free(nd->out_const);
    nd->out_shape = calloc((size_t)n, sizeof *nd->out_shape);
    nd->out_dtype = calloc((size_t)n, sizeof *nd->out_dtype);
    nd->out_const = calloc((size_t)n, sizeof *nd->out_const);
    if (!nd->out_shape || !nd->out_dtype || !nd->out_const) {
        lens__gtensor_free(keep);
        return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
    }
    nd->out_const[0] = keep;
    nd->n_out = n;
    return 0;
}

static lens_graph_dtype attr_type(const lens__gnode *n, const char *k, lens_graph_dtype def)
{
    const lens__gattr *a = lens__gattr_find(n, k);
    return a && a->kind == LENS__GA_TYPE && a->i ? (lens_graph_dtype)a->i : def;
}

/* The number of outputs the op has (before its inputs are looked at). */
static int num_outputs(const lens__gnode *n)
{
    if (!strcmp(n->op, "Split") || !strcmp(n->op, "SplitV")) return (int)attr_i(n, "num_split", 1);
    if (!strcmp(n->op, "Unpack")) return (int)attr_i(n, "num", 1);
    if (!strcmp(n->op, "TopKV2")) return 2;
    return 1;
}

/* Shape and dtype of every output of c->nd. */
static int infer(ctx *c)
{
    lens__gnode *nd = c->nd;
    const char *op = nd->op;
    lens__gshape *o = nd->out_shape;
    lens_graph_dtype *dt = nd->out_dtype;
    int rc;
    for (int i = 0; i < nd->n_in; i++) {
        lens__gnode *s = src(c, i);
        if (nd->in[i].port >= s->n_out)
            return FAIL(c, "input '%s': node '%s' has %d output(s)", nd->in_names[i], s->name, s->n_out);
        if (!s->out_dtype[nd->in[i].port])
            return UNSUP(c, "input '%s' has a dtype lens does not support", nd->in_names[i]);
    }
    dt[0] = attr_type(nd, "T", nd->n_in ? idtype(c, 0) : 0);
    if (!strcmp(op, "Const")) {
        const lens__gattr *v = lens__gattr_find(nd, "value");
        if (!nd->out_const[0] && v && v->kind == LENS__GA_TENSOR && v->tensor) {
            nd->out_const[0] = ((lens__gattr *)v)->tensor; /* the node takes the attr's value */
            ((lens__gattr *)v)->tensor = NULL;
        }
        if (!nd->out_const[0]) {
            if (!v || v->kind != LENS__GA_TENSOR || lens__gshape_numel(&v->shape) != 0)
                return FAIL(c, "no value: not in the weights manifest and no tensor in its attrs");
            lens_graph_dtype t = v->i ? (lens_graph_dtype)v->i : LENS_GRAPH_FLOAT32; /* an empty constant */
            if (!(nd->out_const[0] = lens__gtensor_new(t, &v->shape))) return FAIL(c, "out of memory");
        }
        o[0] = nd->out_const[0]->shape;
        dt[0] = nd->out_const[0]->dtype;
        return 0;
    }
    if (!strcmp(op, "Placeholder")) return 0; /* set from the signature by the caller */
    if (is(op, unary)) {
        if ((rc = need_inputs(c, 1, 1))) return rc;
        o[0] = *ishape(c, 0);
        if (!strcmp(op, "LogicalNot")) dt[0] = LENS_GRAPH_BOOL;
        if (!strcmp(op, "Softmax") && o[0].rank < 1) return FAIL(c, "softmax of a scalar");
        return 0;
    }
    if (is(op, binary) || is(op, compare)) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        if (is(op, compare)) dt[0] = LENS_GRAPH_BOOL;
        return broadcast(c, ishape(c, 0), ishape(c, 1), o);
    }
    if (!strcmp(op, "Prelu") || !strcmp(op, "BiasAdd")) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        if (!strcmp(op, "BiasAdd") && (rc = check_nhwc(c))) return rc;
        lens__gshape tmp;
        if ((rc = broadcast(c, ishape(c, 0), ishape(c, 1), &tmp))) return rc;
        o[0] = *ishape(c, 0);
        return 0;
    }
    if (!strcmp(op, "AddN")) { /* TF wants one shape for all */
        if (nd->n_in < 1) return FAIL(c, "no inputs");
        o[0] = *ishape(c, 0);
        for (int i = 1; i < nd->n_in; i++) {
            const lens__gshape *y = ishape(c, i);
            int same = y->rank == o->rank;
            for (int k = 0; same && k < y->rank; k++) same = y->d[k] == o->d[k];
            if (!same) return FAIL(c, "input %d's shape differs from input 0's", i);
        }
        return 0;
    }
    if (!strcmp(op, "Select") || !strcmp(op, "SelectV2")) {
        if ((rc = need_inputs(c, 3, 3))) return rc;
        dt[0] = idtype(c, 1);
        if ((rc = broadcast(c, ishape(c, 1), ishape(c, 2), o))) return rc;
        if (!strcmp(op, "SelectV2")) return broadcast(c, ishape(c, 0), o, o);
        const lens__gshape *k = ishape(c, 0);
        if (k->rank == 1 && o->rank >= 1 && (k->d[0] == o->d[0] || k->d[0] < 0 || o->d[0] < 0)) return 0;
        lens__gshape tmp;
        return broadcast(c, k, o, &tmp);
    }
    if (!strcmp(op, "Cast")) {
        if ((rc = need_inputs(c, 1, 1))) return rc;
        o[0] = *ishape(c, 0);
        if (!(dt[0] = attr_type(nd, "DstT", 0))) return UNSUP(c, "attr DstT: a dtype lens does not support");
        return 0;
    }
    if (!strcmp(op, "Conv2D") || !strcmp(op, "_FusedConv2D") || !strcmp(op, "DepthwiseConv2dNative") ||
        !strcmp(op, "FusedDepthwiseConv2dNative")) {
        int depthwise = strstr(op, "Depthwise") != NULL, fused = op[0] == '_' || !strncmp(op, "Fused", 5);
        if (fused ? (rc = check_fused(c, 2)) : (rc = need_inputs(c, 2, 2))) return rc;
        const lens__gshape *f = ishape(c, 1), *x = ishape(c, 0);
        if (f->rank != 4) return FAIL(c, "filter is rank %d, not 4", f->rank);
        if (x->rank == 4 && x->d[3] >= 0 && f->d[2] >= 0) {
            if (depthwise ? f->d[2] != x->d[3] : (f->d[2] == 0 || x->d[3] % f->d[2]))
                return FAIL(c, "filter has %lld input channels, the input %lld", (long long)f->d[2], (long long)x->d[3]);
            if (!depthwise && f->d[2] != x->d[3]) return UNSUP(c, "grouped convolutions are not supported");
        }
        int64_t cout = depthwise ? (f->d[2] >= 0 && f->d[3] >= 0 ? f->d[2] * f->d[3] : -1) : f->d[3];
        if ((rc = conv_like(c, f->d[0], f->d[1], cout, o))) return rc;
        if (fused && (rc = check_args(c, 2, cout))) return rc;
        int64_t out = lens__gshape_numel(o);
        if (out > 0 && f->d[0] > 0 && f->d[1] > 0)
            nd->flops = 2.0 * (double)out * (double)(f->d[0] * f->d[1]) * (depthwise ? 1.0 : (double)f->d[2]);
        return 0;
    }
    if (!strcmp(op, "Conv2DBackpropInput")) {
        if ((rc = need_inputs(c, 3, 3)) || (rc = check_nhwc(c))) return rc;
        int64_t sz[4];
        int n;
        if ((rc = const_ints(c, 0, sz, 4, &n))) return rc;
        if (n != 4) return FAIL(c, "input_sizes has %d values, not 4", n);
        const lens__gshape *f = ishape(c, 1), *dy = ishape(c, 2);
        if (f->rank != 4 || dy->rank != 4) return FAIL(c, "filter and input must be rank 4");
        if (dy->d[3] >= 0 && f->d[3] >= 0 && dy->d[3] != f->d[3]) return FAIL(c, "filter has %lld input channels, the input %lld", (long long)f->d[3], (long long)dy->d[3]);
        if (f->d[2] != sz[3]) return FAIL(c, "filter has %lld output channels, input_sizes %lld", (long long)f->d[2], (long long)sz[3]);
        o->rank = 4;
        for (int i = 0; i < 4; i++) {
            if (sz[i] < 0 || sz[i] > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "input_sizes out of range");
            o->d[i] = sz[i];
        }
        /* the forward convolution of the output must give the input back */
        lens__gshape back;
        const lens__gattr *st = attr_li(nd, "strides", 4);
        if (!st) return FAIL(c, "strides is not a list of 4");
        for (int i = 1; i <= 2; i++) {
            if ((rc = window(c, o->d[i], f->d[i - 1], st->li[i], 1, i, &back.d[i]))) return rc;
            if (dy->d[i] >= 0 && back.d[i] != dy->d[i])
                return FAIL(c, "input_sizes %lld does not give the input's %lld back", (long long)o->d[i], (long long)dy->d[i]);
        }
        nd->flops = 2.0 * (double)lens__gshape_numel(dy) * (double)(f->d[0] * f->d[1] * f->d[2]);
        dt[0] = idtype(c, 2);
        return 0;
    }
    if (!strcmp(op, "MaxPool") || !strcmp(op, "AvgPool")) {
        if ((rc = need_inputs(c, 1, 1))) return rc;
        const lens__gattr *k = attr_li(nd, "ksize", 4);
        if (!k) return FAIL(c, "ksize is not a list of 4");
        if (k->li[0] != 1 || k->li[3] != 1) return UNSUP(c, "pooling across batch or channels is not supported");
        const lens__gshape *x = ishape(c, 0);
        return conv_like(c, k->li[1], k->li[2], x->rank == 4 ? x->d[3] : -1, o);
    }
    if (!strcmp(op, "MatMul") || !strcmp(op, "_FusedMatMul")) {
        if (op[0] == '_' ? (rc = check_fused(c, 2)) : (rc = need_inputs(c, 2, 2))) return rc;
        const lens__gshape *a = ishape(c, 0), *b = ishape(c, 1);
        if (a->rank != 2 || b->rank != 2) return FAIL(c, "operands are rank %d and %d, not 2", a->rank, b->rank);
        int ta = (int)attr_i(nd, "transpose_a", 0), tb = (int)attr_i(nd, "transpose_b", 0);
        int64_t m = a->d[ta], k = a->d[!ta], k2 = b->d[tb], n = b->d[!tb];
        if (k >= 0 && k2 >= 0 && k != k2) return FAIL(c, "inner dims %lld and %lld differ", (long long)k, (long long)k2);
        if (op[0] == '_' && (rc = check_args(c, 2, n))) return rc;
        o->rank = 2, o->d[0] = m, o->d[1] = n;
        if (m > 0 && n > 0 && k > 0) nd->flops = 2.0 * (double)m * (double)n * (double)k;
        return 0;
    }
    if (!strcmp(op, "Mean") || !strcmp(op, "Max") || !strcmp(op, "Min") || !strcmp(op, "Sum") || !strcmp(op, "Prod") ||
        !strcmp(op, "All") || !strcmp(op, "Any")) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        return reduce_shape(c, o);
    }
    if (!strcmp(op, "ArgMax") || !strcmp(op, "ArgMin")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0))) return rc;
        int64_t a;
        int ax;
        const lens__gshape *x = ishape(c, 0);
        if ((rc = const_int(c, 1, &a)) || (rc = norm_axis(c, a, x->rank, &ax))) return rc;
        o->rank = 0;
        for (int i = 0; i < x->rank; i++)
            if (i != ax) o->d[o->rank++] = x->d[i];
        dt[0] = LENS_GRAPH_INT32;
        return 0;
    }
    if (!strcmp(op, "Reshape")) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        int64_t v[LENS_GRAPH_MAX_RANK];
        int n;
        if ((rc = const_ints(c, 1, v, LENS_GRAPH_MAX_RANK, &n))) return rc;
        int64_t total = lens__gshape_numel(ishape(c, 0)), known = 1;
        int hole = -1;
        o->rank = n;
        for (int i = 0; i < n; i++) {
            if (v[i] == -1) {
                if (hole >= 0) return FAIL(c, "two -1 dims");
                hole = i;
            } else if (v[i] < 0 || v[i] > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "dim %lld", (long long)v[i]);
            else if ((known *= v[i]) > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "too many elements");
            o->d[i] = v[i];
        }
        if (hole >= 0) o->d[hole] = total < 0 ? -1 : known ? total / known : 0;
        if (total >= 0 && (hole >= 0 ? (known ? total % known : total != 0) : known != total))
            return FAIL(c, "%lld elements cannot take the new shape", (long long)total);
        return 0;
    }
    if (!strcmp(op, "Transpose")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0))) return rc;
        int64_t p[LENS_GRAPH_MAX_RANK];
        int n, seen[LENS_GRAPH_MAX_RANK] = {0};
        const lens__gshape *x = ishape(c, 0);
        if ((rc = const_ints(c, 1, p, LENS_GRAPH_MAX_RANK, &n))) return rc;
        if (n != x->rank) return FAIL(c, "perm has %d entries for rank %d", n, x->rank);
        o->rank = n;
        for (int i = 0; i < n; i++) {
            if (p[i] < 0 || p[i] >= n || seen[p[i]]++) return FAIL(c, "perm is not a permutation");
            o->d[i] = x->d[p[i]];
        }
        return 0;
    }
    if (!strcmp(op, "ConcatV2") || !strcmp(op, "Pack")) {
        int pack = op[0] == 'P', n = pack ? nd->n_in : nd->n_in - 1;
        if (n < 1) return FAIL(c, "no inputs");
        int64_t a;
        int ax;
        const lens__gshape *x = ishape(c, 0);
        if ((rc = known_rank(c, 0))) return rc;
        if (pack) a = attr_i(nd, "axis", 0);
        else if ((rc = const_int(c, n, &a))) return rc;
        if (pack && x->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        if ((rc = norm_axis(c, a, x->rank + pack, &ax))) return rc;
        o->rank = x->rank + pack;
        for (int i = 0, j = 0; i < o->rank; i++) o->d[i] = pack && i == ax ? n : x->d[j++];
        if (!pack) o->d[ax] = 0;
        for (int k = 0; k < n; k++) {
            const lens__gshape *y = ishape(c, k);
            if (y->rank != x->rank) return FAIL(c, "input %d is rank %d, input 0 rank %d", k, y->rank, x->rank);
            for (int i = 0; i < x->rank; i++) {
                if (!pack && i == ax) {
                    o->d[ax] = o->d[ax] < 0 || y->d[i] < 0 ? -1 : o->d[ax] + y->d[i];
                } else if (y->d[i] >= 0 && x->d[i] >= 0 && y->d[i] != x->d[i]) {
                    return FAIL(c, "input %d has dim %d = %lld, input 0 %lld", k, i, (long long)y->d[i], (long long)x->d[i]);
                }
            }
        }
        return 0;
    }
    if (!strcmp(op, "Unpack")) {
        if ((rc = need_inputs(c, 1, 1)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int ax;
        if ((rc = norm_axis(c, attr_i(nd, "axis", 0), x->rank, &ax))) return rc;
        if (x->d[ax] >= 0 && x->d[ax] != nd->n_out) return FAIL(c, "num=%d but the axis has %lld", nd->n_out, (long long)x->d[ax]);
        for (int k = 0; k < nd->n_out; k++) {
            o[k].rank = 0;
            for (int i = 0; i < x->rank; i++)
                if (i != ax) o[k].d[o[k].rank++] = x->d[i];
            dt[k] = dt[0];
        }
        return 0;
    }
    if (!strcmp(op, "Split") || !strcmp(op, "SplitV")) {
        int v = op[5] == 'V', xi = v ? 0 : 1;
        if ((rc = need_inputs(c, v ? 3 : 2, v ? 3 : 2)) || (rc = known_rank(c, xi))) return rc;
        const lens__gshape *x = ishape(c, xi);
        int64_t a;
        int ax;
        if ((rc = const_int(c, v ? 2 : 0, &a)) || (rc = norm_axis(c, a, x->rank, &ax))) return rc;
        int64_t sizes[4096];
        int n = nd->n_out;
        if (v) {
            int m;
            if ((rc = const_ints(c, 1, sizes, 4096, &m))) return rc;
            if (m != n) return FAIL(c, "%d size_splits for num_split=%d", m, n);
            int hole = -1;
            int64_t sum = 0;
            for (int k = 0; k < n; k++) {
                if (sizes[k] == -1 && hole < 0) hole = k;
                else if (sizes[k] < 0) return FAIL(c, "size_splits %lld", (long long)sizes[k]);
                else sum += sizes[k];
            }
            if (x->d[ax] >= 0) {
                if (hole >= 0) sizes[hole] = x->d[ax] - sum;
                if ((hole >= 0 && sizes[hole] < 0) || (hole < 0 && sum != x->d[ax]))
                    return FAIL(c, "size_splits do not add up to %lld", (long long)x->d[ax]);
            }
        } else {
            if (x->d[ax] >= 0 && x->d[ax] % n) return FAIL(c, "dim %lld does not split in %d", (long long)x->d[ax], n);
            for (int k = 0; k < n; k++) sizes[k] = x->d[ax] < 0 ? -1 : x->d[ax] / n;
        }
        for (int k = 0; k < n; k++) {
            o[k] = *x;
            o[k].d[ax] = sizes[k];
            dt[k] = idtype(c, xi);
        }
        return 0;
    }
    if (!strcmp(op, "ExpandDims")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int64_t a;
        int ax;
        if (x->rank >= LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        if ((rc = const_int(c, 1, &a)) || (rc = norm_axis(c, a, x->rank + 1, &ax))) return rc;
        o->rank = x->rank + 1;
        for (int i = 0, j = 0; i < o->rank; i++) o->d[i] = i == ax ? 1 : x->d[j++];
        return 0;
    }
    if (!strcmp(op, "Squeeze")) {
        if ((rc = need_inputs(c, 1, 1)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        const lens__gattr *sd = attr_li(nd, "squeeze_dims", 0);
        int mark[LENS_GRAPH_MAX_RANK] = {0};
        for (int i = 0; sd && i < sd->n; i++) {
            int ax;
            if ((rc = norm_axis(c, sd->li[i], x->rank, &ax))) return rc;
            if (x->d[ax] != 1 && x->d[ax] >= 0) return FAIL(c, "dim %d is %lld, not 1", ax, (long long)x->d[ax]);
            mark[ax] = 1;
        }
        o->rank = 0;
        for (int i = 0; i < x->rank; i++)
            if (!(sd && sd->n ? mark[i] : x->d[i] == 1)) o->d[o->rank++] = x->d[i];
        return 0;
    }
    if (!strcmp(op, "StridedSlice")) {
        if ((rc = need_inputs(c, 4, 4))) return rc;
        slice_spec sp;
        return strided_slice(c, o, &sp);
    }
    if (!strcmp(op, "Pad") || !strcmp(op, "PadV2") || !strcmp(op, "MirrorPad")) {
        if ((rc = need_inputs(c, 2, op[3] == 'V' ? 3 : 2)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int64_t p[2 * LENS_GRAPH_MAX_RANK];
        int n;
        if ((rc = const_ints(c, 1, p, 2 * LENS_GRAPH_MAX_RANK, &n))) return rc;
        if (n != 2 * x->rank) return FAIL(c, "paddings has %d values for rank %d", n, x->rank);
        *o = *x;
        for (int i = 0; i < x->rank; i++) {
            if (p[2 * i] < 0 || p[2 * i + 1] < 0) return UNSUP(c, "negative paddings are not supported");
            if (x->d[i] >= 0) o->d[i] = x->d[i] + p[2 * i] + p[2 * i + 1];
        }
        return 0;
    }
    if (!strcmp(op, "ResizeBilinear") || !strcmp(op, "ResizeNearestNeighbor")) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int64_t sz[2];
        int n;
        if (x->rank != 4) return FAIL(c, "input is rank %d, not 4", x->rank);
        if ((rc = const_ints(c, 1, sz, 2, &n))) return rc;
        if (n != 2 || sz[0] <= 0 || sz[1] <= 0 || sz[0] > LENS__GRAPH_MAX_ELEMS || sz[1] > LENS__GRAPH_MAX_ELEMS)
            return FAIL(c, "size is not two positive values");
        if (attr_i(nd, "align_corners", 0) && attr_i(nd, "half_pixel_centers", 0))
            return FAIL(c, "align_corners and half_pixel_centers together");
        *o = *x;
        o->d[1] = sz[0], o->d[2] = sz[1];
        return 0;
    }
    if (!strcmp(op, "GatherV2")) {
        if ((rc = need_inputs(c, 3, 3)) || (rc = known_rank(c, 0)) || (rc = known_rank(c, 1))) return rc;
        if (attr_i(nd, "batch_dims", 0)) return UNSUP(c, "attr batch_dims=%lld is not supported", (long long)attr_i(nd, "batch_dims", 0));
        const lens__gshape *p = ishape(c, 0), *ix = ishape(c, 1);
        int64_t a;
        int ax;
        if ((rc = const_int(c, 2, &a)) || (rc = norm_axis(c, a, p->rank, &ax))) return rc;
        if (p->rank - 1 + ix->rank > LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        o->rank = 0;
        for (int i = 0; i < ax; i++) o->d[o->rank++] = p->d[i];
        for (int i = 0; i < ix->rank; i++) o->d[o->rank++] = ix->d[i];
        for (int i = ax + 1; i < p->rank; i++) o->d[o->rank++] = p->d[i];
        return 0;
    }
    if (!strcmp(op, "GatherNd")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0)) || (rc = known_rank(c, 1))) return rc;
        const lens__gshape *p = ishape(c, 0), *ix = ishape(c, 1);
        if (ix->rank < 1 || ix->d[ix->rank - 1] < 0) return FAIL(c, "indices need a known last dim");
        int64_t q = ix->d[ix->rank - 1];
        if (q > p->rank) return FAIL(c, "indices index %lld dims of a rank %d tensor", (long long)q, p->rank);
        if (ix->rank - 1 + p->rank - q > LENS_GRAPH_MAX_RANK) return FAIL(c, "result rank over 8");
        o->rank = 0;
        for (int i = 0; i < ix->rank - 1; i++) o->d[o->rank++] = ix->d[i];
        for (int i = (int)q; i < p->rank; i++) o->d[o->rank++] = p->d[i];
        return 0;
    }
    if (!strcmp(op, "TopKV2")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int64_t k;
        if (x->rank < 1) return FAIL(c, "input is a scalar");
        if ((rc = const_int(c, 1, &k))) return rc;
        if (k < 0 || (x->d[x->rank - 1] >= 0 && k > x->d[x->rank - 1])) return FAIL(c, "k=%lld out of range", (long long)k);
        o[0] = *x;
        o[0].d[x->rank - 1] = k;
        o[1] = o[0];
        dt[1] = LENS_GRAPH_INT32;
        return 0;
    }
    if (!strcmp(op, "Shape") || !strcmp(op, "Size")) {
        if ((rc = need_inputs(c, 1, 1)) || (rc = known_rank(c, 0))) return rc;
        o->rank = op[1] == 'h';
        o->d[0] = ishape(c, 0)->rank;
        dt[0] = LENS_GRAPH_INT32;
        return 0;
    }
    if (!strcmp(op, "Range")) {
        if ((rc = need_inputs(c, 3, 3))) return rc;
        o->rank = 1, o->d[0] = -1;
        const lens__gtensor *s = iconst(c, 0), *l = iconst(c, 1), *d = iconst(c, 2);
        if (s && l && d && s->n == 1 && l->n == 1 && d->n == 1) {
            double a = s->f ? s->f[0] : s->i[0], b = l->f ? l->f[0] : l->i[0], e = d->f ? d->f[0] : d->i[0];
            if (e == 0 || !isfinite(a) || !isfinite(b) || !isfinite(e)) return FAIL(c, "delta 0 or a value not finite");
            double n = ceil((b - a) / e);
            if (n > (double)FOLD_MAX * 256) return FAIL(c, "range of %.0f values", n);
            o->d[0] = n > 0 ? (int64_t)n : 0;
        }
        return 0;
    }
    if (!strcmp(op, "Fill")) {
        if ((rc = need_inputs(c, 2, 2))) return rc;
        int64_t v[LENS_GRAPH_MAX_RANK];
        int n;
        if ((rc = const_ints(c, 0, v, LENS_GRAPH_MAX_RANK, &n))) return rc;
        o->rank = n;
        for (int i = 0; i < n; i++) {
            if (v[i] < 0 || v[i] > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "dim %lld out of range", (long long)v[i]);
            o->d[i] = v[i];
        }
        dt[0] = idtype(c, 1);
        return 0;
    }
    if (!strcmp(op, "Tile")) {
        if ((rc = need_inputs(c, 2, 2)) || (rc = known_rank(c, 0))) return rc;
        const lens__gshape *x = ishape(c, 0);
        int64_t m[LENS_GRAPH_MAX_RANK];
        int n;
        if ((rc = const_ints(c, 1, m, LENS_GRAPH_MAX_RANK, &n))) return rc;
        if (n != x->rank) return FAIL(c, "%d multiples for rank %d", n, x->rank);
        *o = *x;
        for (int i = 0; i < n; i++) {
            if (m[i] < 0 || m[i] > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "multiple out of range");
            if (x->d[i] >= 0) o->d[i] = x->d[i] * m[i];
        }
        return 0;
    }
    if (!strcmp(op, "SparseToDense")) {
        if ((rc = need_inputs(c, 4, 4))) return rc;
        int64_t v[LENS_GRAPH_MAX_RANK];
        int n;
        if ((rc = const_ints(c, 1, v, LENS_GRAPH_MAX_RANK, &n))) return rc;
        o->rank = n;
        for (int i = 0; i < n; i++) {
            if (v[i] < 0 || v[i] > LENS__GRAPH_MAX_ELEMS) return FAIL(c, "dim %lld out of range", (long long)v[i]);
            o->d[i] = v[i];
        }
        dt[0] = idtype(c, 2);
        return 0;
    }
    return UNSUP(c, "op %s is not supported", op);
}

/* ---- folding: ops whose inputs are all constants, evaluated once ---- */

static double getv(const lens__gtensor *t, int64_t i) { return t->f ? (double)t->f[i] : (double)t->i[i]; }
static void setv(lens__gtensor *t, int64_t i, double v)
{
    if (t->f) t->f[i] = (float)v;
    else if (t->dtype == LENS_GRAPH_BOOL) t->i[i] = v != 0;
    else t->i[i] = (int32_t)fmax(fmin(v, INT32_MAX), INT32_MIN);
}

int64_t lens__graph_bidx(const lens__gshape *s, const lens__gshape *o, int64_t idx)
{
    int64_t r = 0, stride = 1;
    for (int i = o->rank - 1, j = s->rank - 1; i >= 0; i--, j--) {
        int64_t c = idx % o->d[i];
        idx /= o->d[i];
        if (j >= 0) {
            if (s->d[j] != 1) r += c * stride;
            stride *= s->d[j];
        }
    }
    return r;
}

double lens__graph_binop(const char *op, double a, double b, int isint)
{
    if (!strcmp(op, "Add") || !strcmp(op, "AddV2")) return a + b;
    if (!strcmp(op, "Sub")) return a - b;
    if (!strcmp(op, "Mul")) return a * b;
    if (!strcmp(op, "RealDiv") || !strcmp(op, "Div")) return isint ? (b ? trunc(a / b) : 0) : a / b;
    if (!strcmp(op, "DivNoNan")) return b == 0 ? 0 : a / b;
    if (!strcmp(op, "FloorDiv")) return b == 0 ? 0 : floor(a / b);
    if (!strcmp(op, "FloorMod")) return b == 0 ? 0 : a - floor(a / b) * b;
    if (!strcmp(op, "Maximum")) return a > b ? a : b;
    if (!strcmp(op, "Minimum")) return a < b ? a : b;
    if (!strcmp(op, "SquaredDifference")) return (a - b) * (a - b);
    if (!strcmp(op, "Pow")) return pow(a, b);
    if (!strcmp(op, "Equal")) return a == b;
    if (!strcmp(op, "NotEqual")) return a != b;
    if (!strcmp(op, "Less")) return a < b;
    if (!strcmp(op, "LessEqual")) return a <= b;
    if (!strcmp(op, "Greater")) return a > b;
    if (!strcmp(op, "GreaterEqual")) return a >= b;
    if (!strcmp(op, "LogicalAnd")) return a != 0 && b != 0;
    if (!strcmp(op, "LogicalOr")) return a != 0 || b != 0;
    return NAN;
}

static const char *const foldable[] = {"Identity", "Cast", "Shape", "Size", "Pack", "Unpack", "ConcatV2", "Reshape",
                                       "ExpandDims", "Squeeze", "StridedSlice", "GatherV2", "Range", "Fill",
                                       "SparseToDense", "Neg", "Transpose", "Tile", "Prod", "Sum", "Max", "Min",
                                       "Snapshot", "StopGradient", NULL};

/* 1: folded, 0: not foldable, < 0: error */
static int fold(ctx *c)
{
    lens__gnode *nd = c->nd;
    const char *op = nd->op;
    int shape_only = !strcmp(op, "Shape") || !strcmp(op, "Size");
    if (!is(op, foldable) && !is(op, binary) && !is(op, compare)) return 0;
    if (!shape_only)
        for (int i = 0; i < nd->n_in; i++)
            if (!iconst(c, i)) return 0;
    for (int k = 0; k < nd->n_out; k++) {
        int64_t n = lens__gshape_numel(&nd->out_shape[k]);
        if (n < 0 || n > FOLD_MAX) return 0;
    }
    if (shape_only && lens__gshape_numel(ishape(c, 0)) < 0) return 0;
    if (nd->n_out > 64) return 0;
    for (int k = 0; k < nd->n_out; k++)
        if (!(nd->out_const[k] = lens__gtensor_new(nd->out_dtype[k], &nd->out_shape[k])))
            return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
    lens__gtensor *t = nd->out_const[0];
    const lens__gtensor *a = nd->n_in ? iconst(c, 0) : NULL;
    const lens__gshape *o = &nd->out_shape[0];
    if (!strcmp(op, "Shape")) {
        for (int i = 0; i < ishape(c, 0)->rank; i++) t->i[i] = (int32_t)ishape(c, 0)->d[i];
    } else if (!strcmp(op, "Size")) {
        t->i[0] = (int32_t)lens__gshape_numel(ishape(c, 0));
    } else if (!strcmp(op, "Identity") || !strcmp(op, "Cast") || !strcmp(op, "Reshape") || !strcmp(op, "ExpandDims") ||
               !strcmp(op, "Squeeze") || !strcmp(op, "Snapshot") || !strcmp(op, "StopGradient")) {
        for (int64_t i = 0; i < t->n; i++) setv(t, i, getv(a, i));
    } else if (!strcmp(op, "Neg")) {
        for (int64_t i = 0; i < t->n; i++) setv(t, i, -getv(a, i));
    } else if (is(op, binary) || is(op, compare)) {
        const lens__gtensor *b = iconst(c, 1);
        int isint = a->dtype != LENS_GRAPH_FLOAT32;
        for (int64_t i = 0; i < t->n; i++)
            setv(t, i, lens__graph_binop(op, getv(a, lens__graph_bidx(&a->shape, o, i)),
                                         getv(b, lens__graph_bidx(&b->shape, o, i)), isint));
    } else if (!strcmp(op, "Pack") || !strcmp(op, "ConcatV2")) {
        int pack = op[0] == 'P', n = pack ? nd->n_in : nd->n_in - 1, ax;
        int64_t axv = pack ? attr_i(nd, "axis", 0) : to_int(getv(iconst(c, n), 0));
        norm_axis(c, axv, a->shape.rank + pack, &ax);
        int64_t outer = 1;
        for (int i = 0; i < ax; i++) outer *= o->d[i];
        int64_t w = 0;
        for (int64_t r = 0; r < outer; r++)
            for (int k = 0; k < n; k++) {
                const lens__gtensor *x = iconst(c, k);
                int64_t chunk = outer ? x->n / outer : 0;
                for (int64_t i = 0; i < chunk; i++) setv(t, w++, getv(x, r * chunk + i));
            }
    } else if (!strcmp(op, "Unpack")) {
        int ax;
        norm_axis(c, attr_i(nd, "axis", 0), a->shape.rank, &ax);
        int64_t outer = 1, inner = 1, n = a->shape.d[ax];
        for (int i = 0; i < ax; i++) outer *= a->shape.d[i];
        for (int i = ax + 1; i < a->shape.rank; i++) inner *= a->shape.d[i];
        for (int k = 0; k < nd->n_out; k++)
            for (int64_t r = 0; r < outer; r++)
                for (int64_t i = 0; i < inner; i++) setv(nd->out_const[k], r * inner + i, getv(a, (r * n + k) * inner + i));
    } else if (!strcmp(op, "StridedSlice")) {
        slice_spec sp;
        lens__gshape tmp;
        int rc = strided_slice(c, &tmp, &sp);
        if (rc) return rc;
        int64_t idx[LENS_GRAPH_MAX_RANK] = {0};
        for (int64_t w = 0; w < t->n; w++) {
            int64_t off = 0;
            for (int i = 0; i < sp.n; i++) off = off * a->shape.d[i] + sp.start[i] + idx[i] * sp.step[i];
            setv(t, w, getv(a, off));
            for (int i = sp.n - 1; i >= 0; i--) {
                if (++idx[i] < sp.count[i]) break;
                idx[i] = 0;
            }
        }
    } else if (!strcmp(op, "GatherV2")) {
        const lens__gtensor *ix = iconst(c, 1);
        int ax;
        norm_axis(c, to_int(getv(iconst(c, 2), 0)), a->shape.rank, &ax);
        int64_t outer = 1, inner = 1, n = a->shape.d[ax];
        for (int i = 0; i < ax; i++) outer *= a->shape.d[i];
        for (int i = ax + 1; i < a->shape.rank; i++) inner *= a->shape.d[i];
        int64_t w = 0;
        for (int64_t r = 0; r < outer; r++)
            for (int64_t k = 0; k < ix->n; k++) {
                int64_t j = to_int(getv(ix, k));
                if (j < 0 || j >= n) return FAIL(c, "index %lld out of range [0, %lld)", (long long)j, (long long)n);
                for (int64_t i = 0; i < inner; i++) setv(t, w++, getv(a, (r * n + j) * inner + i));
            }
    } else if (!strcmp(op, "Range")) {
        double s = getv(a, 0), d = getv(iconst(c, 2), 0);
        for (int64_t i = 0; i < t->n; i++) setv(t, i, s + (double)i * d);
    } else if (!strcmp(op, "Fill")) {
        for (int64_t i = 0; i < t->n; i++) setv(t, i, getv(iconst(c, 1), 0));
    } else if (!strcmp(op, "Tile")) {
        for (int64_t w = 0; w < t->n; w++) {
            int64_t rem = w, off = 0, stride = 1;
            for (int i = o->rank - 1; i >= 0; i--) {
                int64_t ci = rem % o->d[i];
                rem /= o->d[i];
                off += (ci % a->shape.d[i]) * stride;
                stride *= a->shape.d[i];
            }
            setv(t, w, getv(a, off));
        }
    } else if (!strcmp(op, "Transpose")) {
        const lens__gtensor *p = iconst(c, 1);
        int64_t istr[LENS_GRAPH_MAX_RANK], s = 1;
        for (int i = a->shape.rank - 1; i >= 0; i--) istr[i] = s, s *= a->shape.d[i];
        for (int64_t w = 0; w < t->n; w++) {
            int64_t rem = w, off = 0;
            for (int i = o->rank - 1; i >= 0; i--) {
                off += (rem % o->d[i]) * istr[(int)to_int(getv(p, i))];
                rem /= o->d[i];
            }
            setv(t, w, getv(a, off));
        }
    } else if (!strcmp(op, "SparseToDense")) {
        const lens__gtensor *ix = a, *vals = iconst(c, 2), *def = iconst(c, 3);
        if (def->n < 1) return FAIL(c, "no default value");
        for (int64_t i = 0; i < t->n; i++) setv(t, i, getv(def, 0));
        int r = o->rank, rows = ix->shape.rank == 0 ? 1 : (int)ix->shape.d[0];
        int cols = ix->shape.rank < 2 ? 1 : (int)ix->shape.d[1];
        if ((ix->shape.rank == 2 && cols != r) || (r != 1 && ix->shape.rank < 2 && ix->n)) return FAIL(c, "indices do not match the output rank");
        if (vals->n != 1 && vals->n != rows) return FAIL(c, "%lld values for %d indices", (long long)vals->n, rows);
        for (int k = 0; k < rows && ix->n; k++) {
            int64_t off = 0;
            for (int j = 0; j < r; j++) {
                int64_t v = to_int(getv(ix, (int64_t)k * cols + j));
                if (v < 0 || v >= o->d[j]) return FAIL(c, "index %lld out of range", (long long)v);
                off = off * o->d[j] + v;
            }
            setv(t, off, getv(vals, vals->n == 1 ? 0 : k));
        }
    } else { /* Prod, Sum, Max, Min over constant axes */
        const lens__gtensor *axes = iconst(c, 1);
        int mark[LENS_GRAPH_MAX_RANK] = {0}, r = a->shape.rank;
        for (int64_t i = 0; i < axes->n; i++) {
            int ax;
            norm_axis(c, to_int(getv(axes, i)), r, &ax);
            mark[ax] = 1;
        }
        int first = 1;
        (void)first;
        char *seen = calloc((size_t)t->n + 1, 1);
        if (!seen) return lens_error_set(c->err, LENS_ENOMEM, "out of memory");
        for (int64_t i = 0; i < a->n; i++) {
            int64_t rem = i, w = 0, stride = 1;
            for (int d = r - 1; d >= 0; d--) {
                int64_t ci = rem % a->shape.d[d];
                rem /= a->shape.d[d];
                if (!mark[d]) w += ci * stride, stride *= a->shape.d[d];
            }
            double v = getv(a, i), cur = getv(t, w);
            if (!seen[w]) cur = v, seen[w] = 1;
            else if (op[1] == 'r') cur *= v;
            else if (op[1] == 'u') cur += v;
            else if (op[1] == 'a') cur = v > cur ? v : cur;
            else cur = v < cur ? v : cur;
            setv(t, w, cur);
        }
        if (op[1] == 'r' || op[1] == 'u')
            for (int64_t w = 0; w < t->n; w++)
                if (!seen[w]) setv(t, w, op[1] == 'r');
        free(seen);
    }
    return 1;
}

/* ---- the plan ---- */

static int port_input(lens_graph *g, lens__gnode *nd, lens__gport *p, lens_error *err)
{
    ctx c = {g, nd, err};
    const lens__gattr *s = lens__gattr_find(nd, "shape");
    lens__gshape sh = p && p->sig.rank >= 0 ? p->sig : s && s->kind == LENS__GA_SHAPE ? s->shape : (lens__gshape){.rank = -1};
    if (sh.rank < 0) return UNSUP(&c, "an input of unknown rank is not supported");
    for (int i = 0; i < sh.rank; i++)
        if (sh.d[i] < 0) sh.d[i] = 1; /* open dims (the batch): planned as 1 */
    nd->out_shape[0] = sh;
    nd->out_dtype[0] = attr_type(nd, "dtype", p && p->dtype ? p->dtype : 0);
    if (!nd->out_dtype[0]) return UNSUP(&c, "input dtype lens does not support");
    return 0;
}

static int cmp_op(const void *a, const void *b)
{
    const lens__gop *x = a, *y = b;
    return x->count != y->count ? y->count - x->count : strcmp(x->op, y->op);
}

int lens__graph_plan(lens_graph *g, lens_error *err)
{
    int n = g->n_nodes, rc = LENS_OK;
    int *stack = malloc(((size_t)n + 1) * sizeof *stack), *state = calloc((size_t)n + 1, sizeof *state);
    int *next = calloc((size_t)n + 1, sizeof *next);
    g->order = malloc(((size_t)n + 1) * sizeof *g->order);
    if (!stack || !state || !next || !g->order) {
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
        goto out;
    }
    /* depth-first from the outputs: postorder is a topological order; a node
     * met again while on the stack is a cycle */
    int *topo = g->order, nt = 0;
    for (int o = 0; o < g->n_outputs && !rc; o++) {
        int root = g->outputs[o].ref.node, sp = 0;
        if (state[root]) continue;
        stack[sp++] = root;
        state[root] = 1;
        while (sp && !rc) {
            int k = stack[sp - 1];
            lens__gnode *nd = &g->nodes[k];
            int total = nd->n_in + nd->n_ctrl;
            if (next[k] < total) {
                int i = next[k]++, m = i < nd->n_in ? nd->in[i].node : nd->ctrl[i - nd->n_in];
                if (state[m] == 1)
                    rc = lens_error_set(err, LENS_EFORMAT, "%s: node '%s': the graph has a cycle through it", g->name, g->nodes[m].name);
                else if (!state[m]) {
                    state[m] = 1;
                    stack[sp++] = m;
                }
            } else {
                state[k] = 2;
                topo[nt++] = k;
                sp--;
            }
        }
    }
    for (int i = 0; i < nt && !rc; i++) {
        lens__gnode *nd = &g->nodes[topo[i]];
        ctx c = {g, nd, err};
        nd->needed = 1;
        if ((rc = set_outputs(&c, num_outputs(nd)))) break;
        if (!strcmp(nd->op, "Placeholder")) {
            lens__gport *p = NULL;
            for (int k = 0; k < g->n_inputs; k++)
                if (g->inputs[k].ref.node == topo[i]) p = &g->inputs[k];
            if ((rc = port_input(g, nd, p, err))) break;
            continue;
        }
        if ((rc = infer(&c))) break;
        for (int k = 0; k < nd->n_out; k++)
            if (!nd->out_dtype[k]) nd->out_dtype[k] = nd->out_dtype[0];
        if (!strcmp(nd->op, "Const")) {
            nd->folded = 1;
            continue;
        }
        int f = fold(&c);
        if (f < 0) {
            rc = f;
            break;
        }
        if (f) {
            nd->folded = 1;
            nd->flops = 0;
        }
    }
    if (rc) goto out;
    for (int o = 0; o < g->n_outputs; o++) {
        lens__gport *p = &g->outputs[o];
        lens__gnode *nd = &g->nodes[p->ref.node];
        if (p->ref.port >= nd->n_out) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: output '%s': node '%s' has %d output(s)", g->name, p->name, nd->name, nd->n_out);
            goto out;
        }
        p->dtype = nd->out_dtype[p->ref.port];
        /* the signature's shape is a check of the inference (its open dims aside) */
        const lens__gshape *got = &nd->out_shape[p->ref.port];
        int same = p->sig.rank < 0 || p->sig.rank == got->rank;
        for (int i = 0; same && p->sig.rank > 0 && i < got->rank; i++)
            same = p->sig.d[i] < 0 || p->sig.d[i] == got->d[i];
        if (!same) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: output '%s': the signature's shape differs from the inferred one "
                                "(rank %d vs %d)", g->name, p->name, p->sig.rank, got->rank);
            goto out;
        }
    }
    for (int i = 0; i < g->n_inputs; i++) {
        lens__gnode *nd = &g->nodes[g->inputs[i].ref.node];
        if (strcmp(nd->op, "Placeholder")) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: input '%s': node '%s' is a %s, not a Placeholder", g->name, g->inputs[i].name, nd->name, nd->op);
            goto out;
        }
        if (!nd->n_out && (rc = set_outputs(&(ctx){g, nd, err}, 1)) == 0) rc = port_input(g, nd, &g->inputs[i], err);
        if (rc) goto out;
        g->inputs[i].dtype = nd->out_dtype[0];
        if (g->inputs[i].sig.rank < 0) g->inputs[i].sig = nd->out_shape[0];
    }
    /* the run list, the op histogram, the statistics */
    int nr = 0;
    g->stats.nodes = n;
    g->ops = calloc((size_t)nt + 1, sizeof *g->ops);
    if (!g->ops) {
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
        goto out;
    }
    for (int i = 0; i < nt; i++) {
        lens__gnode *nd = &g->nodes[topo[i]];
        if (!strcmp(nd->op, "Const")) {
            const lens__gtensor *t = nd->out_const[0];
            if (t && t->dtype == LENS_GRAPH_FLOAT32) g->stats.params += t->n;
            continue;
        }
        if (nd->folded) {
            g->stats.folded++;
            continue;
        }
        topo[nr++] = topo[i];
        g->stats.flops += nd->flops;
        int k = 0;
        while (k < g->n_ops && strcmp(g->ops[k].op, nd->op)) k++;
        if (k == g->n_ops) g->ops[g->n_ops++].op = nd->op;
        g->ops[k].count++;
        g->ops[k].flops += nd->flops;
    }
    g->n_order = nr;
    g->stats.planned = nr;
    qsort(g->ops, (size_t)g->n_ops, sizeof *g->ops, cmp_op);
out:
    free(stack);
    free(state);
    free(next);
    return rc;
}

/* ---- the public accessors ---- */

const char *lens_graph_name(const lens_graph *g) { return g->name; }
int lens_graph_num_inputs(const lens_graph *g) { return g->n_inputs; }
int lens_graph_num_outputs(const lens_graph *g) { return g->n_outputs; }

static void fill_port(const lens_graph *g, const lens__gport *p, int planned, lens_graph_port *out)
{
    const lens__gnode *nd = &g->nodes[p->ref.node];
    const lens__gshape *s = planned && nd->out_shape ? &nd->out_shape[p->ref.port] : &p->sig;
    out->name = p->name;
    out->dtype = p->dtype;
    out->rank = s->rank;
    memset(out->dims, 0, sizeof out->dims);
    for (int i = 0; i < s->rank && i < LENS_GRAPH_MAX_RANK; i++) out->dims[i] = s->d[i];
}

int lens_graph_input(const lens_graph *g, int i, lens_graph_port *out)
{
    if (i < 0 || i >= g->n_inputs) return LENS_EINVAL;
    fill_port(g, &g->inputs[i], 0, out);
    return LENS_OK;
}

int lens_graph_output(const lens_graph *g, int i, lens_graph_port *out)
{
    if (i < 0 || i >= g->n_outputs) return LENS_EINVAL;
    fill_port(g, &g->outputs[i], 1, out);
    return LENS_OK;
}

void lens_graph_get_stats(const lens_graph *g, lens_graph_stats *out) { *out = g->stats; }
int lens_graph_num_ops(const lens_graph *g) { return g->n_ops; }

int lens_graph_op(const lens_graph *g, int i, const char **op, int *count, double *flops)
{
    if (i < 0 || i >= g->n_ops) return LENS_EINVAL;
    *op = g->ops[i].op;
    *count = g->ops[i].count;
    *flops = g->ops[i].flops;
    return LENS_OK;
}
