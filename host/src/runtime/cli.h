/*
** cli.h -- the subcommands of the daydream program (main.c dispatches).
** Each returns the process exit status and prints its own errors to stderr
** as one line.
*/
#ifndef DD_CLI_H
#define DD_CLI_H

#include <stdio.h>
#include <sqlite3.h>

int dd_cli_run(int argc, char **argv);
int dd_cli_plugins(int argc, char **argv);
int dd_cli_query(int argc, char **argv);
int dd_cli_runs(int argc, char **argv);
int dd_cli_show(int argc, char **argv);

/* Prints the result of sql (with optional integer parameter bound to ?1
** when has_param) as an aligned table, or CSV. Returns 0, or -1 with the
** SQLite message in err. */
int dd_print_query(sqlite3 *db, const char *sql, int has_param, long long param,
                   int csv, FILE *out, char *err, size_t err_size);

/* Opens an existing run database for query, runs and show; prints a line
** naming the file when it is missing or not a database. */
struct dd_store;
int dd_cli_open_existing(const char *path, struct dd_store **store);

#endif
