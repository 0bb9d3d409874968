#define _XOPEN_SOURCE 700
/* Filesystem helpers (see fs.h). */
#include "fs.h"

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lens_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int lens_is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int lens_mkdirs(const char *path, lens_error *err)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return lens_error_set(err, LENS_EINVAL, "path too long: %s", path);
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0755) != 0 && errno != EEXIST)
                return lens_error_set(err, LENS_EIO, "mkdir %s: %s", buf, strerror(errno));
            if (c == '\0') break;
            *p = c;
        }
    }
    if (!lens_is_dir(path)) return lens_error_set(err, LENS_EIO, "%s exists and is not a directory", path);
    return LENS_OK;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p) == 0 || errno == ENOENT ? 0 : -1;
}

int lens_rmtree(const char *path, lens_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) return LENS_OK;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return lens_error_set(err, LENS_EIO, "cannot remove %s: %s", path, strerror(errno));
    return LENS_OK;
}

int lens_afile_open(lens_afile *a, const char *path, int unique, lens_error *err)
{
    a->f = NULL;
    int n = unique ? snprintf(a->tmp, sizeof a->tmp, "%s.tmp-%ld", path, (long)getpid())
                   : snprintf(a->tmp, sizeof a->tmp, "%s.tmp", path);
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path || n >= (int)sizeof a->tmp)
        return lens_error_set(err, LENS_EINVAL, "path too long: %s", path);
    if (!(a->f = fopen(a->tmp, "w"))) return lens_error_set(err, LENS_EIO, "%s: %s", a->tmp, strerror(errno));
    return LENS_OK;
}

int lens_afile_commit(lens_afile *a, lens_error *err)
{
    int bad = ferror(a->f);
    bad |= fclose(a->f) != 0;
    a->f = NULL;
    int rc = LENS_OK;
    if (bad) rc = lens_error_set(err, LENS_EIO, "%s: write failed", a->tmp);
    else if (rename(a->tmp, a->path)) rc = lens_error_set(err, LENS_EIO, "rename %s: %s", a->tmp, strerror(errno));
    if (rc) unlink(a->tmp);
    return rc;
}

void lens_afile_abort(lens_afile *a)
{
    if (a->f) fclose(a->f);
    a->f = NULL;
    unlink(a->tmp);
}
