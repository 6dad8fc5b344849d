/*
** paramset_internal.h -- the layout of a dd_paramset, shared by the files
** that walk its buffers (optimisers, checkpoints). Not installed.
*/
#ifndef DD_PARAMSET_INTERNAL_H
#define DD_PARAMSET_INTERNAL_H

#include "daydream/param.h"

typedef struct ps_entry {
	char name[DD_PARAM_NAME_MAX + 1];
	dd_tensor *tensor;   /* owned; data/grad point into the set's buffers */
	size_t offset;       /* of its first float in data and grad */
} ps_entry;

struct dd_paramset {
	ps_entry *entries;
	int n, cap;
	size_t count;        /* floats in data and in grad, gaps included */
	float *data, *grad;
	int frozen;
	char err[256];
};

#endif
