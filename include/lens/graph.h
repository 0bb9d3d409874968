/* lens — TensorFlow.js graph models (model.json + weight shards).
 *
 * lens_graph_open reads a TF.js "graph-model" directory: model.json (a
 * TensorFlow GraphDef as JSON plus a weights manifest) and its shards
 * (float32; float16; uint8/uint16 affine-quantized with min/scale; int32),
 * every offset, size, shape and dtype checked. It then plans the graph once:
 * the nodes the outputs need in topological order, every tensor's shape and
 * dtype inferred, subgraphs of constants (shape arithmetic) folded. A
 * malformed file, or an op or attribute lens does not support, is one error
 * naming the model, the node or weight and what is wrong. */
#ifndef LENS_GRAPH_H
#define LENS_GRAPH_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

#define LENS_GRAPH_MAX_RANK 8

typedef enum lens_graph_dtype {
    LENS_GRAPH_FLOAT32 = 1,
    LENS_GRAPH_INT32 = 2, /* TF's int64 too, as TF.js keeps it */
    LENS_GRAPH_BOOL = 3
} lens_graph_dtype;

typedef struct lens_graph lens_graph;

/* A graph input or output: name as the signature spells it ("input_1:0"),
 * dims -1 where the model leaves them open (the plan takes 1 there). */
typedef struct lens_graph_port {
    const char *name;
    lens_graph_dtype dtype;
    int rank;
    int64_t dims[LENS_GRAPH_MAX_RANK];
} lens_graph_port;

/* dir holds model.json and the shards it names; the model's name in
 * messages is dir's last component. */
LENS_API int lens_graph_open(lens_graph **out, const char *dir, lens_error *err);
LENS_API void lens_graph_close(lens_graph *g);

LENS_API const char *lens_graph_name(const lens_graph *g);
LENS_API int lens_graph_num_inputs(const lens_graph *g);
LENS_API int lens_graph_num_outputs(const lens_graph *g);
/* i in [0, num): 0 and *out filled (valid while g is open), else LENS_EINVAL */
LENS_API int lens_graph_input(const lens_graph *g, int i, lens_graph_port *out);
/* Outputs carry the shape the plan inferred (inputs' open dims as 1). */
LENS_API int lens_graph_output(const lens_graph *g, int i, lens_graph_port *out);

typedef struct lens_graph_stats {
    int nodes;          /* in model.json */
    int planned;        /* nodes the outputs need that run (after folding) */
    int folded;         /* nodes folded into constants */
    int64_t params;     /* float weights the outputs need, in elements */
    int64_t weight_bytes; /* bytes of the shards */
    double flops;       /* per run, batch 1: 2 x multiply-adds of convolutions and matmuls */
} lens_graph_stats;
LENS_API void lens_graph_get_stats(const lens_graph *g, lens_graph_stats *out);

/* The op histogram of the planned (not folded) nodes, most frequent
 * first: i in [0, lens_graph_num_ops). */
LENS_API int lens_graph_num_ops(const lens_graph *g);
LENS_API int lens_graph_op(const lens_graph *g, int i, const char **op, int *count, double *flops);

LENS_API const char *lens_graph_dtype_name(lens_graph_dtype t);

/* Runs the graph once at its planned shapes (open dims as 1). inputs[i]:
 * the float32 values of input i, in lens_graph_input order (an int32 input
 * takes them rounded). outputs[i]: set to a new buffer (free()) with output
 * i's values, float32 or int32 as lens_graph_output says. The first
 * executor: kernels for every op of the twelve models of
 * `lens model pull human-models`; any other op is LENS_EUNSUP naming the model,
 * node and op. One graph serves every thread: runs may overlap (the first
 * run that needs a convolution's filter packs it, once, under g's lock). */
LENS_API int lens_graph_run(lens_graph *g, const float *const *inputs, void **outputs, lens_error *err);

#ifdef __cplusplus
}
#endif
#endif
