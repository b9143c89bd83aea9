/*
 * archive.h - zip, rar and 7z attachments (libarchive)
 *
 * Members are extracted to files under work_dir so that they can be
 * checked as if attached, under names of ours ("member-0001.jpg"), never
 * the archive's.  Member names without the zip UTF-8 flag are decoded as
 * GB18030 (what Chinese Windows writes) when they are not valid UTF-8.
 * Bounded: member count, total expanded bytes and the expansion ratio
 * (limits_config); directories, links and devices are skipped; archives
 * inside archives are not opened (one level only).
 *
 * This header has the name of libarchive's <archive.h> and -Ilib comes
 * first: a file that needs libarchive includes <../include/archive.h>.
 */
#ifndef INTAKE_ARCHIVE_H
#define INTAKE_ARCHIVE_H

#include "common.h"

struct limits_config;

struct archive_member {
	char *name;  /* UTF-8, the member's base name */
	char *path;  /* extracted file under work_dir */
	uint64_t size;
};
void archive_member_free(struct archive_member *m);

/* members_r: struct archive_member * (the array frees them).  When the
 * archive is over a limit, unreadable, encrypted or holds no file,
 * returns false with error INTAKE_ERROR_LIMIT / INTAKE_ERROR_ITEM and a
 * Chinese message for a refusal reason that reads on from the archive's
 * name, which it does not know (path is a work file): "压缩包“x.zip”：" +
 * "解压后超过 1024 MB 的上限，未解开".  Local failures: INTAKE_ERROR_IO.
 * Nothing is left in work_dir on failure.  A limit of 0 means none. */
bool archive_extract(const char *path, const char *work_dir,
		     const struct limits_config *limits,
		     GPtrArray **members_r, GError **error);

/* True when the zip at path has an entry whose name starts with prefix
 * (e.g. "word/document.xml", "OFD.xml", "word/media/"). */
bool archive_zip_has(const char *path, const char *prefix);

#endif
