/*
** ngsim.c -- reader (and row writer) of NGSIM US-101 / I-80 vehicle
** trajectories: the 18-column whitespace-separated text files and the CSV
** export (header row, quoted fields). Feet become metres, Local_Y (front
** bumper) becomes the vehicle's centre. Every bad row is refused with its
** line and column.
**
** Text layout: Vehicle_ID Frame_ID Total_Frames Global_Time Local_X Local_Y
** Global_X Global_Y v_Length v_Width v_Class v_Vel v_Acc Lane_ID Preceding
** Following Space_Headway Time_Headway. The CSV export starts with the same
** 14 columns and adds O_Zone, D_Zone, Int_ID, Section_ID, Direction,
** Movement before Preceding, and Location at the end.
*/
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "traffic.h"

#define TEXT_COLUMNS 18
#define MAX_FIELDS 64

/* The columns we read, and where the text layout keeps them. */
enum { C_VEHICLE, C_FRAME, C_LOCAL_X, C_LOCAL_Y, C_LENGTH, C_WIDTH, C_VEL, C_ACC,
       C_LANE, N_COLS };
static const char *const col_names[N_COLS] = {
	"Vehicle_ID", "Frame_ID", "Local_X", "Local_Y", "v_Length", "v_Width",
	"v_Vel", "v_Acc", "Lane_ID"};
static const int text_pos[N_COLS] = {0, 1, 4, 5, 8, 9, 11, 12, 13};
/* Accepted header spellings, lower case without '_' and ' ': the NGSIM
** names, and the long names of the PPUU/pandas loaders. */
static const char *const aliases[N_COLS][3] = {
	{"vehicleid", NULL, NULL}, {"frameid", NULL, NULL}, {"localx", NULL, NULL},
	{"localy", NULL, NULL}, {"vlength", "vehiclelength", NULL},
	{"vwidth", "vehiclewidth", NULL}, {"vvel", "vehiclevelocity", NULL},
	{"vacc", "vehicleacceleration", NULL}, {"laneid", "laneidentification", NULL}};

typedef struct field {
	const char *p;
	size_t n;
} field;

typedef struct parser {
	const char *name;
	int line;
	char *err;
	size_t err_size;
} parser;

static int fail(parser *ps, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(ps->err, ps->err_size, "%s:%d: %s", ps->name, ps->line, msg);
	return -1;
}

/* Splits one line into fields: on commas (CSV, double quotes allowed) or
** on runs of blanks. Returns the count, or -1 with a message. */
static int split(parser *ps, const char *p, const char *end, int csv, field *f)
{
	int n = 0;
	if (!csv) {
		while (p < end) {
			while (p < end && (*p == ' ' || *p == '\t'))
				p++;
			if (p == end)
				break;
			const char *s = p;
			while (p < end && *p != ' ' && *p != '\t')
				p++;
			if (n == MAX_FIELDS)
				return fail(ps, "more than %d columns", MAX_FIELDS);
			f[n++] = (field){s, (size_t)(p - s)};
		}
		return n;
	}
	for (;;) {
		while (p < end && *p == ' ')
			p++;
		const char *s = p;
		if (p < end && *p == '"') {
			s = ++p;
			while (p < end && *p != '"')
				p++;
			if (p == end)
				return fail(ps, "column %d: unterminated quote", n + 1);
			if (n == MAX_FIELDS)
				return fail(ps, "more than %d columns", MAX_FIELDS);
			f[n++] = (field){s, (size_t)(p - s)};
			p++;
			while (p < end && *p == ' ')
				p++;
			if (p < end && *p != ',')
				return fail(ps, "column %d: text after the closing quote", n);
		} else {
			while (p < end && *p != ',')
				p++;
			const char *e = p;
			while (e > s && e[-1] == ' ')
				e--;
			if (n == MAX_FIELDS)
				return fail(ps, "more than %d columns", MAX_FIELDS);
			f[n++] = (field){s, (size_t)(e - s)};
		}
		if (p >= end)
			return n;
		p++; /* the comma */
	}
}

/* A number in a field; thousands separators (as in quoted CSV exports)
** are skipped. Returns 0, or -1 with a message naming the column. */
static int number(parser *ps, const field *f, int col, const char *label, double *out)
{
	char buf[64];
	size_t m = 0;
	for (size_t i = 0; i < f->n; i++) {
		if (f->p[i] == ',')
			continue;
		if (m + 1 >= sizeof buf)
			return fail(ps, "column %d (%s): value too long", col + 1, label);
		buf[m++] = f->p[i];
	}
	buf[m] = '\0';
	char *end;
	errno = 0;
	double v = m ? strtod(buf, &end) : 0;
	if (!m || *end || errno == ERANGE || !isfinite(v))
		return fail(ps, "column %d (%s): '%.*s' is not a number", col + 1, label,
		            (int)(f->n > 40 ? 40 : f->n), f->p);
	*out = v;
	return 0;
}

static int integer(parser *ps, const field *f, int col, const char *label, int *out)
{
	double v;
	if (number(ps, f, col, label, &v) < 0)
		return -1;
	if (v != floor(v) || v < 0 || v > 2147483647.0)
		return fail(ps, "column %d (%s): '%.*s' is not a whole number >= 0", col + 1,
		            label, (int)(f->n > 40 ? 40 : f->n), f->p);
	*out = (int)v;
	return 0;
}

static void normalise(const field *f, char *out, size_t size)
{
	size_t m = 0;
	for (size_t i = 0; i < f->n && m + 1 < size; i++)
		if (f->p[i] != '_' && f->p[i] != ' ')
			out[m++] = (char)tolower((unsigned char)f->p[i]);
	out[m] = '\0';
}

/* Maps header names to our columns; all are needed. */
static int read_header(parser *ps, const field *f, int n, int *pos)
{
	for (int c = 0; c < N_COLS; c++)
		pos[c] = -1;
	for (int i = 0; i < n; i++) {
		char key[48];
		normalise(&f[i], key, sizeof key);
		for (int c = 0; c < N_COLS; c++)
			for (int a = 0; a < 3 && aliases[c][a]; a++)
				if (strcmp(key, aliases[c][a]) == 0 && pos[c] < 0)
					pos[c] = i;
	}
	for (int c = 0; c < N_COLS; c++)
		if (pos[c] < 0)
			return fail(ps, "the header has no column %s (the NGSIM columns "
			            "Vehicle_ID, Frame_ID, Local_X, Local_Y, v_Length, v_Width, "
			            "v_Vel, v_Acc and Lane_ID are needed)", col_names[c]);
	return 0;
}

static int push(tr_ngsim *t, size_t *cap, const tr_ngsim_row *r)
{
	if (t->n == *cap) {
		size_t nc = *cap ? 2 * *cap : 1024;
		tr_ngsim_row *p = realloc(t->rows, nc * sizeof *p);
		if (!p)
			return -1;
		t->rows = p;
		*cap = nc;
	}
	t->rows[t->n++] = *r;
	return 0;
}

static int read_row(parser *ps, const field *f, const int *pos, tr_ngsim_row *r)
{
	double lx, ly, len, wid, vel, acc;
	memset(r, 0, sizeof *r);
	if (integer(ps, &f[pos[C_VEHICLE]], pos[C_VEHICLE], col_names[C_VEHICLE], &r->vehicle) ||
	    integer(ps, &f[pos[C_FRAME]], pos[C_FRAME], col_names[C_FRAME], &r->frame) ||
	    number(ps, &f[pos[C_LOCAL_X]], pos[C_LOCAL_X], col_names[C_LOCAL_X], &lx) ||
	    number(ps, &f[pos[C_LOCAL_Y]], pos[C_LOCAL_Y], col_names[C_LOCAL_Y], &ly) ||
	    number(ps, &f[pos[C_LENGTH]], pos[C_LENGTH], col_names[C_LENGTH], &len) ||
	    number(ps, &f[pos[C_WIDTH]], pos[C_WIDTH], col_names[C_WIDTH], &wid) ||
	    number(ps, &f[pos[C_VEL]], pos[C_VEL], col_names[C_VEL], &vel) ||
	    number(ps, &f[pos[C_ACC]], pos[C_ACC], col_names[C_ACC], &acc) ||
	    integer(ps, &f[pos[C_LANE]], pos[C_LANE], col_names[C_LANE], &r->lane))
		return -1;
	if (len <= 0 || len > 200)
		return fail(ps, "column %d (v_Length): %g feet is not a vehicle length",
		            pos[C_LENGTH] + 1, len);
	if (wid <= 0 || wid > 50)
		return fail(ps, "column %d (v_Width): %g feet is not a vehicle width",
		            pos[C_WIDTH] + 1, wid);
	r->line = ps->line;
	r->length = len * TR_FEET;
	r->width = wid * TR_FEET;
	r->y = lx * TR_FEET;
	r->x = ly * TR_FEET - 0.5 * r->length;
	r->v = vel * TR_FEET;
	r->acc = acc * TR_FEET;
	return 0;
}

static int first_is_number(const field *f)
{
	return f->n > 0 && (isdigit((unsigned char)f->p[0]) || f->p[0] == '-' ||
	                    f->p[0] == '+' || f->p[0] == '.');
}

int tr_ngsim_parse(const char *text, size_t len, const char *name, tr_ngsim *out,
                   char *err, size_t err_size)
{
	parser ps = {name, 0, err, err_size};
	memset(out, 0, sizeof *out);
	size_t cap = 0;
	int csv = -1, expect = 0, pos[N_COLS];
	field f[MAX_FIELDS];
	const char *p = text, *end = text + len;
	while (p < end) {
		const char *e = memchr(p, '\n', (size_t)(end - p));
		const char *next = e ? e + 1 : end;
		if (!e)
			e = end;
		if (e > p && e[-1] == '\r')
			e--;
		ps.line++;
		const char *q = p;
		p = next;
		while (q < e && (*q == ' ' || *q == '\t'))
			q++;
		if (q == e)
			continue;
		if (memchr(q, '\0', (size_t)(e - q)))
			return fail(&ps, "a NUL byte: not a text file");
		if (csv < 0)
			csv = memchr(q, ',', (size_t)(e - q)) != NULL;
		int n = split(&ps, q, e, csv, f);
		if (n < 0)
			return -1;
		if (expect == 0) {
			if (!first_is_number(&f[0])) {
				if (read_header(&ps, f, n, pos) < 0)
					return -1;
				expect = n;
				continue;
			}
			/* no header: the text layout's positions (the CSV export
			** shares its first 14 columns) */
			if (!csv && n != TEXT_COLUMNS)
				return fail(&ps, "%d columns, expected %d (Vehicle_ID Frame_ID "
				            "Total_Frames Global_Time Local_X Local_Y Global_X Global_Y "
				            "v_Length v_Width v_Class v_Vel v_Acc Lane_ID Preceding "
				            "Following Space_Headway Time_Headway)", n, TEXT_COLUMNS);
			if (csv && n < 14)
				return fail(&ps, "%d columns, expected at least 14", n);
			memcpy(pos, text_pos, sizeof pos);
			expect = n;
		}
		if (n != expect)
			return fail(&ps, "%d columns, expected %d like the %s", n, expect,
			            ps.line > 1 ? "lines above" : "header");
		tr_ngsim_row r;
		if (read_row(&ps, f, pos, &r) < 0)
			return -1;
		if (push(out, &cap, &r) < 0)
			return fail(&ps, "out of memory");
	}
	if (out->n == 0) {
		snprintf(err, err_size, "%s: no trajectory rows", name);
		return -1;
	}
	return 0;
}

int tr_ngsim_load(const char *path, tr_ngsim *out, char *err, size_t err_size)
{
	memset(out, 0, sizeof *out);
	FILE *fp = fopen(path, "rb");
	if (!fp) {
		snprintf(err, err_size, "cannot open trajectory file %s: %s", path, strerror(errno));
		return -1;
	}
	char *buf = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		if (n == cap) {
			size_t nc = cap ? 2 * cap : 1 << 16;
			char *b = realloc(buf, nc);
			if (!b) {
				free(buf);
				fclose(fp);
				snprintf(err, err_size, "%s: out of memory", path);
				return -1;
			}
			buf = b;
			cap = nc;
		}
		size_t got = fread(buf + n, 1, cap - n, fp);
		n += got;
		if (got == 0)
			break;
	}
	int bad = ferror(fp);
	fclose(fp);
	int rc = bad ? -1 : tr_ngsim_parse(buf, n, path, out, err, err_size);
	if (bad)
		snprintf(err, err_size, "cannot read trajectory file %s", path);
	free(buf);
	return rc;
}

void tr_ngsim_free(tr_ngsim *t)
{
	free(t->rows);
	t->rows = NULL;
	t->n = 0;
}

void tr_ngsim_write_row(FILE *f, const tr_vehicle *v, int frame, int total_frames,
                        int lane_id, int preceding, int following)
{
	double ly = (v->x + 0.5 * v->length) / TR_FEET;
	double lx = v->y / TR_FEET;
	/* Global_Time in ms; Global_X/Y repeat the local frame (no survey
	** coordinates for a simulated road); v_Class 2 is a car. */
	fprintf(f, "%d %d %d %lld %.3f %.3f %.3f %.3f %.1f %.1f 2 %.2f %.2f %d %d %d 0.00 0.00\n",
	        v->id, frame, total_frames, 1113433135300LL + 100LL * frame, lx, ly, lx, ly,
	        v->length / TR_FEET, v->width / TR_FEET, v->v / TR_FEET, v->acc / TR_FEET,
	        lane_id, preceding, following);
}
