/* TF.js graph models: the loaded graph and its plan (internal; the kernels
 * and lens graph run build on these). */
#ifndef LENS_GRAPH_INTERNAL_H
#define LENS_GRAPH_INTERNAL_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "lens/graph.h"

/* the most elements of one tensor, and the largest dim or shape value a
 * model may state: 8 GiB of float32 is no vision model */
#define LENS__GRAPH_MAX_ELEMS ((int64_t)1 << 31)

/* rank -1: unknown; a dim -1: unknown */
typedef struct lens__gshape {
    int rank;
    int64_t d[LENS_GRAPH_MAX_RANK];
} lens__gshape;

/* A constant: float32 in f, int32 and bool (0/1) in i. */
typedef struct lens__gtensor {
    lens_graph_dtype dtype;
    lens__gshape shape; /* fully known */
    int64_t n;          /* elements */
    float *f;
    int32_t *i;
} lens__gtensor;

typedef enum {
    LENS__GA_NONE, LENS__GA_I, LENS__GA_F, LENS__GA_B, LENS__GA_S, LENS__GA_TYPE, LENS__GA_SHAPE,
    LENS__GA_TENSOR, LENS__GA_LIST /* of i, f, b, s or type (tag in list_kind); empty lists too */
} lens__gattr_kind;

typedef struct lens__gattr {
    char *key;
    lens__gattr_kind kind, list_kind;
    int64_t i;           /* I, B, TYPE (a lens_graph_dtype, 0 for types lens does not know) */
    double f;
    char *s;             /* S: decoded bytes, NUL-terminated */
    size_t s_len;
    lens__gshape shape;
    lens__gtensor *tensor; /* TENSOR with values (else NULL: shape and dtype only) */
    int n;               /* LIST: entries */
    int64_t *li;         /* LIST of i, b, type */
    double *lf;          /* LIST of f */
    char **ls;           /* LIST of s */
} lens__gattr;

typedef struct lens__gref {
    int node, port;
} lens__gref;

typedef struct lens__gnode {
    char *name, *op;
    int n_in;            /* data inputs */
    lens__gref *in;
    char **in_names;     /* as written, for messages until resolved */
    int n_ctrl;          /* "^name" control inputs: ordering only */
    int *ctrl;
    char **ctrl_names;
    int n_attr;
    lens__gattr *attr;
    /* the plan */
    int n_out;
    lens__gshape *out_shape;
    lens_graph_dtype *out_dtype;
    lens__gtensor **out_const; /* per output: a Const's value, or a folded one; NULL: computed at run time */
    struct lens__linear *lin; /* Conv2D: its filter packed for src/nn's GEMM (first run; read
                               * with __atomic_load_n, set under pack_mu) */
    int needed;          /* an output depends on it */
    int folded;          /* its outputs are all constants now (Const or folded) */
    double flops;
} lens__gnode;

typedef struct lens__gport {
    char *name;          /* "input_1:0" */
    lens__gref ref;
    lens_graph_dtype dtype;
    lens__gshape sig;    /* as the signature (or the Placeholder) states it */
} lens__gport;

typedef struct lens__gop {
    const char *op;
    int count;
    double flops;
} lens__gop;

struct lens_graph {
    char *name;
    int n_nodes;
    lens__gnode *nodes;
    int *index;          /* open-addressed name -> node table of index_cap slots (-1: empty) */
    size_t index_cap;
    int n_inputs, n_outputs;
    lens__gport *inputs, *outputs;
    int n_order;
    int *order;          /* the planned nodes that run, topologically */
    int n_ops;
    lens__gop *ops;
    lens_graph_stats stats;
    /* the convolutions' filters are packed on first use, by whichever run
     * comes first: this lock makes it once, so runs may overlap */
    pthread_mutex_t pack_mu;
    int pack_mu_ok;
};

/* Where the loader gets shard bytes: *data (malloc'd, the caller frees) of
 * the shard path as the manifest names it. */
typedef int (*lens__graph_shard_fn)(void *ctx, const char *path, unsigned char **data, size_t *n,
                                    lens_error *err);

/* Parses model.json text and the shards into g (zeroed; name set).
 * lens_graph_open uses files; the fuzzer memory. */
int lens__graph_load(lens_graph *g, const char *json, size_t json_len, lens__graph_shard_fn shard,
                     void *ctx, lens_error *err);
/* Topological order, shapes, folding, stats: after lens__graph_load. */
int lens__graph_plan(lens_graph *g, lens_error *err);
/* Frees everything g holds, and g. */
void lens__graph_free(lens_graph *g);

/* A StridedSlice node's slice of its input, per input dim: first index,
 * step and count (1 for a shrunk dim); its inputs' shapes and constant
 * begin/end/strides must be planned. */
typedef struct lens__gslice {
    int n;
    int64_t start[LENS_GRAPH_MAX_RANK], step[LENS_GRAPH_MAX_RANK], count[LENS_GRAPH_MAX_RANK];
} lens__gslice;
int lens__graph_slice(lens_graph *g, lens__gnode *nd, lens__gslice *sp, lens_error *err);

/* An elementwise binary op or comparison on two values as TF computes it
 * (isint: integer division and modulo floor); NAN for an op it does not know. */
double lens__graph_binop(const char *op, double a, double b, int isint);
/* the flat index into shape s (right-aligned, broadcast) of output index idx of shape o */
int64_t lens__graph_bidx(const lens__gshape *s, const lens__gshape *o, int64_t idx);

int lens__graph_find(const lens_graph *g, const char *name);
const lens__gattr *lens__gattr_find(const lens__gnode *n, const char *key);
lens__gtensor *lens__gtensor_new(lens_graph_dtype t, const lens__gshape *s);
void lens__gtensor_free(lens__gtensor *t);
int64_t lens__gshape_numel(const lens__gshape *s); /* -1 when not fully known */

#endif
