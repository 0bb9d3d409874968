/* N-dimensional .npy (format 1.0, C order) for tensors (internal): the
 * graph runtime's inputs and outputs. */
#ifndef LENS_IO_NPY_H
#define LENS_IO_NPY_H

#include <stdint.h>

#include "lens/error.h"

#define LENS__NPY_MAX_RANK 8

/* Reads float32, float64, int32, int64 or uint8 data into new float32 values;
 * rank 0..8, dims into dims[]. */
int lens__npy_read_nd(const char *path, float **data, int *rank, int64_t *dims, lens_error *err);
/* Writes float32 (is_int 0) or int32 (1) data whole or not at all (lens__afile). */
int lens__npy_write_nd(const char *path, const void *data, int is_int, int rank, const int64_t *dims,
                       lens_error *err);

#endif
