/*
** samples.c -- a bounded buffer of observation rows and the plugin-edge
** helpers the sparse learners share (see samples.h).
*/
#include <stdlib.h>
#include <string.h>

#include "feature_kit.h"
#include "samples.h"

int samples_init(samples *s, int n, int cap)
{
	memset(s, 0, sizeof *s);
	s->rows = malloc(sizeof(float) * (size_t)n * (size_t)cap);
	if (!s->rows)
		return -1;
	s->n = n;
	s->cap = cap;
	return 0;
}

void samples_free(samples *s)
{
	free(s->rows);
	memset(s, 0, sizeof *s);
}

void samples_push(samples *s, const float *rows, int k)
{
	for (int i = 0; i < k; i++) {
		memcpy(s->rows + (size_t)s->next * (size_t)s->n, rows + (size_t)i * (size_t)s->n,
		       sizeof(float) * (size_t)s->n);
		s->next = (s->next + 1) % s->cap;
		if (s->count < s->cap)
			s->count++;
	}
}

void samples_clear(samples *s)
{
	s->count = 0;
	s->next = 0;
}

int samples_obs_shape(dd_host *host, const dd_spaces *env, const char *learner, int *n,
                      int *h, int *w)
{
	if (!env || env->n_obs < 1)
		return host->error(host, "%s learns from an observation tensor; this env has none",
		                   learner);
	size_t count = dd_tensor_spec_count(&env->obs[0]);
	if (count < 1 || count > 1u << 20)
		return host->error(host, "%s: observation '%s' has %zu values (1..1048576 supported)",
		                   learner, env->obs[0].name, count);
	feat_shape s;
	feat_shape_of(env, host, &s);
	*n = s.d;
	*h = s.c == 1 ? s.h : 1; /* several planes: shown as one strip */
	*w = s.c == 1 ? s.w : s.d;
	return DD_OK;
}
