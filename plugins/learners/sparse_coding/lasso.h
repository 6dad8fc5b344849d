/*
** lasso.h -- sparse inference shared by the sparse_coding, lista and psd
** learners: codes z minimising, for each input y,
**     E(y, z) = ||y - W^T z||^2 + lambda ||z||_1  [+ alpha ||z - p||^2]
** by ISTA or FISTA, with the step 1/L from the dictionary's largest
** singular value (power iteration), or by coordinate descent on the Gram
** matrix with an active set (LASSO_CD). W holds one atom per row (m x n).
**
** The optional prior p (PSD's encoder prediction) adds alpha ||z - p||^2.
** scikit-learn's sparse_encode minimises 0.5 ||y - zD||^2 + a ||z||_1, so
** its `a` is lambda / 2 here.
*/
#ifndef DD_SPARSE_LASSO_H
#define DD_SPARSE_LASSO_H

#include <stddef.h>
#include <stdint.h>

typedef enum lasso_method { LASSO_ISTA = 0, LASSO_FISTA = 1, LASSO_CD = 2 } lasso_method;

/* Rows solved together: the block's codes, momentum and gradient stay in
** cache, and each block stops as soon as it has converged. */
#define LASSO_BLOCK 256

/* A solver for one dictionary: its Gram matrix, Lipschitz constant and the
** per-block workspace. Everything is owned by the struct (lasso_free). */
typedef struct lasso {
	int n, m;          /* input size, atoms */
	const float *W;    /* m x n, borrowed: must outlive the solver's use */
	float *G;          /* m x m: W W^T */
	float sigma2;      /* largest eigenvalue of W W^T (with a 1 % margin) */
	double *eig;       /* m: its eigenvector */
	float lambda;
	float *b, *v, *prev, *grad;  /* LASSO_BLOCK x m each */
} lasso;

/* Largest eigenvalue of the m x m Gram matrix G = W W^T (sigma_max(W)^2)
** by `iters` power iterations from x (m doubles, not all zero), which is
** left holding the eigenvector. */
float lasso_top_eigen(const float *G, int m, int iters, double *x);

/* Prepares a solver for W (m x n); computes G and sigma2. 0, or -1 when
** memory runs out. */
int lasso_init(lasso *s, const float *W, int m, int n, float lambda);
void lasso_free(lasso *s);

/* Recomputes G and sigma2 after W changed (200 power iterations). */
void lasso_refresh(lasso *s);

typedef struct lasso_opts {
	lasso_method method;
	int max_iter;      /* iterations (shrinkage steps) at most; LASSO_CD: sweeps per row */
	float tol;         /* stop a block when max |z_k - z_{k-1}| < tol (0: never);
	                   ** LASSO_CD: stop a row when a sweep over all atoms moves no
	                   ** code by more than tol (0: only at an exact fixed point) */
	const float *prior;/* batch x m predictions p, or NULL */
	float alpha;       /* weight of ||z - p||^2 (with prior) */
	int warm;          /* 1: start from the given z; 0: from zero */
	/* When set, called after each iteration k (1, 2, ...) of each block with
	** the block's codes: rows [row0, row0 + rows) of the batch. ISTA and
	** FISTA only: coordinate descent works row by row, not in lock-step. */
	void (*each)(void *ctx, int k, int row0, int rows, const float *Z);
	void *ctx;
	int threads;       /* LASSO_CD: threads sharing the rows (0: OpenBLAS's count);
	                   ** the codes do not depend on it */
} lasso_opts;

/* Solves `batch` rows: Y is batch x n, Z batch x m (in: start when warm,
** out: codes). Returns the largest number of iterations a block (LASSO_CD:
** sweeps a row) used, or -1 when LASSO_CD's workspace cannot be allocated. */
int lasso_solve(lasso *s, const float *Y, int batch, float *Z, const lasso_opts *o);

/* E(y, z) summed over the batch, in double (the prior term excluded). */
double lasso_energy(const float *W, int m, int n, float lambda, const float *Y,
                    const float *Z, int batch);

/* Sum over the batch of ||y - W^T z||^2, in double. */
double lasso_sq_error(const float *W, int m, int n, const float *Y, const float *Z,
                      int batch);

#endif
