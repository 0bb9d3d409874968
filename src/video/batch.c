/* A batch of videos: inputs found, each analyzed into a staging directory
 * that is put in place whole (so a kill loses at most the video in
 * progress), finished ones verified and skipped, failures listed, and
 * index.json rewritten after every video. */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/clock.h"
#include "base/fs.h"
#include "io/jsonfile.h"
#include "video/video_internal.h"

typedef struct item {
    char *path, *name;
    const char *status; /* NULL: not yet */
    char *reason;
    double duration_s;
    int64_t frames, size; /* size: bytes (0: cannot stat; it fails as a video) */
    int shots;
} item;

typedef struct list {
    item *v;
    size_t n, cap;
} list;

static const char *const video_ext[] = {"mp4", "m4v", "mkv", "webm", "mov", "avi", "mpg", "mpeg", "ts", "mts",
                                        "m2ts", "wmv", "flv", "3gp", "ogv", "mxf", "gif"};

static int is_video_name(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot) return 0;
    for (size_t i = 0; i < sizeof video_ext / sizeof *video_ext; i++)
        if (!strcasecmp(dot + 1, video_ext[i])) return 1;
    return 0;
}

static int push(list *l, const char *path, lens_error *err)
{
    if (lens__grow((void **)&l->v, &l->cap, l->n + 1, sizeof *l->v)) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    item *it = &l->v[l->n];
    memset(it, 0, sizeof *it);
    if (!(it->path = strdup(path))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    struct stat sb;
    if (stat(path, &sb) == 0) it->size = sb.st_size;
    l->n++;
    return 0;
}

static int cmp_item(const void *a, const void *b) { return strcmp(((const item *)a)->path, ((const item *)b)->path); }

/* the video files under dir, hidden entries skipped */
static int walk(list *l, const char *dir, int depth, lens_error *err)
{
    DIR *d = opendir(dir);
    if (!d) return lens_error_set(err, LENS_EIO, "cannot read directory %s: %s", dir, strerror(errno));
    struct dirent *e;
    int rc = 0;
    while (!rc && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[8600];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (lens__is_dir(p)) {
            if (depth < 32) rc = walk(l, p, depth + 1, err);
        } else if (is_video_name(e->d_name) && lens__is_file(p)) rc = push(l, p, err);
    }
    closedir(d);
    return rc;
}

/* OUT/<name>: the file's name without its extension, in safe characters,
 * made unique in the batch (name-2, name-3, ... in input order) */
static int name_items(list *l, lens_error *err)
{
    for (size_t i = 0; i < l->n; i++) {
        const char *base = strrchr(l->v[i].path, '/');
        base = base ? base + 1 : l->v[i].path;
        char stem[200];
        snprintf(stem, sizeof stem, "%s", base);
        char *dot = strrchr(stem, '.');
        if (dot && dot != stem) *dot = '\0';
        for (char *p = stem; *p; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '-' ||
                  *p == '_' || (*p == '.' && p != stem)))
                *p = '_';
        if (!*stem || !strcmp(stem, "index.json") || !strcmp(stem, "report.html")) snprintf(stem, sizeof stem, "video");
        char name[240];
        snprintf(name, sizeof name, "%s", stem);
        for (int k = 2;; k++) {
            size_t j = 0;
            for (; j < i; j++)
                if (!strcmp(l->v[j].name, name)) break;
            if (j == i) break;
            snprintf(name, sizeof name, "%s-%d", stem, k);
        }
        if (!(l->v[i].name = strdup(name))) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    return 0;
}

static int jpeg_ok(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char a[2] = {0}, b[2] = {0};
    int ok = fread(a, 1, 2, f) == 2 && fseek(f, -2, SEEK_END) == 0 && fread(b, 1, 2, f) == 2;
    fclose(f);
    return ok && a[0] == 0xFF && a[1] == 0xD8 && b[0] == 0xFF && b[1] == 0xD9;
}

/* A finished video is skipped when its video.json is whole and was made
 * from this very file (size and mtime) with these options, its shots tile
 * its frames and every thumbnail it names is a whole JPEG. */
static int verified(const char *dir, const char *path, const char *analyzers, double sample_fps, item *it)
{
    char p[8600];
    snprintf(p, sizeof p, "%s/video.json", dir);
    struct stat sb;
    if (stat(path, &sb) != 0) return 0;
    json_t *j = json_load_file(p, 0, NULL);
    if (!j) return 0;
    int ok = 0;
    json_t *src = json_object_get(j, "source"), *opt = json_object_get(j, "options"), *shots = json_object_get(j, "shots");
    json_int_t frames = json_integer_value(json_object_get(j, "frames"));
    const char *an = json_string_value(json_object_get(opt, "analyzers_list"));
    if (json_integer_value(json_object_get(j, "lens_video")) != 1 || !json_is_array(shots) ||
        json_integer_value(json_object_get(src, "size")) != sb.st_size ||
        json_integer_value(json_object_get(src, "mtime_ns")) != (json_int_t)sb.st_mtim.tv_sec * 1000000000 + sb.st_mtim.tv_nsec ||
        !an || strcmp(an, analyzers) || fabs(json_number_value(json_object_get(opt, "sample_fps")) - sample_fps) > 1e-9)
        goto done;
    json_int_t next = 0;
    size_t i;
    json_t *s;
    json_array_foreach(shots, i, s) {
        if (json_integer_value(json_object_get(s, "start_frame")) != next) goto done;
        next = json_integer_value(json_object_get(s, "end_frame"));
        const char *th = json_string_value(json_object_get(s, "thumbnail"));
        if (th) {
            snprintf(p, sizeof p, "%s/%s", dir, th);
            if (strchr(th, '/') || !jpeg_ok(p)) goto done;
        }
    }
    if (next != frames) goto done;
    ok = 1;
    it->duration_s = json_number_value(json_object_get(j, "duration_s"));
    it->frames = frames;
    it->shots = (int)json_array_size(shots);
done:
    json_decref(j);
    return ok;
}

/* index.json, then report.html from the same facts */
static int write_index(const char *out, const list *l, const lens_video_batch_stats *st, const lens__vreport *rep,
                       lens_error *err)
{
    json_t *root = json_object(), *videos = json_array();
    json_object_set_new(root, "lens_video_index", json_integer(1));
    for (size_t i = 0; i < l->n; i++) {
        const item *it = &l->v[i];
        json_t *v = json_object();
        json_object_set_new(v, "input", json_string(it->path));
        json_object_set_new(v, "name", json_string(it->name));
        json_object_set_new(v, "status", json_string(it->status ? it->status : "pending"));
        if (it->reason) json_object_set_new(v, "reason", json_string(it->reason));
        if (it->status && strcmp(it->status, "failed")) {
            char p[300];
            snprintf(p, sizeof p, "%s/video.json", it->name);
            json_object_set_new(v, "video_json", json_string(p));
            json_object_set_new(v, "duration_s", json_real(it->duration_s));
            json_object_set_new(v, "frames", json_integer(it->frames));
            json_object_set_new(v, "shots", json_integer(it->shots));
        }
        json_array_append_new(videos, v);
    }
    json_object_set_new(root, "videos", videos);
    json_object_set_new(root, "counts", json_pack("{sIsIsI}", "done", (json_int_t)st->done, "skipped",
                                                  (json_int_t)st->skipped, "failed", (json_int_t)st->failed));
    char p[8600];
    snprintf(p, sizeof p, "%s/index.json", out);
    int rc = lens__json_save(p, root, JSON_INDENT(1) | JSON_REAL_PRECISION(10), err);
    if (!rc && rep) rc = lens__vreport_write(rep, out, root, err);
    json_decref(root);
    return rc;
}

/* analyze one video into stage, then put stage in place as dir */
static int one(const lens_video_batch_opts *o, const char *analyzers, item *it, const char *dir, const char *stage,
               lens_error *err)
{
    lens_error ig;
    if (lens__rmtree(stage, &ig) || lens__mkdirs(stage, err)) return lens__rmtree(stage, &ig), err->code;
    lens_video_opts vo = o->video;
    vo.thumbs_dir = stage;
    vo.progress = o->progress, vo.ctx = o->ctx;
    char *text = NULL;
    int rc = lens_video_analyze(it->path, &vo, &text, err);
    if (!rc) {
        /* the options as resume compares them, in one string */
        json_t *j = json_loads(text, 0, NULL);
        free(text);
        text = NULL;
        if (!j) rc = lens_error_set(err, LENS_ENOMEM, "out of memory");
        else {
            json_object_set_new(json_object_get(j, "options"), "analyzers_list", json_string(analyzers));
            it->duration_s = json_number_value(json_object_get(j, "duration_s"));
            it->frames = json_integer_value(json_object_get(j, "frames"));
            it->shots = (int)json_array_size(json_object_get(j, "shots"));
            char p[8600];
            snprintf(p, sizeof p, "%s/video.json", stage);
            rc = lens__json_save(p, j, JSON_INDENT(1) | JSON_REAL_PRECISION(10), err);
            json_decref(j);
        }
    }
    if (!rc) rc = lens__replace_dir(stage, dir, err);
    if (rc) lens__rmtree(stage, &ig);
    return rc;
}

int lens_video_batch(const lens_video_batch_opts *o, lens_video_batch_stats *st, lens_error *err)
{
    memset(st, 0, sizeof *st);
    if (!o->n_inputs) return lens_error_set(err, LENS_EINVAL, "no inputs");
    lens_video_batch_opts bo = *o;
    if (bo.video.sample_fps <= 0) bo.video.sample_fps = 2;
    char analyzers[512];
    if (lens__video_analyzer_list(bo.video.analyzers, analyzers, sizeof analyzers, err)) return err->code;
    list l = {0};
    int rc = 0;
    for (size_t i = 0; i < o->n_inputs && !rc; i++) {
        const char *in = o->inputs[i];
        if (lens__is_dir(in)) {
            list d = {0};
            rc = walk(&d, in, 0, err);
            if (d.n) qsort(d.v, d.n, sizeof *d.v, cmp_item);
            for (size_t k = 0; k < d.n; k++) {
                if (!rc) rc = push(&l, d.v[k].path, err);
                free(d.v[k].path);
            }
            free(d.v);
        } else rc = push(&l, in, err); /* a missing file fails as a video, the batch goes on */
    }
    if (!rc && !l.n) rc = lens_error_set(err, LENS_ENOTFOUND, "no video files in the inputs");
    if (!rc) rc = name_items(&l, err);
    if (!rc) rc = lens__mkdirs(o->out_dir, err);
    lens__vreport *rep = NULL;
    if (!rc) rc = lens__vreport_new(&rep, l.n, err);
    int64_t total = 0, before = 0;
    for (size_t i = 0; i < l.n; i++) total += l.v[i].size;
    for (size_t i = 0; i < l.n && !rc; before += l.v[i].size, i++) {
        item *it = &l.v[i];
        char dir[4200], stage[4300]; /* paths under OUT, as every path lens writes */
        snprintf(dir, sizeof dir, "%s/%s", o->out_dir, it->name);
        snprintf(stage, sizeof stage, "%s/.%s.partial", o->out_dir, it->name);
        if (o->on_start) o->on_start(o->ctx, i, l.n, it->path, it->size, before, total);
        double t0 = lens__clock_mono();
        if (verified(dir, it->path, analyzers, bo.video.sample_fps, it)) {
            it->status = "skipped";
            st->skipped++;
        } else {
            lens_error e;
            lens_error_clear(&e);
            int r = one(&bo, analyzers, it, dir, stage, &e);
            if (r == LENS_ECANCEL) {
                rc = lens_error_set(err, LENS_ECANCEL, "stopped in %s", it->path);
                break;
            }
            if (r) {
                it->status = "failed";
                it->reason = strdup(e.msg);
                st->failed++;
            } else {
                it->status = "done";
                st->done++;
            }
        }
        if (strcmp(it->status, "failed")) {
            /* its video.json was just verified or written: unreadable now is a fault of OUT */
            rc = lens__vreport_video(rep, i, o->out_dir, it->name, it->path, err);
            if (rc) break;
        }
        if (o->on_end)
            o->on_end(o->ctx, i, l.n, it->path, it->status, it->reason, it->duration_s, it->frames, it->shots,
                      lens__clock_mono() - t0);
        rc = write_index(o->out_dir, &l, st, rep, err);
    }
    if (rc == LENS_ECANCEL) {
        lens_error ig;
        write_index(o->out_dir, &l, st, rep, &ig);
    }
    lens__vreport_free(rep);
    for (size_t i = 0; i < l.n; i++) free(l.v[i].path), free(l.v[i].name), free(l.v[i].reason);
    free(l.v);
    return rc;
}
