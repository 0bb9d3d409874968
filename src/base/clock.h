/* Clocks (internal): the one place lens reads the time. */
#ifndef LENS_BASE_CLOCK_H
#define LENS_BASE_CLOCK_H

#include <time.h>

/* Seconds on CLOCK_MONOTONIC: for durations, rates and deadlines (never
 * jumps when the wall clock is set). */
double lens__clock_mono(void);
/* Seconds since the Unix epoch: for timestamps that are shown or stored. */
double lens__clock_wall(void);
/* The CLOCK_REALTIME instant s seconds from now (s < 0 counts as 0), the
 * deadline pthread_cond_timedwait takes. */
struct timespec lens__clock_deadline(double s);

#endif
