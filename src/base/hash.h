/* The string hash of lens's hash tables (internal): 64-bit FNV-1a. Cheap,
 * the same on every machine, and good enough for tables that compare keys
 * anyway; never a defence against chosen inputs. */
#ifndef LENS_BASE_HASH_H
#define LENS_BASE_HASH_H

#include <stddef.h>
#include <stdint.h>

#define LENS__HASH_INIT 1469598103934665603ULL /* the FNV-1a offset basis */

/* Hashes n bytes on from h (LENS__HASH_INIT to start), so chained calls hash
 * the concatenation of their pieces. */
static inline uint64_t lens__hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h = (h ^ s[i]) * 1099511628211ULL;
    return h;
}

/* The 64 bits folded to the 32 that a table keeps per entry. */
static inline uint32_t lens__hash_fold32(uint64_t h) { return (uint32_t)(h ^ (h >> 32)); }

#endif
