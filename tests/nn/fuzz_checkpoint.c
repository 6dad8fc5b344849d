/*
** fuzz_checkpoint.c -- libFuzzer target for the checkpoint reader.
**
**   cmake -B build-fuzz -DDD_FUZZ=ON -DCMAKE_C_COMPILER=clang && \
**   cmake --build build-fuzz --target fuzz_checkpoint && build-fuzz/tests/fuzz_checkpoint
**
** Any input must be refused or accepted without a crash, a leak or a read
** out of bounds; a refused load must leave the parameters as they were.
** test_checkpoint.c includes this file to run the same body on thousands of
** mutations of a valid blob in every ordinary test run.
*/
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/nn.h"

/* The model every input is loaded into: two tensors and Adam. */
typedef struct fz_model {
	dd_paramset *ps;
	dd_optim *opt;
} fz_model;

static int fz_make(fz_model *m)
{
	m->ps = dd_paramset_new();
	if (!m->ps)
		return DD_ERR;
	dd_tensor *w = dd_paramset_add(m->ps, "enc.w", 2, (int[]){3, 5});
	dd_tensor *b = dd_paramset_add(m->ps, "enc.b", 1, (int[]){3});
	if (!w || !b || dd_paramset_alloc(m->ps) != DD_OK)
		return DD_ERR;
	for (size_t i = 0; i < w->size; i++)
		w->data[i] = (float)i * 0.25f - 1.0f;
	dd_init_constant(b, 0.5f);
	dd_optim_config c = dd_optim_defaults(DD_OPTIM_ADAM);
	m->opt = dd_optim_new(m->ps, &c);
	return m->opt ? DD_OK : DD_ERR;
}

static void fz_free(fz_model *m)
{
	dd_optim_free(m->opt);
	dd_paramset_free(m->ps);
}

/* Loads data into a fresh model; returns the load's status, or 2 when a
** refused load changed the model (a bug). */
static int fz_load(const uint8_t *data, size_t size)
{
	fz_model m;
	if (fz_make(&m) != DD_OK) {
		fz_free(&m);
		return DD_ERR;
	}
	size_t n = dd_paramset_count(m.ps), ns;
	float *state = dd_optim_state(m.opt, &ns);
	float *before = malloc((n + ns) * sizeof(float));
	memcpy(before, dd_paramset_data(m.ps), n * sizeof(float));
	memcpy(before + n, state, ns * sizeof(float));
	dd_membuf mb;
	dd_reader r;
	dd_membuf_reader(&r, &mb, data, size);
	int rc = dd_checkpoint_load(m.ps, m.opt, &r);
	if (rc != DD_OK && (memcmp(before, dd_paramset_data(m.ps), n * sizeof(float)) != 0 ||
	                    memcmp(before + n, state, ns * sizeof(float)) != 0 ||
	                    dd_optim_steps(m.opt) != 0))
		rc = 2;
	free(before);
	fz_free(&m);
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (fz_load(data, size) == 2)
		abort(); /* a refused load touched the model: the fuzzer reports it */
	return 0;
}
