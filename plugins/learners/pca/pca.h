/*
** pca.h -- the state of the `pca` learner, shared by the plugin glue (pca.c)
** and the two fits (pca_fit.c: exact batch eigen-decomposition, and the
** online incremental PCA).
*/
#ifndef DD_PCA_H
#define DD_PCA_H

#include <daydream/param.h>
#include <daydream/plugin.h>

#include "feature_kit.h"

/* A double array that checkpoints as two float tensors (hi + lo). */
typedef struct pca_dvec {
	double *x;
	size_t n;
	dd_tensor *hi, *lo;
} pca_dvec;

/* Scalars of the state tensor "state", each a hi/lo pair of floats. */
enum { ST_COUNT = 0, ST_FITTED = 2, ST_PENDING = 4, ST_TOTAL = 6, ST_M2 = 8, ST_LEN = 16 };

typedef struct pca {
	dd_host *host;
	const dd_spaces *env;
	feat_shape shape;
	int d, k;                 /* input size, components */
	int r;                    /* online: directions tracked (k + oversample, <= d) */
	int online, whiten, chunk;
	double eps;               /* added to variances before whitening */
	char *png;                /* filters_png, or NULL */

	dd_paramset *ps;          /* everything a checkpoint holds */
	dd_tensor *mean;          /* d: the data's mean */
	dd_tensor *comp;          /* k x d: orthonormal rows, largest variance first */
	dd_tensor *var;           /* k: the data's variance along each row */
	dd_tensor *state;         /* ST_LEN scalars */
	dd_tensor *pending;       /* chunk x d: samples not folded in yet */

	/* Live scalars (mirrored into `state` for checkpoints). */
	double count;             /* samples folded in */
	double total;             /* total variance (trace of the covariance) */
	double m2;                /* online: sum of squared deviations from the mean */
	int fitted, n_pending;

	/* batch: sums about a fixed shift (the first chunk's mean), which keeps
	** E[xx'] - mm' from cancelling digits. sq holds the upper triangle. */
	dd_tensor *shift;         /* d */
	pca_dvec sum, sq;         /* d, d x d */
	/* online: the running mean, r orthonormal directions (comp is their
	** first k) and the singular values of the centred data along them. */
	dd_tensor *basis;         /* r x d */
	pca_dvec run_mean, sing;  /* d, r */
} pca;

/* Folds the n_pending samples into the statistics (batch) or the model
** (online), then empties the buffer. DD_ERR through host. */
int pca_fold(pca *p);
/* Batch: computes mean, comp, var and total from the statistics. Online:
** copies the running model into mean, var and total. Needs count >= 2. */
int pca_fit(pca *p);

#endif
