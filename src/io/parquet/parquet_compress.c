/* Page decompression. The page header declares the uncompressed size; the
 * caller caps it and allocates exactly that, and here the codec must
 * produce exactly that many bytes — a stream that would write more or fewer
 * is an error, so a decompression bomb cannot grow past its declaration. */
#include <limits.h>
#include <snappy-c.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "parquet_internal.h"

static int gunzip(const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, char *why, size_t cap)
{
    if (n > UINT_MAX || dst_len > UINT_MAX) return snprintf(why, cap, "gzip: page larger than 4 GiB"), LENS_EFORMAT;
    z_stream z;
    memset(&z, 0, sizeof z);
    if (inflateInit2(&z, 15 + 32) != Z_OK) return snprintf(why, cap, "gzip: cannot initialise zlib"), LENS_ENOMEM;
    z.next_in = (Bytef *)src;
    z.avail_in = (uInt)n;
    z.next_out = dst;
    z.avail_out = (uInt)dst_len;
    int rc;
    for (;;) {
        rc = inflate(&z, Z_FINISH);
        /* concatenated gzip members are one stream */
        if (rc == Z_STREAM_END && z.avail_in > 0 && z.avail_out > 0) {
            if (inflateReset(&z) != Z_OK) break;
            continue;
        }
        break;
    }
    size_t got = dst_len - z.avail_out;
    int trailing = z.avail_in > 0;
    inflateEnd(&z);
    if (rc == Z_STREAM_END && got == dst_len) return 0;
    if (rc == Z_STREAM_END) snprintf(why, cap, "gzip: page decompresses to %zu bytes, header declares %zu", got, dst_len);
    else if (rc == Z_BUF_ERROR && got == dst_len && trailing)
        snprintf(why, cap, "gzip: page decompresses to more than the %zu bytes its header declares", dst_len);
    else snprintf(why, cap, "gzip: corrupt data after %zu bytes (%s)", got, z.msg ? z.msg : "truncated");
    return LENS_EFORMAT;
}

int lens__pq_decompress_precheck(int codec, const uint8_t *src, size_t n, size_t declared, char *why, size_t cap)
{
    if (codec == PQ_CODEC_SNAPPY) {
        size_t len;
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK)
            return snprintf(why, cap, "snappy: corrupt stream header"), LENS_EFORMAT;
        if (len != declared)
            return snprintf(why, cap, "snappy: page decompresses to %zu bytes, header declares %zu", len, declared),
                   LENS_EFORMAT;
    } else if (codec == PQ_CODEC_ZSTD) {
        /* the first frame alone may already say too much; later frames only add */
        unsigned long long len = ZSTD_getFrameContentSize(src, n);
        if (len != ZSTD_CONTENTSIZE_UNKNOWN && len != ZSTD_CONTENTSIZE_ERROR && len > declared)
            return snprintf(why, cap, "zstd: page decompresses to %llu bytes, header declares %zu", len, declared),
                   LENS_EFORMAT;
    }
    return 0;
}

int lens__pq_decompress(int codec, const uint8_t *src, size_t n, uint8_t *dst, size_t dst_len, char *why, size_t cap)
{
    switch (codec) {
    case PQ_CODEC_UNCOMPRESSED:
        if (n != dst_len) {
            snprintf(why, cap, "uncompressed page holds %zu bytes, header declares %zu", n, dst_len);
            return LENS_EFORMAT;
        }
        if (n) memcpy(dst, src, n);
        return 0;
    case PQ_CODEC_SNAPPY: {
        size_t len;
        /* snappy's preamble states the output size: check it before decoding */
        if (snappy_uncompressed_length((const char *)src, n, &len) != SNAPPY_OK) {
            snprintf(why, cap, "snappy: corrupt stream header");
            return LENS_EFORMAT;
        }
        if (len != dst_len) {
            snprintf(why, cap, "snappy: page decompresses to %zu bytes, header declares %zu", len, dst_len);
            return LENS_EFORMAT;
        }
        if (snappy_uncompress((const char *)src, n, (char *)dst, &len) != SNAPPY_OK || len != dst_len) {
            snprintf(why, cap, "snappy: corrupt data");
            return LENS_EFORMAT;
        }
        return 0;
    }
    case PQ_CODEC_GZIP: return gunzip(src, n, dst, dst_len, why, cap);
    case PQ_CODEC_ZSTD: {
        size_t got = ZSTD_decompress(dst, dst_len, src, n);
        if (ZSTD_isError(got)) {
            if (ZSTD_getErrorCode(got) == ZSTD_error_dstSize_tooSmall)
                snprintf(why, cap, "zstd: page decompresses to more than the %zu bytes its header declares", dst_len);
            else snprintf(why, cap, "zstd: %s", ZSTD_getErrorName(got));
            return LENS_EFORMAT;
        }
        if (got != dst_len) {
            snprintf(why, cap, "zstd: page decompresses to %zu bytes, header declares %zu", got, dst_len);
            return LENS_EFORMAT;
        }
        return 0;
    }
    default:
        snprintf(why, cap, "compression codec %s (%d) is not supported (UNCOMPRESSED, SNAPPY, GZIP and ZSTD are)",
                 lens__pq_codec_name(codec), codec);
        return LENS_EUNSUP;
    }
}
