/*
 * tnef.h - Outlook's winmail.dat (TNEF) opened into its attachments
 *
 * Outlook sends "rich text" mail as one application/ms-tnef part,
 * winmail.dat, that holds the real attachments.  tnef_extract() reads it
 * with libytnef and writes each attachment to a file of ours under
 * work_dir ("tnef-0001.jpg"), so that it can be checked as if attached.
 * Bounded by [limits] max_archive_members and max_archive_bytes.
 */
#ifndef INTAKE_TNEF_H
#define INTAKE_TNEF_H

#include "common.h"

struct limits_config;

struct tnef_member {
	char *name;   /* UTF-8 base name; "附件N" when it had none */
	bool named;   /* the sender's Outlook gave a name */
	char *path;   /* the attachment's bytes, under work_dir */
	uint64_t size;
};
void tnef_member_free(struct tnef_member *m);

/* members_r: struct tnef_member * (the array frees them), possibly
 * empty (a winmail.dat that only carries the message's formatting).
 * A damaged stream, or one over a limit, returns false with
 * INTAKE_ERROR_ITEM / INTAKE_ERROR_LIMIT and a Chinese message that
 * reads on from the file's name ("附件“winmail.dat”：" + message);
 * local failures: INTAKE_ERROR_IO.  Nothing is left in work_dir on
 * failure.  A limit of 0 means none. */
bool tnef_extract(const char *path, const char *work_dir,
		  const struct limits_config *limits, GPtrArray **members_r,
		  GError **error);

#endif
