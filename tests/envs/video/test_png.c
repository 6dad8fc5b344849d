/*
** test_png.c -- libdaydream's PNG reader and writer: exact round trips of
** gray, RGB and RGBA in memory and in files, conversions between channel
** counts, and errors that name the file.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "daydream/png.h"
#include "daydream/rng.h"
#include "video_testkit.h"

static uint8_t *random_pixels(int n, uint64_t seed)
{
	dd_rng rng;
	dd_rng_seed(&rng, seed, 0);
	uint8_t *p = malloc((size_t)n);
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)dd_rng_below(&rng, 256);
	return p;
}

static void test_memory_round_trip(void **state)
{
	(void)state;
	const int w = 37, h = 23; /* odd sizes: rows are not padded */
	for (int c = 1; c <= 4; c++) {
		if (c == 2)
			continue;
		uint8_t *px = random_pixels(w * h * c, (uint64_t)c);
		uint8_t *png;
		size_t n;
		char err[256];
		assert_int_equal(dd_png_write_mem(px, w, h, c, &png, &n, err, sizeof err), DD_OK);
		assert_true(n > 8 && memcmp(png, "\x89PNG", 4) == 0);
		dd_image im;
		assert_int_equal(dd_png_read_mem(png, n, "x.png", 0, &im, err, sizeof err), DD_OK);
		assert_int_equal(im.width, w);
		assert_int_equal(im.height, h);
		assert_int_equal(im.channels, c);
		assert_memory_equal(im.pixels, px, (size_t)(w * h * c));
		dd_image_free(&im);
		assert_null(im.pixels);
		free(png);
		free(px);
	}
}

static void test_file_round_trip_and_conversion(void **state)
{
	(void)state;
	char *dir = vt_tmpdir();
	char path[256], err[512];
	snprintf(path, sizeof path, "%s/gray.png", dir);
	const int w = 16, h = 9;
	uint8_t *gray = random_pixels(w * h, 7);
	assert_int_equal(dd_png_write_file(path, gray, w, h, 1, err, sizeof err), DD_OK);
	dd_image im;
	assert_int_equal(dd_png_read_file(path, 1, &im, err, sizeof err), DD_OK);
	assert_memory_equal(im.pixels, gray, (size_t)(w * h));
	dd_image_free(&im);
	/* gray read as RGB: each value three times */
	assert_int_equal(dd_png_read_file(path, 3, &im, err, sizeof err), DD_OK);
	assert_int_equal(im.channels, 3);
	for (int i = 0; i < w * h; i++)
		for (int k = 0; k < 3; k++)
			assert_int_equal(im.pixels[3 * i + k], gray[i]);
	dd_image_free(&im);
	/* gray RGB (r = g = b) read as gray gives the value back */
	uint8_t *rgb = malloc((size_t)(3 * w * h));
	for (int i = 0; i < w * h; i++)
		rgb[3 * i] = rgb[3 * i + 1] = rgb[3 * i + 2] = gray[i];
	snprintf(path, sizeof path, "%s/rgb.png", dir);
	assert_int_equal(dd_png_write_file(path, rgb, w, h, 3, err, sizeof err), DD_OK);
	assert_int_equal(dd_png_read_file(path, 1, &im, err, sizeof err), DD_OK);
	for (int i = 0; i < w * h; i++)
		assert_true(abs((int)im.pixels[i] - gray[i]) <= 1);
	dd_image_free(&im);
	assert_int_equal(dd_png_read_file(path, 0, &im, err, sizeof err), DD_OK);
	assert_int_equal(im.channels, 3);
	assert_memory_equal(im.pixels, rgb, (size_t)(3 * w * h));
	dd_image_free(&im);
	free(rgb);
	free(gray);
	vt_rmdir(dir);
}

static void test_errors_name_the_file(void **state)
{
	(void)state;
	char *dir = vt_tmpdir();
	char path[256], err[512];
	dd_image im;
	snprintf(path, sizeof path, "%s/missing.png", dir);
	assert_int_equal(dd_png_read_file(path, 0, &im, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "No such file"));
	assert_null(im.pixels);

	snprintf(path, sizeof path, "%s/text.png", dir);
	FILE *f = fopen(path, "w");
	fputs("this is not an image\n", f);
	fclose(f);
	assert_int_equal(dd_png_read_file(path, 0, &im, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a readable PNG"));

	/* A PNG cut in half: the header reads, the pixels do not. */
	uint8_t *px = random_pixels(64 * 64 * 3, 3), *png;
	size_t n;
	assert_int_equal(dd_png_write_mem(px, 64, 64, 3, &png, &n, err, sizeof err), DD_OK);
	snprintf(path, sizeof path, "%s/cut.png", dir);
	f = fopen(path, "wb");
	fwrite(png, 1, n / 2, f);
	fclose(f);
	assert_int_equal(dd_png_read_file(path, 0, &im, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, path));
	assert_int_equal(dd_png_read_mem(png, n / 2, "half.png", 3, &im, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "half.png"));
	assert_int_equal(dd_png_read_mem(png, 0, "empty.png", 3, &im, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "empty.png"));

	free(png);
	/* Writer: bad arguments and an unwritable place. */
	assert_int_equal(dd_png_write_mem(px, 64, 64, 2, &png, &n, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "channels must be 1, 3 or 4"));
	assert_null(png);
	assert_int_equal(dd_png_write_mem(px, 0, 64, 3, &png, &n, err, sizeof err), DD_ERR);
	snprintf(path, sizeof path, "%s/no/such/folder/x.png", dir);
	assert_int_equal(dd_png_write_file(path, px, 64, 64, 3, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, path));
	assert_int_equal(dd_png_read_mem(px, 100, "x", 5, &im, err, sizeof err), DD_ERR);
	free(px);
	vt_rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_memory_round_trip),
		cmocka_unit_test(test_file_round_trip_and_conversion),
		cmocka_unit_test(test_errors_name_the_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
