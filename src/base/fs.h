/* Small filesystem helpers (internal). */
#ifndef LENS_BASE_FS_H
#define LENS_BASE_FS_H

#include <stdio.h>

#include "lens/error.h"

/* mkdir -p */
int lens__mkdirs(const char *path, lens_error *err);
/* rm -rf; missing paths are fine */
int lens__rmtree(const char *path, lens_error *err);
int lens__is_dir(const char *path);
int lens__is_file(const char *path);

/* Writing a file whole or not at all, the one way lens writes its outputs.
 * open creates a temporary file beside path (path.tmp-PID-N); write through
 * lens__afile_stream. finish checks that every write succeeded (fflush,
 * ferror, fclose) and fsyncs the file, which stays a temporary: a job that
 * writes several files finishes them all before it puts any in place.
 * commit finishes (if not yet), renames the file over path and fsyncs the
 * directory, so a failure, a kill or a power loss leaves either the old path
 * or the new one, never a part. A failure removes the temporary and the
 * error names path. commit and abort free a; abort removes the temporary;
 * abort(NULL) is a no-op. */
typedef struct lens__afile lens__afile;
int lens__afile_open(lens__afile **out, const char *path, lens_error *err);
FILE *lens__afile_stream(lens__afile *a);
int lens__afile_finish(lens__afile *a, lens_error *err);
int lens__afile_commit(lens__afile *a, lens_error *err);
void lens__afile_abort(lens__afile *a);

/* Makes dst a hard link to src, replacing dst atomically (link beside it,
 * rename, fsync the directory). src's data must already be synced. */
int lens__link_replace(const char *src, const char *dst, lens_error *err);

/* Replaces the directory dir by stage, a complete directory beside it (same
 * filesystem): every file and directory in stage is fsynced, then the two
 * are swapped in one step (renameat2 RENAME_EXCHANGE; two renames where the
 * filesystem lacks it), the parent is fsynced and the old dir removed. On
 * failure dir is as it was and stage is left for the caller to remove. */
int lens__replace_dir(const char *stage, const char *dir, lens_error *err);

/* open(path, flags) confined to the directory root: path is relative to
 * root or absolute under it, and neither it nor a symlink on its way may
 * lead outside root (symlinks that stay inside are followed). The check is
 * the open itself (openat2 RESOLVE_BENEATH; where that is missing, the
 * opened file's real path), so a file swapped for a symlink after an
 * earlier check is refused too. Only regular files and directories open.
 * root NULL: a plain open. Returns the fd, or a negative LENS_E* code with
 * err naming path: LENS_EINVAL "...: refused: it leads outside the data
 * root", LENS_ENOTFOUND, LENS_EIO. */
int lens__open_beneath(const char *root, const char *path, int flags, lens_error *err);

/* fsync of a file or directory by path (the parent after creating, renaming
 * or removing an entry in it). */
int lens__fsync_path(const char *path, lens_error *err);
/* the directory part of path ("." when it has none) */
void lens__dirname(const char *path, char *dir, size_t cap);
/* the last component of path, trailing slashes aside ("a/b/" -> "b"):
 * how a model is named to clients, never where it lies on this machine */
void lens__basename(const char *path, char *out, size_t cap);

#endif
