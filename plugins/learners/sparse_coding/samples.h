/*
** samples.h -- what the three sparse learners share at the plugin edge: the
** first observation tensor of a batch of transitions as flat rows, a
** bounded buffer of such rows. (Their do-nothing action is feature_kit's
** feat_neutral_action.)
*/
#ifndef DD_SPARSE_SAMPLES_H
#define DD_SPARSE_SAMPLES_H

#include <daydream/plugin.h>

/* Rows of n floats; the newest `cap` are kept (a ring once full). */
typedef struct samples {
	int n, cap;
	int count;    /* rows held, <= cap */
	int next;     /* where the next row goes */
	float *rows;  /* cap x n */
} samples;

/* 0, or -1 when memory runs out. */
int samples_init(samples *s, int n, int cap);
void samples_free(samples *s);
/* Appends k rows of n floats (overwriting the oldest once full). */
void samples_push(samples *s, const float *rows, int k);
void samples_clear(samples *s);

/* Checks that env's first observation tensor exists and has at most 2^20
** floats, and says how many (*n) and the height and width to draw an atom
** in (feat_shape_of's plane; 1 x n for a vector or several planes). DD_ERR
** through host otherwise. */
int samples_obs_shape(dd_host *host, const dd_spaces *env, const char *learner, int *n,
                      int *h, int *w);

#endif
