/*
** feature_kit.h -- small pieces every unsupervised feature learner (pca,
** kmeans, and the sparse ones through dd_sparse) needs around its
** algorithm: the neutral action of a learner that only watches, the shape
** of the sample it learns from, exact storage of doubles and integers in
** float32 checkpoints, and the filter grid written as PNG.
*/
#ifndef DD_FEATURE_KIT_H
#define DD_FEATURE_KIT_H

#include <stddef.h>
#include <stdint.h>

#include <daydream/plugin.h>

/* The first observation tensor, the one feature learners read: d floats as
** an image of c planes of h x w (a flat vector is 1 x 1 x d). */
typedef struct feat_shape {
	int d, c, h, w;
} feat_shape;

/* Fills s from env's first observation tensor; DD_ERR through host when the
** env shows no observation. */
int feat_shape_of(const dd_spaces *env, dd_host *host, feat_shape *s);

/* Writes the action of a learner that only watches: index 0 of a discrete
** space, else 0 clamped into each box bound. */
void feat_neutral_action(const dd_spaces *env, int batch, float *action);

/* Index of the info stat `name` in env, or -1 when it has none. */
int feat_info_index(const dd_spaces *env, const char *name);

/* A double kept in two floats, hi + lo, so that a checkpoint of float32
** tensors keeps about 48 significant bits (counts, sums of statistics). */
void feat_split(double x, float *hi, float *lo);
double feat_join(float hi, float lo);

/* A 64-bit integer in four floats of 16 bits each (exact). */
void feat_u64_put(uint64_t x, float *f);
uint64_t feat_u64_get(const float *f);

/* Writes n filters (each s->d floats) as one PNG grid of tiles at `path`.
** symmetric: 0 is mid-gray and each tile is scaled by its largest |value|
** (signed filters: PCA components, dictionaries); otherwise each tile is
** stretched from its min to its max (centroids, images). Tiles of 3 planes
** are colour, others gray (planes stacked vertically). DD_ERR via host. */
int feat_grid_png(dd_host *host, const char *path, const float *filters, int n,
                  const feat_shape *s, int symmetric);

#endif
