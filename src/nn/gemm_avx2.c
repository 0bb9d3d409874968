/* The portable packing and tile kernels (gemm_portable.h) compiled for
 * AVX2 + FMA (see CMakeLists.txt); only called after lens__kernel_detect()
 * says the CPU has them. */
#define GEMM_SUFFIX _avx2
#include "gemm_portable.h"
