/*
** fuzz_ngsim.c -- libFuzzer target for the NGSIM reader and the replay
** index (cmake -DDD_FUZZ=ON with clang). Whatever the bytes, the reader
** refuses them with a message naming a line, or every row it returns is
** finite with a positive size, and the replay index covers every row.
*/
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tr_ngsim t;
	char err[512];
	if (tr_ngsim_parse((const char *)data, size, "fuzz", &t, err, sizeof err) < 0) {
		if (!strstr(err, "fuzz"))
			abort();
		tr_ngsim_free(&t);
		return 0;
	}
	for (size_t i = 0; i < t.n; i++) {
		const tr_ngsim_row *r = &t.rows[i];
		if (!isfinite(r->x) || !isfinite(r->y) || !(r->length > 0) || !(r->width > 0))
			abort();
	}
	tr_replay rp;
	if (tr_replay_init(&rp, &t, err, sizeof err) == 0) {
		size_t seen = 0;
		for (int f = rp.f0; f <= rp.f1; f++)
			seen += rp.first[f - rp.f0 + 1] - rp.first[f - rp.f0];
		if (seen != rp.data.n)
			abort();
	}
	tr_replay_free(&rp);
	tr_ngsim_free(&t);
	return 0;
}
