/*
 * caption.h - short texts for photos (pure: no I/O)
 *
 * A caption comes from a descriptive file name (not a camera or app
 * default such as IMG_1234, DSC_0001, P1010001, 微信图片_2022…,
 * mmexport…, Screenshot…, 截图…, or digits only), or from body lines:
 *   图1：…   图 1. …   1、…   1. …   （1）…   (1) …   IMG_1234.jpg：…
 * A body line refers to a photo by number (its position: in the same
 * message the order of the photos; in a later message the unit's photo
 * number) or by file name (with or without extension).  Body captions
 * win over file names.
 */
#ifndef INTAKE_CAPTION_H
#define INTAKE_CAPTION_H

#include "common.h"

#define CAPTION_MAX_BYTES 200

/* The caption a file name carries (extension removed, trimmed), or
 * NULL when the name is a camera/app default. */
char *caption_from_filename(const char *filename);

struct caption_ref {
	unsigned number;   /* 1-based photo number, 0 when by name */
	char *filename;    /* referenced name, or NULL */
	char *text;        /* the caption, trimmed, bounded */
};
void caption_ref_free(struct caption_ref *ref);

/* Caption lines found in a body (struct caption_ref *; the array frees
 * its elements).  Never NULL. */
GPtrArray *caption_parse_body(const char *body);

struct caption_photo {
	const char *name;  /* file name as sent */
	unsigned number;   /* number a body line would use for it */
	char *caption;     /* in: current caption or NULL; out: result */
};

/* Sets photos[i].caption from refs (by file name, then by number) and
 * then from descriptive file names where still empty.  Replaced strings
 * are freed.  Returns how many captions refs supplied. */
unsigned caption_match(struct caption_photo *photos, size_t n,
		       const GPtrArray *refs);

#endif
