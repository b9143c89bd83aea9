/*
 * sniff.h - what is this file? (libmagic, plus a look inside zips)
 *
 * sniff_file() names the kind of content an attachment really has,
 * whatever its name or Content-Type says.  libmagic calls OFD and some
 * DOCX files plain zip, so a zip is opened (libarchive) and looked into
 * for word/document.xml or OFD.xml before it is taken as an archive.
 */
#ifndef INTAKE_SNIFF_H
#define INTAKE_SNIFF_H

#include "common.h"

enum sniff_kind {
	SNIFF_EMPTY,     /* zero bytes */
	SNIFF_JPEG,
	SNIFF_IMAGE,     /* another image format (png, heic, bmp, ...) */
	SNIFF_VIDEO,     /* by libmagic; confirmed later by video_probe */
	SNIFF_PDF,
	SNIFF_DOC,       /* MS Word 97-2003 */
	SNIFF_DOCX,
	SNIFF_WPS,       /* Kingsoft WPS writer: a Word binary file whose
			    creating application is WPS/Kingsoft (.wps, or
			    .doc saved by WPS), or MS Works */
	SNIFF_OFD,
	SNIFF_TXT,
	SNIFF_ZIP,       /* a real archive */
	SNIFF_RAR,
	SNIFF_7Z,
	SNIFF_TNEF,      /* winmail.dat */
	SNIFF_OUTLOOK_MSG, /* an Outlook .msg (CDFV2) */
	SNIFF_OTHER,
};

struct sniff_result {
	enum sniff_kind kind;
	char mime[96];        /* libmagic's MIME type */
	char description[160];/* libmagic's text, for refusal reasons */
	bool docx_has_media;  /* DOCX with word/media/ pictures */
};

bool sniff_file(const char *path, struct sniff_result *r, GError **error);
/* A short Chinese-friendly name of the kind: "PDF", "Word 文档", ... */
const char *sniff_kind_label(enum sniff_kind kind);
bool sniff_is_document(enum sniff_kind kind);
/* The picture size libmagic's description gives of a non-JPEG image
 * ("PNG image data, 1920 x 1080, …", "Web/P image, VP8 encoding,
 * 1920x1080", TIFF's "height=1080 … width=1920"); false when it gives
 * none (HEIC) or one out of range. */
bool sniff_image_size(const char *description, unsigned *width_r,
		      unsigned *height_r);

#endif
