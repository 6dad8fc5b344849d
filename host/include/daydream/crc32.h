/*
** daydream/crc32.h -- CRC-32 (IEEE 802.3, the zlib/PNG polynomial), used to
** seal checkpoints and stored blobs.
*/
#ifndef DAYDREAM_CRC32_H
#define DAYDREAM_CRC32_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Continues a CRC: start with crc = 0. dd_crc32(0, "123456789", 9) is
** 0xCBF43926. */
uint32_t dd_crc32(uint32_t crc, const void *data, size_t n);

#ifdef __cplusplus
}
#endif
#endif
