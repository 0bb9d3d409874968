/* Four floats as one vector (internal): GCC/Clang vector extensions, which
 * are SSE on baseline x86-64 and plain code elsewhere, for the generic
 * kernels that the compiler does not vectorise by itself. */
#ifndef LENS_BASE_V4_H
#define LENS_BASE_V4_H

#include <stdint.h>
#include <string.h>

typedef float v4f __attribute__((vector_size(16)));
typedef int32_t v4i __attribute__((vector_size(16)));

/* unaligned load and store */
static inline v4f ld4(const float *p)
{
    v4f v;
    memcpy(&v, p, sizeof v);
    return v;
}

static inline void st4(float *p, v4f v) { memcpy(p, &v, sizeof v); }

static inline float hsum4(v4f v) { return (v[0] + v[2]) + (v[1] + v[3]); }

/* lanes of a where mask (a comparison's result), else of b */
static inline v4f sel4(v4i mask, v4f a, v4f b) { return (v4f)((mask & (v4i)a) | (~mask & (v4i)b)); }

static inline v4f abs4(v4f v) { return (v4f)((v4i)v & (v4i){0x7fffffff, 0x7fffffff, 0x7fffffff, 0x7fffffff}); }

#endif
