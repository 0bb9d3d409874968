/* Clocks (see clock.h). */
#include "clock.h"

#include <time.h>

double lens__clock_mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

double lens__clock_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

struct timespec lens__clock_deadline(double s)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    if (!(s > 0)) s = 0;
    if (s > 1e9) s = 1e9; /* about 30 years: "forever", without overflowing */
    long long ns = (long long)(s * 1e9);
    ts.tv_sec += (time_t)(ns / 1000000000LL);
    ts.tv_nsec += (long)(ns % 1000000000LL);
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    return ts;
}
