/*
** bench_store.c -- metric logging speed of the run store, from one process
** and in total from four processes writing one file, beside plain SQLite
** (WAL, synchronous=NORMAL, prepared statement, batched BEGIN IMMEDIATE
** transactions) inserting the same rows, measured in the same run.
**
** usage: bench_store [dir]   (files go to a fresh folder in dir, default .)
*/
#include "store.h"

#include <sqlite3.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum {
	ROWS_ONE = 400000,  /* rows per repeat, one process */
	ROWS_EACH = 150000, /* rows per process per repeat, four processes */
	PROCS = 4,
	REPEATS = 7,        /* timed, after one warm-up */
	BATCH = 4096,       /* the store's default batch, given to the references */
	N_NAMES = 8,
};

static const char *const names[N_NAMES] = {
	"loss", "reward", "grad_norm", "lr", "kl", "entropy", "value_loss",
	"policy_loss",
};

static char dir[512];

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what, const char *msg)
{
	fprintf(stderr, "bench_store: %s: %s\n", what, msg);
	exit(1);
}

static void remove_db(const char *path)
{
	char p[700];
	remove(path);
	snprintf(p, sizeof p, "%s-wal", path);
	remove(p);
	snprintf(p, sizeof p, "%s-shm", path);
	remove(p);
}

static void exec(sqlite3 *db, const char *sql)
{
	char *msg = NULL;
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		die(sql, msg ? msg : "?");
}

/* ---- the three writers: each logs rows [0, n) of run `run` --------------- */

/* The variants. A writer is set up (file open, run known) before the clock
** starts, logs n rows and commits them all, then is torn down untimed. */
enum { OURS, REF_TEXT, REF_SAME, VARIANTS };
static const char *const variant_name[VARIANTS] = {
	"dd_store_metric",
	"plain SQLite, metrics(run_id, name TEXT, step, value, wall_time) + index",
	"plain SQLite into the store's own tables (name ids known)",
};

typedef struct writer {
	int variant;
	dd_store *s;
	sqlite3 *db;
	sqlite3_stmt *ins, *begin, *commit;
	int64_t run, name_id[N_NAMES];
} writer;

/* Creates the file of a variant, before any writer opens it. */
static void create_file(int variant, const char *path)
{
	remove_db(path);
	if (variant == REF_TEXT) {
		sqlite3 *db;
		if (sqlite3_open(path, &db) != SQLITE_OK)
			die(path, "cannot create");
		exec(db, "PRAGMA journal_mode = WAL;"
		         "CREATE TABLE metrics(run_id INTEGER, name TEXT, step INTEGER,"
		         " value REAL, wall_time REAL);"
		         "CREATE INDEX metrics_run_name_step ON metrics(run_id, name, step)");
		sqlite3_close(db);
		return;
	}
	char err[512];
	dd_store *s;
	if (dd_store_open(path, &s, err, sizeof err))
		die("open", err);
	if (variant == REF_SAME) { /* runs and names, as the store would have */
		for (int k = 0; k < PROCS; k++)
			if (dd_store_run_begin(s, "ref", "bench", NULL, 0, NULL))
				die("run", dd_store_errmsg(s));
		sqlite3 *db = dd_store_db(s);
		for (int i = 0; i < N_NAMES; i++) {
			char sql[128];
			snprintf(sql, sizeof sql, "INSERT INTO metric_names(name)"
			         " VALUES('%s')", names[i]);
			exec(db, sql);
		}
	}
	dd_store_close(s);
}

static void writer_open(writer *w, int variant, const char *path, int k)
{
	memset(w, 0, sizeof *w);
	w->variant = variant;
	if (variant == OURS) {
		char err[512];
		if (dd_store_open(path, &w->s, err, sizeof err))
			die("open", err);
		if (dd_store_run_begin(w->s, "bench", "bench", NULL, 0, &w->run))
			die("run", dd_store_errmsg(w->s));
		return;
	}
	if (sqlite3_open(path, &w->db) != SQLITE_OK)
		die(path, "cannot open");
	sqlite3_busy_timeout(w->db, 10000);
	/* the reference's best setup: what the store itself uses */
	exec(w->db, "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	            "PRAGMA cache_size = -16384");
	w->run = k + 1;
	const char *sql = variant == REF_TEXT
		? "INSERT INTO metrics(run_id, name, step, value, wall_time)"
		  " VALUES(?1, ?2, ?3, ?4, ?5)"
		: "INSERT INTO metric_values(run_id, name_id, step, value, wall_time)"
		  " VALUES(?1, ?2, ?3, ?4, ?5)";
	if (sqlite3_prepare_v2(w->db, sql, -1, &w->ins, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(w->db, "BEGIN IMMEDIATE", -1, &w->begin, NULL) ||
	    sqlite3_prepare_v2(w->db, "COMMIT", -1, &w->commit, NULL))
		die("prepare", sqlite3_errmsg(w->db));
	for (int i = 0; i < N_NAMES && variant == REF_SAME; i++) {
		char q[128];
		sqlite3_stmt *st;
		snprintf(q, sizeof q, "SELECT id FROM metric_names WHERE name = '%s'",
		         names[i]);
		if (sqlite3_prepare_v2(w->db, q, -1, &st, NULL) != SQLITE_OK ||
		    sqlite3_step(st) != SQLITE_ROW)
			die("name id", sqlite3_errmsg(w->db));
		w->name_id[i] = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
}

/* Steps a BEGIN IMMEDIATE or COMMIT, retrying while another writer holds
** the lock past the busy timeout, as any careful plain-SQLite logger must. */
static void step_retry(writer *w, sqlite3_stmt *st)
{
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_BUSY || rc == SQLITE_LOCKED)
		sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		die(sqlite3_sql(st), sqlite3_errmsg(w->db));
	sqlite3_reset(st);
}

static void writer_log(writer *w, int n)
{
	if (w->variant == OURS) {
		for (int i = 0; i < n; i++)
			if (dd_store_metric(w->s, w->run, names[i % N_NAMES], i / N_NAMES,
			                    i * 0.5))
				die("metric", dd_store_errmsg(w->s));
		if (dd_store_flush(w->s))
			die("flush", dd_store_errmsg(w->s));
		return;
	}
	for (int i = 0; i < n; i++) {
		if (i % BATCH == 0)
			step_retry(w, w->begin);
		sqlite3_bind_int64(w->ins, 1, w->run);
		if (w->variant == REF_TEXT)
			sqlite3_bind_text(w->ins, 2, names[i % N_NAMES], -1, SQLITE_STATIC);
		else
			sqlite3_bind_int64(w->ins, 2, w->name_id[i % N_NAMES]);
		sqlite3_bind_int64(w->ins, 3, i / N_NAMES);
		sqlite3_bind_double(w->ins, 4, i * 0.5);
		sqlite3_bind_double(w->ins, 5, wall());
		if (sqlite3_step(w->ins) != SQLITE_DONE)
			die("insert", sqlite3_errmsg(w->db));
		sqlite3_reset(w->ins);
		if (i % BATCH == BATCH - 1 || i == n - 1)
			step_retry(w, w->commit);
	}
}

static void writer_close(writer *w)
{
	if (w->s) {
		if (dd_store_run_end(w->s, w->run, "finished", NULL))
			die("run end", dd_store_errmsg(w->s));
		dd_store_close(w->s);
	}
	sqlite3_finalize(w->ins);
	sqlite3_finalize(w->begin);
	sqlite3_finalize(w->commit);
	sqlite3_close(w->db);
}

/* ---- timing --------------------------------------------------------------- */

static double one_process(int variant)
{
	char path[600];
	snprintf(path, sizeof path, "%s/one_%d.db", dir, variant);
	create_file(variant, path);
	writer w;
	writer_open(&w, variant, path, 0);
	double t0 = mono();
	writer_log(&w, ROWS_ONE);
	double t = mono() - t0;
	writer_close(&w);
	remove_db(path);
	return ROWS_ONE / t;
}

/* PROCS processes, each its own connection and run, start together (they
** open first, then wait for the go); the time ends when the last has
** committed its last row. */
static double four_processes(int variant)
{
	char path[600];
	snprintf(path, sizeof path, "%s/four_%d.db", dir, variant);
	create_file(variant, path);
	int ready[2], go[2], done[2];
	if (pipe(ready) || pipe(go) || pipe(done))
		die("pipe", "failed");
	pid_t pid[PROCS];
	for (int k = 0; k < PROCS; k++) {
		pid[k] = fork();
		if (pid[k] < 0)
			die("fork", "failed");
		if (pid[k] == 0) {
			close(go[1]);
			writer w;
			writer_open(&w, variant, path, k);
			char c;
			if (write(ready[1], "r", 1) != 1 || read(go[0], &c, 1) != 0)
				_exit(3);
			writer_log(&w, ROWS_EACH);
			if (write(done[1], "d", 1) != 1)
				_exit(3);
			writer_close(&w);
			_exit(0);
		}
	}
	close(go[0]);
	char c;
	for (int k = 0; k < PROCS; k++)
		if (read(ready[0], &c, 1) != 1)
			die("child", "did not start");
	double t0 = mono();
	close(go[1]);
	for (int k = 0; k < PROCS; k++)
		if (read(done[0], &c, 1) != 1)
			die("child", "failed");
	double t = mono() - t0;
	for (int k = 0; k < PROCS; k++) {
		int status;
		waitpid(pid[k], &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			die("child", "exited with an error");
	}
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
	remove_db(path);
	return (double)PROCS * ROWS_EACH / t;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

typedef struct stats { double med, min, max; } stats;

static stats summarise(double *v, int n)
{
	qsort(v, n, sizeof *v, cmp);
	return (stats){ n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2, v[0],
	                v[n - 1] };
}

static void cpu_model(char *buf, size_t n)
{
	snprintf(buf, n, "unknown");
	FILE *f = fopen("/proc/cpuinfo", "r");
	if (!f)
		return;
	char line[512];
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, "model name", 10) == 0) {
			char *p = strchr(line, ':');
			if (p) {
				p += 1 + (p[1] == ' ');
				p[strcspn(p, "\n")] = 0;
				snprintf(buf, n, "%s", p);
			}
			break;
		}
	}
	fclose(f);
}

static void report(const char *title, double (*fn)(int), int rows_desc,
                   double target)
{
	double v[VARIANTS][REPEATS];
	for (int k = 0; k < VARIANTS; k++)
		fn(k); /* warm-up: page cache, CPU frequency */
	for (int r = 0; r < REPEATS; r++) /* interleaved: drift hits all alike */
		for (int k = 0; k < VARIANTS; k++)
			v[k][r] = fn(k);
	stats st[VARIANTS];
	for (int k = 0; k < VARIANTS; k++)
		st[k] = summarise(v[k], REPEATS);
	printf("\n%s (%d rows per repeat; rows/s, median of %d [min .. max])\n",
	       title, rows_desc, REPEATS);
	for (int k = 0; k < VARIANTS; k++) {
		printf("  %-74s %9.0f [%9.0f .. %9.0f]", variant_name[k], st[k].med,
		       st[k].min, st[k].max);
		if (k > 0)
			printf("  ours/this = %.2f", st[OURS].med / st[k].med);
		printf("\n");
	}
	printf("  target %.0f rows/s: %s\n", target,
	       st[OURS].med >= target ? "met" : "MISSED");
}

int main(int argc, char **argv)
{
	snprintf(dir, sizeof dir, "%s/bench_store_XXXXXX", argc > 1 ? argv[1] : ".");
	if (!mkdtemp(dir))
		die(dir, "cannot create a folder");
	char cpu[256];
	cpu_model(cpu, sizeof cpu);
	printf("bench_store: metric logging into the run store\n");
	printf("CPU: %s, %ld online; SQLite %s; files in %s\n", cpu,
	       sysconf(_SC_NPROCESSORS_ONLN), sqlite3_libversion(), dir);
	printf("rows: (run, one of %d names, step, value, wall time); batches of %d "
	       "rows; WAL, synchronous=NORMAL\n", N_NAMES, BATCH);
	report("one process", one_process, ROWS_ONE, 300000);
	report("four processes, one file, total", four_processes, PROCS * ROWS_EACH,
	       200000);
	rmdir(dir);
	return 0;
}
