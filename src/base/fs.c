#define _XOPEN_SOURCE 700
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int lens__is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

int lens__is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

int lens__mkdirs(const char *path, lens_error *err)
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
    if (!lens__is_dir(path)) return lens_error_set(err, LENS_EIO, "%s exists and is not a directory", path);
    return LENS_OK;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p) == 0 || errno == ENOENT ? 0 : -1;
}

int lens__rmtree(const char *path, lens_error *err)
{
    struct stat st;
    if (lstat(path, &st) != 0) return LENS_OK;
    if (nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS) != 0)
        return lens_error_set(err, LENS_EIO, "cannot remove %s: %s", path, strerror(errno));
    return LENS_OK;
}

/* ---------------------------------------------------------------- durable writes */

void lens__dirname(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (!slash) snprintf(dir, cap, ".");
    else if (slash == path) snprintf(dir, cap, "/");
    else snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

void lens__basename(const char *path, char *out, size_t cap)
{
    const char *p = path ? path : "";
    size_t n = strlen(p);
    while (n > 1 && p[n - 1] == '/') n--;
    size_t b = n;
    while (b > 0 && p[b - 1] != '/') b--;
    snprintf(out, cap, "%.*s", (int)(n - b), p + b);
}

int lens__fsync_path(const char *path, lens_error *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    /* EINVAL: a file system that cannot sync this (some do not sync
     * directories); there is nothing more to do */
    if (fd < 0 || (fsync(fd) != 0 && errno != EINVAL)) {
        int e = errno;
        if (fd >= 0) close(fd);
        return lens_error_set(err, LENS_EIO, "cannot sync %s: %s", path, strerror(e));
    }
    close(fd);
    return LENS_OK;
}

static int sync_parent(const char *path, lens_error *err)
{
    char dir[4096];
    lens__dirname(path, dir, sizeof dir);
    return lens__fsync_path(dir, err);
}

/* A new name beside path for a temporary: path.tmp-PID-N, the first N that
 * make(name) does not find taken (EEXIST), so neither two threads nor a
 * dead process's leftover collide. Returns make's result or -1. */
static int beside(const char *path, char *tmp, size_t cap, int (*make)(const char *name, const void *arg),
                  const void *arg)
{
    for (unsigned n = 0; n < 1000; n++) {
        if (snprintf(tmp, cap, "%s.tmp-%ld-%u", path, (long)getpid(), n) >= (int)cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int r = make(tmp, arg);
        if (r >= 0 || errno != EEXIST) return r;
    }
    return -1;
}

struct lens__afile {
    FILE *f;      /* NULL once finished */
    int finished; /* 1: synced and closed, a whole temporary; -1: failed, removed */
    char path[4096], tmp[4200];
};

static int make_file(const char *name, const void *arg)
{
    (void)arg;
    return open(name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666); /* 0666: the umask decides, as for fopen */
}

int lens__afile_open(lens__afile **out, const char *path, lens_error *err)
{
    *out = NULL;
    lens__afile *a = calloc(1, sizeof *a);
    if (!a) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    if (snprintf(a->path, sizeof a->path, "%s", path) >= (int)sizeof a->path) {
        free(a);
        return lens_error_set(err, LENS_EINVAL, "path too long: %s", path);
    }
    int fd = beside(path, a->tmp, sizeof a->tmp, make_file, NULL);
    if (fd < 0 || !(a->f = fdopen(fd, "w"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        free(a);
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(e));
    }
    *out = a;
    return LENS_OK;
}

FILE *lens__afile_stream(lens__afile *a) { return a->f; }

int lens__afile_finish(lens__afile *a, lens_error *err)
{
    if (a->finished > 0) return LENS_OK;
    if (a->finished < 0) return lens_error_set(err, LENS_EIO, "cannot write %s: failed before", a->path);
    /* a failed write leaves errno set, and so does flushing what is left */
    int e = 0;
    if (fflush(a->f) != 0) e = errno;
    else if (ferror(a->f)) e = errno ? errno : EIO;
    if (!e && fsync(fileno(a->f)) != 0) e = errno;
    if (fclose(a->f) != 0 && !e) e = errno;
    a->f = NULL;
    if (e) {
        unlink(a->tmp);
        a->finished = -1;
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", a->path, strerror(e));
    }
    a->finished = 1;
    return LENS_OK;
}

int lens__afile_commit(lens__afile *a, lens_error *err)
{
    int rc = lens__afile_finish(a, err);
    if (!rc && rename(a->tmp, a->path) != 0) {
        rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", a->path, strerror(errno));
        unlink(a->tmp);
    }
    if (!rc) rc = sync_parent(a->path, err);
    free(a);
    return rc;
}

void lens__afile_abort(lens__afile *a)
{
    if (!a) return;
    if (a->f) fclose(a->f);
    if (a->finished >= 0) unlink(a->tmp);
    free(a);
}

static int make_link(const char *name, const void *src) { return link((const char *)src, name); }

int lens__link_replace(const char *src, const char *dst, lens_error *err)
{
    char tmp[4200];
    if (beside(dst, tmp, sizeof tmp, make_link, src) != 0)
        return lens_error_set(err, LENS_EIO, "cannot link %s to %s: %s", dst, src, strerror(errno));
    if (rename(tmp, dst) != 0) {
        int e = errno;
        unlink(tmp);
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", dst, strerror(e));
    }
    return sync_parent(dst, err);
}

/* nftw has no context argument: a failure's errno is the return value */
static int sync_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    if (flag != FTW_F && flag != FTW_D) return 0; /* links and the like have no data of their own */
    if (flag == FTW_F && !S_ISREG(sb->st_mode)) return 0;
    int fd = open(p, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return errno;
    int e = fsync(fd) != 0 && errno != EINVAL ? errno : 0;
    close(fd);
    return e;
}

static int make_rename(const char *name, const void *dir)
{
    /* rename replaces an existing name, so check first: a leftover by that
     * name is skipped as taken */
    struct stat st;
    if (lstat(name, &st) == 0) {
        errno = EEXIST;
        return -1;
    }
    return rename((const char *)dir, name);
}

int lens__replace_dir(const char *stage, const char *dir, lens_error *err)
{
    int e = nftw(stage, sync_one, 16, FTW_PHYS);
    if (e) return lens_error_set(err, LENS_EIO, "cannot sync %s: %s", stage, strerror(e > 0 ? e : errno));
    struct stat st;
    if (lstat(dir, &st) != 0) {
        if (rename(stage, dir) != 0)
            return lens_error_set(err, LENS_EIO, "cannot rename %s to %s: %s", stage, dir, strerror(errno));
        return sync_parent(dir, err);
    }
    /* one atomic swap; stage then holds the old directory */
    const char *old = stage;
    char aside[4200];
    if (renameat2(AT_FDCWD, stage, AT_FDCWD, dir, RENAME_EXCHANGE) != 0) {
        if (errno != EINVAL && errno != ENOSYS)
            return lens_error_set(err, LENS_EIO, "cannot replace %s by %s: %s", dir, stage, strerror(errno));
        /* no exchange here: the old one aside, the new one in */
        if (beside(dir, aside, sizeof aside, make_rename, dir) != 0)
            return lens_error_set(err, LENS_EIO, "cannot move %s aside: %s", dir, strerror(errno));
        if (rename(stage, dir) != 0) {
            int en = errno;
            rename(aside, dir);
            return lens_error_set(err, LENS_EIO, "cannot rename %s to %s: %s", stage, dir, strerror(en));
        }
        old = aside;
    }
    int rc = sync_parent(dir, err);
    if (!rc) rc = lens__rmtree(old, err);
    return rc;
}
