/*
** lcod.h -- learned coordinate descent (Gregor & LeCun, ICML 2010,
** section 3) as one op of the tape, and plain coordinate descent's error
** curve, its baseline.
*/
#ifndef DD_LCOD_H
#define DD_LCOD_H

#include <daydream/nn.h>

/* Codes of `steps` coordinate-descent steps from b = W_e y (rows x m):
** each step shrinks B, picks the code k that would move most, moves it and
** updates B by row k of S (m x m); the output is h_theta(B) after the last
** step. Back-propagation keeps each step's choice of k. NULL after a graph
** error (bad shapes, arena overflow). */
dd_tensor *lcod_unroll(dd_graph *g, dd_tensor *b, dd_tensor *S, dd_tensor *theta,
                       int steps);

/* W_e, S and theta of exact coordinate descent on ||y - W_d z||^2 +
** lambda ||z||_1 (W_d: m atoms of n, rows; G = W_d W_d^T, m x m):
** W_e = D^-1 W_d, S = I - D^-1 G, theta = lambda/2 D^-1 with D = diag(G). */
void lcod_init_as_cd(float *We, float *S, float *theta, const float *Wd, const float *G,
                     int m, int n, float lambda);

/* err[k] += sum over the rows of ||Z_k - Z*||^2, Z_k the codes after k =
** 1..steps steps of coordinate descent from b = W_e y (rows x m) with the S
** and theta of lcod_init_as_cd: the steps of lcod_unroll, untrained, but
** coordinate descent's own codes, not h_theta(B). -1 when out of memory. */
int lcod_cd_curve(const float *b, const float *S, const float *theta, const float *Zstar,
                  int rows, int m, int steps, double *err);

#endif
