/*
** gemm.c -- dd_sgemm, a packed matrix product with an AVX-512 kernel.
**
** OpenBLAS is pinned to its AVX2 kernels on some of the AMD machines this
** project runs on (OPENBLAS_CORETYPE=Haswell, for correctness), which
** halves what their 512-bit FMA pipes can do; where it is not, ours is
** about as fast, and lets conv.c make its own panels. This is the classic
** BLIS scheme instead, on row-major C: op(A) is packed into panels MR = 8 rows tall,
** op(B) into panels NR = 48 columns wide, KC deep at a time; a micro-kernel
** keeps one 8 x 48 tile of C in 24 zmm registers (enough independent sums
** to cover the FMA latency) while it runs down the KC products, reading
** three vectors of the B panel and broadcasting eight numbers of the A
** panel (8 KB, in L1) per step. Panels are padded with zeros, so only the
** store of an edge tile differs (a row count and a column mask).
**
** A is packed once per block of MC rows by KB columns, by all threads
** together, into a buffer they share; then the block's columns of C (and
** its rows too when N is narrow) are cut into tasks that the threads take
** in turn from a counter, each packing its own B block (KC x at most NC,
** in L2) unless the caller handed B over in panels (dd_sgemm_panels) or
** packs the block itself (dd_sgemm_packed_by).
** Taking tasks rather than a fixed half keeps both threads busy when one
** is held up (the machine is shared) or the halves are uneven. Buffers are
** allocated on first use and kept, so a training step allocates nothing.
*/
#include "gemm.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "nn_internal.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_KERNEL 1
#else
#define HAVE_KERNEL 0
#endif

enum {
	MR = 8,    /* rows of a C tile: broadcasts from the A panel */
	NR = DD_GEMM_NR, /* columns of a C tile: three 16-float vectors */
	KC = 256,  /* depth of a kernel call: an A panel is 8 KB, in L1 */
	MC = 512,  /* rows of A packed at once */
	KB = 2048, /* depth of A packed at once, a multiple of KC: 4 MB */
	NC = 384,  /* widest task: its B block of KC x NC is 384 KB, in L2 */
};

/* Below this many multiply-adds (about 40 microseconds on one core) a
** product stays on the caller's thread: splitting it would cost more in
** handing out and waiting for parts than it saves. The MLP's products
** (128 x 512 x 784 and smaller) split in two make its training step 1.7x
** faster when steps run back to back (5.99 -> 3.40 ms on AMD Zen 4). */
#define PARALLEL_MIN_FMA (1 << 22)

typedef struct gemm {
	int ta, tb, M, N, K, lda, ldb, ldc;
	float alpha, beta;
	const float *A, *B;
	const float *Ap;  /* op(A) already in panels (dd_sgemm_pack_rows), or NULL */
	const float *Bp;  /* op(B) already in panels, or NULL */
	dd_gemm_pack_fn pack; /* or op(B) packed by the caller's function */
	void *pack_ctx;
	float *C;
	/* the block of A in a_buf: rows [ic, ic + mc), depth [pb, pb + kb) */
	int ic, mc, pb, kb;
	/* its tasks: its m_tiles x n_tiles tiles of C cut into m_groups of rows
	** by n_groups of columns */
	int m_tiles, n_tiles, m_groups, n_groups;
	atomic_int next;  /* the next task to take */
} gemm;

/* Rows [p0, p0 + kc) and columns [j0, j0 + nc) of op(B) into NR-column
** panels, each kc rows of NR numbers, zero past column nc. */
static void pack_b(const gemm *g, int p0, int kc, int j0, int nc, float *dst)
{
	for (int q = 0; q < nc; q += NR, dst += NR * kc) {
		int nr = nc - q < NR ? nc - q : NR;
		if (!g->tb) { /* B is K x N: a row of the panel is contiguous */
			const float *src = g->B + (size_t)p0 * g->ldb + j0 + q;
			for (int k = 0; k < kc; k++, src += g->ldb) {
				memcpy(dst + k * NR, src, sizeof(float) * (size_t)nr);
				memset(dst + k * NR + nr, 0, sizeof(float) * (size_t)(NR - nr));
			}
		} else {
			for (int c = 0; c < NR; c++) {
				const float *src = g->B + (size_t)(j0 + q + c) * g->ldb + p0;
				for (int k = 0; k < kc; k++)
					dst[k * NR + c] = c < nr ? src[k] : 0.0f;
			}
		}
	}
}

void dd_sgemm_pack_panels(enum CBLAS_TRANSPOSE tb, int K, int N, const float *B, int ldb,
                          float *Bp)
{
	gemm g = {.tb = tb != CblasNoTrans, .N = N, .K = K, .ldb = ldb, .B = B};
	pack_b(&g, 0, K, 0, N, Bp);
}

/* m rows rounded up to whole MR-row panels: the stride between the packed
** KC-deep slices of op(A) (a block of it in a_buf, or all of it from
** dd_sgemm_pack_rows). */
static int panel_rows(int m)
{
	return (m + MR - 1) / MR * MR;
}

#if HAVE_KERNEL
static float *a_buf;                 /* MC x KB, shared by the threads */
static float *b_buf[NN_MAX_PARTS];   /* KC x NC, per thread */
static atomic_flag in_use = ATOMIC_FLAG_INIT;

/* dst[k * 8 + r] = src[r * ld + k] for r, k < 8: the rows of A, which
** the panel wants as columns, turned in registers (the scalar loop writes
** one float at a time, 8 floats apart). */
__attribute__((target("avx2")))
static void transpose8(const float *src, int ld, float *dst)
{
	__m256 r[8], t[8], u[8];
	for (int i = 0; i < 8; i++)
		r[i] = _mm256_loadu_ps(src + (size_t)i * ld);
	for (int i = 0; i < 8; i += 2) {
		t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]);
		t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
	}
	for (int i = 0; i < 8; i += 4) {
		u[i] = _mm256_shuffle_ps(t[i], t[i + 2], 0x44);
		u[i + 1] = _mm256_shuffle_ps(t[i], t[i + 2], 0xee);
		u[i + 2] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0x44);
		u[i + 3] = _mm256_shuffle_ps(t[i + 1], t[i + 3], 0xee);
	}
	for (int i = 0; i < 4; i++) {
		_mm256_storeu_ps(dst + 8 * i, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
		_mm256_storeu_ps(dst + 8 * (i + 4), _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
	}
}

/* Rows [i0, i0 + mc) and columns [p0, p0 + kc) of op(A) into MR-row panels,
** each kc steps of MR numbers, zero past row mc. */
static void pack_a(const gemm *g, int i0, int mc, int p0, int kc, float *dst)
{
	for (int q = 0; q < mc; q += MR, dst += MR * kc) {
		int mr = mc - q < MR ? mc - q : MR;
		if (g->ta) { /* A is K x M: a column of op(A) is contiguous */
			const float *src = g->A + (size_t)p0 * g->lda + i0 + q;
			for (int k = 0; k < kc; k++, src += g->lda) {
				for (int r = 0; r < mr; r++)
					dst[k * MR + r] = src[r];
				for (int r = mr; r < MR; r++)
					dst[k * MR + r] = 0.0f;
			}
		} else {
			const float *src = g->A + (size_t)(i0 + q) * g->lda + p0;
			int k = 0;
			if (mr == MR) /* whole 8 x 8 blocks by transposes */
				for (; k + 8 <= kc; k += 8)
					transpose8(src + k, g->lda, dst + k * MR);
			for (int r = 0; r < MR; r++)
				for (int kk = k; kk < kc; kk++)
					dst[kk * MR + r] = r < mr ? src[(size_t)r * g->lda + kk] : 0.0f;
		}
	}
}

/* C[0..mr)[0..nr) = alpha * (a-panel x b-panel) + beta * C, C not read
** when beta is 0. */
__attribute__((target("avx512f")))
static void kernel(int kc, const float *a, const float *b, float *C, int ldc,
                   float alpha, float beta, int mr, int nr)
{
	__m512 c[MR][3];
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++) {
		c[r][0] = c[r][1] = c[r][2] = _mm512_setzero_ps();
		if (r < mr) /* the tile of C is read or written at the end */
			for (int v = 0; v < 3; v++)
				_mm_prefetch((const char *)(C + (size_t)r * ldc + 16 * v), _MM_HINT_T0);
	}
	for (int k = 0; k < kc; k++, a += MR, b += NR) {
		__m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16),
		       b2 = _mm512_loadu_ps(b + 32);
#pragma GCC unroll 8
		for (int r = 0; r < MR; r++) {
			__m512 ar = _mm512_set1_ps(a[r]);
			c[r][0] = _mm512_fmadd_ps(ar, b0, c[r][0]);
			c[r][1] = _mm512_fmadd_ps(ar, b1, c[r][1]);
			c[r][2] = _mm512_fmadd_ps(ar, b2, c[r][2]);
		}
	}
	__mmask16 m[3];
	for (int v = 0; v < 3; v++) {
		int left = nr - 16 * v;
		m[v] = left >= 16 ? 0xffff : left <= 0 ? 0 : (__mmask16)((1u << left) - 1);
	}
	__m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
#pragma GCC unroll 8
	for (int r = 0; r < MR; r++) {
		if (r >= mr)
			break;
		float *cr = C + (size_t)r * ldc;
#pragma GCC unroll 3
		for (int v = 0; v < 3; v++) {
			__m512 x = _mm512_mul_ps(va, c[r][v]);
			if (beta != 0.0f)
				x = _mm512_fmadd_ps(vb, _mm512_maskz_loadu_ps(m[v], cr + 16 * v), x);
			_mm512_mask_storeu_ps(cr + 16 * v, m[v], x);
		}
	}
}

/* Part p packs every parts-th KC slice of the block of A. */
static void pack_part(void *ctx, int p, int parts)
{
	const gemm *g = ctx;
	for (int pc = g->pb + p * KC; pc < g->pb + g->kb; pc += parts * KC) {
		int kc = g->pb + g->kb - pc < KC ? g->pb + g->kb - pc : KC;
		pack_a(g, g->ic, g->mc, pc, kc, a_buf + (size_t)(pc - g->pb) * panel_rows(g->mc));
	}
}

/* Bound i of n tiles cut into g groups as evenly as can be (sizes differ
** by one at most). */
static int cut(int n, int g, int i)
{
	return (int)((long)n * i / g);
}

/* Task t: its tiles of C through the whole depth of the block. */
static void run_task(const gemm *g, int t, float *bp)
{
	int ng = t % g->n_groups, mg = t / g->n_groups;
	int r0 = cut(g->m_tiles, g->m_groups, mg) * MR, r1 = cut(g->m_tiles, g->m_groups, mg + 1) * MR;
	int j0 = cut(g->n_tiles, g->n_groups, ng) * NR, j1 = cut(g->n_tiles, g->n_groups, ng + 1) * NR;
	r1 = r1 < g->mc ? r1 : g->mc;
	j1 = j1 < g->N ? j1 : g->N;
	for (int pc = g->pb; pc < g->pb + g->kb; pc += KC) {
		int kc = g->pb + g->kb - pc < KC ? g->pb + g->kb - pc : KC;
		float beta = pc ? 1.0f : g->beta;
		const float *a = (g->Ap ? g->Ap : a_buf) + (size_t)(pc - g->pb) * panel_rows(g->mc);
		const float *b = bp; /* panel q of the block at b + q * stride */
		size_t stride = (size_t)kc * NR;
		if (g->Bp) {
			stride = (size_t)g->K * NR;
			b = g->Bp + (size_t)(j0 / NR) * stride + (size_t)pc * NR;
		} else if (g->pack) {
			g->pack(g->pack_ctx, pc, kc, j0, j1 - j0, bp);
		} else {
			pack_b(g, pc, kc, j0, j1 - j0, bp);
		}
		for (int ir = r0; ir < r1; ir += MR)
			for (int jr = j0; jr < j1; jr += NR)
				kernel(kc, a + (size_t)ir * kc, b + (size_t)((jr - j0) / NR) * stride,
				       g->C + (size_t)(g->ic + ir) * g->ldc + jr, g->ldc, g->alpha, beta,
				       r1 - ir < MR ? r1 - ir : MR, j1 - jr < NR ? j1 - jr : NR);
	}
}

static void task_part(void *ctx, int p, int parts)
{
	(void)parts;
	gemm *g = ctx;
	int tasks = g->m_groups * g->n_groups;
	for (int t; (t = atomic_fetch_add(&g->next, 1)) < tasks;)
		run_task(g, t, b_buf[p]);
}

/* The time of a plan (gm groups of row tiles by gn of column tiles) on
** parts threads that each take the next task when free: the load of the
** busiest, in tiles of C, each task also paying pack tiles per column tile
** for its own copy of the B block. */
static double plan_time(int m_tiles, int n_tiles, int gm, int gn, int parts, double pack)
{
	double load[NN_MAX_PARTS] = {0}, most = 0;
	for (int t = 0; t < gm * gn; t++) {
		int mg = t / gn, ng = t % gn, p = 0;
		int rows = cut(m_tiles, gm, mg + 1) - cut(m_tiles, gm, mg);
		int cols = cut(n_tiles, gn, ng + 1) - cut(n_tiles, gn, ng);
		for (int q = 1; q < parts; q++)
			p = load[q] < load[p] ? q : p;
		load[p] += cols * (rows + pack);
		most = load[p] > most ? load[p] : most;
	}
	return most;
}

/* The plan for parts threads whose busiest thread ends first, counting
** the B blocks each group of rows packs again and a little for each task;
** the last few shapes' plans are kept (a training step has a handful, and
** the search costs a few microseconds). Under in_use: one product at a
** time. */
static void best_plan(gemm *g, int parts)
{
	static struct { int mc, N, parts, bp, m_groups, n_groups; } seen[16];
	static int next_seen;
	int bp = g->Bp != NULL;
	for (int i = 0; i < 16; i++)
		if (seen[i].mc == g->mc && seen[i].N == g->N && seen[i].parts == parts &&
		    seen[i].bp == bp) {
			g->m_groups = seen[i].m_groups;
			g->n_groups = seen[i].n_groups;
			return;
		}
	double pack = bp ? 0.0 : 0.25, best = -1;
	for (int gm = 1; gm <= 4 && gm <= g->m_tiles; gm++)
		for (int gn = g->n_groups; gn <= g->n_tiles && gn <= 8 * parts && gm * gn <= 64; gn++) {
			double t = plan_time(g->m_tiles, g->n_tiles, gm, gn, parts, pack) +
			           0.25 * gm * gn / parts;
			if (best < 0 || t < best) {
				best = t;
				g->m_groups = gm;
				g->n_groups = gn;
			}
		}
	seen[next_seen].mc = g->mc;
	seen[next_seen].N = g->N;
	seen[next_seen].parts = parts;
	seen[next_seen].bp = bp;
	seen[next_seen].m_groups = g->m_groups;
	seen[next_seen].n_groups = g->n_groups;
	next_seen = (next_seen + 1) % 16;
}

/* Cuts the block into tasks, groups of row tiles by groups of at most
** NC / NR column tiles: whole rows on one thread, best_plan on several. A
** fixed task size left one thread a task more than the other in most of
** the encoder's products (13 or 15 tasks for 2 threads), 6 to 11 % of
** each product. */
static int plan_tasks(gemm *g, int parts)
{
	g->m_tiles = (g->mc + MR - 1) / MR;
	g->n_tiles = (g->N + NR - 1) / NR;
	g->m_groups = 1;
	g->n_groups = (g->n_tiles + NC / NR - 1) / (NC / NR);
	if (parts > 1)
		best_plan(g, parts);
	return g->m_groups * g->n_groups;
}

/* The product, block of A by block of A, on parts threads. */
static void run(gemm *g, int parts)
{
	for (g->ic = 0; g->ic < g->M; g->ic += MC) {
		g->mc = g->M - g->ic < MC ? g->M - g->ic : MC;
		for (g->pb = 0; g->pb < g->K; g->pb += KB) {
			g->kb = g->K - g->pb < KB ? g->K - g->pb : KB;
			int slices = (g->kb + KC - 1) / KC, tasks = plan_tasks(g, parts);
			dd_nn_parallel(pack_part, g, parts < slices ? parts : slices);
			atomic_store(&g->next, 0);
			dd_nn_parallel(task_part, g, parts < tasks ? parts : tasks);
		}
	}
}

static int has_avx512(void)
{
	static int cpu = -1;
	if (cpu < 0) {
		__builtin_cpu_init();
		cpu = __builtin_cpu_supports("avx512f") != 0;
	}
	return cpu;
}

/* The buffers of parts threads exist (allocated on first use, then kept). */
static int ready(int parts)
{
	if (!a_buf && !(a_buf = aligned_alloc(64, sizeof(float) * MC * KB)))
		return 0;
	for (int p = 0; p < parts; p++)
		if (!b_buf[p] && !(b_buf[p] = aligned_alloc(64, sizeof(float) * KC * NC)))
			return 0;
	return 1;
}

/* Takes the packing buffers: one product at a time owns them. With wait
** 0, returns 0 at once if another thread of the program has them. */
static int take_buffers(int wait)
{
	while (atomic_flag_test_and_set(&in_use))
		if (!wait)
			return 0;
	return 1;
}
#endif

/* C = beta C, the whole product when K is 0 or alpha is 0 (as BLAS does,
** beta = 0 writes zeros without reading C). */
static void scale_c(int M, int N, float beta, float *C, int ldc)
{
	for (int i = 0; i < M; i++) {
		float *c = C + (size_t)i * ldc;
		for (int j = 0; j < N; j++)
			c[j] = beta == 0.0f ? 0.0f : beta * c[j];
	}
}

static int use_blas;

void dd_sgemm_use_blas(int on)
{
	use_blas = on;
}

int dd_sgemm_panels_ok(void)
{
#if HAVE_KERNEL
	if (use_blas || !has_avx512())
		return 0;
	/* part 0's buffers exist from here on, so dd_sgemm_panels cannot fail */
	take_buffers(1);
	int ok = ready(1);
	atomic_flag_clear(&in_use);
	return ok;
#else
	return 0;
#endif
}

/* Runs g on the kernel; 0 when it cannot: no AVX-512, no memory for the
** buffers, or, unless wait, another thread of the program has them
** (dd_sgemm then takes OpenBLAS's path). */
static int kernel_gemm(gemm *g, int wait)
{
#if HAVE_KERNEL
	if (use_blas || !has_avx512() || !take_buffers(wait))
		return 0;
	int parts = (double)g->M * g->N * g->K < PARALLEL_MIN_FMA ? 1 : nn_parts();
	if (parts > 1 && !ready(parts))
		parts = 1; /* no memory for the other threads' buffers: alone */
	int ok = ready(parts);
	if (ok)
		run(g, parts);
	atomic_flag_clear(&in_use);
	return ok;
#else
	(void)g;
	(void)wait;
	return 0;
#endif
}

void dd_sgemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc)
{
	if (M <= 0 || N <= 0)
		return;
	if (K <= 0 || alpha == 0.0f) {
		scale_c(M, N, beta, C, ldc);
		return;
	}
	gemm g = {.ta = ta != CblasNoTrans, .tb = tb != CblasNoTrans, .M = M, .N = N, .K = K,
	          .lda = lda, .ldb = ldb, .ldc = ldc, .alpha = alpha, .beta = beta, .A = A,
	          .B = B, .C = C};
	if (!kernel_gemm(&g, 0))
		cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The products whose op(B) the caller hands over in panels, or packs. */
static void caller_b_gemm(gemm *g)
{
	if (g->M <= 0 || g->N <= 0)
		return;
	if (g->K <= 0 || g->alpha == 0.0f) {
		scale_c(g->M, g->N, g->beta, g->C, g->ldc);
		return;
	}
	if (!kernel_gemm(g, 1))
		abort(); /* the caller did not ask dd_sgemm_panels_ok() */
}

void dd_sgemm_panels(enum CBLAS_TRANSPOSE ta, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *Bp, float beta, float *C,
                     int ldc)
{
	gemm g = {.ta = ta != CblasNoTrans, .M = M, .N = N, .K = K, .lda = lda, .ldc = ldc,
	          .alpha = alpha, .beta = beta, .A = A, .Bp = Bp, .C = C};
	caller_b_gemm(&g);
}

void dd_sgemm_packed_by(enum CBLAS_TRANSPOSE ta, int M, int N, int K, float alpha,
                        const float *A, int lda, dd_gemm_pack_fn pack, void *ctx,
                        float beta, float *C, int ldc)
{
	gemm g = {.ta = ta != CblasNoTrans, .M = M, .N = N, .K = K, .lda = lda, .ldc = ldc,
	          .alpha = alpha, .beta = beta, .A = A, .pack = pack, .pack_ctx = ctx, .C = C};
	caller_b_gemm(&g);
}

size_t dd_sgemm_rows_floats(int M, int K)
{
	return (size_t)panel_rows(M) * (size_t)K;
}

#if HAVE_KERNEL
void dd_sgemm_pack_rows(enum CBLAS_TRANSPOSE ta, int M, int K, const float *A, int lda,
                        float *Ap)
{
	gemm g = {.ta = ta != CblasNoTrans, .A = A, .lda = lda};
	for (int pc = 0; pc < K; pc += KC)
		pack_a(&g, 0, M, pc, K - pc < KC ? K - pc : KC, Ap + (size_t)pc * panel_rows(M));
}

/* One task of the whole product, A's block being all of Ap. */
void dd_sgemm_both_packed(int M, int N, int K, const float *Ap, const float *Bp, float beta,
                          float *C, int ldc)
{
	gemm g = {.M = M, .N = N, .K = K, .ldc = ldc, .alpha = 1.0f, .beta = beta, .Ap = Ap,
	          .Bp = Bp, .C = C, .mc = M, .kb = K, .m_tiles = (M + MR - 1) / MR,
	          .n_tiles = (N + NR - 1) / NR, .m_groups = 1, .n_groups = 1};
	run_task(&g, 0, NULL);
}
#else
void dd_sgemm_pack_rows(enum CBLAS_TRANSPOSE ta, int M, int K, const float *A, int lda,
                        float *Ap)
{
	(void)ta; (void)M; (void)K; (void)A; (void)lda; (void)Ap;
	abort(); /* the caller did not ask dd_sgemm_panels_ok() */
}

void dd_sgemm_both_packed(int M, int N, int K, const float *Ap, const float *Bp, float beta,
                          float *C, int ldc)
{
	(void)M; (void)N; (void)K; (void)Ap; (void)Bp; (void)beta; (void)C; (void)ldc;
	abort(); /* the caller did not ask dd_sgemm_panels_ok() */
}
#endif
