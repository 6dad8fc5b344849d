/*
** mesh.h -- triangle meshes of the rotating-objects source (mesh.c builds
** them; source_objects.c turns, lights and rasterises them).
*/
#ifndef DD_VIDEO_MESH_H
#define DD_VIDEO_MESH_H

typedef struct mesh {
	int nv, nt;
	float (*pos)[3];       /* vertices, centred on the origin */
	int (*tri)[3];         /* counter-clockwise seen from outside */
	float (*albedo)[3];    /* RGB colour of each triangle */
	int smooth;            /* 1: shade with vertex normals (the sphere) */
	float radius;          /* largest distance of a vertex from the origin */
} mesh;

/* shape: 0 cube, 1 pyramid, 2 sphere. Returns 0, or -1 out of memory.
** Release with mesh_free. */
int mesh_build(mesh *m, int shape);
void mesh_free(mesh *m);

#endif
