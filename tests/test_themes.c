/* themes.json loading (real steamLens file and broken ones, with
 * line:column errors) and theme assignment (argmax, min similarity, top-k). */
#include <string.h>
#include <unistd.h>

#include "lens/themes.h"
#include "test.h"

static char dir[256];

static void expect_error(const char *name, const char *json, const char *where, const char *what)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    fputs(json, f);
    fclose(f);
    lens_themes *t = NULL;
    lens_error err = {0};
    int rc = lens_themes_load(&t, path, &err);
    char want[600];
    snprintf(want, sizeof want, "%s:%s: ", path, where);
    CHECK(rc == LENS_EFORMAT && t == NULL, "%s: expected a format error", name);
    CHECK(strncmp(err.msg, want, strlen(want)) == 0 && strstr(err.msg, what), "%s: got [%s], want [%s...%s]", name,
          err.msg, want, what);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s THEMES.json\n", argv[0]);
        return 2;
    }
    snprintf(dir, sizeof dir, "/tmp/lens-test-themes-%ld", (long)getpid());
    char cmd[300];
    snprintf(cmd, sizeof cmd, "mkdir -p %s", dir);
    if (system(cmd)) return 2;

    lens_themes *t = NULL;
    lens_error err = {0};
    CHECK(lens_themes_load(&t, argv[1], &err) == 0, "%s", err.msg);
    if (t) {
        int themes = 0, kws = 0, nbh = 0;
        for (int a = 0; a < t->n_apps; a++)
            for (int i = 0; i < t->apps[a].n_themes; i++) {
                themes++;
                for (int k = 0; k < t->apps[a].themes[i].n_keywords; k++) {
                    kws++;
                    nbh += strstr(t->apps[a].themes[i].keywords[k], "\xE2\x80\x91") != NULL; /* U+2011 */
                }
            }
        CHECK(t->n_apps == 16 && themes == 203, "%d apps, %d themes", t->n_apps, themes);
        CHECK(kws == 4681, "%d keywords", kws);
        CHECK(nbh > 0, "non-breaking hyphens kept as UTF-8");
        const lens_app_themes *cs = lens_themes_find(t, "10");
        CHECK(cs && cs->n_themes == 10 && strcmp(cs->themes[0].name, "gameplay") == 0, "app 10 first theme");
        CHECK(lens_themes_find(t, "999999999") == NULL, "unknown app");
        if (cs)
            CHECK(strcmp(lens_themes_name(cs, 0), "gameplay") == 0 && strcmp(lens_themes_name(cs, 10), "unassigned") == 0,
                  "theme names, and the unassigned slot after the last theme");
        lens_themes_free(t);
    }

    expect_error("syntax.json", "{\n  \"10\": {\n    \"a\": [\"x\",]\n  }\n}\n", "3:15", "keywords must be strings");
    expect_error("nonstring.json", "{\"10\": {\"a\": [\"x\", 5]}}", "1:20", "keywords must be strings");
    expect_error("empty_list.json", "{\"10\": {\"a\": []}}", "1:15", "at least one keyword");
    expect_error("dup_theme.json", "{\"10\": {\"a\": [\"x\"],\n \"a\": [\"y\"]}}", "2:2", "theme listed twice");
    expect_error("dup_app.json", "{\"10\": {\"a\": [\"x\"]}, \"10\": {\"b\": [\"y\"]}}", "1:22", "app id listed twice");
    expect_error("appid.json", "{\"ten\": {\"a\": [\"x\"]}}", "1:2", "decimal numbers");
    expect_error("notobj.json", "[1, 2]", "1:1", "JSON object");
    expect_error("trailing.json", "{\"10\": {\"a\": [\"x\"]}} extra", "1:22", "unexpected text");
    expect_error("unterminated.json", "{\"10\": {\"a\": [\"x", "1:15", "never closed");
    expect_error("emptykw.json", "{\"10\": {\"a\": [\" \"]}}", "1:15", "empty keyword");
    expect_error("badescape.json", "{\"10\": {\"a\": [\"\\q\"]}}", "1:16", "bad escape");
    CHECK(lens_themes_load(&t, "/nonexistent/themes.json", &err) == LENS_ENOTFOUND, "missing file");

    /* escapes decode to UTF-8 */
    snprintf(cmd, sizeof cmd, "%s/esc.json", dir);
    FILE *f = fopen(cmd, "w");
    fputs("{\"7\": {\"t\\u00e9\": [\"a\\u2011b\", \"\\ud83d\\ude00\"]}}", f);
    fclose(f);
    CHECK(lens_themes_load(&t, cmd, &err) == 0, "%s", err.msg);
    if (t) {
        CHECK(strcmp(t->apps[0].themes[0].name, "t\xC3\xA9") == 0, "\\u00e9");
        CHECK(strcmp(t->apps[0].themes[0].keywords[0], "a\xE2\x80\x91" "b") == 0, "\\u2011");
        CHECK(strcmp(t->apps[0].themes[0].keywords[1], "\xF0\x9F\x98\x80") == 0, "surrogate pair");
        lens_themes_free(t);
    }

    /* assignment on hand-made unit vectors */
    lens_theme th[3] = {{.name = "a"}, {.name = "b"}, {.name = "c"}};
    float vec[3 * 2] = {1, 0, 0, 1, 0.70710678f, 0.70710678f};
    lens_app_themes app = {.app_id = "1", .themes = th, .n_themes = 3, .vectors = vec};
    float e[2] = {0.8f, 0.6f}, sims[3];
    int picks[3];
    int n = lens_themes_assign(&app, 2, e, -1.0f, 1, sims, picks);
    CHECK(n == 1 && picks[0] == 2, "argmax -> c (%d, %d)", n, picks[0]);
    n = lens_themes_assign(&app, 2, e, -1.0f, 3, sims, picks);
    CHECK(n == 3 && picks[0] == 2 && picks[1] == 0 && picks[2] == 1, "top-3 order");
    n = lens_themes_assign(&app, 2, e, 0.75f, 3, sims, picks);
    CHECK(n == 2 && picks[0] == 2 && picks[1] == 0, "min similarity cuts b (0.6)");
    n = lens_themes_assign(&app, 2, e, 0.995f, 3, sims, picks);
    CHECK(n == 0, "below min similarity -> unassigned");

    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd)) return 2;
    TEST_DONE();
}
