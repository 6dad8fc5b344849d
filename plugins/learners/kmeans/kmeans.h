/*
** kmeans.h -- the state of the `kmeans` learner, shared by the plugin glue
** (kmeans.c) and the algorithms (kmeans_fit.c: k-means++, Lloyd, mini-batch,
** purity).
*/
#ifndef DD_KMEANS_H
#define DD_KMEANS_H

#include <daydream/param.h>
#include <daydream/plugin.h>
#include <daydream/rng.h>

#include "feature_kit.h"

#define KM_BLOCK 256 /* samples per sgemm of a pass: a block stays in cache */

/* Scalars of the "state" tensor (doubles as hi/lo float pairs, the rng as
** four 16-bit floats per word). */
enum {
	KS_SEEN = 0, KS_STORED = 2, KS_INIT = 4, KS_PENDING = 6, KS_CONVERGED = 8,
	KS_ITERS = 10, KS_RELOCATED = 12, KS_RNG = 14, KS_LEN = 30
};

typedef struct kmeans {
	dd_host *host;
	const dd_spaces *env;
	feat_shape shape;
	int d, k;
	int minibatch;            /* 0: Lloyd on the memory; 1: mini-batch steps on the stream */
	int init_first;           /* init = first: the first k samples of the memory */
	int iterations;           /* Lloyd iterations per update(), at most */
	int chunk;                /* mini-batch size */
	int init_need;            /* mini-batch: samples in memory before the centres are placed */
	int cap;                  /* samples the memory holds */
	int code;                 /* 0 one-hot, 1 squared distances, 2 triangle */
	int label_index;          /* info stat holding the class, or -1 */
	char *png;                /* filters_png, or NULL */

	dd_paramset *ps;          /* model: centres, counts, state, pending */
	dd_tensor *centres;       /* k x d */
	dd_tensor *counts_hi, *counts_lo, *state, *pending;
	double *counts;           /* mini-batch: samples each centre has absorbed */
	dd_rng rng;
	double seen;              /* samples observed */
	int stored, initialised, n_pending, converged;
	double iters_done;        /* Lloyd iterations in all (the step of their metric) */
	double relocated;         /* empty clusters re-seeded in all */

	/* The memory: a uniform reservoir sample of the stream (Vitter's R). */
	float *mem;               /* cap x d */
	float *labels;            /* cap: the class, or -1 */
	double *xnorm;            /* cap: squared norms (recomputed on load) */
	int *assign;              /* cap: cluster of each sample, -1 if unknown */
	/* Hamerly's bounds (valid after a full pass over the memory, kept
	** through Lloyd's iterations): upper >= |x - c_assign|, lower <= the
	** distance to every other centre. A sample whose upper bound is below
	** both its lower bound and half the gap from its centre to the next
	** cannot change cluster and costs nothing in that iteration. */
	float *upper, *lower;     /* cap; valid with pass_valid */
	float *old_centres;       /* k x d: the centres before a move */
	double *delta, *half_gap; /* k: how far each centre moved; half the gap to its nearest */
	float *gather;            /* KM_BLOCK x d: the samples a bounded pass must look at */
	int *gather_idx;          /* KM_BLOCK */

	/* What the last pass over the memory found for the current centres:
	** valid until the centres or the memory change. */
	int pass_valid;
	double *sums;             /* k x d: members' sums */
	double *sizes;            /* k: members */
	double objective;         /* sum of squared distances */
	long changed;             /* samples that changed cluster in that pass */

	float *scratch;           /* KM_BLOCK x k dot products */
	float *cnorm;             /* k */
} kmeans;

/* Assigns samples x (n x d, squared norms xn or NULL) to the nearest of
** the current centres, keeping a sample's cluster in assign[] (-1: none)
** unless another centre is strictly nearer in exact arithmetic (so the
** objective can never rise through rounding). Fills sums and sizes of the
** members (when not NULL) and Hamerly's bounds upper/lower (when not NULL;
** needs xn). Returns the number of samples whose cluster changed. */
long km_pass(kmeans *km, const float *x, const double *xn, int n, int *assign, float *upper,
             float *lower, double *sums, double *sizes);

/* Places the k centres from the memory: k-means++ (greedy, 2 + ln k trials
** per centre, as scikit-learn) or the first k samples. Needs stored >= k. */
int km_init(kmeans *km);

/* Lloyd on the memory: up to `iterations` (move centres to their members'
** means, then reassign, skipping by Hamerly's bounds the samples that
** provably stay), stopping once no sample changes cluster. Returns the
** iterations run. */
int km_lloyd(kmeans *km);

/* Makes sums/sizes/objective/assign current for the centres (one pass when
** they are not). */
void km_refresh(kmeans *km);

/* One mini-batch step (Sculley 2010) with the n samples of x: each centre
** moves toward its new members with step 1 / (samples it has absorbed). */
int km_minibatch_step(kmeans *km, const float *x, int n);

/* Purity of the memory's clusters (the share of samples in their cluster's
** majority class) and the same for a uniform random assignment (a seeded
** baseline). Returns 0 when no stored sample has a label. */
int km_purity(kmeans *km, double *purity, double *random_purity);

#endif
