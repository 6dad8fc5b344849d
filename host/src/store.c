/*
** store.c -- the run store on SQLite (see store.h): a versioned schema that
** people query with plain SQL, rows committed in batches, crashed runs found.
*/
#include "store.h"

#include <daydream/crc32.h>
#include <sqlite3.h>

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

/* Times are unix seconds (UTC) as REAL everywhere; the views render
** ISO-8601. Never fork with a store open: SQLite keeps per-process lock state
** that a forked child would wrongly inherit, so each process opens its own. */

/* Rows buffered before a commit, and the time since the last commit after
** which the next log call commits. 4096 rows amortise the commit (a few
** tens of microseconds in WAL with synchronous=NORMAL, which does not fsync
** per commit) to nothing; 0.25 s keeps `SELECT` from another process close
** to live. */
#define BATCH_ROWS 4096
#define BATCH_SECONDS 0.25
/* How long one lock attempt waits in the busy handler, and how long the
** retry loop around BEGIN IMMEDIATE keeps trying before it gives up: only a
** writer that holds the lock for a minute (a stuck sqlite3 shell) makes us
** fail. */
#define BUSY_SECONDS 10.0
#define LOCK_GIVE_UP_SECONDS 60.0
/* When commits keep failing (disk full) the buffer keeps the rows for the
** next try, up to this many batches; past it, new rows are refused with an
** error rather than growing without bound. */
#define MAX_BUFFERED_BATCHES 64

/* ------------------------------------------------------------------------
** The schema. Version N is reached by applying migrations[N-1] to version
** N-1; a migration is never edited once released, only new ones appended.
*/
static const char *const migrations[] = {
	/* 1: the first schema. */
	"CREATE TABLE runs (\n"
	"  id            INTEGER PRIMARY KEY,\n"
	"  name          TEXT,\n"
	"  scenario      TEXT,\n"
	"  scenario_hash TEXT,\n"
	"  status        TEXT NOT NULL CHECK (status IN\n"
	"                ('running','finished','failed','crashed','interrupted')),\n"
	"  seed          INTEGER,\n"
	"  host          TEXT,\n"
	"  pid           INTEGER,\n"
	"  pid_start     INTEGER,\n" /* /proc/<pid>/stat field 22: survives pid reuse */
	"  started_at    REAL NOT NULL,\n"
	"  ended_at      REAL,\n"
	"  error         TEXT\n"
	");\n"
	"CREATE INDEX runs_status ON runs(status);\n"
	"CREATE TABLE params (\n"
	"  run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  key    TEXT NOT NULL,\n"
	"  value,\n" /* no affinity: REAL stays REAL, TEXT stays TEXT */
	"  PRIMARY KEY (run_id, key)\n"
	") WITHOUT ROWID;\n"
	"CREATE TABLE metric_names (\n"
	"  id   INTEGER PRIMARY KEY,\n"
	"  name TEXT NOT NULL UNIQUE\n"
	");\n"
	"CREATE TABLE metric_values (\n"
	"  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name_id   INTEGER NOT NULL REFERENCES metric_names(id),\n"
	"  step      INTEGER NOT NULL,\n"
	"  value     REAL,\n"
	"  wall_time REAL NOT NULL\n"
	");\n"
	"CREATE INDEX metric_values_run_name_step\n"
	"  ON metric_values(run_id, name_id, step);\n"
	"CREATE TABLE metric_latest (\n"
	"  run_id    INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name_id   INTEGER NOT NULL REFERENCES metric_names(id),\n"
	"  step      INTEGER NOT NULL,\n"
	"  value     REAL,\n"
	"  wall_time REAL NOT NULL,\n"
	"  PRIMARY KEY (run_id, name_id)\n"
	") WITHOUT ROWID;\n"
	"CREATE VIEW metrics AS\n"
	"  SELECT v.run_id, n.name, v.step, v.value, v.wall_time\n"
	"  FROM metric_values v JOIN metric_names n ON n.id = v.name_id;\n"
	"CREATE VIEW latest_metrics AS\n"
	"  SELECT l.run_id, n.name, l.step, l.value, l.wall_time\n"
	"  FROM metric_latest l JOIN metric_names n ON n.id = l.name_id;\n"
	"CREATE TABLE episodes (\n"
	"  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  env        TEXT NOT NULL,\n"
	"  episode    INTEGER NOT NULL,\n"
	"  return     REAL,\n"
	"  length     INTEGER,\n"
	"  success    INTEGER,\n" /* 1, 0, or NULL when the env cannot tell */
	"  terminated INTEGER NOT NULL,\n"
	"  truncated  INTEGER NOT NULL,\n"
	"  wall_time  REAL NOT NULL\n"
	");\n"
	"CREATE INDEX episodes_run_episode ON episodes(run_id, episode);\n"
	/* bytes last: a row's later columns would otherwise sit behind the
	** blob's overflow pages, and listing checkpoints would read every blob */
	"CREATE TABLE checkpoints (\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  owner      TEXT NOT NULL,\n"
	"  step       INTEGER NOT NULL,\n"
	"  size       INTEGER NOT NULL,\n"
	"  crc32      INTEGER NOT NULL,\n"
	"  created_at REAL NOT NULL,\n"
	"  bytes      BLOB NOT NULL\n"
	");\n"
	"CREATE INDEX checkpoints_run_owner_step ON checkpoints(run_id, owner, step);\n"
	"CREATE TABLE artifacts (\n"
	"  id         INTEGER PRIMARY KEY,\n"
	"  run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,\n"
	"  name       TEXT NOT NULL,\n"
	"  media_type TEXT,\n"
	"  size       INTEGER NOT NULL,\n"
	"  created_at REAL NOT NULL,\n"
	"  bytes      BLOB NOT NULL\n"
	");\n"
	"CREATE INDEX artifacts_run_name ON artifacts(run_id, name);\n"
	"CREATE VIEW run_summary AS\n"
	"  SELECT r.id AS run_id, r.name, r.scenario, r.status,\n"
	"    strftime('%Y-%m-%dT%H:%M:%SZ', r.started_at, 'unixepoch') AS started,\n"
	/* 'now' has millisecond resolution: clamp a just-started run at 0 */
	"    max(coalesce(r.ended_at, (julianday('now') - 2440587.5) * 86400.0)\n"
	"      - r.started_at, 0.0) AS duration,\n"
	"    (SELECT count(*) FROM episodes e WHERE e.run_id = r.id) AS episodes,\n"
	"    (SELECT avg(t.return) FROM (SELECT e.return FROM episodes e\n"
	"       WHERE e.run_id = r.id ORDER BY e.episode DESC LIMIT 100) t)\n"
	"      AS mean_return_last100\n"
	"  FROM runs r;\n",
	/* 2: each episode's last info stats, as a JSON object. */
	"ALTER TABLE episodes ADD COLUMN info TEXT;\n",
	/* 3: the label of the learner that acted in each episode. */
	"ALTER TABLE episodes ADD COLUMN learner TEXT;\n",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

/* ------------------------------------------------------------------------
** Cached statements, prepared on first use (after the schema exists).
*/
enum {
	ST_BEGIN, ST_COMMIT, ST_ROLLBACK,
	ST_NAME_ADD, ST_NAME_GET, ST_METRIC_ADD, ST_LATEST_SET, ST_EPISODE_ADD,
	ST_RUN_EXISTS, ST_RUN_ADD, ST_RUN_END, ST_RUN_GET, ST_RUN_OWNER,
	ST_RUN_REOPEN, ST_PARAM_SET, ST_PARAMS_GET, ST_CKPT_ADD, ST_CKPT_LATEST,
	ST_ARTIFACT_ADD, ST_COUNT
};
static const char *const sql_of[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_NAME_ADD] = "INSERT OR IGNORE INTO metric_names(name) VALUES(?1)",
	[ST_NAME_GET] = "SELECT id FROM metric_names WHERE name = ?1",
	[ST_METRIC_ADD] = "INSERT INTO metric_values(run_id, name_id, step, value,"
	                  " wall_time) VALUES(?1, ?2, ?3, ?4, ?5)",
	[ST_LATEST_SET] = "INSERT INTO metric_latest(run_id, name_id, step, value,"
	                  " wall_time) VALUES(?1, ?2, ?3, ?4, ?5)"
	                  " ON CONFLICT(run_id, name_id) DO UPDATE SET"
	                  " step = excluded.step, value = excluded.value,"
	                  " wall_time = excluded.wall_time",
	[ST_EPISODE_ADD] = "INSERT INTO episodes(run_id, env, episode, return,"
	                   " length, success, terminated, truncated, wall_time, info,"
	                   " learner) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
	[ST_RUN_EXISTS] = "SELECT 1 FROM runs WHERE id = ?1",
	[ST_RUN_ADD] = "INSERT INTO runs(name, scenario, scenario_hash, status,"
	               " seed, host, pid, pid_start, started_at)"
	               " VALUES(?1, ?2, ?3, 'running', ?4, ?5, ?6, ?7, ?8)",
	[ST_RUN_END] = "UPDATE runs SET status = ?2, ended_at = ?3, error = ?4"
	               " WHERE id = ?1",
	[ST_RUN_GET] = "SELECT id, name, scenario, status, seed, scenario_hash"
	               " FROM runs WHERE id = ?1",
	[ST_RUN_OWNER] = "SELECT status, host, pid, pid_start FROM runs"
	                 " WHERE id = ?1",
	[ST_RUN_REOPEN] = "UPDATE runs SET status = 'running', host = ?2,"
	                  " pid = ?3, pid_start = ?4, ended_at = NULL,"
	                  " error = NULL WHERE id = ?1",
	[ST_PARAM_SET] = "INSERT INTO params(run_id, key, value) VALUES(?1, ?2, ?3)"
	                 " ON CONFLICT(run_id, key) DO UPDATE SET"
	                 " value = excluded.value",
	[ST_PARAMS_GET] = "SELECT key, value FROM params WHERE run_id = ?1"
	                  " ORDER BY key",
	[ST_CKPT_ADD] = "INSERT INTO checkpoints(run_id, owner, step, size, crc32,"
	                " created_at, bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	[ST_CKPT_LATEST] = "SELECT id, step, size, crc32, bytes FROM checkpoints"
	                   " WHERE run_id = ?1 AND owner = ?2"
	                   " ORDER BY step DESC, id DESC LIMIT 1",
	[ST_ARTIFACT_ADD] = "INSERT INTO artifacts(run_id, name, media_type, size,"
	                    " created_at, bytes) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
};

/* ------------------------------------------------------------------------
** The store.
*/

/* An interned string: a metric name or an env name. db_id is the row of
** metric_names once known (0 before), so a name costs one hash lookup per
** logged row and one SQL lookup per process. */
typedef struct name_entry {
	char *str;
	uint32_t hash;
	int64_t db_id;
} name_entry;

typedef struct metric_row {
	int64_t run_id, step;
	double value, wall;
	uint32_t name;
} metric_row;

typedef struct episode_row {
	int64_t run_id, episode, length;
	double ret, wall;
	uint32_t env;
	int success, terminated, truncated;
	char *info;            /* JSON, owned; NULL when none */
	uint32_t learner;      /* interned label, or NO_LEARNER */
} episode_row;

#define NO_LEARNER UINT32_MAX

/* One slot of the set of (run, name) pairs seen while committing a batch,
** to write each pair's last row to metric_latest once. gen tells a slot of
** this batch from a stale one, so the set is never cleared. */
typedef struct pair_slot {
	int64_t run_id;
	uint32_t name, gen;
} pair_slot;

struct dd_store {
	sqlite3 *db;
	char *path;
	char err[768];
	sqlite3_stmt *st[ST_COUNT];

	char host[256];
	long pid;
	long long pid_start;
	double busy_since; /* monotonic time of the first busy callback */

	name_entry *names;
	uint32_t n_names;
	size_t cap_names;
	int32_t *slots; /* open addressing into names; -1 empty */
	uint32_t slot_mask;
	/* names whose db_id was found in the open transaction: forgotten again
	** if it rolls back, since a rolled-back INSERT leaves no row */
	uint32_t *fresh;
	uint32_t n_fresh;
	size_t cap_fresh;

	metric_row *m;
	size_t n_m, cap_m;
	episode_row *e;
	size_t n_e, cap_e;
	pair_slot *pairs;
	size_t pair_mask;
	uint32_t gen;

	int64_t *known_runs; /* runs this connection has seen exist */
	size_t n_known, cap_known, last_known;

	size_t batch_rows;
	double batch_seconds;
	double last_flush; /* wall time of the last commit of rows */
};

/* Frees the JSON texts of the buffered episodes (after a commit, or at close). */
static void free_episode_info(dd_store *s)
{
	for (size_t r = 0; r < s->n_e; r++) {
		free(s->e[r].info);
		s->e[r].info = NULL;
	}
}

/* ------------------------------------------------------------------------
** Small helpers.
*/

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static double mono_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void nap_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* The name of a primary result code, for messages a person can search. */
static const char *code_name(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_ERROR: return "SQLITE_ERROR";
	case SQLITE_PERM: return "SQLITE_PERM";
	case SQLITE_BUSY: return "SQLITE_BUSY";
	case SQLITE_LOCKED: return "SQLITE_LOCKED";
	case SQLITE_NOMEM: return "SQLITE_NOMEM";
	case SQLITE_READONLY: return "SQLITE_READONLY";
	case SQLITE_IOERR: return "SQLITE_IOERR";
	case SQLITE_CORRUPT: return "SQLITE_CORRUPT";
	case SQLITE_FULL: return "SQLITE_FULL";
	case SQLITE_CANTOPEN: return "SQLITE_CANTOPEN";
	case SQLITE_PROTOCOL: return "SQLITE_PROTOCOL";
	case SQLITE_SCHEMA: return "SQLITE_SCHEMA";
	case SQLITE_TOOBIG: return "SQLITE_TOOBIG";
	case SQLITE_CONSTRAINT: return "SQLITE_CONSTRAINT";
	case SQLITE_MISMATCH: return "SQLITE_MISMATCH";
	case SQLITE_MISUSE: return "SQLITE_MISUSE";
	case SQLITE_AUTH: return "SQLITE_AUTH";
	case SQLITE_RANGE: return "SQLITE_RANGE";
	case SQLITE_NOTADB: return "SQLITE_NOTADB";
	default: return "SQLITE_?";
	}
}

static int is_busy(int rc)
{
	return (rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED;
}

/* Sets the store's message to "<path>: <formatted text>" and returns -1, so
** that every failure names the database file in one line. */
static int fail(dd_store *s, const char *fmt, ...)
{
	int k = snprintf(s->err, sizeof s->err, "%s: ", s->path);
	if (k < 0 || (size_t)k >= sizeof s->err)
		k = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(s->err + k, sizeof s->err - (size_t)k, fmt, ap);
	va_end(ap);
	return -1;
}

/* Like fail() for an SQLite error rc: "<path>: <what>: <sqlite's text>
** (<code>)". Reads sqlite3_errmsg, so call it before any ROLLBACK. */
static int fail_db(dd_store *s, int rc, const char *what)
{
	const char *msg = s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
	if (s->db && sqlite3_errcode(s->db) != rc)
		msg = sqlite3_errstr(rc);
	return fail(s, "%s: %s (%s)", what, msg, code_name(rc));
}

/* Returns the cached statement id, preparing it on first use; NULL (with
** the message set) when preparation fails. */
static sqlite3_stmt *stmt(dd_store *s, int id)
{
	if (s->st[id])
		return s->st[id];
	int rc = sqlite3_prepare_v3(s->db, sql_of[id], -1,
	                            SQLITE_PREPARE_PERSISTENT, &s->st[id], NULL);
	if (rc != SQLITE_OK) {
		fail_db(s, rc, "cannot prepare a statement");
		s->st[id] = NULL;
	}
	return s->st[id];
}

/* Steps a statement that returns no row and resets it; returns the step's
** code (SQLITE_DONE on success). Reset is done at once so no statement ever
** keeps a read transaction open between calls: an open read snapshot would
** make a later BEGIN IMMEDIATE fail with SQLITE_BUSY_SNAPSHOT. */
static int run_stmt(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc;
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Returns array p (of *cap elements of size sz) grown to hold at least need
** elements: p itself when it is big enough, NULL when out of memory (p is
** then unchanged and still owned by the caller). */
static void *grow(void *p, size_t *cap, size_t need, size_t sz)
{
	if (need <= *cap && p)
		return p;
	size_t c = *cap ? *cap : 16;
	while (c < need)
		c *= 2;
	if (c > SIZE_MAX / sz)
		return NULL;
	void *q = realloc(p, c * sz);
	if (q)
		*cap = c;
	return q;
}

/* Makes room for one more element at index n of the array field f of s;
** fails with "out of memory". */
#define ROOM(s, f, capf, n) \
	do { \
		void *q_ = grow((s)->f, &(s)->capf, (size_t)(n) + 1, sizeof *(s)->f); \
		if (!q_) \
			return fail((s), "out of memory"); \
		(s)->f = q_; \
	} while (0)

static char *dup_or_empty(const unsigned char *t)
{
	const char *src = t ? (const char *)t : "";
	size_t n = strlen(src) + 1;
	char *d = malloc(n);
	if (d)
		memcpy(d, src, n);
	return d;
}

/* ------------------------------------------------------------------------
** Processes: who owns a run, and is it still alive.
*/

/* Reads the state (field 3) and start time in clock ticks since boot (field
** 22) of /proc/<pid>/stat. Returns 0, or -1 when the file cannot be read
** (no such process, or not Linux). The command name (field 2) may hold
** spaces and parentheses, so fields are counted from its last ')'. */
static int proc_stat(long pid, char *state, long long *start)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%ld/stat", pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof buf - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || !p[2])
		return -1;
	p += 2; /* field 3 */
	*state = *p;
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	char *end;
	*start = strtoll(p, &end, 10);
	return end == p ? -1 : 0;
}

/* Returns 1 when the process pid that started at start (-1: unknown) is
** gone: no such pid, a zombie, or a new process that reuses the pid. */
static int process_gone(long pid, long long start)
{
	if (pid <= 0)
		return 0; /* unknown owner: cannot tell, leave the run alone */
	if (kill((pid_t)pid, 0) == -1 && errno == ESRCH)
		return 1;
	char state;
	long long now;
	if (proc_stat(pid, &state, &now) != 0)
		return 0;
	return state == 'Z' || (start >= 0 && now != start);
}

/* ------------------------------------------------------------------------
** Interned names.
*/

static uint32_t hash_str(const char *p)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 16777619u;
	return h;
}

/* Rebuilds the slot table at n slots (a power of two). */
static int rehash(dd_store *s, uint32_t n)
{
	int32_t *slots = malloc(n * sizeof *slots);
	if (!slots)
		return -1;
	for (uint32_t i = 0; i < n; i++)
		slots[i] = -1;
	for (uint32_t k = 0; k < s->n_names; k++) {
		uint32_t i = s->names[k].hash & (n - 1);
		while (slots[i] >= 0)
			i = (i + 1) & (n - 1);
		slots[i] = (int32_t)k;
	}
	free(s->slots);
	s->slots = slots;
	s->slot_mask = n - 1;
	return 0;
}

/* Finds or adds str; *idx is its index in s->names. Returns 0 or -1. */
static int intern(dd_store *s, const char *str, uint32_t *idx)
{
	uint32_t h = hash_str(str), i = h & s->slot_mask;
	for (int32_t k; (k = s->slots[i]) >= 0; i = (i + 1) & s->slot_mask) {
		if (s->names[k].hash == h && strcmp(s->names[k].str, str) == 0) {
			*idx = (uint32_t)k;
			return 0;
		}
	}
	if (s->n_names >= INT32_MAX / 2)
		return fail(s, "too many distinct metric and env names");
	ROOM(s, names, cap_names, s->n_names);
	size_t len = strlen(str) + 1;
	char *copy = malloc(len);
	if (!copy)
		return fail(s, "out of memory");
	memcpy(copy, str, len);
	uint32_t k = s->n_names++;
	s->names[k] = (name_entry){ copy, h, 0 };
	if ((s->n_names * 2 > s->slot_mask + 1)) {
		if (rehash(s, (s->slot_mask + 1) * 2)) {
			s->n_names--;
			free(copy);
			return fail(s, "out of memory");
		}
	} else {
		s->slots[i] = (int32_t)k;
	}
	*idx = k;
	return 0;
}

/* Makes sure names[k] has its metric_names id; inside a write transaction. */
static int name_resolve(dd_store *s, uint32_t k)
{
	name_entry *e = &s->names[k];
	if (e->db_id)
		return 0;
	sqlite3_stmt *add = stmt(s, ST_NAME_ADD), *get = stmt(s, ST_NAME_GET);
	if (!add || !get)
		return -1;
	ROOM(s, fresh, cap_fresh, s->n_fresh);
	sqlite3_bind_text(add, 1, e->str, -1, SQLITE_STATIC);
	int rc = run_stmt(add);
	if (rc != SQLITE_DONE)
		return fail_db(s, rc, "cannot add a metric name");
	sqlite3_bind_text(get, 1, e->str, -1, SQLITE_STATIC);
	rc = sqlite3_step(get);
	if (rc == SQLITE_ROW)
		e->db_id = sqlite3_column_int64(get, 0);
	sqlite3_reset(get);
	if (!e->db_id)
		return fail_db(s, rc == SQLITE_ROW ? SQLITE_ERROR : rc,
		               "cannot read a metric name's id");
	s->fresh[s->n_fresh++] = k;
	return 0;
}

/* ------------------------------------------------------------------------
** Write transactions. Every write goes through tx_begin .. tx_commit, and
** tx_begin first writes the buffered rows: whatever is written next (a
** checkpoint, a run's end) lands in the same transaction, after them.
*/

/* Busy handler: short naps first, since a writer holds the lock for only a
** batch (milliseconds); SQLite's own handler naps in whole milliseconds and
** leaves the lock idle between writers. Gives up after BUSY_SECONDS. */
static int on_busy(void *ud, int count)
{
	dd_store *s = ud;
	double t = mono_now();
	if (count == 0)
		s->busy_since = t;
	if (t - s->busy_since > BUSY_SECONDS)
		return 0;
	nap_us(count < 6 ? 20L << count : 1000L);
	return 1;
}

/* Forgets what a rolled-back transaction did: ends it if SQLite has not
** already, and unlearns the name ids it found. The buffered rows stay for
** the next try. */
static void tx_abort(dd_store *s)
{
	if (!sqlite3_get_autocommit(s->db)) {
		sqlite3_stmt *st = stmt(s, ST_ROLLBACK);
		if (st)
			run_stmt(st);
		else
			sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	}
	for (uint32_t i = 0; i < s->n_fresh; i++)
		s->names[s->fresh[i]].db_id = 0;
	s->n_fresh = 0;
}

/* Writes each (run, name) pair's last buffered row to metric_latest. */
static int write_latest(dd_store *s)
{
	size_t need = 2;
	while (need < 2 * s->n_m)
		need *= 2;
	if (need > s->pair_mask + 1) {
		pair_slot *p = calloc(need, sizeof *p);
		if (!p)
			return fail(s, "out of memory");
		free(s->pairs);
		s->pairs = p;
		s->pair_mask = need - 1;
		s->gen = 0;
	}
	if (++s->gen == 0) { /* wrapped: stale slots could look current */
		memset(s->pairs, 0, (s->pair_mask + 1) * sizeof *s->pairs);
		s->gen = 1;
	}
	sqlite3_stmt *st = stmt(s, ST_LATEST_SET);
	if (!st)
		return -1;
	for (size_t r = s->n_m; r-- > 0;) {
		const metric_row *m = &s->m[r];
		size_t i = ((uint64_t)m->run_id * 0x9E3779B97F4A7C15ull ^ m->name)
		           & s->pair_mask;
		int seen = 0;
		for (; s->pairs[i].gen == s->gen; i = (i + 1) & s->pair_mask) {
			if (s->pairs[i].run_id == m->run_id && s->pairs[i].name == m->name) {
				seen = 1;
				break;
			}
		}
		if (seen)
			continue;
		s->pairs[i] = (pair_slot){ m->run_id, m->name, s->gen };
		sqlite3_bind_int64(st, 1, m->run_id);
		sqlite3_bind_int64(st, 2, s->names[m->name].db_id);
		sqlite3_bind_int64(st, 3, m->step);
		sqlite3_bind_double(st, 4, m->value);
		sqlite3_bind_double(st, 5, m->wall);
		int rc = run_stmt(st);
		if (rc != SQLITE_DONE)
			return fail_db(s, rc, "cannot write latest_metrics");
	}
	return 0;
}

/* Inserts every buffered row; inside a write transaction. */
static int drain(dd_store *s)
{
	if (s->n_m) {
		sqlite3_stmt *st = stmt(s, ST_METRIC_ADD);
		if (!st)
			return -1;
		for (size_t r = 0; r < s->n_m; r++) {
			const metric_row *m = &s->m[r];
			if (name_resolve(s, m->name))
				return -1;
			sqlite3_bind_int64(st, 1, m->run_id);
			sqlite3_bind_int64(st, 2, s->names[m->name].db_id);
			sqlite3_bind_int64(st, 3, m->step);
			sqlite3_bind_double(st, 4, m->value); /* NaN becomes NULL */
			sqlite3_bind_double(st, 5, m->wall);
			int rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return fail_db(s, rc, "cannot write metrics");
		}
		if (write_latest(s))
			return -1;
	}
	if (s->n_e) {
		sqlite3_stmt *st = stmt(s, ST_EPISODE_ADD);
		if (!st)
			return -1;
		for (size_t r = 0; r < s->n_e; r++) {
			const episode_row *e = &s->e[r];
			sqlite3_bind_int64(st, 1, e->run_id);
			sqlite3_bind_text(st, 2, s->names[e->env].str, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 3, e->episode);
			sqlite3_bind_double(st, 4, e->ret);
			sqlite3_bind_int64(st, 5, e->length);
			if (e->success < 0)
				sqlite3_bind_null(st, 6);
			else
				sqlite3_bind_int(st, 6, e->success != 0);
			sqlite3_bind_int(st, 7, e->terminated != 0);
			sqlite3_bind_int(st, 8, e->truncated != 0);
			sqlite3_bind_double(st, 9, e->wall);
			if (e->info)
				sqlite3_bind_text(st, 10, e->info, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 10);
			if (e->learner != NO_LEARNER)
				sqlite3_bind_text(st, 11, s->names[e->learner].str, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, 11);
			int rc = sqlite3_step(st);
			sqlite3_reset(st);
			if (rc != SQLITE_DONE)
				return fail_db(s, rc, "cannot write episodes");
		}
	}
	return 0;
}

/* Takes the write lock (BEGIN IMMEDIATE), retrying while other writers
** hold it, for up to LOCK_GIVE_UP_SECONDS in all. */
static int tx_lock(dd_store *s)
{
	sqlite3_stmt *st = stmt(s, ST_BEGIN);
	if (!st)
		return -1;
	double t0 = mono_now();
	for (;;) {
		int rc = run_stmt(st);
		if (rc == SQLITE_DONE)
			return 0;
		if (!is_busy(rc) || mono_now() - t0 > LOCK_GIVE_UP_SECONDS)
			return fail_db(s, rc, "cannot start a write transaction");
		nap_us(1000);
	}
}

/* Opens a write transaction and writes the buffered rows into it. On
** failure nothing is left open and the rows stay buffered. */
static int tx_begin(dd_store *s)
{
	if (tx_lock(s))
		return -1;
	if (drain(s)) {
		tx_abort(s);
		return -1;
	}
	return 0;
}

/* Commits; on success the drained rows leave the buffer. On failure rolls
** back and keeps them. */
static int tx_commit(dd_store *s)
{
	sqlite3_stmt *st = stmt(s, ST_COMMIT);
	if (!st) {
		tx_abort(s);
		return -1;
	}
	double t0 = mono_now();
	int rc;
	/* In WAL a COMMIT holding the write lock does not wait for readers;
	** the loop is for rollback-journal files that a user converted. */
	while ((rc = run_stmt(st)) != SQLITE_DONE) {
		if (!is_busy(rc) || mono_now() - t0 > LOCK_GIVE_UP_SECONDS) {
			fail_db(s, rc, "cannot commit");
			tx_abort(s);
			return -1;
		}
		nap_us(1000);
	}
	s->n_fresh = 0;
	free_episode_info(s);
	s->n_m = s->n_e = 0;
	s->last_flush = wall_now();
	return 0;
}

/* Runs one prepared write statement (already bound) in its own transaction,
** after the buffered rows. *changes (may be NULL) gets the rows it changed;
** the row id of an INSERT is then sqlite3_last_insert_rowid(), which the
** COMMIT leaves alone. */
static int write_one(dd_store *s, sqlite3_stmt *st, const char *what,
                     int *changes)
{
	if (tx_begin(s)) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		return -1;
	}
	int rc = run_stmt(st);
	if (rc != SQLITE_DONE) {
		fail_db(s, rc, what);
		tx_abort(s);
		return -1;
	}
	if (changes)
		*changes = sqlite3_changes(s->db);
	return tx_commit(s);
}

/* ------------------------------------------------------------------------
** Opening: the file, the schema, crashed runs.
*/

/* Turns an open failure into a message a person can act on. */
static int fail_open(dd_store *s, int rc)
{
	if ((rc & 0xff) == SQLITE_NOTADB)
		return fail(s, "file is not a database (SQLITE_NOTADB) — expected a "
		               "Daydream database or a new file name");
	if ((rc & 0xff) == SQLITE_CANTOPEN) {
		int e = s->db ? sqlite3_system_errno(s->db) : 0;
		return fail(s, "cannot open the database file: %s (SQLITE_CANTOPEN)",
		            e ? strerror(e) : "unable to open");
	}
	return fail_db(s, rc, "cannot open the database");
}

/* Refuses paths SQLite would reject with a vague "unable to open database
** file": a directory, or a file in a directory that does not exist. */
static int check_path(dd_store *s)
{
	struct stat st;
	if (s->path[0] == 0)
		return fail(s, "empty database path");
	if (stat(s->path, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return fail(s, "is a directory — expected a database file");
		return 0;
	}
	if (errno != ENOENT)
		return fail(s, "cannot open the database file: %s", strerror(errno));
	const char *slash = strrchr(s->path, '/');
	if (!slash)
		return 0;
	size_t n = (size_t)(slash - s->path);
	char *dir = malloc(n + 2);
	if (!dir)
		return fail(s, "out of memory");
	memcpy(dir, s->path, n ? n : 1); /* "/x" lives in "/" */
	dir[n ? n : 1] = 0;
	int ok = stat(dir, &st) == 0 && S_ISDIR(st.st_mode);
	int e = errno;
	if (!ok)
		fail(s, "cannot create the database: directory %s %s", dir,
		     e == ENOENT ? "does not exist" : strerror(e));
	free(dir);
	return ok ? 0 : -1;
}

/* Runs sql (no result rows wanted), retrying while the file is locked.
** Used for the pragmas of open, which may meet another process creating
** the same file. */
static int exec_retry(dd_store *s, const char *sql, const char *what)
{
	double t0 = mono_now();
	for (;;) {
		int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if (!is_busy(rc) || mono_now() - t0 > LOCK_GIVE_UP_SECONDS)
			return rc == SQLITE_NOTADB || rc == SQLITE_CANTOPEN
			       ? fail_open(s, rc) : fail_db(s, rc, what);
		nap_us(1000);
	}
}

/* Reads one integer from sql into *v (0 when NULL or no row). */
static int query_int(dd_store *s, const char *sql, int64_t *v,
                     const char *what)
{
	double t0 = mono_now();
	for (;;) {
		sqlite3_stmt *st;
		int rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
		if (rc == SQLITE_OK) {
			rc = sqlite3_step(st);
			*v = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
			if (rc == SQLITE_ROW || rc == SQLITE_DONE)
				rc = SQLITE_OK;
			sqlite3_finalize(st);
		}
		if (rc == SQLITE_OK)
			return 0;
		if (!is_busy(rc) || mono_now() - t0 > LOCK_GIVE_UP_SECONDS)
			return rc == SQLITE_NOTADB ? fail_open(s, rc) : fail_db(s, rc, what);
		nap_us(1000);
	}
}

static int64_t schema_version_of(dd_store *s, int *ok)
{
	int64_t v = 0;
	*ok = query_int(s, "SELECT max(version) FROM schema_version", &v,
	                "cannot read the schema version") == 0;
	return v;
}

/* Creates or migrates the schema. Refuses an SQLite file of another program
** (tables but no schema_version) before changing anything in it, and a
** schema newer than this code. The check is repeated inside the write
** transaction because another process may be migrating the same file. */
static int schema_ready(dd_store *s)
{
	int64_t n_objects, has_version;
	if (query_int(s, "SELECT count(*) FROM sqlite_master", &n_objects,
	              "cannot read the schema"))
		return -1;
	if (query_int(s, "SELECT count(*) FROM sqlite_master WHERE type = 'table'"
	                 " AND name = 'schema_version'", &has_version,
	              "cannot read the schema"))
		return -1;
	if (n_objects > 0 && !has_version)
		return fail(s, "is an SQLite database of another program (it has no "
		               "schema_version table) — expected a Daydream database "
		               "or a new file name");
	/* WAL lets readers (sqlite3 shell, dashboards) read while runs write,
	** and with synchronous=NORMAL a commit costs no fsync. */
	if (exec_retry(s, "PRAGMA journal_mode = WAL", "cannot enable WAL"))
		return -1;
	if (exec_retry(s, "PRAGMA synchronous = NORMAL; PRAGMA cache_size = -16384",
	               "cannot set pragmas"))
		return -1;
	int ok = 1;
	int64_t v = has_version ? schema_version_of(s, &ok) : 0;
	if (!ok)
		return -1;
	if (v > SCHEMA_VERSION)
		return fail(s, "schema version %lld is newer than this Daydream knows "
		               "(%d) — use a newer daydream", (long long)v,
		            SCHEMA_VERSION);
	if (v == SCHEMA_VERSION)
		return 0;
	if (tx_lock(s))
		return -1;
	int rc = sqlite3_exec(s->db, "CREATE TABLE IF NOT EXISTS schema_version ("
	                             " version INTEGER PRIMARY KEY,"
	                             " applied_at REAL NOT NULL)", NULL, NULL, NULL);
	if (rc != SQLITE_OK)
		goto db_error;
	v = schema_version_of(s, &ok);
	if (!ok)
		goto error;
	for (int k = (int)v; k < SCHEMA_VERSION; k++) {
		rc = sqlite3_exec(s->db, migrations[k], NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto db_error;
		char sql[128];
		snprintf(sql, sizeof sql, "INSERT INTO schema_version VALUES(%d, %.6f)",
		         k + 1, wall_now());
		rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
		if (rc != SQLITE_OK)
			goto db_error;
	}
	return tx_commit(s);
db_error:
	fail_db(s, rc, "cannot create the schema");
error:
	tx_abort(s);
	return -1;
}

/* Marks `crashed` the runs left `running` by a dead process of this host;
** runs of other hosts are theirs to judge. ended_at becomes the time of the
** run's last committed row (its last sign of life), not the time we looked. */
static int mark_crashed(dd_store *s)
{
	sqlite3_stmt *q;
	int rc = sqlite3_prepare_v2(s->db, "SELECT id, pid, pid_start FROM runs"
	                            " WHERE status = 'running' AND host = ?1",
	                            -1, &q, NULL);
	if (rc != SQLITE_OK)
		return fail_db(s, rc, "cannot look for crashed runs");
	sqlite3_bind_text(q, 1, s->host, -1, SQLITE_STATIC);
	struct dead { int64_t id, pid, start; int start_null; } *dead = NULL;
	size_t n = 0, cap = 0;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		int64_t pid = sqlite3_column_int64(q, 1);
		int start_null = sqlite3_column_type(q, 2) == SQLITE_NULL;
		int64_t start = start_null ? -1 : sqlite3_column_int64(q, 2);
		if (!process_gone((long)pid, start))
			continue;
		void *q2 = grow(dead, &cap, n + 1, sizeof *dead);
		if (!q2) {
			rc = SQLITE_NOMEM;
			break;
		}
		dead = q2;
		dead[n++] = (struct dead){ sqlite3_column_int64(q, 0), pid, start,
		                           start_null };
	}
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE) {
		free(dead);
		return fail_db(s, rc, "cannot look for crashed runs");
	}
	if (n == 0)
		return 0;
	sqlite3_stmt *u = NULL;
	if (tx_lock(s)) {
		free(dead);
		return -1;
	}
	/* The pid condition keeps a run another process has just reopened. */
	rc = sqlite3_prepare_v2(s->db,
		"UPDATE runs SET status = 'crashed',"
		" ended_at = max(started_at,"
		"   coalesce((SELECT max(wall_time) FROM metric_latest"
		"             WHERE run_id = ?1), 0),"
		"   coalesce((SELECT max(wall_time) FROM episodes"
		"             WHERE run_id = ?1), 0)),"
		" error = printf('process %d on %s ended without ending the run;"
		" marked crashed by process %d', pid, host, ?4)"
		" WHERE id = ?1 AND status = 'running' AND pid = ?2"
		" AND pid_start IS ?3", -1, &u, NULL);
	for (size_t i = 0; rc == SQLITE_OK && i < n; i++) {
		sqlite3_bind_int64(u, 1, dead[i].id);
		sqlite3_bind_int64(u, 2, dead[i].pid);
		if (dead[i].start_null)
			sqlite3_bind_null(u, 3);
		else
			sqlite3_bind_int64(u, 3, dead[i].start);
		sqlite3_bind_int64(u, 4, s->pid);
		rc = run_stmt(u);
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(u);
	free(dead);
	if (rc != SQLITE_OK) {
		fail_db(s, rc, "cannot mark crashed runs");
		tx_abort(s);
		return -1;
	}
	return tx_commit(s);
}

/* Frees everything of s without flushing. */
static void destroy(dd_store *s)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	/* close_v2: statements the CLI prepared on dd_store_db() may remain */
	sqlite3_close_v2(s->db);
	for (uint32_t i = 0; i < s->n_names; i++)
		free(s->names[i].str);
	free(s->names);
	free(s->slots);
	free(s->fresh);
	free(s->m);
	free_episode_info(s);
	free(s->e);
	free(s->pairs);
	free(s->known_runs);
	free(s->path);
	free(s);
}

int dd_store_open(const char *path, dd_store **out, char *err, size_t err_size)
{
	*out = NULL;
	if (err && err_size)
		err[0] = 0;
	dd_store *s = calloc(1, sizeof *s);
	if (s)
		s->path = strdup(path ? path : "");
	if (!s || !s->path) {
		if (err && err_size)
			snprintf(err, err_size, "%s: out of memory", path ? path : "");
		free(s);
		return -1;
	}
	s->batch_rows = BATCH_ROWS;
	s->batch_seconds = BATCH_SECONDS;
	s->last_flush = wall_now();
	s->pid = (long)getpid();
	char state;
	if (proc_stat(s->pid, &state, &s->pid_start) != 0)
		s->pid_start = -1;
	if (gethostname(s->host, sizeof s->host) != 0)
		strcpy(s->host, "unknown");
	s->host[sizeof s->host - 1] = 0;

	int rc = -1;
	if (rehash(s, 64)) {
		fail(s, "out of memory");
		goto done;
	}
	if (check_path(s))
		goto done;
	int orc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
	                          SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (orc != SQLITE_OK) {
		fail_open(s, orc);
		goto done;
	}
	sqlite3_extended_result_codes(s->db, 1);
	sqlite3_busy_handler(s->db, on_busy, s);
	if (sqlite3_db_readonly(s->db, "main") == 1) {
		fail(s, "the database file is read-only — the run store must write "
		        "to it");
		goto done;
	}
	if (schema_ready(s) || mark_crashed(s))
		goto done;
	rc = 0;
done:
	if (rc) {
		if (err && err_size)
			snprintf(err, err_size, "%s", s->err);
		destroy(s);
		return -1;
	}
	*out = s;
	return 0;
}

int dd_store_flush(dd_store *s)
{
	if (!s)
		return -1;
	if (s->n_m == 0 && s->n_e == 0) {
		s->last_flush = wall_now();
		return 0;
	}
	if (tx_begin(s))
		return -1;
	return tx_commit(s);
}

void dd_store_close(dd_store *s)
{
	if (!s)
		return;
	dd_store_flush(s); /* nobody is left to hear of a failure */
	destroy(s);
}

const char *dd_store_errmsg(const dd_store *s)
{
	return s ? s->err : "no store (it failed to open)";
}

const char *dd_store_path(const dd_store *s)
{
	return s ? s->path : "";
}

struct sqlite3 *dd_store_db(dd_store *s)
{
	return s ? s->db : NULL;
}

int dd_store_set_batch(dd_store *s, size_t rows, double seconds)
{
	if (!s)
		return -1;
	if (rows == 0)
		return fail(s, "batch size must be at least one row");
	s->batch_rows = rows;
	s->batch_seconds = seconds;
	return 0;
}

/* ------------------------------------------------------------------------
** Runs.
*/

static int remember_run(dd_store *s, int64_t run_id)
{
	ROOM(s, known_runs, cap_known, s->n_known);
	s->last_known = s->n_known;
	s->known_runs[s->n_known++] = run_id;
	return 0;
}

/* Checks that run_id exists, so a wrong id fails at the call that used it
** (not at a later commit, and without orphan rows). One SQL lookup per run
** per connection. */
static int check_run(dd_store *s, int64_t run_id)
{
	if (s->n_known && s->known_runs[s->last_known] == run_id)
		return 0;
	for (size_t i = 0; i < s->n_known; i++) {
		if (s->known_runs[i] == run_id) {
			s->last_known = i;
			return 0;
		}
	}
	sqlite3_stmt *st = stmt(s, ST_RUN_EXISTS);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	int rc = run_stmt(st);
	if (rc == SQLITE_ROW)
		return remember_run(s, run_id);
	if (rc == SQLITE_DONE)
		return fail(s, "no run %lld", (long long)run_id);
	return fail_db(s, rc, "cannot read runs");
}

int dd_store_run_begin(dd_store *s, const char *name, const char *scenario,
                       const char *scenario_hash, uint64_t seed, int64_t *run_id)
{
	if (!s)
		return -1;
	sqlite3_stmt *st = stmt(s, ST_RUN_ADD);
	if (!st)
		return -1;
	bind_text_or_null(st, 1, name);
	bind_text_or_null(st, 2, scenario);
	bind_text_or_null(st, 3, scenario_hash);
	sqlite3_bind_int64(st, 4, (int64_t)seed); /* seeds >= 2^63 read negative */
	sqlite3_bind_text(st, 5, s->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, s->pid);
	if (s->pid_start >= 0)
		sqlite3_bind_int64(st, 7, s->pid_start);
	else
		sqlite3_bind_null(st, 7);
	sqlite3_bind_double(st, 8, wall_now());
	if (write_one(s, st, "cannot add a run", NULL))
		return -1;
	int64_t id = sqlite3_last_insert_rowid(s->db);
	if (run_id)
		*run_id = id;
	return remember_run(s, id);
}

int dd_store_run_reopen(dd_store *s, int64_t run_id)
{
	if (!s)
		return -1;
	sqlite3_stmt *own = stmt(s, ST_RUN_OWNER), *up = stmt(s, ST_RUN_REOPEN);
	if (!own || !up)
		return -1;
	/* Check and take in one transaction, so two resumers cannot both win. */
	if (tx_begin(s))
		return -1;
	sqlite3_bind_int64(own, 1, run_id);
	int rc = sqlite3_step(own);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(own);
		if (rc == SQLITE_DONE)
			fail(s, "no run %lld to resume", (long long)run_id);
		else
			fail_db(s, rc, "cannot read runs");
		tx_abort(s);
		return -1;
	}
	const char *status = (const char *)sqlite3_column_text(own, 0);
	const char *host = (const char *)sqlite3_column_text(own, 1);
	long pid = (long)sqlite3_column_int64(own, 2);
	long long start = sqlite3_column_type(own, 3) == SQLITE_NULL
	                  ? -1 : sqlite3_column_int64(own, 3);
	int busy = status && strcmp(status, "running") == 0 && host &&
	           strcmp(host, s->host) == 0 && pid != s->pid &&
	           !process_gone(pid, start);
	sqlite3_reset(own);
	if (busy) {
		fail(s, "run %lld is still running in process %ld", (long long)run_id,
		     pid);
		tx_abort(s);
		return -1;
	}
	sqlite3_bind_int64(up, 1, run_id);
	sqlite3_bind_text(up, 2, s->host, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 3, s->pid);
	if (s->pid_start >= 0)
		sqlite3_bind_int64(up, 4, s->pid_start);
	else
		sqlite3_bind_null(up, 4);
	rc = run_stmt(up);
	if (rc != SQLITE_DONE) {
		fail_db(s, rc, "cannot reopen the run");
		tx_abort(s);
		return -1;
	}
	if (tx_commit(s))
		return -1;
	return check_run(s, run_id);
}

int dd_store_run_end(dd_store *s, int64_t run_id, const char *status,
                     const char *error)
{
	if (!s)
		return -1;
	if (!status || (strcmp(status, "finished") && strcmp(status, "failed") &&
	                strcmp(status, "interrupted")))
		return fail(s, "run status must be finished, failed or interrupted, "
		               "not '%s'", status ? status : "(null)");
	sqlite3_stmt *st = stmt(s, ST_RUN_END);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, status, -1, SQLITE_STATIC);
	sqlite3_bind_double(st, 3, wall_now());
	bind_text_or_null(st, 4, error);
	int changes = 0;
	if (write_one(s, st, "cannot end the run", &changes))
		return -1;
	if (changes == 0)
		return fail(s, "no run %lld to end", (long long)run_id);
	return 0;
}

int dd_store_run_get(dd_store *s, int64_t run_id, dd_run_info *info)
{
	memset(info, 0, sizeof *info);
	if (!s)
		return -1;
	sqlite3_stmt *st = stmt(s, ST_RUN_GET);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		info->id = sqlite3_column_int64(st, 0);
		info->name = dup_or_empty(sqlite3_column_text(st, 1));
		info->scenario = dup_or_empty(sqlite3_column_text(st, 2));
		info->status = dup_or_empty(sqlite3_column_text(st, 3));
		info->seed = (uint64_t)sqlite3_column_int64(st, 4);
		info->scenario_hash = dup_or_empty(sqlite3_column_text(st, 5));
	}
	sqlite3_reset(st);
	if (rc == SQLITE_DONE)
		return fail(s, "no run %lld", (long long)run_id);
	if (rc != SQLITE_ROW)
		return fail_db(s, rc, "cannot read the run");
	if (!info->name || !info->scenario || !info->status ||
	    !info->scenario_hash) {
		dd_run_info_free(info);
		return fail(s, "out of memory");
	}
	return 0;
}

void dd_run_info_free(dd_run_info *info)
{
	if (!info)
		return;
	free(info->name);
	free(info->scenario);
	free(info->status);
	free(info->scenario_hash);
	memset(info, 0, sizeof *info);
}

/* ------------------------------------------------------------------------
** Params.
*/

/* Writes one param; the value is bound by the caller as ?3. */
static int param_set(dd_store *s, int64_t run_id, const char *key,
                     sqlite3_stmt *st)
{
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, key, -1, SQLITE_STATIC);
	return write_one(s, st, "cannot write a param", NULL);
}

int dd_store_param_num(dd_store *s, int64_t run_id, const char *key, double v)
{
	if (!s)
		return -1;
	if (!key || !*key)
		return fail(s, "param key is empty");
	if (check_run(s, run_id))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_PARAM_SET);
	if (!st)
		return -1;
	sqlite3_bind_double(st, 3, v);
	return param_set(s, run_id, key, st);
}

int dd_store_param_text(dd_store *s, int64_t run_id, const char *key,
                        const char *v)
{
	if (!s)
		return -1;
	if (!key || !*key)
		return fail(s, "param key is empty");
	if (check_run(s, run_id))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_PARAM_SET);
	if (!st)
		return -1;
	bind_text_or_null(st, 3, v);
	return param_set(s, run_id, key, st);
}

/* Reads all params first and then calls fn, so fn may use the store (even
** write to it) without meeting an open statement. */
int dd_store_params_each(dd_store *s, int64_t run_id,
                         void (*fn)(void *ud, const char *key, int is_num,
                                    double num, const char *text),
                         void *ud)
{
	if (!s)
		return -1;
	if (check_run(s, run_id))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_PARAMS_GET);
	if (!st)
		return -1;
	struct item { char *key, *text; double num; int is_num; } *items = NULL;
	size_t n = 0, cap = 0;
	int rc, oom = 0;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		void *q = grow(items, &cap, n + 1, sizeof *items);
		if (!q) {
			oom = 1;
			break;
		}
		items = q;
		int t = sqlite3_column_type(st, 1);
		struct item *it = &items[n++];
		it->is_num = t == SQLITE_INTEGER || t == SQLITE_FLOAT;
		it->num = it->is_num ? sqlite3_column_double(st, 1) : 0.0;
		it->key = dup_or_empty(sqlite3_column_text(st, 0));
		it->text = t == SQLITE_NULL || it->is_num
		           ? NULL : dup_or_empty(sqlite3_column_text(st, 1));
		if (!it->key || (!it->is_num && t != SQLITE_NULL && !it->text))
			oom = 1;
	}
	sqlite3_reset(st);
	if (!oom && rc == SQLITE_DONE)
		for (size_t i = 0; i < n; i++)
			fn(ud, items[i].key, items[i].is_num, items[i].num, items[i].text);
	for (size_t i = 0; i < n; i++) {
		free(items[i].key);
		free(items[i].text);
	}
	free(items);
	if (oom)
		return fail(s, "out of memory");
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return fail_db(s, rc, "cannot read params");
	return 0;
}

/* ------------------------------------------------------------------------
** Buffered rows.
*/

/* Commits when the buffer is full or its oldest rows have waited long
** enough; now is the wall time of the row just added. */
static int maybe_flush(dd_store *s, double now)
{
	size_t n = s->n_m + s->n_e;
	if (n >= s->batch_rows ||
	    (s->batch_seconds > 0 && (now - s->last_flush >= s->batch_seconds ||
	                              now < s->last_flush /* clock stepped */)))
		return dd_store_flush(s);
	return 0;
}

/* Refuses a new row when failed commits have piled up too many. */
static int buffer_full(dd_store *s)
{
	size_t limit = s->batch_rows * MAX_BUFFERED_BATCHES;
	if (limit < s->batch_rows) /* overflowed: no limit */
		return 0;
	if (s->n_m + s->n_e >= limit)
		return fail(s, "%zu rows wait for a commit that keeps failing; "
		               "refusing more", s->n_m + s->n_e);
	return 0;
}

int dd_store_metric(dd_store *s, int64_t run_id, const char *name,
                    int64_t step, double value)
{
	if (!s)
		return -1;
	if (!name || !*name)
		return fail(s, "metric name is empty");
	uint32_t k;
	if (check_run(s, run_id) || buffer_full(s) || intern(s, name, &k))
		return -1;
	ROOM(s, m, cap_m, s->n_m);
	double now = wall_now();
	s->m[s->n_m++] = (metric_row){ run_id, step, value, now, k };
	return maybe_flush(s, now);
}

int dd_store_episode(dd_store *s, int64_t run_id, const dd_episode_row *e)
{
	if (!s)
		return -1;
	if (!e || !e->env || !*e->env)
		return fail(s, "episode has no env name");
	uint32_t k, learner = NO_LEARNER;
	if (check_run(s, run_id) || buffer_full(s) || intern(s, e->env, &k) ||
	    (e->learner && intern(s, e->learner, &learner)))
		return -1;
	ROOM(s, e, cap_e, s->n_e);
	char *info = NULL;
	if (e->info && !(info = strdup(e->info)))
		return fail(s, "out of memory");
	double now = wall_now();
	s->e[s->n_e++] = (episode_row){ run_id, e->episode, e->length, e->ret, now,
	                                k, e->success, e->terminated, e->truncated, info,
	                                learner };
	return maybe_flush(s, now);
}

/* ------------------------------------------------------------------------
** Checkpoints and artifacts.
*/

static int blob_fits(dd_store *s, size_t n, const char *what)
{
	int limit = sqlite3_limit(s->db, SQLITE_LIMIT_LENGTH, -1);
	if (n > (size_t)limit)
		return fail(s, "%s of %zu bytes exceeds SQLite's limit of %d bytes",
		            what, n, limit);
	return 0;
}

static void bind_blob(sqlite3_stmt *st, int i, const void *p, size_t n)
{
	if (n == 0) /* a NULL pointer would bind NULL, not an empty blob */
		sqlite3_bind_zeroblob(st, i, 0);
	else
		sqlite3_bind_blob64(st, i, p, n, SQLITE_STATIC);
}

int dd_store_checkpoint_put(dd_store *s, int64_t run_id, const char *owner,
                            int64_t step, const void *blob, size_t n,
                            int64_t *id)
{
	if (!s)
		return -1;
	if (!owner || !*owner)
		return fail(s, "checkpoint owner is empty");
	if (check_run(s, run_id) || blob_fits(s, n, "checkpoint"))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_CKPT_ADD);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, step);
	sqlite3_bind_int64(st, 4, (int64_t)n);
	sqlite3_bind_int64(st, 5, dd_crc32(0, blob, n));
	sqlite3_bind_double(st, 6, wall_now());
	bind_blob(st, 7, blob, n);
	if (write_one(s, st, "cannot write a checkpoint", NULL))
		return -1;
	if (id)
		*id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int dd_store_checkpoint_latest(dd_store *s, int64_t run_id, const char *owner,
                               void **blob, size_t *n, int64_t *step)
{
	*blob = NULL;
	*n = 0;
	if (!s)
		return -1;
	if (!owner)
		return fail(s, "checkpoint owner is empty");
	if (check_run(s, run_id))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_CKPT_LATEST);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, owner, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			return 0;
		return fail_db(s, rc, "cannot read checkpoints");
	}
	int64_t ck = sqlite3_column_int64(st, 0);
	int64_t at = sqlite3_column_int64(st, 1);
	int64_t size = sqlite3_column_int64(st, 2);
	uint32_t want = (uint32_t)sqlite3_column_int64(st, 3);
	const void *p = sqlite3_column_blob(st, 4);
	size_t got = (size_t)sqlite3_column_bytes(st, 4);
	int res = 1;
	uint32_t crc = dd_crc32(0, p, got);
	if (size < 0 || (size_t)size != got)
		res = fail(s, "checkpoint %lld of run %lld, owner '%s', step %lld is "
		              "corrupt: %zu bytes stored, %lld recorded",
		           (long long)ck, (long long)run_id, owner, (long long)at, got,
		           (long long)size);
	else if (crc != want)
		res = fail(s, "checkpoint %lld of run %lld, owner '%s', step %lld is "
		              "corrupt: CRC-32 %08x, recorded %08x", (long long)ck,
		           (long long)run_id, owner, (long long)at, crc, want);
	else if (!(*blob = malloc(got ? got : 1)))
		res = fail(s, "out of memory for a checkpoint of %zu bytes", got);
	else {
		if (got)
			memcpy(*blob, p, got);
		*n = got;
		if (step)
			*step = at;
	}
	sqlite3_reset(st);
	return res;
}

int dd_store_artifact(dd_store *s, int64_t run_id, const char *name,
                      const char *media_type, const void *data, size_t n)
{
	if (!s)
		return -1;
	if (!name || !*name)
		return fail(s, "artifact name is empty");
	if (check_run(s, run_id) || blob_fits(s, n, "artifact"))
		return -1;
	sqlite3_stmt *st = stmt(s, ST_ARTIFACT_ADD);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	bind_text_or_null(st, 3, media_type);
	sqlite3_bind_int64(st, 4, (int64_t)n);
	sqlite3_bind_double(st, 5, wall_now());
	bind_blob(st, 6, data, n);
	return write_one(s, st, "cannot write an artifact", NULL);
}
