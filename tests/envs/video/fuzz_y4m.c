/*
** fuzz_y4m.c -- libFuzzer target for the Y4M parser of the video plugin
** (cmake -DDD_FUZZ=ON with clang builds it as fuzz_y4m). Whatever the bytes,
** y4m_index_mem must refuse them or describe frames that lie inside them;
** test_y4m.c runs the same body on seeded mutations in every build.
*/
#include <stdint.h>
#include <stdlib.h>

#include "y4m.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	y4m_header h;
	uint64_t *off;
	int n;
	char err[256];
	if (y4m_index_mem(data, size, &h, &off, &n, err, sizeof err) != 0)
		return 0;
	volatile uint8_t sink = 0;
	for (int i = 0; i < n; i++) {
		if (h.frame_bytes == 0 || off[i] + h.frame_bytes > size)
			abort();
		/* first and last byte of each frame: an over-read trips ASan */
		sink ^= data[off[i]];
		sink ^= data[off[i] + h.frame_bytes - 1];
	}
	(void)sink;
	free(off);
	return 0;
}
