#include "lens/pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#else
#define cpu_relax() ((void)0)
#endif

#include "clock.h"

/* A forward pass is dozens of short runs back to back (one per GEMM,
 * attention, LayerNorm); waking a sleeping thread costs tens of
 * microseconds on a VM, as much as a small run itself. So both sides of the
 * hand-off wait this long before they sleep: a worker waiting for the next
 * run, and the caller waiting for the workers to finish. After a short pure
 * spin they yield the CPU on each check, so when more threads than cores
 * are busy (a job and the inference batcher in lens serve), a waiting
 * thread gives its core to one with work instead of burning it. Idle pools
 * still sleep. */
#define SPIN_S 50e-6
#define PURE_SPINS 64

struct lens_pool {
    int n_threads; /* including the caller */
    pthread_t *workers;
    pthread_mutex_t mu;
    pthread_cond_t wake, done;
    atomic_ulong generation; /* bumped per run; workers wait for a change */
    atomic_int stopping;
    atomic_int sleepers;      /* workers blocked (or about to block) on wake */
    atomic_int caller_asleep; /* the caller blocks (or is about to) on done */
    /* current job, written before generation is bumped */
    lens_pool_fn fn;
    void *ctx;
    int n_tasks;
    atomic_int next;
    atomic_int active; /* workers still inside the current job */
};

typedef struct {
    lens_pool *pool;
    int index;
} worker_arg;

/* Spins (then yields) until pred(p, arg) holds or SPIN_S pass; returns
 * whether it holds. */
static int spin_until(lens_pool *p, int (*pred)(lens_pool *, unsigned long), unsigned long arg)
{
    for (int i = 0; i < PURE_SPINS; i++) {
        if (pred(p, arg)) return 1;
        cpu_relax();
    }
    double t0 = lens__clock_mono();
    while (!pred(p, arg)) {
        if (lens__clock_mono() - t0 > SPIN_S) return pred(p, arg);
        sched_yield();
    }
    return 1;
}

static int new_run(lens_pool *p, unsigned long seen)
{
    return atomic_load(&p->stopping) || atomic_load(&p->generation) != seen;
}

static int all_done(lens_pool *p, unsigned long unused)
{
    (void)unused;
    return atomic_load(&p->active) == 0;
}

static void drain(lens_pool *p, int thread)
{
    for (;;) {
        int t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= p->n_tasks) break;
        p->fn(p->ctx, t, thread);
    }
}

static void *worker_main(void *arg)
{
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    lens_pool *p = wa.pool;
    unsigned long seen = 0;
    for (;;) {
        if (!spin_until(p, new_run, seen)) {
            /* sleepers is raised before generation is read again, and the
             * caller bumps generation before it reads sleepers (both seq_cst):
             * at least one of the two sees the other, so no wake-up is lost */
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while (!new_run(p, seen)) pthread_cond_wait(&p->wake, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->stopping)) break;
        seen = atomic_load(&p->generation);
        drain(p, wa.index);
        if (atomic_fetch_sub(&p->active, 1) == 1 && atomic_load(&p->caller_asleep)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

int lens_pool_new(lens_pool **out, int n_threads, lens_error *err)
{
    *out = NULL;
    if (n_threads <= 0) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        n_threads = n > 0 ? (int)n : 1;
    }
    if (n_threads > 256) n_threads = 256;
    lens_pool *p = calloc(1, sizeof *p);
    if (!p) return lens_error_set(err, LENS_ENOMEM, "thread pool: out of memory");
    p->n_threads = n_threads;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->wake, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1) {
        p->workers = calloc((size_t)n_threads - 1, sizeof *p->workers);
        if (!p->workers) {
            free(p);
            return lens_error_set(err, LENS_ENOMEM, "thread pool: out of memory");
        }
    }
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa || (wa->pool = p, wa->index = i,
                    pthread_create(&p->workers[i - 1], NULL, worker_main, wa)) != 0) {
            free(wa);
            p->n_threads = i; /* join the ones that started */
            lens_pool_free(p);
            return lens_error_set(err, LENS_ENOMEM, "thread pool: cannot start thread %d", i);
        }
    }
    *out = p;
    return LENS_OK;
}

void lens_pool_free(lens_pool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->stopping, 1);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->workers[i - 1], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->wake);
    pthread_cond_destroy(&p->done);
    free(p->workers);
    free(p);
}

int lens_pool_size(const lens_pool *p) { return p ? p->n_threads : 1; }

void lens_pool_run(lens_pool *p, int n_tasks, lens_pool_fn fn, void *ctx)
{
    if (n_tasks <= 0) return;
    if (!p || p->n_threads == 1 || n_tasks == 1) {
        for (int t = 0; t < n_tasks; t++) fn(ctx, t, 0);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n_tasks = n_tasks;
    atomic_store(&p->next, 0);
    atomic_store(&p->active, p->n_threads - 1);
    atomic_fetch_add(&p->generation, 1); /* publishes the job */
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mu);
    }

    drain(p, 0);

    if (!spin_until(p, all_done, 0)) {
        pthread_mutex_lock(&p->mu);
        atomic_store(&p->caller_asleep, 1);
        while (!all_done(p, 0)) pthread_cond_wait(&p->done, &p->mu);
        atomic_store(&p->caller_asleep, 0);
        pthread_mutex_unlock(&p->mu);
    }
}
