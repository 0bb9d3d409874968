#include "stream.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>
#include <zstd.h>

#include "base/fs.h"

#define CHUNK (1 << 16)

struct lens__stream {
    struct lens__stream_buf buf; /* first: lens__stream_getc reads it */
    FILE *f;
    ZSTD_DCtx *z;
    unsigned char *in, *out;
    ZSTD_inBuffer zin;
    uint64_t consumed, size;
    int eof, zframe_open;
    char error[256];
};

static int ends_with(const char *s, const char *x)
{
    size_t n = strlen(s), m = strlen(x);
    return n >= m && strcmp(s + n - m, x) == 0;
}

int lens__stream_open(lens__stream **out, const char *path, lens_error *err)
{
    return lens__stream_open_in(out, NULL, path, err);
}

int lens__stream_open_in(lens__stream **out, const char *root, const char *path, lens_error *err)
{
    *out = NULL;
    lens__stream *s = calloc(1, sizeof *s);
    if (!s) return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    int fd = lens__open_beneath(root, path, O_RDONLY, err);
    if (fd < 0) {
        free(s);
        return fd;
    }
    if (!(s->f = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        free(s);
        return lens_error_set(err, LENS_EIO, "%s: %s", path, strerror(e));
    }
    struct stat st;
    if (fstat(fileno(s->f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            fclose(s->f);
            free(s);
            return lens_error_set(err, LENS_EINVAL, "%s: is a directory", path);
        }
        s->size = (uint64_t)st.st_size;
    }
    s->in = malloc(CHUNK);
    s->out = malloc(CHUNK);
    if (ends_with(path, ".zst")) s->z = ZSTD_createDCtx();
    if (!s->in || !s->out || (ends_with(path, ".zst") && !s->z)) {
        lens__stream_close(s);
        return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    }
    *out = s;
    return LENS_OK;
}

void lens__stream_close(lens__stream *s)
{
    if (!s) return;
    if (s->f) fclose(s->f);
    ZSTD_freeDCtx(s->z);
    free(s->in);
    free(s->out);
    free(s);
}

const char *lens__stream_error(const lens__stream *s) { return s->error; }
int lens__stream_error_code(const lens__stream *s) { return strncmp(s->error, "zstd:", 5) ? LENS_EIO : LENS_EFORMAT; }
/* Plain files: the exact position of the next byte, so progress moves
 * smoothly; zstd: compressed bytes read so far (the input position of the
 * decompressed bytes is not known finer than that). */
uint64_t lens__stream_offset(const lens__stream *s)
{
    if (!s->z) return s->consumed - (uint64_t)(s->buf.end - s->buf.p);
    return s->consumed - (uint64_t)(s->zin.size - s->zin.pos);
}
uint64_t lens__stream_size(const lens__stream *s) { return s->size; }

static size_t read_raw(lens__stream *s)
{
    size_t n = fread(s->in, 1, CHUNK, s->f);
    s->consumed += n;
    if (n == 0 && ferror(s->f)) snprintf(s->error, sizeof s->error, "read error: %s", strerror(errno));
    return n;
}

int lens__stream_getc_slow(lens__stream *s)
{
    if (s->error[0]) return -2;
    if (!s->z) {
        if (s->eof) return -1;
        size_t n = read_raw(s);
        if (n == 0) {
            s->eof = 1;
            return s->error[0] ? -2 : -1;
        }
        s->buf.p = s->in;
        s->buf.end = s->in + n;
        return *s->buf.p++;
    }
    for (;;) {
        if (s->zin.pos == s->zin.size && !s->eof) {
            size_t n = read_raw(s);
            if (s->error[0]) return -2;
            if (n == 0) s->eof = 1;
            s->zin = (ZSTD_inBuffer){s->in, n, 0};
        }
        if (s->eof && s->zin.pos == s->zin.size && !s->zframe_open) return -1;
        ZSTD_outBuffer zout = {s->out, CHUNK, 0};
        size_t r = ZSTD_decompressStream(s->z, &zout, &s->zin);
        if (ZSTD_isError(r)) {
            snprintf(s->error, sizeof s->error, "zstd: %s", ZSTD_getErrorName(r));
            return -2;
        }
        s->zframe_open = r != 0;
        if (zout.pos) {
            s->buf.p = s->out;
            s->buf.end = s->out + zout.pos;
            return *s->buf.p++;
        }
        if (s->eof && s->zin.pos == s->zin.size) {
            if (s->zframe_open) {
                snprintf(s->error, sizeof s->error, "zstd: truncated input");
                return -2;
            }
            return -1;
        }
    }
}
