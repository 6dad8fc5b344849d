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

#ifdef __cplusplus
}
#endif
#endif
