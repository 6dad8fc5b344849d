/*
** pca_fit.c -- the two ways the `pca` learner finds its components.
** Batch: sums of x and xx' in double over every sample (dsyrk per chunk),
** then the top eigenpairs of the covariance by LAPACK's dsyevr (MRRR).
** Online: incremental PCA (Ross, Lim, Lin & Yang 2008; scikit-learn's
** IncrementalPCA): memory O(k d), a rank-k SVD update of [S W; X - xbar;
** mean correction] per chunk, the SVD taken through its small Gram matrix.
*/
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "pca.h"

/* LAPACK (OpenBLAS ships it); no LAPACKE header is needed for one call.
** The trailing lengths are those of the character arguments (gfortran). */
extern void dsyevr_(const char *jobz, const char *range, const char *uplo, const int *n,
                    double *a, const int *lda, const double *vl, const double *vu,
                    const int *il, const int *iu, const double *abstol, int *m, double *w,
                    double *z, const int *ldz, int *isuppz, double *work, const int *lwork,
                    int *iwork, const int *liwork, int *info, size_t, size_t, size_t);

/* The k largest eigenpairs of the symmetric n x n matrix a (destroyed), in
** decreasing order: w[k], z rows of n (unit vectors). DD_ERR through host. */
static int top_eigen(pca *p, double *a, int n, int k, double *w, double *z)
{
	int il = n - k + 1, iu = n, m = 0, info = 0, lwork = -1, liwork = -1, iwq = 0;
	double vl = 0, vu = 0, abstol = 0, wq = 0;
	int *isuppz = malloc(sizeof(int) * 2 * (size_t)k);
	double *wa = malloc(sizeof(double) * (size_t)n), *za = malloc(sizeof(double) * (size_t)n * (size_t)k);
	double *work = NULL;
	int *iwork = NULL, rc = DD_ERR;
	if (!isuppz || !wa || !za)
		goto out;
	dsyevr_("V", "I", "L", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, wa, za, &n, isuppz,
	        &wq, &lwork, &iwq, &liwork, &info, 1, 1, 1);
	lwork = (int)wq;
	liwork = iwq;
	work = malloc(sizeof(double) * (size_t)lwork);
	iwork = malloc(sizeof(int) * (size_t)liwork);
	if (!work || !iwork || info != 0)
		goto out;
	dsyevr_("V", "I", "L", &n, a, &n, &vl, &vu, &il, &iu, &abstol, &m, wa, za, &n, isuppz,
	        work, &lwork, iwork, &liwork, &info, 1, 1, 1);
	if (info != 0 || m != k) {
		free(isuppz);
		free(wa);
		free(za);
		free(work);
		free(iwork);
		return p->host->error(p->host, "dsyevr failed (info %d, %d of %d eigenpairs) on a %d x %d "
		                      "covariance; check the data for NaN or infinite values", info, m, k, n, n);
	}
	/* dsyevr gives them ascending, column-major: flip to largest first. */
	for (int j = 0; j < k; j++) {
		w[j] = wa[k - 1 - j];
		memcpy(z + (size_t)j * (size_t)n, za + (size_t)(k - 1 - j) * (size_t)n, sizeof(double) * (size_t)n);
	}
	rc = DD_OK;
out:
	free(isuppz);
	free(wa);
	free(za);
	free(work);
	free(iwork);
	if (rc != DD_OK)
		return p->host->error(p->host, "out of memory for the eigen-decomposition (%d x %d)", n, n);
	return rc;
}

/* A deterministic sign: the largest entry in magnitude is positive (as
** scikit-learn's svd_flip), so runs compare component by component. */
static void flip_sign(double *v, int d)
{
	int best = 0;
	for (int i = 1; i < d; i++)
		if (fabs(v[i]) > fabs(v[best]))
			best = i;
	if (v[best] < 0)
		for (int i = 0; i < d; i++)
			v[i] = -v[i];
}

/* Orthonormalises the k rows of v (modified Gram-Schmidt, twice: the Gram
** route squares the condition number). A row that vanishes (data of rank
** below k) is replaced by a unit axis orthogonal to the others. */
static void orthonormalise(double *v, int k, int d)
{
	int axis = 0;
	for (int j = 0; j < k; j++) {
		double *r = v + (size_t)j * (size_t)d;
		for (int tries = 0; tries <= d; tries++) {
			for (int pass = 0; pass < 2; pass++)
				for (int i = 0; i < j; i++) {
					const double *q = v + (size_t)i * (size_t)d;
					double dot = cblas_ddot(d, q, 1, r, 1);
					cblas_daxpy(d, -dot, q, 1, r, 1);
				}
			double norm = cblas_dnrm2(d, r, 1);
			if (norm > 1e-10) {
				cblas_dscal(d, 1.0 / norm, r, 1);
				break;
			}
			memset(r, 0, sizeof(double) * (size_t)d);
			r[axis++ % d] = 1.0;
		}
	}
}

static int out_of_memory(pca *p, const char *what)
{
	return p->host->error(p->host, "out of memory for %s (batch_size %d, input size %d)", what,
	                      p->chunk, p->d);
}

/* Batch: shift, then sum += x - shift and sq += (x - shift)(x - shift)'. */
static int fold_batch(pca *p)
{
	int b = p->n_pending, d = p->d;
	const float *x = p->pending->data;
	float *shift = p->shift->data;
	if (p->count == 0) {
		for (int j = 0; j < d; j++) {
			double s = 0;
			for (int i = 0; i < b; i++)
				s += x[(size_t)i * (size_t)d + (size_t)j];
			shift[j] = (float)(s / b);
		}
	}
	double *y = malloc(sizeof(double) * (size_t)b * (size_t)d);
	if (!y)
		return out_of_memory(p, "a chunk of samples");
	for (int i = 0; i < b; i++)
		for (int j = 0; j < d; j++) {
			double v = (double)x[(size_t)i * (size_t)d + (size_t)j] - (double)shift[j];
			y[(size_t)i * (size_t)d + (size_t)j] = v;
			p->sum.x[j] += v;
		}
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, d, b, 1.0, y, d, 1.0, p->sq.x, d);
	free(y);
	p->count += b;
	return DD_OK;
}

/* Online: one incremental-PCA step with the pending chunk. Tracking r > k
** directions keeps what the truncation of each step throws away from
** biasing the first k (on Fashion-MNIST, k = 8: 3 degrees off the batch
** subspace with r = k, 0.3 with r = 2k). */
static int fold_online(pca *p)
{
	int b = p->n_pending, d = p->d, k = p->r;
	double n = p->count, n2 = n + b;
	int rows = n > 0 ? k + b + 1 : b, want = k < rows ? k : rows;
	const float *x = p->pending->data;
	float *basis = p->basis->data;
	double *xbar = calloc((size_t)d, sizeof(double));
	double *m = malloc(sizeof(double) * (size_t)rows * (size_t)d);
	double *g = malloc(sizeof(double) * (size_t)rows * (size_t)rows);
	double *z = calloc((size_t)k * (size_t)rows, sizeof(double));
	double *v = calloc((size_t)k * (size_t)d, sizeof(double));
	double *w = calloc((size_t)k, sizeof(double));
	if (!xbar || !m || !g || !z || !v || !w) {
		free(xbar), free(m), free(g), free(z), free(v), free(w);
		return out_of_memory(p, "an incremental PCA step");
	}
	for (int i = 0; i < b; i++)
		for (int j = 0; j < d; j++)
			xbar[j] += x[(size_t)i * (size_t)d + (size_t)j];
	for (int j = 0; j < d; j++)
		xbar[j] /= b;
	int row = 0;
	if (n > 0)
		for (int c = 0; c < k; c++, row++)
			for (int j = 0; j < d; j++)
				m[(size_t)row * (size_t)d + (size_t)j] = p->sing.x[c] * basis[(size_t)c * (size_t)d + (size_t)j];
	double m2 = 0;
	for (int i = 0; i < b; i++, row++)
		for (int j = 0; j < d; j++) {
			double e = x[(size_t)i * (size_t)d + (size_t)j] - xbar[j];
			m[(size_t)row * (size_t)d + (size_t)j] = e;
			m2 += e * e;
		}
	if (n > 0) {
		/* The old mean's offset from the chunk's, weighted so that the
		** scatter of the union is exact (Chan et al.'s pairwise update). */
		double f = sqrt(n * b / n2), shift2 = 0;
		for (int j = 0; j < d; j++) {
			double e = p->run_mean.x[j] - xbar[j];
			m[(size_t)row * (size_t)d + (size_t)j] = f * e;
			shift2 += e * e;
		}
		m2 += n * b / n2 * shift2;
	}
	cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, rows, d, 1.0, m, d, 0.0, g, rows);
	for (int i = 0; i < rows; i++)
		for (int j = 0; j < i; j++)
			g[(size_t)i * (size_t)rows + (size_t)j] = g[(size_t)j * (size_t)rows + (size_t)i];
	int rc = top_eigen(p, g, rows, want, w, z);
	if (rc == DD_OK) {
		/* Right singular vectors: v_c = M' u_c / s_c (rows past `want`, when
		** the first chunk is small, stay zero and become unit axes). */
		cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, want, d, rows, 1.0, z, rows, m, d, 0.0, v, d);
		for (int c = 0; c < k; c++) {
			double s = sqrt(fmax(w[c], 0.0));
			p->sing.x[c] = s;
			if (s > 0)
				cblas_dscal(d, 1.0 / s, v + (size_t)c * (size_t)d, 1);
		}
		orthonormalise(v, k, d);
		for (int c = 0; c < k; c++) {
			flip_sign(v + (size_t)c * (size_t)d, d);
			for (int j = 0; j < d; j++)
				basis[(size_t)c * (size_t)d + (size_t)j] = (float)v[(size_t)c * (size_t)d + (size_t)j];
		}
		memcpy(p->comp->data, basis, sizeof(float) * (size_t)p->k * (size_t)d);
		for (int j = 0; j < d; j++)
			p->run_mean.x[j] = (n * p->run_mean.x[j] + b * xbar[j]) / n2;
		p->m2 += m2;
		p->count = n2;
	}
	free(xbar), free(m), free(g), free(z), free(v), free(w);
	return rc;
}

int pca_fold(pca *p)
{
	if (p->n_pending == 0)
		return DD_OK;
	/* The first online step needs k samples to span k directions. */
	if (p->online && p->count == 0 && p->n_pending < p->k)
		return DD_OK;
	int rc = p->online ? fold_online(p) : fold_batch(p);
	if (rc == DD_OK)
		p->n_pending = 0;
	return rc;
}

static int fit_batch(pca *p)
{
	int d = p->d, k = p->k;
	double n = p->count;
	double *cov = malloc(sizeof(double) * (size_t)d * (size_t)d);
	double *mu = malloc(sizeof(double) * (size_t)d);
	double *z = malloc(sizeof(double) * (size_t)k * (size_t)d);
	double *w = malloc(sizeof(double) * (size_t)k);
	if (!cov || !mu || !z || !w) {
		free(cov), free(mu), free(z), free(w);
		return out_of_memory(p, "the covariance");
	}
	for (int i = 0; i < d; i++)
		mu[i] = p->sum.x[i] / n;
	double trace = 0;
	for (int i = 0; i < d; i++)
		for (int j = i; j < d; j++) {
			double c = p->sq.x[(size_t)i * (size_t)d + (size_t)j] / n - mu[i] * mu[j];
			cov[(size_t)i * (size_t)d + (size_t)j] = cov[(size_t)j * (size_t)d + (size_t)i] = c;
			if (i == j)
				trace += c;
		}
	int rc = top_eigen(p, cov, d, k, w, z);
	if (rc == DD_OK) {
		for (int j = 0; j < d; j++)
			p->mean->data[j] = (float)((double)p->shift->data[j] + mu[j]);
		for (int c = 0; c < k; c++) {
			double *r = z + (size_t)c * (size_t)d;
			flip_sign(r, d);
			for (int j = 0; j < d; j++)
				p->comp->data[(size_t)c * (size_t)d + (size_t)j] = (float)r[j];
			p->var->data[c] = (float)fmax(w[c], 0.0);
		}
		p->total = trace;
		p->fitted = 1;
	}
	free(cov), free(mu), free(z), free(w);
	return rc;
}

int pca_fit(pca *p)
{
	if (p->count < 2)
		return p->host->error(p->host, "pca: %g samples folded in; a fit needs at least 2 "
		                      "(observe more data before update)", p->count);
	if (!p->online)
		return fit_batch(p);
	for (int j = 0; j < p->d; j++)
		p->mean->data[j] = (float)p->run_mean.x[j];
	for (int c = 0; c < p->k; c++)
		p->var->data[c] = (float)(p->sing.x[c] * p->sing.x[c] / p->count);
	p->total = p->m2 / p->count;
	p->fitted = 1;
	return DD_OK;
}
