/*
** test_image_metrics.c -- PSNR, SSIM and sharpness difference against values
** worked out by hand on constructed images, and SSIM against scikit-image
** when /usr/bin/python3 has it (Debian's python3-skimage).
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <math.h>

#include "daydream/image_metrics.h"
#include "daydream/rng.h"
#include "video_testkit.h"

static const double C1 = 0.0001, C2 = 0.0009; /* (0.01 L)^2, (0.03 L)^2 with L = 1 */

static float *filled(int n, float v)
{
	float *p = malloc(sizeof(float) * (size_t)n);
	for (int i = 0; i < n; i++)
		p[i] = v;
	return p;
}

static void test_psnr(void **state)
{
	(void)state;
	char err[256];
	double out[2];
	/* Two frames of 3 x 4 x 5: 0 vs 0.1 (MSE 0.01: 20 dB), 0 vs 0.5 (6.0206). */
	float *a = filled(120, 0), *b = filled(120, 0.1f);
	for (int i = 60; i < 120; i++)
		b[i] = 0.5f;
	assert_int_equal(dd_psnr(a, b, 2, 3, 4, 5, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 20.0, 1e-5);
	assert_float_equal(out[1], 10 * log10(4.0), 1e-9);
	/* [0 1; 0 1] vs 0: MSE 1/2, 3.0103 dB. */
	float c[4] = {0, 1, 0, 1}, z[4] = {0};
	assert_int_equal(dd_psnr(c, z, 1, 1, 2, 2, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 10 * log10(2.0), 1e-12);
	assert_int_equal(dd_psnr(c, c, 1, 1, 2, 2, out, err, sizeof err), DD_OK);
	assert_true(isinf(out[0]) && out[0] > 0);
	assert_int_equal(dd_psnr(c, z, 1, 0, 2, 2, out, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "shape must be positive"));
	free(a);
	free(b);
}

/* Sum over the window of g_k (-1)^k: the local mean of a checkerboard is
** 0.5 +- 0.25 G^2. g is the normalised Gaussian of the definition. */
static double checker_gain(void)
{
	double g[11], s = 0, gain = 0;
	for (int k = 0; k < 11; k++) {
		g[k] = exp(-(k - 5.0) * (k - 5.0) / (2 * 1.5 * 1.5));
		s += g[k];
	}
	for (int k = 0; k < 11; k++)
		gain += (k % 2 ? -1 : 1) * g[k] / s;
	return gain * gain;
}

static void test_ssim_hand_computed(void **state)
{
	(void)state;
	char err[256];
	double out[1];
	const int n = 16 * 16;
	/* Constant images: sigma = 0, SSIM = (2 ua ub + C1) / (ua^2 + ub^2 + C1). */
	float *a = filled(n, 0.5f), *b = filled(n, 0.25f);
	assert_int_equal(dd_ssim(a, b, 1, 1, 16, 16, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], (0.25 + C1) / (0.3125 + C1), 1e-12);
	/* A checkerboard 0.25 / 0.75. Window centres of either colour have
	** mean u = 0.5 +- 0.25 G2 and variance s2 = 0.0625 (1 - G2^2). */
	double G2 = checker_gain(), s2 = 0.0625 * (1 - G2 * G2);
	for (int y = 0; y < 16; y++)
		for (int x = 0; x < 16; x++)
			a[y * 16 + x] = (x + y) % 2 ? 0.25f : 0.75f;
	/* b = a + 0.1: only the luminance term is below one. */
	for (int i = 0; i < n; i++)
		b[i] = a[i] + 0.1f;
	double want = 0;
	for (int s = -1; s <= 1; s += 2) {
		double u = 0.5 + 0.25 * s * G2, v = u + 0.1;
		want += 0.5 * (2 * u * v + C1) / (u * u + v * v + C1);
	}
	assert_int_equal(dd_ssim(a, b, 1, 1, 16, 16, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], want, 1e-6);
	/* b = 1 - a: negative covariance, SSIM well below zero. */
	for (int i = 0; i < n; i++)
		b[i] = 1 - a[i];
	want = 0;
	for (int s = -1; s <= 1; s += 2) {
		double u = 0.5 + 0.25 * s * G2, v = 1 - u;
		want += 0.5 * (2 * u * v + C1) * (-2 * s2 + C2) / ((u * u + v * v + C1) * (2 * s2 + C2));
	}
	assert_true(want < -0.5);
	assert_int_equal(dd_ssim(a, b, 1, 1, 16, 16, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], want, 1e-6);
	assert_int_equal(dd_ssim(a, a, 1, 1, 16, 16, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 1.0, 1e-9);
	/* Too small for the window: an error, not another measure. */
	assert_int_equal(dd_ssim(a, b, 1, 1, 10, 25, out, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "at least 11x11"));
	free(a);
	free(b);
}

static void test_sharpness_hand_computed(void **state)
{
	(void)state;
	char err[256];
	double out[2];
	/* 4 x 4, left half 0, right half 1, against black: the column step gives
	** gj = 1 on 4 pixels, mean 4/16: 10 log10(4) = 6.0206 dB. */
	float a[32] = {0}, b[32] = {0};
	for (int y = 0; y < 4; y++)
		for (int x = 2; x < 4; x++)
			a[y * 4 + x] = 1;
	/* Frame 2, 3 x 3 (in the first 9 values): one bright pixel at (1, 1):
	** gradient sums 2 there, 1 below and 1 to the right: 4/9. */
	a[16 + 4] = 1;
	assert_int_equal(dd_sharpness(a, b, 1, 1, 4, 4, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 10 * log10(4.0), 1e-12);
	assert_int_equal(dd_sharpness(a + 16, b + 16, 1, 1, 3, 3, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 10 * log10(9.0 / 4), 1e-12);
	/* A brightness shift keeps every gradient: +inf. */
	for (int i = 0; i < 16; i++)
		b[i] = a[i] * 0.5f + 0.25f;
	float c[16];
	for (int i = 0; i < 16; i++)
		c[i] = b[i] + 0.125f;
	assert_int_equal(dd_sharpness(b, c, 1, 1, 4, 4, out, err, sizeof err), DD_OK);
	assert_true(isinf(out[0]));
	/* Halved contrast: half of the 4 unit steps is lost, 10 log10(8). */
	assert_int_equal(dd_sharpness(a, b, 1, 1, 4, 4, out, err, sizeof err), DD_OK);
	assert_float_equal(out[0], 10 * log10(8.0), 1e-6);
}

/* SSIM of random RGB frames against skimage.metrics.structural_similarity
** with the standard settings; skipped without scikit-image. */
static void test_ssim_matches_skimage(void **state)
{
	(void)state;
	if (system("/usr/bin/python3 -c 'import skimage.metrics' 2>/dev/null") != 0) {
		print_message("[  SKIP    ] /usr/bin/python3 has no skimage (Debian: python3-skimage)\n");
		skip();
	}
	char *dir = vt_tmpdir(), path[256], cmd[1024];
	const int c = 3, h = 24, w = 31, n = c * h * w;
	float *a = malloc(sizeof(float) * n), *b = malloc(sizeof(float) * n);
	dd_rng rng;
	dd_rng_seed(&rng, 5, 0);
	for (int i = 0; i < n; i++) {
		a[i] = dd_rng_uniform(&rng);
		/* b: a smoothed, noisier copy, so that SSIM is neither 0 nor 1 */
		b[i] = 0.6f * a[i] + 0.4f * dd_rng_uniform(&rng);
	}
	snprintf(path, sizeof path, "%s/ab.f32", dir);
	FILE *f = fopen(path, "wb");
	fwrite(a, sizeof(float), (size_t)n, f);
	fwrite(b, sizeof(float), (size_t)n, f);
	fclose(f);
	snprintf(cmd, sizeof cmd,
	         "/usr/bin/python3 -c \"import numpy as np; from skimage.metrics import "
	         "structural_similarity as s; x = np.fromfile('%s', dtype=np.float32)"
	         ".astype(np.float64).reshape(2, %d, %d, %d); print(repr(s(x[0], x[1], "
	         "gaussian_weights=True, sigma=1.5, use_sample_covariance=False, data_range=1.0, "
	         "channel_axis=0)))\"", path, c, h, w);
	FILE *p = popen(cmd, "r");
	double ref = NAN;
	assert_int_equal(fscanf(p, "%lf", &ref), 1);
	pclose(p);
	double out[1];
	char err[256];
	assert_int_equal(dd_ssim(a, b, 1, c, h, w, out, err, sizeof err), DD_OK);
	print_message("ssim: ours %.9f, skimage %.9f\n", out[0], ref);
	assert_true(ref > 0.2 && ref < 0.95);
	assert_float_equal(out[0], ref, 1e-6);
	free(a);
	free(b);
	vt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_psnr),
		cmocka_unit_test(test_ssim_hand_computed),
		cmocka_unit_test(test_sharpness_hand_computed),
		cmocka_unit_test(test_ssim_matches_skimage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
