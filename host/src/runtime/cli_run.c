/*
** cli_run.c -- `daydream run` and `daydream plugins`.
*/
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "paramvals.h"
#include "registry.h"
#include "scenario.h"

static int usage_run(const char *why)
{
	fprintf(stderr, "daydream run: %s\n"
	        "usage: daydream run SCENARIO.lua [--db PATH] [--set key=value ...] [--seed N] [--name NAME]\n"
	        "       daydream run --resume RUN [--db PATH] [--set key=value ...]\n", why);
	return 2;
}

/* Parses a whole number; 0 on success. */
static int parse_u64(const char *s, unsigned long long *v)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-')
		return -1;
	*v = strtoull(s, &end, 10);
	return errno || *end ? -1 : 0;
}

int dd_cli_run(int argc, char **argv)
{
	dd_scenario_opts o = {0};
	const char **keys = calloc((size_t)argc, sizeof *keys);
	const char **vals = calloc((size_t)argc, sizeof *vals);
	char **owned = calloc((size_t)argc, sizeof *owned);
	if (!keys || !vals || !owned)
		return 1;
	o.set_keys = keys;
	o.set_vals = vals;
	int status = 2;
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i];
		const char *next = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n;
		if (strcmp(a, "--db") == 0 && next) {
			o.db_path = argv[++i];
		} else if (strcmp(a, "--name") == 0 && next) {
			o.name = argv[++i];
		} else if (strcmp(a, "--seed") == 0 && next) {
			if (parse_u64(argv[++i], &n) < 0) {
				status = usage_run("--seed takes a whole number >= 0");
				goto out;
			}
			o.has_seed = 1;
			o.seed = n;
		} else if (strcmp(a, "--resume") == 0 && next) {
			if (parse_u64(argv[++i], &n) < 0 || n == 0) {
				status = usage_run("--resume takes a run id (see `daydream runs`)");
				goto out;
			}
			o.resume = (int64_t)n;
		} else if (strcmp(a, "--set") == 0 && next) {
			const char *eq = strchr(next, '=');
			if (!eq || eq == next) {
				status = usage_run("--set takes key=value, e.g. --set episodes=200");
				goto out;
			}
			char *key = owned[o.n_set] = strndup(next, (size_t)(eq - next));
			keys[o.n_set] = key;
			vals[o.n_set] = eq + 1;
			o.n_set++;
			i++;
		} else if (a[0] == '-') {
			char why[300];
			snprintf(why, sizeof why, "unknown or incomplete option '%s'", a);
			status = usage_run(why);
			goto out;
		} else if (!o.script) {
			o.script = a;
		} else {
			status = usage_run("give one scenario");
			goto out;
		}
	}
	if (!o.script && !o.resume) {
		status = usage_run("which scenario? e.g. daydream run scenarios/corridor_random.lua");
		goto out;
	}
	if (o.has_seed && o.resume) {
		status = usage_run("--resume continues with the run's own seed; drop --seed");
		goto out;
	}
	o.progress = isatty(STDOUT_FILENO);
	dd_registry *reg = dd_registry_new();
	if (!reg) {
		status = 1;
		goto out;
	}
	dd_registry_scan_default(reg);
	char err[2048];
	int64_t run_id;
	status = dd_scenario_run(&o, reg, &run_id, err, sizeof err);
	if (status != 0)
		fprintf(stderr, "daydream: %s\n", err);
	else if (o.progress)
		printf("run %lld finished: daydream show %lld%s%s\n", (long long)run_id,
		       (long long)run_id, o.db_path ? " --db " : "", o.db_path ? o.db_path : "");
	dd_registry_free(reg);
out:
	for (int i = 0; i < o.n_set; i++)
		free(owned[i]);
	free(owned);
	free(keys);
	free(vals);
	return status;
}

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c == '\n')
			fputs("\\n", out);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

static void json_number(FILE *out, double v)
{
	/* JSON has no infinities: unbounded parameters print null. */
	if (v != v || v > 1.7e308 || v < -1.7e308)
		fputs("null", out);
	else
		fprintf(out, "%.17g", v);
}

static void print_json(const dd_registry *r)
{
	printf("[");
	for (int i = 0; i < dd_registry_count(r); i++) {
		const dd_plugin_entry *p = dd_registry_at(r, i);
		printf("%s\n  {\"name\": ", i ? "," : "");
		json_string(stdout, p->desc.name);
		printf(", \"kind\": ");
		json_string(stdout, dd_kind_name(p->desc.kind));
		printf(", \"version\": ");
		json_string(stdout, p->desc.version);
		printf(", \"summary\": ");
		json_string(stdout, p->desc.summary);
		printf(", \"path\": ");
		json_string(stdout, p->path);
		printf(", \"params\": [");
		for (int j = 0; j < p->n_params; j++) {
			const dd_param_spec *s = &p->desc.params[j];
			printf("%s\n    {\"name\": ", j ? "," : "");
			json_string(stdout, s->name);
			printf(", \"type\": ");
			json_string(stdout, dd_param_type_name(s->type));
			printf(", \"default\": ");
			if (s->type == DD_PARAM_STRING)
				json_string(stdout, s->def_str);
			else if (s->type == DD_PARAM_BOOL)
				printf("%s", s->def ? "true" : "false");
			else
				json_number(stdout, s->def);
			if (s->type == DD_PARAM_INT || s->type == DD_PARAM_FLOAT) {
				printf(", \"min\": ");
				json_number(stdout, s->min);
				printf(", \"max\": ");
				json_number(stdout, s->max);
			}
			if (s->type == DD_PARAM_STRING && s->choices) {
				printf(", \"choices\": ");
				json_string(stdout, s->choices);
			}
			printf(", \"doc\": ");
			json_string(stdout, s->doc ? s->doc : "");
			printf("}");
		}
		printf("%s]}", p->n_params ? "\n  " : "");
	}
	printf("%s]\n", dd_registry_count(r) ? "\n" : "");
}

static void print_text(const dd_registry *r)
{
	for (int i = 0; i < dd_registry_count(r); i++) {
		const dd_plugin_entry *p = dd_registry_at(r, i);
		printf("%s%s (%s %s) - %s\n  %s\n", i ? "\n" : "", p->desc.name,
		       dd_kind_name(p->desc.kind), p->desc.version, p->desc.summary, p->path);
		for (int j = 0; j < p->n_params; j++) {
			const dd_param_spec *s = &p->desc.params[j];
			char def[300], range[200] = "";
			if (s->type == DD_PARAM_STRING)
				snprintf(def, sizeof def, "\"%s\"", s->def_str);
			else if (s->type == DD_PARAM_BOOL)
				snprintf(def, sizeof def, "%s", s->def ? "true" : "false");
			else
				snprintf(def, sizeof def, "%g", s->def);
			if (s->type == DD_PARAM_INT || s->type == DD_PARAM_FLOAT)
				snprintf(range, sizeof range, " in [%g, %g]", s->min, s->max);
			else if (s->type == DD_PARAM_STRING && s->choices)
				snprintf(range, sizeof range, " one of %s", s->choices);
			printf("    %-16s %-6s = %s%s\n      %s\n", s->name, dd_param_type_name(s->type),
			       def, range, s->doc ? s->doc : "");
		}
	}
	if (dd_registry_count(r) == 0)
		printf("no plugins found: build them (cmake --build build) or set DAYDREAM_PLUGIN_PATH\n");
}

int dd_cli_plugins(int argc, char **argv)
{
	int json = 0;
	for (int i = 0; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = 1;
		} else {
			fprintf(stderr, "daydream plugins: unknown option '%s'\nusage: daydream plugins [--json]\n", argv[i]);
			return 2;
		}
	}
	dd_registry *r = dd_registry_new();
	if (!r)
		return 1;
	dd_registry_scan_default(r);
	if (json)
		print_json(r);
	else
		print_text(r);
	for (int i = 0; i < dd_registry_problem_count(r); i++)
		fprintf(stderr, "daydream: plugin skipped: %s\n", dd_registry_problem(r, i));
	dd_registry_free(r);
	return 0;
}
