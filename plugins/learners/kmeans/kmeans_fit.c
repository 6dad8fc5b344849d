/*
** kmeans_fit.c -- the algorithms of the `kmeans` learner: the full
** assignment pass (distances by sgemm, a block of samples at a time, with
** the members' sums gathered while the block is in cache; it also sets the
** bounds), k-means++ seeding, Lloyd's iterations with empty clusters
** re-seeded (their bounded assignment step is kmeans_bounds.c), Sculley's
** mini-batch step, and the purity of the clusters against the data's
** labels.
*/
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "kmeans.h"

double km_exact_dist(const float *x, const float *c, int d)
{
	double s = 0;
	for (int j = 0; j < d; j++) {
		double e = (double)x[j] - (double)c[j];
		s += e * e;
	}
	return s;
}

/* The nearest centre by |c|^2 - 2 x.c. */
static int nearest(const float *gi, const double *cn, int k)
{
	int best = 0;
	double b = cn[0] - 2.0 * gi[0];
	for (int j = 1; j < k; j++) {
		double v = cn[j] - 2.0 * gi[j];
		if (v < b)
			b = v, best = j;
	}
	return best;
}

/* Fresh bounds of sample i assigned to a, from its dot products gi (the
** drifts are zero: the pass starts them again). The margin covers the
** float rounding of |x|^2 + |c|^2 - 2 x.c, so a bound is never too tight. */
static void set_bounds(kmeans *km, int i, const float *gi, int a)
{
	int k = km->k;
	double xn = km->xnorm[i], e = km_margin(km, xn), lm = INFINITY;
	float *lb = km->lower ? km->lower + (size_t)i * (size_t)k : NULL;
	for (int j = 0; j < k; j++) {
		double d2 = xn + km->cnorm[j] - 2.0 * gi[j];
		if (j == a)
			km->upper[i] = (float)(sqrt(fmax(d2, 0.0) + e) * (1 + 1e-6));
		double l = sqrt(fmax(d2 - e, 0.0)) * (1 - 1e-6);
		if (lb)
			lb[j] = (float)l;
		if (j != a)
			lm = fmin(lm, l);
	}
	km->lmin[i] = (float)lm;
}

void km_norms(kmeans *km)
{
	int d = km->d;
	km->cnmax = 0;
	for (int j = 0; j < km->k; j++) {
		const float *c = km->centres->data + (size_t)j * (size_t)d;
		double s = 0;
		for (int t = 0; t < d; t++)
			s += (double)c[t] * c[t];
		km->cnorm[j] = s;
		km->cnmax = fmax(km->cnmax, s);
	}
}

/* The float dot products of a pass (sgemm's, and those of the bounded
** pass in 8 lanes) err by about 6e-8 sqrt(d) (|x|^2 + |c|^2) when their
** roundings do not all lean one way: the margin is 6 times that. */
double km_margin(const kmeans *km, double xn)
{
	return 3.6e-7 * sqrt((double)km->d) * (xn + km->cnmax);
}

/* Whether a sample assigned to a moves to best: only when best is strictly
** nearer in exact arithmetic (dot products in float may tie or misorder). */
static int moves(const kmeans *km, const float *x, int a, int best)
{
	const float *c = km->centres->data;
	return a < 0 || (a != best && km_exact_dist(x, c + (size_t)best * (size_t)km->d, km->d) <
	                              km_exact_dist(x, c + (size_t)a * (size_t)km->d, km->d));
}

long km_pass(kmeans *km, const float *x, int n, int *assign, int bounds, double *sums, double *sizes)
{
	int d = km->d, k = km->k;
	const float *c = km->centres->data;
	float *g = km->scratch;
	km_norms(km);
	if (sums) {
		memset(sums, 0, sizeof(double) * (size_t)k * (size_t)d);
		memset(sizes, 0, sizeof(double) * (size_t)k);
	}
	long changed = 0;
	for (int r0 = 0; r0 < n; r0 += KM_BLOCK) {
		int nb = n - r0 < KM_BLOCK ? n - r0 : KM_BLOCK;
		const float *xb = x + (size_t)r0 * (size_t)d;
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, nb, k, d, 1.0f, xb, d, c, d, 0.0f, g, k);
		for (int i = 0; i < nb; i++) {
			const float *gi = g + (size_t)i * (size_t)k, *xi = xb + (size_t)i * (size_t)d;
			/* |x - c|^2 = |x|^2 + |c|^2 - 2 x.c; |x|^2 does not change the argmin. */
			int best = nearest(gi, km->cnorm, k);
			int *a = &assign[r0 + i];
			if (moves(km, xi, *a, best)) {
				*a = best;
				changed++;
			}
			if (bounds)
				set_bounds(km, r0 + i, gi, *a);
			if (sums) {
				double *s = sums + (size_t)*a * (size_t)d;
				for (int t = 0; t < d; t++)
					s[t] += xi[t];
				sizes[*a] += 1;
			}
		}
	}
	return changed;
}

/* sum_i |x_i - c_a(i)|^2 = sum |x|^2 - 2 sum_j c_j.S_j + sum_j n_j |c_j|^2,
** in double from the members' sums: O(k d) instead of O(n d). */
static double objective_from_sums(const kmeans *km, double sum_xn)
{
	int d = km->d;
	double o = sum_xn;
	for (int j = 0; j < km->k; j++) {
		const float *cj = km->centres->data + (size_t)j * (size_t)d;
		const double *sj = km->sums + (size_t)j * (size_t)d;
		double dot = 0, cc = 0;
		for (int t = 0; t < d; t++) {
			dot += (double)cj[t] * sj[t];
			cc += (double)cj[t] * cj[t];
		}
		o += km->sizes[j] * cc - 2 * dot;
	}
	return o > 0 ? o : 0;
}

/* Picks a sample with probability proportional to w (D^2 sampling). */
static int draw(dd_rng *rng, const double *w, int n, double total)
{
	double r = dd_rng_uniform_double(rng) * total, acc = 0;
	for (int i = 0; i < n; i++) {
		acc += w[i];
		if (acc > r)
			return i;
	}
	return n - 1;
}

static int kmeanspp(kmeans *km)
{
	int n = km->stored, d = km->d, k = km->k;
	int trials = 2 + (int)log((double)k);
	const float *x = km->mem;
	float *c = km->centres->data;
	double *closest = malloc(sizeof(double) * (size_t)n);
	float *cand = malloc(sizeof(float) * (size_t)trials * (size_t)d);
	float *g = malloc(sizeof(float) * (size_t)n * (size_t)trials);
	int *pick = malloc(sizeof(int) * (size_t)trials);
	if (!closest || !cand || !g || !pick) {
		free(closest), free(cand), free(g), free(pick);
		return km->host->error(km->host, "out of memory for k-means++ on %d samples", n);
	}
	int first = (int)dd_rng_below(&km->rng, (uint64_t)n);
	memcpy(c, x + (size_t)first * (size_t)d, sizeof(float) * (size_t)d);
	double pot = 0;
	for (int i = 0; i < n; i++)
		pot += closest[i] = km_exact_dist(x + (size_t)i * (size_t)d, c, d);
	for (int m = 1; m < k; m++) {
		for (int t = 0; t < trials; t++) {
			pick[t] = draw(&km->rng, closest, n, pot);
			memcpy(cand + (size_t)t * (size_t)d, x + (size_t)pick[t] * (size_t)d, sizeof(float) * (size_t)d);
		}
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, trials, d, 1.0f, x, d, cand, d, 0.0f, g, trials);
		/* Greedy: of the candidates, the one that lowers the potential most. */
		int best = 0;
		double best_pot = INFINITY;
		for (int t = 0; t < trials; t++) {
			double cn = km->xnorm[pick[t]], p = 0;
			for (int i = 0; i < n; i++) {
				double v = km->xnorm[i] + cn - 2.0 * g[(size_t)i * (size_t)trials + (size_t)t];
				p += fmin(closest[i], v > 0 ? v : 0);
			}
			if (p < best_pot)
				best_pot = p, best = t;
		}
		pot = 0;
		for (int i = 0; i < n; i++) {
			double v = km->xnorm[i] + km->xnorm[pick[best]] - 2.0 * g[(size_t)i * (size_t)trials + (size_t)best];
			closest[i] = fmin(closest[i], v > 0 ? v : 0);
			pot += closest[i];
		}
		memcpy(c + (size_t)m * (size_t)d, cand + (size_t)best * (size_t)d, sizeof(float) * (size_t)d);
	}
	free(closest), free(cand), free(g), free(pick);
	return DD_OK;
}

int km_init(kmeans *km)
{
	if (km->stored < km->k)
		return km->host->error(km->host, "k-means needs k = %d samples to start from, has %d",
		                       km->k, km->stored);
	if (km->init_first)
		memcpy(km->centres->data, km->mem, sizeof(float) * (size_t)km->k * (size_t)km->d);
	else if (kmeanspp(km) != DD_OK)
		return DD_ERR;
	memset(km->counts, 0, sizeof(double) * (size_t)km->k);
	km->initialised = 1;
	km->pass_valid = 0;
	km->converged = 0;
	return DD_OK;
}

void km_refresh(kmeans *km)
{
	if (km->pass_valid)
		return;
	double sum_xn = 0;
	for (int i = 0; i < km->stored; i++)
		sum_xn += km->xnorm[i];
	/* The bounds start again: nothing has moved since they were set. */
	memset(km->drift, 0, sizeof(double) * (size_t)km->k);
	km->drift_max = 0;
	km->changed = km_pass(km, km->mem, km->stored, km->assign, 1, km->sums, km->sizes);
	km->objective = objective_from_sums(km, sum_xn);
	km->pass_valid = 1;
}

/* Moves sample i (row x) from its cluster to cluster to, in the sums. */
static void transfer(kmeans *km, int i, const float *x, int to)
{
	int d = km->d, from = km->assign[i];
	double *sf = km->sums + (size_t)from * (size_t)d, *st = km->sums + (size_t)to * (size_t)d;
	for (int t = 0; t < d; t++) {
		sf[t] -= x[t];
		st[t] += x[t];
	}
	km->sizes[from] -= 1;
	km->sizes[to] += 1;
	km->assign[i] = to;
}

/* An empty cluster takes the sample farthest from its centre (by its upper
** bound) among clusters that keep at least one member, as scikit-learn
** does, except that a sample counts as far only as it is from the centres
** re-seeded before it in the same step (so duplicates of one far point do
** not take several clusters). The sample moves there at once: its cost
** drops to 0, so Lloyd's descent is kept. */
static void reseed_empty(kmeans *km)
{
	int d = km->d, taken[64], n_taken = 0;
	for (int j = 0; j < km->k; j++) {
		if (km->sizes[j] > 0)
			continue;
		int far = -1;
		double far_v = -1;
		for (int i = 0; i < km->stored; i++) {
			double v = km->upper[i] + km->drift[km->assign[i]];
			if (km->sizes[km->assign[i]] <= 1 || v <= far_v)
				continue;
			for (int t = 0; t < n_taken && v > far_v; t++)
				v = fmin(v, sqrt(km_exact_dist(km->mem + (size_t)i * (size_t)d, km->mem + (size_t)taken[t] * (size_t)d, d)));
			if (v > far_v)
				far_v = v, far = i;
		}
		if (far < 0 || far_v <= 0)
			continue;
		transfer(km, far, km->mem + (size_t)far * (size_t)d, j);
		/* It is the centre now; its distance to the others is unknown.
		** (Its bounds per centre stay true: they do not depend on the
		** cluster.) */
		km->upper[far] = (float)(1e-6 * km->drift[j] - km->drift[j]);
		km->lmin[far] = (float)(km->drift_max - 1e-6 * km->drift_max);
		km->relocated++;
		if (n_taken < 64)
			taken[n_taken++] = far;
	}
}

static void move_to_means(kmeans *km)
{
	int d = km->d;
	memcpy(km->old_centres, km->centres->data, sizeof(float) * (size_t)km->k * (size_t)d);
	reseed_empty(km);
	for (int j = 0; j < km->k; j++) {
		if (km->sizes[j] <= 0)
			continue; /* nothing to move to */
		for (int t = 0; t < d; t++)
			km->centres->data[(size_t)j * (size_t)d + (size_t)t] =
				(float)(km->sums[(size_t)j * (size_t)d + (size_t)t] / km->sizes[j]);
	}
}

int km_lloyd(kmeans *km)
{
	km_refresh(km);
	double sum_xn = 0;
	for (int i = 0; i < km->stored; i++)
		sum_xn += km->xnorm[i];
	int it = 0;
	while (it < km->iterations && !km->converged) {
		move_to_means(km);
		km->changed = km_bounded_pass(km);
		km->objective = objective_from_sums(km, sum_xn);
		it++;
		km->iters_done++;
		km->converged = km->changed == 0;
		if (km->host->log_metric)
			km->host->log_metric(km->host, "lloyd_objective", km->objective / km->stored,
			                     (int64_t)km->iters_done);
	}
	return it;
}

int km_minibatch_step(kmeans *km, const float *x, int n)
{
	int d = km->d;
	int *a = malloc(sizeof(int) * (size_t)n);
	if (!a)
		return km->host->error(km->host, "out of memory for a mini-batch of %d", n);
	for (int i = 0; i < n; i++)
		a[i] = -1;
	/* The memory's pass cache doubles as scratch: the step moves the
	** centres, which invalidates it anyway. */
	km_pass(km, x, n, a, 0, km->sums, km->sizes);
	free(a);
	for (int j = 0; j < km->k; j++) {
		double nj = km->sizes[j];
		if (nj <= 0)
			continue;
		km->counts[j] += nj;
		float *c = km->centres->data + (size_t)j * (size_t)d;
		const double *s = km->sums + (size_t)j * (size_t)d;
		for (int t = 0; t < d; t++)
			c[t] = (float)(c[t] + (s[t] - nj * c[t]) / km->counts[j]);
	}
	km->pass_valid = 0;
	km->converged = 0;
	return DD_OK;
}

#define MAX_CLASSES 65536

static double majority_share(const int *hist, int k, int classes, double n)
{
	double hit = 0;
	for (int j = 0; j < k; j++) {
		int best = 0;
		for (int l = 0; l < classes; l++)
			if (hist[(size_t)j * (size_t)classes + (size_t)l] > best)
				best = hist[(size_t)j * (size_t)classes + (size_t)l];
		hit += best;
	}
	return hit / n;
}

int km_purity(kmeans *km, double *purity, double *random_purity)
{
	int classes = 0, k = km->k;
	double n = 0;
	for (int i = 0; i < km->stored; i++)
		if (km->labels[i] >= 0 && km->labels[i] < MAX_CLASSES) {
			if ((int)km->labels[i] + 1 > classes)
				classes = (int)km->labels[i] + 1;
			n++;
		}
	if (n == 0)
		return 0;
	int *hist = calloc((size_t)k * (size_t)classes, sizeof(int));
	int *rnd = calloc((size_t)k * (size_t)classes, sizeof(int));
	if (!hist || !rnd) {
		free(hist), free(rnd);
		return 0;
	}
	/* The baseline's own stream: metrics never shift the learner's draws. */
	dd_rng r;
	dd_rng_seed(&r, km->host->seed, 0x70757269ULL);
	for (int i = 0; i < km->stored; i++) {
		if (!(km->labels[i] >= 0 && km->labels[i] < MAX_CLASSES))
			continue;
		int l = (int)km->labels[i];
		hist[(size_t)km->assign[i] * (size_t)classes + (size_t)l]++;
		rnd[(size_t)dd_rng_below(&r, (uint64_t)k) * (size_t)classes + (size_t)l]++;
	}
	*purity = majority_share(hist, k, classes, n);
	*random_purity = majority_share(rnd, k, classes, n);
	free(hist), free(rnd);
	return 1;
}
