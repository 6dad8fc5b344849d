/*
** test_threads.c -- the elementwise passes the toolkit cuts into ranges for
** its threads (ReLU forward and backward, Adam, the zeroing of gradients)
** give, on 2 threads, the bits they give on 1: a range bound off by one
** float, or two ranges that overlap, changes some element. The tensors are
** large enough to be cut (more than twice the least range) and of a size
** that is not a multiple of 16, so the last range is ragged.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "daydream/nn.h"

enum { N = 3 * 65536 + 21 };

/* Two steps of: y = relu(x * w) (w a parameter, so its gradient passes
** through ReLU's backward), loss = sum of y * c, backward, Adam; writes the
** parameter after them, the last ReLU output and x's last gradient, and
** returns how many weights Adam moved. */
static int run(int threads, float *w_after, float *y_out, float *dx_out)
{
	dd_nn_set_threads(threads);
	dd_rng rng;
	dd_rng_seed(&rng, 7, 0);
	static float x[N], c[N];
	for (int i = 0; i < N; i++) {
		x[i] = dd_rng_normal(&rng);
		c[i] = dd_rng_normal(&rng);
	}
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *w = dd_paramset_add(ps, "w", 1, (int[]){N});
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	for (int i = 0; i < N; i++)
		w->data[i] = dd_rng_normal(&rng);
	dd_optim_config cfg = dd_optim_defaults(DD_OPTIM_ADAM);
	dd_optim *opt = dd_optim_new(ps, &cfg);
	dd_graph *g = dd_graph_new((size_t)64 << 20);
	assert_non_null(opt);
	assert_non_null(g);
	for (int step = 0; step < 2; step++) { /* the second sees Adam's moments */
		dd_graph_reset(g);
		dd_paramset_zero_grad(ps);
		dd_tensor *in = dd_graph_input(g, 1, (int[]){N}, x, 1);
		dd_tensor *y = dd_relu(g, dd_mul(g, in, w));
		dd_tensor *k = dd_graph_input(g, 1, (int[]){N}, c, 0);
		dd_tensor *loss = dd_sum_all(g, dd_mul(g, y, k));
		assert_non_null(loss);
		assert_int_equal(dd_graph_backward(g, loss), DD_OK);
		assert_int_equal(dd_optim_step(opt), DD_OK);
		memcpy(y_out, y->data, sizeof(float) * N);
		memcpy(dx_out, in->grad, sizeof(float) * N);
	}
	memcpy(w_after, w->data, sizeof(float) * N);
	dd_rng_seed(&rng, 7, 0); /* the initial w again, to count the moved */
	for (int i = 0; i < 2 * N; i++)
		(void)dd_rng_normal(&rng);
	int moved = 0;
	for (int i = 0; i < N; i++)
		moved += w_after[i] != dd_rng_normal(&rng);
	dd_graph_free(g);
	dd_optim_free(opt);
	dd_paramset_free(ps);
	dd_nn_set_threads(1);
	return moved;
}

static void test_ranges_give_the_bits_of_one_thread(void **state)
{
	(void)state;
	float *r[2][3];
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 3; i++) {
			r[t][i] = malloc(sizeof(float) * N);
			assert_non_null(r[t][i]);
		}
	int moved = run(1, r[0][0], r[0][1], r[0][2]);
	run(2, r[1][0], r[1][1], r[1][2]);
	for (int i = 0; i < 3; i++)
		assert_memory_equal(r[0][i], r[1][i], sizeof(float) * N);
	/* the steps did something: ReLU zeroed about half, Adam moved the
	** weights of the other half (a zero gradient twice leaves one still) */
	int zeros = 0;
	for (int i = 0; i < N; i++)
		zeros += r[0][1][i] == 0.0f;
	assert_true(zeros > N / 3 && zeros < 2 * N / 3);
	assert_true(moved > N / 3);
	for (int t = 0; t < 2; t++)
		for (int i = 0; i < 3; i++)
			free(r[t][i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_give_the_bits_of_one_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
