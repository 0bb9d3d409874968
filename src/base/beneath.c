/* Opening a file confined to a directory (see fs.h): the check is made on
 * the open itself, so a file swapped for a symlink after some earlier check
 * is still refused. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs.h"

/* p relative to root (root itself: "."), or NULL when p is absolute and not under root */
static const char *relative(const char *root, const char *p)
{
    if (p[0] != '/') return p;
    size_t n = strlen(root);
    while (n > 1 && root[n - 1] == '/') n--;
    if (strncmp(p, root, n) || (p[n] != '/' && p[n] != '\0')) return NULL;
    p += n;
    while (*p == '/') p++;
    return *p ? p : ".";
}

static int escapes(const char *path, lens_error *err)
{
    return lens_error_set(err, LENS_EINVAL, "%s: refused: it leads outside the data root (a symlink?)", path);
}

static int open_error(const char *path, int e, lens_error *err)
{
    return lens_error_set(err, e == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "%s: %s", path, strerror(e));
}

/* Linux 5.6+: the kernel resolves rel beneath dirfd and refuses any step
 * out (.., absolute or escaping symlinks, /proc magic links). -1 with
 * errno ENOSYS when the kernel (or a seccomp filter) lacks openat2. */
static int openat2_beneath(int dirfd, const char *rel, int flags)
{
#ifdef SYS_openat2
    struct open_how how = {.flags = (unsigned long long)flags, .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS};
    return (int)syscall(SYS_openat2, dirfd, rel, &how, sizeof how);
#else
    (void)dirfd, (void)rel, (void)flags;
    errno = ENOSYS;
    return -1;
#endif
}

/* where fd really is, by /proc/self/fd: under real_root? */
static int fd_under(int fd, const char *real_root)
{
    char link[64], target[PATH_MAX];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0) return 0;
    target[n] = '\0';
    size_t m = strlen(real_root);
    if (m == 1) return 1; /* the root is / */
    return !strncmp(target, real_root, m) && (target[m] == '/' || target[m] == '\0');
}

int lens__open_beneath(const char *root, const char *path, int flags, lens_error *err)
{
    flags |= O_CLOEXEC;
    if (!root) {
        int fd = open(path, flags);
        return fd >= 0 ? fd : open_error(path, errno, err);
    }
    char real_root[PATH_MAX];
    if (!realpath(root, real_root)) return open_error(root, errno, err);
    const char *rel = relative(real_root, path);
    if (!rel) rel = relative(root, path); /* root as given, not resolved */
    if (!rel) return escapes(path, err);
    int dirfd = open(real_root, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) return open_error(root, errno, err);
    /* O_NONBLOCK: a FIFO must not hang the open; cleared below */
    int fd = openat2_beneath(dirfd, rel, flags | O_NONBLOCK), e = errno;
    if (fd < 0 && (e == EXDEV || e == ELOOP || e == ENOSYS || e == EPERM || e == EINVAL)) {
        /* refused by openat2 (an absolute symlink is refused even when it
         * stays inside), or no openat2: resolve the name, refuse it when it
         * leads out, open what it names, and check where the open landed */
        char joined[PATH_MAX * 2], real[PATH_MAX];
        snprintf(joined, sizeof joined, "%s/%s", real_root, rel);
        if (!realpath(joined, real)) {
            e = errno;
            fd = -1;
        } else if (!relative(real_root, real)) {
            close(dirfd);
            return escapes(path, err);
        } else {
            fd = open(real, flags | O_NONBLOCK | O_NOFOLLOW);
            e = errno;
            if (fd >= 0 && !fd_under(fd, real_root)) {
                close(fd);
                close(dirfd);
                return escapes(path, err);
            }
        }
    }
    close(dirfd);
    if (fd < 0) return e == EXDEV || e == ELOOP ? escapes(path, err) : open_error(path, e, err);
    struct stat st;
    if (fstat(fd, &st) || (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))) {
        close(fd);
        return lens_error_set(err, LENS_EINVAL, "%s: not a regular file", path);
    }
    if (!(flags & O_NONBLOCK)) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}
