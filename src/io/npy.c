/* .npy (format 1.0) writing and reading of 2-D float matrices. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"
#include "io_internal.h"
#include "lens/io.h"

#define HEADER_BYTES 128 /* magic + version + len + dict, padded; room for any n */

struct lens_npy_writer {
    lens__afile *af;
    FILE *f;
    char *path;
    int dim;
    size_t rows;
};

static void header(char *h, size_t rows, int dim)
{
    memset(h, ' ', HEADER_BYTES);
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    unsigned hl = HEADER_BYTES - 10;
    h[8] = (char)(hl & 0xff);
    h[9] = (char)(hl >> 8);
    int n = snprintf(h + 10, HEADER_BYTES - 10, "{'descr': '<f4', 'fortran_order': False, 'shape': (%zu, %d), }",
                     rows, dim);
    h[10 + n] = ' ';
    h[HEADER_BYTES - 1] = '\n';
}

int lens_npy_create(lens_npy_writer **out, const char *path, int dim, lens_error *err)
{
    *out = NULL;
    lens_npy_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    w->dim = dim;
    int rc = lens__afile_open(&w->af, path, err);
    if (rc) {
        lens_npy_abort(w);
        return rc;
    }
    w->f = lens__afile_stream(w->af);
    char h[HEADER_BYTES];
    header(h, 0, dim);
    if (fwrite(h, 1, sizeof h, w->f) != sizeof h) {
        int e = errno;
        lens_npy_abort(w);
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    *out = w;
    return LENS_OK;
}

int lens_npy_append(lens_npy_writer *w, const float *rows, size_t n, lens_error *err)
{
    size_t count = n * (size_t)w->dim;
    if (fwrite(rows, sizeof(float), count, w->f) != count)
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", w->path, strerror(errno));
    w->rows += n;
    return LENS_OK;
}

int lens_npy_finish(lens_npy_writer *w, lens_error *err)
{
    char h[HEADER_BYTES];
    header(h, w->rows, w->dim);
    int rc = LENS_OK;
    if (fseek(w->f, 0, SEEK_SET) != 0 || fwrite(h, 1, sizeof h, w->f) != sizeof h) {
        rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", w->path, strerror(errno));
        lens__afile_abort(w->af);
    } else {
        rc = lens__afile_commit(w->af, err);
    }
    free(w->path);
    free(w);
    return rc;
}

void lens_npy_abort(lens_npy_writer *w)
{
    if (!w) return;
    lens__afile_abort(w->af);
    free(w->path);
    free(w);
}

int lens_npy_read_f32(const char *path, float **data, size_t *rows, size_t *cols, lens_error *err)
{
    return lens__npy_read_f32_in(NULL, path, data, rows, cols, err);
}

int lens__npy_read_f32_in(const char *root, const char *path, float **data, size_t *rows, size_t *cols,
                          lens_error *err)
{
    *data = NULL;
    int fd = lens__open_beneath(root, path, O_RDONLY, err);
    if (fd < 0) return fd;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        close(fd);
        return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(errno));
    }
    unsigned char pre[10];
    char hdr[4096];
    int rc = LENS_OK;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: not a version 1 .npy file", path);
        goto out;
    }
    size_t hl = pre[8] | (size_t)pre[9] << 8;
    if (hl >= sizeof hdr || fread(hdr, 1, hl, f) != hl) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: bad .npy header", path);
        goto out;
    }
    hdr[hl] = '\0';
    int f64 = strstr(hdr, "'<f8'") != NULL;
    unsigned long long r = 0, c = 0;
    const char *sh = strstr(hdr, "'shape': (");
    if ((!f64 && !strstr(hdr, "'<f4'")) || strstr(hdr, "'fortran_order': True") || !sh ||
        sscanf(sh, "'shape': (%llu, %llu)", &r, &c) != 2 || r > (1ull << 32) || c > (1ull << 20)) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: expected a C-order 2-D float32/float64 array", path);
        goto out;
    }
    size_t n = (size_t)(r * c);
    float *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) {
        rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    if (f64) {
        for (size_t i = 0; i < n; i++) {
            double v;
            if (fread(&v, 8, 1, f) != 1) { rc = LENS_EFORMAT; break; }
            d[i] = (float)v;
        }
    } else if (fread(d, 4, n, f) != n) {
        rc = LENS_EFORMAT;
    }
    if (rc) {
        free(d);
        rc = lens_error_set(err, LENS_EFORMAT, "%s: truncated data", path);
        goto out;
    }
    *data = d;
    *rows = (size_t)r;
    *cols = (size_t)c;
out:
    fclose(f);
    return rc;
}
