#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "base/buf.h"

void lens__csv_init(lens__csv *c, lens__stream *s, const char *path)
{
    memset(c, 0, sizeof *c);
    c->s = s;
    c->path = path;
    c->next_line = 1;
    c->pushback = -1;
}

void lens__csv_free(lens__csv *c)
{
    free(c->buf);
    free(c->starts);
    memset(c, 0, sizeof *c);
}

static int put(lens__csv *c, char ch)
{
    if (lens__grow((void **)&c->buf, &c->cap, c->len + 1, 1)) return -1;
    c->buf[c->len++] = ch;
    return 0;
}

static int start_field(lens__csv *c)
{
    if (lens__grow((void **)&c->starts, &c->fields_cap, c->n_fields + 1, sizeof *c->starts)) return -1;
    c->starts[c->n_fields++] = c->len;
    return 0;
}

static int next_char(lens__csv *c)
{
    if (c->pushback != -1) {
        int ch = c->pushback;
        c->pushback = -1;
        return ch;
    }
    int ch = lens__stream_getc(c->s);
    if (ch == '\n') c->next_line++;
    return ch;
}

int lens__csv_next(lens__csv *c, lens_error *err)
{
    c->len = 0;
    c->n_fields = 0;
    c->line = c->next_line;
    int ch = next_char(c);
    if (ch == -1) return 0;
    int in_quotes = 0, oom = start_field(c);
    size_t quote_line = 0;
    for (;; ch = next_char(c)) {
        if (ch == -2)
            return lens_error_set(err, lens__stream_error_code(c->s), "%s:%zu: %s", c->path, c->next_line,
                                  lens__stream_error(c->s));
        if (in_quotes) {
            if (ch == -1)
                return lens_error_set(err, LENS_EFORMAT,
                                      "%s:%zu: quoted field never closed (end of file)", c->path,
                                      quote_line);
            if (ch != '"') {
                oom |= put(c, (char)ch);
            } else if ((ch = next_char(c)) == '"') {
                oom |= put(c, '"'); /* "" inside quotes */
            } else {
                in_quotes = 0;
                c->pushback = ch;
            }
        } else if (ch == -1 || ch == '\n') {
            break;
        } else if (ch == '\r') {
            if ((ch = next_char(c)) != '\n') c->pushback = ch; /* lone CR ends a record too */
            break;
        } else if (ch == ',') {
            oom |= put(c, '\0');
            oom |= start_field(c);
        } else if (ch == '"' && c->len == c->starts[c->n_fields - 1]) {
            in_quotes = 1; /* a quote opens a field only at its start */
            quote_line = c->next_line;
        } else {
            oom |= put(c, (char)ch);
        }
        if (oom) return lens_error_set(err, LENS_ENOMEM, "%s:%zu: out of memory", c->path, c->line);
    }
    if (put(c, '\0')) return lens_error_set(err, LENS_ENOMEM, "%s:%zu: out of memory", c->path, c->line);
    return 1;
}
