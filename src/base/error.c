#include "lens/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int lens_error_set(lens_error *err, int code, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
        err->code = code;
    }
    return code;
}

int lens_error_wrap(lens_error *err, const char *fmt, ...)
{
    if (!err) return LENS_EINVAL;
    char prefix[256], old[sizeof err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(prefix, sizeof prefix, fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof old);
    /* the tail of a long message may be cut; the start says what and where */
    size_t n = strlen(prefix);
    if (n > sizeof err->msg - 3) n = sizeof err->msg - 3;
    memcpy(err->msg, prefix, n);
    memcpy(err->msg + n, ": ", 2);
    size_t room = sizeof err->msg - n - 3;
    size_t m = strnlen(old, room);
    memcpy(err->msg + n + 2, old, m);
    err->msg[n + 2 + m] = '\0';
    return err->code;
}

void lens_error_clear(lens_error *err)
{
    if (err) {
        err->code = LENS_OK;
        err->msg[0] = '\0';
    }
}

const char *lens_status_name(int code)
{
    switch (code) {
    case LENS_OK: return "ok";
    case LENS_EINVAL: return "invalid argument";
    case LENS_EIO: return "i/o error";
    case LENS_ENOMEM: return "out of memory";
    case LENS_EFORMAT: return "malformed input";
    case LENS_ENET: return "network error";
    case LENS_ENOTFOUND: return "not found";
    case LENS_ECANCEL: return "cancelled";
    case LENS_EUNSUP: return "unsupported";
    default: return "unknown error";
    }
}
