/*
** run.h -- the run a scenario is executing, and the host services that
** plugin instances get (logging into the run, errors, seeds).
*/
#ifndef DD_RUN_H
#define DD_RUN_H

#include <signal.h>
#include <stdint.h>

#include "daydream/plugin.h"
#include "store.h"

typedef struct dd_run {
	dd_store *store;           /* NULL: nothing is recorded (e.g. tests) */
	int64_t id;
	uint64_t seed;
	int64_t next_episode;      /* index the next logged episode gets */
	int progress;              /* 1: show progress on the terminal */
	double started;            /* monotonic seconds at start */
} dd_run;

/* Set by SIGINT/SIGTERM; long C loops stop when they see it. */
extern volatile sig_atomic_t dd_interrupted;

/* The dd_host of one plugin instance, with room for its last error. */
typedef struct dd_instance_host {
	dd_host host;              /* first: plugins see only this part */
	dd_run *run;
	char label[64];            /* plugin name, for messages */
	char error[1024];          /* the last message error() recorded */
} dd_instance_host;

/* Fills h for an instance labelled label, seeded with seed. */
void dd_instance_host_init(dd_instance_host *h, dd_run *run, const char *label,
                           uint64_t seed);

/* Writes "label: <last error>" (or a generic text naming what failed when
** the plugin left no message) into err. */
void dd_instance_error(const dd_instance_host *h, const char *what, char *err,
                       size_t err_size);

/* Monotonic seconds. */
double dd_now(void);

#endif
