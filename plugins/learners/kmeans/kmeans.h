/*
** kmeans.h -- the state of the `kmeans` learner, shared by the plugin glue
** (kmeans.c) and the algorithms (kmeans_fit.c: k-means++, Lloyd, mini-batch,
** purity; kmeans_bounds.c: the bounded, threaded assignment step).
*/
#ifndef DD_KMEANS_H
#define DD_KMEANS_H

#include <daydream/param.h>
#include <daydream/plugin.h>
#include <daydream/rng.h>

#include "feature_kit.h"

/* The most parts a bounded pass is split into (the `threads` setting). */
#define KM_MAX_THREADS 64

#define KM_BLOCK 256 /* samples per sgemm of a pass: a block stays in cache */
/* Elkan's bounds, k per sample, are kept while they take at most this many
** floats (and k is at most KM_ELKAN_K: the half distances are k x k). */
#define KM_ELKAN_FLOATS ((size_t)1 << 25)
#define KM_ELKAN_K 1024

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
	/* Bounds that let a pass skip samples (Hamerly 2010, and Elkan 2003's
	** one per centre when they fit): upper >= |x - c_assign|, lmin <= the
	** distance to every other centre, lower[i k + j] <= |x_i - c_j|. They
	** are stored against how far the centres have moved since the bounds
	** were set (drift[j] for centre j, drift_max for the largest move of
	** each iteration, summed), so a centre's move loosens every bound at
	** once at no cost: the bound now is upper + drift[a], lmin - drift_max,
	** lower - drift[j]. Valid with pass_valid. */
	float *upper, *lmin;      /* cap */
	float *lower;             /* cap x k, or NULL: only Hamerly's bounds */
	double *drift;            /* k */
	double drift_max;
	float *half;              /* k x k with lower: half the distance between two centres */
	double *half_gap;         /* k: half the distance to the nearest other centre */
	float *old_centres;       /* k x d: the centres before a move */
	double *cnorm;            /* k: |c|^2 of the centres */
	double cnmax;             /* the largest */
	int threads;              /* parts of a bounded pass, run on the toolkit's threads */
	int *moved, *moved_from;  /* cap: samples that changed cluster in a pass, by row */
	int n_moved[KM_MAX_THREADS]; /* how many each thread's rows hold */
	int *cand;                /* threads x k: the centres a sample is measured against */
	double *cand_dist;        /* threads x k: its squared distances to them */

	/* What the last pass over the memory found for the current centres:
	** valid until the centres or the memory change. */
	int pass_valid;
	double *sums;             /* k x d: members' sums */
	double *sizes;            /* k: members */
	double objective;         /* sum of squared distances */
	long changed;             /* samples that changed cluster in that pass */

	float *scratch;           /* KM_BLOCK x k dot products */
} kmeans;

/* Assigns samples x (n x d) to the nearest of
** the current centres, keeping a sample's cluster in assign[] (-1: none)
** unless another centre is strictly nearer in exact arithmetic (so the
** objective can never rise through rounding). Fills sums and sizes of the
** members (when not NULL) and, with bounds (x is then the memory), sets
** the bounds afresh. Returns the number of samples whose cluster changed. */
long km_pass(kmeans *km, const float *x, int n, int *assign, int bounds, double *sums, double *sizes);

/* One assignment step after the centres moved from old_centres: as
** Lloyd's, skipping by the bounds the samples that provably stay, on
** km->threads threads with the same result for any count. Moves the
** members' sums of the samples that change cluster; returns their number. */
long km_bounded_pass(kmeans *km);

/* |x - c|^2 in double: the referee when two centres are nearly tied. */
double km_exact_dist(const float *x, const float *c, int d);

/* The |c|^2 of the centres into cnorm and cnmax. */
void km_norms(kmeans *km);

/* How much |x|^2 + |c|^2 - 2 x.c may err in float for a sample of squared
** norm xn: every bound is widened by it, so none is too tight. */
double km_margin(const kmeans *km, double xn);

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
