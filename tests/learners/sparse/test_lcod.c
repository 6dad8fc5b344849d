/*
** test_lcod.c -- the LCoD op of the lista plugin (plugins/learners/lista/
** lcod.c) alone: its gradients with respect to b = W_e y, S and theta
** against central finite differences (its forward pass is checked against
** coordinate descent in test_lista.c). Fixed seed, small sizes; the inputs
** are kept where no step of the forward pass is near a kink (shrinkage at
** +-theta) or a tie of its choice of code, so a difference is a derivative.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../nn/gradcheck.h"
#include "lcod.h"

enum { ROWS = 3, M = 8, STEPS = 6 };

static dd_tensor *lcod_forward(dd_graph *g, dd_tensor **in, void *ctx)
{
	return lcod_unroll(g, in[0], in[1], in[2], *(int *)ctx);
}

/* The smallest distance, over all steps of all rows, of a B_j to its
** kink +-theta_j and between the largest two candidate moves: how far the
** inputs are from a point where the op is not differentiable. */
static double margin(const float *b, const float *S, const float *theta, int steps)
{
	double worst = INFINITY;
	for (int r = 0; r < ROWS; r++) {
		float B[M], Z[M] = {0};
		memcpy(B, b + r * M, sizeof B);
		for (int t = 0; t <= steps; t++) {
			double first = -1, second = -1;
			int k = 0;
			float zk = 0;
			for (int j = 0; j < M; j++) {
				worst = fmin(worst, fabs(fabs(B[j]) - theta[j]));
				float zj = fabsf(B[j]) > theta[j] ? B[j] - copysignf(theta[j], B[j]) : 0.0f;
				double d = fabs(zj - Z[j]);
				if (d > first) {
					second = first;
					first = d;
					k = j;
					zk = zj;
				} else if (d > second) {
					second = d;
				}
			}
			if (t == steps)
				break;
			worst = fmin(worst, first - second);
			for (int j = 0; j < M; j++)
				B[j] += (zk - Z[k]) * S[k * M + j];
			Z[k] = zk;
		}
	}
	return worst;
}

/* Gradients of sum r . z with respect to b, S and theta, and their
** accumulation into what the gradients held before. */
static void gradients_match_differences(void **state)
{
	(void)state;
	int bd[2] = {ROWS, M}, sd[2] = {M, M}, td[1] = {M};
	dd_tensor *b = dd_tensor_new(2, bd, 1), *S = dd_tensor_new(2, sd, 1),
	          *theta = dd_tensor_new(1, td, 1);
	dd_rng rng;
	dd_rng_seed(&rng, 7, 0);
	double room = 0;
	int tries = 0;
	/* random inputs until every step is at least 0.02 from a kink or tie */
	while (room < 0.02 && tries++ < 1000) {
		gc_fill(b, &rng, -2.0f, 2.0f, NULL, 0, 0);
		gc_fill(theta, &rng, 0.1f, 0.5f, NULL, 0, 0);
		gc_fill(S, &rng, -0.3f, 0.3f, NULL, 0, 0);
		room = margin(b->data, S->data, theta->data, STEPS);
	}
	printf("# inputs %.3f from a kink or tie after %d draws\n", room, tries);
	assert_true(room >= 0.02);
	dd_tensor *in[3] = {b, S, theta};
	int steps = STEPS;
	assert_int_equal(gradcheck("lcod", lcod_forward, in, 3, &steps, 1e-3, 1e-2), 0);
	dd_tensor_free(b);
	dd_tensor_free(S);
	dd_tensor_free(theta);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(gradients_match_differences),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
