/* lens — escaping for the CSV and JSON that lens writes. */
#ifndef LENS_ESCAPE_H
#define LENS_ESCAPE_H

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A CSV field, quoted only when it holds a comma, quote or line break
 * (RFC 4180). */
void lens_csv_field(FILE *f, const char *s);
/* A JSON string with its quotes; UTF-8 passes through unchanged. */
void lens_json_str(FILE *f, const char *s);

#ifdef __cplusplus
}
#endif
#endif
