/*
** daydream/nn.h -- the numeric toolkit in one include: tensors, the graph
** (arena and tape), ops and losses, parameter sets and initialisation,
** optimisers, checkpoints, the IDX reader, and BLAS threading.
*/
#ifndef DAYDREAM_NN_H
#define DAYDREAM_NN_H

#include "daydream/checkpoint.h"
#include "daydream/graph.h"
#include "daydream/idx.h"
#include "daydream/ops.h"
#include "daydream/optim.h"
#include "daydream/param.h"
#include "daydream/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Sets the threads OpenBLAS uses for every later call in this process:
** n >= 1 pins to n (1 for reproducible timing or when processes already
** fill the cores), n <= 0 restores the default, one per core. This is
** OpenBLAS's process-wide setting, not a per-graph one. Returns the count
** now in force. */
int dd_nn_set_threads(int n);
int dd_nn_threads(void);

/* Runs fn(ctx, part, parts) for every part in [0, parts) on the toolkit's
** persistent threads (as many as dd_nn_threads, the caller's included) and
** returns when all are done: for plugins' own kernels, so that they share
** one pool with the toolkit's instead of starting threads of their own.
** Parts are claimed in turn, so any thread may run any part (one part on
** one thread at a time): a part that writes only its own outputs gives the
** same result for any thread count. A part must not call dd_nn_parallel;
** a call from a second program thread while a job runs (or with more than
** 255 parts) runs its parts one after another on the caller. */
typedef void (*dd_nn_part_fn)(void *ctx, int part, int parts);
void dd_nn_parallel(dd_nn_part_fn fn, void *ctx, int parts);

#ifdef __cplusplus
}
#endif
#endif
