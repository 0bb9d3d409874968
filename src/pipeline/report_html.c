/* report.html: one self-contained page (inline CSS, no network) with, per
 * game, the themes as positive/negative bars, like ratios, the
 * representative quotes and a few sample reviews; with --map, a map of the
 * reviews on a canvas (the only script). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "analyze_internal.h"

static void esc(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\r': break;
        case '\n': fputs("<br>", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *css =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;margin:0;color:#1d2330;background:#f6f7f9}"
    "header{background:#1d2330;color:#fff;padding:20px 32px}header h1{margin:0 0 4px;font-size:24px}"
    ".meta{margin:0;color:#b8c0cc;font-size:13px}nav{padding:10px 32px;background:#e9ecf1}"
    "nav a{margin-right:14px;color:#2f5bd3;text-decoration:none}main{padding:8px 32px 40px;max-width:1100px}"
    ".game{background:#fff;border-radius:10px;box-shadow:0 1px 3px rgba(0,0,0,.08);padding:18px 22px;margin:18px 0}"
    ".game h2{margin:0 0 4px}.game h2 small{color:#8a93a3;font-weight:normal;font-size:14px}"
    ".totals{color:#4b5566;margin:0 0 12px}table.themes{border-collapse:collapse;width:100%}"
    "table.themes th{text-align:left;font-size:12px;color:#6b7486;text-transform:uppercase;padding:6px 8px}"
    "table.themes td{padding:6px 8px;border-top:1px solid #eef0f3;vertical-align:middle}"
    "td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
    ".bar{display:flex;height:14px;width:100%;min-width:220px;background:#f0f2f5;border-radius:3px;overflow:hidden}"
    ".bar .pos{background:#2e9d62;height:100%}.bar .neg{background:#d3483e;height:100%}"
    "tr.unassigned td:first-child{color:#8a93a3;font-style:italic}"
    "details{margin:10px 0 0;border-top:1px solid #eef0f3;padding-top:8px}summary{cursor:pointer;font-weight:600}"
    ".quotes{display:grid;grid-template-columns:1fr 1fr;gap:14px;margin-top:8px}"
    ".quotes h4{margin:4px 0;font-size:13px}.quotes .positive h4{color:#2e9d62}.quotes .negative h4{color:#d3483e}"
    "blockquote{margin:6px 0;padding:6px 10px;border-left:3px solid #cfd5de;background:#fafbfc}"
    "blockquote cite{display:block;font-size:12px;color:#7a8394;font-style:normal;margin-top:3px}"
    ".sample{font-size:13px;color:#333b48;background:#fafbfc;padding:6px 10px;border-radius:4px;margin:6px 0}"
    ".sample b{font-size:11px;text-transform:uppercase}.sample b.positive{color:#2e9d62}.sample b.negative{color:#d3483e}"
    ".skipped{color:#6b7486;font-size:13px}"
    "figure.map{position:relative;margin:14px 0}canvas.map{width:100%;max-width:760px;background:#fbfcfd;"
    "border:1px solid #eef0f3;border-radius:6px}figcaption{font-size:12px;color:#6b7486}"
    ".legend{font-size:12px;margin:4px 0}.legend span{margin-right:12px;white-space:nowrap}"
    ".legend i{display:inline-block;width:10px;height:10px;border-radius:2px;margin-right:4px}"
    ".maptip{position:absolute;max-width:360px;background:#1d2330;color:#fff;font-size:12px;padding:6px 8px;"
    "border-radius:5px;pointer-events:none;z-index:2}";

static int quotes(FILE *f, job *j, int a, int t, int up, lens_error *err)
{
    lens_summary *s = j->agg[a].sum ? j->agg[a].sum[t * 2 + up] : NULL;
    fprintf(f, "<div class=\"%s\"><h4>%s</h4>", up ? "positive" : "negative", up ? "What players like" : "What players dislike");
    const lens_quote *q = NULL;
    int n = 0;
    if (s) {
        int rc = lens_summary_finish(s, &q, &n, err);
        if (rc) return rc;
    }
    for (int r = 0; r < n; r++) {
        fprintf(f, "<blockquote class=\"quote\" data-reviews=\"%llu\">", (unsigned long long)q[r].reviews);
        esc(f, q[r].text);
        fprintf(f, "<cite>review %s · stands for %llu review%s</cite></blockquote>", q[r].review_id,
                (unsigned long long)q[r].reviews, q[r].reviews == 1 ? "" : "s");
    }
    if (!n) fputs("<p class=\"skipped\">none</p>", f);
    fputs("</div>", f);
    return LENS_OK;
}

int lens__write_html(job *j, const char *dir, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/report.html", dir);
    lens__afile *af;
    int rc = lens__afile_open(&af, path, err);
    if (rc) return rc;
    FILE *f = lens__afile_stream(af);
    const lens_analyze_stats *st = j->st;
    fprintf(f, "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
               "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
               "<title>lens — review themes</title><style>%s</style></head><body>\n", css);
    fprintf(f, "<header><h1>Review themes</h1><p class=\"meta\">%llu reviews analysed of %llu read · model ",
            (unsigned long long)st->analyzed, (unsigned long long)st->rows);
    esc(f, j->o->model);
    fprintf(f, " (%s) · generated by lens</p></header>\n<nav>", lens_precision_name(lens_model_precision(j->model)));
    for (int a = 0; a < j->themes->n_apps; a++) {
        if (!j->agg[a].game.reviews) continue;
        fprintf(f, "<a href=\"#app-%s\">", j->themes->apps[a].app_id);
        esc(f, j->agg[a].name ? j->agg[a].name : j->themes->apps[a].app_id);
        fputs("</a>", f);
    }
    fputs("</nav>\n<main>\n", f);
    for (int a = 0; a < j->themes->n_apps; a++) {
        const lens_app_themes *app = &j->themes->apps[a];
        const app_agg *ag = &j->agg[a];
        /* the game's reviews once each, not its theme assignments (top_k may be > 1) */
        uint64_t total = ag->game.reviews, pos = ag->game.positive, top = 0;
        for (int t = 0; t <= app->n_themes; t++)
            if (ag->theme[t].reviews > top) top = ag->theme[t].reviews;
        if (!total) continue;
        fprintf(f, "<section class=\"game\" id=\"app-%s\" data-app=\"%s\"><h2>", app->app_id, app->app_id);
        esc(f, ag->name ? ag->name : "");
        fprintf(f, " <small>%s</small></h2><p class=\"totals\" data-reviews=\"%llu\">%llu reviews · %.1f%% positive</p>\n", app->app_id,
                (unsigned long long)total, (unsigned long long)total, 100.0 * pos / total);
        fputs("<table class=\"themes\"><tr><th>Theme</th><th>Reviews</th><th>Positive / negative</th><th>Like</th>"
              "<th>Dislike</th></tr>\n", f);
        for (int t = 0; t <= app->n_themes; t++) {
            const counts *c = &ag->theme[t];
            if (!c->reviews) continue;
            const char *name = lens_themes_name(app, t);
            fprintf(f, "<tr class=\"theme%s\" data-reviews=\"%llu\" data-positive=\"%llu\" data-negative=\"%llu\"><td>",
                    t < app->n_themes ? "" : " unassigned", (unsigned long long)c->reviews,
                    (unsigned long long)c->positive, (unsigned long long)c->negative);
            esc(f, name);
            fprintf(f, "</td><td class=\"num\">%llu</td><td><div class=\"bar\"><span class=\"pos\" style=\"width:%.3f%%\"></span>"
                       "<span class=\"neg\" style=\"width:%.3f%%\"></span></div></td><td class=\"num\">%.1f%%</td>"
                       "<td class=\"num\">%.1f%%</td></tr>\n",
                    (unsigned long long)c->reviews, 100.0 * c->positive / top, 100.0 * c->negative / top,
                    100.0 * c->positive / c->reviews, 100.0 * c->negative / c->reviews);
        }
        fputs("</table>\n", f);
        lens__map_html(j, f, a);
        for (int t = 0; t <= app->n_themes; t++) {
            if (!ag->theme[t].reviews) continue;
            fputs("<details class=\"theme-detail\"><summary>", f);
            esc(f, lens_themes_name(app, t));
            fputs("</summary><div class=\"quotes\">", f);
            if ((rc = quotes(f, j, a, t, 1, err)) || (rc = quotes(f, j, a, t, 0, err))) {
                lens__afile_abort(af);
                return rc;
            }
            fputs("</div><h4>Sample reviews</h4>", f);
            for (int k = 0; k < SAMPLES; k++) {
                size_t at = (size_t)t * SAMPLES + (size_t)k;
                if (!ag->sample[at]) break;
                fprintf(f, "<p class=\"sample\"><b class=\"%s\">%s</b> ", ag->sample_up[at] ? "positive" : "negative",
                        ag->sample_up[at] ? "positive" : "negative");
                esc(f, ag->sample[at]);
                fputs("</p>", f);
            }
            fputs("</details>\n", f);
        }
        fputs("</section>\n", f);
    }
    if (j->n_unknown) {
        fprintf(f, "<p class=\"skipped\">Skipped %llu reviews of %d games that have no themes in themes.json.</p>\n",
                (unsigned long long)st->unknown_app, j->n_unknown);
    }
    fputs("</main>", f);
    if (j->map.xy) { /* web/map.js draws the maps */
        fputs("<script>", f);
        fputs(lens__map_js, f);
        fputs("lensMap.drawAll(document);</script>\n", f);
    }
    fputs("</body></html>\n", f);
    return lens__output_ready(j, af, err);
}
