/* One column chunk: its pages (dictionary, data v1 and v2) are walked,
 * decompressed and decoded into one value per row of the row group. Every
 * buffer counts against the handle's memory limit, and every count and
 * length from the file is checked before it sizes an allocation or a copy. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parquet_internal.h"

typedef struct {
    lens_parquet *p;
    pq_col *c;
    int rg, codec;
    const char *name;
    uint64_t at; /* file offset of the page being decoded, for messages */
    pq_mem chunk, page, idx, tmp;
    pq_mem dict_vals, dict_off, dict_data;
    int64_t dict_n; /* -1: no dictionary page yet */
    lens_error *err;
} chunk_ctx;

static int fail(chunk_ctx *x, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(chunk_ctx *x, int code, const char *fmt, ...)
{
    char what[320];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return lens_error_set(x->err, code, "%s: row group %d, column '%s', page at byte %llu: %s", x->p->path, x->rg,
                          x->name, (unsigned long long)x->at, what);
}

void lens__pq_mem_free(lens_parquet *p, pq_mem *m)
{
    free(m->p);
    p->used -= m->cap;
    m->p = NULL;
    m->cap = 0;
}

/* Grows m to at least need bytes (geometrically when grow is set), within
 * the memory limit. */
static int reserve(chunk_ctx *x, pq_mem *m, size_t need, int grow, const char *what)
{
    if (need <= m->cap && m->p) return 0;
    if (need == 0) need = 1; /* never NULL: zero-length copies from and to it stay defined */
    lens_parquet *p = x->p;
    size_t room = p->limit - p->used + m->cap; /* what m may grow to */
    if (need > room)
        return fail(x, LENS_ENOMEM, "%s needs %zu bytes, over the memory limit of %zu MiB (see lens_parquet_set_memory_limit)",
                    what, need, p->limit >> 20);
    size_t cap = need;
    if (grow && m->cap + m->cap / 2 > cap) cap = m->cap + m->cap / 2;
    if (cap > room) cap = need;
    void *q = realloc(m->p, cap ? cap : 1);
    if (!q) return fail(x, LENS_ENOMEM, "out of memory allocating %zu bytes for %s", cap, what);
    p->used += cap - m->cap;
    m->p = q;
    m->cap = cap;
    return 0;
}

/* n * size, or SIZE_MAX when it overflows (then reserve fails cleanly) */
static size_t mul(size_t n, size_t size) { return size && n > SIZE_MAX / size ? SIZE_MAX : n * size; }

static uint32_t le32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

/* ------------------------------------------------------------------ levels */

/* Definition levels of nv rows into valid (0/1); *nn gets the non-nulls. */
static int decode_levels(chunk_ctx *x, const uint8_t *d, size_t dn, int enc, size_t nv, uint8_t *valid, size_t *nn)
{
    size_t k = 0;
    if (enc == PQ_ENC_BIT_PACKED) { /* deprecated: MSB first, no runs */
        if (dn < (nv + 7) / 8) return fail(x, LENS_EFORMAT, "definition levels truncated");
        for (size_t i = 0; i < nv; i++) k += valid[i] = (d[i >> 3] >> (7 - (i & 7))) & 1;
        *nn = k;
        return 0;
    }
    if (enc != PQ_ENC_RLE)
        return fail(x, LENS_EUNSUP, "definition levels in encoding %s are not supported", lens__pq_encoding_name(enc));
    if (reserve(x, &x->idx, mul(nv, 4), 1, "definition levels")) return x->err->code;
    uint32_t *lv = x->idx.p;
    pq_rle r;
    lens__pq_rle_init(&r, d, dn, 1);
    if (lens__pq_rle_get(&r, lv, nv)) return fail(x, LENS_EFORMAT, "definition levels truncated or corrupt");
    for (size_t i = 0; i < nv; i++) {
        if (lv[i] > 1) return fail(x, LENS_EFORMAT, "definition level %u over the maximum 1", lv[i]);
        k += valid[i] = (uint8_t)lv[i];
    }
    *nn = k;
    return 0;
}

/* ---------------------------------------------------------- dictionary ids */

static int indices(chunk_ctx *x, const uint8_t *d, size_t dn, size_t nn)
{
    if (x->dict_n < 0) return fail(x, LENS_EFORMAT, "dictionary-encoded page without a dictionary page");
    if (reserve(x, &x->idx, mul(nn, 4), 1, "dictionary indices")) return x->err->code;
    if (nn == 0) return 0;
    if (dn < 1) return fail(x, LENS_EFORMAT, "dictionary indices truncated");
    if (d[0] > 32) return fail(x, LENS_EFORMAT, "dictionary index bit width %d over 32", d[0]);
    pq_rle r;
    lens__pq_rle_init(&r, d + 1, dn - 1, d[0]);
    uint32_t *ix = x->idx.p;
    if (lens__pq_rle_get(&r, ix, nn)) return fail(x, LENS_EFORMAT, "dictionary indices truncated or corrupt");
    for (size_t i = 0; i < nn; i++)
        if (ix[i] >= (uint64_t)x->dict_n)
            return fail(x, LENS_EFORMAT, "dictionary index %u out of range (dictionary holds %lld values)", ix[i],
                        (long long)x->dict_n);
    return 0;
}

/* ------------------------------------------------------- fixed-width types */

/* INT96: nanoseconds of the day, then the Julian day */
static int64_t int96_ns(const uint8_t *b)
{
    uint64_t ns = 0;
    for (int i = 7; i >= 0; i--) ns = ns << 8 | b[i];
    int64_t day = (int32_t)le32(b + 8) - 2440588; /* Julian day of 1970-01-01 */
    return (int64_t)((uint64_t)day * UINT64_C(86400000000000) + ns);
}

/* nn values, dense, into dst */
static int decode_fixed(chunk_ctx *x, int enc, const uint8_t *d, size_t dn, size_t nn, uint8_t *dst)
{
    pq_col *c = x->c;
    int w = c->width, ph = c->physical;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (ph == LENS_PARQUET_BOOLEAN) {
            if (dn < (nn + 7) / 8) return fail(x, LENS_EFORMAT, "%zu booleans need more than the page's %zu bytes", nn, dn);
            for (size_t i = 0; i < nn; i++) dst[i] = (d[i >> 3] >> (i & 7)) & 1;
        } else if (ph == LENS_PARQUET_INT96) {
            if (dn / 12 < nn) return fail(x, LENS_EFORMAT, "%zu INT96 values need more than the page's %zu bytes", nn, dn);
            for (size_t i = 0; i < nn; i++) {
                int64_t v = int96_ns(d + 12 * i);
                memcpy(dst + 8 * i, &v, 8);
            }
        } else {
            if (dn / (size_t)w < nn)
                return fail(x, LENS_EFORMAT, "%zu %s values need more than the page's %zu bytes", nn, lens__pq_type_name(ph), dn);
            memcpy(dst, d, nn * (size_t)w);
        }
        return 0;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (indices(x, d, dn, nn)) return x->err->code;
        const uint32_t *ix = x->idx.p;
        const uint8_t *dv = x->dict_vals.p;
        if (w == 4)
            for (size_t i = 0; i < nn; i++) memcpy(dst + 4 * i, dv + 4 * (size_t)ix[i], 4);
        else if (w == 8)
            for (size_t i = 0; i < nn; i++) memcpy(dst + 8 * i, dv + 8 * (size_t)ix[i], 8);
        else
            for (size_t i = 0; i < nn; i++) dst[i] = dv[ix[i]];
        return 0;
    }
    case PQ_ENC_RLE: {
        if (ph != LENS_PARQUET_BOOLEAN) break;
        if (dn < 4 || le32(d) > dn - 4) return fail(x, LENS_EFORMAT, "RLE booleans truncated");
        if (reserve(x, &x->idx, mul(nn, 4), 1, "RLE booleans")) return x->err->code;
        uint32_t *b = x->idx.p;
        pq_rle r;
        lens__pq_rle_init(&r, d + 4, le32(d), 1);
        if (lens__pq_rle_get(&r, b, nn)) return fail(x, LENS_EFORMAT, "RLE booleans truncated or corrupt");
        for (size_t i = 0; i < nn; i++) dst[i] = b[i] != 0;
        return 0;
    }
    case PQ_ENC_DELTA_BINARY_PACKED: {
        if (ph != LENS_PARQUET_INT32 && ph != LENS_PARQUET_INT64) break;
        if (reserve(x, &x->tmp, mul(nn, 8), 1, "delta-decoded values")) return x->err->code;
        int64_t *t = x->tmp.p;
        size_t used;
        const char *why;
        if (lens__pq_delta_decode(d, dn, t, nn, &used, &why)) return fail(x, LENS_EFORMAT, "%s", why);
        if (ph == LENS_PARQUET_INT64) memcpy(dst, t, nn * 8);
        else
            for (size_t i = 0; i < nn; i++) {
                int32_t v = (int32_t)(uint32_t)(uint64_t)t[i];
                memcpy(dst + 4 * i, &v, 4);
            }
        return 0;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT:
        if (ph == LENS_PARQUET_BOOLEAN || ph == LENS_PARQUET_INT96) break;
        if (dn / (size_t)w < nn) return fail(x, LENS_EFORMAT, "BYTE_STREAM_SPLIT page too short for %zu values", nn);
        for (int b = 0; b < w; b++)
            for (size_t i = 0; i < nn; i++) dst[i * (size_t)w + (size_t)b] = d[(size_t)b * nn + i];
        return 0;
    default: break;
    }
    return fail(x, LENS_EUNSUP, "encoding %s (%d) is not supported for %s", lens__pq_encoding_name(enc), enc, lens__pq_type_name(ph));
}

/* ------------------------------------------------------------ byte arrays */

/* PLAIN byte arrays (or FLBA when tl > 0) into out, which has room for dn
 * bytes; ends[i] = base + end of value i. */
static int plain_bytes(chunk_ctx *x, const uint8_t *d, size_t dn, size_t nn, int tl, uint8_t *out, int64_t base,
                       int64_t *ends)
{
    if (tl > 0) {
        if (dn / (size_t)tl < nn)
            return fail(x, LENS_EFORMAT, "%zu values of %d bytes need more than the page's %zu bytes", nn, tl, dn);
        memcpy(out, d, nn * (size_t)tl);
        for (size_t i = 0; i < nn; i++) ends[i] = base + (int64_t)((i + 1) * (size_t)tl);
        return 0;
    }
    size_t pos = 0, len = 0;
    for (size_t i = 0; i < nn; i++) {
        if (dn - pos < 4) return fail(x, LENS_EFORMAT, "value %zu of %zu: length past the end of the page", i, nn);
        size_t l = le32(d + pos);
        pos += 4;
        if (l > dn - pos)
            return fail(x, LENS_EFORMAT, "value %zu of %zu: length %zu past the end of the page", i, nn, l);
        memcpy(out + len, d + pos, l);
        pos += l;
        len += l;
        ends[i] = base + (int64_t)len;
    }
    return 0;
}

static int decode_bytes(chunk_ctx *x, int enc, const uint8_t *d, size_t dn, size_t nn, int64_t *ends)
{
    pq_col *c = x->c;
    int tl = c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY ? c->type_length : 0;
    int64_t base = (int64_t)c->data_len;
    switch (enc) {
    case PQ_ENC_PLAIN:
        if (reserve(x, &c->data, c->data_len + dn, 1, "column values")) return x->err->code;
        if (plain_bytes(x, d, dn, nn, tl, (uint8_t *)c->data.p + c->data_len, base, ends)) return x->err->code;
        break;
    case PQ_ENC_PLAIN_DICTIONARY:
    case PQ_ENC_RLE_DICTIONARY: {
        if (indices(x, d, dn, nn)) return x->err->code;
        const uint32_t *ix = x->idx.p;
        const int64_t *off = x->dict_off.p;
        size_t total = 0;
        for (size_t i = 0; i < nn; i++) total += (size_t)(off[ix[i] + 1] - off[ix[i]]);
        if (reserve(x, &c->data, c->data_len + total, 1, "column values")) return x->err->code;
        uint8_t *out = (uint8_t *)c->data.p + c->data_len;
        const uint8_t *dd = x->dict_data.p;
        size_t len = 0;
        for (size_t i = 0; i < nn; i++) {
            size_t l = (size_t)(off[ix[i] + 1] - off[ix[i]]);
            memcpy(out + len, dd + off[ix[i]], l);
            len += l;
            ends[i] = base + (int64_t)len;
        }
        break;
    }
    case PQ_ENC_DELTA_LENGTH_BYTE_ARRAY: {
        if (tl) goto unsupported;
        if (reserve(x, &x->tmp, mul(nn, 8), 1, "value lengths")) return x->err->code;
        int64_t *lens = x->tmp.p;
        size_t used;
        const char *why;
        if (lens__pq_delta_decode(d, dn, lens, nn, &used, &why)) return fail(x, LENS_EFORMAT, "lengths: %s", why);
        size_t left = dn - used, total = 0;
        for (size_t i = 0; i < nn; i++) {
            if (lens[i] < 0 || (uint64_t)lens[i] > left - total)
                return fail(x, LENS_EFORMAT, "value %zu: length %lld past the end of the page", i, (long long)lens[i]);
            total += (size_t)lens[i];
        }
        if (reserve(x, &c->data, c->data_len + total, 1, "column values")) return x->err->code;
        memcpy((uint8_t *)c->data.p + c->data_len, d + used, total);
        int64_t e = base;
        for (size_t i = 0; i < nn; i++) ends[i] = e += lens[i];
        break;
    }
    case PQ_ENC_DELTA_BYTE_ARRAY: {
        if (reserve(x, &x->tmp, mul(nn, 16), 1, "value lengths")) return x->err->code;
        int64_t *pre = x->tmp.p, *suf = pre + nn;
        size_t u1, u2;
        const char *why;
        if (lens__pq_delta_decode(d, dn, pre, nn, &u1, &why)) return fail(x, LENS_EFORMAT, "prefix lengths: %s", why);
        if (lens__pq_delta_decode(d + u1, dn - u1, suf, nn, &u2, &why)) return fail(x, LENS_EFORMAT, "suffix lengths: %s", why);
        const uint8_t *s = d + u1 + u2;
        size_t left = dn - u1 - u2, stotal = 0, total = 0, prev = 0;
        for (size_t i = 0; i < nn; i++) {
            if (pre[i] < 0 || (uint64_t)pre[i] > prev)
                return fail(x, LENS_EFORMAT, "value %zu: prefix length %lld longer than the previous value", i,
                            (long long)pre[i]);
            if (suf[i] < 0 || (uint64_t)suf[i] > left - stotal)
                return fail(x, LENS_EFORMAT, "value %zu: suffix length %lld past the end of the page", i, (long long)suf[i]);
            stotal += (size_t)suf[i];
            prev = (size_t)pre[i] + (size_t)suf[i];
            if (tl && prev != (size_t)tl)
                return fail(x, LENS_EFORMAT, "value %zu is %zu bytes long, its column's are %d", i, prev, tl);
            if (prev > SIZE_MAX / 2 - total) return fail(x, LENS_ENOMEM, "values too long");
            total += prev;
        }
        if (reserve(x, &c->data, c->data_len + total, 1, "column values")) return x->err->code;
        uint8_t *out = (uint8_t *)c->data.p + c->data_len;
        size_t len = 0, prev_at = 0;
        for (size_t i = 0; i < nn; i++) {
            memcpy(out + len, out + prev_at, (size_t)pre[i]); /* earlier bytes: no overlap */
            memcpy(out + len + pre[i], s, (size_t)suf[i]);
            s += suf[i];
            prev_at = len;
            len += (size_t)(pre[i] + suf[i]);
            ends[i] = base + (int64_t)len;
        }
        break;
    }
    case PQ_ENC_BYTE_STREAM_SPLIT: {
        if (!tl) goto unsupported;
        if (dn / (size_t)tl < nn) return fail(x, LENS_EFORMAT, "BYTE_STREAM_SPLIT page too short for %zu values", nn);
        if (reserve(x, &c->data, c->data_len + nn * (size_t)tl, 1, "column values")) return x->err->code;
        uint8_t *out = (uint8_t *)c->data.p + c->data_len;
        for (int b = 0; b < tl; b++)
            for (size_t i = 0; i < nn; i++) out[i * (size_t)tl + (size_t)b] = d[(size_t)b * nn + i];
        for (size_t i = 0; i < nn; i++) ends[i] = base + (int64_t)((i + 1) * (size_t)tl);
        break;
    }
    default:
    unsupported:
        return fail(x, LENS_EUNSUP, "encoding %s (%d) is not supported for %s", lens__pq_encoding_name(enc), enc,
                    lens__pq_type_name(c->physical));
    }
    c->data_len = nn ? (size_t)ends[nn - 1] : c->data_len;
    return 0;
}

/* -------------------------------------------------------------- the pages */

static int dictionary_page(chunk_ctx *x, const pq_page_header *h, const uint8_t *d, size_t dn)
{
    pq_col *c = x->c;
    if (x->dict_n >= 0) return fail(x, LENS_EFORMAT, "second dictionary page in one column chunk");
    if (h->encoding != PQ_ENC_PLAIN && h->encoding != PQ_ENC_PLAIN_DICTIONARY)
        return fail(x, LENS_EUNSUP, "dictionary page in encoding %s", lens__pq_encoding_name(h->encoding));
    if (h->num_values < 0) return fail(x, LENS_EFORMAT, "dictionary page with %d values", h->num_values);
    size_t n = (size_t)h->num_values;
    if (c->physical == LENS_PARQUET_BYTE_ARRAY || c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY) {
        int tl = c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY ? c->type_length : 0;
        if (!tl && dn / 4 < n) return fail(x, LENS_EFORMAT, "dictionary of %zu values longer than its page", n);
        if (reserve(x, &x->dict_off, mul(n + 1, 8), 0, "dictionary") ||
            reserve(x, &x->dict_data, dn, 0, "dictionary"))
            return x->err->code;
        int64_t *off = x->dict_off.p;
        off[0] = 0;
        if (plain_bytes(x, d, dn, n, tl, x->dict_data.p, 0, off + 1)) return x->err->code;
    } else {
        if (reserve(x, &x->dict_vals, mul(n, (size_t)c->width), 0, "dictionary") ||
            decode_fixed(x, PQ_ENC_PLAIN, d, dn, n, x->dict_vals.p))
            return x->err->code;
    }
    x->dict_n = (int64_t)n;
    return 0;
}

/* values of a data page whose levels are decoded: nn dense values, spread
 * over the nv rows from r0 by valid */
static int page_values(chunk_ctx *x, int enc, const uint8_t *d, size_t dn, int64_t r0, size_t nv, size_t nn)
{
    pq_col *c = x->c;
    const uint8_t *valid = c->max_def ? (uint8_t *)c->valid.p + r0 : NULL;
    if (c->physical == LENS_PARQUET_BYTE_ARRAY || c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY) {
        int64_t *ends = (int64_t *)c->offsets.p + r0 + 1;
        if (decode_bytes(x, enc, d, dn, nn, ends)) return x->err->code;
        if (nn < nv) { /* in place, from the back: a null ends where the value before it does */
            int64_t start = ends[-1];
            size_t k = nn;
            for (size_t i = nv; i-- > 0;) ends[i] = valid[i] ? ends[--k] : (k ? ends[k - 1] : start);
        }
        return 0;
    }
    size_t w = (size_t)c->width;
    uint8_t *dst = (uint8_t *)c->values.p + (size_t)r0 * w;
    if (decode_fixed(x, enc, d, dn, nn, dst)) return x->err->code;
    if (nn < nv) {
        size_t k = nn;
        for (size_t i = nv; i-- > 0;) {
            if (valid[i]) {
                if (--k != i) memcpy(dst + i * w, dst + k * w, w);
            } else {
                memset(dst + i * w, 0, w);
            }
        }
    }
    return 0;
}

/* decompressed bytes of a page part: in place when stored uncompressed */
static int inflate_part(chunk_ctx *x, int codec, const uint8_t *src, size_t n, size_t declared, const uint8_t **out)
{
    if (codec == PQ_CODEC_UNCOMPRESSED) {
        if (n != declared)
            return fail(x, LENS_EFORMAT, "uncompressed page holds %zu bytes, its header declares %zu", n, declared);
        *out = src;
        return 0;
    }
    /* the declared size is checked, and capped by the memory limit, before anything is allocated */
    char why[200];
    int rc = lens__pq_decompress_precheck(codec, src, n, declared, why, sizeof why);
    if (rc) return fail(x, rc, "%s", why);
    if (reserve(x, &x->page, declared, 1, "decompressed page")) return x->err->code;
    rc = lens__pq_decompress(codec, src, n, x->page.p, declared, why, sizeof why);
    if (rc) return fail(x, rc, "%s", why);
    *out = x->page.p;
    return 0;
}

static int data_page(chunk_ctx *x, const pq_page_header *h, const uint8_t *page, int64_t r0, size_t nv)
{
    pq_col *c = x->c;
    uint8_t *valid = c->max_def ? (uint8_t *)c->valid.p + r0 : NULL;
    size_t nn = nv;
    const uint8_t *d;
    size_t dn;
    if (h->type == PQ_PAGE_DATA) {
        if (inflate_part(x, x->codec, page, (size_t)h->compressed, (size_t)h->uncompressed, &d)) return x->err->code;
        dn = (size_t)h->uncompressed;
        if (c->max_def) {
            if (h->def_encoding == PQ_ENC_RLE) {
                if (dn < 4 || le32(d) > dn - 4) return fail(x, LENS_EFORMAT, "definition levels longer than the page");
                size_t l = le32(d);
                if (decode_levels(x, d + 4, l, PQ_ENC_RLE, nv, valid, &nn)) return x->err->code;
                d += 4 + l;
                dn -= 4 + l;
            } else {
                if (decode_levels(x, d, dn, h->def_encoding, nv, valid, &nn)) return x->err->code;
                d += (nv + 7) / 8;
                dn -= (nv + 7) / 8;
            }
        }
    } else {
        if (h->def_len < 0 || h->rep_len < 0 || (int64_t)h->def_len + h->rep_len > h->compressed ||
            (int64_t)h->def_len + h->rep_len > h->uncompressed)
            return fail(x, LENS_EFORMAT, "level lengths (%d + %d) exceed the page (%d bytes)", h->rep_len, h->def_len,
                        h->compressed);
        const uint8_t *levels = page + h->rep_len;
        size_t skip = (size_t)h->rep_len + (size_t)h->def_len;
        if (c->max_def) {
            if (h->def_len == 0 && h->num_nulls == 0) memset(valid, 1, nv);
            else if (decode_levels(x, levels, (size_t)h->def_len, PQ_ENC_RLE, nv, valid, &nn)) return x->err->code;
        }
        dn = (size_t)h->uncompressed - skip;
        int codec = h->is_compressed ? x->codec : PQ_CODEC_UNCOMPRESSED;
        if (inflate_part(x, codec, page + skip, (size_t)h->compressed - skip, dn, &d)) return x->err->code;
    }
    return page_values(x, h->encoding, d, dn, r0, nv, nn);
}

/* ---------------------------------------------------------------- a chunk */

static int read_bytes(chunk_ctx *x, uint64_t off, size_t n, const uint8_t **out)
{
    lens_parquet *p = x->p;
    if (p->fd < 0) {
        *out = p->mem + off;
        return 0;
    }
    if (reserve(x, &x->chunk, n, 0, "column chunk")) return x->err->code;
    size_t got = 0;
    while (got < n) {
        ssize_t r = pread(p->fd, (uint8_t *)x->chunk.p + got, n - got, (off_t)(off + got));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0)
            return fail(x, LENS_EIO, "reading %zu bytes at %llu: %s", n, (unsigned long long)off,
                        r < 0 ? strerror(errno) : "file shrank");
        got += (size_t)r;
    }
    *out = x->chunk.p;
    return 0;
}

static int column_arrays(chunk_ctx *x, int64_t rows)
{
    pq_col *c = x->c;
    size_t n = (size_t)rows;
    c->n = rows;
    c->data_len = 0;
    c->has_nulls = 0;
    if (c->max_def && reserve(x, &c->valid, n, 0, "null flags")) return x->err->code;
    if (c->physical == LENS_PARQUET_BYTE_ARRAY || c->physical == LENS_PARQUET_FIXED_LEN_BYTE_ARRAY) {
        if (reserve(x, &c->offsets, mul(n + 1, 8), 0, "value offsets")) return x->err->code;
        ((int64_t *)c->offsets.p)[0] = 0;
    } else if (reserve(x, &c->values, mul(n, (size_t)c->width), 0, "column values")) {
        return x->err->code;
    }
    return 0;
}

static int walk_pages(chunk_ctx *x, const uint8_t *buf, size_t len, uint64_t start, int64_t rows)
{
    size_t pos = 0;
    int64_t done = 0;
    while (done < rows) {
        x->at = start + pos;
        if (pos >= len)
            return fail(x, LENS_EFORMAT, "column chunk ends after %lld of its %lld values", (long long)done, (long long)rows);
        lens__thrift t;
        lens__thrift_init(&t, buf + pos, len - pos);
        pq_page_header h;
        if (lens__pq_parse_page_header(&t, &h))
            return fail(x, LENS_EFORMAT, "corrupt page header (%s at byte %zu of it)", t.err, t.err_at);
        pos += lens__thrift_pos(&t);
        if ((size_t)h.compressed > len - pos)
            return fail(x, LENS_EFORMAT, "page of %d bytes runs past the end of its column chunk (%zu bytes left)",
                        h.compressed, len - pos);
        const uint8_t *page = buf + pos;
        pos += (size_t)h.compressed;
        if (h.type == PQ_PAGE_DICTIONARY) {
            if (!h.has_dict) return fail(x, LENS_EFORMAT, "dictionary page without its header");
            if (done) return fail(x, LENS_EFORMAT, "dictionary page after data pages");
            const uint8_t *d;
            if (inflate_part(x, x->codec, page, (size_t)h.compressed, (size_t)h.uncompressed, &d) ||
                dictionary_page(x, &h, d, (size_t)h.uncompressed))
                return x->err->code;
        } else if (h.type == PQ_PAGE_DATA || h.type == PQ_PAGE_DATA_V2) {
            if (h.type == PQ_PAGE_DATA ? !h.has_data : !h.has_v2)
                return fail(x, LENS_EFORMAT, "data page without its header");
            if (h.num_values < 0 || h.num_values > rows - done)
                return fail(x, LENS_EFORMAT, "page of %d values overruns the row group's %lld rows (%lld read)",
                            h.num_values, (long long)rows, (long long)done);
            if (data_page(x, &h, page, done, (size_t)h.num_values)) return x->err->code;
            done += h.num_values;
        } /* index and unknown pages are skipped */
    }
    return 0;
}

int lens__pq_read_chunk(lens_parquet *p, int rg, pq_col *c, lens_error *err)
{
    const pq_row_group *g = &p->meta.rgs[rg];
    const pq_chunk_meta *m = &g->cols[c->leaf];
    chunk_ctx x = {.p = p, .c = c, .rg = rg, .codec = m->codec, .name = p->cols[c->field].name, .dict_n = -1, .err = err};
    if (!m->has_meta) return fail(&x, LENS_EFORMAT, "column chunk has no metadata");
    if (m->type != c->physical)
        return fail(&x, LENS_EFORMAT, "column chunk of type %s, schema says %s", lens__pq_type_name(m->type),
                    lens__pq_type_name(c->physical));
    if (m->codec != PQ_CODEC_UNCOMPRESSED && m->codec != PQ_CODEC_SNAPPY && m->codec != PQ_CODEC_GZIP &&
        m->codec != PQ_CODEC_ZSTD)
        return fail(&x, LENS_EUNSUP, "compression codec %s (%d) is not supported (UNCOMPRESSED, SNAPPY, GZIP and ZSTD are)",
                    lens__pq_codec_name(m->codec), m->codec);
    /* the chunk starts at its dictionary page when there is one */
    int64_t start = m->data_page_offset;
    if (m->dict_page_offset >= 4 && m->dict_page_offset < start) start = m->dict_page_offset;
    x.at = (uint64_t)(start < 0 ? 0 : start);
    if (start < 4 || m->total_compressed <= 0 || (uint64_t)start > p->data_end ||
        (uint64_t)m->total_compressed > p->data_end - (uint64_t)start)
        return fail(&x, LENS_EFORMAT, "column chunk [%lld, +%lld) lies outside the file's data (4..%llu)", (long long)start,
                    (long long)m->total_compressed, (unsigned long long)p->data_end);
    const uint8_t *buf = NULL;
    int rc = column_arrays(&x, g->num_rows);
    if (!rc) rc = read_bytes(&x, (uint64_t)start, (size_t)m->total_compressed, &buf);
    if (!rc) rc = walk_pages(&x, buf, (size_t)m->total_compressed, (uint64_t)start, g->num_rows);
    if (!rc && c->max_def && c->n) c->has_nulls = memchr(c->valid.p, 0, (size_t)c->n) != NULL;
    pq_mem *scratch[] = {&x.chunk, &x.page, &x.idx, &x.tmp, &x.dict_vals, &x.dict_off, &x.dict_data};
    for (size_t i = 0; i < sizeof scratch / sizeof *scratch; i++) lens__pq_mem_free(p, scratch[i]);
    return rc;
}
