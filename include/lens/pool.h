/* lens — a small fork/join thread pool.
 *
 * lens_pool_run() hands out task indices 0..n-1 to the calling thread and the
 * pool's workers, and returns when every task has finished. Tasks are taken
 * dynamically (an atomic counter), so uneven tasks balance themselves. */
#ifndef LENS_POOL_H
#define LENS_POOL_H

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_pool lens_pool;

/* task: index of the task; thread: 0..lens_pool_size()-1, stable for the call,
 * so tasks can use per-thread scratch without locking. */
typedef void (*lens_pool_fn)(void *ctx, int task, int thread);

/* n_threads <= 0 means one per online CPU. */
LENS_API int lens_pool_new(lens_pool **out, int n_threads, lens_error *err);
LENS_API void lens_pool_free(lens_pool *pool);
LENS_API int lens_pool_size(const lens_pool *pool);
/* Not reentrant: call from one thread at a time. A NULL pool runs inline. */
LENS_API void lens_pool_run(lens_pool *pool, int n_tasks, lens_pool_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif
#endif
