/* Durable writes (src/base/fs.h): a file or directory is replaced whole or
 * not at all. Failures are provoked for real: a file-size limit (RLIMIT_FSIZE,
 * EFBIG as on a full disk), a missing directory, a taken temporary name.
 * Confined opens (lens__open_beneath) follow symlinks inside the root and
 * refuse every way out. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "lens/io.h"
#include "test.h"

static char dir[256];

static const char *at(const char *name)
{
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static void put(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    fputs(text, f);
    fclose(f);
}

static int same(const char *path, const char *text)
{
    char buf[256] = "";
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return !strcmp(buf, text);
}

/* names in dir that contain needle */
static int count(const char *d, const char *needle)
{
    DIR *dd = opendir(d);
    int n = 0;
    struct dirent *e;
    while (dd && (e = readdir(dd)))
        if (strstr(e->d_name, needle)) n++;
    if (dd) closedir(dd);
    return n;
}

static void test_afile(void)
{
    lens_error err = {0};
    lens__afile *a;
    /* a new file: written, renamed, its mode the umask's as with fopen */
    mode_t old = umask(022);
    CHECK(lens__afile_open(&a, at("out.csv"), &err) == 0, "%s", err.msg);
    fputs("a,b\n1,2\n", lens__afile_stream(a));
    CHECK(!lens__is_file(at("out.csv")), "the file appears before commit");
    CHECK(count(dir, "out.csv.tmp-") == 1, "no temporary beside the file");
    CHECK(lens__afile_commit(a, &err) == 0, "%s", err.msg);
    CHECK(same(at("out.csv"), "a,b\n1,2\n"), "content");
    CHECK(count(dir, ".tmp-") == 0, "a temporary is left");
    struct stat st;
    CHECK(stat(at("out.csv"), &st) == 0 && (st.st_mode & 0777) == 0644, "mode %o", (unsigned)(st.st_mode & 0777));
    umask(old);

    /* abort leaves the earlier file as it was */
    CHECK(lens__afile_open(&a, at("out.csv"), &err) == 0, "%s", err.msg);
    fputs("half", lens__afile_stream(a));
    lens__afile_abort(a);
    CHECK(same(at("out.csv"), "a,b\n1,2\n"), "abort clobbered the file");
    CHECK(count(dir, ".tmp-") == 0, "abort left a temporary");
    lens__afile_abort(NULL);

    /* finish: synced but still a temporary, so several files can be made
     * ready before any is put in place; abort then removes it */
    lens__afile *b;
    CHECK(lens__afile_open(&a, at("r1.csv"), &err) == 0 && lens__afile_open(&b, at("r2.csv"), &err) == 0, "%s", err.msg);
    fputs("one", lens__afile_stream(a));
    fputs("two", lens__afile_stream(b));
    CHECK(lens__afile_finish(a, &err) == 0 && lens__afile_finish(b, &err) == 0, "%s", err.msg);
    CHECK(!lens__is_file(at("r1.csv")) && !lens__is_file(at("r2.csv")) && count(dir, ".tmp-") == 2, "finish put a file in place");
    CHECK(lens__afile_commit(a, &err) == 0, "%s", err.msg);
    lens__afile_abort(b);
    CHECK(same(at("r1.csv"), "one") && !lens__is_file(at("r2.csv")) && count(dir, ".tmp-") == 0, "commit or abort after finish");

    /* a leftover temporary of a dead process with our pid is not reused */
    char taken[600];
    snprintf(taken, sizeof taken, "%s.tmp-%ld-0", at("t.csv"), (long)getpid());
    put(taken, "leftover");
    CHECK(lens__afile_open(&a, at("t.csv"), &err) == 0, "%s", err.msg);
    fputs("new", lens__afile_stream(a));
    CHECK(lens__afile_commit(a, &err) == 0, "%s", err.msg);
    CHECK(same(at("t.csv"), "new") && same(taken, "leftover"), "a taken temporary name was reused");
    unlink(taken);

    /* no such directory: one error naming the file */
    CHECK(lens__afile_open(&a, at("nodir/x.csv"), &err) == LENS_EIO && a == NULL, "open in a missing directory");
    CHECK(strstr(err.msg, "nodir/x.csv") && strstr(err.msg, "No such file"), "%s", err.msg);
}

/* Writes more than the file-size limit allows: every way of writing must
 * fail with EFBIG, name the file, leave the earlier file and no temporary. */
static void test_full(void)
{
    lens_error err = {0};
    struct rlimit saved, lim;
    getrlimit(RLIMIT_FSIZE, &saved);
    lim = saved;
    lim.rlim_cur = 4096;
    signal(SIGXFSZ, SIG_IGN);
    put(at("big.csv"), "old\n");
    CHECK(setrlimit(RLIMIT_FSIZE, &lim) == 0, "setrlimit: %s", strerror(errno));

    lens__afile *a;
    CHECK(lens__afile_open(&a, at("big.csv"), &err) == 0, "%s", err.msg);
    for (int i = 0; i < 1000; i++) fprintf(lens__afile_stream(a), "row %d of many\n", i);
    CHECK(lens__afile_commit(a, &err) == LENS_EIO, "a write over the limit was committed");
    CHECK(strstr(err.msg, "big.csv") && strstr(err.msg, "File too large"), "%s", err.msg);

    /* the .npy writer goes through the same door */
    put(at("m.npy"), "old\n");
    lens_npy_writer *w;
    float rows[64 * 8] = {0};
    CHECK(lens_npy_create(&w, at("m.npy"), 8, &err) == 0, "%s", err.msg);
    int rc = 0;
    for (int i = 0; i < 4 && !rc; i++) rc = lens_npy_append(w, rows, 64, &err);
    if (!rc) rc = lens_npy_finish(w, &err);
    else lens_npy_abort(w);
    CHECK(rc == LENS_EIO && strstr(err.msg, "m.npy") && strstr(err.msg, "File too large"), "npy: %d %s", rc, err.msg);

    setrlimit(RLIMIT_FSIZE, &saved);
    signal(SIGXFSZ, SIG_DFL);
    CHECK(same(at("big.csv"), "old\n") && same(at("m.npy"), "old\n"), "a failed write clobbered the earlier file");
    CHECK(count(dir, ".tmp-") == 0, "a failed write left a temporary");
}

static void test_link(void)
{
    lens_error err = {0};
    put(at("src"), "one");
    CHECK(lens__link_replace(at("src"), at("dst"), &err) == 0, "%s", err.msg);
    CHECK(same(at("dst"), "one"), "link");
    put(at("src2"), "two");
    CHECK(lens__link_replace(at("src2"), at("dst"), &err) == 0, "%s", err.msg);
    CHECK(same(at("dst"), "two") && same(at("src2"), "two"), "link over an existing file");
    CHECK(lens__link_replace(at("none"), at("dst"), &err) == LENS_EIO && same(at("dst"), "two"),
          "a failed link clobbered dst: %s", err.msg);
    CHECK(count(dir, ".tmp-") == 0, "a temporary is left");
}

static void test_replace_dir(void)
{
    lens_error err = {0};
    /* no earlier directory */
    lens__mkdirs(at("stage/sub"), &err);
    put(at("stage/a"), "A1");
    put(at("stage/sub/b"), "B1");
    CHECK(lens__replace_dir(at("stage"), at("model"), &err) == 0, "%s", err.msg);
    CHECK(same(at("model/a"), "A1") && same(at("model/sub/b"), "B1") && !lens__is_dir(at("stage")), "new dir");
    /* an earlier one is replaced whole: none of its files stay */
    lens__mkdirs(at("stage"), &err);
    put(at("stage/a"), "A2");
    CHECK(lens__replace_dir(at("stage"), at("model"), &err) == 0, "%s", err.msg);
    CHECK(same(at("model/a"), "A2") && !lens__is_dir(at("model/sub")) && !lens__is_dir(at("stage")), "replaced dir");
    CHECK(count(dir, "model") == 1 && count(dir, ".tmp-") == 0, "the old directory is left");
    /* a stage that is not there changes nothing */
    CHECK(lens__replace_dir(at("stage"), at("model"), &err) == LENS_EIO && same(at("model/a"), "A2"),
          "a missing stage: %s", err.msg);
}

/* lens__open_beneath: symlinks that stay inside the root are followed,
 * anything leading out is refused, by the open itself */
static void test_beneath(void)
{
    lens_error err;
    CHECK(lens__mkdirs(at("root/d"), &err) == 0 && lens__mkdirs(at("out"), &err) == 0, "%s", err.msg);
    put(at("root/d/a.csv"), "A");
    put(at("out/secret.csv"), "S");
    CHECK(symlink("a.csv", at("root/d/rel.csv")) == 0 && symlink(at("root/d/a.csv"), at("root/d/abs.csv")) == 0 &&
              symlink(at("out/secret.csv"), at("root/d/esc.csv")) == 0 && symlink("../../out", at("root/d/outdir")) == 0,
          "symlinks");
    const char *root = at("root");
    const char *ok[] = {"d/a.csv", "d/rel.csv", "d/abs.csv", at("root/d/a.csv")};
    for (int i = 0; i < 4; i++) {
        int fd = lens__open_beneath(root, ok[i], O_RDONLY, &err);
        char c = 0;
        CHECK(fd >= 0 && read(fd, &c, 1) == 1 && c == 'A', "%s: %s", ok[i], fd < 0 ? err.msg : "wrong file");
        if (fd >= 0) close(fd);
    }
    const char *bad[] = {"d/esc.csv", "d/outdir/secret.csv", "../out/secret.csv", at("out/secret.csv")};
    for (int i = 0; i < 4; i++) {
        int fd = lens__open_beneath(root, bad[i], O_RDONLY, &err);
        CHECK(fd == LENS_EINVAL && strstr(err.msg, "outside the data root"), "%s: fd %d %s", bad[i], fd, err.msg);
        if (fd >= 0) close(fd);
    }
    CHECK(lens__open_beneath(root, "d/none.csv", O_RDONLY, &err) == LENS_ENOTFOUND, "missing: %s", err.msg);
    int fd = lens__open_beneath(NULL, at("out/secret.csv"), O_RDONLY, &err); /* no root: a plain open */
    CHECK(fd >= 0, "no root: %s", err.msg);
    if (fd >= 0) close(fd);
}

int main(void)
{
    snprintf(dir, sizeof dir, "/tmp/lens_test_fs_XXXXXX");
    if (!mkdtemp(dir)) return 1;
    test_afile();
    test_full();
    test_link();
    test_replace_dir();
    test_beneath();
    lens_error err;
    lens__rmtree(dir, &err);
    TEST_DONE();
}
