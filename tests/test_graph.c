/* The TF.js graph loader and plan on hand-written tiny models: every weight
 * dtype and quantization decoded to the exact values, attrs in each of their
 * JSON encodings, shapes inferred and shape subgraphs folded, FLOPs counted;
 * and malformed models, each one clear error line, never a crash.
 * usage: test_graph [CRASHERS_DIR] (every file there, fed to the fuzz
 * target's entry point, must give an error or a graph, never a crash) */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "graph/graph_internal.h"
#include "lens/graph.h"
#include "test.h"

/* the fuzz target's entry point, for the saved crashers */
#include "fuzz/fuzz_graph.c"

typedef struct {
    const unsigned char *data;
    size_t n;
} mem;

static int mem_shard(void *ctx, const char *path, unsigned char **data, size_t *n, lens_error *err)
{
    const mem *m = ctx;
    (void)path;
    *data = malloc(m->n ? m->n : 1);
    if (!*data) return lens_error_set(err, LENS_ENOMEM, "oom");
    memcpy(*data, m->data, m->n);
    *n = m->n;
    return LENS_OK;
}

/* Loads and plans json with shard bytes; returns the status, err filled. */
static int load(const char *json, const void *shard, size_t n, lens_graph **out, lens_error *err)
{
    lens_graph *g = calloc(1, sizeof *g);
    g->name = strdup("tiny");
    mem m = {shard, n};
    int rc = lens__graph_load(g, json, strlen(json), mem_shard, &m, err);
    if (!rc) rc = lens__graph_plan(g, err);
    if (rc || !out) lens__graph_free(g);
    else *out = g;
    return rc;
}

static const lens__gtensor *value(lens_graph *g, const char *node)
{
    int k = lens__graph_find(g, node);
    return k < 0 || !g->nodes[k].out_const ? NULL : g->nodes[k].out_const[0];
}

#define NHWC "\"data_format\":{\"s\":\"TkhXQw==\"}"
#define SAME "\"padding\":{\"s\":\"U0FNRQ==\"}"
#define F32 "{\"type\":\"DT_FLOAT\"}"
#define I32 "{\"type\":\"DT_INT32\"}"
#define CONST(name, dt, dims) \
    "{\"name\":\"" name "\",\"op\":\"Const\",\"attr\":{\"dtype\":{\"type\":\"" dt "\"},\"value\":{\"tensor\":{\"dtype\":\"" dt "\",\"tensorShape\":" dims "}}}}"

static void put16(unsigned char *p, unsigned v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }

static void test_weights_and_plan(void)
{
    /* shard: w f32[1,1,2,3] (24 B), b f16[3] (6 B), q8 u8->f32[4] (4 B), q16 u16->f32[2] (4 B),
     * i i32[2] (8 B), qi u8->i32[3] (3 B), flags bool[3] (3 B) */
    unsigned char s[64];
    size_t n = 0;
    float w[6] = {1, 2, 3, -1, 0.5f, 0.25f};
    memcpy(s, w, 24), n = 24;
    put16(s + n, 0x3c00), put16(s + n + 2, 0xc000), put16(s + n + 4, 0x0001), n += 6; /* 1, -2, 2^-24 */
    s[n++] = 0, s[n++] = 1, s[n++] = 2, s[n++] = 255;
    put16(s + n, 0), put16(s + n + 2, 65535), n += 4;
    int32_t iv[2] = {-7, 123456};
    memcpy(s + n, iv, 8), n += 8;
    s[n++] = 0, s[n++] = 1, s[n++] = 3;
    s[n++] = 1, s[n++] = 0, s[n++] = 7;
    const char *json =
        "{\"format\":\"graph-model\",\"modelTopology\":{\"node\":["
        "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":" F32 ",\"shape\":{\"shape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"4\"},{\"size\":\"4\"},{\"size\":\"2\"}]}}}},"
        CONST("w", "DT_FLOAT", "{\"dim\":[{\"size\":\"1\"},{\"size\":\"1\"},{\"size\":\"2\"},{\"size\":\"3\"}]}") ","
        CONST("b", "DT_FLOAT", "{\"dim\":[{\"size\":\"3\"}]}") ","
        CONST("q8", "DT_FLOAT", "{\"dim\":[{\"size\":\"4\"}]}") ","
        CONST("q16", "DT_FLOAT", "{\"dim\":[{\"size\":\"2\"}]}") ","
        CONST("i", "DT_INT32", "{\"dim\":[{\"size\":\"2\"}]}") ","
        CONST("qi", "DT_INT32", "{\"dim\":[{\"size\":\"3\"}]}") ","
        CONST("flags", "DT_BOOL", "{\"dim\":[{\"size\":\"3\"}]}") ","
        /* inline constants: tensorContent (int32 1, 3 and int64 [1]) and typed values */
        "{\"name\":\"begin\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"1\"}]},\"tensorContent\":\"AQAAAA==\"}},\"dtype\":" I32 "}},"
        "{\"name\":\"end\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"1\"}]},\"intVal\":[3]}},\"dtype\":" I32 "}},"
        "{\"name\":\"one\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT64\",\"tensorShape\":{\"dim\":[{\"size\":\"1\"}]},\"tensorContent\":\"AQAAAAAAAAA=\"}},\"dtype\":{\"type\":\"DT_INT64\"}}},"
        "{\"name\":\"m1\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{},\"intVal\":[-1]}},\"dtype\":" I32 "}},"
        "{\"name\":\"half\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_FLOAT\",\"tensorShape\":{},\"floatVal\":[0.5]}},\"dtype\":" F32 "}},"
        "{\"name\":\"conv\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\",\"b\",\"^i\"],\"attr\":{\"T\":" F32 "," NHWC "," SAME ","
        "\"strides\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},\"dilations\":{\"list\":{\"i\":[\"1\",\"1\",\"1\",\"1\"]}},"
        "\"explicit_paddings\":{\"list\":{}},\"num_args\":{\"i\":\"1\"},\"epsilon\":{\"f\":0},\"use_cudnn_on_gpu\":{\"b\":true},"
        "\"fused_ops\":{\"list\":{\"s\":[\"Qmlhc0FkZA==\",\"UmVsdQ==\"]}}}},"
        "{\"name\":\"shape\",\"op\":\"Shape\",\"input\":[\"conv\"],\"attr\":{\"T\":" F32 ",\"out_type\":" I32 "}},"
        "{\"name\":\"hw\",\"op\":\"StridedSlice\",\"input\":[\"shape\",\"begin\",\"end\",\"one\"],\"attr\":{\"Index\":" I32 ",\"T\":" I32 ","
        "\"begin_mask\":{\"i\":\"0\"},\"end_mask\":{\"i\":\"0\"},\"ellipsis_mask\":{\"i\":\"0\"},\"new_axis_mask\":{\"i\":\"0\"},\"shrink_axis_mask\":{\"i\":\"0\"}}},"
        "{\"name\":\"zero\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{},\"intVal\":[0]}},\"dtype\":" I32 "}},"
        "{\"name\":\"prod\",\"op\":\"Prod\",\"input\":[\"hw\",\"zero\"],\"attr\":{\"keep_dims\":{\"b\":false}}},"
        "{\"name\":\"n\",\"op\":\"Mul\",\"input\":[\"prod\",\"i\"],\"attr\":{\"T\":" I32 "}},"
        "{\"name\":\"dims\",\"op\":\"Pack\",\"input\":[\"m1\",\"prod\"],\"attr\":{\"N\":{\"i\":\"2\"},\"T\":" I32 ",\"axis\":{\"i\":\"0\"}}},"
        "{\"name\":\"flat\",\"op\":\"Reshape\",\"input\":[\"conv\",\"dims\"],\"attr\":{\"T\":" F32 "}},"
        "{\"name\":\"scaled\",\"op\":\"Mul\",\"input\":[\"flat\",\"half\"],\"attr\":{\"T\":" F32 "}},"
        "{\"name\":\"out\",\"op\":\"Identity\",\"input\":[\"scaled\"],\"attr\":{\"T\":" F32 "}},"
        "{\"name\":\"out2\",\"op\":\"Identity\",\"input\":[\"n\"]},"
        "{\"name\":\"unused\",\"op\":\"Relu\",\"input\":[\"q8\"]}"
        "]},\"weightsManifest\":[{\"paths\":[\"a.bin\"],\"weights\":["
        "{\"name\":\"w\",\"shape\":[1,1,2,3],\"dtype\":\"float32\"},"
        "{\"name\":\"b\",\"shape\":[3],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"float16\"}},"
        "{\"name\":\"q8\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"min\":-1,\"scale\":0.5}},"
        "{\"name\":\"q16\",\"shape\":[2],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint16\",\"min\":0.1,\"scale\":0.001}},"
        "{\"name\":\"i\",\"shape\":[2],\"dtype\":\"int32\"},"
        "{\"name\":\"qi\",\"shape\":[3],\"dtype\":\"int32\",\"quantization\":{\"dtype\":\"uint8\",\"min\":-2,\"scale\":1.5}},"
        "{\"name\":\"flags\",\"shape\":[3],\"dtype\":\"bool\"}]}],"
        "\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\",\"dtype\":\"DT_FLOAT\",\"tensorShape\":{\"dim\":[{\"size\":\"-1\"},{\"size\":\"4\"},{\"size\":\"4\"},{\"size\":\"2\"}]}}},"
        "\"outputs\":{\"out:0\":{\"name\":\"out:0\",\"dtype\":\"DT_FLOAT\"},\"out2:0\":{\"name\":\"out2:0\",\"dtype\":\"DT_INT32\"}}}}";
    lens_graph *g = NULL;
    lens_error err = {0};
    int rc = load(json, s, n, &g, &err);
    CHECK(rc == 0, "load: %s", err.msg);
    if (rc) return;
    const lens__gtensor *t;
    CHECK((t = value(g, "w")) && t->f[0] == 1 && t->f[5] == 0.25f, "float32 weight");
    CHECK((t = value(g, "b")) && t->f[0] == 1 && t->f[1] == -2 && t->f[2] == ldexpf(1, -24), "float16 weight (with a subnormal)");
    CHECK((t = value(g, "q8")) && t->f[0] == -1 && t->f[1] == -0.5f && t->f[2] == 0 && t->f[3] == 126.5f, "uint8 affine");
    CHECK((t = value(g, "q16")) && t->f[0] == 0.1f && t->f[1] == (float)(65535 * 0.001 + 0.1), "uint16 affine in double, then float");
    CHECK((t = value(g, "i")) && t->dtype == LENS_GRAPH_INT32 && t->i[0] == -7 && t->i[1] == 123456, "int32 weight");
    CHECK((t = value(g, "qi")) && t->i[0] == -2 && t->i[1] == 0 && t->i[2] == 3, "uint8-quantized int32, rounded half up as Math.round: %d %d %d",
          t ? t->i[0] : 0, t ? t->i[1] : 0, t ? t->i[2] : 0);
    CHECK((t = value(g, "flags")) && t->dtype == LENS_GRAPH_BOOL && t->i[0] == 1 && t->i[1] == 0 && t->i[2] == 1, "bool weight");
    CHECK((t = value(g, "one")) && t->i[0] == 1, "int64 tensorContent");
    /* the shape subgraph folded: Shape -> StridedSlice -> Prod -> Pack, and Mul of constants */
    CHECK((t = value(g, "hw")) && t->n == 2 && t->i[0] == 4 && t->i[1] == 4, "StridedSlice of Shape folded");
    CHECK((t = value(g, "dims")) && t->n == 2 && t->i[0] == -1 && t->i[1] == 16, "Pack folded");
    CHECK((t = value(g, "n")) && t->i[0] == -112 && t->i[1] == 1975296, "Mul of int32 constants folded");
    lens_graph_port p;
    CHECK(lens_graph_num_inputs(g) == 1 && lens_graph_input(g, 0, &p) == 0 && p.dims[0] == -1 && p.dims[3] == 2, "input as signed");
    CHECK(lens_graph_num_outputs(g) == 2 && lens_graph_output(g, 0, &p) == 0 && p.rank == 2 && p.dims[0] == 3 &&
              p.dims[1] == 16 && p.dtype == LENS_GRAPH_FLOAT32,
          "output shape inferred: rank %d [%lld, %lld]", p.rank, (long long)p.dims[0], (long long)p.dims[1]);
    lens_graph_stats st;
    lens_graph_get_stats(g, &st);
    CHECK(st.flops == 2.0 * 16 * 3 * 2, "flops %.0f", st.flops);
    CHECK(st.planned == 5 && st.folded == 6, "planned %d (x, conv, flat, scaled, out) folded %d (shape, hw, zero-axis prod, n, dims, out2)", st.planned, st.folded);
    CHECK(st.params == 6 + 3 + 1, "params %lld (w, b, half; q8 is not needed)", (long long)st.params);
    const char *op;
    int cnt;
    double fl;
    int found = 0;
    for (int i = 0; i < lens_graph_num_ops(g); i++)
        if (lens_graph_op(g, i, &op, &cnt, &fl) == 0 && !strcmp(op, "_FusedConv2D")) found = cnt == 1 && fl == 192;
    CHECK(found, "op histogram has the convolution and its flops");
    int k = lens__graph_find(g, "conv");
    CHECK(k >= 0 && g->nodes[k].n_ctrl == 1 && g->nodes[k].n_in == 3, "control input kept apart");
    lens__graph_free(g);
}

/* A model.json around the given nodes and manifest; errors must be one line
 * containing want. */
static void bad(const char *what, const char *json, const void *shard, size_t n, const char *want)
{
    lens_error err = {0};
    int rc = load(json, shard, n, NULL, &err);
    CHECK(rc != 0 && strstr(err.msg, want) && !strchr(err.msg, '\n'), "%s: rc %d, error [%s], want [%s]", what, rc, err.msg, want);
}

#define MODEL(nodes, manifest) "{\"modelTopology\":{\"node\":[" nodes "]},\"weightsManifest\":[" manifest "]}"
#define X4 "{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"dtype\":" F32 ",\"shape\":{\"shape\":{\"dim\":[{\"size\":\"1\"},{\"size\":\"4\"},{\"size\":\"4\"},{\"size\":\"2\"}]}}}}"
#define WF(name, dims) CONST(name, "DT_FLOAT", dims)
#define D1(a) "{\"dim\":[{\"size\":\"" #a "\"}]}"

static void test_malformed(void)
{
    float f[16] = {0};
    bad("not JSON", "{\"modelTopology\":", f, 0, "tiny: model.json: line 1");
    bad("no topology", "{\"format\":\"graph-model\"}", f, 0, "no modelTopology");
    bad("layers model", "{\"format\":\"layers-model\",\"modelTopology\":{}}", f, 0, "format 'layers-model' is not supported");
    bad("nodes not array", "{\"modelTopology\":{\"node\":{}}}", f, 0, "modelTopology.node is not an array");
    bad("no op", MODEL("{\"name\":\"a\"}", ""), f, 0, "node 'a': no op");
    bad("duplicate", MODEL(X4 "," X4, ""), f, 0, "node 'x': defined twice");
    bad("dangling input", MODEL(X4 ",{\"name\":\"r\",\"op\":\"Relu\",\"input\":[\"nope\"]}", ""), f, 0,
        "node 'r': input 'nope' names no node");
    bad("bad port", MODEL(X4 ",{\"name\":\"r\",\"op\":\"Relu\",\"input\":[\"x:3\"]}", ""), f, 0, "node 'x' has 1 output(s)");
    bad("unsupported op", MODEL(X4 ",{\"name\":\"r\",\"op\":\"FooBar\",\"input\":[\"x\"]}", ""), f, 0,
        "tiny: node 'r' (FooBar): op FooBar is not supported");
    bad("cycle", MODEL(X4 ",{\"name\":\"a\",\"op\":\"AddV2\",\"input\":[\"x\",\"b\"]},{\"name\":\"b\",\"op\":\"Relu\",\"input\":[\"a\"]},"
              "{\"name\":\"o\",\"op\":\"Identity\",\"input\":[\"b\"]}", ""),
        f, 0, "cycle");
    bad("shard too short", MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\"}]}"),
        f, 12, "weight 'w': needs 16 bytes, the shards have 12 left");
    bad("trailing bytes", MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\"}]}"),
        f, 20, "the shards hold 20 bytes, the weights 16");
    bad("bad dtype", MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float64\"}]}"),
        f, 32, "weight 'w': dtype 'float64' is not supported");
    bad("quantization without scale",
        MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"uint8\",\"min\":0}}]}"),
        f, 4, "weight 'w': uint8 quantization needs finite min and scale");
    bad("bad quantization dtype",
        MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\",\"quantization\":{\"dtype\":\"int4\"}}]}"),
        f, 4, "quantization dtype 'int4' is not supported");
    bad("negative dim", MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[-4],\"dtype\":\"float32\"}]}"),
        f, 16, "weight 'w': bad dim 0");
    bad("dtype differs from node", MODEL(X4 "," WF("w", D1(4)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"int32\"}]}"),
        f, 16, "weight 'w': dtype int32, but the node says float32");
    bad("count differs from node", MODEL(X4 "," WF("w", D1(5)), "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[4],\"dtype\":\"float32\"}]}"),
        f, 16, "weight 'w': 4 elements, but the node's shape has 5");
    bad("const without value", MODEL(X4 "," WF("w", D1(4)) ",{\"name\":\"r\",\"op\":\"AddV2\",\"input\":[\"x\",\"w\"]}", ""), f, 0,
        "node 'w' (Const): no value");
    bad("NCHW", MODEL(X4 "," WF("w", "{\"dim\":[{\"size\":\"1\"},{\"size\":\"1\"},{\"size\":\"2\"},{\"size\":\"1\"}]}")
        ",{\"name\":\"c\",\"op\":\"Conv2D\",\"input\":[\"x\",\"w\"],\"attr\":{\"data_format\":{\"s\":\"TkNIVw==\"}," SAME ",\"strides\":{\"list\":{\"i\":[1,1,1,1]}}}}",
        "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[1,1,2,1],\"dtype\":\"float32\"}]}"),
        f, 8, "node 'c' (Conv2D): attr data_format=NCHW is not supported");
    bad("channels", MODEL(X4 "," WF("w", "{\"dim\":[{\"size\":\"1\"},{\"size\":\"1\"},{\"size\":\"3\"},{\"size\":\"1\"}]}")
        ",{\"name\":\"c\",\"op\":\"Conv2D\",\"input\":[\"x\",\"w\"],\"attr\":{" NHWC "," SAME ",\"strides\":{\"list\":{\"i\":[1,1,1,1]}}}}",
        "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[1,1,3,1],\"dtype\":\"float32\"}]}"),
        f, 12, "filter has 3 input channels, the input 2");
    bad("fused op", MODEL(X4 "," WF("w", "{\"dim\":[{\"size\":\"1\"},{\"size\":\"1\"},{\"size\":\"2\"},{\"size\":\"1\"}]}")
        ",{\"name\":\"c\",\"op\":\"_FusedConv2D\",\"input\":[\"x\",\"w\"],\"attr\":{" NHWC "," SAME ",\"strides\":{\"list\":{\"i\":[1,1,1,1]}},\"num_args\":{\"i\":\"0\"},\"fused_ops\":{\"list\":{\"s\":[\"RnVzZWRCYXRjaE5vcm0=\"]}}}}",
        "{\"paths\":[\"a.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[1,1,2,1],\"dtype\":\"float32\"}]}"),
        f, 8, "attr fused_ops[0]=FusedBatchNorm is not supported");
    bad("reshape count", MODEL(X4 ",{\"name\":\"s\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"2\"}]},\"intVal\":[5,7]}}}}"
        ",{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"x\",\"s\"]}", ""), f, 0, "node 'r' (Reshape): 32 elements cannot take the new shape");
    bad("run-time shape", MODEL(X4 ",{\"name\":\"r\",\"op\":\"Reshape\",\"input\":[\"x\",\"x\"]}", ""), f, 0,
        "input 1 ('x') is computed at run time; lens needs it constant");
    bad("rank over 8", MODEL("{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"shape\":{\"shape\":{\"dim\":[{},{},{},{},{},{},{},{},{}]}}}}", ""), f, 0,
        "node 'x' (Placeholder): attr 'shape': rank over 8");
    bad("bad base64", MODEL("{\"name\":\"x\",\"op\":\"Placeholder\",\"attr\":{\"padding\":{\"s\":\"%%%\"}}}", ""), f, 0, "attr 'padding': attr s is not base64");
    bad("tensorContent size", MODEL("{\"name\":\"c\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"2\"}]},\"tensorContent\":\"AQAAAA==\"}}}}", ""),
        f, 0, "tensorContent size does not match");
    bad("signature names nothing", "{\"modelTopology\":{\"node\":[" X4 "]},\"signature\":{\"inputs\":{\"x:0\":{\"name\":\"x:0\"}},\"outputs\":{\"y:0\":{\"name\":\"y:0\"}}}}",
        f, 0, "input 'y:0' names no node");
    bad("no outputs", "{\"modelTopology\":{\"node\":[]}}", f, 0, "the graph has no outputs");
    bad("strided slice range", MODEL(X4 ",{\"name\":\"b\",\"op\":\"Const\",\"attr\":{\"value\":{\"tensor\":{\"dtype\":\"DT_INT32\",\"tensorShape\":{\"dim\":[{\"size\":\"1\"}]},\"intVal\":[9]}}}}"
        ",{\"name\":\"s\",\"op\":\"StridedSlice\",\"input\":[\"x\",\"b\",\"b\",\"b\"],\"attr\":{\"shrink_axis_mask\":{\"i\":\"1\"}}}", ""), f, 0,
        "index 9 out of range for dim 1");
}

/* The files path: lens_graph_open on a directory, shards confined to it. */
static void test_files(void)
{
    char dir[] = "/tmp/test_graph_XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    char path[512];
    lens_graph *g = NULL;
    lens_error err = {0};
    CHECK(lens_graph_open(&g, dir, &err) == LENS_ENOTFOUND && strstr(err.msg, "model.json"), "no model.json: %s", err.msg);
    const char *json = MODEL(X4 "," WF("w", D1(2)) ",{\"name\":\"y\",\"op\":\"Mul\",\"input\":[\"x\",\"w\"]}",
                             "{\"paths\":[\"../escape.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float32\"}]}");
    snprintf(path, sizeof path, "%s/model.json", dir);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    err = (lens_error){0};
    int rc = lens_graph_open(&g, dir, &err);
    CHECK(rc != 0 && strstr(err.msg, "weight shard") && strstr(err.msg, "outside"), "shard outside the model dir: %s", err.msg);
    json = MODEL(X4 "," WF("w", D1(2)) ",{\"name\":\"y\",\"op\":\"Mul\",\"input\":[\"x\",\"w\"]}",
                 "{\"paths\":[\"w.bin\"],\"weights\":[{\"name\":\"w\",\"shape\":[2],\"dtype\":\"float32\"}]}");
    f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    err = (lens_error){0};
    rc = lens_graph_open(&g, dir, &err);
    CHECK(rc == LENS_ENOTFOUND && strstr(err.msg, "w.bin"), "missing shard: %s", err.msg);
    snprintf(path, sizeof path, "%s/w.bin", dir);
    f = fopen(path, "wb");
    float w[2] = {2, 3};
    fwrite(w, 4, 2, f);
    fclose(f);
    err = (lens_error){0};
    rc = lens_graph_open(&g, dir, &err);
    CHECK(rc == 0, "open: %s", err.msg);
    lens_graph_port p;
    if (!rc) {
        CHECK(lens_graph_output(g, 0, &p) == 0 && !strcmp(p.name, "y:0") && p.rank == 4 && p.dims[3] == 2,
              "no signature: the unread node is the output");
        lens_graph_close(g);
    }
    unlink(path);
    snprintf(path, sizeof path, "%s/model.json", dir);
    unlink(path);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    test_weights_and_plan();
    test_malformed();
    test_files();
    if (argc > 1) {
        DIR *d = opendir(argv[1]);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.') continue;
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
            FILE *f = fopen(path, "rb");
            if (!f) continue;
            unsigned char *buf = malloc(1 << 20);
            size_t n = fread(buf, 1, 1 << 20, f);
            fclose(f);
            if (!strncmp(e->d_name, "graph-", 6)) LLVMFuzzerTestOneInput(buf, n); /* load, plan, run */
            free(buf);
        }
        if (d) closedir(d);
    }
    TEST_DONE();
}
