/*
** dictionary.h -- the decoder W_d of sparse coding (one unit-norm atom per
** row, m x n): its initialisation, projected gradient step, re-drawing of
** atoms the codes no longer use, and its exchange between learners as a
** file (a daydream checkpoint blob holding one tensor "W_d") and a PNG grid.
*/
#ifndef DD_SPARSE_DICTIONARY_H
#define DD_SPARSE_DICTIONARY_H

#include <stddef.h>

#include <daydream/rng.h>

/* Scales every atom (row) to unit L2 norm; an all-zero atom becomes a
** random unit vector drawn from rng. */
void dict_normalize(float *W, int m, int n, dd_rng *rng);

/* 1 when any of the count weights is non-zero: a dictionary has been drawn
** or loaded (a learner's "ready" after load()). */
int dict_is_drawn(const float *W, size_t count);

/* Atoms from random rows of Y (batch x n) plus a little noise, normalised
** (rows repeat when batch < m). A Gaussian draw when batch is 0. */
void dict_init(float *W, int m, int n, const float *Y, int batch, dd_rng *rng);

/* Adds into gW (m x n) the gradient of the mean over the batch of
** ||y - W^T z||^2: -2/batch Z^T (Y - Z W). R is batch x n scratch. */
void dict_grad(const float *W, int m, int n, const float *Y, const float *Z, int batch,
               float *R, float *gW);

/* Re-draws atoms unused for `patience` updates: idle[j] counts the updates
** since atom j last had a non-zero code in Z; each atom past patience is
** replaced by the batch row its current codes reconstruct worst (taken
** from R, the residuals Y - Z W), normalised. Returns the atoms re-drawn. */
int dict_resample(float *W, int m, int n, const float *Z, const float *R, int batch,
                  float *idle, int patience, dd_rng *rng);

/* Writes W as a checkpoint blob file holding the tensor "W_d" (m x n).
** 0, or -1 with a message naming the file in err. */
int dict_save_file(const float *W, int m, int n, const char *path, char *err, size_t errlen);

/* Reads such a file into W, which must be m x n: a file of another shape,
** a corrupt or truncated one is refused (err says why) and W left as it was. */
int dict_load_file(float *W, int m, int n, const char *path, char *err, size_t errlen);

/* A PNG grid of the atoms, each an h x w image scaled to its own largest
** magnitude (grey is 0), `zoom` pixels per value, 1-pixel black borders. */
int dict_save_png(const float *W, int m, int h, int w, int zoom, const char *path,
                  char *err, size_t errlen);

#endif
