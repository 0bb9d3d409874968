/* UTF-8: decoding, encoding and repair (internal). The one copy the
 * tokenizer (src/text) and the readers (src/io) share. */
#ifndef LENS_BASE_UTF8_H
#define LENS_BASE_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* Decodes one UTF-8 sequence at s[0..n); invalid input yields U+FFFD and
 * consumes one byte (a real U+FFFD takes three, so 1 byte consumed and
 * U+FFFD means a bad byte). Returns the number of bytes consumed (>= 1). */
size_t lens__utf8_decode(const unsigned char *s, size_t n, uint32_t *cp);
/* Writes cp as UTF-8 into out (>= 4 bytes); returns the byte count. */
size_t lens__utf8_encode(uint32_t cp, char *out);
/* Length of the longest valid UTF-8 prefix of s[0..n) (n when all of it is). */
size_t lens__utf8_valid(const char *s, size_t n);
/* Copies s[0..n) to out (room for 3 * n + 1 bytes) with each byte of an
 * invalid sequence (a stray or truncated one, an overlong form, a
 * surrogate) replaced by U+FFFD, NUL-terminated; returns the length and
 * adds the bytes replaced to *bad. */
size_t lens__utf8_repair(const char *s, size_t n, char *out, uint64_t *bad);

#endif
