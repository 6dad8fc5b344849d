/*
** convert.c -- one decoded picture to the env's frame format: planar bytes,
** gray or RGB, at the requested size, by libswscale (area averaging when
** shrinking). Pictures that already have the frame's size and format are
** copied, so gray PNG and Y4M frames come through bit for bit.
*/
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>

#include "video.h"

static void copy_gray(const uint8_t *src, int stride, int w, int h, uint8_t *dst)
{
	for (int y = 0; y < h; y++)
		memcpy(dst + (size_t)y * w, src + (ptrdiff_t)y * stride, (size_t)w);
}

static void split_rgb(const uint8_t *src, int stride, int w, int h, uint8_t *dst)
{
	size_t hw = (size_t)w * h;
	for (int y = 0; y < h; y++) {
		const uint8_t *p = src + (ptrdiff_t)y * stride;
		for (int x = 0; x < w; x++) {
			size_t at = (size_t)y * w + x;
			dst[at] = p[3 * x];
			dst[hw + at] = p[3 * x + 1];
			dst[2 * hw + at] = p[3 * x + 2];
		}
	}
}

int convert_picture(converter *cv, const uint8_t *const planes[4], const int strides[4],
                    int fmt, int sw, int sh, uint8_t *dst, int dw, int dh, int dc,
                    const char *path, char *err, size_t errlen)
{
	if (sw == dw && sh == dh && fmt == AV_PIX_FMT_GRAY8 && dc == 1) {
		copy_gray(planes[0], strides[0], sw, sh, dst);
		return DD_OK;
	}
	if (sw == dw && sh == dh && fmt == AV_PIX_FMT_RGB24 && dc == 3) {
		split_rgb(planes[0], strides[0], sw, sh, dst);
		return DD_OK;
	}
	enum AVPixelFormat out = dc == 1 ? AV_PIX_FMT_GRAY8 : AV_PIX_FMT_GBRP;
	cv->sws = sws_getCachedContext(cv->sws, sw, sh, (enum AVPixelFormat)fmt, dw, dh, out,
	                               SWS_AREA, NULL, NULL, NULL);
	const char *name = av_get_pix_fmt_name((enum AVPixelFormat)fmt);
	if (!cv->sws) {
		snprintf(err, errlen, "%s: FFmpeg's swscale cannot convert %s %dx%d pictures to %s %dx%d",
		         path, name ? name : "(unknown format)", sw, sh, dc == 1 ? "gray" : "RGB", dw, dh);
		return DD_ERR;
	}
	size_t hw = (size_t)dw * dh;
	/* GBRP is planar in the order G, B, R: point each plane at its place. */
	uint8_t *const dplanes[4] = {dc == 1 ? dst : dst + hw, dc == 1 ? NULL : dst + 2 * hw,
	                             dc == 1 ? NULL : dst, NULL};
	const int dstrides[4] = {dw, dc == 1 ? 0 : dw, dc == 1 ? 0 : dw, 0};
	int rows = sws_scale(cv->sws, planes, strides, 0, sh, dplanes, dstrides);
	if (rows != dh) {
		snprintf(err, errlen, "%s: FFmpeg's swscale converted %d of %d rows of a %s picture",
		         path, rows, dh, name ? name : "(unknown format)");
		return DD_ERR;
	}
	return DD_OK;
}

void converter_free(converter *cv)
{
	sws_freeContext(cv->sws);
	cv->sws = NULL;
}
