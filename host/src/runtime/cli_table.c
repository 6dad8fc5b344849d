/*
** cli_table.c -- printing query results as an aligned table or as CSV.
*/
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Text of one cell; numbers compactly. Caller frees. */
static char *cell_text(sqlite3_stmt *st, int c)
{
	char buf[64];
	switch (sqlite3_column_type(st, c)) {
	case SQLITE_NULL:
		return strdup("");
	case SQLITE_INTEGER:
		snprintf(buf, sizeof buf, "%lld", (long long)sqlite3_column_int64(st, c));
		return strdup(buf);
	case SQLITE_FLOAT:
		snprintf(buf, sizeof buf, "%.6g", sqlite3_column_double(st, c));
		return strdup(buf);
	case SQLITE_BLOB:
		snprintf(buf, sizeof buf, "<%d bytes>", sqlite3_column_bytes(st, c));
		return strdup(buf);
	default:
		return strdup((const char *)sqlite3_column_text(st, c));
	}
}

static void csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

/* Display width of UTF-8 text: code points, not bytes. */
static int width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		w += ((unsigned char)*s & 0xC0) != 0x80;
	return w;
}

int dd_print_query(sqlite3 *db, const char *sql, int has_param, long long param,
                   int csv, FILE *out, char *err, size_t err_size)
{
	sqlite3_stmt *st;
	const char *tail = sql;
	int printed_any = 0;
	while (tail && *tail) {
		if (sqlite3_prepare_v2(db, tail, -1, &st, &tail) != SQLITE_OK) {
			snprintf(err, err_size, "%s", sqlite3_errmsg(db));
			return -1;
		}
		if (!st)
			continue; /* trailing blanks or a comment */
		if (has_param)
			sqlite3_bind_int64(st, 1, param);
		int ncol = sqlite3_column_count(st);
		char **cells = NULL;
		int *numeric = calloc((size_t)ncol + 1, sizeof *numeric);
		size_t rows = 0, cap = 0;
		int rc;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			if ((rows + 1) * (size_t)ncol > cap) {
				cap = cap ? cap * 2 : (size_t)ncol * 64;
				char **nc = realloc(cells, cap * sizeof *nc);
				if (!nc)
					break;
				cells = nc;
			}
			for (int c = 0; c < ncol; c++) {
				int t = sqlite3_column_type(st, c);
				numeric[c] |= (t == SQLITE_INTEGER || t == SQLITE_FLOAT) ? 1 : (t == SQLITE_NULL ? 0 : 2);
				cells[rows * (size_t)ncol + (size_t)c] = cell_text(st, c);
			}
			rows++;
		}
		if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
			snprintf(err, err_size, "%s", sqlite3_errmsg(db));
			for (size_t i = 0; i < rows * (size_t)ncol; i++)
				free(cells[i]);
			free(cells);
			free(numeric);
			sqlite3_finalize(st);
			return -1;
		}
		if (ncol > 0) {
			if (printed_any && !csv)
				fputc('\n', out);
			printed_any = 1;
			int *w = calloc((size_t)ncol, sizeof *w);
			for (int c = 0; c < ncol && w; c++) {
				w[c] = width(sqlite3_column_name(st, c));
				for (size_t r = 0; r < rows; r++) {
					int cw = width(cells[r * (size_t)ncol + (size_t)c]);
					if (cw > w[c])
						w[c] = cw;
				}
			}
			for (int c = 0; c < ncol; c++) {
				if (csv) {
					if (c)
						fputc(',', out);
					csv_field(out, sqlite3_column_name(st, c));
				} else {
					const char *name = sqlite3_column_name(st, c);
					fprintf(out, "%s%s%*s", c ? "  " : "", name,
					        c == ncol - 1 ? 0 : w[c] - width(name), "");
				}
			}
			fputc('\n', out);
			if (!csv) {
				for (int c = 0; c < ncol; c++) {
					fputs(c ? "  " : "", out);
					for (int i = 0; i < w[c]; i++)
						fputc('-', out);
				}
				fputc('\n', out);
			}
			for (size_t r = 0; r < rows; r++) {
				for (int c = 0; c < ncol; c++) {
					const char *s = cells[r * (size_t)ncol + (size_t)c];
					if (csv) {
						if (c)
							fputc(',', out);
						csv_field(out, s);
					} else if (numeric[c] == 1) {
						fprintf(out, "%s%*s%s", c ? "  " : "", w[c] - width(s), "", s);
					} else {
						fprintf(out, "%s%s%*s", c ? "  " : "", s,
						        c == ncol - 1 ? 0 : w[c] - width(s), "");
					}
				}
				fputc('\n', out);
			}
			if (!csv && rows == 0)
				fprintf(out, "(no rows)\n");
			free(w);
		}
		for (size_t i = 0; i < rows * (size_t)ncol; i++)
			free(cells[i]);
		free(cells);
		free(numeric);
		sqlite3_finalize(st);
	}
	return 0;
}
