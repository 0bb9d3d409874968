#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lens/model.h"

static const char *const st_files[] = {
    "config.json", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
    "special_tokens_map.json", "modules.json", "sentence_bert_config.json",
    "config_sentence_transformers.json", "1_Pooling/config.json", "model.safetensors", NULL};

/* Hashes copied from the hub's LFS pointers (see the model's
 * OFFICIAL_WEIGHT_HASHES.txt in the project's shared assets). */
static const lens__known_model known[] = {
    {"all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2", st_files,
     "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db", 90868376},
};

const lens__known_model *lens__registry_find(const char *name)
{
    for (size_t i = 0; i < sizeof known / sizeof *known; i++)
        if (strcmp(name, known[i].alias) == 0 || strcmp(name, known[i].repo) == 0) return &known[i];
    return NULL;
}

const char *lens__registry_names(void) { return "all-MiniLM-L6-v2"; }
const char *const *lens__registry_default_files(void) { return st_files; }

int lens_model_cache_dir(char *buf, size_t cap, lens_error *err)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg) n = snprintf(buf, cap, "%s/lens/models", xdg);
    else if (home && *home) n = snprintf(buf, cap, "%s/.cache/lens/models", home);
    else return lens_error_set(err, LENS_ENOTFOUND, "model cache: neither XDG_CACHE_HOME nor HOME is set");
    if (n < 0 || (size_t)n >= cap) return lens_error_set(err, LENS_EINVAL, "model cache path too long");
    return LENS_OK;
}

static int valid_name(const char *name)
{
    /* hub ids: [A-Za-z0-9._-]+ with at most one '/', no "..": no path escapes */
    int slashes = 0;
    if (!*name || name[0] == '.' || strstr(name, "..")) return 0;
    for (const char *p = name; *p; p++) {
        if (*p == '/') {
            if (++slashes > 1 || p[1] == '\0' || p[1] == '.') return 0;
        } else if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                     (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-')) {
            return 0;
        }
    }
    return 1;
}

int lens__registry_dir(const char *cache, const char *name, char *buf, size_t cap, lens_error *err)
{
    const lens__known_model *k = lens__registry_find(name);
    const char *repo = k ? k->repo : name;
    if (!valid_name(repo))
        return lens_error_set(err, LENS_EINVAL,
                              "model name '%s' is neither a directory nor a hub id like org/name",
                              name);
    int n = snprintf(buf, cap, "%s/%s", cache, repo);
    if (n < 0 || (size_t)n >= cap) return lens_error_set(err, LENS_EINVAL, "model path too long");
    return LENS_OK;
}

int lens__registry_cached_dir(const char *name, char *buf, size_t cap, lens_error *err)
{
    char cache[4096];
    int rc = lens_model_cache_dir(cache, sizeof cache, err);
    if (rc || (rc = lens__registry_dir(cache, name, buf, cap, err))) return rc;
    char probe[4200];
    struct stat st;
    snprintf(probe, sizeof probe, "%s/model.safetensors", buf);
    if (stat(probe, &st) != 0)
        return lens_error_set(err, LENS_ENOTFOUND,
                              "model '%s' is not a directory and not in the cache (%s); run "
                              "`lens model pull %s` or pass a model directory",
                              name, buf, name);
    return LENS_OK;
}
