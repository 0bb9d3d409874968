/* Escaping for the CSV, JSON and HTML that lens writes (see lens/escape.h,
 * io/escape.h). */
#include "lens/escape.h"

#include "io/escape.h"

#include <string.h>

void lens_csv_write_field(FILE *f, const char *s)
{
    if (!s[strcspn(s, ",\"\r\n")]) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_str(FILE *f, const char *s, int in_html)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\') fprintf(f, "\\%c", ch);
        else if (ch < 0x20 || (ch == '<' && in_html)) fprintf(f, "\\u%04x", ch);
        else fputc(ch, f);
    }
    fputc('"', f);
}

void lens_json_str(FILE *f, const char *s) { json_str(f, s, 0); }
void lens_json_str_in_html(FILE *f, const char *s) { json_str(f, s, 1); }

void lens__html_str(FILE *f, const char *s, int br)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        case '\r':
            if (!br) fputc('\r', f);
            break;
        case '\n':
            if (br) fputs("<br>", f);
            else fputc('\n', f);
            break;
        default: fputc(*s, f);
        }
    }
}
