/*
** test_checkpoint.c -- save and load of parameters with optimiser state:
** round trip, refusal of corrupt, truncated and mismatched blobs with the
** set untouched, and thousands of seeded mutations through the fuzz body.
*/
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "fuzz_checkpoint.c"

/* A trained-looking model: parameters set, Adam stepped 3 times. */
static void trained(fz_model *m, dd_membuf *blob)
{
	assert_int_equal(fz_make(m), DD_OK);
	for (int t = 0; t < 3; t++) {
		/* tensors only: alignment gaps hold zeros, never gradients */
		for (int k = 0; k < dd_paramset_len(m->ps); k++) {
			dd_tensor *p = dd_paramset_tensor(m->ps, k);
			for (size_t i = 0; i < p->size; i++)
				p->grad[i] = (float)((i * 7 + (size_t)t) % 5) - 2.0f;
		}
		dd_optim_step(m->opt);
	}
	dd_optim_set_lr(m->opt, 0.0042f);
	memset(blob, 0, sizeof *blob);
	dd_writer w;
	dd_membuf_writer(&w, blob);
	assert_int_equal(dd_checkpoint_save(m->ps, m->opt, &w), DD_OK);
	assert_int_equal(blob->len, dd_checkpoint_size(m->ps, m->opt));
}

static int load(fz_model *m, const void *data, size_t n)
{
	dd_membuf mb;
	dd_reader r;
	dd_membuf_reader(&r, &mb, data, n);
	return dd_checkpoint_load(m->ps, m->opt, &r);
}

static void test_round_trip(void **state)
{
	(void)state;
	fz_model a, b;
	dd_membuf blob;
	trained(&a, &blob);
	assert_int_equal(fz_make(&b), DD_OK);
	assert_int_equal(load(&b, blob.buf, blob.len), DD_OK);
	size_t n = dd_paramset_count(a.ps), ns, ns2;
	assert_memory_equal(dd_paramset_data(a.ps), dd_paramset_data(b.ps), n * sizeof(float));
	float *sa = dd_optim_state(a.opt, &ns), *sb = dd_optim_state(b.opt, &ns2);
	assert_int_equal(ns, ns2);
	assert_memory_equal(sa, sb, ns * sizeof(float));
	assert_int_equal(dd_optim_steps(b.opt), 3);
	assert_float_equal(dd_optim_lr(b.opt), 0.0042f, 0);
	/* the next step is the same on both */
	for (int k = 0; k < dd_paramset_len(a.ps); k++)
		for (size_t i = 0; i < dd_paramset_tensor(a.ps, k)->size; i++)
			dd_paramset_tensor(a.ps, k)->grad[i] = dd_paramset_tensor(b.ps, k)->grad[i] = 0.5f;
	dd_optim_step(a.opt);
	dd_optim_step(b.opt);
	assert_memory_equal(dd_paramset_data(a.ps), dd_paramset_data(b.ps), n * sizeof(float));
	/* two blobs in one stream */
	dd_writer w;
	dd_membuf two = {0};
	dd_membuf_writer(&w, &two);
	assert_int_equal(dd_checkpoint_save(a.ps, a.opt, &w), DD_OK);
	assert_int_equal(dd_checkpoint_save(a.ps, NULL, &w), DD_OK);
	dd_membuf mb;
	dd_reader r;
	dd_membuf_reader(&r, &mb, two.buf, two.len);
	assert_int_equal(dd_checkpoint_load(b.ps, b.opt, &r), DD_OK);
	assert_int_equal(dd_checkpoint_load(b.ps, NULL, &r), DD_OK);
	assert_int_equal(r.remaining, 0);
	dd_membuf_free(&two);
	fz_free(&a);
	fz_free(&b);
	dd_membuf_free(&blob);
}

static void test_corrupt_byte_refused(void **state)
{
	(void)state;
	fz_model a;
	dd_membuf blob;
	trained(&a, &blob);
	uint8_t *copy = malloc(blob.len);
	size_t where[] = {0, 9, 13, 25, blob.len / 2, blob.len - 1};
	for (size_t k = 0; k < 6; k++) {
		memcpy(copy, blob.buf, blob.len);
		copy[where[k]] ^= 0x10;
		assert_int_equal(fz_load(copy, blob.len), DD_ERR);
	}
	fz_model b;
	assert_int_equal(fz_make(&b), DD_OK);
	memcpy(copy, blob.buf, blob.len);
	copy[blob.len / 2] ^= 1;
	assert_int_equal(load(&b, copy, blob.len), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(b.ps), "checksum mismatch"));
	copy[blob.len / 2] ^= 1;
	copy[0] = 'X';
	assert_int_equal(load(&b, copy, blob.len), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(b.ps), "bad magic"));
	free(copy);
	fz_free(&a);
	fz_free(&b);
	dd_membuf_free(&blob);
}

static void test_truncated_refused(void **state)
{
	(void)state;
	fz_model a;
	dd_membuf blob;
	trained(&a, &blob);
	for (size_t n = 0; n < blob.len; n++)
		assert_int_equal(fz_load(blob.buf, n), DD_ERR);
	fz_model b;
	assert_int_equal(fz_make(&b), DD_OK);
	assert_int_equal(load(&b, blob.buf, blob.len - 1), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(b.ps), "truncated"));
	fz_free(&a);
	fz_free(&b);
	dd_membuf_free(&blob);
}

/* A well-formed blob of another model is refused by name, shape or
** optimiser, with the target untouched. */
static void test_mismatch_refused(void **state)
{
	(void)state;
	fz_model a;
	dd_membuf blob;
	trained(&a, &blob);
	dd_paramset *ps = dd_paramset_new();
	dd_paramset_add(ps, "enc.w", 2, (int[]){5, 3});
	dd_paramset_add(ps, "enc.b", 1, (int[]){3});
	dd_paramset_alloc(ps);
	dd_membuf mb;
	dd_reader r;
	dd_membuf_reader(&r, &mb, blob.buf, blob.len);
	assert_int_equal(dd_checkpoint_load(ps, NULL, &r), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(ps), "another shape"));
	dd_paramset_free(ps);

	ps = dd_paramset_new();
	dd_paramset_add(ps, "enc.w", 2, (int[]){3, 5});
	dd_paramset_add(ps, "dec.b", 1, (int[]){3});
	dd_paramset_alloc(ps);
	dd_membuf_reader(&r, &mb, blob.buf, blob.len);
	assert_int_equal(dd_checkpoint_load(ps, NULL, &r), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(ps), "unknown tensor 'enc.b'"));
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_SGD);
	c.momentum = 0.9f;
	dd_paramset_free(ps);

	fz_model b;
	assert_int_equal(fz_make(&b), DD_OK);
	dd_optim_free(b.opt);
	b.opt = dd_optim_new(b.ps, &c);
	assert_int_equal(load(&b, blob.buf, blob.len), DD_ERR);
	assert_non_null(strstr(dd_paramset_error(b.ps), "optimiser"));
	assert_float_equal(dd_paramset_data(b.ps)[0], -1.0f, 0);
	fz_free(&b);
	fz_free(&a);
	dd_membuf_free(&blob);
}

/* Thousands of seeded mutations (flipped bytes, runs of random bytes,
** truncations, bytes cut out) of a valid blob: none may crash, none may be
** accepted, and none may touch the model. */
static void test_fuzz_mutations(void **state)
{
	(void)state;
	fz_model a;
	dd_membuf blob;
	trained(&a, &blob);
	assert_int_equal(fz_load(blob.buf, blob.len), DD_OK);
	dd_rng rng;
	dd_rng_seed(&rng, 2024, 0);
	uint8_t *m = malloc(blob.len + 64);
	int accepted = 0, touched = 0;
	for (int it = 0; it < 5000; it++) {
		size_t n = blob.len;
		memcpy(m, blob.buf, n);
		switch (dd_rng_below(&rng, 4)) {
		case 0: { /* flip 1..4 bytes */
			int k = 1 + (int)dd_rng_below(&rng, 4);
			for (int j = 0; j < k; j++)
				m[dd_rng_below(&rng, n)] ^= (uint8_t)(1 + dd_rng_below(&rng, 255));
			if (memcmp(m, blob.buf, n) == 0)
				m[0] ^= 1; /* flips cancelled out: still a mutation */
			break;
		}
		case 1: { /* a run of random bytes, e.g. over a length field */
			size_t at = dd_rng_below(&rng, n), len = 1 + dd_rng_below(&rng, 8);
			for (size_t j = at; j < at + len && j < n; j++)
				m[j] = (uint8_t)dd_rng_u64(&rng);
			if (memcmp(m, blob.buf, n) == 0)
				m[at] ^= 0x80;
			break;
		}
		case 2: /* truncation */
			n = dd_rng_below(&rng, n);
			break;
		case 3: { /* cut bytes out of the middle */
			size_t at = dd_rng_below(&rng, n), len = 1 + dd_rng_below(&rng, 16);
			if (len > n - at)
				len = n - at;
			memmove(m + at, m + at + len, n - at - len);
			n -= len;
			break;
		}
		}
		int rc = fz_load(m, n);
		accepted += rc == DD_OK;
		touched += rc == 2;
	}
	assert_int_equal(touched, 0);
	assert_int_equal(accepted, 0);
	assert_int_equal(LLVMFuzzerTestOneInput(blob.buf, blob.len), 0);
	free(m);
	fz_free(&a);
	dd_membuf_free(&blob);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_corrupt_byte_refused),
		cmocka_unit_test(test_truncated_refused),
		cmocka_unit_test(test_mismatch_refused),
		cmocka_unit_test(test_fuzz_mutations),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
