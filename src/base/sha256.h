/* SHA-256 (FIPS 180-4), for verifying downloaded weights. */
#ifndef LENS_BASE_SHA256_H
#define LENS_BASE_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct lens__sha256 {
    uint32_t h[8];
    uint64_t len;
    unsigned char buf[64];
    size_t fill;
} lens__sha256;

void lens__sha256_init(lens__sha256 *s);
void lens__sha256_update(lens__sha256 *s, const void *data, size_t n);
void lens__sha256_final(lens__sha256 *s, unsigned char out[32]);
/* out: 65 bytes, lowercase hex + NUL */
void lens__sha256_hex(const unsigned char digest[32], char out[65]);

#endif
