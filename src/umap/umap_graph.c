/* UMAP: the fuzzy simplicial set. Each point's neighbour distances become
 * memberships exp(-(d - rho) / sigma), rho the distance to its nearest
 * neighbour and sigma found by bisection so the memberships sum to log2(k);
 * the directed graph P is then symmetrised by fuzzy union P + P' - P o P'. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "umap_internal.h"

#define SMOOTH_K_TOLERANCE 1e-5
#define MIN_K_DIST_SCALE 1e-3

void lens__umap_graph_free(umap_graph *g)
{
    free(g->row);
    free(g->col);
    free(g->w);
    memset(g, 0, sizeof *g);
}

void lens__umap_smooth_knn(const float *dist, size_t n, int k, float local_connectivity, float *sigma, float *rho)
{
    double target = log2((double)k), mean_all = 0;
    size_t cnt_all = 0;
    for (size_t i = 0; i < n * (size_t)k; i++)
        if (isfinite(dist[i])) {
            mean_all += dist[i];
            cnt_all++;
        }
    mean_all = cnt_all ? mean_all / cnt_all : 0;
    for (size_t i = 0; i < n; i++) {
        const float *d = dist + i * k;
        double nz[256];
        int n_nz = 0, n_fin = 0;
        double mean_i = 0;
        for (int j = 0; j < k; j++) {
            if (!isfinite(d[j])) continue;
            n_fin++;
            mean_i += d[j];
            if (d[j] > 0 && n_nz < 256) nz[n_nz++] = d[j];
        }
        mean_i = n_fin ? mean_i / n_fin : 0;
        double r = 0;
        if (n_nz >= local_connectivity) {
            int index = (int)floor(local_connectivity);
            double interp = local_connectivity - index;
            if (index > 0) {
                r = nz[index - 1];
                if (interp > SMOOTH_K_TOLERANCE && index < n_nz) r += interp * (nz[index] - nz[index - 1]);
            } else {
                r = n_nz ? interp * nz[0] : 0;
            }
        } else if (n_nz > 0) {
            r = nz[n_nz - 1];
        }
        double lo = 0, hi = INFINITY, mid = 1;
        for (int it = 0; it < 64; it++) {
            double psum = 0;
            for (int j = 1; j < k; j++) {
                if (!isfinite(d[j])) continue;
                double x = d[j] - r;
                psum += x > 0 ? exp(-(x / mid)) : 1.0;
            }
            if (fabs(psum - target) < SMOOTH_K_TOLERANCE) break;
            if (psum > target) {
                hi = mid;
                mid = (lo + hi) / 2;
            } else {
                lo = mid;
                mid = isinf(hi) ? mid * 2 : (lo + hi) / 2;
            }
        }
        if (r > 0) {
            if (mid < MIN_K_DIST_SCALE * mean_i) mid = MIN_K_DIST_SCALE * mean_i;
        } else if (mid < MIN_K_DIST_SCALE * (local_connectivity > 0 ? mean_all : mean_i)) {
            /* transform (local connectivity 0): the row's own mean, so a
             * point's sigma does not depend on the rest of its chunk */
            mid = MIN_K_DIST_SCALE * (local_connectivity > 0 ? mean_all : mean_i);
        }
        sigma[i] = (float)mid;
        rho[i] = (float)r;
    }
}

static void sort_row(int32_t *c, float *w, int64_t n)
{
    for (int64_t i = 1; i < n; i++) {
        int32_t x = c[i];
        float y = w[i];
        int64_t j = i - 1;
        while (j >= 0 && c[j] > x) {
            c[j + 1] = c[j];
            w[j + 1] = w[j];
            j--;
        }
        c[j + 1] = x;
        w[j + 1] = y;
    }
}

int lens__umap_fuzzy_graph(const umap_knn *g, umap_graph *out, lens_error *err)
{
    memset(out, 0, sizeof *out);
    size_t n = g->n;
    int k = g->k;
    float *sigma = malloc(n * sizeof *sigma), *rho = malloc(n * sizeof *rho);
    int64_t *prow = calloc(n + 1, sizeof *prow), *trow = calloc(n + 1, sizeof *trow), *fill = NULL;
    int32_t *pcol = malloc(n * (size_t)k * sizeof *pcol), *tcol = malloc(n * (size_t)k * sizeof *tcol);
    float *pw = malloc(n * (size_t)k * sizeof *pw), *tw = malloc(n * (size_t)k * sizeof *tw);
    fill = malloc((n + 1) * sizeof *fill);
    if (!sigma || !rho || !prow || !trow || !pcol || !tcol || !pw || !tw || !fill) goto oom;
    lens__umap_smooth_knn(g->dist, n, k, 1.0f, sigma, rho);
    /* P: memberships, rows sorted by column */
    size_t nnz = 0;
    for (size_t i = 0; i < n; i++) {
        prow[i] = (int64_t)nnz;
        for (int e = 0; e < k; e++) {
            int32_t j = g->idx[i * k + e];
            float d = g->dist[i * k + e];
            if (j < 0 || (size_t)j == i || !isfinite(d)) continue;
            float w = umap_membership(d, rho[i], sigma[i]);
            if (!(w > 0)) continue;
            pcol[nnz] = j;
            pw[nnz++] = w;
        }
        sort_row(pcol + prow[i], pw + prow[i], (int64_t)nnz - prow[i]);
    }
    prow[n] = (int64_t)nnz;
    /* P' by counting sort (rows come out sorted since i ascends) */
    for (size_t e = 0; e < nnz; e++) trow[pcol[e] + 1]++;
    for (size_t i = 0; i < n; i++) trow[i + 1] += trow[i];
    memcpy(fill, trow, (n + 1) * sizeof *fill);
    for (size_t i = 0; i < n; i++)
        for (int64_t e = prow[i]; e < prow[i + 1]; e++) {
            int64_t p = fill[pcol[e]]++;
            tcol[p] = (int32_t)i;
            tw[p] = pw[e];
        }
    out->n = n;
    out->row = malloc((n + 1) * sizeof *out->row);
    out->col = malloc((2 * nnz + 1) * sizeof *out->col);
    out->w = malloc((2 * nnz + 1) * sizeof *out->w);
    if (!out->row || !out->col || !out->w) goto oom;
    size_t pos = 0;
    for (size_t i = 0; i < n; i++) {
        out->row[i] = (int64_t)pos;
        int64_t a = prow[i], ae = prow[i + 1], b = trow[i], be = trow[i + 1];
        while (a < ae || b < be) {
            int32_t j;
            float p = 0, t = 0;
            if (b >= be || (a < ae && pcol[a] < tcol[b])) {
                j = pcol[a];
                p = pw[a++];
            } else if (a >= ae || tcol[b] < pcol[a]) {
                j = tcol[b];
                t = tw[b++];
            } else {
                j = pcol[a];
                p = pw[a++];
                t = tw[b++];
            }
            float w = p + t - p * t;
            if (w > 0) {
                out->col[pos] = j;
                out->w[pos++] = w;
            }
        }
    }
    out->row[n] = (int64_t)pos;
    free(sigma); free(rho); free(prow); free(trow); free(pcol); free(tcol); free(pw); free(tw); free(fill);
    return LENS_OK;
oom:
    free(sigma); free(rho); free(prow); free(trow); free(pcol); free(tcol); free(pw); free(tw); free(fill);
    lens__umap_graph_free(out);
    return lens_error_set(err, LENS_ENOMEM, "umap: out of memory for the fuzzy graph of %zu points", n);
}
