/* A JSON document written whole or not at all (internal). */
#ifndef LENS_IO_JSONFILE_H
#define LENS_IO_JSONFILE_H

#include <jansson.h>

#include "lens/error.h"

/* j to path through lens__afile (a temporary renamed into place), with
 * jansson's dump flags and a final newline; the error names path. */
int lens__json_save(const char *path, const json_t *j, size_t flags, lens_error *err);

#endif
