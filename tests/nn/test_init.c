/*
** test_init.c -- initialisers: same seed, same bits; the right scale; and
** orthogonal matrices that are orthogonal.
*/
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "daydream/nn.h"

static dd_paramset *make(uint64_t seed)
{
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *a = dd_paramset_add(ps, "a", 2, (int[]){64, 33});
	dd_tensor *b = dd_paramset_add(ps, "b", 4, (int[]){8, 3, 5, 5});
	dd_tensor *c = dd_paramset_add(ps, "c", 2, (int[]){24, 24});
	dd_tensor *d = dd_paramset_add(ps, "d", 1, (int[]){17});
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	assert_int_equal(dd_init_xavier(a, &rng, 1.0f), DD_OK);
	assert_int_equal(dd_init_he(b, &rng), DD_OK);
	assert_int_equal(dd_init_orthogonal(c, &rng, 1.0f), DD_OK);
	assert_int_equal(dd_init_uniform(d, &rng, -0.1f, 0.1f), DD_OK);
	return ps;
}

static void test_same_seed_same_bits(void **state)
{
	(void)state;
	dd_paramset *p1 = make(7), *p2 = make(7), *p3 = make(8);
	size_t n = dd_paramset_count(p1);
	assert_memory_equal(dd_paramset_data(p1), dd_paramset_data(p2), n * sizeof(float));
	assert_memory_not_equal(dd_paramset_data(p1), dd_paramset_data(p3), n * sizeof(float));
	dd_paramset_free(p1);
	dd_paramset_free(p2);
	dd_paramset_free(p3);
}

static void stats(const dd_tensor *t, double *mean, double *std, double *maxabs)
{
	double s = 0, s2 = 0, m = 0;
	for (size_t i = 0; i < t->size; i++) {
		s += t->data[i];
		s2 += (double)t->data[i] * t->data[i];
		if (fabs(t->data[i]) > m)
			m = fabs(t->data[i]);
	}
	*mean = s / (double)t->size;
	*std = sqrt(s2 / (double)t->size - *mean * *mean);
	*maxabs = m;
}

static void test_scales(void **state)
{
	(void)state;
	dd_paramset *ps = dd_paramset_new();
	dd_tensor *x = dd_paramset_add(ps, "x", 2, (int[]){300, 200});
	dd_tensor *h = dd_paramset_add(ps, "h", 4, (int[]){64, 16, 3, 3});
	assert_int_equal(dd_paramset_alloc(ps), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, 1, 0);
	dd_init_xavier(x, &rng, 2.0f);
	dd_init_he(h, &rng);
	double mean, std, mx;
	stats(x, &mean, &std, &mx);
	double a = 2.0 * sqrt(6.0 / 500.0); /* uniform(-a, a): std a / sqrt 3 */
	assert_true(mx <= a);
	assert_true(mx > 0.99 * a);
	assert_float_equal(std, a / sqrt(3.0), 0.02 * a);
	assert_float_equal(mean, 0.0, 0.01 * a);
	stats(h, &mean, &std, &mx);
	assert_float_equal(std, sqrt(2.0 / (16 * 9)), 0.02 * sqrt(2.0 / (16 * 9)));
	dd_paramset_free(ps);
}

static void check_orthogonal(int rows, int cols, float gain)
{
	dd_tensor *w = dd_tensor_new(2, (int[]){rows, cols}, 0);
	dd_rng rng;
	dd_rng_seed(&rng, 3, (uint64_t)rows * 1000 + (uint64_t)cols);
	assert_int_equal(dd_init_orthogonal(w, &rng, gain), DD_OK);
	/* the short side's vectors are orthonormal (times gain) */
	int wide = rows <= cols, n = wide ? rows : cols, len = wide ? cols : rows;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			double d = 0;
			for (int k = 0; k < len; k++) {
				float a = wide ? w->data[i * cols + k] : w->data[k * cols + i];
				float b = wide ? w->data[j * cols + k] : w->data[k * cols + j];
				d += (double)a * b;
			}
			assert_float_equal(d, i == j ? (double)gain * gain : 0.0, 1e-5);
		}
	dd_tensor_free(w);
}

static void test_orthogonal(void **state)
{
	(void)state;
	check_orthogonal(4, 10, 1.0f);
	check_orthogonal(10, 4, 1.0f);
	check_orthogonal(16, 16, 1.0f);
	check_orthogonal(1, 5, 2.0f);
	check_orthogonal(32, 128, 0.5f); /* an LSTM's 4 gates x 32 units, transposed */
	dd_tensor *v = dd_tensor_new(1, (int[]){5}, 0);
	dd_rng rng;
	dd_rng_seed(&rng, 1, 0);
	assert_int_equal(dd_init_orthogonal(v, &rng, 1.0f), DD_ERR);
	dd_tensor_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_same_bits),
		cmocka_unit_test(test_scales),
		cmocka_unit_test(test_orthogonal),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
