/* lens analyze --map: a 2-D UMAP map of the reviews, coloured by theme.
 *
 * While the job streams, each analysed review's embedding is appended to
 * .lens-checkpoint/map.f32 and what the map shows of it (game, theme,
 * sentiment, id, the first words) to map.meta; the checkpoint records both
 * lengths, so a resumed job cuts them back like assignments.csv. At the end
 * UMAP (lens/umap.h) fits a sample and places the rest chunk by chunk,
 * reading rows from the mapped file, so memory stays bounded by the fit and
 * one chunk; map.csv gets every review's coordinates and report.html a
 * canvas per game. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/fs.h"
#include "analyze_internal.h"
#include "lens/umap.h"

#define SNIPPET 160        /* bytes of review text a point's tooltip shows */
#define MAX_POINTS 100000  /* per game in report.html; map.csv has them all */

static void paths(const job *j, char *emb, char *meta, size_t cap)
{
    snprintf(emb, cap, "%s/map.f32", j->ckpt_dir);
    snprintf(meta, cap, "%s/map.meta", j->ckpt_dir);
}

int lens__map_open(job *j, lens_error *err)
{
    char emb[4400], meta[4400];
    paths(j, emb, meta, sizeof emb);
    if (j->resumed) {
        struct stat a, b;
        if (stat(emb, &a) || stat(meta, &b) || (uint64_t)a.st_size < j->map_emb_len ||
            (uint64_t)b.st_size < j->map_meta_len)
            return lens_error_set(err, LENS_EFORMAT, "checkpoint %s: the map's files are shorter than recorded; "
                                                     "run with --restart", j->ckpt_dir);
        if (truncate(emb, (off_t)j->map_emb_len) || truncate(meta, (off_t)j->map_meta_len))
            return lens_error_set(err, LENS_EIO, "%s: %s", emb, strerror(errno));
    }
    j->map_emb = fopen(emb, j->resumed ? "ab" : "wb");
    j->map_meta = fopen(meta, j->resumed ? "ab" : "wb");
    if (!j->map_emb || !j->map_meta) return lens_error_set(err, LENS_EIO, "%s: %s", emb, strerror(errno));
    return LENS_OK;
}

int lens__map_add(job *j, int app, int theme, int up, const char *id, const char *text, size_t len, const float *e,
                 lens_error *err)
{
    size_t n = len < SNIPPET ? len : SNIPPET;
    while (n < len && n > 0 && ((unsigned char)text[n] & 0xC0) == 0x80) n--; /* whole UTF-8 characters */
    uint32_t hdr[2] = {(uint32_t)app, (uint32_t)theme};
    uint16_t lens[2] = {(uint16_t)strlen(id), (uint16_t)n};
    uint8_t u = (uint8_t)up;
    if (fwrite(e, sizeof *e, (size_t)j->dim, j->map_emb) != (size_t)j->dim)
        return lens_error_set(err, LENS_EIO, "cannot write %s/map.f32: %s", j->ckpt_dir, strerror(errno));
    if (fwrite(hdr, sizeof hdr, 1, j->map_meta) != 1 || fwrite(&u, 1, 1, j->map_meta) != 1 ||
        fwrite(lens, sizeof lens, 1, j->map_meta) != 1 || fwrite(id, 1, lens[0], j->map_meta) != lens[0] ||
        fwrite(text, 1, n, j->map_meta) != n)
        return lens_error_set(err, LENS_EIO, "cannot write %s/map.meta: %s", j->ckpt_dir, strerror(errno));
    return LENS_OK;
}

static int sync_one(FILE *f, const char *dir, const char *name, lens_error *err)
{
    if (fflush(f) || ferror(f) || fdatasync(fileno(f)))
        return lens_error_set(err, LENS_EIO, "cannot write %s/%s: %s", dir, name, errno ? strerror(errno) : "write error");
    return LENS_OK;
}

int lens__map_sync(job *j, lens_error *err)
{
    int rc = sync_one(j->map_emb, j->ckpt_dir, "map.f32", err);
    if (!rc) rc = sync_one(j->map_meta, j->ckpt_dir, "map.meta", err);
    if (rc) return rc;
    j->map_emb_len = (uint64_t)ftello(j->map_emb);
    j->map_meta_len = (uint64_t)ftello(j->map_meta);
    return LENS_OK;
}

/* Loads map.meta into j->map (arrays by row). */
static int load_meta(job *j, lens_error *err)
{
    char emb[4400], meta[4400];
    paths(j, emb, meta, sizeof emb);
    FILE *f = fopen(meta, "rb");
    if (!f) return lens_error_set(err, LENS_EIO, "%s: %s", meta, strerror(errno));
    lens__map_points *m = &j->map;
    size_t n = m->n;
    m->app = malloc((n ? n : 1) * sizeof *m->app);
    m->theme = malloc((n ? n : 1) * sizeof *m->theme);
    m->up = malloc(n ? n : 1);
    m->id = malloc((n ? n : 1) * sizeof *m->id);
    m->text = malloc((n ? n : 1) * sizeof *m->text);
    int rc = m->app && m->theme && m->up && m->id && m->text ? LENS_OK : lens_error_set(err, LENS_ENOMEM, "map: out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        uint32_t hdr[2];
        uint16_t lens[2];
        uint8_t u;
        char *id = NULL, *text = NULL;
        if (fread(hdr, sizeof hdr, 1, f) != 1 || fread(&u, 1, 1, f) != 1 || fread(lens, sizeof lens, 1, f) != 1 ||
            !(id = malloc(lens[0] + 1u)) || !(text = malloc(lens[1] + 1u)) ||
            fread(id, 1, lens[0], f) != lens[0] || fread(text, 1, lens[1], f) != lens[1]) {
            free(id);
            free(text);
            m->n = i;
            rc = lens_error_set(err, LENS_EFORMAT, "%s: shorter than its %zu rows", meta, n);
            break;
        }
        id[lens[0]] = text[lens[1]] = '\0';
        m->app[i] = hdr[0];
        m->theme[i] = hdr[1];
        m->up[i] = u;
        m->id[i] = id;
        m->text[i] = text;
    }
    fclose(f);
    return rc;
}

int lens__map_finish(job *j, lens_error *err)
{
    /* lens__ckpt_commit synced both just before: nothing is left to write */
    int bad = fclose(j->map_emb) != 0;
    bad |= fclose(j->map_meta) != 0;
    j->map_emb = j->map_meta = NULL;
    if (bad) return lens_error_set(err, LENS_EIO, "cannot write %s/map.*: %s", j->ckpt_dir, strerror(errno));
    char emb[4400], meta[4400];
    paths(j, emb, meta, sizeof emb);
    size_t n = (size_t)(j->map_emb_len / ((uint64_t)j->dim * sizeof(float)));
    j->map.n = n;
    int rc = load_meta(j, err);
    if (rc || !n) return rc;
    int fd = open(emb, O_RDONLY);
    float *x = fd < 0 ? MAP_FAILED : mmap(NULL, n * (size_t)j->dim * sizeof *x, PROT_READ, MAP_PRIVATE, fd, 0);
    if (fd >= 0) close(fd);
    if (x == MAP_FAILED) return lens_error_set(err, LENS_EIO, "%s: %s", emb, strerror(errno));
    if (!(j->map.xy = malloc(n * 2 * sizeof *j->map.xy))) rc = lens_error_set(err, LENS_ENOMEM, "map: out of memory");
    lens_umap_opts uo;
    lens_umap_opts_default(&uo);
    uo.metric = LENS_UMAP_COSINE;
    uo.threads = j->o->threads;
    uo.stop = j->o->stop;
    if (!rc) rc = lens_umap_run(x, n, j->dim, &uo, j->map.xy, err);
    munmap(x, n * (size_t)j->dim * sizeof *x);
    if (rc) return lens_error_wrap(err, "map");

    /* map.csv: every review, in the order of assignments.csv */
    char path[4300];
    snprintf(path, sizeof path, "%s/map.csv", j->o->out_dir);
    lens__afile *af;
    if ((rc = lens__afile_open(&af, path, err))) return rc;
    FILE *f = lens__afile_stream(af);
    fputs("review_id,app_id,theme,sentiment,x,y\n", f);
    for (size_t i = 0; i < n; i++) {
        const lens_app_themes *app = &j->themes->apps[j->map.app[i]];
        lens_csv_write_field(f, j->map.id[i]);
        fprintf(f, ",%s,", app->app_id);
        lens_csv_write_field(f, lens_themes_name(app, (int)j->map.theme[i]));
        fprintf(f, ",%s,%.5f,%.5f\n", j->map.up[i] ? "positive" : "negative", j->map.xy[2 * i], j->map.xy[2 * i + 1]);
    }
    return lens__output_ready(j, af, err);
}

void lens__map_free(job *j)
{
    if (j->map_emb) fclose(j->map_emb);
    if (j->map_meta) fclose(j->map_meta);
    for (size_t i = 0; j->map.id && i < j->map.n; i++) {
        free(j->map.id[i]);
        free(j->map.text[i]);
    }
    free(j->map.app);
    free(j->map.theme);
    free(j->map.up);
    free(j->map.id);
    free(j->map.text);
    free(j->map.xy);
    memset(&j->map, 0, sizeof j->map);
}

/* ---------------------------------------------------------------- report.html */

void lens__map_html(job *j, FILE *f, int a)
{
    const lens__map_points *m = &j->map;
    if (!m->xy) return;
    size_t count = 0;
    for (size_t i = 0; i < m->n; i++) count += (int)m->app[i] == a;
    if (!count) return;
    size_t step = (count + MAX_POINTS - 1) / MAX_POINTS; /* every step-th point when there are too many */
    const lens_app_themes *app = &j->themes->apps[a];
    fprintf(f, "<figure class=\"map\"><canvas class=\"map\" width=\"760\" height=\"460\" data-map=\"%s\"></canvas>"
               "<figcaption>Map of %zu reviews (UMAP of their embeddings; nearby reviews say similar things)%s. "
               "Hover a point to read it.</figcaption><div class=\"maptip\" hidden></div>"
               "<script type=\"application/json\" class=\"mapdata\">{\"classes\":[", app->app_id, count,
            step > 1 ? "; a sample is drawn" : "");
    for (int t = 0; t <= app->n_themes; t++) {
        if (t) fputc(',', f);
        lens_json_str_in_html(f, lens_themes_name(app, t));
    }
    fprintf(f, "],\"grey\":%d,\"points\":[", app->n_themes); /* the last, "unassigned" */
    size_t k = 0, w = 0;
    for (size_t i = 0; i < m->n; i++) {
        if ((int)m->app[i] != a || k++ % step) continue;
        fprintf(f, "%s[%.4f,%.4f,%u,%u,", w++ ? "," : "", m->xy[2 * i], m->xy[2 * i + 1], m->theme[i], m->up[i]);
        lens_json_str_in_html(f, m->text[i]);
        fputc(']', f);
    }
    fputs("]}</script></figure>\n", f);
}

