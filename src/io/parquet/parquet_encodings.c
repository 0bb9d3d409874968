/* Bit-level Parquet encodings: the RLE / bit-packed hybrid (levels,
 * dictionary indices, booleans) and DELTA_BINARY_PACKED (integers, and the
 * lengths inside DELTA_LENGTH_BYTE_ARRAY and DELTA_BYTE_ARRAY). Every read is
 * checked against the end of its buffer. */
#include <string.h>

#include "parquet_internal.h"

static int varint(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
    const uint8_t *p = *pp;
    uint64_t x = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (p >= end) return -1;
        uint8_t b = *p++;
        x |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80)) {
            *v = x;
            *pp = p;
            return 0;
        }
    }
    return -1;
}

/* bw bits (LSB first) at bit offset `bit` of p; the caller guarantees the
 * bytes exist */
static inline uint64_t get_bits(const uint8_t *p, uint64_t bit, int bw)
{
    if (bw == 0) return 0;
    const uint8_t *q = p + (bit >> 3);
    int off = (int)(bit & 7), got = 0;
    uint64_t v = 0;
    while (got < bw) {
        v |= (uint64_t)(*q++ >> off) << got;
        got += 8 - off;
        off = 0;
    }
    return bw == 64 ? v : v & ((UINT64_C(1) << bw) - 1);
}

/* ---------------------------------------------------------------- hybrid */

void lens__pq_rle_init(pq_rle *r, const uint8_t *p, size_t n, int bw)
{
    memset(r, 0, sizeof *r);
    r->p = p;
    r->end = p + n;
    r->bw = bw;
}

/* reads the next run header; -1 when the data is exhausted or corrupt */
static int next_run(pq_rle *r)
{
    uint64_t h;
    if (varint(&r->p, r->end, &h)) return -1;
    if (h & 1) {
        uint64_t n = (h >> 1) * 8;
        size_t avail = (size_t)(r->end - r->p);
        uint64_t bytes = (h >> 1) * (uint64_t)r->bw;
        /* a short last run is tolerated, as other readers do: take what is there */
        if (r->bw && bytes > avail) {
            bytes = avail;
            n = (uint64_t)avail * 8 / (uint64_t)r->bw;
        }
        if (n == 0) return -1;
        r->bp = r->p;
        r->bp_bit = 0;
        r->bp_left = n;
        r->p += bytes;
    } else {
        int nb = (r->bw + 7) / 8;
        if (r->end - r->p < nb) return -1;
        uint32_t v = 0;
        for (int i = 0; i < nb; i++) v |= (uint32_t)r->p[i] << (8 * i);
        r->p += nb;
        if (h >> 1 > UINT32_MAX) return -1;
        r->rle_left = (uint32_t)(h >> 1);
        r->rle_value = v;
    }
    return 0;
}

int lens__pq_rle_get(pq_rle *r, uint32_t *out, size_t n)
{
    while (n) {
        if (r->rle_left) {
            size_t k = n < r->rle_left ? n : r->rle_left;
            for (size_t i = 0; i < k; i++) out[i] = r->rle_value;
            out += k;
            n -= k;
            r->rle_left -= (uint32_t)k;
        } else if (r->bp_left) {
            size_t k = n < r->bp_left ? n : (size_t)r->bp_left;
            int bw = r->bw;
            if (bw == 1) {
                for (size_t i = 0; i < k; i++, r->bp_bit++) out[i] = (r->bp[r->bp_bit >> 3] >> (r->bp_bit & 7)) & 1;
            } else {
                for (size_t i = 0; i < k; i++, r->bp_bit += (uint64_t)bw) out[i] = (uint32_t)get_bits(r->bp, r->bp_bit, bw);
            }
            out += k;
            n -= k;
            r->bp_left -= k;
        } else if (next_run(r)) {
            return -1;
        }
    }
    return 0;
}

/* ----------------------------------------------------- DELTA_BINARY_PACKED */

typedef struct {
    uint64_t block, mini, total;
    int64_t first;
} delta_header;

static int delta_header_read(const uint8_t **p, const uint8_t *end, delta_header *h)
{
    uint64_t z;
    if (varint(p, end, &h->block) || varint(p, end, &h->mini) || varint(p, end, &h->total) || varint(p, end, &z))
        return -1;
    h->first = (int64_t)(z >> 1) ^ -(int64_t)(z & 1);
    return 0;
}

int lens__pq_delta_decode(const uint8_t *p, size_t n, int64_t *out, size_t count, size_t *used, const char **why)
{
    const uint8_t *q = p, *end = p + n;
    delta_header h;
    if (delta_header_read(&q, end, &h)) return *why = "truncated DELTA_BINARY_PACKED header", -1;
    if (h.block == 0 || h.block % 128 || h.block > (1u << 20) || h.mini == 0 || h.block % h.mini ||
        (h.block / h.mini) % 32)
        return *why = "bad DELTA_BINARY_PACKED block layout", -1;
    /* the header's count must be the page's: this bounds the work below */
    if (h.total != count) return *why = "DELTA_BINARY_PACKED value count differs from the page's", -1;
    uint64_t per_mini = h.block / h.mini;
    size_t got = 0;
    uint64_t last = (uint64_t)h.first;
    if (count) out[got++] = h.first;
    while (got < count) {
        uint64_t zmin;
        if (varint(&q, end, &zmin)) return *why = "truncated DELTA_BINARY_PACKED block", -1;
        uint64_t min_delta = (uint64_t)((int64_t)(zmin >> 1) ^ -(int64_t)(zmin & 1));
        if ((uint64_t)(end - q) < h.mini) return *why = "truncated DELTA_BINARY_PACKED bit widths", -1;
        const uint8_t *widths = q;
        q += h.mini;
        for (uint64_t m = 0; m < h.mini && got < count; m++) {
            int w = widths[m];
            if (w > 64) return *why = "DELTA_BINARY_PACKED bit width over 64", -1;
            uint64_t bytes = per_mini * (uint64_t)w / 8;
            if ((uint64_t)(end - q) < bytes) return *why = "truncated DELTA_BINARY_PACKED miniblock", -1;
            for (uint64_t j = 0; j < per_mini && got < count; j++) {
                /* unsigned arithmetic: deltas wrap around as the writer's did */
                last += min_delta + get_bits(q, j * (uint64_t)w, w);
                out[got++] = (int64_t)last;
            }
            q += bytes;
        }
    }
    *used = (size_t)(q - p);
    return 0;
}
