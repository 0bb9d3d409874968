#include "safetensors.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* The reference implementation caps headers at 100 MB. */
#define MAX_HEADER (100u << 20)

struct lens__safetensors {
    char *path;
    unsigned char *map;
    size_t size;
    lens__st_tensor *tensors;
    size_t n;
};

static const struct {
    const char *name;
    lens__dtype dt;
    size_t size;
} dtypes[] = {
    {"F32", LENS__DT_F32, 4}, {"F16", LENS__DT_F16, 2}, {"BF16", LENS__DT_BF16, 2},
    {"F64", LENS__DT_F64, 8}, {"I64", LENS__DT_I64, 8}, {"I32", LENS__DT_I32, 4},
    {"I16", LENS__DT_I16, 2}, {"I8", LENS__DT_I8, 1},   {"U8", LENS__DT_U8, 1},
    {"BOOL", LENS__DT_BOOL, 1},
};

const char *lens__dtype_name(lens__dtype dt)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (dtypes[i].dt == dt) return dtypes[i].name;
    return "?";
}

static size_t dtype_size(lens__dtype dt)
{
    for (size_t i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (dtypes[i].dt == dt) return dtypes[i].size;
    return 0;
}

void lens__st_close(lens__safetensors *st)
{
    if (!st) return;
    for (size_t i = 0; i < st->n; i++) free(st->tensors[i].name);
    free(st->tensors);
    if (st->map && st->map != MAP_FAILED) munmap(st->map, st->size);
    free(st->path);
    free(st);
}

static int by_offset(const void *a, const void *b)
{
    const lens__st_tensor *x = a, *y = b;
    return x->data < y->data ? -1 : x->data > y->data;
}

static int parse_tensor(lens__safetensors *st, const char *name, json_t *info,
                        const unsigned char *data, size_t data_size, lens__st_tensor *t,
                        lens_error *err)
{
    const char *path = st->path;
    if (!json_is_object(info))
        return lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s': entry is not an object", path, name);
    json_t *dt = json_object_get(info, "dtype"), *shape = json_object_get(info, "shape"),
           *offs = json_object_get(info, "data_offsets");
    if (!json_is_string(dt) || !json_is_array(shape) || !json_is_array(offs) ||
        json_array_size(offs) != 2)
        return lens_error_set(err, LENS_EFORMAT,
                              "%s: tensor '%s': needs dtype, shape and data_offsets [begin, end]",
                              path, name);
    size_t i, esize = 0;
    for (i = 0; i < sizeof dtypes / sizeof *dtypes; i++)
        if (strcmp(json_string_value(dt), dtypes[i].name) == 0) {
            t->dtype = dtypes[i].dt;
            esize = dtypes[i].size;
        }
    if (!esize)
        return lens_error_set(err, LENS_EUNSUP, "%s: tensor '%s': unknown dtype %s", path, name,
                              json_string_value(dt));
    if (json_array_size(shape) > LENS__ST_MAX_DIMS)
        return lens_error_set(err, LENS_EUNSUP, "%s: tensor '%s': more than %d dimensions", path,
                              name, LENS__ST_MAX_DIMS);
    t->ndim = (int)json_array_size(shape);
    uint64_t numel = 1;
    for (int d = 0; d < t->ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0)
            return lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s': bad dimension %d", path,
                                  name, d);
        uint64_t dim = (uint64_t)json_integer_value(v);
        if (dim && numel > UINT64_MAX / dim / esize)
            return lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s': shape overflows", path, name);
        numel *= dim;
        t->shape[d] = (int64_t)dim;
    }
    json_t *b = json_array_get(offs, 0), *e = json_array_get(offs, 1);
    if (!json_is_integer(b) || !json_is_integer(e) || json_integer_value(b) < 0 ||
        json_integer_value(e) < json_integer_value(b))
        return lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s': bad data_offsets", path, name);
    uint64_t begin = (uint64_t)json_integer_value(b), end = (uint64_t)json_integer_value(e);
    if (end > data_size)
        return lens_error_set(err, LENS_EFORMAT,
                              "%s: tensor '%s': data_offsets end %llu is past the data (%zu bytes); "
                              "file truncated?",
                              path, name, (unsigned long long)end, data_size);
    if (end - begin != numel * esize)
        return lens_error_set(err, LENS_EFORMAT,
                              "%s: tensor '%s': %llu bytes for shape of %llu %s elements", path,
                              name, (unsigned long long)(end - begin), (unsigned long long)numel,
                              json_string_value(dt));
    t->numel = (int64_t)numel;
    t->data = data + begin;
    t->nbytes = (size_t)(end - begin);
    t->name = strdup(name);
    return t->name ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
}

int lens__st_open(lens__safetensors **out, const char *path, lens_error *err)
{
    *out = NULL;
    lens__safetensors *st = calloc(1, sizeof *st);
    if (!st || !(st->path = strdup(path))) {
        free(st);
        return lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
    }
    int rc = LENS_OK;
    json_t *root = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat sb;
    if (fd < 0) {
        rc = lens_error_set(err, errno == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "%s: %s", path,
                            strerror(errno));
        goto out;
    }
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        rc = lens_error_set(err, LENS_EIO, "%s: not a regular file", path);
        goto out;
    }
    st->size = (size_t)sb.st_size;
    if (st->size < 8) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: %zu bytes is too short for a safetensors header",
                            path, st->size);
        goto out;
    }
    st->map = mmap(NULL, st->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (st->map == MAP_FAILED) {
        st->map = NULL;
        rc = lens_error_set(err, LENS_EIO, "%s: mmap failed: %s", path, strerror(errno));
        goto out;
    }
    uint64_t hlen = 0;
    for (int i = 7; i >= 0; i--) hlen = (hlen << 8) | st->map[i];
    if (hlen > MAX_HEADER || hlen > st->size - 8) {
        rc = lens_error_set(err, LENS_EFORMAT,
                            "%s: header length %llu does not fit the file (%zu bytes) or exceeds "
                            "100 MB",
                            path, (unsigned long long)hlen, st->size);
        goto out;
    }
    if (hlen < 2 || st->map[8] != '{') {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: header is not a JSON object", path);
        goto out;
    }
    json_error_t je;
    root = json_loadb((const char *)st->map + 8, (size_t)hlen, JSON_REJECT_DUPLICATES, &je);
    if (!root || !json_is_object(root)) {
        rc = lens_error_set(err, LENS_EFORMAT, "%s: header JSON, column %d: %s", path, je.column,
                            root ? "not an object" : je.text);
        goto out;
    }
    const unsigned char *data = st->map + 8 + hlen;
    size_t data_size = st->size - 8 - (size_t)hlen;
    size_t cap = json_object_size(root);
    st->tensors = calloc(cap ? cap : 1, sizeof *st->tensors);
    if (!st->tensors) {
        rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    const char *key;
    json_t *val;
    json_object_foreach(root, key, val) {
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                rc = lens_error_set(err, LENS_EFORMAT, "%s: __metadata__ is not an object", path);
                goto out;
            }
            continue;
        }
        if ((rc = parse_tensor(st, key, val, data, data_size, &st->tensors[st->n], err))) goto out;
        st->n++;
    }
    /* byte ranges must tile the data buffer: no overlap, no hole */
    lens__st_tensor *sorted = malloc((st->n ? st->n : 1) * sizeof *sorted);
    if (!sorted) {
        rc = lens_error_set(err, LENS_ENOMEM, "%s: out of memory", path);
        goto out;
    }
    memcpy(sorted, st->tensors, st->n * sizeof *sorted);
    qsort(sorted, st->n, sizeof *sorted, by_offset);
    const unsigned char *expect = data;
    for (size_t i = 0; i < st->n; i++) {
        if (sorted[i].data != expect) {
            rc = lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s' %s the previous tensor's bytes",
                                path, sorted[i].name, sorted[i].data < expect ? "overlaps" : "leaves a gap after");
            break;
        }
        expect += sorted[i].nbytes;
    }
    if (!rc && expect != data + data_size)
        rc = lens_error_set(err, LENS_EFORMAT, "%s: %zu trailing bytes after the last tensor", path,
                            (size_t)(data + data_size - expect));
    free(sorted);
out:
    if (fd >= 0) close(fd);
    json_decref(root);
    if (rc) {
        lens__st_close(st);
        return rc;
    }
    *out = st;
    return LENS_OK;
}

const lens__st_tensor *lens__st_find(const lens__safetensors *st, const char *name)
{
    for (size_t i = 0; i < st->n; i++)
        if (strcmp(st->tensors[i].name, name) == 0) return &st->tensors[i];
    return NULL;
}

static float half_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h >> 15) << 31, exp = (h >> 10) & 0x1f, man = h & 0x3ff;
    float f;
    if (exp == 0) {
        f = ldexpf((float)man, -24); /* zero or subnormal */
        return sign ? -f : f;
    }
    uint32_t u = exp == 31 ? (sign | 0x7f800000u | (man << 13))
                           : (sign | ((exp + 112) << 23) | (man << 13));
    memcpy(&f, &u, 4);
    return f;
}

int lens__st_read_f32(const lens__safetensors *st, const char *name, int ndim,
                     const int64_t *shape, float *dst, lens_error *err)
{
    const lens__st_tensor *t = lens__st_find(st, name);
    if (!t) return lens_error_set(err, LENS_ENOTFOUND, "%s: no tensor '%s'", st->path, name);
    int ok = t->ndim == ndim;
    for (int d = 0; ok && d < ndim; d++) ok = t->shape[d] == shape[d];
    if (!ok) {
        char want[128] = "", got[128] = "";
        for (int d = 0; d < ndim; d++)
            snprintf(want + strlen(want), sizeof want - strlen(want), "%s%lld", d ? "," : "",
                     (long long)shape[d]);
        for (int d = 0; d < t->ndim; d++)
            snprintf(got + strlen(got), sizeof got - strlen(got), "%s%lld", d ? "," : "",
                     (long long)t->shape[d]);
        return lens_error_set(err, LENS_EFORMAT, "%s: tensor '%s' has shape [%s], expected [%s]",
                              st->path, name, got, want);
    }
    const unsigned char *p = t->data;
    switch (t->dtype) {
    case LENS__DT_F32: memcpy(dst, p, t->nbytes); break;
    case LENS__DT_F16:
        for (int64_t i = 0; i < t->numel; i++) dst[i] = half_to_f32((uint16_t)(p[2 * i] | p[2 * i + 1] << 8));
        break;
    case LENS__DT_BF16:
        for (int64_t i = 0; i < t->numel; i++) {
            uint32_t u = (uint32_t)(p[2 * i] | p[2 * i + 1] << 8) << 16;
            memcpy(&dst[i], &u, 4);
        }
        break;
    default:
        return lens_error_set(err, LENS_EUNSUP, "%s: tensor '%s' has dtype %s; F32, F16 or BF16 expected",
                              st->path, name, lens__dtype_name(t->dtype));
    }
    (void)dtype_size;
    return LENS_OK;
}
