/* Thrift compact protocol reader: the subset parquet.thrift needs, plus
 * skipping any value of any type so unknown (newer) fields pass. */
#include "thrift.h"

void lens__thrift_init(lens__thrift *t, const void *data, size_t n)
{
    t->start = t->p = data;
    t->end = t->p + n;
    t->depth = 0;
    t->err = NULL;
    t->err_at = 0;
}

int lens__thrift_fail(lens__thrift *t, const char *why)
{
    if (!t->err) {
        t->err = why;
        t->err_at = lens__thrift_pos(t);
    }
    return -1;
}

int lens__thrift_varint(lens__thrift *t, uint64_t *v)
{
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (t->p >= t->end) return lens__thrift_fail(t, "truncated varint");
        uint8_t b = *t->p++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return 0;
        }
    }
    return lens__thrift_fail(t, "varint longer than 10 bytes");
}

static int64_t unzigzag(uint64_t u) { return (int64_t)(u >> 1) ^ -(int64_t)(u & 1); }

int lens__thrift_i64(lens__thrift *t, int64_t *v)
{
    uint64_t u;
    if (lens__thrift_varint(t, &u)) return -1;
    *v = unzigzag(u);
    return 0;
}

int lens__thrift_i32(lens__thrift *t, int32_t *v)
{
    int64_t x;
    if (lens__thrift_i64(t, &x)) return -1;
    if (x < INT32_MIN || x > INT32_MAX) return lens__thrift_fail(t, "i32 out of range");
    *v = (int32_t)x;
    return 0;
}

int lens__thrift_binary(lens__thrift *t, const uint8_t **s, uint32_t *n)
{
    uint64_t len;
    if (lens__thrift_varint(t, &len)) return -1;
    if (len > (uint64_t)(t->end - t->p)) return lens__thrift_fail(t, "string length past the end of the buffer");
    *s = t->p;
    *n = (uint32_t)len;
    t->p += len;
    return 0;
}

int lens__thrift_struct_begin(lens__thrift *t)
{
    if (++t->depth > LENS__THRIFT_MAX_DEPTH) return lens__thrift_fail(t, "structs nested too deeply");
    return 0;
}

void lens__thrift_struct_end(lens__thrift *t) { t->depth--; }

int lens__thrift_field(lens__thrift *t, int16_t *last, int *type, int16_t *id)
{
    if (t->p >= t->end) return lens__thrift_fail(t, "truncated struct (no STOP)");
    uint8_t b = *t->p++;
    if (b == 0) return 0;
    *type = b & 0x0F;
    int delta = b >> 4;
    if (delta) {
        *id = (int16_t)(*last + delta);
    } else {
        int64_t x;
        if (lens__thrift_i64(t, &x)) return -1;
        if (x < INT16_MIN || x > INT16_MAX) return lens__thrift_fail(t, "field id out of range");
        *id = (int16_t)x;
    }
    if (*type == TH_STOP || *type > TH_STRUCT) return lens__thrift_fail(t, "bad field type");
    *last = *id;
    return 1;
}

int lens__thrift_list(lens__thrift *t, int *elem_type, uint32_t *n)
{
    if (t->p >= t->end) return lens__thrift_fail(t, "truncated list header");
    uint8_t b = *t->p++;
    uint64_t size = b >> 4;
    if (size == 15 && lens__thrift_varint(t, &size)) return -1;
    *elem_type = b & 0x0F;
    if (*elem_type == TH_STOP || *elem_type > TH_STRUCT) return lens__thrift_fail(t, "bad list element type");
    /* every element takes at least one byte, so this bounds loops and allocations */
    if (size > (uint64_t)(t->end - t->p)) return lens__thrift_fail(t, "list longer than the bytes left");
    *n = (uint32_t)size;
    return 0;
}

static int need(lens__thrift *t, size_t n)
{
    if ((size_t)(t->end - t->p) < n) return lens__thrift_fail(t, "truncated value");
    t->p += n;
    return 0;
}

int lens__thrift_skip(lens__thrift *t, int type)
{
    uint64_t u;
    switch (type) {
    case TH_TRUE:
    case TH_FALSE: return 0; /* a struct field's bool lives in its type nibble */
    case TH_BYTE: return need(t, 1);
    case TH_I16:
    case TH_I32:
    case TH_I64: return lens__thrift_varint(t, &u);
    case TH_DOUBLE: return need(t, 8);
    case TH_BINARY: {
        const uint8_t *s;
        uint32_t n;
        return lens__thrift_binary(t, &s, &n);
    }
    case TH_LIST:
    case TH_SET: {
        int et;
        uint32_t n;
        if (lens__thrift_list(t, &et, &n)) return -1;
        if (lens__thrift_struct_begin(t)) return -1;
        for (uint32_t i = 0; i < n; i++) {
            /* bools inside a list take one byte each */
            if ((et == TH_TRUE || et == TH_FALSE) ? need(t, 1) : lens__thrift_skip(t, et)) return -1;
        }
        lens__thrift_struct_end(t);
        return 0;
    }
    case TH_MAP: {
        if (lens__thrift_varint(t, &u)) return -1;
        if (u == 0) return 0;
        if (u > (uint64_t)(t->end - t->p)) return lens__thrift_fail(t, "map longer than the bytes left");
        if (t->p >= t->end) return lens__thrift_fail(t, "truncated map header");
        uint8_t kv = *t->p++;
        int kt = kv >> 4, vt = kv & 0x0F;
        if (kt == TH_STOP || kt > TH_STRUCT || vt == TH_STOP || vt > TH_STRUCT)
            return lens__thrift_fail(t, "bad map element type");
        if (lens__thrift_struct_begin(t)) return -1;
        for (uint64_t i = 0; i < u; i++) {
            if ((kt <= TH_FALSE ? need(t, 1) : lens__thrift_skip(t, kt)) ||
                (vt <= TH_FALSE ? need(t, 1) : lens__thrift_skip(t, vt)))
                return -1;
        }
        lens__thrift_struct_end(t);
        return 0;
    }
    case TH_STRUCT: {
        if (lens__thrift_struct_begin(t)) return -1;
        int16_t last = 0, id;
        int ft, rc;
        while ((rc = lens__thrift_field(t, &last, &ft, &id)) > 0)
            if (lens__thrift_skip(t, ft)) return -1;
        if (rc < 0) return -1;
        lens__thrift_struct_end(t);
        return 0;
    }
    default: return lens__thrift_fail(t, "bad type");
    }
}
