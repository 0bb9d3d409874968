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

#define LENS_ST_MAX_DIMS 8

typedef enum { LENS_DT_F32, LENS_DT_F16, LENS_DT_BF16, LENS_DT_F64, LENS_DT_I64, LENS_DT_I32,
               LENS_DT_I16, LENS_DT_I8, LENS_DT_U8, LENS_DT_BOOL } lens_dtype;

typedef struct lens_st_tensor {
    char *name;
    lens_dtype dtype;
    int ndim;
    int64_t shape[LENS_ST_MAX_DIMS];
    int64_t numel;
    const unsigned char *data; /* into the mapping; may be unaligned */
    size_t nbytes;
} lens_st_tensor;

typedef struct lens_safetensors lens_safetensors;

int lens_st_open(lens_safetensors **out, const char *path, lens_error *err);
void lens_st_close(lens_safetensors *st);
/* NULL when absent. */
const lens_st_tensor *lens_st_find(const lens_safetensors *st, const char *name);
const char *lens_dtype_name(lens_dtype dt);

/* Copies tensor `name` into dst as fp32 after checking its shape is exactly
 * shape[0..ndim). Converts F16 and BF16. Errors name the file and tensor. */
int lens_st_read_f32(const lens_safetensors *st, const char *name, int ndim,
                     const int64_t *shape, float *dst, lens_error *err);

#endif
