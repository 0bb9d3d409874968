/* Base64 decoding (internal): standard alphabet, '=' padding optional. */
#ifndef LENS_IO_BASE64_H
#define LENS_IO_BASE64_H

#include <stddef.h>

/* Decodes n characters of s into out (room for n / 4 * 3 + 3 bytes);
 * returns the bytes written, or -1 on a character outside the alphabet. */
long lens__base64_decode(const char *s, size_t n, unsigned char *out);

#endif
