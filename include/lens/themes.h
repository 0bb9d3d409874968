/* lens — themes: per-game lists of keywords, the steamLens themes.json format
 *
 *   {"<appid>": {"<theme>": ["keyword", ...], ...}, ...}
 *
 * A theme's vector is the normalised mean of its keywords' embeddings; a
 * review goes to the theme(s) whose vector is most similar to its own. */
#ifndef LENS_THEMES_H
#define LENS_THEMES_H

#include <stddef.h>

#include "lens/error.h"
#include "lens/model.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct lens_theme {
    char *name;
    char **keywords;
    int n_keywords;
} lens_theme;

typedef struct lens_app_themes {
    char *app_id;
    lens_theme *themes;
    int n_themes;
    float *vectors; /* [n_themes][dim] after lens_themes_embed, else NULL */
    const float *unknown; /* the themes' unknown vector (below), or NULL */
} lens_app_themes;

typedef struct lens_themes {
    lens_app_themes *apps;
    int n_apps;
    int dim;
    /* [dim] after lens_themes_embed with a static model: the fixed vector it
     * gives a text with no known word. Keywords that embed to it are left
     * out of their theme, and a review that does is "unassigned". NULL for
     * transformers; lens_themes_embed_with uses it when the caller set it
     * (malloc'd: lens_themes_free frees it), from lens_themes_unknown. */
    float *unknown;
} lens_themes;

/* Parses path; any error names path:line:column. Duplicate app ids or theme
 * names, empty keyword lists and non-string keywords are errors. */
LENS_API int lens_themes_load(lens_themes **out, const char *path, lens_error *err);
/* The same from memory; name stands for the path in errors. */
LENS_API int lens_themes_parse(lens_themes **out, const char *text, size_t len, const char *name, lens_error *err);
LENS_API void lens_themes_free(lens_themes *t);
/* NULL when the app has no themes. */
LENS_API const lens_app_themes *lens_themes_find(const lens_themes *t, const char *app_id);
/* The name of theme t of app; "unassigned" for t == n_themes, the slot after
 * the themes where reports count the reviews no theme took. */
LENS_API const char *lens_themes_name(const lens_app_themes *app, int t);

/* The vector enc gives a text with no known word (a static model's fixed
 * one), for t->unknown before lens_themes_embed_with; *out is NULL for a
 * transformer, which has no such vector. Free with free(). */
LENS_API int lens_themes_unknown(lens_encoder *enc, int dim, float **out, lens_error *err);
/* Embeds every keyword with enc and sets each theme's vector. */
LENS_API int lens_themes_embed(lens_themes *t, lens_encoder *enc, int dim, lens_error *err);
/* The same with any embedder (a server's batcher, say): fills out[n][dim]. */
typedef int (*lens_embed_fn)(void *ctx, const char *const *texts, size_t n, float *out, lens_error *err);
LENS_API int lens_themes_embed_with(lens_themes *t, int dim, lens_embed_fn embed, void *ctx, lens_error *err);

/* Cosine similarities of one L2-normalised embedding to every theme of app,
 * written to sims[n_themes]. Then the top_k themes with similarity >=
 * min_sim, best first, go to picks[] (returns how many: 0 means the review
 * is "unassigned"; always so for a zero embedding or app->unknown, a text
 * with no word the model knows). */
LENS_API int lens_themes_assign(const lens_app_themes *app, int dim, const float *emb, float min_sim,
                                int top_k, float *sims, int *picks);

#ifdef __cplusplus
}
#endif
#endif
