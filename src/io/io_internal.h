/* Opening inputs confined to a directory (internal): the public open
 * functions of lens/io.h and lens/parquet.h with a root, for the job
 * service's --data-root. root NULL: as the public ones. Every file is
 * opened by lens__open_beneath (base/fs.h): a symlink leading outside root
 * is refused when the file is opened. */
#ifndef LENS_IO_INTERNAL_H
#define LENS_IO_INTERNAL_H

#include "lens/io.h"
#include "lens/parquet.h"

int lens__table_open_in(lens_table **out, const char *root, const char *path, lens_error *err);
int lens__reader_open_in(lens_reader **out, const char *root, const char *path, const lens_reader_opts *opts,
                         lens_error *err);
int lens__npy_read_f32_in(const char *root, const char *path, float **data, size_t *rows, size_t *cols,
                          lens_error *err);
int lens__parquet_open_in(lens_parquet **out, const char *root, const char *path, lens_error *err);

#endif
