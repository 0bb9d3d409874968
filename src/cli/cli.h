/* lens command-line entry points (internal to the binary). */
#ifndef LENS_CLI_H
#define LENS_CLI_H

#include <stdatomic.h>
#include <stdint.h>

int cmd_embed(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_tokenize(int argc, char **argv);
int cmd_analyze(int argc, char **argv);
int cmd_train_static(int argc, char **argv);
int cmd_project(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_video(int argc, char **argv);
int cmd_graph(int argc, char **argv);
/* all-MiniLM-L6-v2 when it is in the cache, else the bundled static model
 * (buf holds the cache path it looked at) */
const char *cli_default_model(char *buf, size_t cap);

/* Prints "lens: <msg>" on stderr; returns exit status 1. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Parses a positive int flag value or fails with a message. */
int cli_int(const char *flag, const char *v, int lo, int hi, int *out);
/* Set by SIGINT/SIGTERM; long loops check it between chunks, and the
 * library's jobs poll it from their threads (opts.stop): a lock-free
 * atomic, which a signal handler may set as well as a volatile
 * sig_atomic_t, and which other threads may read (C11 7.14.1.1). */
extern atomic_int cli_stop;
void cli_install_signals(void);
/* "42s", "3m07s", "2h05m" ("?" when negative or absurd): an ETA */
void cli_fmt_secs(char *buf, size_t cap, double s);

/* Progress line on stderr: redrawn when stderr is a terminal, otherwise
 * silent until cli_progress_done prints one summary line. */
typedef struct cli_progress {
    const char *what;
    double start, last_draw, work_start; /* work_start: the rate and ETA's clock */
    uint64_t total; /* rows in all, when known (0: not), shown as done/total */
    int tty;
    uint64_t base_rows; /* done before this run (a resumed job) */
    double base_fraction;
} cli_progress;

void cli_progress_start(cli_progress *p, const char *what);
/* done rows; fraction of input consumed in [0,1] (or < 0 if unknown) */
void cli_progress_update(cli_progress *p, uint64_t rows, double fraction);
/* Where the work starts (after setup; a resumed job: rows and fraction
 * already done): what came before counts neither for the rate nor for the
 * ETA. */
void cli_progress_rebase(cli_progress *p, uint64_t rows, double fraction);
void cli_progress_done(cli_progress *p, uint64_t rows, const char *extra);

#endif
