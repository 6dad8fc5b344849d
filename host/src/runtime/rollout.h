/*
** rollout.h -- the episode loop in C: a learner acts in a vectorised env,
** optionally learns from each batch of transitions, and every finished
** episode is logged to the run. Lua calls it once (dd.rollout); it costs
** nothing per step on the Lua side.
*/
#ifndef DD_ROLLOUT_H
#define DD_ROLLOUT_H

#include <stdint.h>

#include "learner.h"
#include "vec_env.h"

typedef struct dd_rollout_opts {
	int64_t episodes;      /* stop after this many finished episodes (0: no limit) */
	int64_t steps;         /* stop after this many env steps in all (0: no limit) */
	int train;             /* 1: observe every batch and update */
	int update_every;      /* batches between update() calls (>= 1) */
	int log_episodes;      /* 1: write each finished episode to the run */
	int has_seed;          /* 1: reset every instance first, episodes seeded */
	uint64_t seed;         /* from (seed, instance, episode): the same episodes
	                       ** for every learner given the same seed */
} dd_rollout_opts;

typedef struct dd_rollout_stats {
	int64_t episodes, steps, updates;
	double return_sum;          /* of finished episodes */
	double last_return;
	int64_t successes, success_known;
	int64_t length_sum;
	dd_metrics metrics;         /* the last update()'s */
	double seconds;
	double info_sum[256];       /* per info stat: sum of its last values over
	                            ** the finished episodes */
} dd_rollout_stats;

/* Runs until a limit is met (at least one must be set). The env is reset
** first when it has never been, or when opts->has_seed. Returns 0, or -1 with a cause in err (an
** interrupt gives "interrupted"). Stats are filled either way. */
int dd_rollout(dd_vec_env *v, dd_learner *l, dd_run *run,
               const dd_rollout_opts *opts, dd_rollout_stats *stats,
               char *err, size_t err_size);

/* Shows one progress line on the terminal when run->progress is set;
** final ends the line. Prints at most ~5 times per second. */
void dd_progress_show(dd_run *run, const dd_rollout_stats *s,
                      const dd_rollout_opts *o, int final);

#endif
