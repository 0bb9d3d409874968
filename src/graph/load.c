/* TF.js graph models: model.json (a GraphDef as JSON, proto3 JSON encoding of
 * attrs) and the weights manifest, shards decoded to float32 / int32. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/hash.h"
#include "graph_internal.h"
#include "io/base64.h"
#include "nn/linear.h"

#define MAX_ELEMS LENS__GRAPH_MAX_ELEMS
#define MAX_NODES (1 << 20)

/* ---- small helpers ---- */

int64_t lens__gshape_numel(const lens__gshape *s)
{
    if (s->rank < 0) return -1;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        if (s->d[i] < 0) return -1;
        if (s->d[i] && n > MAX_ELEMS / s->d[i]) return MAX_ELEMS + 1;
        n *= s->d[i];
    }
    return n;
}

lens__gtensor *lens__gtensor_new(lens_graph_dtype t, const lens__gshape *s)
{
    int64_t n = lens__gshape_numel(s);
    if (n < 0 || n > MAX_ELEMS) return NULL;
    lens__gtensor *x = calloc(1, sizeof *x);
    if (!x) return NULL;
    x->dtype = t;
    x->shape = *s;
    x->n = n;
    size_t bytes = (size_t)(n ? n : 1) * 4;
    if (t == LENS_GRAPH_FLOAT32) x->f = calloc(1, bytes);
    else x->i = calloc(1, bytes);
    if (!x->f && !x->i) {
        free(x);
        return NULL;
    }
    return x;
}

void lens__gtensor_free(lens__gtensor *t)
{
    if (!t) return;
    free(t->f);
    free(t->i);
    free(t);
}

static uint64_t hash_name(const char *s) { return lens__hash_bytes(LENS__HASH_INIT, s, strlen(s)); }

int lens__graph_find(const lens_graph *g, const char *name)
{
    if (!g->index_cap) return -1;
    size_t mask = g->index_cap - 1;
    for (size_t h = hash_name(name) & mask;; h = (h + 1) & mask) {
        int k = g->index[h];
        if (k < 0) return -1;
        if (!strcmp(g->nodes[k].name, name)) return k;
    }
}

const lens__gattr *lens__gattr_find(const lens__gnode *n, const char *key)
{
    for (int i = 0; i < n->n_attr; i++)
        if (!strcmp(n->attr[i].key, key)) return &n->attr[i];
    return NULL;
}

static lens_graph_dtype dtype_tf(const char *s)
{
    if (!s) return 0;
    if (!strcmp(s, "DT_FLOAT")) return LENS_GRAPH_FLOAT32;
    if (!strcmp(s, "DT_INT32") || !strcmp(s, "DT_INT64") || !strcmp(s, "DT_INT16") || !strcmp(s, "DT_INT8") ||
        !strcmp(s, "DT_UINT8") || !strcmp(s, "DT_UINT16"))
        return LENS_GRAPH_INT32;
    if (!strcmp(s, "DT_BOOL")) return LENS_GRAPH_BOOL;
    return 0;
}

/* bytes per element of a TF dtype's tensorContent */
static int tf_width(const char *s)
{
    if (!strcmp(s, "DT_FLOAT") || !strcmp(s, "DT_INT32") || !strcmp(s, "DT_UINT32")) return 4;
    if (!strcmp(s, "DT_INT64") || !strcmp(s, "DT_DOUBLE")) return 8;
    if (!strcmp(s, "DT_INT16") || !strcmp(s, "DT_UINT16") || !strcmp(s, "DT_HALF")) return 2;
    if (!strcmp(s, "DT_INT8") || !strcmp(s, "DT_UINT8") || !strcmp(s, "DT_BOOL")) return 1;
    return 0;
}

/* proto3 JSON writes int64 as a string, TF.js sometimes as a number */
static int json_i64(const json_t *v, int64_t *out)
{
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    if (json_is_string(v)) {
        const char *s = json_string_value(v);
        char *end;
        errno = 0;
        long long x = strtoll(s, &end, 10);
        if (!*s || *end || errno) return -1;
        *out = x;
        return 0;
    }
    return -1;
}

static int json_f64(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 0;
    }
    if (json_is_string(v)) { /* "NaN", "Infinity", "-Infinity" */
        const char *s = json_string_value(v);
        if (!strcmp(s, "NaN")) *out = NAN;
        else if (!strcmp(s, "Infinity")) *out = INFINITY;
        else if (!strcmp(s, "-Infinity")) *out = -INFINITY;
        else return -1;
        return 0;
    }
    return -1;
}

/* tensorShape / shape: {"dim":[{"size":"1"},{}]}, {"unknownRank":true}, {} (a scalar) */
static int parse_shape(const json_t *j, lens__gshape *s, const char **why)
{
    memset(s, 0, sizeof *s);
    if (!json_is_object(j)) return *why = "shape is not an object", -1;
    if (json_is_true(json_object_get(j, "unknownRank"))) {
        s->rank = -1;
        return 0;
    }
    const json_t *dims = json_object_get(j, "dim");
    if (!dims) return 0;
    if (!json_is_array(dims)) return *why = "shape's dim is not an array", -1;
    if (json_array_size(dims) > LENS_GRAPH_MAX_RANK) return *why = "rank over 8", -1;
    s->rank = (int)json_array_size(dims);
    for (int i = 0; i < s->rank; i++) {
        const json_t *d = json_array_get(dims, (size_t)i), *size;
        if (!json_is_object(d)) return *why = "shape's dim entry is not an object", -1;
        int64_t v = 0; /* proto3 leaves out a size of 0 */
        if ((size = json_object_get(d, "size")) && json_i64(size, &v)) return *why = "bad dim size", -1;
        if (v < -1 || v > MAX_ELEMS) return *why = "dim size out of range", -1;
        s->d[i] = v;
    }
    return 0;
}

/* ---- attrs ---- */

static void attr_free(lens__gattr *a)
{
    free(a->key);
    free(a->s);
    lens__gtensor_free(a->tensor);
    free(a->li);
    free(a->lf);
    for (int i = 0; a->ls && i < a->n; i++) free(a->ls[i]);
    free(a->ls);
}

static char *b64_string(const char *s, size_t *len)
{
    size_t n = strlen(s);
    unsigned char *out = malloc(n / 4 * 3 + 4);
    if (!out) return NULL;
    long w = lens__base64_decode(s, n, out);
    if (w < 0) {
        free(out);
        return NULL;
    }
    out[w] = '\0';
    if (len) *len = (size_t)w;
    return (char *)out;
}

/* A TensorProto: dtype, tensorShape, then tensorContent (base64 of the raw
 * little-endian values) or the typed *Val arrays (one value: all of them). */
static int parse_tensor(const json_t *j, lens__gshape *shape, lens_graph_dtype *dt, lens__gtensor **out,
                        const char **why)
{
    *out = NULL;
    if (!json_is_object(j)) return *why = "tensor is not an object", -1;
    const char *tn = json_string_value(json_object_get(j, "dtype"));
    if (!tn) return *why = "tensor without dtype", -1;
    *dt = dtype_tf(tn);
    const json_t *sh = json_object_get(j, "tensorShape");
    if (sh) {
        if (parse_shape(sh, shape, why)) return -1;
    } else {
        memset(shape, 0, sizeof *shape);
    }
    const json_t *content = json_object_get(j, "tensorContent");
    static const char *const vals[] = {"floatVal", "intVal", "int64Val", "boolVal", "halfVal", "doubleVal"};
    const json_t *arr = NULL;
    for (size_t k = 0; k < sizeof vals / sizeof *vals && !arr; k++) arr = json_object_get(j, vals[k]);
    if (!content && !arr) return 0; /* the value is in the weights */
    if (!*dt) return *why = "tensor value of a dtype lens does not support", -1;
    if (shape->rank < 0 || lens__gshape_numel(shape) < 0) return *why = "tensor value with an unknown shape", -1;
    if (lens__gshape_numel(shape) > MAX_ELEMS) return *why = "tensor too large", -1;
    lens__gtensor *t = lens__gtensor_new(*dt, shape);
    if (!t) return *why = "out of memory", -1;
    if (content) {
        const char *s = json_string_value(content);
        int w = tf_width(tn);
        if (!s || !w || !strcmp(tn, "DT_HALF") || !strcmp(tn, "DT_DOUBLE")) {
            lens__gtensor_free(t);
            return *why = "tensorContent of an unsupported dtype", -1;
        }
        size_t len = 0;
        char *b = b64_string(s, &len);
        if (!b) {
            lens__gtensor_free(t);
            return *why = "tensorContent is not base64", -1;
        }
        if (len != (size_t)t->n * (size_t)w) {
            free(b);
            lens__gtensor_free(t);
            return *why = "tensorContent size does not match the shape and dtype", -1;
        }
        const unsigned char *p = (const unsigned char *)b;
        for (int64_t i = 0; i < t->n; i++, p += w) {
            if (!strcmp(tn, "DT_FLOAT")) memcpy(&t->f[i], p, 4);
            else if (w == 8) {
                int64_t v;
                memcpy(&v, p, 8);
                t->i[i] = v > INT32_MAX ? INT32_MAX : v < INT32_MIN ? INT32_MIN : (int32_t)v;
            } else if (w == 4) memcpy(&t->i[i], p, 4);
            else if (w == 2) t->i[i] = !strcmp(tn, "DT_INT16") ? (int16_t)(p[0] | p[1] << 8) : (p[0] | p[1] << 8);
            else t->i[i] = !strcmp(tn, "DT_INT8") ? (int8_t)p[0] : !strcmp(tn, "DT_BOOL") ? p[0] != 0 : p[0];
        }
        free(b);
    } else {
        size_t m = json_array_size(arr);
        if (!json_is_array(arr) || (m != (size_t)t->n && !(m == 1 && t->n > 0)) || (m == 0 && t->n)) {
            lens__gtensor_free(t);
            return *why = "tensor values do not match its shape", -1;
        }
        for (int64_t i = 0; i < t->n; i++) {
            const json_t *v = json_array_get(arr, m == 1 ? 0 : (size_t)i);
            double f;
            int64_t x;
            if (t->f) {
                if (json_f64(v, &f)) goto bad;
                t->f[i] = (float)f;
            } else if (json_is_boolean(v)) {
                t->i[i] = json_is_true(v);
            } else {
                if (json_i64(v, &x)) goto bad;
                t->i[i] = x > INT32_MAX ? INT32_MAX : x < INT32_MIN ? INT32_MIN : (int32_t)x;
            }
        }
    }
    *out = t;
    return 0;
bad:
    lens__gtensor_free(t);
    return *why = "bad tensor value", -1;
}

static int parse_attr(const char *key, const json_t *v, lens__gattr *a, const char **why)
{
    memset(a, 0, sizeof *a);
    if (!(a->key = strdup(key))) return *why = "out of memory", -1;
    if (!json_is_object(v)) return *why = "attr is not an object", -1;
    const json_t *x;
    if ((x = json_object_get(v, "i"))) {
        a->kind = LENS__GA_I;
        if (json_i64(x, &a->i)) return *why = "attr i is not an integer", -1;
    } else if ((x = json_object_get(v, "f"))) {
        a->kind = LENS__GA_F;
        if (json_f64(x, &a->f)) return *why = "attr f is not a number", -1;
    } else if ((x = json_object_get(v, "b"))) {
        a->kind = LENS__GA_B;
        if (!json_is_boolean(x)) return *why = "attr b is not a boolean", -1;
        a->i = json_is_true(x);
    } else if ((x = json_object_get(v, "s"))) {
        a->kind = LENS__GA_S;
        if (!json_is_string(x) || !(a->s = b64_string(json_string_value(x), &a->s_len)))
            return *why = "attr s is not base64", -1;
    } else if ((x = json_object_get(v, "type"))) {
        a->kind = LENS__GA_TYPE;
        if (!json_is_string(x)) return *why = "attr type is not a string", -1;
        a->i = dtype_tf(json_string_value(x));
    } else if ((x = json_object_get(v, "shape"))) {
        a->kind = LENS__GA_SHAPE;
        if (parse_shape(x, &a->shape, why)) return -1;
    } else if ((x = json_object_get(v, "tensor"))) {
        a->kind = LENS__GA_TENSOR;
        lens_graph_dtype dt;
        if (parse_tensor(x, &a->shape, &dt, &a->tensor, why)) return -1;
        a->i = dt;
    } else if ((x = json_object_get(v, "list"))) {
        a->kind = LENS__GA_LIST;
        if (!json_is_object(x)) return *why = "attr list is not an object", -1;
        const char *k;
        const json_t *arr;
        json_object_foreach((json_t *)x, k, arr) {
            if (!json_is_array(arr)) return *why = "attr list entry is not an array", -1;
            if (!json_array_size(arr)) continue;
            if (a->n) return *why = "attr list of two kinds", -1;
            size_t n = json_array_size(arr);
            if (n > (1u << 20)) return *why = "attr list too long", -1;
            a->n = (int)n;
            if (!strcmp(k, "i") || !strcmp(k, "b") || !strcmp(k, "type")) {
                a->list_kind = !strcmp(k, "i") ? LENS__GA_I : !strcmp(k, "b") ? LENS__GA_B : LENS__GA_TYPE;
                if (!(a->li = calloc(n, sizeof *a->li))) return *why = "out of memory", -1;
                for (size_t i = 0; i < n; i++) {
                    const json_t *e = json_array_get(arr, i);
                    if (a->list_kind == LENS__GA_B) {
                        if (!json_is_boolean(e)) return *why = "bad attr list b", -1;
                        a->li[i] = json_is_true(e);
                    } else if (a->list_kind == LENS__GA_TYPE) {
                        if (!json_is_string(e)) return *why = "bad attr list type", -1;
                        a->li[i] = dtype_tf(json_string_value(e));
                    } else if (json_i64(e, &a->li[i])) {
                        return *why = "bad attr list i", -1;
                    }
                }
            } else if (!strcmp(k, "f")) {
                a->list_kind = LENS__GA_F;
                if (!(a->lf = calloc(n, sizeof *a->lf))) return *why = "out of memory", -1;
                for (size_t i = 0; i < n; i++)
                    if (json_f64(json_array_get(arr, i), &a->lf[i])) return *why = "bad attr list f", -1;
            } else if (!strcmp(k, "s")) {
                a->list_kind = LENS__GA_S;
                if (!(a->ls = calloc(n, sizeof *a->ls))) return *why = "out of memory", -1;
                for (size_t i = 0; i < n; i++) {
                    const char *s = json_string_value(json_array_get(arr, i));
                    if (!s || !(a->ls[i] = b64_string(s, NULL))) return *why = "bad attr list s", -1;
                }
            } else {
                a->n = 0; /* lists of shapes, tensors or funcs: kept as an empty list, unused */
                a->list_kind = LENS__GA_NONE;
            }
        }
    } else {
        a->kind = LENS__GA_NONE; /* func, placeholder: no op lens runs reads them */
    }
    return 0;
}

/* ---- nodes ---- */

static int index_nodes(lens_graph *g, lens_error *err)
{
    size_t cap = 16;
    while (cap < (size_t)g->n_nodes * 2) cap <<= 1;
    if (!(g->index = malloc(cap * sizeof *g->index))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    g->index_cap = cap;
    for (size_t i = 0; i < cap; i++) g->index[i] = -1;
    for (int k = 0; k < g->n_nodes; k++) {
        const char *name = g->nodes[k].name;
        if (lens__graph_find(g, name) >= 0)
            return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': defined twice", g->name, name);
        size_t h = hash_name(name) & (cap - 1);
        while (g->index[h] >= 0) h = (h + 1) & (cap - 1);
        g->index[h] = k;
    }
    return LENS_OK;
}

/* "name", "name:1", "^name" */
static int resolve(lens_graph *g, lens__gnode *n, const char *in, lens__gref *r, lens_error *err)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", in);
    r->port = 0;
    char *colon = strrchr(buf, ':');
    if (colon) {
        char *end;
        long p = strtol(colon + 1, &end, 10);
        if (colon[1] && !*end && p >= 0 && p < 1024) {
            *colon = '\0';
            r->port = (int)p;
        }
    }
    if ((r->node = lens__graph_find(g, buf)) < 0)
        return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': input '%s' names no node", g->name, n->name, in);
    return LENS_OK;
}

static int parse_nodes(lens_graph *g, const json_t *arr, lens_error *err)
{
    if (!json_is_array(arr)) return lens_error_set(err, LENS_EFORMAT, "%s: model.json: modelTopology.node is not an array", g->name);
    size_t n = json_array_size(arr);
    if (n > MAX_NODES) return lens_error_set(err, LENS_EFORMAT, "%s: model.json: over %d nodes", g->name, MAX_NODES);
    if (!(g->nodes = calloc(n ? n : 1, sizeof *g->nodes))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    for (size_t k = 0; k < n; k++) {
        const json_t *j = json_array_get(arr, k);
        lens__gnode *nd = &g->nodes[k];
        g->n_nodes = (int)k + 1;
        const char *name = json_string_value(json_object_get(j, "name"));
        const char *op = json_string_value(json_object_get(j, "op"));
        if (!name || !*name) return lens_error_set(err, LENS_EFORMAT, "%s: model.json: node %zu has no name", g->name, k);
        if (!(nd->name = strdup(name))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        if (!op || !*op) return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': no op", g->name, name);
        if (!(nd->op = strdup(op))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        const json_t *ins = json_object_get(j, "input");
        if (ins && !json_is_array(ins)) return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': input is not an array", g->name, name);
        size_t ni = json_array_size(ins);
        if (ni > 4096) return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': over 4096 inputs", g->name, name);
        nd->in_names = calloc(ni + 1, sizeof *nd->in_names);
        nd->ctrl_names = calloc(ni + 1, sizeof *nd->ctrl_names);
        if (!nd->in_names || !nd->ctrl_names) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        for (size_t i = 0; i < ni; i++) {
            const char *s = json_string_value(json_array_get(ins, i));
            if (!s || !*s || (s[0] == '^' && !s[1]))
                return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': input %zu is not a node name", g->name, name, i);
            char *c = strdup(s[0] == '^' ? s + 1 : s);
            if (!c) return lens_error_set(err, LENS_ENOMEM, "out of memory");
            if (s[0] == '^') nd->ctrl_names[nd->n_ctrl++] = c;
            else nd->in_names[nd->n_in++] = c;
        }
        const json_t *attrs = json_object_get(j, "attr");
        if (attrs && !json_is_object(attrs)) return lens_error_set(err, LENS_EFORMAT, "%s: node '%s': attr is not an object", g->name, name);
        if (json_object_size(attrs)) {
            if (!(nd->attr = calloc(json_object_size(attrs), sizeof *nd->attr))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
            const char *key;
            const json_t *v;
            json_object_foreach((json_t *)attrs, key, v) {
                const char *why = NULL;
                int rc = parse_attr(key, v, &nd->attr[nd->n_attr], &why);
                nd->n_attr++;
                if (rc) return lens_error_set(err, LENS_EFORMAT, "%s: node '%s' (%s): attr '%s': %s", g->name, name, op, key, why);
            }
        }
    }
    int rc = index_nodes(g, err);
    if (rc) return rc;
    for (int k = 0; k < g->n_nodes; k++) {
        lens__gnode *nd = &g->nodes[k];
        nd->in = calloc((size_t)nd->n_in + 1, sizeof *nd->in);
        nd->ctrl = calloc((size_t)nd->n_ctrl + 1, sizeof *nd->ctrl);
        if (!nd->in || !nd->ctrl) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        for (int i = 0; i < nd->n_in; i++)
            if ((rc = resolve(g, nd, nd->in_names[i], &nd->in[i], err))) return rc;
        for (int i = 0; i < nd->n_ctrl; i++) {
            lens__gref r;
            if ((rc = resolve(g, nd, nd->ctrl_names[i], &r, err))) return rc;
            nd->ctrl[i] = r.node;
        }
    }
    return LENS_OK;
}

/* ---- weights ---- */

static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, man = h & 0x3ff, bits;
    if (exp == 0) {
        if (!man) bits = sign;
        else { /* subnormal: normalise */
            exp = 127 - 15 + 1;
            while (!(man & 0x400)) {
                man <<= 1;
                exp--;
            }
            bits = sign | exp << 23 | (man & 0x3ff) << 13;
        }
    } else if (exp == 31) {
        bits = sign | 0x7f800000u | man << 13;
    } else {
        bits = sign | (exp + 127 - 15) << 23 | man << 13;
    }
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* One manifest weight: name, shape, dtype, quantization; decoded from p
 * (avail bytes on) into a new tensor; *used is the bytes it takes. */
static int decode_weight(lens_graph *g, const json_t *w, const unsigned char *p, size_t avail, size_t *used,
                         char **name_out, lens__gtensor **out, lens_error *err)
{
    const char *name = json_string_value(json_object_get(w, "name"));
    const char *dtype = json_string_value(json_object_get(w, "dtype"));
    const json_t *shape = json_object_get(w, "shape"), *q = json_object_get(w, "quantization");
    if (!name) return lens_error_set(err, LENS_EFORMAT, "%s: weightsManifest: a weight without a name", g->name);
    if (!dtype) return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': no dtype", g->name, name);
    lens__gshape s = {0};
    if (!json_is_array(shape) || json_array_size(shape) > LENS_GRAPH_MAX_RANK)
        return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': shape is not an array of at most 8 dims", g->name, name);
    s.rank = (int)json_array_size(shape);
    for (int i = 0; i < s.rank; i++) {
        int64_t v;
        if (json_i64(json_array_get(shape, (size_t)i), &v) || v < 0 || v > MAX_ELEMS)
            return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': bad dim %d", g->name, name, i);
        s.d[i] = v;
    }
    int64_t n = lens__gshape_numel(&s);
    if (n > MAX_ELEMS) return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': too many elements", g->name, name);
    lens_graph_dtype dt = !strcmp(dtype, "float32") ? LENS_GRAPH_FLOAT32
                          : !strcmp(dtype, "int32")  ? LENS_GRAPH_INT32
                          : !strcmp(dtype, "bool")   ? LENS_GRAPH_BOOL
                                                     : 0;
    if (!dt) return lens_error_set(err, LENS_EUNSUP, "%s: weight '%s': dtype '%s' is not supported (float32, int32, bool)", g->name, name, dtype);
    const char *qd = NULL;
    double qmin = 0, qscale = 0;
    int width = dt == LENS_GRAPH_BOOL ? 1 : 4;
    if (q) {
        qd = json_string_value(json_object_get(q, "dtype"));
        if (!qd) return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': quantization without dtype", g->name, name);
        if (!strcmp(qd, "uint8") || !strcmp(qd, "uint16")) {
            width = qd[4] == '8' ? 1 : 2;
            if (json_f64(json_object_get(q, "min"), &qmin) || json_f64(json_object_get(q, "scale"), &qscale) ||
                !isfinite(qmin) || !isfinite(qscale))
                return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': %s quantization needs finite min and scale", g->name, name, qd);
            if (dt == LENS_GRAPH_BOOL) return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': quantized bool", g->name, name);
        } else if (!strcmp(qd, "float16")) {
            width = 2;
            if (dt != LENS_GRAPH_FLOAT32) return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': float16 quantization of %s", g->name, name, dtype);
        } else {
            return lens_error_set(err, LENS_EUNSUP, "%s: weight '%s': quantization dtype '%s' is not supported (uint8, uint16, float16)", g->name, name, qd);
        }
    }
    size_t bytes = (size_t)n * (size_t)width;
    if (bytes > avail)
        return lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': needs %zu bytes, the shards have %zu left", g->name, name, bytes, avail);
    lens__gtensor *t = lens__gtensor_new(dt, &s);
    char *nm = strdup(name);
    if (!t || !nm) {
        lens__gtensor_free(t);
        free(nm);
        return lens_error_set(err, LENS_ENOMEM, "out of memory (weight '%s')", name);
    }
    for (int64_t i = 0; i < n; i++) {
        const unsigned char *e = p + (size_t)i * (size_t)width;
        if (qd && width <= 2 && strcmp(qd, "float16")) {
            unsigned v = width == 1 ? e[0] : (unsigned)(e[0] | e[1] << 8);
            double x = v * qscale + qmin; /* as TF.js: double arithmetic, then stored */
            if (dt == LENS_GRAPH_FLOAT32) t->f[i] = (float)x;
            else t->i[i] = (int32_t)fmax(fmin(floor(x + 0.5), INT32_MAX), INT32_MIN); /* Math.round */
        } else if (qd) {
            t->f[i] = half_to_float((uint16_t)(e[0] | e[1] << 8));
        } else if (dt == LENS_GRAPH_FLOAT32) {
            memcpy(&t->f[i], e, 4);
        } else if (dt == LENS_GRAPH_INT32) {
            memcpy(&t->i[i], e, 4);
        } else {
            t->i[i] = e[0] != 0;
        }
    }
    *used = bytes;
    *name_out = nm;
    *out = t;
    return LENS_OK;
}

static int same_dims(const lens__gshape *a, const lens__gshape *b)
{
    if (a->rank < 0 || b->rank < 0) return 1;
    if (a->rank != b->rank) return 0;
    for (int i = 0; i < a->rank; i++)
        if (a->d[i] >= 0 && b->d[i] >= 0 && a->d[i] != b->d[i]) return 0;
    return 1;
}

/* Gives a weight to its Const node, checking the node's own dtype and shape. */
static int bind_weight(lens_graph *g, const char *name, lens__gtensor *t, lens_error *err)
{
    int k = lens__graph_find(g, name);
    if (k < 0 || strcmp(g->nodes[k].op, "Const")) {
        lens__gtensor_free(t); /* TF.js ignores weights no Const takes */
        return LENS_OK;
    }
    lens__gnode *nd = &g->nodes[k];
    const lens__gattr *v = lens__gattr_find(nd, "value");
    const lens__gattr *dt = lens__gattr_find(nd, "dtype");
    int rc = LENS_OK;
    if (nd->out_const && nd->out_const[0])
        rc = lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': the node has a value already", g->name, name);
    else if (dt && dt->kind == LENS__GA_TYPE && dt->i && (lens_graph_dtype)dt->i != t->dtype)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': dtype %s, but the node says %s", g->name, name,
                            lens_graph_dtype_name(t->dtype), lens_graph_dtype_name((lens_graph_dtype)dt->i));
    else if (v && v->kind == LENS__GA_TENSOR && !same_dims(&v->shape, &t->shape) &&
             lens__gshape_numel(&v->shape) != t->n)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: weight '%s': %lld elements, but the node's shape has %lld", g->name,
                            name, (long long)t->n, (long long)lens__gshape_numel(&v->shape));
    if (!rc && !nd->out_const && !(nd->out_const = calloc(1, sizeof *nd->out_const)))
        rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (rc) {
        lens__gtensor_free(t);
        return rc;
    }
    nd->out_const[0] = t;
    return LENS_OK;
}

static int parse_weights(lens_graph *g, const json_t *man, lens__graph_shard_fn shard, void *ctx, lens_error *err)
{
    if (!man) return LENS_OK;
    if (!json_is_array(man)) return lens_error_set(err, LENS_EFORMAT, "%s: model.json: weightsManifest is not an array", g->name);
    for (size_t gi = 0; gi < json_array_size(man); gi++) {
        const json_t *grp = json_array_get(man, gi), *paths = json_object_get(grp, "paths"),
                     *ws = json_object_get(grp, "weights");
        if (!json_is_array(paths) || !json_is_array(ws))
            return lens_error_set(err, LENS_EFORMAT, "%s: weightsManifest[%zu]: needs paths[] and weights[]", g->name, gi);
        /* the group's shards, one buffer: weights run across shard boundaries */
        unsigned char *all = NULL;
        size_t total = 0;
        int rc = LENS_OK;
        for (size_t pi = 0; pi < json_array_size(paths) && !rc; pi++) {
            const char *path = json_string_value(json_array_get(paths, pi));
            if (!path) {
                rc = lens_error_set(err, LENS_EFORMAT, "%s: weightsManifest[%zu]: path %zu is not a string", g->name, gi, pi);
                break;
            }
            unsigned char *d = NULL;
            size_t n = 0;
            if ((rc = shard(ctx, path, &d, &n, err))) break;
            if (n) {
                unsigned char *grown = realloc(all, total + n);
                if (!grown) {
                    free(d);
                    rc = lens_error_set(err, LENS_ENOMEM, "out of memory (shard %s)", path);
                    break;
                }
                all = grown;
                memcpy(all + total, d, n);
                total += n;
            }
            g->stats.weight_bytes += (int64_t)n;
            free(d);
        }
        size_t off = 0;
        for (size_t wi = 0; wi < json_array_size(ws) && !rc; wi++) {
            size_t used = 0;
            char *name = NULL;
            lens__gtensor *t = NULL;
            const json_t *w = json_array_get(ws, wi);
            if (!json_is_object(w)) {
                rc = lens_error_set(err, LENS_EFORMAT, "%s: weightsManifest[%zu]: weight %zu is not an object", g->name, gi, wi);
                break;
            }
            if ((rc = decode_weight(g, w, all ? all + off : NULL, total - off, &used, &name, &t, err))) break;
            off += used;
            rc = bind_weight(g, name, t, err);
            free(name);
        }
        if (!rc && off != total)
            rc = lens_error_set(err, LENS_EFORMAT, "%s: weightsManifest[%zu]: the shards hold %zu bytes, the weights %zu", g->name, gi, total, off);
        free(all);
        if (rc) return rc;
    }
    return LENS_OK;
}

/* ---- signature ---- */

static int parse_ports(lens_graph *g, const json_t *obj, int is_out, lens_error *err)
{
    size_t n = json_object_size(obj);
    lens__gport *p = calloc(n ? n : 1, sizeof *p);
    if (!p) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (is_out) g->outputs = p;
    else g->inputs = p;
    const char *key;
    const json_t *v;
    int k = 0;
    json_object_foreach((json_t *)obj, key, v) {
        const char *name = json_string_value(json_object_get(v, "name"));
        if (!name) name = key;
        lens__gport *q = &p[k++];
        if (is_out) g->n_outputs = k;
        else g->n_inputs = k;
        if (!(q->name = strdup(name))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
        lens__gnode fake = {.name = (char *)(is_out ? "signature outputs" : "signature inputs")};
        int rc = resolve(g, &fake, name, &q->ref, err);
        if (rc) return rc;
        q->dtype = dtype_tf(json_string_value(json_object_get(v, "dtype")));
        const char *why;
        const json_t *sh = json_object_get(v, "tensorShape");
        if (!sh) q->sig.rank = -1;
        else if (parse_shape(sh, &q->sig, &why))
            return lens_error_set(err, LENS_EFORMAT, "%s: signature '%s': %s", g->name, name, why);
    }
    return LENS_OK;
}

static int default_ports(lens_graph *g, lens_error *err)
{
    /* no signature: the Placeholders in, the nodes nobody reads out */
    char *used = calloc((size_t)g->n_nodes + 1, 1);
    g->inputs = calloc((size_t)g->n_nodes + 1, sizeof *g->inputs);
    g->outputs = calloc((size_t)g->n_nodes + 1, sizeof *g->outputs);
    if (!used || !g->inputs || !g->outputs) {
        free(used);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    for (int k = 0; k < g->n_nodes; k++)
        for (int i = 0; i < g->nodes[k].n_in; i++) used[g->nodes[k].in[i].node] = 1;
    for (int k = 0; k < g->n_nodes; k++) {
        const lens__gnode *nd = &g->nodes[k];
        char name[1100];
        snprintf(name, sizeof name, "%s:0", nd->name);
        lens__gport *q = NULL;
        if (!strcmp(nd->op, "Placeholder")) q = &g->inputs[g->n_inputs++];
        else if (!used[k] && strcmp(nd->op, "Const") && strcmp(nd->op, "NoOp")) q = &g->outputs[g->n_outputs++];
        if (!q) continue;
        q->ref = (lens__gref){k, 0};
        q->sig.rank = -1;
        if (!(q->name = strdup(name))) {
            free(used);
            return lens_error_set(err, LENS_ENOMEM, "out of memory");
        }
    }
    free(used);
    return LENS_OK;
}

int lens__graph_load(lens_graph *g, const char *json, size_t json_len, lens__graph_shard_fn shard, void *ctx,
                     lens_error *err)
{
    if (!g->pack_mu_ok) {
        if (pthread_mutex_init(&g->pack_mu, NULL)) return lens_error_set(err, LENS_ENOMEM, "%s: cannot create a lock", g->name);
        g->pack_mu_ok = 1;
    }
    json_error_t je;
    json_t *root = json_loadb(json, json_len, JSON_REJECT_DUPLICATES, &je);
    if (!root) return lens_error_set(err, LENS_EFORMAT, "%s: model.json: line %d: %s", g->name, je.line, je.text);
    int rc = LENS_OK;
    const json_t *topo = json_object_get(root, "modelTopology");
    const char *fmt = json_string_value(json_object_get(root, "format"));
    if (!json_is_object(topo)) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: model.json: no modelTopology object (not a TF.js model)", g->name);
    } else if (fmt && strcmp(fmt, "graph-model")) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: model.json: format '%s' is not supported (graph-model only; a "
                            "layers-model needs converting with tensorflowjs_converter)", g->name, fmt);
    } else if (json_object_get(topo, "library") &&
               json_array_size(json_object_get(json_object_get(topo, "library"), "function"))) {
        rc = lens_error_set(err, LENS_EUNSUP, "%s: model.json: graph functions (control flow) are not supported", g->name);
    }
    if (!rc) rc = parse_nodes(g, json_object_get(topo, "node"), err);
    if (!rc) rc = parse_weights(g, json_object_get(root, "weightsManifest"), shard, ctx, err);
    if (!rc) {
        const json_t *sig = json_object_get(root, "signature");
        if (!sig) sig = json_object_get(json_object_get(root, "userDefinedMetadata"), "signature");
        const json_t *in = json_object_get(sig, "inputs"), *out = json_object_get(sig, "outputs");
        if (json_object_size(in) && json_object_size(out)) {
            rc = parse_ports(g, in, 0, err);
            if (!rc) rc = parse_ports(g, out, 1, err);
        } else {
            rc = default_ports(g, err);
        }
        if (!rc && !g->n_outputs) rc = lens_error_set(err, LENS_EFORMAT, "%s: model.json: the graph has no outputs", g->name);
    }
    json_decref(root);
    return rc;
}

/* ---- files ---- */

typedef struct {
    const char *dir, *model;
} file_ctx;

static int read_fd(int fd, const char *what, unsigned char **data, size_t *n, lens_error *err)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        return lens_error_set(err, LENS_EIO, "%s: not a regular file", what);
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *b = malloc(size ? size : 1);
    if (!b) return lens_error_set(err, LENS_ENOMEM, "out of memory (%s, %zu bytes)", what, size);
    while (got < size) {
        ssize_t r = read(fd, b + got, size - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) {
            free(b);
            return lens_error_set(err, LENS_EIO, "%s: read failed%s%s", what, r < 0 ? ": " : " (file shrank)",
                                  r < 0 ? strerror(errno) : "");
        }
        got += (size_t)r;
    }
    *data = b;
    *n = size;
    return LENS_OK;
}

static int file_shard(void *ctx, const char *path, unsigned char **data, size_t *n, lens_error *err)
{
    file_ctx *c = ctx;
    /* a shard is a file beside model.json, never a path that leaves the model's directory */
    if (path[0] == '/' || !strcmp(path, "..") || !strncmp(path, "../", 3) || strstr(path, "/../") ||
        (strlen(path) >= 3 && !strcmp(path + strlen(path) - 3, "/..")))
        return lens_error_set(err, LENS_EFORMAT, "%s: weight shard %s: refused: it leads outside the model directory",
                              c->model, path);
    int fd = lens__open_beneath(c->dir, path, O_RDONLY, err);
    if (fd < 0) return lens_error_wrap(err, "%s: weight shard", c->model);
    char what[1200];
    snprintf(what, sizeof what, "%s: weight shard %s", c->model, path);
    int rc = read_fd(fd, what, data, n, err);
    close(fd);
    return rc;
}

int lens_graph_open(lens_graph **out, const char *dir, lens_error *err)
{
    *out = NULL;
    lens_graph *g = calloc(1, sizeof *g);
    char base[1024];
    lens__basename(dir, base, sizeof base);
    if (!g || !(g->name = strdup(base[0] ? base : dir))) {
        free(g);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/model.json", dir);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        lens__graph_free(g);
        return lens_error_set(err, e == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "%s: cannot open %s: %s%s", base, path,
                              strerror(e), e == ENOENT ? " (a TF.js graph model directory holds model.json and its "
                                                         "shards; `lens model pull human-models` installs some)" : "");
    }
    unsigned char *json = NULL;
    size_t n = 0;
    int rc = read_fd(fd, path, &json, &n, err);
    close(fd);
    file_ctx c = {dir, g->name};
    if (!rc) rc = lens__graph_load(g, (const char *)json, n, file_shard, &c, err);
    free(json);
    if (!rc) rc = lens__graph_plan(g, err);
    if (rc) {
        lens__graph_free(g);
        return rc;
    }
    *out = g;
    return LENS_OK;
}

void lens__graph_free(lens_graph *g)
{
    if (!g) return;
    if (g->pack_mu_ok) pthread_mutex_destroy(&g->pack_mu);
    for (int k = 0; k < g->n_nodes; k++) {
        lens__gnode *nd = &g->nodes[k];
        for (int i = 0; i < nd->n_in; i++) free(nd->in_names[i]);
        for (int i = 0; i < nd->n_ctrl; i++) free(nd->ctrl_names[i]);
        free(nd->in_names);
        free(nd->ctrl_names);
        free(nd->in);
        free(nd->ctrl);
        for (int i = 0; i < nd->n_attr; i++) attr_free(&nd->attr[i]);
        free(nd->attr);
        if (nd->out_const)
            for (int i = 0; i < (nd->n_out ? nd->n_out : 1); i++) lens__gtensor_free(nd->out_const[i]);
        free(nd->out_const);
        free(nd->out_shape);
        free(nd->out_dtype);
        if (nd->lin) lens__linear_free(nd->lin);
        free(nd->lin);
        free(nd->name);
        free(nd->op);
    }
    free(g->nodes);
    free(g->index);
    for (int i = 0; i < g->n_inputs; i++) free(g->inputs[i].name);
    for (int i = 0; i < g->n_outputs; i++) free(g->outputs[i].name);
    free(g->inputs);
    free(g->outputs);
    free(g->order);
    free(g->ops);
    free(g->name);
    free(g);
}

void lens_graph_close(lens_graph *g) { lens__graph_free(g); }
