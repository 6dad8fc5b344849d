/*
** threads.c -- the toolkit's thread count and its pool of worker threads.
**
** The count is OpenBLAS's (a process-wide setting of OpenBLAS itself, so
** this is the one knob here that is not per object); our own kernels split
** their work into as many parts on a pool of persistent workers, started on
** first use, so a training step creates no thread. A worker spins briefly
** for the next job before it sleeps: a step hands out hundreds of jobs of
** a millisecond or less, and a futex wake-up for each would cost more than
** the spinning.
*/
#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "daydream/nn.h"
#include "nn_internal.h"

/* Polls of the job counter (each a pause instruction, tens of ns) before a
** waiting thread sleeps: about a millisecond, longer than the serial work
** (ReLU, loss, Adam) between the products of a training step, so that a
** step's jobs rarely pay a futex wake-up (4,000 polls measured slower on
** the conv encoder's step). */
#define SPINS 40000

/* A job's parts are claimed, not assigned: the caller and the workers take
** them from a counter, so that a worker the scheduler has not run yet (the
** machine is shared) delays nothing, the caller doing its part instead.
** state packs the job's number (bits 16 and up), its number of parts (bits
** 8 to 15) and the parts claimed (bits 0 to 7), so that one load tells a
** worker all it needs to claim a part of the job it woke up for. */
static struct {
	pthread_mutex_t mu;
	pthread_cond_t wake, finished;
	int workers;               /* started */
	_Atomic uint64_t state;
	atomic_int done;           /* parts of the job finished */
	dd_nn_part_fn fn;
	void *ctx;
	atomic_flag busy;          /* a job is under way */
} pool = {.mu = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
          .finished = PTHREAD_COND_INITIALIZER, .busy = ATOMIC_FLAG_INIT};

static void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Claims a part of job number job: its index, or -1 when every part is
** taken or the job is another one. */
static int claim(uint64_t job)
{
	uint64_t s = atomic_load(&pool.state);
	while (s >> 16 == job && (s & 0xff) < (s >> 8 & 0xff))
		if (atomic_compare_exchange_weak(&pool.state, &s, s + 1))
			return (int)(s & 0xff);
	return -1;
}

/* Runs the parts of job number job that are still unclaimed. */
static void take_parts(uint64_t job)
{
	for (int p; (p = claim(job)) >= 0;) {
		int parts = (int)(atomic_load(&pool.state) >> 8 & 0xff); /* this job's */
		pool.fn(pool.ctx, p, parts);
		if (atomic_fetch_add(&pool.done, 1) + 1 == parts) {
			pthread_mutex_lock(&pool.mu);
			pthread_cond_signal(&pool.finished);
			pthread_mutex_unlock(&pool.mu);
		}
	}
}

static void *worker(void *arg)
{
	uint64_t seen = (uint64_t)(size_t)arg, job;
	for (;;) {
		for (int i = 0; (job = atomic_load(&pool.state) >> 16) == seen && i < SPINS; i++)
			relax();
		if (job == seen) {
			pthread_mutex_lock(&pool.mu);
			while ((job = atomic_load(&pool.state) >> 16) == seen)
				pthread_cond_wait(&pool.wake, &pool.mu);
			pthread_mutex_unlock(&pool.mu);
		}
		seen = job;
		take_parts(job);
	}
	return NULL;
}

/* Starts workers until parts - 1 run (fewer if the system refuses: the
** caller then does more parts itself). Called between jobs only. */
static void grow(int parts)
{
	while (pool.workers < parts - 1) {
		pthread_t t;
		pthread_attr_t at;
		if (pthread_attr_init(&at) != 0)
			return;
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		void *job = (void *)(size_t)(atomic_load(&pool.state) >> 16);
		int rc = pthread_create(&t, &at, worker, job);
		pthread_attr_destroy(&at);
		if (rc != 0)
			return;
		pool.workers++;
	}
}

void dd_nn_parallel(dd_nn_part_fn fn, void *ctx, int parts)
{
	/* One job at a time: a caller that finds the pool busy (another thread
	** of the program is using it) runs every part itself, in turn; so does
	** a job of more parts than the state word counts. */
	if (parts <= 1 || parts > 0xff || atomic_flag_test_and_set(&pool.busy)) {
		for (int p = 0; p < parts; p++)
			fn(ctx, p, parts);
		return;
	}
	/* More parts than threads are claimed in turn by the threads there are. */
	grow(parts < nn_parts() ? parts : nn_parts());
	uint64_t job = (atomic_load(&pool.state) >> 16) + 1;
	pool.fn = fn;
	pool.ctx = ctx;
	atomic_store(&pool.done, 0);
	pthread_mutex_lock(&pool.mu);
	atomic_store(&pool.state, job << 16 | (uint64_t)parts << 8);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.mu);
	take_parts(job);
	for (int i = 0; atomic_load(&pool.done) < parts && i < SPINS; i++)
		relax();
	pthread_mutex_lock(&pool.mu);
	while (atomic_load(&pool.done) < parts)
		pthread_cond_wait(&pool.finished, &pool.mu);
	pthread_mutex_unlock(&pool.mu);
	atomic_flag_clear(&pool.busy);
}

typedef struct range_job {
	nn_range_fn fn;
	void *ctx;
	size_t n;
} range_job;

static size_t range_bound(size_t n, int part, int parts)
{
	return part == parts ? n : n / (size_t)parts * (size_t)part & ~(size_t)15;
}

static void range_part(void *ctx, int part, int parts)
{
	const range_job *j = ctx;
	size_t b = range_bound(j->n, part, parts), e = range_bound(j->n, part + 1, parts);
	if (b < e)
		j->fn(j->ctx, b, e);
}

void nn_parallel_range(nn_range_fn fn, void *ctx, size_t n, size_t min_part)
{
	size_t most = min_part ? n / min_part : n;
	int parts = nn_parts();
	if ((size_t)parts > most)
		parts = (int)most;
	if (parts <= 1) {
		if (n)
			fn(ctx, 0, n);
		return;
	}
	range_job j = {fn, ctx, n};
	dd_nn_parallel(range_part, &j, parts);
}

int nn_parts(void)
{
	int n = dd_nn_threads();
	return n < 1 ? 1 : n > NN_MAX_PARTS ? NN_MAX_PARTS : n;
}

int dd_nn_set_threads(int n)
{
	if (n <= 0)
		n = openblas_get_num_procs();
	if (n < 1)
		n = 1;
	openblas_set_num_threads(n);
	return openblas_get_num_threads();
}

int dd_nn_threads(void)
{
	return openblas_get_num_threads();
}
