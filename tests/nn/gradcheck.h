/*
** gradcheck.h -- central finite differences against a graph's backward.
**
** For a forward function y = f(inputs), the checker draws fixed random
** weights r and compares, for every element x_j of every input that wants a
** gradient, the analytic d(sum r.y)/dx_j from dd_graph_backward_seed with
**   (L(x_j + eps) - L(x_j - eps)) / (2 eps),   L = sum r.y accumulated in double.
** An entry fails when |a - n| > rtol * max(|a|, |n|, floor) + noise, where
** floor is 1e-2 of the largest numeric gradient of that input and noise the
** float rounding of L divided by the step (so entries that are zero up to
** rounding are not judged by their relative error alone).
**
** The input gradients are pre-filled with a constant before backward and the
** constant is subtracted after: an op that overwrites instead of adding into
** its gradients fails. Inputs must be kept away from kinks (ReLU at 0, |x|,
** shrinkage at +-theta) by the caller: a difference across a kink is not a
** derivative.
*/
#ifndef DD_TEST_GRADCHECK_H
#define DD_TEST_GRADCHECK_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/graph.h"
#include "daydream/rng.h"

typedef dd_tensor *(*gc_forward)(dd_graph *g, dd_tensor **in, void *ctx);

#define GC_PREFILL 0.25f

static double gc_project(const dd_tensor *y, const float *r)
{
	double s = 0.0;
	for (size_t i = 0; i < y->size; i++)
		s += (double)r[i] * y->data[i];
	return s;
}

/* Returns the number of entries that fail (printing the first few), or -1
** when the forward pass itself fails. */
static int gradcheck(const char *label, gc_forward f, dd_tensor **in, int n_in, void *ctx,
                     double eps, double rtol)
{
	dd_graph *g = dd_graph_new((size_t)64 << 20);
	if (!g)
		return -1;
	dd_tensor *y = f(g, in, ctx);
	if (!y) {
		fprintf(stderr, "%s: forward failed: %s\n", label, dd_graph_error(g));
		dd_graph_free(g);
		return -1;
	}
	size_t ny = y->size;
	double mag = 0.0; /* sum |r y|: float rounding of L is about 2^-24 of it per term */
	float *r = malloc(ny * sizeof *r);
	dd_rng rng;
	dd_rng_seed(&rng, 1234, 99);
	for (size_t i = 0; i < ny; i++)
		r[i] = dd_rng_uniform(&rng) * 2.0f - 1.0f;
	for (size_t i = 0; i < ny; i++)
		mag += fabs((double)r[i] * y->data[i]);

	for (int k = 0; k < n_in; k++)
		if (in[k]->grad)
			for (size_t j = 0; j < in[k]->size; j++)
				in[k]->grad[j] = GC_PREFILL;
	if (dd_graph_backward_seed(g, y, r) != DD_OK) {
		fprintf(stderr, "%s: backward failed: %s\n", label, dd_graph_error(g));
		free(r);
		dd_graph_free(g);
		return -1;
	}
	int bad = 0;
	for (int k = 0; k < n_in; k++) {
		dd_tensor *x = in[k];
		if (!x->grad)
			continue;
		size_t n = x->size;
		double *ana = malloc(n * sizeof *ana), *num = malloc(n * sizeof *num);
		for (size_t j = 0; j < n; j++)
			ana[j] = (double)x->grad[j] - GC_PREFILL;
		double gmax = 0.0;
		for (size_t j = 0; j < n; j++) {
			float x0 = x->data[j];
			x->data[j] = (float)(x0 + eps);
			dd_graph_reset(g);
			double lp = gc_project(f(g, in, ctx), r);
			x->data[j] = (float)(x0 - eps);
			dd_graph_reset(g);
			double lm = gc_project(f(g, in, ctx), r);
			x->data[j] = x0;
			/* the actual step in float, not the nominal one */
			double h = (double)(float)(x0 + eps) - (double)(float)(x0 - eps);
			num[j] = (lp - lm) / h;
			if (fabs(num[j]) > gmax)
				gmax = fabs(num[j]);
		}
		double noise = 16.0 * 0x1p-24 * (mag + 1e-30) / eps;
		double floor = 1e-2 * gmax;
		for (size_t j = 0; j < n; j++) {
			double a = ana[j], nu = num[j];
			double scale = fmax(fmax(fabs(a), fabs(nu)), floor);
			if (fabs(a - nu) > rtol * scale + noise) {
				if (bad < 5)
					fprintf(stderr, "%s: input %d [%zu]: backward %.6g, numeric %.6g\n",
					        label, k, j, a, nu);
				bad++;
			}
		}
		free(ana);
		free(num);
	}
	free(r);
	dd_graph_free(g);
	return bad;
}

/* Fills t with uniform values in [lo, hi] kept at least gap away from each
** of the n kinks. */
static void gc_fill(dd_tensor *t, dd_rng *rng, float lo, float hi, const float *kinks,
                    int n, float gap)
{
	for (size_t i = 0; i < t->size; i++) {
		float v;
		int ok;
		do {
			v = lo + (hi - lo) * dd_rng_uniform(rng);
			ok = 1;
			for (int k = 0; k < n; k++)
				if (fabsf(v - kinks[k]) < gap)
					ok = 0;
		} while (!ok);
		t->data[i] = v;
	}
}

#endif
