/* OUT/report.html: the batch on one self-contained page (inline CSS, no
 * script, nothing from the network; the shot thumbnails by relative path,
 * so the page works wherever the OUT folder is opened or copied). A batch
 * overview, then per video its filmstrip of shots (thumbnail, timecodes,
 * transition, palette, camera motion, quality flags), its palette, quality
 * and audio summaries and a loudness curve, each only where its analyzer ran.
 *
 * Each video's part is rendered once, from its video.json, when it is done
 * or skipped, and kept as text: rewriting the page after every video costs
 * the page, not every video.json again. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "io/escape.h"
#include "video/video_internal.h"

/* Quality flags: a shot is flagged when a measure passes these (the page
 * states them). Sharpness is the variance of the Laplacian at 320 wide
 * (in-focus footage scores in the hundreds); noise is in luma levels (a
 * clean source is under 1); blockiness is about 1 when clean. */
#define BLURRY_BELOW 50.0
#define NOISY_ABOVE 4.0
#define CRUSHED_ABOVE 0.2  /* dark films and letterbox bars hold some true black */
#define CLIPPED_ABOVE 0.05
#define BLOCKY_ABOVE 1.5
#define FROZEN_SHARE 0.1 /* of the frames; black frames are flagged from the first */
/* the loudness curve's scale; silence (null) and anything quieter sit at the floor */
#define CURVE_TOP 0.0
#define CURVE_FLOOR -60.0

typedef struct part {
    char *row;     /* the overview table's cells after the name */
    char *section; /* the video's section */
} part;

struct lens__vreport {
    part *p;
    size_t n;
};

static const char *css =
    "body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}"
    "header{background:#1d2330;color:#fff;padding:18px 28px}header h1{margin:0 0 4px;font-size:22px}"
    ".meta{margin:0;color:#b8c0cc;font-size:13px}main{padding:6px 28px 40px}"
    "section{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:16px 20px;margin:16px 0}"
    "h2{margin:0 0 6px;font-size:18px;word-break:break-all}h2 small{color:#8a93a3;font-weight:normal;font-size:13px}"
    "h3{margin:14px 0 6px;font-size:14px;color:#4b5566}"
    ".counts span{display:inline-block;margin-right:22px}.counts b{font-size:20px;margin-right:4px}"
    "table{border-collapse:collapse}th{text-align:left;font-size:11px;color:#6b7486;text-transform:uppercase;"
    "padding:5px 8px}td{padding:5px 8px;border-top:1px solid #eef0f3;vertical-align:top}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    "a{color:#2f5bd3;text-decoration:none}.failures li{margin:3px 0}.reason{color:#b3362d}"
    ".muted{color:#6b7486;font-size:12px}"
    ".filmstrip{display:flex;flex-wrap:wrap;gap:10px}"
    ".shot{width:196px;border:1px solid #e3e6ec;border-radius:6px;padding:6px;font-size:12px;background:#fbfcfd}"
    ".shot img{display:block;width:196px;height:auto;border-radius:3px;background:#222}"
    ".shot .nothumb{height:60px;background:#e9ecf1;border-radius:3px}"
    ".shot .head{display:flex;justify-content:space-between;margin:4px 0 2px}.shot .tc{color:#4b5566}"
    ".tr{font-size:11px;padding:0 5px;border-radius:8px;background:#e9ecf1}.tr.cut{background:#dbe6ff}"
    ".tr.fade{background:#ece1ff}.tr.dissolve{background:#ffe8cc}"
    ".palette{display:flex;height:14px;border-radius:3px;overflow:hidden;margin:4px 0}"
    ".palette.big{height:26px;max-width:520px}.swatch{height:100%}"
    ".flag{display:inline-block;font-size:11px;padding:0 5px;margin:2px 3px 0 0;border-radius:8px;"
    "background:#fde2df;color:#8d2a22}.flag.ok{background:#dff3e7;color:#21633f}"
    ".motion{margin-top:2px}.summary{display:grid;grid-template-columns:repeat(auto-fit,minmax(300px,1fr));gap:6px 24px}"
    "dl{display:grid;grid-template-columns:auto 1fr;gap:1px 12px;margin:0}dt{color:#6b7486}dd{margin:0}"
    ".audio{grid-column:1/-1}.audio dl{grid-template-columns:auto 1fr auto 1fr auto 1fr;max-width:900px}"
    "svg.loudness{width:100%;max-width:720px;height:auto;background:#fbfcfd;border:1px solid #eef0f3;border-radius:6px}"
    "svg.loudness text{font-size:10px;fill:#6b7486}";

static double num(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

static const char *str(const json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static void esc(FILE *f, const char *s) { lens__html_str(f, s ? s : "", 0); }

/* "12.3" or the dash when absent */
static void put_num(FILE *f, double v, const char *fmt, const char *unit)
{
    if (isnan(v)) {
        fputs("—", f);
        return;
    }
    fprintf(f, fmt, v);
    if (unit) fputs(unit, f);
}

/* a failure's reason, less the input path it begins with (the page names the file already) */
static void reason(FILE *f, const json_t *it)
{
    const char *in = str(it, "input"), *why = str(it, "reason");
    size_t n = in ? strlen(in) : 0;
    if (why && n && !strncmp(why, in, n) && !strncmp(why + n, ": ", 2)) why += n + 2;
    esc(f, why);
}

static void duration(FILE *f, double s)
{
    if (isnan(s)) s = 0;
    long long t = llround(s);
    if (t >= 3600) fprintf(f, "%lld:%02lld:%02lld", t / 3600, t / 60 % 60, t % 60);
    else if (t >= 60) fprintf(f, "%lld:%02lld", t / 60, t % 60);
    else fprintf(f, "%.1f s", s);
}

static void palette(FILE *f, const json_t *colors, int big)
{
    if (!json_array_size(colors)) return;
    fprintf(f, "<div class=\"palette%s\">", big ? " big" : "");
    size_t i;
    json_t *c;
    json_array_foreach(colors, i, c) {
        const char *hex = str(c, "hex");
        double share = num(c, "share");
        if (!hex || isnan(share)) continue;
        /* hex comes from lens, but the page trusts no file it reads */
        fputs("<span class=\"swatch\" data-hex=\"", f);
        esc(f, hex);
        fputs("\" style=\"background:", f);
        esc(f, hex);
        fprintf(f, ";width:%.2f%%\" title=\"", 100 * share);
        esc(f, hex);
        fprintf(f, " %.1f%%\"></span>", 100 * share);
    }
    fputs("</div>", f);
}

static void flag(FILE *f, const char *name, const char *fmt, double v)
{
    fputs("<span class=\"flag\" data-flag=\"", f);
    for (const char *p = name; *p; p++) fputc(*p == ' ' ? '_' : *p, f);
    fprintf(f, "\">%s ", name);
    fprintf(f, fmt, v);
    fputs("</span>", f);
}

/* the quality flags of one shot or of the video: n how many it raised */
static int flags(FILE *f, const json_t *q, double sharp, double frames)
{
    int n = 0;
    double v;
    if (!isnan(sharp) && sharp < BLURRY_BELOW) flag(f, "blurry", "%.0f", sharp), n++;
    if (!isnan(v = num(q, "noise")) && v > NOISY_ABOVE) flag(f, "noisy", "%.1f", v), n++;
    if (!isnan(v = num(q, "clipped_dark")) && v > CRUSHED_ABOVE) flag(f, "crushed blacks", "%.0f%%", 100 * v), n++;
    if (!isnan(v = num(q, "clipped_bright")) && v > CLIPPED_ABOVE) flag(f, "clipped whites", "%.0f%%", 100 * v), n++;
    if (!isnan(v = num(q, "blockiness")) && v > BLOCKY_ABOVE) flag(f, "blocky", "%.2f", v), n++;
    if (!isnan(v = num(q, "frozen_frames")) && v > 0 && frames > 0 && v >= FROZEN_SHARE * frames)
        flag(f, "frozen", "%.0f%%", 100 * v / frames), n++;
    if (!isnan(v = num(q, "black_frames")) && v > 0) {
        if (frames > 0) flag(f, "black", "%.1f%%", 100 * v / frames);
        else flag(f, "black", "%.0f frames", v);
        n++;
    }
    return n;
}

/* an analyzer's per-shot entry for shot `index` (they are in shot order, but
 * the page trusts no file it reads) */
static const json_t *shot_of(const json_t *an, size_t i, json_int_t index)
{
    const json_t *shots = json_object_get(an, "shots"), *s = json_array_get(shots, i);
    if (s && json_integer_value(json_object_get(s, "index")) == index) return s;
    size_t k;
    json_t *x;
    json_array_foreach(shots, k, x) if (json_integer_value(json_object_get(x, "index")) == index) return x;
    return NULL;
}

static void motion(FILE *f, const json_t *m)
{
    const char *label = str(m, "motion");
    if (!label) return;
    fputs("<div class=\"motion\" data-motion=\"", f);
    esc(f, label);
    fputs("\">camera: <b>", f);
    for (const char *p = label; *p; p++) fputc(*p == '_' ? ' ' : *p, f);
    fputs("</b>", f);
    double v = NAN;
    const char *fmt = NULL;
    if (!strncmp(label, "pan", 3)) v = fabs(num(m, "pan_px_s")), fmt = " %.0f px/s";
    else if (!strncmp(label, "tilt", 4)) v = fabs(num(m, "tilt_px_s")), fmt = " %.0f px/s";
    else if (!strncmp(label, "zoom", 4)) v = fabs(num(m, "zoom_rate_s")), fmt = " %.3f/s";
    else if (!strcmp(label, "shaky")) v = num(m, "shake_px"), fmt = " %.1f px shake";
    if (fmt && !isnan(v)) fprintf(f, fmt, v);
    const json_t *labels = json_object_get(m, "labels");
    if (json_array_size(labels) > 1) {
        fputs(" <span class=\"muted\">(", f);
        size_t i;
        json_t *l;
        json_array_foreach(labels, i, l) {
            if (i) fputs(", ", f);
            esc(f, json_string_value(l));
        }
        fputs(")</span>", f);
    }
    fputs("</div>", f);
}

static void filmstrip(FILE *f, const char *name, const json_t *v)
{
    const json_t *shots = json_object_get(v, "shots");
    const json_t *color = json_object_get(v, "color_analysis"), *camera = json_object_get(v, "camera_analysis");
    const json_t *quality = json_object_get(v, "content_quality");
    fprintf(f, "<h3>Shots (%zu)</h3><div class=\"filmstrip\">", json_array_size(shots));
    size_t i;
    json_t *s;
    json_array_foreach(shots, i, s) {
        json_int_t index = json_integer_value(json_object_get(s, "index"));
        const char *th = str(s, "thumbnail"), *tr = str(s, "transition");
        fprintf(f, "<div class=\"shot\" data-index=\"%lld\">", (long long)index);
        if (th) {
            fputs("<img src=\"", f);
            esc(f, name);
            fputc('/', f);
            esc(f, th);
            fprintf(f, "\" alt=\"shot %lld\">", (long long)index);
        } else fputs("<div class=\"nothumb\"></div>", f);
        fprintf(f, "<div class=\"head\"><b>#%lld</b><span class=\"tr ", (long long)index);
        esc(f, tr);
        fputs("\">", f);
        esc(f, tr && !strcmp(tr, "none") ? "start" : tr);
        fputs("</span></div><div class=\"tc\">", f);
        esc(f, str(s, "start_tc"));
        fputs("–", f);
        esc(f, str(s, "end_tc"));
        fputs("</div>", f);
        const json_t *c = color ? shot_of(color, i, index) : NULL;
        if (c) palette(f, json_object_get(c, "dominant_colors"), 0);
        const json_t *m = camera ? shot_of(camera, i, index) : NULL;
        if (m) motion(f, m);
        const json_t *q = quality ? shot_of(quality, i, index) : NULL;
        if (q) {
            fputs("<div class=\"flags\">", f);
            double frames = (double)(json_integer_value(json_object_get(s, "end_frame")) -
                                     json_integer_value(json_object_get(s, "start_frame")));
            if (!flags(f, q, num(q, "sharpness"), frames)) fputs("<span class=\"flag ok\">no quality flags</span>", f);
            fputs("</div>", f);
        }
        fputs("</div>", f);
    }
    if (!json_array_size(shots)) fputs("<p class=\"muted\">no shots (no video stream)</p>", f);
    fputs("</div>", f);
}

static void palette_summary(FILE *f, const json_t *color)
{
    const json_t *v = json_object_get(color, "video");
    fputs("<div class=\"color\"><h3>Palette</h3>", f);
    if (!v || !json_integer_value(json_object_get(v, "samples"))) {
        fputs("<p class=\"muted\">no frames sampled</p></div>", f);
        return;
    }
    palette(f, json_object_get(v, "dominant_colors"), 1);
    fputs("<dl><dt>brightness</dt><dd>", f);
    put_num(f, num(v, "brightness"), "%.2f", NULL);
    fputs("</dd><dt>contrast</dt><dd>", f);
    put_num(f, num(v, "contrast"), "%.2f", NULL);
    fputs("</dd><dt>saturation</dt><dd>", f);
    put_num(f, num(v, "saturation"), "%.2f", NULL);
    fputs("</dd><dt>colourfulness</dt><dd>", f);
    put_num(f, num(v, "colorfulness"), "%.1f", NULL);
    fputs("</dd><dt>tone</dt><dd>", f);
    esc(f, str(v, "tone"));
    fputs(" (warmth ", f);
    put_num(f, num(v, "warmth"), "%+.3f", NULL);
    fputs(")</dd>", f);
    const json_t *b = json_object_get(v, "black_bars");
    if (b) {
        fputs("<dt>black bars</dt><dd>", f);
        int lb = json_is_true(json_object_get(b, "letterbox")), pb = json_is_true(json_object_get(b, "pillarbox"));
        if (lb || pb) fprintf(f, "%s%s%s ", lb ? "letterbox" : "", lb && pb ? ", " : "", pb ? "pillarbox" : "");
        else fputs("none ", f);
        fprintf(f, "<span class=\"muted\">(top %lld, bottom %lld, left %lld, right %lld px)</span></dd>",
                (long long)json_integer_value(json_object_get(b, "top")),
                (long long)json_integer_value(json_object_get(b, "bottom")),
                (long long)json_integer_value(json_object_get(b, "left")),
                (long long)json_integer_value(json_object_get(b, "right")));
    }
    fputs("</dl></div>", f);
}

static void quality_summary(FILE *f, const json_t *q)
{
    const json_t *m = json_object_get(q, "measures"), *fr = json_object_get(q, "frames");
    const json_t *c = json_object_get(q, "container"), *cv = json_object_get(c, "video");
    const json_t *d = json_object_get(q, "decoded");
    fputs("<div class=\"quality\"><h3>Quality</h3>", f);
    if (!cv) { /* audio alone: the container's facts */
        fputs("<dl><dt>video</dt><dd>none</dd><dt>container</dt><dd>", f);
        esc(f, str(c, "format"));
        fputs(", ", f);
        put_num(f, num(c, "bit_rate") / 1000, "%.0f", " kb/s, ");
        put_num(f, num(c, "file_size") / 1e6, "%.2f", " MB");
        fputs("</dd></dl></div>", f);
        return;
    }
    fputs("<div class=\"flags\">", f);
    double frames = num(d, "frames");
    json_t *all = json_object(); /* the video's flags from the same figures as a shot's */
    if (m) json_object_update(all, (json_t *)m);
    if (fr) json_object_update(all, (json_t *)fr);
    if (!flags(f, all, num(json_object_get(q, "sharpness"), "video"), frames))
        fputs("<span class=\"flag ok\">no quality flags</span>", f);
    json_decref(all);
    fputs("</div><dl><dt>sharpness</dt><dd>", f);
    put_num(f, num(json_object_get(q, "sharpness"), "video"), "%.1f", NULL);
    fputs("</dd><dt>noise</dt><dd>", f);
    put_num(f, num(m, "noise"), "%.2f", NULL);
    fputs("</dd><dt>clipping</dt><dd>dark ", f);
    put_num(f, 100 * num(m, "clipped_dark"), "%.1f", "%");
    fputs(", bright ", f);
    put_num(f, 100 * num(m, "clipped_bright"), "%.1f", "%");
    fputs("</dd><dt>blockiness</dt><dd>", f);
    put_num(f, num(m, "blockiness"), "%.2f", NULL);
    fputs("</dd><dt>black / frozen</dt><dd>", f);
    put_num(f, num(fr, "black_frames"), "%.0f", NULL);
    fputs(" / ", f);
    put_num(f, num(fr, "frozen_frames"), "%.0f", NULL);
    fputs(" frames</dd><dt>video</dt><dd>", f);
    esc(f, str(cv, "codec"));
    fputc(' ', f);
    esc(f, str(cv, "pix_fmt"));
    fputs(", ", f);
    put_num(f, num(c, "bit_rate") / 1000, "%.0f", " kb/s");
    if (json_is_true(json_object_get(d, "variable_frame_rate"))) fputs(", variable frame rate", f);
    fputs("</dd><dt>container</dt><dd>", f);
    esc(f, str(c, "format"));
    fputs(", ", f);
    put_num(f, num(c, "file_size") / 1e6, "%.2f", " MB");
    fputs("</dd></dl></div>", f);
}

/* the short-term loudness as a polyline over the video's time, silence shaded */
static void curve(FILE *f, const json_t *a, double dur)
{
    const json_t *lc = json_object_get(a, "loudness_curve"), *lufs = json_object_get(lc, "lufs");
    size_t n = json_array_size(lufs);
    if (!n) {
        fputs("<p class=\"muted\">no loudness curve (too short)</p>", f);
        return;
    }
    double step = num(lc, "step_s"), first = num(lc, "first_s");
    if (isnan(step) || step <= 0) step = 0.5;
    if (isnan(first)) first = 0;
    double end = first + step * (double)(n - 1);
    if (isnan(dur) || dur < end) dur = end;
    if (dur <= 0) dur = 1;
    const double W = 720, H = 160, L = 34, R = 8, T = 8, B = 20;
#define X(t) (L + (W - L - R) * (t) / dur)
#define Y(v) (T + (H - T - B) * (CURVE_TOP - (v)) / (CURVE_TOP - CURVE_FLOOR))
    fprintf(f, "<svg class=\"loudness\" viewBox=\"0 0 %.0f %.0f\" role=\"img\" aria-label=\"loudness curve\">", W, H);
    size_t i;
    json_t *s;
    json_array_foreach(json_object_get(json_object_get(a, "silence"), "segments"), i, s) {
        double t0 = num(s, "start_s"), t1 = num(s, "end_s");
        if (isnan(t0) || isnan(t1) || t1 <= t0) continue;
        if (t1 > dur) t1 = dur;
        fprintf(f, "<rect class=\"silence\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"#e3e6ec\"/>", X(t0), T,
                X(t1) - X(t0), H - T - B);
    }
    for (double v = CURVE_TOP; v >= CURVE_FLOOR; v -= 20)
        fprintf(f, "<line x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#eef0f3\"/><text x=\"2\" y=\"%.1f\">%.0f</text>",
                L, W - R, Y(v), Y(v), Y(v) + 3, v);
    double il = num(a, "integrated_lufs");
    if (!isnan(il) && il > CURVE_FLOOR)
        fprintf(f, "<line class=\"integrated\" x1=\"%.0f\" x2=\"%.0f\" y1=\"%.1f\" y2=\"%.1f\" stroke=\"#d3483e\" "
                   "stroke-dasharray=\"4 3\"/>",
                L, W - R, Y(il), Y(il));
    fputs("<polyline class=\"curve\" fill=\"none\" stroke=\"#2f5bd3\" stroke-width=\"1.5\" points=\"", f);
    json_t *v;
    json_array_foreach(lufs, i, v) {
        double l = json_is_number(v) ? json_number_value(v) : CURVE_FLOOR;
        if (l < CURVE_FLOOR) l = CURVE_FLOOR;
        if (l > CURVE_TOP) l = CURVE_TOP;
        fprintf(f, "%s%.1f,%.1f", i ? " " : "", X(first + step * (double)i), Y(l));
    }
    fputs("\"/>", f);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">0 s</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.1f s</text></svg>",
            L, H - 5, W - R, H - 5, dur);
#undef X
#undef Y
    fprintf(f, "<p class=\"muted\">Short-term loudness (LUFS, 3 s window) every %.2g s; dashed: integrated; shaded: "
               "silence; silent points sit at %.0f LUFS.</p>",
            step, CURVE_FLOOR);
}

static void audio_summary(FILE *f, const json_t *a, double dur)
{
    fputs("<div class=\"audio\"><h3>Audio</h3>", f);
    if (!json_is_true(json_object_get(a, "has_audio"))) {
        fputs("<p class=\"noaudio\">No audio", f);
        const char *why = str(a, "reason");
        if (why) {
            fputs(" (", f);
            esc(f, why);
            fputc(')', f);
        }
        fputs(".</p></div>", f);
        return;
    }
    fputs("<dl><dt>integrated</dt><dd>", f);
    put_num(f, num(a, "integrated_lufs"), "%.1f", " LUFS");
    fputs("</dd><dt>loudness range</dt><dd>", f);
    put_num(f, num(a, "loudness_range_lu"), "%.1f", " LU");
    fputs("</dd><dt>true peak</dt><dd>", f);
    put_num(f, num(a, "true_peak_dbtp"), "%.1f", " dBTP");
    fputs("</dd><dt>tempo</dt><dd>", f);
    const json_t *t = json_object_get(a, "tempo");
    double bpm = num(t, "bpm");
    if (!isnan(bpm)) fprintf(f, "%.1f BPM", bpm);
    else {
        fputs("none", f);
        if (str(t, "reason")) {
            fputs(" <span class=\"muted\">— ", f);
            esc(f, str(t, "reason"));
            fputs("</span>", f);
        }
    }
    fputs("</dd><dt>silence</dt><dd>", f);
    const json_t *si = json_object_get(a, "silence");
    fprintf(f, "%zu segment%s, ", json_array_size(json_object_get(si, "segments")),
            json_array_size(json_object_get(si, "segments")) == 1 ? "" : "s");
    put_num(f, num(si, "total_s"), "%.1f", " s");
    fprintf(f, "</dd><dt>stream</dt><dd>%lld Hz, %lld channel%s</dd></dl>", (long long)json_integer_value(json_object_get(a, "sample_rate")),
            (long long)json_integer_value(json_object_get(a, "channels")),
            json_integer_value(json_object_get(a, "channels")) == 1 ? "" : "s");
    curve(f, a, dur);
    fputs("</div>", f);
}

/* v's overview cells (after the name) and its section */
static void render(FILE *row, FILE *sec, const char *name, const char *input, const json_t *v)
{
    double dur = num(v, "duration_s"), fps = num(v, "fps");
    long long w = json_integer_value(json_object_get(v, "width")), h = json_integer_value(json_object_get(v, "height"));
    size_t shots = json_array_size(json_object_get(v, "shots"));
    const json_t *audio = json_object_get(v, "audio_analysis");
    int has_video = json_is_true(json_object_get(v, "has_video"));

    fputs("<td class=\"num\">", row);
    duration(row, dur);
    fputs("</td><td class=\"num\">", row);
    if (has_video) fprintf(row, "%lld×%lld", w, h);
    else fputs("no video", row);
    fputs("</td><td class=\"num\">", row);
    if (has_video) put_num(row, fps, "%.3g", NULL);
    else fputs("—", row);
    fprintf(row, "</td><td class=\"num\">%zu</td><td class=\"num\">", shots);
    if (!audio) fputs("—", row);
    else if (!json_is_true(json_object_get(audio, "has_audio"))) fputs("no audio", row);
    else put_num(row, num(audio, "integrated_lufs"), "%.1f", NULL);
    fputs("</td>", row);

    fputs("<section class=\"video\" id=\"v-", sec);
    esc(sec, name);
    fputs("\" data-name=\"", sec);
    esc(sec, name);
    fputs("\"><h2>", sec);
    esc(sec, input);
    fputs(" <small>", sec);
    esc(sec, name);
    fputs("/</small></h2><p class=\"facts\">", sec);
    duration(sec, dur);
    if (has_video) {
        fprintf(sec, " · %lld×%lld · ", w, h);
        put_num(sec, fps, "%.3g", " fps");
        fprintf(sec, " · %lld frames", (long long)json_integer_value(json_object_get(v, "frames")));
    } else fputs(" · no video stream", sec);
    fprintf(sec, " · %zu shot%s", shots, shots == 1 ? "" : "s");
    if (!json_is_true(json_object_get(v, "has_audio"))) fputs(" · no audio", sec);
    fputs("</p>", sec);
    filmstrip(sec, name, v);
    fputs("<div class=\"summary\">", sec);
    const json_t *x;
    if ((x = json_object_get(v, "color_analysis")) && has_video) palette_summary(sec, x);
    if ((x = json_object_get(v, "content_quality"))) quality_summary(sec, x);
    if (audio) audio_summary(sec, audio, dur);
    else if (!json_is_true(json_object_get(v, "has_audio")))
        fputs("<div class=\"audio\"><h3>Audio</h3><p class=\"noaudio\">No audio.</p></div>", sec);
    fputs("</div></section>\n", sec);
}

int lens__vreport_new(lens__vreport **out, size_t n, lens_error *err)
{
    lens__vreport *r = calloc(1, sizeof *r);
    if (r && n && !(r->p = calloc(n, sizeof *r->p))) free(r), r = NULL;
    if (!r) return lens_error_set(err, LENS_ENOMEM, "out of memory");
    r->n = n;
    *out = r;
    return 0;
}

void lens__vreport_free(lens__vreport *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->n; i++) free(r->p[i].row), free(r->p[i].section);
    free(r->p);
    free(r);
}

int lens__vreport_video(lens__vreport *r, size_t i, const char *out_dir, const char *name, const char *input,
                        lens_error *err)
{
    if (i >= r->n) return lens_error_set(err, LENS_EINVAL, "report: video %zu of %zu", i, r->n);
    part *p = &r->p[i];
    free(p->row), free(p->section);
    p->row = p->section = NULL;
    char path[8600];
    snprintf(path, sizeof path, "%s/%s/video.json", out_dir, name);
    json_error_t je;
    json_t *v = json_load_file(path, 0, &je);
    if (!v) return lens_error_set(err, LENS_EFORMAT, "%s: %s", path, je.text);
    size_t nr = 0, ns = 0;
    FILE *row = open_memstream(&p->row, &nr), *sec = row ? open_memstream(&p->section, &ns) : NULL;
    if (row && sec) render(row, sec, name, input, v);
    int bad = !row || !sec;
    if (row) bad |= fclose(row) != 0;
    if (sec) bad |= fclose(sec) != 0;
    json_decref(v);
    if (bad) {
        free(p->row), free(p->section);
        p->row = p->section = NULL;
        return lens_error_set(err, LENS_ENOMEM, "out of memory");
    }
    return 0;
}

int lens__vreport_write(const lens__vreport *r, const char *out_dir, const json_t *index, lens_error *err)
{
    const json_t *videos = json_object_get(index, "videos");
    size_t n = json_array_size(videos), failed = 0, finished = 0, pending = 0;
    double total = 0;
    size_t i;
    json_t *it;
    json_array_foreach(videos, i, it) {
        const char *st = str(it, "status");
        if (st && !strcmp(st, "failed")) failed++;
        else if (i < r->n && r->p[i].section) finished++, total += isnan(num(it, "duration_s")) ? 0 : num(it, "duration_s");
        else pending++;
    }
    char path[8600];
    snprintf(path, sizeof path, "%s/report.html", out_dir);
    lens__afile *af;
    int rc = lens__afile_open(&af, path, err);
    if (rc) return rc;
    FILE *f = lens__afile_stream(af);
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
               "<title>lens — video report</title><style>%s</style></head><body>\n",
            css);
    fputs("<header><h1>Video report</h1><p class=\"meta\">generated by lens video</p></header>\n<main>\n", f);
    fprintf(f, "<section class=\"overview\"><h2>Batch</h2><p class=\"counts\"><span><b data-count=\"videos\">%zu</b>videos"
               "</span><span><b data-count=\"analyzed\">%zu</b>analyzed</span><span><b data-count=\"failed\">%zu</b>failed"
               "</span>",
            n, finished, failed);
    if (pending) fprintf(f, "<span><b data-count=\"pending\">%zu</b>not yet done</span>", pending);
    fputs("<span><b data-count=\"duration\">", f);
    duration(f, total);
    fputs("</b>in all</span></p>\n", f);
    if (failed) {
        fputs("<h3>Failures</h3><ul class=\"failures\">", f);
        json_array_foreach(videos, i, it) {
            const char *st = str(it, "status");
            if (!st || strcmp(st, "failed")) continue;
            fputs("<li class=\"failure\"><b class=\"file\">", f);
            esc(f, str(it, "input"));
            fputs("</b>: <span class=\"reason\">", f);
            reason(f, it);
            fputs("</span></li>", f);
        }
        fputs("</ul>\n", f);
    }
    fputs("<table class=\"videos\"><tr><th>Video</th><th>Duration</th><th>Resolution</th><th>FPS</th><th>Shots</th>"
          "<th>Loudness LUFS</th></tr>\n",
          f);
    json_array_foreach(videos, i, it) {
        const char *st = str(it, "status"), *name = str(it, "name");
        const part *p = i < r->n ? &r->p[i] : NULL;
        fputs("<tr class=\"video\" data-status=\"", f);
        esc(f, st);
        fputs("\"><td>", f);
        if (p && p->section) {
            fputs("<a href=\"#v-", f);
            esc(f, name);
            fputs("\">", f);
            esc(f, str(it, "input"));
            fprintf(f, "</a></td>%s</tr>\n", p->row);
        } else {
            esc(f, str(it, "input"));
            fputs("</td><td colspan=\"5\" class=\"muted\">", f);
            if (st && !strcmp(st, "failed")) {
                fputs("failed: ", f);
                reason(f, it);
            } else fputs("not yet done", f);
            fputs("</td></tr>\n", f);
        }
    }
    fputs("</table>\n", f);
    fprintf(f, "<p class=\"muted\">Quality flags: blurry when sharpness (variance of the Laplacian at 320 wide) is under "
               "%.0f; noisy when the noise sigma is over %.0f luma levels; crushed blacks when over %.0f%% of "
               "pixels are at black (letterbox bars count), clipped whites when over %.0f%% are at white; blocky "
               "when blockiness is over %.1f (1: none); frozen when at least %.0f%% of the frames repeat the one "
               "before; black from the first black frame (shares of the shot's or the video's frames).</p>"
               "</section>\n",
            BLURRY_BELOW, NOISY_ABOVE, 100 * CRUSHED_ABOVE, 100 * CLIPPED_ABOVE, BLOCKY_ABOVE, 100 * FROZEN_SHARE);
    for (i = 0; i < r->n; i++)
        if (r->p[i].section) fputs(r->p[i].section, f);
    fputs("</main></body></html>\n", f);
    return lens__afile_commit(af, err);
}
