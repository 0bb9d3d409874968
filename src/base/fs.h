/* Small filesystem helpers (internal), and files that appear whole or not
 * at all. */
#ifndef LENS_BASE_FS_H
#define LENS_BASE_FS_H

#include <stdio.h>

#include "lens/error.h"

/* mkdir -p */
int lens_mkdirs(const char *path, lens_error *err);
/* rm -rf; missing paths are fine */
int lens_rmtree(const char *path, lens_error *err);
int lens_is_dir(const char *path);
int lens_is_file(const char *path);

/* An output file written to a temporary name beside it and renamed over
 * path only when complete, so readers never see half of one. Errors name
 * the temporary. */
typedef struct lens_afile {
    FILE *f; /* write here */
    char path[4300], tmp[4400];
} lens_afile;
/* Opens path.tmp for writing (path.tmp-PID when unique: for paths that
 * several processes may write at once). */
int lens_afile_open(lens_afile *a, const char *path, int unique, lens_error *err);
/* Closes the temporary and renames it over path; on error removes it. */
int lens_afile_commit(lens_afile *a, lens_error *err);
/* Closes and removes the temporary: the writer gave up. */
void lens_afile_abort(lens_afile *a);

#endif
