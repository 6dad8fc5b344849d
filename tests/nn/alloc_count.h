/*
** alloc_count.h -- counts every heap allocation of the process (malloc and
** friends replaced over glibc's __libc_* entry points), for the tests that
** prove a steady-state training step allocates nothing. Off under ASan,
** which interposes malloc itself: COUNTING is then 0. Include it in one
** test file of a program.
*/
#ifndef DD_TEST_ALLOC_COUNT_H
#define DD_TEST_ALLOC_COUNT_H

#include <stddef.h>

/* ---- counting allocator (glibc's __libc_* entry points; off under ASan,
** which interposes malloc itself: the count then is not available). ----- */
#if defined(__SANITIZE_ADDRESS__)
#define COUNTING 0
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define COUNTING 0
#endif
#endif
#ifndef COUNTING
#define COUNTING 1
#endif

#if !COUNTING
static long n_allocs;
#else
extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
static _Atomic long n_allocs;

void *malloc(size_t n)
{
	n_allocs++;
	return __libc_malloc(n);
}
void *calloc(size_t a, size_t b)
{
	n_allocs++;
	return __libc_calloc(a, b);
}
void *realloc(void *p, size_t n)
{
	n_allocs++;
	return __libc_realloc(p, n);
}
void *aligned_alloc(size_t al, size_t n)
{
	n_allocs++;
	return __libc_memalign(al, n);
}
int posix_memalign(void **p, size_t al, size_t n)
{
	n_allocs++;
	*p = __libc_memalign(al, n);
	return *p ? 0 : 12; /* ENOMEM */
}
void *memalign(size_t al, size_t n)
{
	n_allocs++;
	return __libc_memalign(al, n);
}
#endif

#endif
