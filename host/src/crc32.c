/*
** crc32.c -- table-driven CRC-32, reflected polynomial 0xEDB88320.
*/
#include "daydream/crc32.h"

static uint32_t table[256];
static int table_ready;

static void make_table(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
		table[i] = c;
	}
	table_ready = 1; /* racing writers store identical values: harmless */
}

uint32_t dd_crc32(uint32_t crc, const void *data, size_t n)
{
	const unsigned char *p = data;
	if (!table_ready)
		make_table();
	crc = ~crc;
	while (n--)
		crc = table[(crc ^ *p++) & 0xFF] ^ (crc >> 8);
	return ~crc;
}
