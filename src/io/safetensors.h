/* safetensors reader: strict validation, memory-mapped data.
 *
 * Format: u64 little-endian header length N, N bytes of JSON
 * {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {}},
 * then the data buffer. Every tensor's byte range must equal its shape times
 * its dtype size, and the ranges must tile the data buffer exactly. */
#ifndef LENS_IO_SAFETENSORS_H
#define LENS_IO_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

#define LENS__ST_MAX_DIMS 8

typedef enum { LENS__DT_F32, LENS__DT_F16, LENS__DT_BF16, LENS__DT_F64, LENS__DT_I64, LENS__DT_I32,
               LENS__DT_I16, LENS__DT_I8, LENS__DT_U8, LENS__DT_BOOL } lens__dtype;

typedef struct lens__st_tensor {
    char *name;
    lens__dtype dtype;
    int ndim;
    int64_t shape[LENS__ST_MAX_DIMS];
    int64_t numel;
    const unsigned char *data; /* into the mapping; may be unaligned */
    size_t nbytes;
} lens__st_tensor;

typedef struct lens__safetensors lens__safetensors;

int lens__st_open(lens__safetensors **out, const char *path, lens_error *err);
void lens__st_close(lens__safetensors *st);
/* NULL when absent. */
const lens__st_tensor *lens__st_find(const lens__safetensors *st, const char *name);
const char *lens__dtype_name(lens__dtype dt);

/* Copies tensor `name` into dst as fp32 after checking its shape is exactly
 * shape[0..ndim). Converts F16 and BF16. Errors name the file and tensor. */
int lens__st_read_f32(const lens__safetensors *st, const char *name, int ndim,
                     const int64_t *shape, float *dst, lens_error *err);

#endif
