/*
 * archive.c - zip, rar and 7z attachments (libarchive)
 *
 * archive_extract() reads the archive once, streaming: each regular
 * member is written to work_dir under a name of ours ("member-0001.jpg":
 * a counter and the member's extension when it is short and plain), so
 * that nothing in the archive chooses a path.  Directories, links,
 * devices and hard links are skipped; a member that is itself an archive
 * is extracted as a file (the caller decides; nothing is opened twice).
 *
 * Bounds, checked while the bytes flow, so that a zip bomb stops after a
 * few MB rather than at the end:
 *   - max_archive_members regular members (and 4x that many entries of
 *     any kind);
 *   - max_archive_bytes expanded in all;
 *   - max_archive_ratio: the bytes expanded so far may not pass ratio x
 *     the archive's size on disk (expansions under ARCHIVE_RATIO_FLOOR
 *     never count: a small archive of a small file is no bomb).
 * An encrypted member, a damaged archive, or one with no regular file
 * refuses the whole archive.
 * On any failure every file written so far is removed.
 *
 * Names: a zip member without the UTF-8 flag has its name in whatever
 * code page the sender's Windows used: GBK on Chinese Windows.  The name
 * is used as it is when it is valid UTF-8, and converted from GB18030
 * (a superset of GBK) otherwise.  libarchive converts names to the
 * current locale and gives up in the C locale, so the reading runs with
 * the thread's locale switched to C.UTF-8 (uselocale), whatever the
 * process's locale is.  Only the base name is kept.
 *
 * No decompression filter is enabled: zip, rar and 7z compress inside
 * the format, and libarchive's filter_all would run external programs
 * (lrzip, lzop, grzip) on what a stranger sent.
 *
 * Refusal messages are Chinese and do not name the archive (path is
 * usually a work file): the caller puts "压缩包“name”：" in front.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* libarchive's <archive.h>: lib/archive.h has the same name and -Ilib
 * comes first, so it is reached from the include directory's parent. */
#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "config.h"

#define ARCHIVE_BLOCK (64 * 1024)
#define ARCHIVE_RATIO_FLOOR (16 * 1024 * 1024)
#define ARCHIVE_NAME_MAX 255         /* bytes of a member's name */
#define ARCHIVE_ZIP_HAS_ENTRIES 100000 /* archive_zip_has() stops there */

/* One extraction's state. */
struct arc_job {
	const char *path;
	const struct limits_config *limits;
	int dirfd;
	uint64_t packed;   /* the archive's size on disk */
	uint64_t total;    /* bytes expanded so far */
	unsigned entries;
	GPtrArray *members;
	unsigned char *buf;
};

void
archive_member_free(struct archive_member *m)
{
	if (m == NULL)
		return;
	g_free(m->name);
	g_free(m->path);
	g_free(m);
}

/* The member's base name, as UTF-8 without control characters. */
static char *
arc_member_name(struct archive_entry *e, unsigned index)
{
	const char *u = archive_entry_pathname_utf8(e);
	const char *raw = archive_entry_pathname(e);
	g_autofree char *full = NULL;
	const char *base;
	GString *name;

	if (u != NULL && g_utf8_validate(u, -1, NULL))
		full = g_strdup(u);
	else if (raw != NULL && g_utf8_validate(raw, -1, NULL))
		full = g_strdup(raw);
	else if (raw != NULL)
		full = g_convert(raw, -1, "UTF-8", "GB18030", NULL, NULL,
				 NULL);
	if (full == NULL && raw != NULL)
		full = g_utf8_make_valid(raw, -1);
	if (full == NULL)
		full = g_strdup("");

	/* base name: after the last / or \ (Windows zips); trailing cut */
	for (size_t n = strlen(full);
	     n > 0 && (full[n - 1] == '/' || full[n - 1] == '\\'); n--)
		full[n - 1] = '\0';
	base = full;
	for (const char *p = full; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;

	name = g_string_new(NULL);
	for (const char *p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		size_t n = (size_t)(g_utf8_next_char(p) - p);

		if (name->len + n > ARCHIVE_NAME_MAX)
			break;
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			g_string_append_c(name, '_');
		else
			g_string_append_len(name, p, (gssize)n);
	}
	if (name->len == 0 || strcmp(name->str, ".") == 0 ||
	    strcmp(name->str, "..") == 0)
		g_string_printf(name, "文件%u", index);
	return g_string_free(name, FALSE);
}

/* "member-0001.jpg": ours, with the extension when it is plain ASCII. */
static char *
arc_file_name(const char *name, unsigned index)
{
	const char *dot = strrchr(name, '.');
	bool plain = dot != NULL && dot != name && dot[1] != '\0' &&
		     strlen(dot + 1) <= 8;

	for (const char *p = plain ? dot + 1 : ""; *p != '\0'; p++)
		if (!g_ascii_isalnum(*p))
			plain = false;
	if (!plain)
		return g_strdup_printf("member-%04u", index);
	return g_strdup_printf("member-%04u.%s", index, dot + 1);
}

static bool
arc_damaged(struct archive *a, GError **error)
{
	const char *why = archive_error_string(a);

	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_ITEM,
		    "已损坏或格式不受支持（%s），无法解开",
		    why != NULL ? why : "unknown error");
	return false;
}

/* The bounds on bytes, checked after every block. */
static bool
arc_check_bytes(const struct arc_job *job, GError **error)
{
	const struct limits_config *lim = job->limits;

	if (lim->max_archive_bytes > 0 &&
	    job->total > lim->max_archive_bytes) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "解压后超过 %" G_GUINT64_FORMAT
			    " MB 的上限，未解开",
			    (lim->max_archive_bytes + (1 << 20) - 1) >> 20);
		return false;
	}
	if (lim->max_archive_ratio > 0 && job->total > ARCHIVE_RATIO_FLOOR &&
	    job->total / lim->max_archive_ratio > job->packed) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "解压后的大小超过压缩文件的 %u 倍"
			    "（疑似“压缩炸弹”），未解开",
			    lim->max_archive_ratio);
		return false;
	}
	return true;
}

static bool
arc_write_all(int fd, const unsigned char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Streams the current member into a new file; adds it to members. */
static bool
arc_extract_one(struct arc_job *job, struct archive *a,
		struct archive_entry *e, GError **error)
{
	unsigned index = job->members->len + 1;
	struct archive_member *m = g_new0(struct archive_member, 1);
	g_autofree char *file = NULL;
	bool ok = false;
	int fd;

	m->name = arc_member_name(e, index);
	file = arc_file_name(m->name, index);
	fd = openat(job->dirfd, file,
		    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		    0600);
	if (fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: %s", file, g_strerror(errno));
		archive_member_free(m);
		return false;
	}
	m->path = g_strdup(file); /* relative until it is complete */
	g_ptr_array_add(job->members, m);
	for (;;) {
		la_ssize_t n = archive_read_data(a, job->buf, ARCHIVE_BLOCK);

		if (n == 0)
			break;
		if (n < 0) {
			arc_damaged(a, error);
			goto out;
		}
		job->total += (uint64_t)n;
		m->size += (uint64_t)n;
		if (!arc_check_bytes(job, error))
			goto out;
		if (!arc_write_all(fd, job->buf, (size_t)n)) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "%s: %s", file, g_strerror(errno));
			goto out;
		}
	}
	ok = true;
out:
	if (close(fd) != 0 && ok) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    file, g_strerror(errno));
		ok = false;
	}
	return ok;
}

/* Every entry of the open archive. */
static bool
arc_extract_all(struct arc_job *job, struct archive *a, GError **error)
{
	const struct limits_config *lim = job->limits;
	struct archive_entry *e;

	for (;;) {
		int r = archive_read_next_header(a, &e);

		if (r == ARCHIVE_EOF)
			return true;
		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			return arc_damaged(a, error);
		if (lim->max_archive_members > 0 &&
		    ++job->entries > 4 * (uint64_t)lim->max_archive_members)
			goto too_many;
		if (archive_entry_filetype(e) != AE_IFREG ||
		    archive_entry_hardlink(e) != NULL)
			continue;
		if (archive_entry_is_encrypted(e)) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_ITEM,
				    "设有密码，无法解开");
			return false;
		}
		if (lim->max_archive_members > 0 &&
		    job->members->len >= lim->max_archive_members)
			goto too_many;
		if (!arc_extract_one(job, a, e, error))
			return false;
	}
too_many:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
		    "其中的文件超过 %u 个的上限，未解开",
		    lim->max_archive_members);
	return false;
}

/* Removes what was written, when the whole extraction fails. */
static void
arc_discard(struct arc_job *job)
{
	for (unsigned i = 0; i < job->members->len; i++) {
		struct archive_member *m = g_ptr_array_index(job->members, i);

		if (m->path != NULL)
			unlinkat(job->dirfd, m->path, 0);
	}
}

bool
archive_extract(const char *path, const char *work_dir,
		const struct limits_config *limits, GPtrArray **members_r,
		GError **error)
{
	struct arc_job job = { .path = path, .limits = limits, .dirfd = -1 };
	struct archive *a;
	locale_t utf8, saved = (locale_t)0;
	struct stat st;
	bool ok = false;

	*members_r = NULL;
	job.members = g_ptr_array_new_with_free_func(
		(GDestroyNotify)archive_member_free);
	if (stat(path, &st) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		goto out;
	}
	job.packed = (uint64_t)st.st_size;
	job.dirfd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (job.dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    work_dir, g_strerror(errno));
		goto out;
	}
	utf8 = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (utf8 != (locale_t)0)
		saved = uselocale(utf8);
	job.buf = g_malloc(ARCHIVE_BLOCK);
	a = archive_read_new();
	archive_read_support_format_zip(a);
	archive_read_support_format_rar(a);
	archive_read_support_format_rar5(a);
	archive_read_support_format_7zip(a);
	if (archive_read_open_filename(a, path, ARCHIVE_BLOCK) != ARCHIVE_OK)
		arc_damaged(a, error);
	else
		ok = arc_extract_all(&job, a, error);
	archive_read_free(a);
	if (utf8 != (locale_t)0) {
		uselocale(saved);
		freelocale(utf8);
	}
	if (ok && job.members->len == 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_ITEM,
			    "其中没有文件");
		ok = false;
	}
	if (!ok) {
		arc_discard(&job);
		goto out;
	}
	for (unsigned i = 0; i < job.members->len; i++) {
		struct archive_member *m = g_ptr_array_index(job.members, i);
		char *rel = m->path;

		m->path = g_build_filename(work_dir, rel, NULL);
		g_free(rel);
	}
	*members_r = g_steal_pointer(&job.members);
out:
	if (job.dirfd >= 0)
		close(job.dirfd);
	g_free(job.buf);
	if (job.members != NULL)
		g_ptr_array_unref(job.members);
	return ok;
}

bool
archive_zip_has(const char *path, const char *prefix)
{
	struct archive *a = archive_read_new();
	size_t plen = strlen(prefix);
	struct archive_entry *e;
	bool found = false;

	archive_read_support_format_zip_seekable(a);
	if (archive_read_open_filename(a, path, ARCHIVE_BLOCK) != ARCHIVE_OK)
		goto out;
	for (unsigned i = 0; i < ARCHIVE_ZIP_HAS_ENTRIES && !found; i++) {
		int r = archive_read_next_header(a, &e);
		const char *name;

		if (r != ARCHIVE_OK && r != ARCHIVE_WARN)
			break;
		name = archive_entry_pathname(e);
		if (name == NULL)
			name = archive_entry_pathname_utf8(e);
		found = name != NULL && strncmp(name, prefix, plen) == 0;
	}
out:
	archive_read_free(a);
	return found;
}
