/* gzip'd tar archives: zlib for the gzip layer, a small tar reader on top.
 * Input that does not start with gzip's magic byte is read as a plain tar. */
#include "tgz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define BLOCK 512

struct lens__tgz {
    char name[1024];
    FILE *f;                /* file input, or */
    const unsigned char *mem; /* memory input */
    size_t mem_n, mem_pos;
    z_stream z;
    int z_ready, z_end;     /* inflate initialised; the last member ended */
    int plain;              /* not gzip'd: a plain tar, copied through */
    unsigned char in[1 << 16];
    uint64_t left;          /* data bytes of the current entry not yet read */
    uint64_t pad;           /* padding after them up to the next block */
    uint64_t off;           /* uncompressed offset, for messages */
};

static int fail(lens__tgz *t, int code, const char *what, lens_error *err)
{
    return lens_error_set(err, code, "%s: %s (at byte %llu of the tar)", t->name, what,
                          (unsigned long long)t->off);
}

static int refill(lens__tgz *t, lens_error *err)
{
    if (t->f) {
        size_t n = fread(t->in, 1, sizeof t->in, t->f);
        if (n == 0 && ferror(t->f))
            return lens_error_set(err, LENS_EIO, "%s: read failed: %s", t->name, strerror(errno));
        t->z.next_in = t->in;
        t->z.avail_in = (uInt)n;
    } else {
        size_t n = t->mem_n - t->mem_pos;
        if (n > (1u << 30)) n = 1u << 30;
        t->z.next_in = (unsigned char *)t->mem + t->mem_pos;
        t->z.avail_in = (uInt)n;
        t->mem_pos += n;
    }
    return LENS_OK;
}

/* Inflates exactly n bytes into buf (buf NULL: discards them); *got < n
 * only at the end of the compressed stream. */
static int inflate_n(lens__tgz *t, unsigned char *buf, size_t n, size_t *got, lens_error *err)
{
    unsigned char sink[4096];
    size_t done = 0;
    while (t->plain && done < n) {
        if (t->z.avail_in == 0) {
            int rc = refill(t, err);
            if (rc) return rc;
            if (t->z.avail_in == 0) break;
        }
        size_t k = n - done < t->z.avail_in ? n - done : t->z.avail_in;
        if (buf) memcpy(buf + done, t->z.next_in, k);
        t->z.next_in += k;
        t->z.avail_in -= (uInt)k;
        done += k;
    }
    while (done < n && !t->z_end && !t->plain) {
        if (t->z.avail_in == 0) {
            int rc = refill(t, err);
            if (rc) return rc;
            if (t->z.avail_in == 0) return fail(t, LENS_EFORMAT, "truncated gzip stream", err);
        }
        size_t want = n - done;
        if (!buf && want > sizeof sink) want = sizeof sink;
        if (want > (1u << 30)) want = 1u << 30;
        t->z.next_out = buf ? buf + done : sink;
        t->z.avail_out = (uInt)want;
        int zr = inflate(&t->z, Z_NO_FLUSH);
        done += want - t->z.avail_out;
        if (zr == Z_STREAM_END) {
            /* another gzip member may follow (gzip allows concatenation) */
            if (t->z.avail_in == 0) {
                int rc = refill(t, err);
                if (rc) return rc;
            }
            if (t->z.avail_in == 0) t->z_end = 1;
            else if (inflateReset(&t->z) != Z_OK) return fail(t, LENS_EFORMAT, "bad gzip member", err);
        } else if (zr != Z_OK && zr != Z_BUF_ERROR) {
            char what[160];
            snprintf(what, sizeof what, "not a valid gzip stream (%s)", t->z.msg ? t->z.msg : zError(zr));
            return fail(t, LENS_EFORMAT, what, err);
        } else if (zr == Z_BUF_ERROR && t->z.avail_in != 0 && t->z.avail_out != 0) {
            return fail(t, LENS_EFORMAT, "gzip stream makes no progress", err);
        }
    }
    t->off += done;
    *got = done;
    return LENS_OK;
}

static int open_common(lens__tgz *t, lens_error *err)
{
    /* gzip's magic, else a plain tar (tests and fuzzing reach the tar reader directly) */
    int rc = refill(t, err);
    if (rc) return rc;
    if (t->z.avail_in >= 1 && t->z.next_in[0] != 0x1f) {
        t->plain = 1;
        return LENS_OK;
    }
    if (inflateInit2(&t->z, 16 + MAX_WBITS) != Z_OK) /* 16: gzip wrapper */
        return lens_error_set(err, LENS_ENOMEM, "%s: cannot initialise zlib", t->name);
    t->z_ready = 1;
    return LENS_OK;
}

int lens__tgz_open_file(lens__tgz **out, const char *path, lens_error *err)
{
    *out = NULL;
    lens__tgz *t = calloc(1, sizeof *t);
    if (!t) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    snprintf(t->name, sizeof t->name, "%s", path);
    if (!(t->f = fopen(path, "rb"))) {
        int e = errno;
        free(t);
        return lens_error_set(err, e == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "cannot open %s: %s", path,
                              strerror(e));
    }
    int rc = open_common(t, err);
    if (rc) {
        lens__tgz_close(t);
        return rc;
    }
    *out = t;
    return LENS_OK;
}

int lens__tgz_open_memory(lens__tgz **out, const char *name, const void *data, size_t n, lens_error *err)
{
    *out = NULL;
    lens__tgz *t = calloc(1, sizeof *t);
    if (!t) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    snprintf(t->name, sizeof t->name, "%s", name);
    t->mem = data;
    t->mem_n = n;
    int rc = open_common(t, err);
    if (rc) {
        lens__tgz_close(t);
        return rc;
    }
    *out = t;
    return LENS_OK;
}

void lens__tgz_close(lens__tgz *t)
{
    if (!t) return;
    if (t->z_ready) inflateEnd(&t->z);
    if (t->f) fclose(t->f);
    free(t);
}

/* An octal field (NUL or space terminated), or GNU base-256 for large sizes. */
static int parse_num(const unsigned char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (p[0] & 0x80) { /* base-256: big-endian, the top bit a flag */
        if (p[0] != 0x80) return -1; /* negative or beyond 64 bits */
        for (size_t i = 1; i < n; i++) {
            if (v >> 56) return -1;
            v = v << 8 | p[i];
        }
        *out = v;
        return 0;
    }
    size_t i = 0;
    while (i < n && p[i] == ' ') i++;
    size_t digits = 0;
    for (; i < n && p[i] >= '0' && p[i] <= '7'; i++, digits++) {
        if (v >> 60) return -1;
        v = v << 3 | (uint64_t)(p[i] - '0');
    }
    for (; i < n; i++)
        if (p[i] != ' ' && p[i] != '\0') return -1;
    *out = v;
    return 0;
}

static int skip_data(lens__tgz *t, lens_error *err)
{
    uint64_t n = t->left + t->pad;
    while (n) {
        size_t step = n > (1u << 20) ? (1u << 20) : (size_t)n, got;
        int rc = inflate_n(t, NULL, step, &got, err);
        if (rc) return rc;
        if (got < step) return fail(t, LENS_EFORMAT, "truncated entry data", err);
        n -= got;
    }
    t->left = t->pad = 0;
    return LENS_OK;
}

/* Reads a whole small entry (pax header, GNU long name) into a NUL-terminated buffer. */
static int read_meta(lens__tgz *t, uint64_t size, char **out, lens_error *err)
{
    if (size > (1u << 20)) return fail(t, LENS_EFORMAT, "extended header over 1 MiB", err);
    char *b = malloc((size_t)size + 1);
    if (!b) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    size_t got;
    int rc = inflate_n(t, (unsigned char *)b, (size_t)size, &got, err);
    if (!rc && got < size) rc = fail(t, LENS_EFORMAT, "truncated extended header", err);
    uint64_t pad = (BLOCK - size % BLOCK) % BLOCK;
    if (!rc) {
        t->left = 0;
        t->pad = pad;
        rc = skip_data(t, err);
    }
    if (rc) {
        free(b);
        return rc;
    }
    b[size] = '\0';
    *out = b;
    return LENS_OK;
}

/* pax records "LEN key=value\n": takes path and size. */
static int parse_pax(lens__tgz *t, const char *b, size_t n, char *path, size_t cap, uint64_t *size,
                     int *has_size, lens_error *err)
{
    size_t i = 0;
    while (i < n) {
        size_t len = 0, j = i;
        while (j < n && b[j] >= '0' && b[j] <= '9' && len < (1u << 20)) len = len * 10 + (size_t)(b[j++] - '0');
        if (j == i || j >= n || b[j] != ' ' || len < 5 || len > n - i || b[i + len - 1] != '\n')
            return fail(t, LENS_EFORMAT, "malformed pax record", err);
        const char *kv = b + j + 1, *end = b + i + len - 1, *eq = memchr(kv, '=', (size_t)(end - kv));
        if (!eq) return fail(t, LENS_EFORMAT, "pax record without '='", err);
        size_t klen = (size_t)(eq - kv), vlen = (size_t)(end - eq - 1);
        if (klen == 4 && !memcmp(kv, "path", 4)) {
            if (vlen >= cap || memchr(eq + 1, '\0', vlen)) return fail(t, LENS_EFORMAT, "bad pax path", err);
            memcpy(path, eq + 1, vlen);
            path[vlen] = '\0';
        } else if (klen == 4 && !memcmp(kv, "size", 4)) {
            uint64_t v = 0;
            if (vlen == 0 || vlen > 19) return fail(t, LENS_EFORMAT, "bad pax size", err);
            for (size_t k = 0; k < vlen; k++) {
                char c = eq[1 + k];
                if (c < '0' || c > '9') return fail(t, LENS_EFORMAT, "bad pax size", err);
                v = v * 10 + (uint64_t)(c - '0');
            }
            *size = v;
            *has_size = 1;
        }
        i += len;
    }
    return LENS_OK;
}

int lens__tgz_next(lens__tgz *t, lens__tgz_entry *e, lens_error *err)
{
    int rc = skip_data(t, err);
    if (rc) return rc;
    char long_name[4096] = "";
    uint64_t pax_size = 0;
    int has_pax_size = 0;
    for (;;) {
        unsigned char h[BLOCK];
        size_t got;
        if ((rc = inflate_n(t, h, BLOCK, &got, err))) return rc;
        if (got == 0) return 0; /* archives that end without the two zero blocks */
        if (got < BLOCK) return fail(t, LENS_EFORMAT, "truncated tar header", err);
        int zero = 1;
        for (int i = 0; i < BLOCK && zero; i++) zero = h[i] == 0;
        if (zero) return 0;
        uint64_t sum_stored, size;
        if (parse_num(h + 148, 8, &sum_stored)) return fail(t, LENS_EFORMAT, "bad header checksum field", err);
        uint64_t sum = 0;
        for (int i = 0; i < BLOCK; i++) sum += (i >= 148 && i < 156) ? ' ' : h[i];
        if (sum != sum_stored) return fail(t, LENS_EFORMAT, "header checksum mismatch (not a tar archive?)", err);
        if (parse_num(h + 124, 12, &size)) return fail(t, LENS_EFORMAT, "bad size field", err);
        char type = h[156] ? (char)h[156] : '0';
        if (type == 'x' || type == 'g' || type == 'L') {
            char *b = NULL;
            if ((rc = read_meta(t, size, &b, err))) return rc;
            if (type == 'x') rc = parse_pax(t, b, (size_t)size, long_name, sizeof long_name, &pax_size,
                                            &has_pax_size, err);
            else if (type == 'L') {
                size_t n = strnlen(b, (size_t)size);
                if (n >= sizeof long_name) rc = fail(t, LENS_EFORMAT, "GNU long name too long", err);
                else memcpy(long_name, b, n + 1);
            }
            free(b);
            if (rc) return rc;
            continue; /* 'g' (global) records are read and ignored */
        }
        if (has_pax_size) size = pax_size;
        if (long_name[0]) {
            snprintf(e->name, sizeof e->name, "%s", long_name);
        } else {
            char name[101], prefix[156];
            memcpy(name, h, 100);
            name[100] = '\0';
            memcpy(prefix, h + 345, 155);
            prefix[155] = '\0';
            int ustar = !memcmp(h + 257, "ustar", 5);
            if (ustar && prefix[0]) snprintf(e->name, sizeof e->name, "%s/%s", prefix, name);
            else snprintf(e->name, sizeof e->name, "%s", name);
        }
        e->type = type;
        /* only regular files carry data that the caller reads; the rest is skipped */
        e->size = (type == '0' || type == '7') ? size : 0;
        if (type == '2' || type == '1' || type == '5' || type == '3' || type == '4' || type == '6') size = 0;
        t->left = size;
        t->pad = (BLOCK - size % BLOCK) % BLOCK;
        if (type != '0' && type != '7') {
            if ((rc = skip_data(t, err))) return rc;
        }
        if (type == '7') e->type = '0'; /* contiguous file: a regular file */
        return 1;
    }
}

int lens__tgz_read(lens__tgz *t, void *buf, size_t cap, size_t *got, lens_error *err)
{
    *got = 0;
    if (t->left == 0) return LENS_OK;
    size_t want = cap < t->left ? cap : (size_t)t->left;
    size_t n;
    int rc = inflate_n(t, buf, want, &n, err);
    if (rc) return rc;
    if (n < want) return fail(t, LENS_EFORMAT, "truncated entry data", err);
    t->left -= n;
    *got = n;
    return LENS_OK;
}
