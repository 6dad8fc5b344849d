/*
** daydream/idx.h -- the IDX format of (Fashion-)MNIST and friends.
**
** An IDX file is a magic (two zero bytes, a type code, a dimension count),
** the dimensions as big-endian u32, and the values big-endian. Files may be
** gzip-compressed (zlib reads both). Parsing checks every size against the
** bytes present: a short or inconsistent file is refused, never over-read.
*/
#ifndef DAYDREAM_IDX_H
#define DAYDREAM_IDX_H

#include <stddef.h>
#include <stdint.h>

#include "daydream/plugin.h" /* DD_MAX_DIMS */

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dd_idx_type {
	DD_IDX_U8 = 0x08, DD_IDX_I8 = 0x09, DD_IDX_I16 = 0x0B,
	DD_IDX_I32 = 0x0C, DD_IDX_F32 = 0x0D, DD_IDX_F64 = 0x0E
} dd_idx_type;

typedef struct dd_idx {
	dd_idx_type type;
	int ndim;                 /* 1..DD_MAX_DIMS */
	int dims[DD_MAX_DIMS];
	size_t count;             /* product of dims */
	const uint8_t *values;    /* count big-endian values (into the parsed bytes) */
	uint8_t *owned;           /* the bytes, when dd_idx_load read them */
} dd_idx;

/* Parses an IDX image in memory; out->values points into bytes, which must
** outlive out. DD_ERR with a message in err (errlen bytes) on anything
** malformed. Trailing bytes are refused too. */
int dd_idx_parse(dd_idx *out, const void *bytes, size_t n, char *err, size_t errlen);

/* Reads and parses a file, gzipped or not, of at most max_bytes bytes
** after decompression. The bytes belong to out: release with
** dd_idx_free(). DD_ERR with a message in err. */
int dd_idx_load(dd_idx *out, const char *path, size_t max_bytes, char *err, size_t errlen);
void dd_idx_free(dd_idx *idx);

/* Converts values [first, first + n) to floats times scale. DD_ERR when the
** range is outside the data. */
int dd_idx_to_float(const dd_idx *idx, size_t first, size_t n, float scale, float *dst);
/* The same to ints (labels); float types are truncated toward zero. */
int dd_idx_to_int(const dd_idx *idx, size_t first, size_t n, int *dst);

#ifdef __cplusplus
}
#endif
#endif
