/*
 * video.c - videos probed with FFmpeg's libavformat
 *
 * The first VIDEO_PROBE_BYTES of the file are read here and given to
 * av_probe_input_format3(); the file is opened only when the demuxer
 * found is on the allow-list (mov/mp4, avi, matroska/webm, flv, asf,
 * mpegts), and then with that demuxer forced, so libavformat's other
 * demuxers never see the bytes.  Only the "file" protocol is allowed
 * (no references out of the file, e.g. mov dref or playlists).  Opening
 * and avformat_find_stream_info() share one deadline,
 * limits->video_probe_seconds (0: none), enforced by the interrupt
 * callback, which libavformat calls before every read.
 *
 * Facts: the best video stream (av_find_best_stream; a cover picture,
 * AV_DISPOSITION_ATTACHED_PIC, is not a video): its size and codec, and
 * the duration of the file (or of the stream when the file has none).
 * Not readable, with a Chinese detail: not a video container we take,
 * a file libavformat cannot open or read, no video stream (audio only).
 *
 * libavformat logs nothing: av_log is set to quiet on first use, since
 * the daemon's stderr is its log.

 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/time.h>

#include "config.h"
#include "video.h"

#define VIDEO_PROBE_BYTES (64 * 1024)

/* Demuxer short names, as av_find_input_format() takes them. */
static const char *const video_allowed[] = {
	"mov", "avi", "matroska", "flv", "asf", "mpegts",
};

static bool
video_is_allowed(const AVInputFormat *fmt)
{
	for (size_t i = 0; i < G_N_ELEMENTS(video_allowed); i++)
		if (fmt == av_find_input_format(video_allowed[i]))
			return true;
	return false;
}

static int
video_interrupt(void *opaque)
{
	const int64_t *deadline = opaque;

	return av_gettime_relative() > *deadline;
}

/* Reads the head of the file into buf (zero-padded for the probe). */
static bool
video_read_head(const char *path, unsigned char *buf, size_t *len_r,
		GError **error)
{
	size_t len = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		goto fail;
	while (len < VIDEO_PROBE_BYTES) {
		ssize_t n = read(fd, buf + len, VIDEO_PROBE_BYTES - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			close(fd);
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	*len_r = len;
	return true;
fail:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s", path,
		    g_strerror(errno));
	return false;
}

/* The stream to measure: the best video stream that is not a cover. */
static int
video_pick_stream(AVFormatContext *ctx)
{
	int best = av_find_best_stream(ctx, AVMEDIA_TYPE_VIDEO, -1, -1, NULL,
				       0);

	if (best >= 0 && !(ctx->streams[best]->disposition &
			   AV_DISPOSITION_ATTACHED_PIC))
		return best;
	best = -1;
	for (unsigned i = 0; i < ctx->nb_streams; i++) {
		const AVStream *st = ctx->streams[i];

		if (st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC)) {
			best = (int)i;
			break;
		}
	}
	return best;
}

static void
video_measure(AVFormatContext *ctx, int index, struct video_facts *f)
{
	const AVStream *st = ctx->streams[index];
	const AVCodecParameters *par = st->codecpar;
	const char *codec = NULL;

	f->readable = true;
	f->width = par->width > 0 ? (unsigned)par->width : 0;
	f->height = par->height > 0 ? (unsigned)par->height : 0;
	codec = avcodec_get_name(par->codec_id);
	g_strlcpy(f->codec, codec != NULL ? codec : "unknown",
		  sizeof(f->codec));
	if (ctx->duration != AV_NOPTS_VALUE && ctx->duration > 0)
		f->duration = (double)ctx->duration / AV_TIME_BASE;
	else if (st->duration != AV_NOPTS_VALUE && st->duration > 0)
		f->duration = (double)st->duration * av_q2d(st->time_base);
}

static bool
video_has_audio(const AVFormatContext *ctx)
{
	for (unsigned i = 0; i < ctx->nb_streams; i++) {
		enum AVMediaType type = ctx->streams[i]->codecpar->codec_type;

		if (type == AVMEDIA_TYPE_AUDIO)
			return true;
	}
	return false;
}

bool
video_probe(const char *path, const struct limits_config *limits,
	    struct video_facts *facts_r, GError **error)
{
	static bool quiet;
	AVProbeData pd = { 0 };
	const AVInputFormat *fmt;
	AVFormatContext *ctx = NULL;
	g_autofree unsigned char *buf = NULL;
	g_autofree char *url = NULL;
	int64_t deadline = INT64_MAX;
	size_t len;
	int score = 0, rc, index;
	char why[AV_ERROR_MAX_STRING_SIZE];

	memset(facts_r, 0, sizeof(*facts_r));
	if (!quiet) {
		av_log_set_level(AV_LOG_QUIET);
		quiet = true;
	}
	buf = g_malloc0(VIDEO_PROBE_BYTES + AVPROBE_PADDING_SIZE);
	if (!video_read_head(path, buf, &len, error))
		return false;
	if (len == 0) {
		g_strlcpy(facts_r->detail, "文件为空", sizeof(facts_r->detail));
		return true;
	}
	pd.filename = "";
	pd.buf = buf;
	pd.buf_size = (int)len;
	fmt = av_probe_input_format3(&pd, 1, &score);
	if (fmt == NULL || !video_is_allowed(fmt)) {
		g_snprintf(facts_r->detail, sizeof(facts_r->detail),
			   "不是可接受的视频格式（%s）",
			   fmt != NULL ? fmt->name : "无法识别");
		return true;
	}
	g_strlcpy(facts_r->format, fmt->name, sizeof(facts_r->format));

	ctx = avformat_alloc_context();
	if (ctx == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "libavformat: out of memory");
		return false;
	}
	if (limits->video_probe_seconds > 0) {
		deadline = av_gettime_relative() +
			   (int64_t)limits->video_probe_seconds * 1000000;
		ctx->interrupt_callback.callback = video_interrupt;
		ctx->interrupt_callback.opaque = &deadline;
	}
	ctx->protocol_whitelist = av_strdup("file");
	url = g_strconcat("file:", path, NULL);
	rc = avformat_open_input(&ctx, url, fmt, NULL); /* frees on failure */
	if (rc >= 0)
		rc = avformat_find_stream_info(ctx, NULL);
	if (rc < 0) {
		/* an interrupted read often comes back as "invalid data" */
		if (rc == AVERROR_EXIT || av_gettime_relative() > deadline)
			g_snprintf(facts_r->detail, sizeof(facts_r->detail),
				   "分析超过 %u 秒，已放弃",
				   limits->video_probe_seconds);
		else if (av_strerror(rc, why, sizeof(why)) == 0)
			g_snprintf(facts_r->detail, sizeof(facts_r->detail),
				   "文件无法读取（%s）", why);
		else
			g_strlcpy(facts_r->detail, "文件无法读取",
				  sizeof(facts_r->detail));
		goto out;
	}
	index = video_pick_stream(ctx);
	if (index < 0) {
		g_strlcpy(facts_r->detail,
			  video_has_audio(ctx) ? "只有声音，没有视频画面" :
						 "没有视频画面",
			  sizeof(facts_r->detail));
		goto out;
	}
	video_measure(ctx, index, facts_r);
out:
	avformat_close_input(&ctx);
	return true;
}
