/* Escaping for the HTML pages lens writes (internal): report.html of
 * lens analyze and of lens video. */
#ifndef LENS_IO_ESCAPE_H
#define LENS_IO_ESCAPE_H

#include <stdio.h>

/* s as HTML text or a quoted attribute value: < > & " ' as entities; br:
 * line breaks as <br> and carriage returns dropped (else kept as they are). */
void lens__html_str(FILE *f, const char *s, int br);

#endif
