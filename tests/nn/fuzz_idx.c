/*
** fuzz_idx.c -- libFuzzer target for the IDX parser (see fuzz_checkpoint.c
** for how to build it). Whatever the bytes, dd_idx_parse must refuse or
** describe values that lie inside them.
*/
#include <stdint.h>
#include <stdlib.h>

#include "daydream/idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	dd_idx x;
	char err[128];
	if (dd_idx_parse(&x, data, size, err, sizeof err) != DD_OK)
		return 0;
	/* touch the last value: out of bounds would be caught by ASan */
	float last;
	if (x.values < data || dd_idx_to_float(&x, x.count - 1, 1, 1.0f, &last) != DD_OK)
		abort();
	return 0;
}
