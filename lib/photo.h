/*
 * photo.h - JPEG photos checked by content with libjpeg(-turbo)
 *
 * photo_inspect() reads the header, checks the pixel count against the
 * limit before decoding, then decodes the entropy-coded data at reduced
 * DCT scale (1/8, 1/4 or 1/2, chosen so the output is about 240 px wide)
 * with the libjpeg API, max_memory_to_use set and a scan limit for
 * progressive files.  Any libjpeg warning stops the decode and counts as
 * damage: a header alone proves nothing.  When thumb_path is given, the
 * scaled image is written there as a JPEG thumbnail, about 240 px wide.
 * A limit of 0 means no limit.
 *
 * It does no judging: facts in struct photo_facts, verdicts in rules.c.
 */
#ifndef INTAKE_PHOTO_H
#define INTAKE_PHOTO_H

#include "common.h"

struct limits_config;

enum photo_format {
	PHOTO_JPEG,
	PHOTO_PNG,
	PHOTO_GIF,
	PHOTO_BMP,
	PHOTO_WEBP,
	PHOTO_HEIC,
	PHOTO_TIFF,
	PHOTO_UNKNOWN, /* not an image we know */
};
const char *photo_format_name(enum photo_format fmt); /* "PNG", ... */

enum photo_damage {
	PHOTO_OK,
	PHOTO_DAMAGED,     /* libjpeg error or warning: corrupt/truncated */
	PHOTO_UNSUPPORTED, /* valid JPEG we cannot decode: 12-bit, lossless,
			      arithmetic where unsupported; also a file
			      that is not a JPEG (format says what) */
	PHOTO_TOO_LARGE,   /* header claims more pixels than the limit */
	PHOTO_TOO_COMPLEX, /* too many progressive scans / too much memory */
};

struct photo_facts {
	enum photo_format format; /* sniffed from the bytes */
	unsigned width, height;   /* from the header (0 if unknown) */
	bool progressive;
	enum photo_damage damage;
	char detail[200];         /* libjpeg's message when damaged */
	unsigned thumb_width, thumb_height; /* when a thumbnail was made */
};

/* Fills facts_r.  Returns false only on a local I/O error (the file
 * could not be read or the thumbnail not written); a bad JPEG is a
 * fact, not an error. */
bool photo_inspect(const char *path, const struct limits_config *limits,
		   const char *thumb_path, struct photo_facts *facts_r,
		   GError **error);

/* The format of a buffer's first bytes (at least 12 for HEIC/WEBP). */
enum photo_format photo_sniff(const unsigned char *buf, size_t len);

#endif
