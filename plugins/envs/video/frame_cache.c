/*
** frame_cache.c -- decoded frames kept in a buffer of bounded size, the
** least recently used one replaced first. Clips read frames in order and
** instances revisit the same clips, so a cache the size of the working set
** makes a file cost one decode however many clips are drawn from it.
** Memory grows with use up to the bound: a short video never costs the
** whole budget.
*/
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "video.h"

int frame_cache_init(frame_cache *c, size_t frame_bytes, size_t max_bytes)
{
	memset(c, 0, sizeof *c);
	if (frame_bytes < 1)
		return DD_ERR;
	size_t slots = max_bytes / frame_bytes;
	c->frame_bytes = frame_bytes;
	c->n_slots = slots < 1 ? 1 : slots > INT_MAX / 4 ? INT_MAX / 4 : (int)slots;
	return DD_OK;
}

void frame_cache_free(frame_cache *c)
{
	for (int i = 0; i < c->used; i++)
		free(c->data[i]);
	free(c->data);
	free(c->slot_of);
	free(c->frame_of);
	free(c->last_use);
	memset(c, 0, sizeof *c);
}

const uint8_t *frame_cache_get(frame_cache *c, int i)
{
	if (i < 0 || i >= c->n_map || c->slot_of[i] < 0)
		return NULL;
	int s = c->slot_of[i];
	c->last_use[s] = ++c->clock;
	return c->data[s];
}

/* Makes slot_of cover frame i. */
static int grow_map(frame_cache *c, int i)
{
	if (i < c->n_map)
		return DD_OK;
	int n = c->n_map ? c->n_map : 256;
	while (n <= i)
		n = n > INT_MAX / 2 ? INT_MAX : 2 * n;
	int *m = realloc(c->slot_of, sizeof *m * (size_t)n);
	if (!m)
		return DD_ERR;
	for (int k = c->n_map; k < n; k++)
		m[k] = -1;
	c->slot_of = m;
	c->n_map = n;
	return DD_OK;
}

/* A new slot while under the bound; -1 when out of memory. */
static int new_slot(frame_cache *c)
{
	if (c->used == c->cap) {
		int cap = c->cap ? 2 * c->cap : 64;
		cap = cap > c->n_slots ? c->n_slots : cap;
		uint8_t **d = realloc(c->data, sizeof *d * (size_t)cap);
		if (d)
			c->data = d;
		int *f = realloc(c->frame_of, sizeof *f * (size_t)cap);
		if (f)
			c->frame_of = f;
		uint64_t *u = realloc(c->last_use, sizeof *u * (size_t)cap);
		if (u)
			c->last_use = u;
		if (!d || !f || !u)
			return -1;
		c->cap = cap;
	}
	if (!(c->data[c->used] = malloc(c->frame_bytes)))
		return -1;
	c->frame_of[c->used] = -1;
	return c->used++;
}

uint8_t *frame_cache_put(frame_cache *c, int i)
{
	if (i < 0 || grow_map(c, i) != DD_OK)
		return NULL;
	int s = c->slot_of[i];
	if (s < 0) {
		if (c->used < c->n_slots) {
			if ((s = new_slot(c)) < 0)
				return NULL;
		} else {
			/* A linear scan: a miss costs a decode, which is far slower. */
			s = 0;
			for (int k = 1; k < c->used; k++)
				if (c->last_use[k] < c->last_use[s])
					s = k;
			if (c->frame_of[s] >= 0)
				c->slot_of[c->frame_of[s]] = -1;
		}
		c->frame_of[s] = i;
		c->slot_of[i] = s;
	}
	c->last_use[s] = ++c->clock;
	return c->data[s];
}

void frame_cache_drop(frame_cache *c, int i)
{
	if (i < 0 || i >= c->n_map || c->slot_of[i] < 0)
		return;
	int s = c->slot_of[i];
	c->frame_of[s] = -1;
	c->slot_of[i] = -1;
	c->last_use[s] = 0; /* the first to be reused */
}
