/* Known models and where they live in the cache (internal). */
#ifndef LENS_MODELS_REGISTRY_H
#define LENS_MODELS_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "lens/error.h"

typedef struct lens__known_model {
    const char *alias;         /* short name, e.g. "all-MiniLM-L6-v2" */
    const char *repo;          /* hub repository id */
    const char *const *files;  /* files to fetch, model.safetensors last */
    const char *weights_sha256;/* pinned hash of model.safetensors */
    uint64_t weights_size;
} lens__known_model;

/* By alias or repo id; NULL when unknown. */
const lens__known_model *lens__registry_find(const char *name);
/* Comma-separated aliases, for error messages. */
const char *lens__registry_names(void);
/* The files fetched for a model that is not in the registry. */
const char *const *lens__registry_default_files(void);

/* The cache directory a name maps to (whether or not it exists yet):
 * <cache>/<org>/<name> for repo ids; aliases map to their repo id. */
int lens__registry_dir(const char *cache, const char *name, char *buf, size_t cap, lens_error *err);
/* Like lens__registry_dir under the default cache, but fails with a message
 * that says how to pull the model when it is not there. */
int lens__registry_cached_dir(const char *name, char *buf, size_t cap, lens_error *err);

#endif
