/*
** lua_media.c -- image measures and PNG encoding for scenarios:
** dd.psnr, dd.ssim, dd.sharpness on frames given as flat arrays of floats
** with their shape; dd.png and dd.gif to store rendered frames (one, or an
** animation) as artifacts.
** Buffers are Lua userdata, so an error raised half-way leaks nothing.
*/
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "daydream/gif.h"
#include "daydream/image_metrics.h"
#include "daydream/png.h"
#include "lua_dd.h"

typedef int (*metric_fn)(const float *, const float *, int, int, int, int, double *,
                         char *, size_t);

/* Reads the shape {c, h, w} or {n, c, h, w} at arg into n, c, h, w. */
static void read_shape(lua_State *L, int arg, const char *fname, int *dims)
{
	luaL_checktype(L, arg, LUA_TTABLE);
	lua_Integer len = luaL_len(L, arg);
	if (len != 3 && len != 4)
		luaL_error(L, "%s: shape must be {c, h, w} or {n, c, h, w}, got %d numbers",
		           fname, (int)len);
	dims[0] = 1;
	for (int i = 0; i < len; i++) {
		lua_geti(L, arg, i + 1);
		int isnum;
		lua_Integer d = lua_tointegerx(L, -1, &isnum);
		if (!isnum || d < 1 || d > (1 << 24))
			luaL_error(L, "%s: shape[%d] must be a whole number >= 1", fname, i + 1);
		dims[i + 4 - (int)len] = (int)d;
		lua_pop(L, 1);
	}
}

/* Copies the array at arg (count numbers) into a new userdata buffer left
** on the stack. */
static float *read_frames(lua_State *L, int arg, const char *fname, const char *which,
                          size_t count)
{
	luaL_checktype(L, arg, LUA_TTABLE);
	lua_Integer len = luaL_len(L, arg);
	if ((size_t)len != count)
		luaL_error(L, "%s: %s has %d values but the shape needs %d", fname, which,
		           (int)len, (int)count);
	float *buf = lua_newuserdatauv(L, sizeof(float) * count, 0);
	for (size_t i = 0; i < count; i++) {
		lua_geti(L, arg, (lua_Integer)i + 1);
		int isnum;
		lua_Number v = lua_tonumberx(L, -1, &isnum);
		if (!isnum)
			luaL_error(L, "%s: %s[%d] is not a number", fname, which, (int)i + 1);
		buf[i] = (float)v;
		lua_pop(L, 1);
	}
	return buf;
}

/* fn(a, b, shape) -> mean over the frames, {value of each frame} */
static int metric(lua_State *L, const char *fname, metric_fn fn)
{
	int d[4];
	read_shape(L, 3, fname, d);
	size_t count = (size_t)d[0] * d[1] * d[2] * d[3];
	if (count > ((size_t)1 << 28))
		luaL_error(L, "%s: %d x %d x %d x %d values is too many for Lua tables", fname,
		           d[0], d[1], d[2], d[3]);
	float *a = read_frames(L, 1, fname, "a", count);
	float *b = read_frames(L, 2, fname, "b", count);
	double *out = lua_newuserdatauv(L, sizeof(double) * (size_t)d[0], 0);
	char err[256];
	if (fn(a, b, d[0], d[1], d[2], d[3], out, err, sizeof err) != DD_OK)
		luaL_error(L, "dd.%s", err);
	double sum = 0;
	lua_createtable(L, d[0], 0);
	for (int k = 0; k < d[0]; k++) {
		sum += out[k];
		lua_pushnumber(L, out[k]);
		lua_rawseti(L, -2, k + 1);
	}
	lua_pushnumber(L, sum / d[0]);
	lua_insert(L, -2);
	return 2;
}

static int l_psnr(lua_State *L)
{
	return metric(L, "dd.psnr", dd_psnr);
}

static int l_ssim(lua_State *L)
{
	return metric(L, "dd.ssim", dd_ssim);
}

static int l_sharpness(lua_State *L)
{
	return metric(L, "dd.sharpness", dd_sharpness);
}

static int push_bytes(lua_State *L)
{
	lua_pushlstring(L, lua_touserdata(L, 1), (size_t)lua_tointeger(L, 2));
	return 1;
}

/* Hands bytes (malloc'd) to Lua as a string and frees them, even when the
** copy raises. */
static int push_owned(lua_State *L, uint8_t *bytes, size_t size)
{
	lua_pushcfunction(L, push_bytes);
	lua_pushlightuserdata(L, bytes);
	lua_pushinteger(L, (lua_Integer)size);
	int rc = lua_pcall(L, 2, 1, 0);
	free(bytes);
	if (rc != LUA_OK)
		return lua_error(L);
	return 1;
}

/* dd.png(pixels, width, height [, channels = 3]) -> PNG bytes; pixels is a
** string of interleaved 8-bit values, as env:render() returns. */
static int l_png(lua_State *L)
{
	size_t n;
	const char *px = luaL_checklstring(L, 1, &n);
	lua_Integer w = luaL_checkinteger(L, 2), h = luaL_checkinteger(L, 3);
	lua_Integer c = luaL_optinteger(L, 4, 3);
	if (w < 1 || h < 1 || w > DD_PNG_MAX_SIDE || h > DD_PNG_MAX_SIDE || (c != 1 && c != 3 && c != 4))
		luaL_error(L, "dd.png: width and height must be in 1..%d and channels 1, 3 or 4",
		           DD_PNG_MAX_SIDE);
	if (n != (size_t)(w * h * c))
		luaL_error(L, "dd.png: %d bytes of pixels, but %dx%d with %d channels needs %d",
		           (int)n, (int)w, (int)h, (int)c, (int)(w * h * c));
	uint8_t *png;
	size_t size;
	char err[256];
	if (dd_png_write_mem((const uint8_t *)px, (int)w, (int)h, (int)c, &png, &size, err,
	                     sizeof err) != DD_OK)
		luaL_error(L, "dd.png: %s", err);
	return push_owned(L, png, size);
}

/* dd.gif(frames, width, height [, delay_cs = 4]) -> animated GIF bytes;
** frames is an array of RGB strings as env:render() returns. Every frame is
** checked before encoding starts, so nothing can raise half-way. */
static int l_gif(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TTABLE);
	lua_Integer w = luaL_checkinteger(L, 2), h = luaL_checkinteger(L, 3);
	lua_Integer delay = luaL_optinteger(L, 4, 4);
	lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
	if (w < 1 || h < 1 || w > 4096 || h > 4096 || delay < 0 || delay > 65535)
		return luaL_error(L, "dd.gif: width and height must be in 1..4096, delay in 0..65535");
	if (n < 1)
		return luaL_error(L, "dd.gif: no frames");
	for (lua_Integer i = 1; i <= n; i++) {
		size_t len = 0;
		int is_string = lua_rawgeti(L, 1, i) == LUA_TSTRING;
		if (is_string)
			lua_tolstring(L, -1, &len);
		lua_pop(L, 1);
		if (!is_string || len != (size_t)(w * h * 3))
			return luaL_error(L, "dd.gif: frame %d is not %dx%d RGB bytes", (int)i, (int)w, (int)h);
	}
	char err[256];
	dd_gif *g = dd_gif_open(NULL, (int)w, (int)h, (int)delay, DD_GIF_ADAPTIVE, err, sizeof err);
	if (!g)
		return luaL_error(L, "dd.gif: %s", err);
	int ok = 1;
	for (lua_Integer i = 1; i <= n && ok; i++) {
		lua_rawgeti(L, 1, i);
		ok = dd_gif_add_frame(g, (const uint8_t *)lua_tostring(L, -1)) == DD_OK;
		lua_pop(L, 1);
	}
	uint8_t *bytes = NULL;
	size_t size = 0;
	if (dd_gif_close(g, &bytes, &size, err, sizeof err) != DD_OK || !ok) {
		free(bytes);
		return luaL_error(L, "dd.gif: %s", err);
	}
	return push_owned(L, bytes, size);
}

static const luaL_Reg funcs[] = {
	{"psnr", l_psnr},
	{"ssim", l_ssim},
	{"sharpness", l_sharpness},
	{"png", l_png},
	{"gif", l_gif},
	{NULL, NULL},
};

void dd_lua_media_register(lua_State *L)
{
	luaL_setfuncs(L, funcs, 0);
}
