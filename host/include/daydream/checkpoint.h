/*
** daydream/checkpoint.h -- parameters and optimiser state as a sealed blob.
**
** Layout (little-endian):
**   "DDNNCKPT"  u32 version (1)  u64 body_bytes
**   body: u32 tensor count
**         per tensor: u32 name length, name, u32 ndim, ndim x u32 dims,
**                     dims-product x f32 values
**         u32 optimiser kind (0 = none), u32 moment buffers per parameter,
**         u64 step count, f32 learning rate, moments of each tensor in turn
**   u32 CRC-32 of everything before it
** Several blobs may follow each other in one stream (say, a GAN's two nets).
*/
#ifndef DAYDREAM_CHECKPOINT_H
#define DAYDREAM_CHECKPOINT_H

#include "daydream/optim.h"
#include "daydream/param.h"
#include "daydream/plugin.h" /* dd_writer, dd_reader */

#ifdef __cplusplus
extern "C" {
#endif

#define DD_CHECKPOINT_VERSION 1u

/* Writes ps (and opt's state when opt is not NULL) to w. DD_ERR when a
** write fails, with the reason in dd_paramset_error(ps). */
int dd_checkpoint_save(dd_paramset *ps, const dd_optim *opt, dd_writer *w);

/* Reads one blob from r into ps (and opt, which must then be of the saved
** kind). The whole blob is read into temporary memory and every size, name,
** shape and the checksum are validated before ps or opt is touched: on
** DD_ERR both are exactly as before, and dd_paramset_error(ps) says why
** (bad magic, version, truncated, checksum mismatch, unknown or missing
** tensor, shape mismatch, optimiser mismatch). */
int dd_checkpoint_load(dd_paramset *ps, dd_optim *opt, dd_reader *r);

/* Byte size dd_checkpoint_save would write for ps and opt. */
size_t dd_checkpoint_size(const dd_paramset *ps, const dd_optim *opt);

/* A dd_writer appending to a growable heap buffer and a dd_reader over a
** fixed one, for tests and for keeping a blob in memory. A dd_membuf is
** caller-owned; free buf with dd_membuf_free(). */
typedef struct dd_membuf {
	unsigned char *buf;
	size_t len, cap, pos;
} dd_membuf;
void dd_membuf_writer(dd_writer *w, dd_membuf *m);
void dd_membuf_reader(dd_reader *r, dd_membuf *m, const void *data, size_t len);
void dd_membuf_free(dd_membuf *m);

#ifdef __cplusplus
}
#endif
#endif
