/* The analyze job's outputs: report.csv, report.json, summaries.csv and
 * report.html, each written whole or not at all (lens__afile). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/fs.h"
#include "analyze_internal.h"

int lens__output_ready(job *j, lens__afile *af, lens_error *err)
{
    int rc = lens__afile_finish(af, err);
    if (!rc && j->n_outs == (int)(sizeof j->outs / sizeof *j->outs))
        rc = lens_error_set(err, LENS_EINVAL, "analyze: too many outputs");
    if (rc) {
        lens__afile_abort(af);
        return rc;
    }
    j->outs[j->n_outs++] = af;
    return LENS_OK;
}

int lens__write_reports(job *j, const char *dir, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/report.csv", dir);
    lens__afile *af;
    int rc = lens__afile_open(&af, path, err);
    if (rc) return rc;
    FILE *f = lens__afile_stream(af);
    fputs("steam_appid,app_name,Theme,#Reviews,Positive,Negative,LikeRatio,DislikeRatio,MeanSimilarity\n", f);
    for (int a = 0; a < j->themes->n_apps; a++) {
        const lens_app_themes *app = &j->themes->apps[a];
        for (int t = 0; t <= app->n_themes; t++) {
            const counts *c = &j->agg[a].theme[t];
            if (!c->reviews) continue;
            fprintf(f, "%s,", app->app_id);
            lens_csv_write_field(f, j->agg[a].name ? j->agg[a].name : "");
            fputc(',', f);
            lens_csv_write_field(f, lens_themes_name(app, t));
            fprintf(f, ",%llu,%llu,%llu,%.4f,%.4f,", (unsigned long long)c->reviews, (unsigned long long)c->positive,
                    (unsigned long long)c->negative, (double)c->positive / c->reviews,
                    (double)c->negative / c->reviews);
            if (t < app->n_themes) fprintf(f, "%.4f\n", c->sim_sum / c->reviews);
            else fputs("\n", f);
        }
    }
    if ((rc = lens__output_ready(j, af, err))) return rc;

    snprintf(path, sizeof path, "%s/report.json", dir);
    if ((rc = lens__afile_open(&af, path, err))) return rc;
    f = lens__afile_stream(af);
    const lens_analyze_stats *s = j->st;
    fprintf(f, "{\n  \"model\": ");
    lens_json_str(f, j->o->model);
    fprintf(f, ",\n  \"precision\": \"%s\",\n  \"min_similarity\": ", lens_precision_name(lens_model_precision(j->model)));
    if (j->min_sim < -1.0f) fputs("null", f); /* off */
    else fprintf(f, "%.4f", j->min_sim);
    fprintf(f, ",\n  \"top_k\": %d,\n  \"sentiment\": \"%s\",\n", j->o->top_k,
            !s->sentiment_vader ? "voted_up" : s->sentiment_vader == s->analyzed ? "vader" : "voted_up+vader");
    fprintf(f, "  \"counts\": {\"rows\": %llu, \"analyzed\": %llu, \"empty\": %llu, \"other_language\": %llu, "
               "\"unknown_app\": %llu, \"unassigned\": %llu, \"sentiment_vader\": %llu, \"invalid_utf8\": %llu, "
               "\"invalid_utf8_bytes\": %llu},\n",
            (unsigned long long)s->rows, (unsigned long long)s->analyzed, (unsigned long long)s->empty,
            (unsigned long long)s->other_language, (unsigned long long)s->unknown_app, (unsigned long long)s->unassigned,
            (unsigned long long)s->sentiment_vader, (unsigned long long)s->invalid_utf8,
            (unsigned long long)s->invalid_utf8_bytes);
    fputs("  \"skipped_apps\": [", f);
    for (int i = 0; i < j->n_unknown; i++) {
        fprintf(f, "%s{\"app_id\": ", i ? ", " : "");
        lens_json_str(f, j->unknown[i].id);
        fprintf(f, ", \"reviews\": %llu}", (unsigned long long)j->unknown[i].rows);
    }
    fputs("],\n  \"apps\": [", f);
    int first_app = 1;
    for (int a = 0; a < j->themes->n_apps; a++) {
        const lens_app_themes *app = &j->themes->apps[a];
        const counts *g = &j->agg[a].game;
        if (!g->reviews) continue;
        fprintf(f, "%s\n    {\"app_id\": ", first_app ? "" : ",");
        first_app = 0;
        lens_json_str(f, app->app_id);
        fputs(", \"name\": ", f);
        lens_json_str(f, j->agg[a].name ? j->agg[a].name : "");
        /* reviews once each; the themes' reviews are assignments, top_k per review at most */
        fprintf(f, ", \"reviews\": %llu, \"positive\": %llu, \"negative\": %llu", (unsigned long long)g->reviews,
                (unsigned long long)g->positive, (unsigned long long)g->negative);
        fputs(", \"themes\": [", f);
        int first = 1;
        for (int t = 0; t <= app->n_themes; t++) {
            const counts *c = &j->agg[a].theme[t];
            if (!c->reviews) continue;
            fprintf(f, "%s\n      {\"theme\": ", first ? "" : ",");
            first = 0;
            lens_json_str(f, lens_themes_name(app, t));
            fprintf(f, ", \"reviews\": %llu, \"positive\": %llu, \"negative\": %llu, \"like_ratio\": %.4f, "
                       "\"dislike_ratio\": %.4f",
                    (unsigned long long)c->reviews, (unsigned long long)c->positive, (unsigned long long)c->negative,
                    (double)c->positive / c->reviews, (double)c->negative / c->reviews);
            if (t < app->n_themes) fprintf(f, ", \"mean_similarity\": %.4f", c->sim_sum / c->reviews);
            /* the sample reviews report.html shows, for other front ends */
            fputs(", \"samples\": [", f);
            for (int k = 0; k < SAMPLES; k++) {
                size_t at = (size_t)t * SAMPLES + (size_t)k;
                if (!j->agg[a].sample[at]) break;
                fputs(k ? ", {\"review_id\": " : "{\"review_id\": ", f);
                lens_json_str(f, j->agg[a].sample_id[at]);
                fprintf(f, ", \"sentiment\": \"%s\", \"text\": ", j->agg[a].sample_up[at] ? "positive" : "negative");
                lens_json_str(f, j->agg[a].sample[at]);
                fputc('}', f);
            }
            fputs("]}", f);
        }
        fputs("]}", f);
    }
    fputs("\n  ]\n}\n", f);
    return lens__output_ready(j, af, err);
}

int lens__write_summaries(job *j, const char *dir, lens_error *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/summaries.csv", dir);
    lens__afile *af;
    int rc = lens__afile_open(&af, path, err);
    if (rc) return rc;
    FILE *f = lens__afile_stream(af);
    fputs("steam_appid,app_name,Theme,sentiment,rank,quote,review_id,reviews,sentences,similarity\n", f);
    for (int a = 0; a < j->themes->n_apps; a++) {
        const lens_app_themes *app = &j->themes->apps[a];
        for (int t = 0; t <= app->n_themes; t++)
            for (int up = 1; up >= 0; up--) {
                lens_summary *s = j->agg[a].sum[t * 2 + up];
                if (!s) continue;
                const lens_quote *q;
                int n;
                if ((rc = lens_summary_finish(s, &q, &n, err))) {
                    lens__afile_abort(af);
                    return rc;
                }
                for (int r = 0; r < n; r++) {
                    fprintf(f, "%s,", app->app_id);
                    lens_csv_write_field(f, j->agg[a].name ? j->agg[a].name : "");
                    fputc(',', f);
                    lens_csv_write_field(f, lens_themes_name(app, t));
                    fprintf(f, ",%s,%d,", up ? "positive" : "negative", r + 1);
                    lens_csv_write_field(f, q[r].text);
                    fputc(',', f);
                    lens_csv_write_field(f, q[r].review_id);
                    fprintf(f, ",%llu,%llu,%.4f\n", (unsigned long long)q[r].reviews,
                            (unsigned long long)lens_summary_sentences(s), q[r].similarity);
                }
            }
    }
    return lens__output_ready(j, af, err);
}

