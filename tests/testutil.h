/*
** testutil.h -- small helpers shared by the runtime tests: temporary
** folders and files, and one-value SQL queries against a run database.
*/
#ifndef DD_TESTUTIL_H
#define DD_TESTUTIL_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

/* A fresh folder under /tmp; the returned path is static storage. */
static inline const char *tu_tmpdir(void)
{
	static char dir[64];
	snprintf(dir, sizeof dir, "/tmp/ddtest.XXXXXX");
	return mkdtemp(dir);
}

/* Writes text to dir/name and returns the path (malloc'd). */
static inline char *tu_write(const char *dir, const char *name, const char *text)
{
	size_t n = strlen(dir) + strlen(name) + 2;
	char *path = malloc(n);
	snprintf(path, n, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* The first column of the first row of a query, as a double (NAN if none). */
static inline double tu_sql_num(const char *db_path, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	sqlite3 *db;
	double v = 0.0 / 0.0;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
				v = sqlite3_column_double(st, 0);
			sqlite3_finalize(st);
		} else {
			fprintf(stderr, "tu_sql_num: %s\n", sqlite3_errmsg(db));
		}
	}
	sqlite3_close(db);
	return v;
}

/* Same, for text (malloc'd; "" if none). */
static inline char *tu_sql_text(const char *db_path, const char *fmt, ...)
{
	char sql[2048];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(sql, sizeof sql, fmt, ap);
	va_end(ap);
	sqlite3 *db;
	char *v = NULL;
	if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0))
				v = strdup((const char *)sqlite3_column_text(st, 0));
			sqlite3_finalize(st);
		}
	}
	sqlite3_close(db);
	return v ? v : strdup("");
}

#endif
