/*
** reader_ffmpeg.c -- video files of any format FFmpeg reads, as a frame
** reader (libavformat demuxes, libavcodec decodes, swscale converts).
** The scan decodes the whole file once: it counts the frames exactly,
** notes their timestamps (to seek to any frame later) and checks the file
** is complete. Frames are the decoded pictures; a variable-frame-rate file's
** held frames are not repeated.
*/
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>

#include "avlog.h"
#include "video.h"

/* Decoding forward this far beats seeking to a key frame and decoding up. */
#define FORWARD_LIMIT 32

typedef struct ff_reader {
	frame_reader r;
	AVFormatContext *fmt;
	AVCodecContext *dec;
	int stream;
	AVPacket *pkt;
	AVFrame *frame;
	int flushing;          /* the end was reached; the decoder is draining */
	int next_index;        /* index of the frame the next decode returns */
	int pending;           /* frame holds next_index already (after a seek) */
	int64_t *ts;           /* timestamp of each frame */
	int ts_ok;             /* all present and increasing: seekable by time */
	converter cv;
} ff_reader;

/* "PATH: what: FFmpeg's error (its last log line)". */
static int av_fail(ff_reader *ff, int rc, const char *what, char *err, size_t errlen)
{
	char why[AV_ERROR_MAX_STRING_SIZE];
	av_strerror(rc, why, sizeof why);
	const char *last = avlog_last();
	snprintf(err, errlen, "%s: %s: FFmpeg: %s%s%s%s", ff->r.path, what, why,
	         *last ? " (" : "", last, *last ? ")" : "");
	return DD_ERR;
}

static void close_input(ff_reader *ff)
{
	avcodec_free_context(&ff->dec);
	avformat_close_input(&ff->fmt);
	ff->flushing = 0;
	ff->pending = 0;
	ff->next_index = 0;
}

static int open_input(ff_reader *ff, char *err, size_t errlen)
{
	const char *path = ff->r.path;
	avlog_clear();
	int rc = avformat_open_input(&ff->fmt, path, NULL, NULL);
	if (rc < 0)
		return av_fail(ff, rc, "cannot open", err, errlen);
	if ((rc = avformat_find_stream_info(ff->fmt, NULL)) < 0)
		return av_fail(ff, rc, "cannot read the stream information", err, errlen);
	const AVCodec *codec = NULL;
	ff->stream = av_find_best_stream(ff->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
	if (ff->stream == AVERROR_STREAM_NOT_FOUND) {
		snprintf(err, errlen, "%s: no video stream in the file", path);
		return DD_ERR;
	}
	if (ff->stream < 0 || !codec) {
		const AVCodecParameters *par = ff->stream >= 0 ? ff->fmt->streams[ff->stream]->codecpar : NULL;
		snprintf(err, errlen, "%s: unsupported video: this FFmpeg has no decoder for codec %s",
		         path, par ? avcodec_get_name(par->codec_id) : "(unknown)");
		return DD_ERR;
	}
	ff->dec = avcodec_alloc_context3(codec);
	if (!ff->dec)
		return av_fail(ff, AVERROR(ENOMEM), "cannot allocate a decoder", err, errlen);
	if ((rc = avcodec_parameters_to_context(ff->dec, ff->fmt->streams[ff->stream]->codecpar)) < 0)
		return av_fail(ff, rc, "cannot configure the decoder", err, errlen);
	ff->dec->thread_count = 1; /* one core per env: figures are per core, order is fixed */
	if ((rc = avcodec_open2(ff->dec, codec, NULL)) < 0)
		return av_fail(ff, rc, "cannot open the decoder", err, errlen);
	if (ff->dec->width < 1 || ff->dec->height < 1) {
		snprintf(err, errlen, "%s: the video stream has no picture size", path);
		return DD_ERR;
	}
	return DD_OK;
}

/* The next picture into ff->frame: 1, 0 at the end, DD_ERR on damage. */
static int decode_next(ff_reader *ff, char *err, size_t errlen)
{
	char what[64];
	for (;;) {
		int rc = avcodec_receive_frame(ff->dec, ff->frame);
		if (rc == 0) {
			ff->r.decoded++;
			return 1;
		}
		if (rc == AVERROR_EOF)
			return 0;
		snprintf(what, sizeof what, "cannot decode frame %d", ff->next_index);
		if (rc != AVERROR(EAGAIN) || ff->flushing)
			return rc == AVERROR(EAGAIN) ? 0 : av_fail(ff, rc, what, err, errlen);
		rc = av_read_frame(ff->fmt, ff->pkt);
		if (rc == AVERROR_EOF) {
			ff->flushing = 1;
			avcodec_send_packet(ff->dec, NULL); /* drain the frames still inside */
			continue;
		}
		if (rc < 0)
			return av_fail(ff, rc, "cannot read the file", err, errlen);
		if (ff->pkt->stream_index != ff->stream) {
			av_packet_unref(ff->pkt);
			continue;
		}
		if (ff->pkt->flags & AV_PKT_FLAG_CORRUPT) {
			av_packet_unref(ff->pkt);
			return av_fail(ff, AVERROR_INVALIDDATA, what, err, errlen);
		}
		/* An empty packet repeats the last picture (AVI's dropped frames);
		** sent to the decoder it would mean "end of stream". */
		if (ff->pkt->size > 0)
			rc = avcodec_send_packet(ff->dec, ff->pkt);
		av_packet_unref(ff->pkt);
		if (rc < 0)
			return av_fail(ff, rc, what, err, errlen);
	}
}

static int64_t frame_ts(const AVFrame *f)
{
	return f->pts != AV_NOPTS_VALUE ? f->pts : f->best_effort_timestamp;
}

static int convert(ff_reader *ff, uint8_t *dst, char *err, size_t errlen)
{
	const AVFrame *f = ff->frame;
	return convert_picture(&ff->cv, (const uint8_t *const *)f->data, f->linesize, f->format,
	                       f->width, f->height, dst, ff->r.out_w, ff->r.out_h, ff->r.out_c,
	                       ff->r.path, err, errlen);
}

/* A file cut short at a packet boundary decodes without an error: compare
** where its pictures end with what its header announces. Timestamps count
** (held frames of variable-rate files are announced but not decoded, and
** still move the clock). Slack of 1.5 frames for rounding. */
static int check_complete(ff_reader *ff, int n, char *err, size_t errlen)
{
	const AVStream *st = ff->fmt->streams[ff->stream];
	AVRational rate = st->avg_frame_rate;
	if (st->nb_frames <= 0 || rate.num <= 0 || rate.den <= 0)
		return DD_OK; /* nothing announced to check against */
	int64_t first = INT64_MAX, last = INT64_MIN;
	for (int i = 0; i < n; i++)
		if (ff->ts[i] != AV_NOPTS_VALUE) {
			first = ff->ts[i] < first ? ff->ts[i] : first;
			last = ff->ts[i] > last ? ff->ts[i] : last;
		}
	if (last == INT64_MIN)
		return DD_OK;
	double frame = av_q2d(av_inv_q(rate)) / av_q2d(st->time_base); /* in time-base units */
	double start = st->start_time != AV_NOPTS_VALUE ? (double)st->start_time : (double)first;
	double frames_seen = ((double)last + frame - start) / frame;
	if (frames_seen >= (double)st->nb_frames - 1.5)
		return DD_OK;
	const char *reason = avlog_last();
	snprintf(err, errlen, "%s: truncated or damaged: its header announces %lld frames but its "
	         "pictures end after %.0f%s%s%s", ff->r.path, (long long)st->nb_frames, frames_seen,
	         *reason ? " (FFmpeg: " : "", reason, *reason ? ")" : "");
	return DD_ERR;
}

static int scan(frame_reader *r, int max_frames, int keep, frame_slot_fn slot, void *ud,
                char *err, size_t errlen)
{
	ff_reader *ff = (ff_reader *)r;
	int n = 0, cap = 0;
	while (max_frames <= 0 || n < max_frames) {
		int rc = decode_next(ff, err, errlen);
		if (rc < 0)
			return DD_ERR;
		if (rc == 0)
			break;
		if (n == cap) {
			cap = cap ? 2 * cap : 256;
			int64_t *nt = realloc(ff->ts, sizeof *nt * (size_t)cap);
			if (!nt)
				return av_fail(ff, AVERROR(ENOMEM), "cannot index the frames", err, errlen);
			ff->ts = nt;
		}
		ff->ts[n] = frame_ts(ff->frame);
		uint8_t *dst = n < keep ? slot(ud, n) : NULL;
		if (dst && convert(ff, dst, err, errlen) != DD_OK)
			return DD_ERR;
		ff->next_index = ++n;
	}
	if (n == 0) {
		const char *last = avlog_last();
		snprintf(err, errlen, "%s: no video frame could be decoded%s%s%s", r->path,
		         *last ? " (FFmpeg: " : "", last, *last ? ")" : "");
		return DD_ERR;
	}
	if (max_frames <= 0 && check_complete(ff, n, err, errlen) != DD_OK)
		return DD_ERR;
	ff->ts_ok = 1;
	for (int i = 0; i < n; i++)
		if (ff->ts[i] == AV_NOPTS_VALUE || (i > 0 && ff->ts[i] <= ff->ts[i - 1]))
			ff->ts_ok = 0;
	r->n_frames = n;
	return DD_OK;
}

static int find_ts(const ff_reader *ff, int64_t t)
{
	int lo = 0, hi = ff->r.n_frames - 1;
	while (lo <= hi) {
		int mid = lo + (hi - lo) / 2;
		if (ff->ts[mid] == t)
			return mid;
		if (ff->ts[mid] < t)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return -1;
}

/* Positions the decoder at or before frame i: a seek to the key frame
** before it when timestamps allow, else a fresh start from the beginning. */
static int seek_near(ff_reader *ff, int i, char *err, size_t errlen)
{
	if (ff->ts_ok &&
	    av_seek_frame(ff->fmt, ff->stream, ff->ts[i], AVSEEK_FLAG_BACKWARD) >= 0) {
		avcodec_flush_buffers(ff->dec);
		ff->flushing = 0;
		int rc = decode_next(ff, err, errlen);
		if (rc < 0)
			return DD_ERR;
		int j = rc == 1 ? find_ts(ff, frame_ts(ff->frame)) : -1;
		if (j >= 0 && j <= i) {
			ff->next_index = j;
			ff->pending = 1;
			return DD_OK;
		}
	}
	close_input(ff);
	return open_input(ff, err, errlen);
}

static int read_frame(frame_reader *r, int i, uint8_t *dst, char *err, size_t errlen)
{
	ff_reader *ff = (ff_reader *)r;
	if (i < 0 || i >= r->n_frames) {
		snprintf(err, errlen, "%s: no frame %d (it has %d)", r->path, i, r->n_frames);
		return DD_ERR;
	}
	if (i < ff->next_index || i - ff->next_index > FORWARD_LIMIT)
		if (seek_near(ff, i, err, errlen) != DD_OK)
			return DD_ERR;
	for (;;) {
		if (!ff->pending) {
			int rc = decode_next(ff, err, errlen);
			if (rc < 0)
				return DD_ERR;
			if (rc == 0) {
				snprintf(err, errlen, "%s: frame %d could not be decoded again (the file "
				         "changed since it was opened?)", r->path, i);
				return DD_ERR;
			}
		}
		ff->pending = 0;
		if (ff->next_index++ == i)
			return convert(ff, dst, err, errlen);
	}
}

static void close_reader(frame_reader *r)
{
	ff_reader *ff = (ff_reader *)r;
	if (!ff)
		return;
	close_input(ff);
	av_packet_free(&ff->pkt);
	av_frame_free(&ff->frame);
	converter_free(&ff->cv);
	free(ff->ts);
	free(r->path);
	free(ff);
}

int reader_ffmpeg_open(const char *path, frame_reader **out, char *err, size_t errlen)
{
	ff_reader *ff = calloc(1, sizeof *ff);
	if (!ff || !(ff->r.path = strdup(path))) {
		free(ff);
		snprintf(err, errlen, "%s: out of memory", path);
		return DD_ERR;
	}
	ff->r.kind = "ffmpeg";
	ff->r.scan = scan;
	ff->r.read = read_frame;
	ff->r.close = close_reader;
	ff->pkt = av_packet_alloc();
	ff->frame = av_frame_alloc();
	if (!ff->pkt || !ff->frame) {
		snprintf(err, errlen, "%s: out of memory", path);
		close_reader(&ff->r);
		return DD_ERR;
	}
	if (open_input(ff, err, errlen) != DD_OK) {
		close_reader(&ff->r);
		return DD_ERR;
	}
	ff->r.width = ff->dec->width;
	ff->r.height = ff->dec->height;
	*out = &ff->r;
	return DD_OK;
}
