/* lens — escaping for the CSV and JSON that lens writes. */
#ifndef LENS_ESCAPE_H
#define LENS_ESCAPE_H

#include <stdio.h>

#include "lens/error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Writes a CSV field, quoted only when it holds a comma, quote or line
 * break (RFC 4180). */
LENS_API void lens_csv_write_field(FILE *f, const char *s);
/* A JSON string with its quotes; UTF-8 passes through unchanged. */
LENS_API void lens_json_str(FILE *f, const char *s);
/* The same for JSON inside an HTML <script> element: '<' is written as
 * \u003c too, so no "</script>" in s can close the element. */
LENS_API void lens_json_str_in_html(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
