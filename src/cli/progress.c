/* What every subcommand shares (see cli.h): SIGINT/SIGTERM handling, error
 * lines, integer flags, and the progress line with its rate and ETA. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/clock.h"
#include "cli.h"

_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "a signal handler may only set a lock-free atomic");
atomic_int cli_stop = 0;

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&cli_stop, 1);
}

void cli_install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

int cli_fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("lens: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

int cli_int(const char *flag, const char *v, int lo, int hi, int *out)
{
    char *end;
    long x = v ? strtol(v, &end, 10) : 0;
    if (!v || *end || x < lo || x > hi) return cli_fail("%s needs an integer in %d..%d", flag, lo, hi);
    *out = (int)x;
    return 0;
}

void cli_progress_start(cli_progress *p, const char *what)
{
    p->what = what;
    p->start = p->work_start = lens__clock_mono();
    p->last_draw = 0;
    p->tty = isatty(STDERR_FILENO);
    p->base_rows = 0;
    p->base_fraction = 0;
    p->total = 0;
}

void cli_progress_rebase(cli_progress *p, uint64_t rows, double fraction)
{
    p->base_rows = rows;
    p->base_fraction = fraction > 0 ? fraction : 0;
    p->work_start = lens__clock_mono();
}

void cli_fmt_secs(char *buf, size_t cap, double s)
{
    if (s < 0 || s > 1e7) snprintf(buf, cap, "?");
    else if (s < 60) snprintf(buf, cap, "%.0fs", s);
    else if (s < 3600) snprintf(buf, cap, "%dm%02ds", (int)s / 60, (int)s % 60);
    else snprintf(buf, cap, "%dh%02dm", (int)s / 3600, ((int)s % 3600) / 60);
}

void cli_progress_update(cli_progress *p, uint64_t rows, double fraction)
{
    if (!p->tty) return;
    double now = lens__clock_mono();
    if (now - p->last_draw < 0.2) return;
    p->last_draw = now;
    double el = now - p->work_start, rate = el > 0 ? (rows - p->base_rows) / el : 0;
    double done = fraction - p->base_fraction;
    char eta[32] = "?";
    if (done > 0.001) cli_fmt_secs(eta, sizeof eta, el * (1 - fraction) / done);
    int width = 24, fill = fraction >= 0 ? (int)(fraction * width + 0.5) : 0;
    char bar[64];
    for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
    bar[width] = '\0';
    char of[32] = "";
    if (p->total) snprintf(of, sizeof of, "/%llu", (unsigned long long)p->total);
    fprintf(stderr, "\r%s [%s] %3.0f%% %llu%s rows, %.0f rows/s, ETA %s   ", p->what, bar,
            fraction >= 0 ? fraction * 100 : 0.0, (unsigned long long)rows, of, rate, eta);
}

void cli_progress_done(cli_progress *p, uint64_t rows, const char *extra)
{
    double el = lens__clock_mono() - p->start;
    if (p->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "%s: %llu rows in %.2fs (%.1f rows/s)%s%s\n", p->what, (unsigned long long)(rows - p->base_rows),
            el, el > 0 ? (rows - p->base_rows) / el : 0.0, extra && *extra ? ", " : "", extra ? extra : "");
}
