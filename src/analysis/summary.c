/* Two-level MMR extractive summaries (see include/lens/summary.h). */
#include "lens/summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/buf.h"
#include "summary_checkpoint.h"

typedef struct {
    float *emb;       /* [dim] */
    char *text, *review_id;
    uint32_t *reviews; /* review numbers credited, ascending, distinct */
    size_t n_reviews, cap_reviews;
    uint64_t sentences;
} pick;

struct lens_summary {
    lens_summary_opts o;
    /* the chunk being filled */
    float *emb;
    char **text, **rid;
    uint32_t *rnum;
    int n;
    size_t cap;
    /* first-level picks */
    pick *picks;
    int n_picks;
    size_t cap_picks;
    double *sum;       /* sum of the embeddings of every flushed sentence */
    uint64_t sentences;
    uint32_t reviews;  /* number of the current review */
    char *last_rid;
    /* checkpoints: what the last lens__summary_save wrote */
    int saved_picks, saved_pending, flushed, repicked, dirty;
    lens_quote *quotes;
    int n_quotes;
};

static float dot(const float *a, const float *b, int n)
{
    float s = 0;
    for (int i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

int lens_summary_new(lens_summary **out, const lens_summary_opts *opts, lens_error *err)
{
    *out = NULL;
    lens_summary *s = calloc(1, sizeof *s);
    if (!s) return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    s->o = *opts;
    if (s->o.k <= 0) s->o.k = 5;
    if (s->o.chunk <= 0) s->o.chunk = 128;
    if (s->o.per_chunk <= 0) s->o.per_chunk = 8;
    if (s->o.lambda <= 0) s->o.lambda = 0.5f;
    if (s->o.max_picks < 8 * s->o.k) s->o.max_picks = s->o.max_picks > 0 ? 8 * s->o.k : 1024;
    if (s->o.dim <= 0) {
        free(s);
        return lens_error_set(err, LENS_EINVAL, "summary: dim must be positive");
    }
    if (!(s->sum = calloc((size_t)s->o.dim, sizeof *s->sum))) {
        free(s);
        return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    }
    *out = s;
    return LENS_OK;
}

static void free_chunk(lens_summary *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->text[i]);
        free(s->rid[i]);
    }
    s->n = 0;
}

static void free_pick(pick *p)
{
    free(p->emb);
    free(p->text);
    free(p->review_id);
    free(p->reviews);
}

void lens_summary_free(lens_summary *s)
{
    if (!s) return;
    free_chunk(s);
    free(s->emb);
    free(s->text);
    free(s->rid);
    free(s->rnum);
    for (int i = 0; i < s->n_picks; i++) free_pick(&s->picks[i]);
    free(s->picks);
    free(s->sum);
    free(s->last_rid);
    free(s->quotes);
    free(s);
}

uint64_t lens_summary_sentences(const lens_summary *s) { return s->sentences; }

/* MMR over n candidates (rows of emb, dim d) around centroid c: returns the
 * number chosen (<= k) in chosen[], best first. Ties go to the earlier row.
 * red[i], the largest similarity to a chosen row, grows with each choice,
 * so a choice costs one pass over the candidates. red == NULL: out of memory. */
static int mmr(const float *emb, int n, int d, const float *c, int k, float lambda, int *chosen, float *rel)
{
    float *red = malloc((size_t)(n ? n : 1) * sizeof *red);
    if (!red) return -1;
    for (int i = 0; i < n; i++) {
        rel[i] = dot(emb + (size_t)i * d, c, d);
        red[i] = -INFINITY;
    }
    int m = 0;
    for (; m < k && m < n; m++) {
        int best = -1;
        float best_score = -INFINITY;
        for (int i = 0; i < n; i++) {
            if (red[i] == INFINITY || red[i] > 0.995f) continue; /* taken, or a near-duplicate of a pick */
            float score = m ? lambda * rel[i] - (1 - lambda) * red[i] : rel[i];
            if (score > best_score) {
                best_score = score;
                best = i;
            }
        }
        if (best < 0) break;
        chosen[m] = best;
        const float *e = emb + (size_t)best * d;
        for (int i = 0; i < n; i++)
            if (red[i] != INFINITY) red[i] = fmaxf(red[i], dot(emb + (size_t)i * d, e, d));
        red[best] = INFINITY;
    }
    free(red);
    return m;
}

static int nearest(const float *e, const float *cands, const int *idx, int n, int d)
{
    int best = 0;
    float bs = -INFINITY;
    for (int j = 0; j < n; j++) {
        float v = dot(e, cands + (size_t)(idx ? idx[j] : j) * d, d);
        if (v > bs) {
            bs = v;
            best = j;
        }
    }
    return best;
}

static int credit(pick *p, uint32_t review)
{
    p->sentences++;
    if (p->n_reviews && p->reviews[p->n_reviews - 1] == review) return 0;
    if (lens__grow((void **)&p->reviews, &p->cap_reviews, p->n_reviews + 1, sizeof *p->reviews)) return -1;
    p->reviews[p->n_reviews++] = review;
    return 0;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* MMR over the picks, around the centroid of everything so far, keeps an
 * eighth of them; each dropped pick's reviews and sentences go to its
 * nearest kept pick. */
static int thin_picks(lens_summary *s)
{
    int d = s->o.dim, np = s->n_picks, keep = s->o.max_picks / 8;
    float *emb = malloc((size_t)np * d * sizeof *emb), *c = malloc((size_t)d * sizeof *c);
    float *rel = malloc((size_t)np * sizeof *rel);
    int *chosen = malloc((size_t)keep * sizeof *chosen), *owner = malloc((size_t)np * sizeof *owner);
    pick *kept = calloc((size_t)keep, sizeof *kept);
    int m = -1;
    if (!emb || !c || !rel || !chosen || !owner || !kept) goto out;
    for (int i = 0; i < np; i++) memcpy(emb + (size_t)i * d, s->picks[i].emb, (size_t)d * sizeof *emb);
    double norm = 0;
    for (int j = 0; j < d; j++) norm += s->sum[j] * s->sum[j];
    norm = sqrt(norm);
    for (int j = 0; j < d; j++) c[j] = norm > 0 ? (float)(s->sum[j] / norm) : 0;
    if ((m = mmr(emb, np, d, c, keep, s->o.lambda, chosen, rel)) <= 0) goto out;
    for (int i = 0; i < np; i++) owner[i] = nearest(emb + (size_t)i * d, emb, chosen, m, d);
    for (int q = 0; q < m; q++) {
        size_t n = 0;
        uint64_t sentences = 0;
        for (int i = 0; i < np; i++)
            if (owner[i] == q) {
                n += s->picks[i].n_reviews;
                sentences += s->picks[i].sentences;
            }
        uint32_t *r = malloc((n ? n : 1) * sizeof *r);
        if (!r) {
            for (int k = 0; k < q; k++) free(kept[k].reviews);
            m = -1;
            goto out;
        }
        n = 0;
        for (int i = 0; i < np; i++)
            if (owner[i] == q) {
                memcpy(r + n, s->picks[i].reviews, s->picks[i].n_reviews * sizeof *r);
                n += s->picks[i].n_reviews;
            }
        qsort(r, n, sizeof *r, cmp_u32);
        size_t u = 0;
        for (size_t i = 0; i < n; i++)
            if (!u || r[u - 1] != r[i]) r[u++] = r[i];
        kept[q] = s->picks[chosen[q]];
        kept[q].reviews = r;
        kept[q].n_reviews = kept[q].cap_reviews = u;
        kept[q].sentences = sentences;
    }
    for (int q = 0; q < m; q++) { /* moved into kept[]: only the old credit list goes */
        free(s->picks[chosen[q]].reviews);
        s->picks[chosen[q]] = (pick){0};
    }
    for (int i = 0; i < np; i++) free_pick(&s->picks[i]);
    memcpy(s->picks, kept, (size_t)m * sizeof *kept);
    s->n_picks = m;
    s->repicked = 1;
out:
    free(emb); free(c); free(rel); free(chosen); free(owner); free(kept);
    return m < 0 ? -1 : 0;
}

/* First level: MMR picks of the chunk; each sentence credits its nearest. */
static int flush(lens_summary *s, lens_error *err)
{
    if (!s->n) return LENS_OK;
    int d = s->o.dim, k = s->o.per_chunk;
    float *c = calloc((size_t)d, sizeof *c), *rel = malloc((size_t)s->n * sizeof *rel);
    int *chosen = malloc((size_t)k * sizeof *chosen);
    if (!c || !rel || !chosen) goto oom;
    /* the running sum grows here, in sentence order, so it only changes
     * when picks are made and a checkpoint can save both together */
    for (int i = 0; i < s->n; i++)
        for (int j = 0; j < d; j++) {
            c[j] += s->emb[(size_t)i * d + j];
            s->sum[j] += s->emb[(size_t)i * d + j];
        }
    float norm = sqrtf(dot(c, c, d));
    for (int j = 0; j < d; j++) c[j] = norm > 0 ? c[j] / norm : 0;
    int m = mmr(s->emb, s->n, d, c, k, s->o.lambda, chosen, rel);
    if (m < 0) goto oom;
    if (lens__grow((void **)&s->picks, &s->cap_picks, (size_t)s->n_picks + m, sizeof *s->picks)) goto oom;
    pick *base = s->picks + s->n_picks;
    for (int j = 0; j < m; j++) {
        pick *p = &base[j];
        memset(p, 0, sizeof *p);
        p->emb = malloc((size_t)d * sizeof *p->emb);
        if (!p->emb) goto oom;
        memcpy(p->emb, s->emb + (size_t)chosen[j] * d, (size_t)d * sizeof *p->emb);
        p->text = s->text[chosen[j]];
        p->review_id = s->rid[chosen[j]];
        s->text[chosen[j]] = s->rid[chosen[j]] = NULL; /* moved */
        s->n_picks++;
    }
    for (int i = 0; i < s->n; i++) {
        int near = nearest(s->emb + (size_t)i * d, s->emb, chosen, m, d);
        if (credit(&base[near], s->rnum[i])) goto oom;
    }
    free(c);
    free(rel);
    free(chosen);
    free_chunk(s);
    s->flushed = 1;
    if (s->n_picks > s->o.max_picks && thin_picks(s))
        return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    return LENS_OK;
oom:
    free(c);
    free(rel);
    free(chosen);
    return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
}

/* room for need sentences in the chunk being filled */
static int reserve(lens_summary *s, int need)
{
    size_t c1 = s->cap, c2 = s->cap, c3 = s->cap, c4 = s->cap;
    if (lens__grow((void **)&s->emb, &c1, (size_t)need, (size_t)s->o.dim * sizeof *s->emb) ||
        lens__grow((void **)&s->text, &c2, (size_t)need, sizeof *s->text) ||
        lens__grow((void **)&s->rid, &c3, (size_t)need, sizeof *s->rid) ||
        lens__grow((void **)&s->rnum, &c4, (size_t)need, sizeof *s->rnum))
        return -1;
    s->cap = c1;
    return 0;
}

int lens_summary_add(lens_summary *s, const float *emb, const char *text, size_t len, const char *review_id,
                     lens_error *err)
{
    int new_review = !s->last_rid || strcmp(s->last_rid, review_id) != 0;
    /* chunks end on review boundaries, so a review's credits stay exact */
    if (new_review && s->n >= s->o.chunk && flush(s, err)) return err->code;
    if (new_review) {
        free(s->last_rid);
        if (!(s->last_rid = strdup(review_id))) return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
        s->reviews++;
    }
    if (reserve(s, s->n + 1)) return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    memcpy(s->emb + (size_t)s->n * s->o.dim, emb, (size_t)s->o.dim * sizeof *emb);
    s->text[s->n] = strndup(text, len);
    s->rid[s->n] = strdup(review_id);
    s->rnum[s->n] = s->reviews;
    if (!s->text[s->n] || !s->rid[s->n]) return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    s->n++;
    s->sentences++;
    s->dirty = 1;
    return LENS_OK;
}

int lens_summary_finish(lens_summary *s, const lens_quote **quotes, int *n, lens_error *err)
{
    *quotes = NULL;
    *n = 0;
    if (s->quotes) {
        *quotes = s->quotes;
        *n = s->n_quotes;
        return LENS_OK;
    }
    if (flush(s, err)) return err->code;
    if (!s->n_picks) return LENS_OK;
    int d = s->o.dim, k = s->o.k, np = s->n_picks;
    float *emb = malloc((size_t)np * d * sizeof *emb), *c = malloc((size_t)d * sizeof *c);
    float *rel = malloc((size_t)np * sizeof *rel);
    int *chosen = malloc((size_t)k * sizeof *chosen);
    uint8_t *seen = calloc((size_t)s->reviews + 1, 1);
    s->quotes = calloc((size_t)k, sizeof *s->quotes);
    if (!emb || !c || !rel || !chosen || !seen || !s->quotes) {
        free(emb); free(c); free(rel); free(chosen); free(seen);
        return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    }
    for (int i = 0; i < np; i++) memcpy(emb + (size_t)i * d, s->picks[i].emb, (size_t)d * sizeof *emb);
    double norm = 0;
    for (int j = 0; j < d; j++) norm += s->sum[j] * s->sum[j];
    norm = sqrt(norm);
    for (int j = 0; j < d; j++) c[j] = norm > 0 ? (float)(s->sum[j] / norm) : 0;
    int m = mmr(emb, np, d, c, k, s->o.lambda, chosen, rel);
    int *owner = malloc((size_t)np * sizeof *owner);
    if (!owner || m < 0) {
        free(owner);
        free(emb); free(c); free(rel); free(chosen); free(seen);
        return lens_error_set(err, LENS_ENOMEM, "summary: out of memory");
    }
    for (int i = 0; i < np; i++) owner[i] = nearest(emb + (size_t)i * d, emb, chosen, m, d);
    for (int q = 0; q < m; q++) {
        /* distinct reviews over all picks credited to quote q */
        uint64_t count = 0;
        for (int i = 0; i < np; i++) {
            if (owner[i] != q) continue;
            for (size_t r = 0; r < s->picks[i].n_reviews; r++) {
                uint32_t id = s->picks[i].reviews[r];
                if (seen[id] != (uint8_t)(q + 1)) {
                    seen[id] = (uint8_t)(q + 1);
                    count++;
                }
            }
        }
        pick *p = &s->picks[chosen[q]];
        s->quotes[q] = (lens_quote){.text = p->text, .review_id = p->review_id, .similarity = rel[chosen[q]],
                                    .reviews = count};
    }
    /* a quote nobody is nearest to stands for no review: drop it */
    int kept = 0;
    for (int q = 0; q < m; q++)
        if (s->quotes[q].reviews) s->quotes[kept++] = s->quotes[q];
    m = kept;
    s->n_quotes = m;
    free(emb); free(c); free(rel); free(chosen); free(seen); free(owner);
    *quotes = s->quotes;
    *n = m;
    return LENS_OK;
}

/* ---------------------------------------------------------------- checkpoints */

int lens__summary_dirty(const lens_summary *s) { return s->dirty || s->flushed || s->repicked; }

void lens__summary_save(lens_summary *s, lens__wbuf *b)
{
    int d = s->o.dim;
    /* after thinning, every pick is written again */
    if (s->repicked) s->saved_picks = 0;
    lens__wbuf_u32(b, (uint32_t)(s->flushed | s->repicked << 1));
    lens__wbuf_u32(b, (uint32_t)(s->n_picks - s->saved_picks));
    for (int i = s->saved_picks; i < s->n_picks; i++) {
        const pick *p = &s->picks[i];
        lens__wbuf_put(b, p->emb, (size_t)d * sizeof *p->emb);
        lens__wbuf_str(b, p->text);
        lens__wbuf_str(b, p->review_id);
        lens__wbuf_u64(b, p->sentences);
        lens__wbuf_u64(b, p->n_reviews);
        lens__wbuf_put(b, p->reviews, p->n_reviews * sizeof *p->reviews);
    }
    if (s->flushed) lens__wbuf_put(b, s->sum, (size_t)d * sizeof *s->sum);
    int from = s->flushed ? 0 : s->saved_pending;
    lens__wbuf_u32(b, (uint32_t)from);
    lens__wbuf_u32(b, (uint32_t)(s->n - from));
    for (int i = from; i < s->n; i++) {
        lens__wbuf_str(b, s->text[i]);
        lens__wbuf_str(b, s->rid[i]);
        lens__wbuf_u32(b, s->rnum[i]);
    }
    lens__wbuf_u32(b, s->reviews);
    lens__wbuf_u64(b, s->sentences);
    lens__wbuf_str(b, s->last_rid);
    s->saved_picks = s->n_picks;
    s->saved_pending = s->n;
    s->flushed = s->repicked = s->dirty = 0;
}

int lens__summary_load(lens_summary *s, lens__rbuf *r, lens_error *err)
{
    int d = s->o.dim;
    uint32_t flags = lens__rbuf_u32(r), n_new = lens__rbuf_u32(r), flushed = flags & 1;
    if (r->bad || n_new > (r->len - r->at) / ((size_t)d * sizeof(float)))
        return lens_error_set(err, LENS_EFORMAT, "summary checkpoint: bad pick count");
    if (flushed) free_chunk(s);
    if (flags & 2) { /* thinned: the picks that follow replace all */
        for (int i = 0; i < s->n_picks; i++) free_pick(&s->picks[i]);
        s->n_picks = 0;
    }
    if (lens__grow((void **)&s->picks, &s->cap_picks, (size_t)s->n_picks + n_new, sizeof *s->picks))
        return lens_error_set(err, LENS_ENOMEM, "summary checkpoint: out of memory");
    for (uint32_t i = 0; i < n_new; i++) {
        pick *p = &s->picks[s->n_picks];
        memset(p, 0, sizeof *p);
        s->n_picks++; /* counted now, so lens_summary_free frees a half-read pick */
        if (!(p->emb = malloc((size_t)d * sizeof *p->emb))) return lens_error_set(err, LENS_ENOMEM, "summary checkpoint: out of memory");
        lens__rbuf_get(r, p->emb, (size_t)d * sizeof *p->emb);
        p->text = lens__rbuf_str(r);
        p->review_id = lens__rbuf_str(r);
        p->sentences = lens__rbuf_u64(r);
        uint64_t nr = lens__rbuf_u64(r);
        if (r->bad || !p->text || !p->review_id || nr > (r->len - r->at) / sizeof *p->reviews)
            return lens_error_set(err, LENS_EFORMAT, "summary checkpoint: bad pick");
        p->n_reviews = p->cap_reviews = (size_t)nr;
        if (nr && !(p->reviews = malloc((size_t)nr * sizeof *p->reviews)))
            return lens_error_set(err, LENS_ENOMEM, "summary checkpoint: out of memory");
        lens__rbuf_get(r, p->reviews, (size_t)nr * sizeof *p->reviews);
    }
    if (flushed) lens__rbuf_get(r, s->sum, (size_t)d * sizeof *s->sum);
    uint32_t from = lens__rbuf_u32(r), n = lens__rbuf_u32(r);
    if (r->bad || from != (uint32_t)s->n || n > r->len - r->at)
        return lens_error_set(err, LENS_EFORMAT, "summary checkpoint: waiting sentences out of order");
    if (reserve(s, s->n + (int)n)) return lens_error_set(err, LENS_ENOMEM, "summary checkpoint: out of memory");
    for (uint32_t i = 0; i < n; i++) {
        s->text[s->n] = lens__rbuf_str(r);
        s->rid[s->n] = lens__rbuf_str(r);
        s->rnum[s->n] = lens__rbuf_u32(r);
        s->n++;
        if (r->bad || !s->text[s->n - 1] || !s->rid[s->n - 1])
            return lens_error_set(err, LENS_EFORMAT, "summary checkpoint: bad sentence");
    }
    s->reviews = lens__rbuf_u32(r);
    s->sentences = lens__rbuf_u64(r);
    free(s->last_rid);
    s->last_rid = lens__rbuf_str(r);
    if (r->bad) return lens_error_set(err, LENS_EFORMAT, "summary checkpoint: truncated");
    s->saved_picks = s->n_picks;
    s->saved_pending = s->n;
    s->flushed = s->repicked = s->dirty = 0;
    return LENS_OK;
}

size_t lens__summary_waiting(const lens_summary *s, const char *const **texts)
{
    *texts = (const char *const *)s->text;
    return (size_t)s->n;
}

void lens__summary_set_waiting(lens_summary *s, const float *emb)
{
    if (s->n) memcpy(s->emb, emb, (size_t)s->n * s->o.dim * sizeof *emb);
}
