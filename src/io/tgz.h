/* Reading a gzip'd tar archive (an npm tarball) entry by entry (internal).
 * zlib inflates (input without gzip's magic is read as a plain tar); the tar reader knows ustar (name + prefix), pax extended
 * headers ("path" and "size" records) and GNU long names. The archive is
 * input: every header is checked (checksum, octal fields, sizes) and a
 * malformed one is an error naming the archive and the entry. */
#ifndef LENS_IO_TGZ_H
#define LENS_IO_TGZ_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

typedef struct lens__tgz lens__tgz;

typedef struct lens__tgz_entry {
    char name[4096];  /* path inside the archive, as stored */
    uint64_t size;    /* bytes of data (0 for directories and links) */
    char type;        /* '0' regular file, '5' directory, '2' symlink, ... */
} lens__tgz_entry;

int lens__tgz_open_file(lens__tgz **out, const char *path, lens_error *err);
/* data must outlive the reader; name is for error messages */
int lens__tgz_open_memory(lens__tgz **out, const char *name, const void *data, size_t n, lens_error *err);
/* The next entry: 1 and *e filled, 0 at the end of the archive, < 0 on error.
 * Data of the previous entry that was not read is skipped. */
int lens__tgz_next(lens__tgz *t, lens__tgz_entry *e, lens_error *err);
/* Reads up to cap bytes of the current entry's data into buf; *got = 0 at
 * its end. */
int lens__tgz_read(lens__tgz *t, void *buf, size_t cap, size_t *got, lens_error *err);
void lens__tgz_close(lens__tgz *t);

#endif
