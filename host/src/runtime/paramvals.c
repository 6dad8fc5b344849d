/*
** paramvals.c -- plugin parameter schemas and validated values.
*/
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "paramvals.h"

int dd_name_valid(const char *name, int allow_version)
{
	const char *p = name;
	if (!p || !(*p >= 'a' && *p <= 'z'))
		return 0;
	while (*p && (islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_'))
		p++;
	if (*p == '\0')
		return 1;
	if (!allow_version || p[0] != '-' || p[1] != 'v' || !isdigit((unsigned char)p[2]))
		return 0;
	for (p += 2; isdigit((unsigned char)*p); p++)
		;
	return *p == '\0';
}

const char *dd_param_type_name(dd_param_type t)
{
	switch (t) {
	case DD_PARAM_INT: return "int";
	case DD_PARAM_FLOAT: return "float";
	case DD_PARAM_BOOL: return "bool";
	case DD_PARAM_STRING: return "string";
	}
	return "?";
}

/* 1 when s is one of the '|'-separated words of choices. */
static int in_choices(const char *choices, const char *s)
{
	size_t n = strlen(s);
	const char *p = choices;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, s, n) == 0)
			return 1;
		if (!bar)
			break;
		p = bar + 1;
	}
	return 0;
}

static int num_ok(const dd_param_spec *s, double v)
{
	if (!isfinite(v) || v < s->min || v > s->max)
		return 0;
	return s->type != DD_PARAM_INT || v == floor(v);
}

int dd_schema_check(const dd_param_spec *spec, char *err, size_t err_size)
{
	int n = 0;
	if (!spec)
		return 0;
	for (; spec[n].name; n++) {
		const dd_param_spec *s = &spec[n];
		if (n >= 256) {
			snprintf(err, err_size, "parameter schema has no end (a NULL name) within 256 entries");
			return -1;
		}
		if (!dd_name_valid(s->name, 0)) {
			snprintf(err, err_size, "parameter name '%s' is not of the form [a-z][a-z0-9_]*", s->name);
			return -1;
		}
		for (int j = 0; j < n; j++)
			if (strcmp(spec[j].name, s->name) == 0) {
				snprintf(err, err_size, "parameter '%s' is declared twice", s->name);
				return -1;
			}
		switch (s->type) {
		case DD_PARAM_INT:
		case DD_PARAM_FLOAT:
			if (!(s->min <= s->max)) {
				snprintf(err, err_size, "parameter '%s': bounds [%g, %g] are reversed",
				         s->name, s->min, s->max);
				return -1;
			}
			if (!num_ok(s, s->def)) {
				snprintf(err, err_size, "parameter '%s': default %g is %s [%g, %g]",
				         s->name, s->def, s->def == floor(s->def) || s->type != DD_PARAM_INT
				         ? "outside" : "not a whole number in", s->min, s->max);
				return -1;
			}
			break;
		case DD_PARAM_BOOL:
			if (s->def != 0 && s->def != 1) {
				snprintf(err, err_size, "parameter '%s': bool default must be 0 or 1", s->name);
				return -1;
			}
			break;
		case DD_PARAM_STRING:
			if (!s->def_str) {
				snprintf(err, err_size, "parameter '%s': string parameter has no default (def_str)", s->name);
				return -1;
			}
			if (s->choices && !in_choices(s->choices, s->def_str)) {
				snprintf(err, err_size, "parameter '%s': default '%s' is not one of %s",
				         s->name, s->def_str, s->choices);
				return -1;
			}
			break;
		default:
			snprintf(err, err_size, "parameter '%s' has an unknown type %d", s->name, (int)s->type);
			return -1;
		}
	}
	return n;
}

int dd_paramvals_init(dd_paramvals *pv, const char *owner,
                      const dd_param_spec *spec, int count)
{
	memset(pv, 0, sizeof *pv);
	pv->owner = owner;
	pv->count = count;
	pv->values = calloc(count > 0 ? (size_t)count : 1, sizeof *pv->values);
	if (!pv->values)
		return -1;
	for (int i = 0; i < count; i++) {
		pv->values[i].num = spec[i].def;
		pv->values[i].str = NULL;
		if (spec[i].type == DD_PARAM_STRING &&
		    !(pv->values[i].str = strdup(spec[i].def_str))) {
			dd_paramvals_free(pv);
			return -1;
		}
	}
	pv->params.count = count;
	pv->params.spec = spec;
	pv->params.values = pv->values;
	return 0;
}

void dd_paramvals_free(dd_paramvals *pv)
{
	if (!pv->values)
		return;
	for (int i = 0; i < pv->count; i++)
		free((char *)pv->values[i].str);
	free(pv->values);
	pv->values = NULL;
}

void dd_schema_keys(const dd_param_spec *spec, int count, char *buf, size_t size)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < count && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", spec[i].name);
	if (count == 0)
		snprintf(buf, size, "(none)");
}

/* Finds key, or writes "unknown parameter" with the list of valid keys. */
static int find_key(dd_paramvals *pv, const char *key, char *err, size_t err_size)
{
	char keys[1024];
	for (int i = 0; i < pv->count; i++)
		if (strcmp(pv->params.spec[i].name, key) == 0)
			return i;
	dd_schema_keys(pv->params.spec, pv->count, keys, sizeof keys);
	snprintf(err, err_size, "%s: unknown parameter '%s'; valid keys are: %s",
	         pv->owner, key, keys);
	return -1;
}

static int bad_type(dd_paramvals *pv, const dd_param_spec *s, const char *got,
                    char *err, size_t err_size)
{
	if (s->type == DD_PARAM_INT || s->type == DD_PARAM_FLOAT)
		snprintf(err, err_size, "%s: parameter '%s' must be %s in [%g, %g], got %s",
		         pv->owner, s->name, s->type == DD_PARAM_INT ? "an integer" : "a number",
		         s->min, s->max, got);
	else if (s->type == DD_PARAM_STRING && s->choices)
		snprintf(err, err_size, "%s: parameter '%s' must be one of %s, got %s",
		         pv->owner, s->name, s->choices, got);
	else
		snprintf(err, err_size, "%s: parameter '%s' must be a %s, got %s",
		         pv->owner, s->name, s->type == DD_PARAM_BOOL ? "boolean" : "string", got);
	return -1;
}

int dd_paramvals_set_num(dd_paramvals *pv, const char *key, double v,
                         char *err, size_t err_size)
{
	char got[64];
	int i = find_key(pv, key, err, err_size);
	if (i < 0)
		return -1;
	const dd_param_spec *s = &pv->params.spec[i];
	snprintf(got, sizeof got, "%.17g", v);
	if (s->type != DD_PARAM_INT && s->type != DD_PARAM_FLOAT)
		return bad_type(pv, s, got, err, err_size);
	if (!num_ok(s, v))
		return bad_type(pv, s, got, err, err_size);
	pv->values[i].num = v;
	return 0;
}

int dd_paramvals_set_bool(dd_paramvals *pv, const char *key, int v,
                          char *err, size_t err_size)
{
	int i = find_key(pv, key, err, err_size);
	if (i < 0)
		return -1;
	const dd_param_spec *s = &pv->params.spec[i];
	if (s->type != DD_PARAM_BOOL)
		return bad_type(pv, s, v ? "true" : "false", err, err_size);
	pv->values[i].num = v ? 1 : 0;
	return 0;
}

int dd_paramvals_set_str(dd_paramvals *pv, const char *key, const char *v,
                         char *err, size_t err_size)
{
	char got[300];
	int i = find_key(pv, key, err, err_size);
	if (i < 0)
		return -1;
	const dd_param_spec *s = &pv->params.spec[i];
	snprintf(got, sizeof got, "'%.256s'", v);
	if (s->type == DD_PARAM_INT || s->type == DD_PARAM_FLOAT) {
		char *end;
		double d = strtod(v, &end);
		if (end == v || *end != '\0')
			return bad_type(pv, s, got, err, err_size);
		return dd_paramvals_set_num(pv, key, d, err, err_size);
	}
	if (s->type == DD_PARAM_BOOL) {
		if (strcmp(v, "true") == 0 || strcmp(v, "1") == 0)
			return dd_paramvals_set_bool(pv, key, 1, err, err_size);
		if (strcmp(v, "false") == 0 || strcmp(v, "0") == 0)
			return dd_paramvals_set_bool(pv, key, 0, err, err_size);
		return bad_type(pv, s, got, err, err_size);
	}
	if (s->choices && !in_choices(s->choices, v))
		return bad_type(pv, s, got, err, err_size);
	char *copy = strdup(v);
	if (!copy) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	free((char *)pv->values[i].str);
	pv->values[i].str = copy;
	return 0;
}
