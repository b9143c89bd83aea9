/*
 * video.h - videos probed with FFmpeg's libavformat
 *
 * Only a whitelist of demuxers is allowed (mov/mp4, avi, matroska/webm,
 * flv, asf/wmv, mpegts): libavformat's many other demuxers are attack
 * surface and no unit sends those.  The probe is bounded in time
 * (limits->video_probe_seconds, via the interrupt callback; 0: none).
 */
#ifndef INTAKE_VIDEO_H
#define INTAKE_VIDEO_H

#include "common.h"

struct limits_config;

struct video_facts {
	bool readable;     /* a whitelisted container with a video stream */
	char format[32];   /* demuxer name, "mov,mp4,m4a,3gp,3g2,mj2" */
	char codec[32];    /* "h264" */
	unsigned width, height;
	double duration;   /* seconds, 0 when unknown */
	char detail[200];  /* why it is not readable, in Chinese */
};

/* Fills facts_r; a file that is not a video is a fact, not an error. */
bool video_probe(const char *path, const struct limits_config *limits,
		 struct video_facts *facts_r, GError **error);

#endif
