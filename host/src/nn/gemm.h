/*
** gemm.h -- the toolkit's single-precision matrix product (not installed).
**
** dd_sgemm is cblas_sgemm in row-major order, the first argument dropped:
** C = alpha op(A) op(B) + beta C with op(A) M x K and op(B) K x N. On a CPU
** with AVX-512 it runs our packed kernel on the toolkit's thread pool
** (OpenBLAS is pinned to AVX2 kernels on some machines); elsewhere it is
** cblas_sgemm. beta = 0 never reads C, as in BLAS.
*/
#ifndef DD_NN_GEMM_H
#define DD_NN_GEMM_H

#include <cblas.h>

void dd_sgemm(enum CBLAS_TRANSPOSE ta, enum CBLAS_TRANSPOSE tb, int M, int N, int K,
              float alpha, const float *A, int lda, const float *B, int ldb, float beta,
              float *C, int ldc);

/* op(B) handed over already packed, as dd_sgemm_panels reads it: column
** j of op(B), row k, is at Bp[(j / DD_GEMM_NR) * K * DD_GEMM_NR + k *
** DD_GEMM_NR + j % DD_GEMM_NR], the columns of the last panel past N zero.
** A caller that builds op(B) itself (conv.c's im2col) writes it so and
** saves the kernel a packing pass. Only where dd_sgemm_panels_ok() says so:
** elsewhere it is dd_sgemm's business alone. */
enum { DD_GEMM_NR = 48 };

int dd_sgemm_panels_ok(void);

/* op(B), K x N, into that layout at Bp (DD_GEMM_NR-column panels, zeros past
** column N): for an operand used by many products, packed once. */
void dd_sgemm_pack_panels(enum CBLAS_TRANSPOSE tb, int K, int N, const float *B, int ldb,
                          float *Bp);
void dd_sgemm_panels(enum CBLAS_TRANSPOSE ta, int M, int N, int K, float alpha,
                     const float *A, int lda, const float *Bp, float beta, float *C,
                     int ldc);

/* op(B) made on demand: pack(ctx, k0, kc, j0, nc, dst) writes rows
** [k0, k0 + kc) and columns [j0, j0 + nc) of op(B) in the layout above,
** for that block alone (row k0 + k of column j0 + q * DD_GEMM_NR + i at
** dst[q * kc * DD_GEMM_NR + k * DD_GEMM_NR + i]), zeros past column nc.
** Each thread calls it for the blocks it multiplies next, so op(B) never
** exists whole: conv.c's im2col then writes into the cache the kernel reads
** from, not to memory and back. Only where dd_sgemm_panels_ok() says so. */
typedef void (*dd_gemm_pack_fn)(void *ctx, int k0, int kc, int j0, int nc, float *dst);

void dd_sgemm_packed_by(enum CBLAS_TRANSPOSE ta, int M, int N, int K, float alpha,
                        const float *A, int lda, dd_gemm_pack_fn pack, void *ctx,
                        float beta, float *C, int ldc);

/* Both operands packed by the caller, the product on the calling thread
** alone and with no buffer: for work that a caller spreads over the threads
** as whole products (winograd.c). op(A), M x K, goes into panels with
** dd_sgemm_pack_rows (dd_sgemm_rows_floats of them); op(B) is in the
** layout above. C = op(A) op(B) + beta C. Only where dd_sgemm_panels_ok()
** says so. */
size_t dd_sgemm_rows_floats(int M, int K);
void dd_sgemm_pack_rows(enum CBLAS_TRANSPOSE ta, int M, int K, const float *A, int lda,
                        float *Ap);
void dd_sgemm_both_packed(int M, int N, int K, const float *Ap, const float *Bp, float beta,
                          float *C, int ldc);

/* Tests: on = 1 sends every product to cblas_sgemm, as on a CPU without
** AVX-512 (dd_sgemm_panels_ok() is then 0). */
void dd_sgemm_use_blas(int on);

#endif
