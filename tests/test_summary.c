/* Two-level MMR summaries on planted clusters: the quotes must come from the
 * clusters (one each), credit the right number of reviews, and not depend on
 * anything but the input order. */
#include <math.h>
#include <string.h>

#include "analysis/summary_checkpoint.h"
#include "text/sentences.h"
#include "lens/summary.h"
#include "test.h"

static void check_split(const char *text, int want, const char *first, const char *last)
{
    lens__span sp[16];
    size_t n = lens__sentences_split(text, strlen(text), 3, sp, 16);
    CHECK((int)n == want, "[%s]: %zu sentences, want %d", text, n, want);
    if ((int)n != want || !n) return;
    CHECK(strlen(first) == sp[0].len && !strncmp(text + sp[0].start, first, sp[0].len), "[%s]: first [%.*s]", text,
          (int)sp[0].len, text + sp[0].start);
    CHECK(strlen(last) == sp[n - 1].len && !strncmp(text + sp[n - 1].start, last, sp[n - 1].len), "[%s]: last [%.*s]",
          text, (int)sp[n - 1].len, text + sp[n - 1].start);
}

#define D 16

static unsigned long long rng = 1234567;
static float frand(void)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (float)((rng >> 11) * (1.0 / 9007199254740992.0)) * 2.0f - 1.0f;
}

/* cluster c's direction is basis vector c, plus noise */
static void sentence(int c, float *e)
{
    float n = 0;
    for (int i = 0; i < D; i++) {
        e[i] = (i == c ? 1.0f : 0.0f) + 0.15f * frand();
        n += e[i] * e[i];
    }
    for (int i = 0; i < D; i++) e[i] /= sqrtf(n);
}

static int run_thin(int chunk, int max_picks, const lens_quote **q, int *n, lens_summary **out, int *cluster_reviews)
{
    lens_summary_opts o = {.dim = D, .k = 3, .chunk = chunk, .max_picks = max_picks};
    lens_error err = {0};
    lens_summary *s = NULL;
    CHECK(lens_summary_new(&s, &o, &err) == 0, "%s", err.msg);
    rng = 1234567;
    memset(cluster_reviews, 0, 3 * sizeof *cluster_reviews);
    for (int r = 0; r < 600; r++) {
        /* clusters of 300, 200, 100 reviews, interleaved; 1-3 sentences each */
        int c = r % 6 < 3 ? 0 : r % 6 < 5 ? 1 : 2;
        cluster_reviews[c]++;
        char rid[16], text[64];
        snprintf(rid, sizeof rid, "r%d", r);
        for (int k = 0; k <= r % 3; k++) {
            float e[D];
            sentence(c, e);
            snprintf(text, sizeof text, "cluster %d review %d sentence %d", c, r, k);
            CHECK(lens_summary_add(s, e, text, strlen(text), rid, &err) == 0, "%s", err.msg);
        }
    }
    CHECK(lens_summary_finish(s, q, n, &err) == 0, "%s", err.msg);
    *out = s;
    return 0;
}

static int run(int chunk, const lens_quote **q, int *n, lens_summary **out, int *cluster_reviews)
{
    return run_thin(chunk, 0, q, n, out, cluster_reviews);
}

/* The 600 reviews' sentences, precomputed so a restored summary can embed
 * its waiting sentences again from their text. */
static float all_emb[600][3][D];
static int all_cluster[600];

static void make_all(void)
{
    rng = 1234567;
    for (int r = 0; r < 600; r++) {
        all_cluster[r] = r % 6 < 3 ? 0 : r % 6 < 5 ? 1 : 2;
        for (int k = 0; k <= r % 3; k++) sentence(all_cluster[r], all_emb[r][k]);
    }
}

static void add_review(lens_summary *s, int r)
{
    lens_error err = {0};
    char rid[16], text[64];
    snprintf(rid, sizeof rid, "r%d", r);
    for (int k = 0; k <= r % 3; k++) {
        snprintf(text, sizeof text, "cluster %d review %d sentence %d", all_cluster[r], r, k);
        CHECK(lens_summary_add(s, all_emb[r][k], text, strlen(text), rid, &err) == 0, "%s", err.msg);
    }
}

/* Saves every 37 reviews, "crashes" after review cut, loads the saves into a
 * new summary, re-embeds its waiting sentences, goes on: the quotes must be
 * those of an uninterrupted run. */
static void check_resume(int max_picks, int cut)
{
    lens_summary_opts o = {.dim = D, .k = 3, .chunk = 16, .max_picks = max_picks};
    lens_error err = {0};
    lens_summary *a = NULL, *b = NULL, *c = NULL;
    CHECK(lens_summary_new(&a, &o, &err) == 0 && lens_summary_new(&b, &o, &err) == 0 &&
          lens_summary_new(&c, &o, &err) == 0, "%s", err.msg);
    lens__wbuf saves[64] = {{0}};
    int n_saves = 0, last = 0;
    for (int r = 0; r < 600; r++) {
        add_review(a, r);
        if (r < cut) add_review(b, r);
        if (r < cut && (r + 1) % 37 == 0 && n_saves < 64) {
            lens__summary_save(b, &saves[n_saves++]);
            last = r + 1;
        }
    }
    for (int i = 0; i < n_saves; i++) {
        lens__rbuf rb = {.p = saves[i].p, .len = saves[i].len};
        CHECK(lens__summary_load(c, &rb, &err) == 0, "load %d: %s", i, err.msg);
        lens__wbuf_free(&saves[i]);
    }
    const char *const *w;
    size_t nw = lens__summary_waiting(c, &w);
    float *emb = calloc(nw ? nw * D : 1, sizeof *emb);
    for (size_t i = 0; i < nw; i++) {
        int cl, r, k;
        CHECK(sscanf(w[i], "cluster %d review %d sentence %d", &cl, &r, &k) == 3, "waiting text %s", w[i]);
        memcpy(emb + i * D, all_emb[r][k], sizeof all_emb[r][k]);
    }
    lens__summary_set_waiting(c, emb);
    free(emb);
    for (int r = last; r < 600; r++) add_review(c, r);
    const lens_quote *qa, *qc;
    int na, nc;
    CHECK(lens_summary_finish(a, &qa, &na, &err) == 0 && lens_summary_finish(c, &qc, &nc, &err) == 0, "%s", err.msg);
    int same = na == nc && na > 0;
    for (int i = 0; same && i < na; i++)
        same = !strcmp(qa[i].text, qc[i].text) && qa[i].reviews == qc[i].reviews && qa[i].similarity == qc[i].similarity;
    CHECK(same, "resumed summary (max_picks %d, cut at %d, %d saves) differs", max_picks, cut, n_saves);
    lens_summary_free(a);
    lens_summary_free(b);
    lens_summary_free(c);
}

int main(void)
{
    check_split("Great game! Bad servers... 10/10 would buy again", 3, "Great game!", "10/10 would buy again");
    check_split("v1.2 fixed it. Then the map", 2, "v1.2 fixed it.", "Then the map");
    check_split("  line one\nline two\r\n\n:)\n", 2, "line one", "line two");
    check_split("wow!!! really?! ok.", 2, "wow!!!", "really?!");
    check_split("", 0, "", "");
    const lens_quote *q;
    int n, cr[3];
    lens_summary *s;
    run(64, &q, &n, &s, cr);
    CHECK(n == 3, "%d quotes", n);
    CHECK(lens_summary_sentences(s) == 1200, "sentences %llu", (unsigned long long)lens_summary_sentences(s));
    int seen[3] = {0};
    for (int i = 0; i < n; i++) {
        int c = q[i].text[8] - '0';
        CHECK(c >= 0 && c < 3, "quote text %s", q[i].text);
        if (c < 0 || c > 2) continue;
        seen[c]++;
        CHECK(q[i].reviews == (uint64_t)cr[c], "quote from cluster %d credits %llu reviews, cluster has %d", c,
              (unsigned long long)q[i].reviews, cr[c]);
        CHECK(strncmp(q[i].review_id, "r", 1) == 0, "review id");
    }
    CHECK(seen[0] == 1 && seen[1] == 1 && seen[2] == 1, "one quote per cluster");
    CHECK(n && strstr(q[0].text, "cluster 0"), "the biggest cluster comes first: %s", n ? q[0].text : "");
    /* deterministic: same input, same quotes */
    lens_summary *s2;
    const lens_quote *q2;
    int n2;
    run(64, &q2, &n2, &s2, cr);
    int same = n2 == n;
    for (int i = 0; same && i < n; i++) same = strcmp(q[i].text, q2[i].text) == 0 && q[i].reviews == q2[i].reviews;
    CHECK(same, "deterministic");
    lens_summary_free(s2);
    lens_summary_free(s);
    /* a single chunk (no second level needed) agrees on the clusters */
    run(100000, &q, &n, &s, cr);
    CHECK(n == 3, "single chunk: %d quotes", n);
    lens_summary_free(s);
    /* thinning the picks (600 reviews, 1200 sentences, chunks of 16: ~600
     * first-level picks thinned at 64) keeps one quote per cluster with
     * exact credits */
    run_thin(16, 64, &q, &n, &s, cr);
    CHECK(n == 3, "thinned: %d quotes", n);
    for (int i = 0; i < n; i++) {
        int c = q[i].text[8] - '0';
        CHECK(c >= 0 && c < 3 && q[i].reviews == (uint64_t)cr[c], "thinned: quote %s credits %llu reviews, cluster %d",
              q[i].text, (unsigned long long)q[i].reviews, c >= 0 && c < 3 ? cr[c] : -1);
    }
    lens_summary_free(s);
    /* checkpoints: save, load, resume */
    make_all();
    check_resume(0, 300);
    check_resume(64, 300);
    check_resume(64, 555);
    check_resume(24, 10);
    /* empty summary */
    lens_summary_opts o = {.dim = D};
    lens_error err = {0};
    CHECK(lens_summary_new(&s, &o, &err) == 0 && lens_summary_finish(s, &q, &n, &err) == 0 && n == 0, "empty");
    lens_summary_free(s);
    TEST_DONE();
}
