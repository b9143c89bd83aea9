/*
 * check.h - every candidate item of a message, checked by content
 *
 * check_message() turns the parsed message's parts into items: each file
 * is sniffed (sniff.h) and inspected as what it really is (photo.h,
 * video.h), archives are opened one level deep (archive.h) and their
 * members checked as if attached, and the content rules (rules.h) give
 * each item its verdict.  What depends on the unit (the photo limit,
 * duplicates, lateness, captions) is decided later, in process.c.
 *
 * Small inline pictures that fail as photos (signature logos, icons:
 * under a quarter of the smallest photo's area) are dropped silently:
 * they are decoration, not submissions.  A bigger inline picture that
 * fails is refused with its reason like an attached one.
 */
#ifndef INTAKE_CHECK_H
#define INTAKE_CHECK_H

#include "common.h"
#include "config.h"
#include "message.h"
#include "store.h"

struct check_item {
	struct store_item it; /* name, type, facts, accepted, reason */
	char *src;            /* the decoded file (under the work dir) */
	char *ext;            /* lower-case extension with the dot, or "" */
	bool docx_has_media;  /* a summary with pictures inside */
};
void check_item_free(struct check_item *ci);

/* Items (struct check_item *; the array frees them), in message order. */
GPtrArray *check_message(const struct intake_config *cfg,
			 const struct message *msg, const char *work_dir,
			 GError **error);

/* One file on disk (intakectl add), checked as a mailed attachment is:
 * sniffed, inspected, judged by the content rules; an archive's members
 * are extracted under work_dir and checked as if attached.  name is the
 * name the file is known by (its caption source).  Items
 * (struct check_item *; the array frees them), never empty. */
GPtrArray *check_path(const struct intake_config *cfg, const char *name,
		      const char *path, const char *work_dir, GError **error);

#endif
