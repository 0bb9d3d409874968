/* lens model pull: fetch a model from the Hugging Face hub with libcurl. */
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/sha256.h"
#include "lens/model.h"
#include "human_models.h"
#include "registry.h"

typedef struct {
    FILE *f;
    lens__sha256 sha;
    uint64_t bytes;
    const lens_pull_opts *opts;
    const char *file;
    int werr; /* errno of a failed write */
} sink;

static size_t on_data(char *p, size_t size, size_t n, void *ctx)
{
    sink *s = ctx;
    size_t len = size * n;
    if (fwrite(p, 1, len, s->f) != len) { /* aborts the transfer */
        s->werr = errno ? errno : EIO;
        return 0;
    }
    lens__sha256_update(&s->sha, p, len);
    s->bytes += len;
    return len;
}

static int on_progress(void *ctx, curl_off_t total, curl_off_t done, curl_off_t ut, curl_off_t un)
{
    (void)ut; (void)un;
    sink *s = ctx;
    if (s->opts->progress) s->opts->progress(s->opts->ctx, s->file, (uint64_t)done, (uint64_t)total);
    return s->opts->stop && *s->opts->stop; /* non-zero aborts the transfer */
}

/* Fetches url into path. *missing is set (and LENS_OK returned) on HTTP 404. */
static int fetch(CURL *curl, const char *url, const char *path, const lens_pull_opts *opts,
                 const char *file, unsigned char digest[32], uint64_t *bytes, int *missing,
                 lens_error *err)
{
    *missing = 0;
    sink s = {.opts = opts, .file = file};
    lens__sha256_init(&s.sha);
    if (!(s.f = fopen(path, "wb")))
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(errno));
    char curl_err[CURL_ERROR_SIZE] = "";
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &s);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    CURLcode cc = curl_easy_perform(curl);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    int closed = fclose(s.f) != 0 ? (errno ? errno : EIO) : 0; /* errno of a failed close */
    if (cc == CURLE_WRITE_ERROR && s.werr)
        return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(s.werr));
    if (cc == CURLE_ABORTED_BY_CALLBACK)
        return lens_error_set(err, LENS_ECANCEL, "stopped while downloading %s; nothing was installed", url);
    if (cc != CURLE_OK) {
        int offline = cc == CURLE_COULDNT_RESOLVE_HOST || cc == CURLE_COULDNT_CONNECT ||
                      cc == CURLE_COULDNT_RESOLVE_PROXY || cc == CURLE_OPERATION_TIMEDOUT;
        return lens_error_set(err, LENS_ENET, "cannot download %s: %s%s", url,
                              curl_err[0] ? curl_err : curl_easy_strerror(cc),
                              offline ? " (offline? copy the model directory here by hand and "
                                        "pass it with --model DIR)"
                                      : "");
    }
    if (status == 404) {
        *missing = 1;
        return LENS_OK;
    }
    if (status != 200)
        return lens_error_set(err, LENS_ENET, "cannot download %s: HTTP %ld%s", url, status,
                              status == 401 || status == 403 ? " (gated or private? set HF_TOKEN)" : "");
    if (closed) return lens_error_set(err, LENS_EIO, "cannot write %s: %s", path, strerror(closed));
    lens__sha256_final(&s.sha, digest);
    *bytes = s.bytes;
    return LENS_OK;
}

int lens_model_pull(const char *name, const lens_pull_opts *opts_in, char *dir, size_t cap,
                    lens_error *err)
{
    lens_pull_opts opts = opts_in ? *opts_in : (lens_pull_opts){0};
    if (!strcmp(name, "human-models")) return lens__human_models_pull(&opts, dir, cap, err);
    const lens__known_model *known = lens__registry_find(name);
    const char *repo = known ? known->repo : name;
    char cache[4096], final_dir[4096], stage[4200];
    int rc;
    if (opts.cache_dir) snprintf(cache, sizeof cache, "%s", opts.cache_dir);
    else if ((rc = lens_model_cache_dir(cache, sizeof cache, err))) return rc;
    if ((rc = lens__registry_dir(cache, name, final_dir, sizeof final_dir, err))) return rc;
    const char *want_sha = opts.sha256 ? opts.sha256 : known ? known->weights_sha256 : NULL;
    if (!want_sha)
        return lens_error_set(err, LENS_EINVAL,
                              "no pinned sha256 for '%s' (known: %s); pass the expected hash of "
                              "its model.safetensors with --sha256",
                              name, lens__registry_names());
    if (strlen(want_sha) != 64)
        return lens_error_set(err, LENS_EINVAL, "--sha256 must be 64 hex digits");
    snprintf(stage, sizeof stage, "%s.partial-%ld", final_dir, (long)getpid());
    if ((rc = lens__rmtree(stage, err)) || (rc = lens__mkdirs(stage, err))) return rc;

    const char *endpoint = opts.endpoint ? opts.endpoint : getenv("HF_ENDPOINT");
    if (!endpoint || !*endpoint) endpoint = "https://huggingface.co";
    const char *rev = opts.revision ? opts.revision : "main";
    const char *const *files = known ? known->files : lens__registry_default_files();

    CURL *curl = curl_easy_init();
    struct curl_slist *headers = NULL;
    if (!curl) {
        lens__rmtree(stage, NULL);
        return lens_error_set(err, LENS_ENOMEM, "cannot initialise libcurl");
    }
    const char *token = getenv("HF_TOKEN");
    if (token && *token) {
        char h[1024];
        snprintf(h, sizeof h, "Authorization: Bearer %s", token);
        headers = curl_slist_append(headers, h);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    }
    curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(curl, CURLOPT_MAXREDIRS, 10L);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, 20L);
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1024L); /* abort stalls: < 1 KB/s */
    curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME, 60L);
    curl_easy_setopt(curl, CURLOPT_USERAGENT, "lens/0.1");

    int have_tokenizer = 0;
    for (const char *const *f = files; *f && !rc; f++) {
        char url[8192], path[4400];
        snprintf(url, sizeof url, "%s/%s/resolve/%s/%s", endpoint, repo, rev, *f);
        snprintf(path, sizeof path, "%s/%s", stage, *f);
        char *slash = strrchr(path, '/');
        *slash = '\0';
        if ((rc = lens__mkdirs(path, err))) break;
        *slash = '/';
        unsigned char digest[32];
        uint64_t bytes = 0;
        int missing;
        if ((rc = fetch(curl, url, path, &opts, *f, digest, &bytes, &missing, err))) break;
        int required = strcmp(*f, "config.json") == 0 || strcmp(*f, "model.safetensors") == 0;
        if (missing) {
            unlink(path);
            if (required) rc = lens_error_set(err, LENS_ENOTFOUND, "%s: not found (HTTP 404)", url);
            continue;
        }
        if (strcmp(*f, "tokenizer.json") == 0 || strcmp(*f, "vocab.txt") == 0) have_tokenizer = 1;
        if (strcmp(*f, "model.safetensors") == 0) {
            char hex[65];
            lens__sha256_hex(digest, hex);
            if (strcasecmp(hex, want_sha) != 0)
                rc = lens_error_set(err, LENS_EFORMAT,
                                    "%s: sha256 %s does not match the expected %s (%llu bytes "
                                    "received); nothing was installed",
                                    url, hex, want_sha, (unsigned long long)bytes);
        }
    }
    if (!rc && !have_tokenizer)
        rc = lens_error_set(err, LENS_ENOTFOUND, "%s has neither tokenizer.json nor vocab.txt", repo);
    curl_slist_free_all(headers);
    curl_easy_cleanup(curl);
    if (!rc) {
        /* the complete, verified copy replaces any earlier one in one step */
        char parent[4096];
        lens__dirname(final_dir, parent, sizeof parent);
        if ((rc = lens__mkdirs(parent, err)) == LENS_OK) rc = lens__replace_dir(stage, final_dir, err);
    }
    if (rc) {
        lens__rmtree(stage, NULL);
        return rc;
    }
    snprintf(dir, cap, "%s", final_dir);
    return LENS_OK;
}
