/*
** patches.c -- square patches cut at random places from natural images (the
** photographs shipped with python3-skimage, or any folder of PNGs), as a
** source of the images env: the classic data of sparse coding. Gray, in
** [0, 1], then optionally centred (patch mean removed) or standardised.
*/
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <daydream/png.h>

#include "source.h"

#define MAX_IMAGES 64

typedef struct patches {
	images_source base;
	int n_images;
	dd_image images[MAX_IMAGES];
	int normalize;          /* 0 none, 1 centre, 2 standardise */
} patches;

static const char *const info_names[] = {"image", "x", "y"};

/* The natural photographs among skimage's data (no text, no drawings). */
static const char *const natural[] = {
	"astronaut.png", "brick.png", "camera.png", "chelsea.png", "coffee.png",
	"coins.png", "grass.png", "gravel.png", "moon.png", "motorcycle_left.png", NULL,
};

static int sample(images_source *s, int index, dd_rng *rng, float *out, float *info)
{
	patches *p = (patches *)s;
	const dd_image *im = &p->images[index % p->n_images];
	int k = s->h;
	int x = (int)dd_rng_below(rng, (uint64_t)(im->width - k + 1));
	int y = (int)dd_rng_below(rng, (uint64_t)(im->height - k + 1));
	double sum = 0, sq = 0;
	for (int r = 0; r < k; r++)
		for (int c = 0; c < k; c++) {
			float v = im->pixels[(size_t)(y + r) * (size_t)im->width + (size_t)(x + c)] / 255.0f;
			out[r * k + c] = v;
			sum += v;
			sq += (double)v * v;
		}
	double n = (double)k * k, mean = sum / n;
	double sd = sqrt(fmax(sq / n - mean * mean, 0.0));
	for (int i = 0; i < k * k && p->normalize; i++) {
		out[i] -= (float)mean;
		if (p->normalize == 2)
			out[i] /= (float)(sd + 0.05); /* the floor keeps flat patches from exploding */
	}
	info[0] = (float)(index % p->n_images);
	info[1] = (float)x;
	info[2] = (float)y;
	return DD_OK;
}

static void release(images_source *s)
{
	patches *p = (patches *)s;
	for (int i = 0; i < p->n_images; i++)
		dd_image_free(&p->images[i]);
	free(p);
}

/* Where scripts/fetch-test-data.sh puts skimage's images: $DAYDREAM_DATA,
** else $XDG_CACHE_HOME/daydream, else ~/.cache/daydream. */
static void default_dir(char *buf, size_t n)
{
	const char *data = getenv("DAYDREAM_DATA"), *xdg = getenv("XDG_CACHE_HOME");
	const char *home = getenv("HOME");
	if (data && *data)
		snprintf(buf, n, "%s/skimage", data);
	else if (xdg && *xdg)
		snprintf(buf, n, "%s/daydream/skimage", xdg);
	else
		snprintf(buf, n, "%s/.cache/daydream/skimage", home ? home : ".");
}

images_source *patches_open(const dd_params *params, char *err, size_t err_size)
{
	char dir[4096], path[4400], why[600];
	patches *p = calloc(1, sizeof *p);
	if (!p) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	int k = dd_param_int(params, "patch");
	const char *norm = dd_param_str(params, "normalize");
	p->normalize = strcmp(norm, "centre") == 0 ? 1 : strcmp(norm, "standardize") == 0 ? 2 : 0;
	snprintf(dir, sizeof dir, "%s", dd_param_str(params, "dir"));
	int own_list = dir[0] != '\0';
	if (!own_list)
		default_dir(dir, sizeof dir);
	/* Skimage's folder: its natural photographs; another folder: every PNG. */
	char *names[MAX_IMAGES];
	int n = 0;
	if (!own_list) {
		for (int i = 0; natural[i] && n < MAX_IMAGES; i++)
			names[n++] = strdup(natural[i]);
	} else {
		DIR *d = opendir(dir);
		struct dirent *e;
		while (d && (e = readdir(d)) && n < MAX_IMAGES) {
			size_t len = strlen(e->d_name);
			if (len > 4 && strcmp(e->d_name + len - 4, ".png") == 0)
				names[n++] = strdup(e->d_name);
		}
		if (d)
			closedir(d);
	}
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		dd_image *im = &p->images[p->n_images];
		if (dd_png_read_file(path, 1, im, why, sizeof why) != DD_OK) {
			snprintf(err, err_size, "%s (run scripts/fetch-test-data.sh for skimage's images, "
			         "or give dir = a folder of PNG files)", why);
			for (int j = i; j < n; j++)
				free(names[j]);
			release(&p->base);
			return NULL;
		}
		free(names[i]);
		if (im->width < k || im->height < k)
			dd_image_free(im); /* too small to cut a patch from */
		else
			p->n_images++;
	}
	if (p->n_images == 0) {
		snprintf(err, err_size, "%s: no PNG image of at least %d x %d pixels", dir, k, k);
		release(&p->base);
		return NULL;
	}
	p->base = (images_source){
		.count = p->n_images, .c = 1, .h = k, .w = k, .n_info = 3,
		.info_names = info_names, .sample = sample, .free = release,
	};
	return &p->base;
}
