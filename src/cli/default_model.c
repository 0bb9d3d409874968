/* The model lens uses when none is named. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "lens/model.h"

/* Default model: all-MiniLM-L6-v2 when it is in the cache, else the static
 * model shipped with lens (trained on Steam reviews; works offline). */
const char *cli_default_model(char *buf, size_t cap)
{
    struct stat st;
    lens_error err;
    if (lens_model_cache_dir(buf, cap, &err) == 0) {
        size_t n = strlen(buf);
        snprintf(buf + n, cap - n, "/sentence-transformers/all-MiniLM-L6-v2/model.safetensors");
        if (stat(buf, &st) == 0) return "all-MiniLM-L6-v2";
    }
    return LENS_BUNDLED_MODEL;
}
