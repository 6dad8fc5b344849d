/*
** test_idx.c -- the IDX reader: values and shapes of small hand-made files,
** refusal of malformed ones, gzip through zlib, and seeded mutations through
** the fuzz body.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <cmocka.h>

#include "daydream/rng.h"
#include "fuzz_idx.c"

/* 2 x 3 unsigned bytes */
static const uint8_t U8[] = {0, 0, 0x08, 2, 0, 0, 0, 2, 0, 0, 0, 3, 1, 2, 3, 250, 5, 6};
/* 2 big-endian float32: 1.5, -2 */
static const uint8_t F32[] = {0, 0, 0x0D, 1, 0, 0, 0, 2, 0x3f, 0xc0, 0, 0, 0xc0, 0, 0, 0};
/* 2 big-endian int16: -2, 300 */
static const uint8_t I16[] = {0, 0, 0x0B, 1, 0, 0, 0, 2, 0xff, 0xfe, 0x01, 0x2c};

static void test_parse(void **state)
{
	(void)state;
	dd_idx x;
	char err[128];
	assert_int_equal(dd_idx_parse(&x, U8, sizeof U8, err, sizeof err), DD_OK);
	assert_int_equal(x.type, DD_IDX_U8);
	assert_int_equal(x.ndim, 2);
	assert_int_equal(x.dims[0], 2);
	assert_int_equal(x.dims[1], 3);
	assert_int_equal(x.count, 6);
	float f[6];
	int v[6];
	assert_int_equal(dd_idx_to_float(&x, 0, 6, 1.0f / 255, f), DD_OK);
	assert_float_equal(f[3], 250.0f / 255, 1e-7);
	assert_int_equal(dd_idx_to_int(&x, 2, 4, v), DD_OK);
	assert_int_equal(v[1], 250);
	assert_int_equal(dd_idx_to_int(&x, 3, 4, v), DD_ERR); /* past the end */
	assert_int_equal(dd_idx_parse(&x, F32, sizeof F32, err, sizeof err), DD_OK);
	assert_int_equal(dd_idx_to_float(&x, 0, 2, 1.0f, f), DD_OK);
	assert_float_equal(f[0], 1.5f, 0);
	assert_float_equal(f[1], -2.0f, 0);
	assert_int_equal(dd_idx_parse(&x, I16, sizeof I16, err, sizeof err), DD_OK);
	assert_int_equal(dd_idx_to_int(&x, 0, 2, v), DD_OK);
	assert_int_equal(v[0], -2);
	assert_int_equal(v[1], 300);
}

static void test_refused(void **state)
{
	(void)state;
	dd_idx x;
	char err[128];
	uint8_t b[sizeof U8 + 1];
	for (size_t n = 0; n < sizeof U8; n++)
		assert_int_equal(dd_idx_parse(&x, U8, n, err, sizeof err), DD_ERR);
	memcpy(b, U8, sizeof U8);
	b[sizeof U8] = 0;
	assert_int_equal(dd_idx_parse(&x, b, sizeof b, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "bytes of values"));
	memcpy(b, U8, sizeof U8);
	b[2] = 0x07;
	assert_int_equal(dd_idx_parse(&x, b, sizeof U8, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "type code"));
	b[2] = 0x08;
	b[3] = 9;
	assert_int_equal(dd_idx_parse(&x, b, sizeof U8, err, sizeof err), DD_ERR);
	b[3] = 2;
	b[4] = 0xff; /* a dimension of 4 billion: must not overflow the count */
	assert_int_equal(dd_idx_parse(&x, b, sizeof U8, err, sizeof err), DD_ERR);
	b[4] = 0;
	b[7] = 0;
	assert_int_equal(dd_idx_parse(&x, b, sizeof U8, err, sizeof err), DD_ERR);
}

static void test_load_gzip(void **state)
{
	(void)state;
	char path[] = "/tmp/dd_idx_test_XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	gzFile f = gzdopen(fd, "wb");
	assert_int_equal(gzwrite(f, U8, sizeof U8), (int)sizeof U8);
	gzclose(f);
	dd_idx x;
	char err[128];
	assert_int_equal(dd_idx_load(&x, path, 1 << 20, err, sizeof err), DD_OK);
	int v[6];
	assert_int_equal(dd_idx_to_int(&x, 0, 6, v), DD_OK);
	assert_int_equal(v[5], 6);
	dd_idx_free(&x);
	assert_int_equal(dd_idx_load(&x, path, 10, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "larger than"));
	remove(path);
	assert_int_equal(dd_idx_load(&x, "/nonexistent/file", 1 << 20, err, sizeof err), DD_ERR);
	assert_non_null(strstr(err, "cannot open"));
}

static void test_fuzz_mutations(void **state)
{
	(void)state;
	dd_rng rng;
	dd_rng_seed(&rng, 77, 0);
	uint8_t m[64];
	for (int it = 0; it < 20000; it++) {
		size_t n = sizeof U8;
		memcpy(m, U8, n);
		int k = 1 + (int)dd_rng_below(&rng, 3);
		for (int j = 0; j < k; j++)
			m[dd_rng_below(&rng, n)] = (uint8_t)dd_rng_u64(&rng);
		if (dd_rng_below(&rng, 2))
			n = dd_rng_below(&rng, n + 1);
		assert_int_equal(LLVMFuzzerTestOneInput(m, n), 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_load_gzip),
		cmocka_unit_test(test_fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
