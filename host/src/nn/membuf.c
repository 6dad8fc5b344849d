/*
** membuf.c -- a dd_writer into a growing heap buffer and a dd_reader over
** bytes in memory: checkpoints kept as blobs, and tests.
*/
#include <stdlib.h>
#include <string.h>

#include "daydream/checkpoint.h"

static int mem_write(dd_writer *w, const void *data, size_t n)
{
	dd_membuf *m = w->ctx;
	if (n > m->cap - m->len) {
		size_t cap = m->cap ? m->cap : 4096;
		while (cap - m->len < n) {
			if (cap > ((size_t)-1) / 2)
				return DD_ERR;
			cap *= 2;
		}
		unsigned char *b = realloc(m->buf, cap);
		if (!b)
			return DD_ERR;
		m->buf = b;
		m->cap = cap;
	}
	memcpy(m->buf + m->len, data, n);
	m->len += n;
	return DD_OK;
}

void dd_membuf_writer(dd_writer *w, dd_membuf *m)
{
	w->ctx = m;
	w->write = mem_write;
}

static int mem_read(dd_reader *r, void *data, size_t n)
{
	dd_membuf *m = r->ctx;
	if (n > m->len - m->pos)
		return DD_ERR;
	if (n == 0)
		return DD_OK;
	memcpy(data, m->buf + m->pos, n);
	m->pos += n;
	r->remaining = m->len - m->pos;
	return DD_OK;
}

void dd_membuf_reader(dd_reader *r, dd_membuf *m, const void *data, size_t len)
{
	/* The reader only reads; the cast keeps one struct for both roles. */
	m->buf = (unsigned char *)(uintptr_t)data;
	m->len = len;
	m->cap = 0;
	m->pos = 0;
	r->ctx = m;
	r->remaining = len;
	r->read = mem_read;
}

void dd_membuf_free(dd_membuf *m)
{
	if (m->cap)
		free(m->buf);
	m->buf = NULL;
	m->len = m->cap = m->pos = 0;
}
