/*
** daydream/image_metrics.h -- how close predicted frames are to real ones:
** PSNR, SSIM and the sharpness difference of video-prediction papers.
**
** Every function takes a batch of n frames, each c x h x w float32 (the
** layout of observations), with values in [0, 1] (the data range, L = 1),
** and writes one value per frame into out[0..n). Averages over a batch are
** the caller's: a mean of per-frame values is what the papers report.
*/
#ifndef DAYDREAM_IMAGE_METRICS_H
#define DAYDREAM_IMAGE_METRICS_H

#include <stddef.h>

#include "daydream/plugin.h" /* DD_OK, DD_ERR */

#ifdef __cplusplus
extern "C" {
#endif

/* The SSIM constants of Wang, Bovik, Sheikh & Simoncelli (2004). */
#define DD_SSIM_WINDOW 11     /* Gaussian window side */
#define DD_SSIM_SIGMA 1.5
#define DD_SSIM_K1 0.01
#define DD_SSIM_K2 0.03

/* Peak signal-to-noise ratio in dB: 10 log10(1 / MSE), the MSE over all
** c*h*w values of a frame. Identical frames give +INFINITY. DD_ERR (with
** the reason in err) for a bad shape or a NULL pointer. */
int dd_psnr(const float *a, const float *b, int n, int c, int h, int w,
            double *out, char *err, size_t errlen);

/* Mean structural similarity: the SSIM map of each channel with an 11x11
** Gaussian window (sigma 1.5, normalised), C1 = (0.01)^2, C2 = (0.03)^2 and
** population (co)variances, over the positions where the window fits
** inside the frame ("valid"; the same as scikit-image's
** structural_similarity(gaussian_weights=True, sigma=1.5,
** use_sample_covariance=False, data_range=1), which crops the same border),
** averaged over those positions and the channels. Frames must be at least
** 11x11: smaller ones are an error, not a silently different measure. */
int dd_ssim(const float *a, const float *b, int n, int c, int h, int w,
            double *out, char *err, size_t errlen);

/* The sharpness difference of Mathieu, Couprie & LeCun (2016), eq. 6:
**   10 log10( 1 / mean_{k,i,j} | (gi(a) + gj(a)) - (gi(b) + gj(b)) | )
** with gi(y)[i,j] = |y[i,j] - y[i-1,j]| and gj(y)[i,j] = |y[i,j] - y[i,j-1]|
** (zero on the first row / column, which have no neighbour), the mean over
** all c*h*w values. Higher is better: the prediction a has the gradients
** of the target b. Equal gradients give +INFINITY. */
int dd_sharpness(const float *a, const float *b, int n, int c, int h, int w,
                 double *out, char *err, size_t errlen);

#ifdef __cplusplus
}
#endif
#endif
