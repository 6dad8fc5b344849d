/*
** paramvals.h -- checking plugin parameter schemas, and building the
** validated values a plugin's create() receives.
**
** A schema is checked once, when its plugin loads. Values start at the
** schema's defaults and are set one key at a time; each set either succeeds
** or leaves an error that names the key, the expected type and the bounds.
*/
#ifndef DD_PARAMVALS_H
#define DD_PARAMVALS_H

#include <stddef.h>

#include "daydream/plugin.h"

/* 1 when name matches [a-z][a-z0-9_]* (and, if allow_version, an optional
** "-vN" suffix). */
int dd_name_valid(const char *name, int allow_version);

/* Checks a NULL-name-terminated schema: valid unique names, known types,
** min <= max, defaults within bounds and choices. Returns the count of
** entries, or -1 with the reason in err. */
int dd_schema_check(const dd_param_spec *spec, char *err, size_t err_size);

/* Validated values for one schema. Strings are owned (malloc'd). */
typedef struct dd_paramvals {
	dd_params params;    /* what create() receives; points into the fields below */
	dd_value *values;
	int count;
	const char *owner;   /* plugin name, for messages */
} dd_paramvals;

/* Fills pv with the defaults of spec. Returns 0, or -1 on out of memory. */
int dd_paramvals_init(dd_paramvals *pv, const char *owner,
                      const dd_param_spec *spec, int count);
void dd_paramvals_free(dd_paramvals *pv);

/* Sets one key from a number, a boolean or a string. On a bad key or value
** returns -1 and writes e.g. "corridor: parameter 'length' must be an
** integer in [2, 1000], got 0.5" into err. A string that spells a number
** sets a numeric key (so --set works from the command line). */
int dd_paramvals_set_num(dd_paramvals *pv, const char *key, double v,
                         char *err, size_t err_size);
int dd_paramvals_set_bool(dd_paramvals *pv, const char *key, int v,
                          char *err, size_t err_size);
int dd_paramvals_set_str(dd_paramvals *pv, const char *key, const char *v,
                         char *err, size_t err_size);

/* Writes "key1, key2, ..." into buf (for "valid keys are ..." messages). */
void dd_schema_keys(const dd_param_spec *spec, int count, char *buf,
                    size_t size);

/* "int", "float", "bool" or "string". */
const char *dd_param_type_name(dd_param_type t);

#endif
