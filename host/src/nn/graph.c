/*
** graph.c -- the per-step arena and the tape of recorded ops.
**
** The arena is one block allocated when the graph is made; allocation bumps
** an offset and reset sets it back to zero, so a training step costs no heap
** traffic at all. Under AddressSanitizer the free part of the arena stays
** poisoned and each allocation is followed by a poisoned red zone, so an op
** that writes past its tensor is caught as it would be on the heap.
*/
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/graph.h"
#include "nn_internal.h"

#if defined(__SANITIZE_ADDRESS__)
#define NN_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define NN_ASAN 1
#endif
#endif
#ifdef NN_ASAN
#include <sanitizer/asan_interface.h>
#define REDZONE 64
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define REDZONE 0
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define ALIGN 64

/* A node plus the link to the one recorded before it. */
typedef struct tape_entry {
	dd_node node;
	struct tape_entry *prev;
} tape_entry;

struct dd_graph {
	unsigned char *base;   /* ALIGN-aligned start of the arena */
	void *block;           /* what malloc returned */
	size_t cap, used, peak;
	tape_entry *last;      /* the tape, newest first */
	int training;
	char err[256];
};

dd_graph *dd_graph_new(size_t arena_bytes)
{
	dd_graph *g = calloc(1, sizeof *g);
	if (!g)
		return NULL;
	g->cap = (arena_bytes + ALIGN - 1) / ALIGN * ALIGN;
	g->block = malloc(g->cap + ALIGN);
	if (!g->block) {
		free(g);
		return NULL;
	}
	g->base = (unsigned char *)(((uintptr_t)g->block + ALIGN - 1) / ALIGN * ALIGN);
	g->training = 1;
	POISON(g->base, g->cap);
	return g;
}

void dd_graph_free(dd_graph *g)
{
	if (!g)
		return;
	UNPOISON(g->base, g->cap);
	free(g->block);
	free(g);
}

void dd_graph_reset(dd_graph *g)
{
	POISON(g->base, g->used);
	g->used = 0;
	g->last = NULL;
	g->err[0] = '\0';
}

const char *dd_graph_error(const dd_graph *g)
{
	return g->err;
}

int dd_graph_fail(dd_graph *g, const char *fmt, ...)
{
	if (g->err[0] == '\0') {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(g->err, sizeof g->err, fmt, ap);
		va_end(ap);
	}
	return DD_ERR;
}

void dd_graph_set_training(dd_graph *g, int training)
{
	g->training = training != 0;
}

int dd_graph_training(const dd_graph *g)
{
	return g->training;
}

size_t dd_graph_arena_used(const dd_graph *g)
{
	return g->used;
}

size_t dd_graph_arena_capacity(const dd_graph *g)
{
	return g->cap;
}

size_t dd_graph_arena_peak(const dd_graph *g)
{
	return g->peak;
}

void *dd_graph_alloc(dd_graph *g, size_t bytes)
{
	size_t need = (bytes + REDZONE + ALIGN - 1) / ALIGN * ALIGN;
	if (need < bytes || need > g->cap - g->used) {
		size_t want = g->used + need;
		if (want > g->peak)
			g->peak = want;
		dd_graph_fail(g, "arena overflow: a step needs more than %zu bytes "
		              "(make the graph with a larger arena)", g->cap);
		return NULL;
	}
	unsigned char *p = g->base + g->used;
	g->used += need;
	if (g->used > g->peak)
		g->peak = g->used;
	UNPOISON(p, bytes);
	return p;
}

static void zero_range(void *ctx, size_t i, size_t e)
{
	memset((float *)ctx + i, 0, (e - i) * sizeof(float));
}

dd_tensor *dd_graph_tensor(dd_graph *g, int ndim, const int *dims, int want_grad)
{
	size_t n = dd_shape_count(ndim, dims);
	if (n == 0) {
		dd_graph_fail(g, "bad tensor shape (ndim %d)", ndim);
		return NULL;
	}
	dd_tensor *t = dd_graph_alloc(g, sizeof *t);
	float *data = dd_graph_alloc(g, n * sizeof(float));
	float *grad = want_grad ? dd_graph_alloc(g, n * sizeof(float)) : NULL;
	if (!t || !data || (want_grad && !grad))
		return NULL;
	memset(t, 0, sizeof *t);
	t->ndim = ndim;
	for (int i = 0; i < DD_MAX_DIMS; i++)
		t->dims[i] = i < ndim ? dims[i] : 1;
	t->size = n;
	t->data = data;
	t->grad = grad;
	if (grad) /* tens of MB a step in a conv net: on the toolkit's threads */
		nn_parallel_range(zero_range, grad, n, NN_RANGE_MIN);
	return t;
}

dd_tensor *dd_graph_input(dd_graph *g, int ndim, const int *dims, const float *src,
                          int want_grad)
{
	dd_tensor *t = dd_graph_tensor(g, ndim, dims, want_grad);
	if (!t)
		return NULL;
	if (src)
		memcpy(t->data, src, t->size * sizeof(float));
	else
		memset(t->data, 0, t->size * sizeof(float));
	return t;
}

int dd_any_grad(dd_tensor *const *t, int n)
{
	for (int i = 0; i < n; i++)
		if (t[i] && t[i]->grad)
			return 1;
	return 0;
}

int dd_graph_record(dd_graph *g, dd_backward_fn backward, dd_tensor *out,
                    dd_tensor *const *in, int n_in, void *saved)
{
	if (!out->grad)
		return DD_OK;
	tape_entry *e = dd_graph_alloc(g, sizeof *e);
	dd_tensor **ins = dd_graph_alloc(g, (size_t)(n_in > 0 ? n_in : 1) * sizeof *ins);
	if (!e || !ins)
		return DD_ERR;
	for (int i = 0; i < n_in; i++)
		ins[i] = in[i];
	e->node.backward = backward;
	e->node.out = out;
	e->node.in = ins;
	e->node.n_in = n_in;
	e->node.saved = saved;
	e->prev = g->last;
	g->last = e;
	return DD_OK;
}

static int run_tape(dd_graph *g)
{
	for (tape_entry *e = g->last; e; e = e->prev)
		if (e->node.backward(g, &e->node) != DD_OK)
			return dd_graph_fail(g, "backward failed");
	return DD_OK;
}

int dd_graph_backward(dd_graph *g, dd_tensor *loss)
{
	if (g->err[0])
		return DD_ERR;
	if (!loss)
		return dd_graph_fail(g, "backward: no loss tensor");
	if (loss->size != 1)
		return dd_graph_fail(g, "backward: the loss has %zu elements, not 1 "
		                     "(use dd_graph_backward_seed)", loss->size);
	if (!loss->grad)
		return DD_OK; /* nothing it depends on wants a gradient */
	loss->grad[0] += 1.0f;
	return run_tape(g);
}

int dd_graph_backward_seed(dd_graph *g, dd_tensor *y, const float *dy)
{
	if (g->err[0])
		return DD_ERR;
	if (!y || !dy)
		return dd_graph_fail(g, "backward: no tensor or seed gradient");
	if (!y->grad)
		return DD_OK;
	for (size_t i = 0; i < y->size; i++)
		y->grad[i] += dy[i];
	return run_tape(g);
}
