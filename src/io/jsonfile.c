/* A JSON document written whole or not at all. */
#include <errno.h>
#include <string.h>

#include "base/fs.h"
#include "io/jsonfile.h"

int lens__json_save(const char *path, const json_t *j, size_t flags, lens_error *err)
{
    lens__afile *a;
    if (lens__afile_open(&a, path, err)) return err->code;
    FILE *f = lens__afile_stream(a);
    if (json_dumpf(j, f, flags) != 0 || fputc('\n', f) == EOF) {
        int e = errno;
        lens__afile_abort(a);
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, e ? strerror(e) : "out of memory");
    }
    return lens__afile_commit(a, err);
}
