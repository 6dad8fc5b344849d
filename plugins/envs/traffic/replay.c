/*
** replay.c -- the PPUU protocol's replay mode: recorded trajectories indexed
** by frame, put on the road frame by frame exactly as recorded, while the
** ego replaces one recorded vehicle.
*/
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

static int by_frame_vehicle(const void *a, const void *b)
{
	const tr_ngsim_row *x = a, *y = b;
	if (x->frame != y->frame)
		return x->frame < y->frame ? -1 : 1;
	if (x->vehicle != y->vehicle)
		return x->vehicle < y->vehicle ? -1 : 1;
	return 0;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	return (x > y) - (x < y);
}

/* Distinct vehicle ids and the span of frames each is recorded in. */
static int index_vehicles(tr_replay *r)
{
	size_t n = r->data.n;
	int *ids = malloc(n * sizeof *ids);
	if (!ids)
		return -1;
	for (size_t i = 0; i < n; i++)
		ids[i] = r->data.rows[i].vehicle;
	qsort(ids, n, sizeof *ids, cmp_int);
	int m = 0;
	for (size_t i = 0; i < n; i++)
		if (m == 0 || ids[m - 1] != ids[i])
			ids[m++] = ids[i];
	r->vehicles = ids;
	r->n_vehicles = m;
	r->v_first = malloc((size_t)m * sizeof *r->v_first);
	r->v_last = malloc((size_t)m * sizeof *r->v_last);
	if (!r->v_first || !r->v_last)
		return -1;
	for (int k = 0; k < m; k++) {
		r->v_first[k] = r->f1;
		r->v_last[k] = r->f0;
	}
	for (size_t i = 0; i < n; i++) {
		const tr_ngsim_row *row = &r->data.rows[i];
		int k = tr_replay_vehicle(r, row->vehicle);
		if (row->frame < r->v_first[k])
			r->v_first[k] = row->frame;
		if (row->frame > r->v_last[k])
			r->v_last[k] = row->frame;
	}
	return 0;
}

int tr_replay_init(tr_replay *r, tr_ngsim *data, char *err, size_t err_size)
{
	memset(r, 0, sizeof *r);
	r->data = *data;
	memset(data, 0, sizeof *data);
	tr_ngsim_row *rows = r->data.rows;
	size_t n = r->data.n;
	qsort(rows, n, sizeof *rows, by_frame_vehicle);
	for (size_t i = 1; i < n; i++)
		if (rows[i].frame == rows[i - 1].frame && rows[i].vehicle == rows[i - 1].vehicle) {
			int a = rows[i - 1].line, b = rows[i].line;
			snprintf(err, err_size, "line %d: vehicle %d appears twice in frame %d "
			         "(also line %d)", a > b ? a : b, rows[i].vehicle, rows[i].frame,
			         a > b ? b : a);
			return -1;
		}
	r->f0 = rows[0].frame;
	r->f1 = rows[n - 1].frame;
	size_t frames = (size_t)(r->f1 - r->f0) + 1;
	r->first = malloc((frames + 1) * sizeof *r->first);
	if (!r->first || index_vehicles(r) < 0) {
		snprintf(err, err_size, "out of memory indexing %zu trajectory rows", n);
		return -1;
	}
	size_t i = 0;
	for (size_t f = 0; f <= frames; f++) {
		while (i < n && (size_t)(rows[i].frame - r->f0) < f)
			i++;
		r->first[f] = i;
		if (f > 0 && (int)(r->first[f] - r->first[f - 1]) > r->max_per_frame)
			r->max_per_frame = (int)(r->first[f] - r->first[f - 1]);
	}
	return 0;
}

void tr_replay_free(tr_replay *r)
{
	tr_ngsim_free(&r->data);
	free(r->first);
	free(r->vehicles);
	free(r->v_first);
	free(r->v_last);
	memset(r, 0, sizeof *r);
}

int tr_replay_vehicle(const tr_replay *r, int id)
{
	int lo = 0, hi = r->n_vehicles - 1;
	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		if (r->vehicles[mid] == id)
			return mid;
		if (r->vehicles[mid] < id)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

const tr_ngsim_row *tr_replay_row(const tr_replay *r, int id, int f)
{
	if (f < r->f0 || f > r->f1)
		return NULL;
	size_t a = r->first[f - r->f0], b = r->first[f - r->f0 + 1];
	while (a < b) { /* rows of a frame are sorted by vehicle */
		size_t mid = (a + b) / 2;
		int v = r->data.rows[mid].vehicle;
		if (v == id)
			return &r->data.rows[mid];
		if (v < id)
			a = mid + 1;
		else
			b = mid;
	}
	return NULL;
}

int tr_replay_apply(const tr_replay *r, tr_sim *s, int f, int skip_id)
{
	int m = 0;
	for (int i = 0; i < s->n; i++)
		if (s->v[i].kind == TR_EGO)
			s->v[m++] = s->v[i];
	s->n = m;
	if (f >= r->f0 && f <= r->f1)
		for (size_t i = r->first[f - r->f0]; i < r->first[f - r->f0 + 1]; i++) {
			const tr_ngsim_row *row = &r->data.rows[i];
			if (row->vehicle == skip_id)
				continue;
			if (s->n >= s->cap)
				return -1;
			tr_vehicle *w = &s->v[s->n++];
			memset(w, 0, sizeof *w);
			w->id = row->vehicle;
			w->kind = TR_REPLAY;
			w->x = row->x;
			w->y = row->y;
			w->v = w->vx = row->v;
			w->acc = row->acc;
			w->length = row->length;
			w->width = row->width;
			w->drv = s->cfg.driver;
		}
	tr_sim_index(s);
	return 0;
}
