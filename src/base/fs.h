/* Small filesystem helpers (internal). */
#ifndef LENS_BASE_FS_H
#define LENS_BASE_FS_H

#include "lens/error.h"

/* mkdir -p */
int lens_mkdirs(const char *path, lens_error *err);
/* rm -rf; missing paths are fine */
int lens_rmtree(const char *path, lens_error *err);
int lens_is_dir(const char *path);
int lens_is_file(const char *path);

#endif
