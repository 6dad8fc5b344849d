/*
** names.c -- info stat names made at create time ("x0", "y0", "sprite1"...),
** whose count depends on the parameters; they live until destroy().
*/
#include <stdio.h>
#include <stdlib.h>

#include "video.h"

const char **names_new(int n)
{
	return calloc((size_t)(n > 0 ? n : 1), sizeof(const char *));
}

int names_set(const char **names, int i, const char *fmt, int k)
{
	char buf[32];
	snprintf(buf, sizeof buf, fmt, k);
	size_t len = strlen(buf) + 1;
	char *s = malloc(len);
	if (!s)
		return DD_ERR;
	memcpy(s, buf, len);
	names[i] = s;
	return DD_OK;
}

void names_free(const char **names, int n)
{
	if (!names)
		return;
	for (int i = 0; i < n; i++)
		free((void *)names[i]);
	free(names);
}
