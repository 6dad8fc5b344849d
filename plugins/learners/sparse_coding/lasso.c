/*
** lasso.c -- ISTA and FISTA (Beck & Teboulle 2009) for batches of sparse
** codes, in the Gram form: the gradient of ||y - W^T z||^2 is
** 2 (z G - b) with G = W W^T and b = y W^T computed once per block, so an
** iteration costs one (rows x m) by (m x m) sgemm.
*/
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "lasso.h"

float lasso_top_eigen(const float *G, int m, int iters, double *x)
{
	float *xf = calloc((size_t)m * 2, sizeof(float));
	if (!xf)
		return 0.0f;
	float *y = xf + m;
	double lambda = 0.0;
	for (int i = 0; i < m; i++)
		xf[i] = (float)x[i];
	for (int it = 0; it < iters; it++) {
		cblas_sgemv(CblasRowMajor, CblasNoTrans, m, m, 1.0f, G, m, xf, 1, 0.0f, y, 1);
		double norm = 0.0, xy = 0.0, xx = 0.0;
		for (int i = 0; i < m; i++) {
			norm += (double)y[i] * y[i];
			xy += (double)xf[i] * y[i];
			xx += (double)xf[i] * xf[i];
		}
		if (norm == 0.0 || xx == 0.0)
			break;
		lambda = xy / xx; /* Rayleigh quotient: converges twice as fast as the norm */
		float inv = (float)(1.0 / sqrt(norm));
		for (int i = 0; i < m; i++)
			xf[i] = y[i] * inv;
	}
	for (int i = 0; i < m; i++)
		x[i] = xf[i];
	free(xf);
	return (float)lambda;
}

static void gram(lasso *s)
{
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, s->m, s->n, 1.0f, s->W, s->n,
	            0.0f, s->G, s->m);
	for (int i = 0; i < s->m; i++) /* mirror the upper triangle */
		for (int j = 0; j < i; j++)
			s->G[(size_t)i * (size_t)s->m + (size_t)j] = s->G[(size_t)j * (size_t)s->m + (size_t)i];
}

void lasso_refresh(lasso *s)
{
	/* A fixed start with every component positive and uneven: it cannot be
	** orthogonal to the top eigenvector of G by accident. */
	uint32_t h = 2463534242u;
	for (int i = 0; i < s->m; i++) {
		h ^= h << 13, h ^= h >> 17, h ^= h << 5;
		s->eig[i] = 1.0 + (double)(h % 1000) / 1000.0;
	}
	gram(s);
	/* The power iteration approaches sigma^2 from below; a step taken from
	** an underestimate could diverge, so keep a small margin. Always from
	** the same start: sigma2 is a function of W alone, so a learner restored
	** from a checkpoint infers exactly what the saved one did. */
	s->sigma2 = lasso_top_eigen(s->G, s->m, 200, s->eig) * 1.01f;
}

int lasso_init(lasso *s, const float *W, int m, int n, float lambda)
{
	memset(s, 0, sizeof *s);
	s->n = n;
	s->m = m;
	s->W = W;
	s->lambda = lambda;
	size_t blk = (size_t)LASSO_BLOCK * (size_t)m;
	s->G = malloc(sizeof(float) * ((size_t)m * (size_t)m + 4 * blk));
	s->eig = malloc(sizeof(double) * (size_t)m);
	if (!s->G || !s->eig) {
		lasso_free(s);
		return -1;
	}
	s->b = s->G + (size_t)m * (size_t)m;
	s->v = s->b + blk;
	s->prev = s->v + blk;
	s->grad = s->prev + blk;
	lasso_refresh(s);
	return 0;
}

void lasso_free(lasso *s)
{
	free(s->G);
	free(s->eig);
	memset(s, 0, sizeof *s);
}

/* The elementwise half of an iteration, as branch-free loops over
** restrict pointers that the compiler vectorises (they cost as much as the
** sgemm otherwise). g holds v G - b on entry. */
static void step_prior(float *restrict g, const float *restrict v, const float *restrict p,
                       size_t n, float alpha)
{
	for (size_t i = 0; i < n; i++) /* the prior's half gradient alpha (v - p) */
		g[i] += alpha * (v[i] - p[i]);
}

/* z = h_thr(v - c g): soft thresholding as selects, without branches */
static void step_shrink(float *restrict z, const float *restrict g, const float *restrict v,
                        size_t n, float c, float thr)
{
	for (size_t i = 0; i < n; i++) {
		float u = v[i] - c * g[i];
		float lo = u < -thr ? -thr : u;
		z[i] = u - (lo > thr ? thr : lo); /* u minus u clamped to [-thr, thr] */
	}
}

static void momentum(float *restrict v, const float *restrict z, const float *restrict prev,
                     size_t n, float beta)
{
	for (size_t i = 0; i < n; i++)
		v[i] = z[i] + beta * (z[i] - prev[i]);
}

static float max_change(const float *z, const float *prev, size_t n)
{
	float c = 0.0f;
	for (size_t i = 0; i < n; i++)
		c = fmaxf(c, fabsf(z[i] - prev[i]));
	return c;
}

/* One block of rows; returns the iterations used. */
static int solve_block(lasso *s, const float *Y, int row0, int rows, float *Z,
                       const float *P, const lasso_opts *o)
{
	const int m = s->m;
	const size_t cnt = (size_t)rows * (size_t)m;
	const float alpha = P ? o->alpha : 0.0f;
	const float L = 2.0f * s->sigma2 + 2.0f * alpha;
	const float step = 1.0f / L, thr = s->lambda / L;
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, m, s->n, 1.0f, Y, s->n,
	            s->W, s->n, 0.0f, s->b, m);
	if (!o->warm)
		memset(Z, 0, sizeof(float) * cnt);
	memcpy(s->v, Z, sizeof(float) * cnt);
	double t = 1.0;
	int k = 0;
	while (k < o->max_iter) {
		k++;
		/* grad = v G - b: half the smooth part's gradient */
		memcpy(s->grad, s->b, sizeof(float) * cnt);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, rows, m, m, 1.0f, s->v, m,
		            s->G, m, -1.0f, s->grad, m);
		memcpy(s->prev, Z, sizeof(float) * cnt);
		if (P)
			step_prior(s->grad, s->v, P, cnt, alpha);
		step_shrink(Z, s->grad, s->v, cnt, 2.0f * step, thr);
		if (o->method == LASSO_FISTA) {
			double t1 = 0.5 * (1.0 + sqrt(1.0 + 4.0 * t * t));
			momentum(s->v, Z, s->prev, cnt, (float)((t - 1.0) / t1));
			t = t1;
		} else {
			memcpy(s->v, Z, sizeof(float) * cnt);
		}
		if (o->each)
			o->each(o->ctx, k, row0, rows, Z);
		/* The convergence test costs a pass that does not vectorise: every
		** few iterations is enough. */
		if (o->tol > 0.0f && k % 4 == 0 && max_change(Z, s->prev, cnt) < o->tol)
			break;
	}
	return k;
}

int lasso_solve(lasso *s, const float *Y, int batch, float *Z, const lasso_opts *o)
{
	int most = 0;
	for (int r = 0; r < batch; r += LASSO_BLOCK) {
		int rows = batch - r < LASSO_BLOCK ? batch - r : LASSO_BLOCK;
		const float *P = o->prior ? o->prior + (size_t)r * (size_t)s->m : NULL;
		int k = solve_block(s, Y + (size_t)r * (size_t)s->n, r, rows,
		                    Z + (size_t)r * (size_t)s->m, P, o);
		most = k > most ? k : most;
	}
	return most;
}

/* ||y - W^T z||^2 of one row, in double; visits only the non-zero codes. */
static double row_error(const float *W, int m, int n, const float *y, const float *z,
                        double *r)
{
	for (int i = 0; i < n; i++)
		r[i] = y[i];
	for (int j = 0; j < m; j++) {
		if (z[j] == 0.0f)
			continue;
		const float *w = W + (size_t)j * (size_t)n;
		for (int i = 0; i < n; i++)
			r[i] -= (double)z[j] * w[i];
	}
	double e = 0.0;
	for (int i = 0; i < n; i++)
		e += r[i] * r[i];
	return e;
}

double lasso_sq_error(const float *W, int m, int n, const float *Y, const float *Z,
                      int batch)
{
	double *r = malloc(sizeof(double) * (size_t)n), e = 0.0;
	if (!r)
		return NAN;
	for (int b = 0; b < batch; b++)
		e += row_error(W, m, n, Y + (size_t)b * (size_t)n, Z + (size_t)b * (size_t)m, r);
	free(r);
	return e;
}

double lasso_energy(const float *W, int m, int n, float lambda, const float *Y,
                    const float *Z, int batch)
{
	double l1 = 0.0;
	for (size_t i = 0; i < (size_t)batch * (size_t)m; i++)
		l1 += fabs((double)Z[i]);
	return lasso_sq_error(W, m, n, Y, Z, batch) + (double)lambda * l1;
}
