/* lens — errors.
 *
 * Every fallible function returns an int status (LENS_OK or a negative code)
 * and fills a caller-owned lens_error with one line that says what failed and
 * where (file, tensor, line, ...). No global errno-style state. */
#ifndef LENS_ERROR_H
#define LENS_ERROR_H

/* Marks the functions of the public API, the only symbols liblens.so
 * exports (the library is built with hidden visibility). */
#if defined(__GNUC__) || defined(__clang__)
#define LENS_API __attribute__((visibility("default")))
#else
#define LENS_API
#endif

#ifdef __cplusplus
extern "C" {
#endif

enum {
    LENS_OK = 0,
    LENS_EINVAL = -1,   /* bad argument or bad user input */
    LENS_EIO = -2,      /* read/write/open failed */
    LENS_ENOMEM = -3,   /* allocation failed or a size limit was hit */
    LENS_EFORMAT = -4,  /* malformed file */
    LENS_ENET = -5,     /* network failure */
    LENS_ENOTFOUND = -6,/* model, file or key not found */
    LENS_ECANCEL = -7,  /* stopped on request */
    LENS_EUNSUP = -8    /* valid but unsupported (dtype, architecture, ...) */
};

typedef struct lens_error {
    int code;
    char msg[512];
} lens_error;

/* Sets err (if non-NULL) and returns code, so callers can write
 * `return lens_error_set(err, LENS_EIO, "open %s: %s", path, strerror(errno));` */
LENS_API int lens_error_set(lens_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes an existing message with context ("loading model X: ..."). */
LENS_API int lens_error_wrap(lens_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

LENS_API void lens_error_clear(lens_error *err);
LENS_API const char *lens_status_name(int code);

#ifdef __cplusplus
}
#endif
#endif
