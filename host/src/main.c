/*
** main.c -- the daydream program: dispatches to the subcommands in
** runtime/cli_*.c.
*/
#include <stdio.h>
#include <string.h>

#include "cli.h"

static const char USAGE[] =
	"daydream " DD_VERSION " -- a simulator for predictive learning, RL and planning\n"
	"\n"
	"usage:\n"
	"  daydream run SCENARIO.lua [--db PATH] [--set key=value ...] [--seed N] [--name NAME]\n"
	"  daydream run --resume RUN [--db PATH] [--set key=value ...]\n"
	"  daydream plugins [--json]\n"
	"  daydream query [--db PATH] [--csv] \"SQL\"\n"
	"  daydream runs [--db PATH] [--csv]\n"
	"  daydream show RUN [--db PATH]\n"
	"\n"
	"The run database is runs.db in the current folder unless --db says otherwise.\n"
	"Plugins are searched in DAYDREAM_PLUGIN_PATH, ./plugins and the install's plugin folder.\n";

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(int, char **);
	} commands[] = {
		{"run", dd_cli_run}, {"plugins", dd_cli_plugins}, {"query", dd_cli_query},
		{"runs", dd_cli_runs}, {"show", dd_cli_show},
	};
	if (argc < 2 || strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(USAGE, argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "version") == 0) {
		printf("daydream %s\n", DD_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].fn(argc - 2, argv + 2);
	fprintf(stderr, "daydream: unknown command '%s' (try: daydream help)\n", argv[1]);
	return 2;
}
