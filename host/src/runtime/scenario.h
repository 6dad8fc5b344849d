/*
** scenario.h -- running a Lua scenario as one recorded run: open the store,
** begin (or resume) the run, execute the script with the dd module, and end
** the run as finished, failed or interrupted, whatever happens.
*/
#ifndef DD_SCENARIO_H
#define DD_SCENARIO_H

#include <stddef.h>
#include <stdint.h>

#include "registry.h"

typedef struct dd_scenario_opts {
	const char *script;        /* may be NULL with resume: the run's own */
	const char *db_path;       /* "runs.db" when NULL */
	const char *name;          /* run name; the script's base name when NULL */
	int n_set;                 /* --set key=value pairs */
	const char **set_keys, **set_vals;
	int has_seed;
	uint64_t seed;             /* default 1 */
	int64_t resume;            /* a run id to continue, or 0 */
	int progress;              /* show progress (stdout is a terminal) */
} dd_scenario_opts;

#define DD_EXIT_OK 0
#define DD_EXIT_FAILED 1
#define DD_EXIT_INTERRUPTED 130

/* Runs the scenario. Returns DD_EXIT_OK, DD_EXIT_FAILED (err holds a
** one-line cause: file:line and message for a Lua error) or
** DD_EXIT_INTERRUPTED. *run_id is the run's id, or 0 when none began. */
int dd_scenario_run(const dd_scenario_opts *o, dd_registry *registry,
                    int64_t *run_id, char *err, size_t err_size);

#endif
