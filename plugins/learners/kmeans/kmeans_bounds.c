/*
** kmeans_bounds.c -- the bounded assignment step of Lloyd's iterations:
** exactly Lloyd's result, but a sample is looked at only when its bounds
** cannot prove it stays (Hamerly's test first, in O(1); then Elkan's bound
** per centre, so only the distances that can matter are computed). The
** samples are split by rows into `threads` parts, run on the toolkit's
** threads (dd_nn_parallel); the sums of the samples that changed cluster
** are then moved in row order, the parts splitting the columns, so the
** result does not depend on the thread count.
*/
#include <math.h>
#include <string.h>

#include <daydream/nn.h>

#include "kmeans.h"

/* Up to this many centres, a sample that must be read is measured against
** all of them (its row costs more to fetch than to compare). */
#define KM_ALL_K 16

/* fmin and fmax are library calls here (NaN rules); bounds are never NaN. */
static double lesser(double a, double b)
{
	return a < b ? a : b;
}

static double greater(double a, double b)
{
	return a > b ? a : b;
}

/* Bounds are floats stored with the drift added or taken away; the
** margin covers the rounding of that sum. */
static float store_upper(double u, double drift)
{
	return (float)(u - drift + 1e-6 * (fabs(u) + drift));
}

static float store_lower(double l, double drift)
{
	return (float)(l + drift - 1e-6 * (fabs(l) + drift));
}

static double upper_of(double d2, double e)
{
	return sqrt(greater(d2, 0.0) + e);
}

static double lower_of(double d2, double e)
{
	return sqrt(greater(d2 - e, 0.0));
}

/* Dot products of x with four centres at once (x is read once for
** them), in W lanes of partial sums each (their float error is what
** km_margin allows for). Built three times, chosen at run time: for
** AVX-512 (16 lanes) and AVX2 (8), both with FMA (the products contracted:
** see CMakeLists.txt), and for any x86-64 (8 lanes of SSE pairs). Macros,
** because a function passing such a vector by value would change its ABI
** with the instruction set. */
typedef float v8sf __attribute__((vector_size(32)));
typedef float v16sf __attribute__((vector_size(64)));

#define LOADV(v, p) memcpy(&(v), (p), sizeof(v))
static float lanes(const float *v, int w)
{
	float s = 0;
	for (int i = 0; i < w; i++)
		s += v[i];
	return s;
}

#define DOT_KERNELS(isa, attr, vec)                                                           \
	attr static void dot4_##isa(const float *x, const float *const c[4], int d, float out[4]) \
	{                                                                                         \
		enum { W = sizeof(vec) / sizeof(float) };                                             \
		vec s0 = {0}, s1 = {0}, s2 = {0}, s3 = {0}, xv, c0, c1, c2, c3;                       \
		int t = 0;                                                                            \
		for (; t + W <= d; t += W) {                                                          \
			LOADV(xv, x + t);                                                                 \
			LOADV(c0, c[0] + t);                                                              \
			LOADV(c1, c[1] + t);                                                              \
			LOADV(c2, c[2] + t);                                                              \
			LOADV(c3, c[3] + t);                                                              \
			s0 += xv * c0;                                                                    \
			s1 += xv * c1;                                                                    \
			s2 += xv * c2;                                                                    \
			s3 += xv * c3;                                                                    \
		}                                                                                     \
		float l[4][W];                                                                        \
		memcpy(l[0], &s0, sizeof s0), memcpy(l[1], &s1, sizeof s1);                           \
		memcpy(l[2], &s2, sizeof s2), memcpy(l[3], &s3, sizeof s3);                           \
		for (int r = 0; r < 4; r++)                                                           \
			out[r] = lanes(l[r], W);                                                          \
		for (; t < d; t++)                                                                    \
			for (int r = 0; r < 4; r++)                                                       \
				out[r] += x[t] * c[r][t];                                                     \
	}                                                                                         \
	attr static float dot1_##isa(const float *x, const float *c, int d)                       \
	{                                                                                         \
		enum { W = sizeof(vec) / sizeof(float) };                                             \
		vec s0 = {0}, s1 = {0}, xv, cv, xw, cw;                                               \
		int t = 0;                                                                            \
		for (; t + 2 * W <= d; t += 2 * W) { /* two sums: the adds do not wait in line */     \
			LOADV(xv, x + t);                                                                 \
			LOADV(cv, c + t);                                                                 \
			LOADV(xw, x + t + W);                                                             \
			LOADV(cw, c + t + W);                                                             \
			s0 += xv * cv;                                                                    \
			s1 += xw * cw;                                                                    \
		}                                                                                     \
		for (; t + W <= d; t += W) {                                                          \
			LOADV(xv, x + t);                                                                 \
			LOADV(cv, c + t);                                                                 \
			s0 += xv * cv;                                                                    \
		}                                                                                     \
		s0 += s1;                                                                             \
		float l[W];                                                                           \
		memcpy(l, &s0, sizeof s0);                                                            \
		float out = lanes(l, W);                                                              \
		for (; t < d; t++)                                                                    \
			out += x[t] * c[t];                                                               \
		return out;                                                                           \
	}

DOT_KERNELS(avx512, __attribute__((target("avx512f,fma"))), v16sf)
DOT_KERNELS(fma, __attribute__((target("avx2,fma"))), v8sf)
DOT_KERNELS(any, , v8sf)

/* 2: AVX-512, 1: AVX2 with FMA, 0: neither. */
static int isa(void)
{
	if (__builtin_cpu_supports("avx512f"))
		return 2;
	return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

static void dot4(const float *x, const float *const c[4], int d, float out[4])
{
	switch (isa()) {
	case 2: dot4_avx512(x, c, d, out); break;
	case 1: dot4_fma(x, c, d, out); break;
	default: dot4_any(x, c, d, out);
	}
}

static float dot1(const float *x, const float *c, int d)
{
	switch (isa()) {
	case 2: return dot1_avx512(x, c, d);
	case 1: return dot1_fma(x, c, d);
	default: return dot1_any(x, c, d);
	}
}

static double sqdist(const kmeans *km, const float *x, double xn, int j)
{
	return xn + km->cnorm[j] - 2.0 * (double)dot1(x, km->centres->data + (size_t)j * (size_t)km->d, km->d);
}

/* Squared distances of x (squared norm xn) to the m centres js[0..m). */
static void sqdists(const kmeans *km, const float *x, double xn, const int *js, int m, double *out)
{
	for (int q = 0; q < m; q += 4) {
		const float *c[4];
		float g[4];
		for (int r = 0; r < 4; r++)
			c[r] = km->centres->data + (size_t)js[q + r < m ? q + r : m - 1] * (size_t)km->d;
		dot4(x, c, km->d, g);
		for (int r = 0; r < 4 && q + r < m; r++)
			out[q + r] = xn + km->cnorm[js[q + r]] - 2.0 * (double)g[r];
	}
}

/* Whether centre j (squared distance dj) takes the sample from centre a
** (da): when clearly nearer in float, or nearer in exact arithmetic on a
** near tie. */
static int takes(const kmeans *km, const float *x, double dj, double da, double e, int j, int a)
{
	if (dj < da - 2 * e)
		return 1;
	if (dj > da + 2 * e)
		return 0;
	const float *c = km->centres->data;
	size_t d = (size_t)km->d;
	return km_exact_dist(x, c + (size_t)j * d, km->d) < km_exact_dist(x, c + (size_t)a * d, km->d);
}

/* Whether sample i must be read: its bounds do not prove it stays
** (Hamerly's test, then Elkan's with the loose upper bound). */
static int in_doubt(const kmeans *km, int i)
{
	int k = km->k, a = km->assign[i];
	const double *drift = km->drift;
	double u = km->upper[i] + drift[a];
	if (u <= greater(km->half_gap[a], km->lmin[i] - km->drift_max))
		return 0;
	if (!km->lower)
		return 1;
	const float *lb = km->lower + (size_t)i * (size_t)k, *half = km->half + (size_t)a * (size_t)k;
	int n = 0; /* counted without an early exit, so the loop vectorises */
	for (int j = 0; j < k; j++)
		n += u > greater(lb[j] - drift[j], half[j]);
	return n > (u > greater(lb[a] - drift[a], half[a]));
}

/* Sample i, in doubt: reassigned if a centre is nearer, its bounds
** renewed (cand and dist: k each, scratch). */
static void settle(kmeans *km, int i, int *cand, double *dist)
{
	int k = km->k, a = km->assign[i];
	const double *drift = km->drift;
	double u, lm = km->lmin[i] - km->drift_max;
	float *lb = km->lower ? km->lower + (size_t)i * (size_t)k : NULL;
	const float *half = lb ? km->half + (size_t)a * (size_t)k : NULL;
	const float *x = km->mem + (size_t)i * (size_t)km->d;
	double xn = km->xnorm[i], e = km_margin(km, xn);
	double da = sqdist(km, x, xn, a);
	u = upper_of(da, e);
	if (lb)
		lb[a] = store_lower(lower_of(da, e), drift[a]);
	if (u <= greater(km->half_gap[a], lm)) {
		km->upper[i] = store_upper(u, drift[a]);
		return;
	}
	/* The sample is read now, so with few centres all its distances are
	** computed (all its bounds made tight); with many, those Elkan's
	** bounds cannot rule out. */
	int all = !lb || k <= KM_ALL_K, m = 0;
	for (int j = 0; j < k; j++) {
		if (j == a)
			continue;
		if (!all) {
			/* |x - c_j| >= |c_a - c_j| - |x - c_a| >= 2 half - u: a bound
			** for free, which keeps lmin tight. */
			double l = lb[j] - drift[j];
			if (u <= l)
				continue;
			if (u <= half[j]) {
				if (2 * half[j] - u > l)
					lb[j] = store_lower(2 * half[j] - u, drift[j]);
				continue;
			}
		}
		cand[m++] = j;
	}
	sqdists(km, x, xn, cand, m, dist);
	/* With every distance, the two smallest lower bounds give the new
	** lmin whichever centre wins. */
	double l1 = lower_of(da, e), l2 = INFINITY;
	int l1_at = a;
	for (int q = 0; q < m; q++) {
		int j = cand[q];
		double lj = lower_of(dist[q], e);
		if (lb)
			lb[j] = store_lower(lj, drift[j]);
		if (lj < l1)
			l2 = l1, l1 = lj, l1_at = j;
		else if (lj < l2)
			l2 = lj;
		if (takes(km, x, dist[q], da, e, j, a)) {
			a = j;
			da = dist[q];
			u = upper_of(da, e);
		}
	}
	if (!all) {
		lm = INFINITY;
		for (int j = 0; j < k; j++)
			if (j != a)
				lm = lesser(lm, lb[j] - drift[j]);
	} else {
		lm = l1_at == a ? l2 : l1;
	}
	km->assign[i] = a;
	km->upper[i] = store_upper(u, drift[a]);
	km->lmin[i] = store_lower(lm, km->drift_max);
}

#define KM_STRETCH 256

/* Asks for row i of the memory ahead of its use. */
static void fetch_row(const kmeans *km, int i)
{
	const char *p = (const char *)(km->mem + (size_t)i * (size_t)km->d);
	size_t bytes = sizeof(float) * (size_t)km->d;
	for (size_t o = 0; o < bytes; o += 64)
		__builtin_prefetch(p + o);
}

/* The rows of thread t of nt: a fixed split, so a row's place in the
** list of moves is its row order whatever nt is. */
static int row_start(int n, int t, int nt)
{
	return (int)((long long)n * t / nt);
}

static void visit_rows(void *arg, int t, int nt)
{
	kmeans *km = arg;
	int r0 = row_start(km->stored, t, nt), r1 = row_start(km->stored, t + 1, nt), m = 0;
	int *cand = km->cand + (size_t)t * (size_t)km->k;
	double *dist = km->cand_dist + (size_t)t * (size_t)km->k;
	/* The samples in doubt of a stretch are listed first, so the next
	** one's row can be fetched while this one is measured. */
	int doubt[KM_STRETCH];
	for (int s0 = r0; s0 < r1; s0 += KM_STRETCH) {
		int n = 0, s1 = s0 + KM_STRETCH < r1 ? s0 + KM_STRETCH : r1;
		for (int i = s0; i < s1; i++)
			if (in_doubt(km, i))
				doubt[n++] = i;
		for (int q = 0; q < n; q++) {
			int i = doubt[q], from = km->assign[i];
			if (q + 1 < n)
				fetch_row(km, doubt[q + 1]);
			settle(km, i, cand, dist);
			if (from != km->assign[i]) {
				km->moved[r0 + m] = i;
				km->moved_from[r0 + m] = from;
				m++;
			}
		}
	}
	km->n_moved[t] = m;
}

/* Columns [c0, c1) of the members' sums follow the moves, in row order. */
static void move_sums(void *arg, int t, int nt)
{
	kmeans *km = arg;
	int d = km->d, c0 = row_start(d, t, nt), c1 = row_start(d, t + 1, nt);
	int parts = km->threads;
	for (int p = 0; p < parts; p++) {
		int r0 = row_start(km->stored, p, parts);
		for (int m = 0; m < km->n_moved[p]; m++) {
			int i = km->moved[r0 + m];
			const float *x = km->mem + (size_t)i * (size_t)d;
			double *sf = km->sums + (size_t)km->moved_from[r0 + m] * (size_t)d;
			double *st = km->sums + (size_t)km->assign[i] * (size_t)d;
			for (int c = c0; c < c1; c++) {
				sf[c] -= x[c];
				st[c] += x[c];
			}
		}
	}
}

/* How far each centre moved (added to its drift), and the half distances
** between centres (lower bounds: from their dot products, less the
** rounding margin). The dot products are this file's own: an OpenBLAS call
** here would leave its threads spinning through the pass that follows. */
static void centre_geometry(kmeans *km)
{
	int d = km->d, k = km->k;
	const float *c = km->centres->data;
	double largest = 0;
	for (int j = 0; j < k; j++) {
		double delta = sqrt(km_exact_dist(c + (size_t)j * (size_t)d, km->old_centres + (size_t)j * (size_t)d, d));
		km->drift[j] += delta;
		largest = greater(largest, delta);
		km->half_gap[j] = INFINITY;
	}
	km->drift_max += largest;
	km_norms(km);
	double e = km_margin(km, km->cnmax);
	for (int a = 0; a < k; a++) {
		if (km->half)
			km->half[(size_t)a * (size_t)k + (size_t)a] = 0;
		for (int j0 = a + 1; j0 < k; j0 += 4) {
			const float *cj[4];
			float g[4];
			for (int r = 0; r < 4; r++)
				cj[r] = c + (size_t)(j0 + r < k ? j0 + r : k - 1) * (size_t)d;
			dot4(c + (size_t)a * (size_t)d, cj, d, g);
			for (int r = 0; r < 4 && j0 + r < k; r++) {
				int j = j0 + r;
				float h = (float)(0.5 * lower_of(km->cnorm[a] + km->cnorm[j] - 2.0 * g[r], e) * (1 - 1e-6));
				if (km->half) {
					km->half[(size_t)a * (size_t)k + (size_t)j] = h;
					km->half[(size_t)j * (size_t)k + (size_t)a] = h;
				}
				km->half_gap[a] = lesser(km->half_gap[a], h);
				km->half_gap[j] = lesser(km->half_gap[j], h);
			}
		}
	}
}

long km_bounded_pass(kmeans *km)
{
	centre_geometry(km);
	dd_nn_parallel(visit_rows, km, km->threads);
	dd_nn_parallel(move_sums, km, km->threads);
	long changed = 0;
	int parts = km->threads;
	for (int p = 0; p < parts; p++) {
		int r0 = row_start(km->stored, p, parts);
		for (int m = 0; m < km->n_moved[p]; m++) {
			km->sizes[km->moved_from[r0 + m]] -= 1;
			km->sizes[km->assign[km->moved[r0 + m]]] += 1;
		}
		changed += km->n_moved[p];
	}
	return changed;
}
