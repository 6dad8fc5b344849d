/*
** store.h -- the run store: every run's parameters, metrics, episodes,
** checkpoints and artifacts in one SQLite database.
**
** One dd_store is one connection of one process, used by one thread at a
** time; never fork() with a store open (the child opens its own). Times in
** the database are unix seconds (UTC) as REAL. Writes are buffered and
** committed in batches (BEGIN IMMEDIATE), so a process killed at any moment
** leaves only whole batches behind; several processes may write to one file.
** The store knows nothing of plugins or Lua.
**
** Every function that can fail returns 0 or -1; after -1, dd_store_errmsg()
** tells why in one line that names the database file.
*/
#ifndef DD_STORE_H
#define DD_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dd_store dd_store;

/* Opens (creating if needed) the database at path, creates or migrates the
** schema, and marks as `crashed` every run left `running` by a process of
** this host that no longer exists. On failure returns -1 with *out NULL and
** the reason in err (which names path). Caller owns *out: dd_store_close. */
int dd_store_open(const char *path, dd_store **out, char *err, size_t err_size);
/* Flushes what is buffered and closes. NULL is allowed. */
void dd_store_close(dd_store *s);
const char *dd_store_errmsg(const dd_store *s);
const char *dd_store_path(const dd_store *s);

/* ---- runs ---- */

/* Starts a run with status `running`, this process's pid and host. */
int dd_store_run_begin(dd_store *s, const char *name, const char *scenario,
                       const char *scenario_hash, uint64_t seed, int64_t *run_id);
/* Takes an ended run up again (--resume): status back to `running`, owned
** by this process. Fails with a clear message when run_id does not exist. */
int dd_store_run_reopen(dd_store *s, int64_t run_id);
/* Flushes and ends a run. status: "finished", "failed", "interrupted".
** error may be NULL; it is kept in runs.error. */
int dd_store_run_end(dd_store *s, int64_t run_id, const char *status,
                     const char *error);

/* What a run was started with, for --resume. Strings are malloc'd: the
** caller frees them. */
typedef struct dd_run_info {
	int64_t id;
	char *name, *scenario, *status;
	uint64_t seed;
	char *scenario_hash; /* "" when none was recorded */
} dd_run_info;
int dd_store_run_get(dd_store *s, int64_t run_id, dd_run_info *info);
void dd_run_info_free(dd_run_info *info);

/* ---- params: one row per key; value kept typed (number or text) ---- */

int dd_store_param_num(dd_store *s, int64_t run_id, const char *key, double v);
int dd_store_param_text(dd_store *s, int64_t run_id, const char *key,
                        const char *v);
/* Calls fn for each param of a run, in key order; is_num tells which of num
** and text holds the value. */
int dd_store_params_each(dd_store *s, int64_t run_id,
                         void (*fn)(void *ud, const char *key, int is_num,
                                    double num, const char *text),
                         void *ud);

/* ---- buffered rows ---- */

/* Appends a metric row; wall_time is taken now. Buffered: committed when the
** buffer fills, every ~0.25 s of logging, on dd_store_flush, or at run end.
** -1 may also mean that such a commit failed: the rows stay buffered and are
** tried again at the next commit. */
int dd_store_metric(dd_store *s, int64_t run_id, const char *name,
                    int64_t step, double value);

typedef struct dd_episode_row {
	const char *env;     /* plugin name of the env */
	int64_t episode;     /* 0-based index within the run */
	double ret;          /* sum of rewards */
	int64_t length;      /* steps */
	int success;         /* -1 unknown, 0 no, 1 yes */
	int terminated, truncated;
	const char *info;    /* the last info stats as a JSON object, or NULL */
	const char *learner; /* label of the learner that acted, or NULL */
} dd_episode_row;
int dd_store_episode(dd_store *s, int64_t run_id, const dd_episode_row *e);

/* Commits every buffered row now. */
int dd_store_flush(dd_store *s);

/* Sets when buffered rows are committed: once rows (>= 1) are buffered, and
** on the first log call seconds after the last commit (seconds <= 0: never
** by time). Defaults: 4096 rows, 0.25 s. Tests use it to make batches exact;
** a failed commit keeps its rows buffered for the next try. */
int dd_store_set_batch(dd_store *s, size_t rows, double seconds);

/* ---- checkpoints and artifacts (written at once, not buffered) ---- */

/* Stores a blob with its CRC-32; owner names what it belongs to (a learner's
** label). *id may be NULL. Flushes buffered rows first, so a checkpoint never
** lands before the metrics logged ahead of it. */
int dd_store_checkpoint_put(dd_store *s, int64_t run_id, const char *owner,
                            int64_t step, const void *blob, size_t n,
                            int64_t *id);
/* Fetches the latest (highest step, then newest) checkpoint of owner in run,
** verifying its CRC-32. Returns 1 and a malloc'd *blob (caller frees) when
** found, 0 when there is none, -1 on error (including a checksum mismatch,
** whose message names the run, owner and step). */
int dd_store_checkpoint_latest(dd_store *s, int64_t run_id, const char *owner,
                               void **blob, size_t *n, int64_t *step);

int dd_store_artifact(dd_store *s, int64_t run_id, const char *name,
                      const char *media_type, const void *data, size_t n);

/* The raw connection, for read-only queries of the CLI (query, runs, show).
** Owned by the store. */
struct sqlite3 *dd_store_db(dd_store *s);

#endif
