/*
 * decide.h - a unit's new items decided against what it already holds
 *
 * Mail (process.c) and the office's additions (manual_ops.c) go through
 * the same rules once each item has been checked by content: an item
 * whose SHA-256 the unit already holds, or that an earlier item of the
 * batch has, is a duplicate (refused, not counted as a refusal: the
 * office has it); lateness against the deadline, the grace and
 * late_policy; the photo limit across all the unit's messages; photo
 * numbers, the smallest that no held or batch photo has.  And the same
 * names in the unit's folder: "<nn>-<caption>.jpg" for photos, the
 * sanitised original for the rest unless another item holds it.
 *
 * Everything here is pure: plain structs in, decisions out.
 */
#ifndef INTAKE_DECIDE_H
#define INTAKE_DECIDE_H

#include "check.h"
#include "config.h"

/* Decides items (struct check_item *, checked by content) received at
 * received, against held (struct store_item *, the unit's active
 * accepted items).  Sets accepted, reason, late, number and received of
 * each; a duplicate gets origin "duplicate".  Counts the accepted items
 * and the refused ones (duplicates are neither). */
void decide_items(const struct intake_config *cfg, const GPtrArray *held,
		  GPtrArray *items, int64_t received, unsigned *accepted_r,
		  unsigned *refused_r);

/* How many held items are of type. */
unsigned decide_count(const GPtrArray *held, enum item_type type);

/* A photo's name in 图片/: "<nn>-<caption>.jpg", "<nn>.jpg" uncaptioned. */
char *decide_photo_name(unsigned number, const char *caption);

/* The name in the unit's folder for items[index], a summary or video:
 * its sanitised name, unless a held item or an earlier item of the batch
 * is filed under it; then the stem, suffix ("-12-3", "-9f86d081884c")
 * and the extension. */
char *decide_plain_name(const char *unit, const GPtrArray *held,
			const GPtrArray *items, unsigned index,
			const char *suffix);

#endif
