/* .npy (format 1.0): 2-D float matrices (embeddings) and N-d tensors (io/npy.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <unistd.h>

#include "base/fs.h"
#include "io_internal.h"
#include "npy.h"
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

/* ---- N-d arrays (io/npy.h) ---- */

int lens__npy_write_nd(const char *path, const void *data, int is_int, int rank, const int64_t *dims,
                       lens_error *err)
{
    char dict[512], shape[300] = "";
    size_t n = 1, len = 0;
    for (int i = 0; i < rank; i++) {
        len += (size_t)snprintf(shape + len, sizeof shape - len, "%lld%s", (long long)dims[i],
                                rank == 1 ? "," : i + 1 < rank ? ", " : "");
        n *= (size_t)dims[i];
    }
    int dl = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': (%s), }",
                      is_int ? "<i4" : "<f4", shape);
    size_t total = 10 + (size_t)dl + 1, pad = (64 - total % 64) % 64; /* header padded to 64 bytes, '\n' last */
    char h[600];
    memcpy(h, "\x93NUMPY\x01\x00", 8);
    unsigned hl = (unsigned)(dl + pad + 1);
    h[8] = (char)(hl & 0xff);
    h[9] = (char)(hl >> 8);
    memcpy(h + 10, dict, (size_t)dl);
    memset(h + 10 + dl, ' ', pad);
    h[10 + dl + pad] = '\n';
    lens__afile *af;
    int rc = lens__afile_open(&af, path, err);
    if (rc) return rc;
    FILE *f = lens__afile_stream(af);
    if (fwrite(h, 1, 10 + hl, f) != 10 + hl || fwrite(data, 4, n, f) != n) {
        int e = errno;
        lens__afile_abort(af);
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    return lens__afile_commit(af, err);
}

int lens__npy_read_nd(const char *path, float **data, int *rank, int64_t *dims, lens_error *err)
{
    *data = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return lens_error_set(err, errno == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "%s: %s", path, strerror(errno));
    unsigned char pre[10];
    char hdr[4096];
    int rc = LENS_OK;
    size_t hl = 0;
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0 || pre[6] != 1 ||
        (hl = pre[8] | (size_t)pre[9] << 8) >= sizeof hdr || fread(hdr, 1, hl, f) != hl) {
        fclose(f);
        return lens_error_set(err, LENS_EFORMAT, "%s: not a version 1 .npy file", path);
    }
    hdr[hl] = '\0';
    static const struct { const char *descr; int width, kind; } types[] = {
        {"'<f4'", 4, 0}, {"'<f8'", 8, 1}, {"'<i4'", 4, 2}, {"'<i8'", 8, 3}, {"'|u1'", 1, 4}, {"'<u1'", 1, 4}};
    int t = -1;
    for (int i = 0; i < 6 && t < 0; i++)
        if (strstr(hdr, types[i].descr)) t = i;
    const char *sh = strstr(hdr, "'shape': (");
    if (t < 0 || strstr(hdr, "'fortran_order': True") || !sh) {
        fclose(f);
        return lens_error_set(err, LENS_EFORMAT, "%s: expected a C-order float32/float64/int32/int64/uint8 array", path);
    }
    sh += 10;
    size_t n = 1;
    *rank = 0;
    while (*sh && *sh != ')') {
        char *end;
        unsigned long long v = strtoull(sh, &end, 10);
        if (end == sh || *rank >= LENS__NPY_MAX_RANK || v > (1ull << 31) || (v && n > ((size_t)1 << 34) / v)) {
            fclose(f);
            return lens_error_set(err, LENS_EFORMAT, "%s: bad or too large shape", path);
        }
        dims[(*rank)++] = (int64_t)v;
        n *= (size_t)v;
        sh = end;
        while (*sh == ',' || *sh == ' ') sh++;
    }
    float *d = malloc((n ? n : 1) * sizeof *d);
    if (!d) {
        fclose(f);
        return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < n && !rc; i++) {
        unsigned char b[8];
        if (fread(b, (size_t)types[t].width, 1, f) != 1) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: truncated data", path);
            break;
        }
        switch (types[t].kind) {
        case 0: memcpy(&d[i], b, 4); break;
        case 1: { double v; memcpy(&v, b, 8); d[i] = (float)v; break; }
        case 2: { int32_t v; memcpy(&v, b, 4); d[i] = (float)v; break; }
        case 3: { int64_t v; memcpy(&v, b, 8); d[i] = (float)v; break; }
        default: d[i] = b[0];
        }
    }
    fclose(f);
    if (rc) {
        free(d);
        return rc;
    }
    *data = d;
    return LENS_OK;
}
