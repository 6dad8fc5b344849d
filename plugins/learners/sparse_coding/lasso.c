/*
** lasso.c -- ISTA and FISTA (Beck & Teboulle 2009) for batches of sparse
** codes, in the Gram form: the gradient of ||y - W^T z||^2 is
** 2 (z G - b) with G = W W^T and b = y W^T computed once per block, so an
** iteration costs one (rows x m) by (m x m) sgemm. Also cyclic coordinate
** descent on the same Gram matrix (LASSO_CD), row by row on threads.
*/
#include <cblas.h>
#include <math.h>
#include <pthread.h>
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

/* ---- Coordinate descent (LASSO_CD) ----------------------------------
** Per row, with c = b - G z (half the negative gradient), minimising over
** one code z_j with the others fixed gives z_j = h_{lambda/2}(u) / G_jj,
** u = c_j + G_jj z_j; a change d of z_j costs one axpy c -= d G_j. The
** codes are sparse, so after a sweep over all atoms the sweeps run on the
** active set's own small problem (its k x k Gram matrix), and as soon as
** a sweep changes no sign, one Newton step solves that problem exactly
** (coordinate descent alone crawls there: neighbouring patches' atoms are
** correlated). Then c is recomputed and the optimality conditions off the
** set (|c_j| <= lambda / 2 where z_j = 0) are checked; a violation starts
** another full sweep. The prior term folds in as G + alpha I and
** b + alpha p. Rows are independent: threads share them, and a row's
** codes do not depend on which thread solved it. */

typedef struct cd_job {
	const lasso *s;
	const lasso_opts *o;
	const float *WT;   /* n x m: W transposed, so that b = W y is n axpys */
	const float *Y, *P;/* batch x n inputs; batch x m prior or NULL */
	float *Z;          /* batch x m codes */
	int r0, r1;        /* this job's rows */
	float alpha;
	int most;          /* out: the most sweeps a row used; -1: out of memory */
} cd_job;

/* c -= d g, vectorised */
static void axpy_neg(float *restrict c, const float *restrict g, float d, int m)
{
	for (int i = 0; i < m; i++)
		c[i] -= d * g[i];
}

/* A thread's workspace for one row at a time. */
typedef struct cd_ws {
	const float *G;
	int m, cap;        /* atoms; the largest active set taken apart */
	float alpha, thr;  /* prior weight; lambda / 2 */
	float *diag, *inv; /* m: G_jj + alpha and its inverse (0 for a zero atom) */
	float *c, *b;      /* m: b - (G + alpha I) z; b = W y (+ alpha p) */
	int *act, *keep;   /* m: the active set; cap: its non-zero codes */
	/* the active set's own problem: (G + alpha I)_AA, then cap each of its
	** diagonal, inverse, codes and c */
	float *GA, *dA, *iA, *zA, *cA;
	double *H, *x;     /* cap x cap Cholesky factor; cap: right-hand side */
} cd_ws;

/* c = b - (G + alpha I) z from scratch: the incremental updates of many
** sweeps drift in float, and a drifted c moves codes the wrong way. */
static void cd_residual(const cd_ws *w, const float *b, const float *z)
{
	memcpy(w->c, b, sizeof(float) * (size_t)w->m);
	for (int i = 0; i < w->m; i++)
		if (z[i] != 0.0f) {
			axpy_neg(w->c, w->G + (size_t)i * (size_t)w->m, z[i], w->m);
			w->c[i] -= w->alpha * z[i];
		}
}

/* One sweep over the n coordinates of the problem with Gram matrix G (n x
** n, diag and inv its diagonal and inverse, alpha on the diagonal not in
** G); returns the largest change of a code, and in *flips how many codes
** changed sign (to or from 0 included). */
static float cd_sweep(const float *G, int n, const float *diag, const float *inv,
                      float alpha, float thr, float *z, float *c, int *flips)
{
	float most = 0.0f;
	*flips = 0;
	for (int j = 0; j < n; j++) {
		if (inv[j] == 0.0f) /* a zero atom without prior: its code stays 0 */
			continue;
		float u = c[j] + z[j] * diag[j];
		float a = fabsf(u) - thr;
		float zn = a > 0.0f ? copysignf(a, u) * inv[j] : 0.0f;
		float d = zn - z[j];
		if (d == 0.0f)
			continue;
		*flips += (zn > 0.0f) != (z[j] > 0.0f) || (zn < 0.0f) != (z[j] < 0.0f);
		z[j] = zn;
		axpy_neg(c, G + (size_t)j * (size_t)n, d, n);
		c[j] -= alpha * d;
		most = fabsf(d) > most ? fabsf(d) : most;
	}
	return most;
}

/* sum a_i b_i in four partial sums: the compiler keeps a reduction in
** order (one add at a time) unless told it may reassociate */
static double dot4(const double *a, const double *b, int n)
{
	double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0;
	int i = 0;
	for (; i + 4 <= n; i += 4) {
		s0 += a[i] * b[i];
		s1 += a[i + 1] * b[i + 1];
		s2 += a[i + 2] * b[i + 2];
		s3 += a[i + 3] * b[i + 3];
	}
	for (; i < n; i++)
		s0 += a[i] * b[i];
	return (s0 + s1) + (s2 + s3);
}

/* In place Cholesky of the k x k matrix H (lower triangle); 0, or -1 when
** it is not positive definite enough to trust. */
static int cholesky(double *H, int k)
{
	for (int j = 0; j < k; j++) {
		double *hj = H + (size_t)j * (size_t)k;
		hj[j] -= dot4(hj, hj, j);
		if (!(hj[j] > 1e-6))
			return -1;
		hj[j] = sqrt(hj[j]);
		for (int i = j + 1; i < k; i++) {
			double *hi = H + (size_t)i * (size_t)k;
			hi[j] = (hi[j] - dot4(hi, hj, j)) / hj[j];
		}
	}
	return 0;
}

/* The Newton step on the active set's k codes (zA, with b restricted to
** it in bA): with the signs s of the non-zero codes fixed, the energy is a
** quadratic whose minimiser solves (G + alpha I)_AA z = b_A - (lambda/2) s.
** Coordinate descent crawls towards it when atoms are correlated; this
** jumps. The step goes from z towards that point and stops where the
** first code reaches 0: the energy falls all along the segment, which
** stays in the orthant where the quadratic is the energy. Returns 1 when
** the whole step was taken (z is then that minimiser), 0 when it stopped
** short, -1 when the set's Gram matrix is too close to singular. */
static int cd_newton(const cd_ws *w, const float *bA, int k)
{
	int *P = w->keep, n = 0;
	for (int p = 0; p < k; p++)
		if (w->zA[p] != 0.0f)
			P[n++] = p;
	double *H = w->H, *x = w->x;
	for (int p = 0; p < n; p++) {
		for (int q = 0; q <= p; q++)
			H[(size_t)p * (size_t)n + (size_t)q] = w->GA[(size_t)P[p] * (size_t)k + (size_t)P[q]];
		H[(size_t)p * (size_t)n + (size_t)p] += w->alpha;
		x[p] = (double)bA[P[p]] - (w->zA[P[p]] > 0.0f ? w->thr : -w->thr);
	}
	if (cholesky(H, n) != 0)
		return -1;
	for (int i = 0; i < n; i++) /* forward, then back substitution */
		x[i] = (x[i] - dot4(H + (size_t)i * (size_t)n, x, i)) / H[(size_t)i * (size_t)n + (size_t)i];
	for (int i = n - 1; i >= 0; i--) {
		for (int p = i + 1; p < n; p++)
			x[i] -= H[(size_t)p * (size_t)n + (size_t)i] * x[p];
		x[i] /= H[(size_t)i * (size_t)n + (size_t)i];
	}
	double t = 1.0;
	int stop = -1;
	for (int p = 0; p < n; p++) {
		double zp = w->zA[P[p]];
		if (x[p] * zp <= 0.0 && zp / (zp - x[p]) < t) /* crosses 0 before the end */
			t = zp / (zp - x[p]), stop = p;
	}
	for (int p = 0; p < n; p++) {
		float *zp = &w->zA[P[p]];
		*zp = p == stop ? 0.0f : (float)(*zp + t * (x[p] - *zp));
	}
	return stop < 0;
}

/* Sweeps over the k active codes alone, on their own k x k problem (c of
** the others is not kept: cd_residual recomputes it), with a Newton step
** whenever a sweep leaves the signs alone. Returns 1 when the set's
** problem was solved: a sweep moved no code by more than tol, or a
** Newton step was taken whole. */
static int cd_active(cd_ws *w, const lasso_opts *o, const float *b, float *z, int k,
                     int *sweeps)
{
	float *bA = w->cA + w->cap; /* b restricted to the set */
	for (int p = 0; p < k; p++) {
		int j = w->act[p];
		for (int q = 0; q < k; q++)
			w->GA[(size_t)p * (size_t)k + (size_t)q] = w->G[(size_t)j * (size_t)w->m + (size_t)w->act[q]];
		w->dA[p] = w->diag[j];
		w->iA[p] = w->inv[j];
		w->zA[p] = z[j];
		w->cA[p] = w->c[j];
		bA[p] = b[j];
	}
	int solved = 0, flips, newton = 1, step;
	while (!solved && *sweeps < o->max_iter) {
		float most = cd_sweep(w->GA, k, w->dA, w->iA, w->alpha, w->thr, w->zA, w->cA, &flips);
		++*sweeps;
		if (most <= o->tol || flips != 0 || !newton)
			solved = most <= o->tol;
		else if ((step = cd_newton(w, bA, k)) < 0)
			newton = 0; /* singular: sweeps alone for this set */
		else if (step == 1)
			solved = 1;
		else {
			/* the step stopped where a code reached 0: c_A anew */
			memcpy(w->cA, bA, sizeof(float) * (size_t)k);
			for (int p = 0; p < k; p++)
				if (w->zA[p] != 0.0f) {
					axpy_neg(w->cA, w->GA + (size_t)p * (size_t)k, w->zA[p], k);
					w->cA[p] -= w->alpha * w->zA[p];
				}
		}
	}
	for (int p = 0; p < k; p++)
		z[w->act[p]] = w->zA[p];
	return solved;
}

/* The largest move a coordinate step would make on a zero code: the
** optimality conditions there are |c_j| <= lambda / 2. */
static float cd_violation(const cd_ws *w, const float *z)
{
	float most = 0.0f;
	for (int j = 0; j < w->m; j++) {
		float v = (fabsf(w->c[j]) - w->thr) * w->inv[j];
		most = z[j] == 0.0f && v > most ? v : most;
	}
	return most;
}

/* Solves one row: z in (the start) and out (the codes); b is W y (+ alpha
** p). A sweep over all atoms, then sweeps over the active set until its
** problem is solved; again, until the set's problem is solved and no code
** outside it would move by more than tol (checked without a sweep).
** Returns the sweeps used (a check counts as one). */
static int cd_row(cd_ws *w, const lasso_opts *o, const float *b, float *z)
{
	int sweeps = 0, flips, solved = 0;
	while (sweeps < o->max_iter) {
		cd_residual(w, b, z);
		if (solved) {
			sweeps++;
			if (cd_violation(w, z) <= o->tol)
				break;
		}
		float most = cd_sweep(w->G, w->m, w->diag, w->inv, w->alpha, w->thr, z, w->c, &flips);
		if (++sweeps >= o->max_iter || most <= o->tol)
			break;
		int k = 0;
		for (int j = 0; j < w->m; j++)
			if (z[j] != 0.0f)
				w->act[k++] = j;
		/* a set larger than cap gets full sweeps only */
		solved = k > 0 && k <= w->cap ? cd_active(w, o, b, z, k, &sweeps) : 0;
	}
	return sweeps;
}

static void ws_free(cd_ws *w)
{
	free(w->diag);
	free(w->act);
	free(w->GA);
	free(w->H);
}

static int ws_init(cd_ws *w, const lasso *s, float alpha)
{
	*w = (cd_ws){.G = s->G, .m = s->m, .alpha = alpha, .thr = 0.5f * s->lambda};
	/* at most n atoms are linearly independent: a larger set is singular
	** without the prior; and the Newton step's cost grows as its cube */
	int cap = s->n < s->m ? s->n : s->m;
	w->cap = cap = cap < 256 ? cap : 256;
	w->diag = malloc(sizeof(float) * 4 * (size_t)s->m);
	w->act = malloc(sizeof(int) * ((size_t)s->m + (size_t)cap));
	w->GA = malloc(sizeof(float) * ((size_t)cap * (size_t)cap + 5 * (size_t)cap));
	w->H = malloc(sizeof(double) * ((size_t)cap * (size_t)cap + (size_t)cap));
	if (!w->diag || !w->act || !w->GA || !w->H) {
		ws_free(w);
		return -1;
	}
	w->inv = w->diag + s->m;
	w->c = w->inv + s->m;
	w->b = w->c + s->m;
	w->keep = w->act + s->m;
	w->dA = w->GA + (size_t)cap * (size_t)cap;
	w->iA = w->dA + cap;
	w->zA = w->iA + cap;
	w->cA = w->zA + cap; /* and b_A after it */
	w->x = w->H + (size_t)cap * (size_t)cap;
	for (int i = 0; i < s->m; i++) {
		w->diag[i] = s->G[(size_t)i * (size_t)s->m + (size_t)i] + alpha;
		w->inv[i] = w->diag[i] > 0.0f ? 1.0f / w->diag[i] : 0.0f;
	}
	return 0;
}

/* b = W y (+ alpha p) of one row, as n axpys on W's transpose: computed
** here rather than by a BLAS call, no BLAS threads spin beside ours. */
static void cd_rhs(const cd_job *j, const cd_ws *w, int r)
{
	const int m = w->m, n = j->s->n;
	const float *y = j->Y + (size_t)r * (size_t)n;
	memset(w->b, 0, sizeof(float) * (size_t)m);
	for (int i = 0; i < n; i++)
		axpy_neg(w->b, j->WT + (size_t)i * (size_t)m, -y[i], m);
	if (j->P)
		for (int i = 0; i < m; i++)
			w->b[i] += j->alpha * j->P[(size_t)r * (size_t)m + (size_t)i];
}

static void *cd_worker(void *arg)
{
	cd_job *j = arg;
	const int m = j->s->m;
	cd_ws w;
	if (ws_init(&w, j->s, j->alpha) != 0) {
		j->most = -1;
		return NULL;
	}
	for (int r = j->r0; r < j->r1; r++) {
		float *z = j->Z + (size_t)r * (size_t)m;
		if (!j->o->warm)
			memset(z, 0, sizeof(float) * (size_t)m);
		cd_rhs(j, &w, r);
		int k = cd_row(&w, j->o, w.b, z);
		j->most = k > j->most ? k : j->most;
	}
	ws_free(&w);
	return NULL;
}

extern int openblas_get_num_threads(void);

enum { CD_MAX_THREADS = 64 };

/* The rows split among threads in contiguous ranges (the calling thread
** takes the first). */
static int cd_solve(lasso *s, const float *Y, int batch, float *Z, const lasso_opts *o)
{
	const int m = s->m, n = s->n;
	int threads = o->threads > 0 ? o->threads : openblas_get_num_threads();
	threads = threads < 1 ? 1 : threads > CD_MAX_THREADS ? CD_MAX_THREADS : threads;
	threads = threads > batch ? (batch > 0 ? batch : 1) : threads;
	float *WT = malloc(sizeof(float) * (size_t)n * (size_t)m);
	if (!WT)
		return -1;
	for (int j = 0; j < m; j++)
		for (int i = 0; i < n; i++)
			WT[(size_t)i * (size_t)m + (size_t)j] = s->W[(size_t)j * (size_t)n + (size_t)i];
	cd_job jobs[CD_MAX_THREADS];
	pthread_t tid[CD_MAX_THREADS];
	int started[CD_MAX_THREADS] = {0};
	for (int t = 0; t < threads; t++)
		jobs[t] = (cd_job){.s = s, .o = o, .WT = WT, .Y = Y, .P = o->prior, .Z = Z,
		                   .alpha = o->prior ? o->alpha : 0.0f,
		                   .r0 = (int)((long)batch * t / threads),
		                   .r1 = (int)((long)batch * (t + 1) / threads)};
	for (int t = 1; t < threads; t++)
		started[t] = pthread_create(&tid[t], NULL, cd_worker, &jobs[t]) == 0;
	cd_worker(&jobs[0]);
	for (int t = 1; t < threads; t++) {
		if (started[t])
			pthread_join(tid[t], NULL);
		else /* no thread to be had: do its rows here */
			cd_worker(&jobs[t]);
	}
	free(WT);
	int most = 0;
	for (int t = 0; t < threads; t++) {
		if (jobs[t].most < 0)
			return -1;
		most = jobs[t].most > most ? jobs[t].most : most;
	}
	return most;
}

int lasso_solve(lasso *s, const float *Y, int batch, float *Z, const lasso_opts *o)
{
	if (o->method == LASSO_CD)
		return cd_solve(s, Y, batch, Z, o);
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
