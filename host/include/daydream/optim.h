/*
** daydream/optim.h -- optimisers over a dd_paramset's one gradient buffer.
**
** Updates follow PyTorch's definitions (torch.optim, version 1.13), so a
** learner ported from there behaves the same. The moments of every
** parameter live in one contiguous buffer owned by the optimiser. Step count
** and moments are saved by dd_checkpoint_save().
*/
#ifndef DAYDREAM_OPTIM_H
#define DAYDREAM_OPTIM_H

#include <stdint.h>

#include "daydream/param.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum dd_optim_kind {
	DD_OPTIM_SGD = 1,
	DD_OPTIM_RMSPROP = 2,
	DD_OPTIM_ADAM = 3
} dd_optim_kind;

typedef struct dd_optim_config {
	dd_optim_kind kind;
	float lr;
	float momentum;      /* SGD, RMSProp; 0 = none */
	int nesterov;        /* SGD with momentum */
	float alpha;         /* RMSProp: smoothing of the squared gradient */
	float beta1, beta2;  /* Adam */
	float eps;           /* RMSProp, Adam */
	float weight_decay;  /* 0 = none */
	int decoupled;       /* weight decay as p -= lr*wd*p (AdamW) instead of g += wd*p */
} dd_optim_config;

typedef struct dd_optim dd_optim;

/* PyTorch's defaults for kind (lr 0.01 SGD and RMSProp, 0.001 Adam;
** alpha 0.99; betas 0.9, 0.999; eps 1e-8 for RMSProp and Adam). */
dd_optim_config dd_optim_defaults(dd_optim_kind kind);

/* An optimiser of ps's parameters with zeroed moments; ps must be
** allocated and outlive it. NULL on a bad config or no memory, with the
** reason in dd_paramset_error(ps). The caller owns the result; release
** with dd_optim_free(). */
dd_optim *dd_optim_new(dd_paramset *ps, const dd_optim_config *cfg);
void dd_optim_free(dd_optim *opt);

/* One update from the gradient buffer (which it leaves as it is: zero it
** with dd_paramset_zero_grad before the next backward). Does nothing on a
** frozen set. No allocation. */
int dd_optim_step(dd_optim *opt);

/* The learning rate of the next steps (a scenario's schedule sets it). */
void dd_optim_set_lr(dd_optim *opt, float lr);
float dd_optim_lr(const dd_optim *opt);
/* Steps taken (Adam's bias correction counts from it). */
int64_t dd_optim_steps(const dd_optim *opt);
const dd_optim_config *dd_optim_get_config(const dd_optim *opt);

/* The moments buffer: count floats (0, 1 or 2 times the parameter count,
** by kind and momentum), for checkpoints and all-reduce. */
float *dd_optim_state(dd_optim *opt, size_t *count);

#ifdef __cplusplus
}
#endif
#endif
