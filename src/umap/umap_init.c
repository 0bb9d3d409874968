/* UMAP: the initial layout. Each connected component of the graph gets the
 * eigenvectors of the largest eigenvalues below 1 of its normalised
 * adjacency D^-1/2 W D^-1/2 (the smallest nontrivial ones of the normalised
 * Laplacian, as umap-learn's spectral_layout), by Lanczos with full
 * reorthogonalisation against the trivial vector D^1/2 1 and every Lanczos
 * vector, then Ritz vectors from the tridiagonal matrix (implicit QL).
 * Components are placed at the corners of the unit cross when few, else by
 * the principal components of their centroids, each scaled to half the
 * distance to its nearest neighbour component; small components are random
 * there. Finally everything is scaled to [0, 10] per axis with a little
 * noise, as umap-learn does. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "umap_internal.h"

#define LANCZOS_STEPS 96
#define SPMV_BLOCK 4096

void lens__umap_random_init(size_t n, int dim, uint64_t seed, float *out)
{
    umap_rng r = {umap_stream(seed, 20, 0, 0)};
    for (size_t i = 0; i < n * (size_t)dim; i++) out[i] = umap_unif(&r) * 20.0f - 10.0f;
}

static double gauss(umap_rng *r)
{
    double u = (umap_next(r) >> 11) * (1.0 / 9007199254740992.0), v = (umap_next(r) >> 11) * (1.0 / 9007199254740992.0);
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* symmetric tridiagonal eigen-decomposition (implicit QL); z: m x m,
 * identity on entry, eigenvectors in columns on exit */
static int tql(double *d, double *e, int m, double *z)
{
    for (int l = 0; l < m; l++) {
        int iter = 0, mm;
        do {
            for (mm = l; mm < m - 1; mm++) {
                double dd = fabs(d[mm]) + fabs(d[mm + 1]);
                if (fabs(e[mm]) <= 1e-15 * dd) break;
            }
            if (mm != l) {
                if (iter++ == 100) return -1;
                double g = (d[l + 1] - d[l]) / (2.0 * e[l]);
                double r = hypot(g, 1.0);
                g = d[mm] - d[l] + e[l] / (g + copysign(r, g));
                double s = 1, c = 1, p = 0;
                int i;
                for (i = mm - 1; i >= l; i--) {
                    double f = s * e[i], b = c * e[i];
                    e[i + 1] = (r = hypot(f, g));
                    if (r == 0) {
                        d[i + 1] -= p;
                        e[mm] = 0;
                        break;
                    }
                    s = f / r;
                    c = g / r;
                    g = d[i + 1] - p;
                    r = (d[i] - g) * s + 2.0 * c * b;
                    d[i + 1] = g + (p = s * r);
                    g = c * r - b;
                    for (int k = 0; k < m; k++) {
                        f = z[k * m + i + 1];
                        z[k * m + i + 1] = s * z[k * m + i] + c * f;
                        z[k * m + i] = c * z[k * m + i] - s * f;
                    }
                }
                if (r == 0 && i >= l) continue;
                d[l] -= p;
                e[l] = g;
                e[mm] = 0;
            }
        } while (mm != l);
    }
    return 0;
}

typedef struct {
    const umap_graph *g;
    const int32_t *nodes, *loc;
    const double *isd; /* 1 / sqrt(degree), by global index */
    const double *x;
    double *y;
    size_t m;
} spmv_ctx;

static void spmv_task(void *arg, int task, int thread)
{
    spmv_ctx *c = arg;
    size_t a0 = (size_t)task * SPMV_BLOCK, a1 = a0 + SPMV_BLOCK < c->m ? a0 + SPMV_BLOCK : c->m;
    for (size_t a = a0; a < a1; a++) {
        int32_t i = c->nodes[a];
        double s = 0;
        for (int64_t e = c->g->row[i]; e < c->g->row[i + 1]; e++) {
            int32_t j = c->g->col[e];
            s += c->g->w[e] * c->isd[j] * c->x[c->loc[j]];
        }
        c->y[a] = s * c->isd[i];
    }
}

static double dotd(const double *a, const double *b, size_t m)
{
    double s = 0;
    for (size_t i = 0; i < m; i++) s += a[i] * b[i];
    return s;
}

/* dim coordinates of the m nodes of one component into out[a * dim + d];
 * returns the number of eigenvectors found (< dim: the rest is left). */
static int component_spectral(const umap_graph *g, const int32_t *nodes, const int32_t *loc, size_t m,
                              const double *isd, int dim, uint64_t seed, lens_pool *pool, double *out, int *fail)
{
    int S = LANCZOS_STEPS;
    if ((size_t)S > m - 1) S = (int)(m - 1);
    double *Q = malloc((size_t)(S + 1) * m * sizeof *Q), *u0 = malloc(m * sizeof *u0), *w = malloc(m * sizeof *w);
    double *al = calloc((size_t)S + 1, sizeof *al), *be = calloc((size_t)S + 1, sizeof *be);
    double *z = NULL;
    int found = 0;
    if (!Q || !u0 || !w || !al || !be) {
        *fail = 1;
        goto out;
    }
    /* trivial eigenvector D^1/2 1 */
    double nrm = 0;
    for (size_t a = 0; a < m; a++) {
        u0[a] = 1.0 / isd[nodes[a]];
        nrm += u0[a] * u0[a];
    }
    nrm = sqrt(nrm);
    for (size_t a = 0; a < m; a++) u0[a] /= nrm;
    umap_rng r = {umap_stream(seed, 21, (uint64_t)nodes[0], 0)};
    double *q = Q;
    for (size_t a = 0; a < m; a++) q[a] = umap_unif(&r) - 0.5;
    double pr = dotd(q, u0, m);
    for (size_t a = 0; a < m; a++) q[a] -= pr * u0[a];
    nrm = sqrt(dotd(q, q, m));
    if (!(nrm > 0)) goto out;
    for (size_t a = 0; a < m; a++) q[a] /= nrm;
    int steps = 0;
    for (int j = 0; j < S; j++) {
        spmv_ctx c = {g, nodes, loc, isd, Q + (size_t)j * m, w, m};
        lens_pool_run(m >= 2 * SPMV_BLOCK ? pool : NULL, (int)((m + SPMV_BLOCK - 1) / SPMV_BLOCK), spmv_task, &c);
        al[j] = dotd(w, Q + (size_t)j * m, m);
        /* full reorthogonalisation (twice is enough) against u0 and Q */
        for (int pass = 0; pass < 2; pass++) {
            double p0 = dotd(w, u0, m);
            for (size_t a = 0; a < m; a++) w[a] -= p0 * u0[a];
            for (int i = 0; i <= j; i++) {
                const double *qi = Q + (size_t)i * m;
                double p = dotd(w, qi, m);
                for (size_t a = 0; a < m; a++) w[a] -= p * qi[a];
            }
        }
        steps = j + 1;
        double b = sqrt(dotd(w, w, m));
        if (!isfinite(b) || !isfinite(al[j])) {
            *fail = 1;
            goto out;
        }
        if (b < 1e-10 || j == S - 1) break;
        be[j] = b;
        double *qn = Q + (size_t)(j + 1) * m;
        for (size_t a = 0; a < m; a++) qn[a] = w[a] / b;
    }
    z = calloc((size_t)steps * steps, sizeof *z);
    if (!z) {
        *fail = 1;
        goto out;
    }
    for (int i = 0; i < steps; i++) z[i * steps + i] = 1;
    be[steps - 1] = 0;
    if (tql(al, be, steps, z)) {
        *fail = 1;
        goto out;
    }
    /* the dim largest Ritz values */
    int used[LANCZOS_STEPS + 1] = {0};
    for (int d = 0; d < dim && d < steps; d++) {
        int best = -1;
        for (int i = 0; i < steps; i++)
            if (!used[i] && (best < 0 || al[i] > al[best])) best = i;
        used[best] = 1;
        for (size_t a = 0; a < m; a++) {
            double s = 0;
            for (int i = 0; i < steps; i++) s += Q[(size_t)i * m + a] * z[i * steps + best];
            out[a * dim + d] = s;
        }
        found++;
    }
out:
    free(Q); free(u0); free(w); free(al); free(be); free(z);
    return found;
}

static int32_t find(int32_t *p, int32_t i)
{
    while (p[i] != i) {
        p[i] = p[p[i]];
        i = p[i];
    }
    return i;
}

/* positions of nc component centroids: the unit cross for few, else the
 * principal components of the centroids (scaled to max |x| = 1) */
static int meta_layout(const umap_space *s, const int32_t *label, size_t n, int nc, int dim, uint64_t seed, double *meta)
{
    if (nc <= 2 * dim) {
        for (int c = 0; c < nc; c++)
            for (int d = 0; d < dim; d++) meta[c * dim + d] = (c % dim == d) ? (c < dim ? 1 : -1) : 0;
        return 0;
    }
    int D = s->dim;
    double *cen = calloc((size_t)nc * D, sizeof *cen), *cnt = calloc((size_t)nc, sizeof *cnt);
    double *v = malloc((size_t)dim * D * sizeof *v), *t = malloc((size_t)nc * sizeof *t);
    if (!cen || !cnt || !v || !t) {
        free(cen); free(cnt); free(v); free(t);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const float *x = umap_row(s, i);
        double *c = cen + (size_t)label[i] * D;
        for (int d = 0; d < D; d++) c[d] += x[d];
        cnt[label[i]]++;
    }
    double *mean = calloc((size_t)D, sizeof *mean);
    if (!mean) {
        free(cen); free(cnt); free(v); free(t);
        return -1;
    }
    for (int c = 0; c < nc; c++)
        for (int d = 0; d < D; d++) {
            cen[(size_t)c * D + d] /= cnt[c];
            mean[d] += cen[(size_t)c * D + d] / nc;
        }
    for (int c = 0; c < nc; c++)
        for (int d = 0; d < D; d++) cen[(size_t)c * D + d] -= mean[d];
    free(mean);
    umap_rng r = {umap_stream(seed, 22, 0, 0)};
    for (int k = 0; k < dim; k++) {
        double *vk = v + (size_t)k * D;
        for (int d = 0; d < D; d++) vk[d] = umap_unif(&r) - 0.5;
        for (int it = 0; it < 100; it++) {
            for (int c = 0; c < nc; c++) t[c] = dotd(cen + (size_t)c * D, vk, (size_t)D);
            memset(vk, 0, (size_t)D * sizeof *vk);
            for (int c = 0; c < nc; c++)
                for (int d = 0; d < D; d++) vk[d] += t[c] * cen[(size_t)c * D + d];
            for (int j = 0; j < k; j++) {
                double p = dotd(vk, v + (size_t)j * D, (size_t)D);
                for (int d = 0; d < D; d++) vk[d] -= p * v[(size_t)j * D + d];
            }
            double nr = sqrt(dotd(vk, vk, (size_t)D));
            if (!(nr > 0)) break;
            for (int d = 0; d < D; d++) vk[d] /= nr;
        }
    }
    double mx = 0;
    for (int c = 0; c < nc; c++)
        for (int k = 0; k < dim; k++) {
            double x = dotd(cen + (size_t)c * D, v + (size_t)k * D, (size_t)D);
            meta[c * dim + k] = x;
            if (fabs(x) > mx) mx = fabs(x);
        }
    for (int c = 0; c < nc * dim; c++) meta[c] = mx > 0 ? meta[c] / mx : (umap_unif(&r) - 0.5);
    free(cen); free(cnt); free(v); free(t);
    return 0;
}

int lens__umap_spectral_init(const umap_graph *g, const umap_space *s, int dim, uint64_t seed, lens_pool *pool, float *out,
                       lens_error *err)
{
    size_t n = g->n;
    int32_t *par = malloc(n * sizeof *par), *label = malloc(n * sizeof *label), *loc = malloc(n * sizeof *loc);
    int32_t *nodes = malloc(n * sizeof *nodes);
    double *isd = malloc(n * sizeof *isd), *res = calloc(n * (size_t)dim, sizeof *res), *meta = NULL, *comp = NULL;
    int64_t *start = NULL;
    int ret = LENS_OK;
    if (!par || !label || !loc || !nodes || !isd || !res) goto oom;
    for (size_t i = 0; i < n; i++) par[i] = (int32_t)i;
    for (size_t i = 0; i < n; i++) {
        double deg = 0;
        for (int64_t e = g->row[i]; e < g->row[i + 1]; e++) {
            deg += g->w[e];
            int32_t a = find(par, (int32_t)i), b = find(par, g->col[e]);
            if (a != b) par[a < b ? b : a] = a < b ? a : b;
        }
        isd[i] = deg > 0 ? 1.0 / sqrt(deg) : 0;
    }
    /* labels in order of first appearance */
    int nc = 0;
    for (size_t i = 0; i < n; i++) label[i] = -1;
    for (size_t i = 0; i < n; i++) {
        int32_t root = find(par, (int32_t)i);
        if (label[root] < 0) label[root] = nc++;
        label[i] = label[root];
    }
    start = calloc((size_t)nc + 1, sizeof *start);
    meta = calloc((size_t)nc * dim, sizeof *meta);
    comp = malloc(n * (size_t)dim * sizeof *comp);
    if (!start || !meta || !comp) goto oom;
    for (size_t i = 0; i < n; i++) start[label[i] + 1]++;
    for (int c = 0; c < nc; c++) start[c + 1] += start[c];
    {
        int64_t *fill = malloc(((size_t)nc + 1) * sizeof *fill);
        if (!fill) goto oom;
        memcpy(fill, start, ((size_t)nc + 1) * sizeof *fill);
        for (size_t i = 0; i < n; i++) {
            loc[i] = (int32_t)(fill[label[i]] - start[label[i]]);
            nodes[fill[label[i]]++] = (int32_t)i;
        }
        free(fill);
    }
    if (nc > 1 && meta_layout(s, label, n, nc, dim, seed, meta)) goto oom;
    umap_rng r = {umap_stream(seed, 23, 0, 0)};
    int fail = 0;
    for (int c = 0; c < nc && !fail; c++) {
        size_t m = (size_t)(start[c + 1] - start[c]);
        const int32_t *nd = nodes + start[c];
        double range = 1.0;
        if (nc > 1) {
            double best = INFINITY;
            for (int o = 0; o < nc; o++) {
                if (o == c) continue;
                double dd = 0;
                for (int d = 0; d < dim; d++) {
                    double x = meta[c * dim + d] - meta[o * dim + d];
                    dd += x * x;
                }
                if (dd > 0 && dd < best) best = dd;
            }
            range = isfinite(best) ? sqrt(best) / 2 : 1.0;
        }
        int found = 0;
        if (m >= 2 * (size_t)dim && m > (size_t)dim + 1)
            found = component_spectral(g, nd, loc, m, isd, dim, seed, pool, comp, &fail);
        if (fail) break;
        double mx = 0;
        for (size_t a = 0; a < m; a++)
            for (int d = 0; d < found; d++)
                if (fabs(comp[a * dim + d]) > mx) mx = fabs(comp[a * dim + d]);
        for (size_t a = 0; a < m; a++)
            for (int d = 0; d < dim; d++) {
                double x = d < found && mx > 0 ? comp[a * dim + d] / mx * range
                                               : (umap_unif(&r) * 2 - 1) * range;
                res[(size_t)nd[a] * dim + d] = x + meta[c * dim + d];
            }
    }
    if (fail) {
        ret = lens_error_set(err, LENS_EINVAL, "umap: the spectral initialisation did not converge");
        goto done;
    }
    /* expand to max |x| = 10, add noise, scale each axis to [0, 10] */
    double mx = 0;
    for (size_t i = 0; i < n * (size_t)dim; i++)
        if (fabs(res[i]) > mx) mx = fabs(res[i]);
    double ex = mx > 0 ? 10.0 / mx : 1.0;
    for (size_t i = 0; i < n * (size_t)dim; i++) res[i] = res[i] * ex + 0.0001 * gauss(&r);
    for (int d = 0; d < dim; d++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            lo = fmin(lo, res[i * dim + d]);
            hi = fmax(hi, res[i * dim + d]);
        }
        double sc = hi > lo ? 10.0 / (hi - lo) : 1.0;
        for (size_t i = 0; i < n; i++) out[i * dim + d] = (float)((res[i * dim + d] - lo) * sc);
    }
    goto done;
oom:
    ret = lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the spectral initialisation");
done:
    free(par); free(label); free(loc); free(nodes); free(isd); free(res); free(meta); free(comp); free(start);
    return ret;
}
