/*
 * maildir.c - a Maildir as a message source (url maildir:/path)
 *
 * list() reads new/ and cur/ (dotfiles and tmp/ are skipped, and so is
 * anything that is not a regular file) and returns every message each
 * time: a Maildir has no UIDs, so the cursor is ignored and the pipeline
 * deduplicates by key.  key = the file's base name up to the ':' of its
 * info, which stays the same when a mail reader renames the file;
 * internaldate = the file's mtime (what Dovecot takes as the received
 * date); seen and flags from the ":2,FLAGS" info.  Sorted by (mtime,
 * name).
 *
 * fetch() streams the file in INTAKE_IO_BLOCK blocks, refusing one larger
 * than [limits] max_message_bytes.  Reading changes nothing, so
 * restore_seen() does nothing.  fetch_header() reads the header block
 * (up to max_header_bytes) of a file too large to fetch; present() looks
 * keys up as fetch() would.
 *
 * mark(): "flag" adds the Maildir F flag (\Flagged) by renaming the file
 * into cur/ (a Maildir has no per-message keywords, so the keyword of
 * mark = flag:NAME is not stored); "move:FOLDER" renames it into the
 * Maildir++ folder .FOLDER/cur/ (created when missing; "/" in FOLDER is
 * the hierarchy separator, non-ASCII names in modified UTF-7, as Dovecot
 * lays them out).
 *
 * Files are opened relative to the Maildir's directory fd, O_NOFOLLOW.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "imapparse.h"
#include "source.h"
#include "toolarge.h"

/* More files than this in one Maildir is refused rather than listed. */
#define MAILDIR_MAX_MESSAGES 1000000

struct maildir {
	char *path;
	int dirfd;
	GHashTable *where; /* key -> "cur/NAME" as last listed */
};

static const char *const maildir_subdirs[] = { "new", "cur" };

static struct maildir *
maildir_get(struct source *src)
{
	return src->priv;
}

static void
maildir_close(struct source *src)
{
	struct maildir *md = src->priv;

	if (md == NULL)
		return;
	if (md->dirfd >= 0)
		close(md->dirfd);
	g_hash_table_unref(md->where);
	g_free(md->path);
	g_free(md);
	src->priv = NULL;
}

static bool
maildir_open(struct source *src, uint32_t *uidvalidity_r, GError **error)
{
	struct maildir *md;
	const char *path = src->cfg->mailbox_url + strlen("maildir:");

	maildir_close(src);
	md = g_new0(struct maildir, 1);
	md->path = g_strdup(path);
	md->where = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
					  g_free);
	md->dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	src->priv = md;
	if (md->dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s: %s", path, g_strerror(errno));
		return false;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(maildir_subdirs); i++) {
		struct stat st;

		if (fstatat(md->dirfd, maildir_subdirs[i], &st, 0) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "maildir %s: no %s/ directory: is it a "
				    "Maildir?", path, maildir_subdirs[i]);
			return false;
		}
	}
	*uidvalidity_r = 0;
	return true;
}

/* ":2,FS" -> "\Flagged \Seen". */
static char *
maildir_flags(const char *name, bool *seen_r)
{
	static const struct {
		char c;
		const char *flag;
	} map[] = {
		{ 'D', "\\Draft" }, { 'F', "\\Flagged" }, { 'R', "\\Answered" },
		{ 'S', "\\Seen" },  { 'T', "\\Deleted" },
	};
	const char *info = strstr(name, ":2,");
	GString *flags = g_string_new(NULL);

	*seen_r = false;
	if (info == NULL)
		return g_string_free(flags, FALSE);
	for (size_t i = 0; i < G_N_ELEMENTS(map); i++) {
		if (strchr(info + 3, map[i].c) == NULL)
			continue;
		if (flags->len > 0)
			g_string_append_c(flags, ' ');
		g_string_append(flags, map[i].flag);
		if (map[i].c == 'S')
			*seen_r = true;
	}
	return g_string_free(flags, FALSE);
}

/* Adds the messages of one subdirectory to msgs. */
static bool
maildir_scan(struct maildir *md, const char *sub, int64_t since,
	     GPtrArray *msgs, GHashTable *keys, GError **error)
{
	int fd = openat(md->dirfd, sub, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir = fd < 0 ? NULL : fdopendir(fd);
	struct dirent *de;
	bool ok = false;

	if (dir == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s/%s: %s", md->path, sub,
			    g_strerror(errno));
		if (fd >= 0)
			close(fd);
		return false;
	}
	while ((errno = 0, de = readdir(dir)) != NULL) {
		struct source_msg *msg;
		struct stat st;
		const char *colon;

		if (de->d_name[0] == '.')
			continue;
		if (fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT)
				continue; /* renamed by a mail reader */
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "maildir %s/%s/%s: %s", md->path, sub,
				    de->d_name, g_strerror(errno));
			goto out;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		colon = strchr(de->d_name, ':');
		if (colon == de->d_name)
			continue;
		if (msgs->len >= MAILDIR_MAX_MESSAGES) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
				    "maildir %s has more than %d messages",
				    md->path, MAILDIR_MAX_MESSAGES);
			goto out;
		}
		msg = g_new0(struct source_msg, 1);
		msg->key = colon ? g_strndup(de->d_name, colon - de->d_name)
				 : g_strdup(de->d_name);
		/* the same message in new/ and cur/ while it is renamed */
		if (g_hash_table_contains(keys, msg->key) ||
		    (since != 0 && st.st_mtime < since)) {
			source_msg_free(msg);
			continue;
		}
		msg->flags = maildir_flags(de->d_name, &msg->seen);
		msg->internaldate = st.st_mtime;
		msg->size = (uint64_t)st.st_size;
		g_hash_table_add(keys, msg->key);
		g_hash_table_replace(md->where, g_strdup(msg->key),
				     g_strconcat(sub, "/", de->d_name, NULL));
		g_ptr_array_add(msgs, msg);
	}
	if (errno != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s/%s: %s", md->path, sub,
			    g_strerror(errno));
		goto out;
	}
	ok = true;
out:
	closedir(dir);
	return ok;
}

static gint
maildir_cmp(gconstpointer a, gconstpointer b)
{
	const struct source_msg *x = *(struct source_msg *const *)a;
	const struct source_msg *y = *(struct source_msg *const *)b;

	if (x->internaldate != y->internaldate)
		return x->internaldate < y->internaldate ? -1 : 1;
	return strcmp(x->key, y->key);
}

static bool
maildir_list(struct source *src, const struct source_cursor *cursor,
	     int64_t since, GPtrArray **msgs_r, GError **error)
{
	struct maildir *md = maildir_get(src);
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GHashTable) keys = NULL;

	(void)cursor; /* no UIDs: everything, every time */
	if (md == NULL || md->dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir source is not open");
		return false;
	}
	msgs = g_ptr_array_new_with_free_func((GDestroyNotify)source_msg_free);
	keys = g_hash_table_new(g_str_hash, g_str_equal);
	g_hash_table_remove_all(md->where);
	for (size_t i = 0; i < G_N_ELEMENTS(maildir_subdirs); i++)
		if (!maildir_scan(md, maildir_subdirs[i], since, msgs, keys,
				  error))
			return false;
	g_ptr_array_sort(msgs, maildir_cmp);
	*msgs_r = g_steal_pointer(&msgs);
	return true;
}

static bool
maildir_key_ok(const char *key, GError **error)
{
	if (*key == '\0' || *key == '.' || strchr(key, '/') != NULL ||
	    strchr(key, ':') != NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "\"%s\" is not a Maildir message key", key);
		return false;
	}
	return true;
}

/* Where the message is now, as "new/NAME" or "cur/NAME": where list()
 * saw it, or wherever a mail reader has renamed it since. */
static char *
maildir_find(struct maildir *md, const char *key, GError **error)
{
	const char *last = g_hash_table_lookup(md->where, key);
	size_t klen = strlen(key);
	struct stat st;

	if (!maildir_key_ok(key, error))
		return NULL;
	if (last != NULL &&
	    fstatat(md->dirfd, last, &st, AT_SYMLINK_NOFOLLOW) == 0)
		return g_strdup(last);
	for (size_t i = 0; i < G_N_ELEMENTS(maildir_subdirs); i++) {
		const char *sub = maildir_subdirs[i];
		int fd = openat(md->dirfd, sub,
				O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *dir = fd < 0 ? NULL : fdopendir(fd);
		struct dirent *de;
		char *found = NULL;

		if (dir == NULL) {
			if (fd >= 0)
				close(fd);
			continue;
		}
		while (found == NULL && (de = readdir(dir)) != NULL)
			if (strncmp(de->d_name, key, klen) == 0 &&
			    (de->d_name[klen] == '\0' ||
			     de->d_name[klen] == ':'))
				found = g_strconcat(sub, "/", de->d_name, NULL);
		closedir(dir);
		if (found != NULL)
			return found;
	}
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
		    "maildir %s: message %s is no longer there", md->path, key);
	return NULL;
}

/* Opens the message of key for reading: its descriptor, or -1; *rel_r
 * is where it is (for messages), NULL when it was not found. */
static int
maildir_open_key(struct source *src, const char *key, char **rel_r,
		 GError **error)
{
	struct maildir *md = maildir_get(src);
	int fd;

	*rel_r = NULL;
	if (md == NULL || md->dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir source is not open");
		return -1;
	}
	*rel_r = maildir_find(md, key, error);
	if (*rel_r == NULL)
		return -1;
	fd = openat(md->dirfd, *rel_r, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s/%s: %s", md->path, *rel_r,
			    g_strerror(errno));
	return fd;
}

/* read(2) of the message file, again after EINTR; -1 with error set. */
static ssize_t
maildir_read(const struct maildir *md, const char *rel, int fd, void *buf,
	     size_t n, GError **error)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);

		if (r >= 0)
			return r;
		if (errno != EINTR) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "maildir %s/%s: %s", md->path, rel,
				    g_strerror(errno));
			return -1;
		}
	}
}

static bool
maildir_fetch(struct source *src, const struct source_msg *msg,
	      source_sink_fn sink, void *ctx, GError **error)
{
	struct maildir *md = maildir_get(src);
	uint64_t max = src->cfg->limits.max_message_bytes;
	g_autofree char *rel = NULL;
	g_autofree char *buf = NULL;
	uint64_t total = 0;
	struct stat st;
	bool ok = false;
	int fd = -1;

	fd = maildir_open_key(src, msg->key, &rel, error);
	if (fd < 0)
		return false;
	if (fstat(fd, &st) < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s/%s: %s", md->path, rel,
			    g_strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "maildir %s/%s is not a regular file", md->path,
			    rel);
		goto out;
	}
	if (max != 0 && (uint64_t)st.st_size > max) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "message %s is %" G_GUINT64_FORMAT " bytes, more "
			    "than max_message_bytes (%" G_GUINT64_FORMAT ")",
			    msg->key, (uint64_t)st.st_size, max);
		goto out;
	}
	buf = g_malloc(INTAKE_IO_BLOCK);
	for (;;) {
		ssize_t n = maildir_read(md, rel, fd, buf, INTAKE_IO_BLOCK,
					 error);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		total += (uint64_t)n;
		/* the file grew after the fstat() */
		if (max != 0 && total > max) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
				    "message %s is more than max_message_bytes "
				    "(%" G_GUINT64_FORMAT ")", msg->key, max);
			goto out;
		}
		if (!sink(buf, (size_t)n, ctx, error))
			goto out;
	}
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

/* The file's header block, read up to its empty line or max_header_bytes
 * (toolarge_header_len says where it ends). */
static bool
maildir_fetch_header(struct source *src, const struct source_msg *msg,
		     GByteArray *header, GError **error)
{
	struct maildir *md = maildir_get(src);
	uint64_t max = src->cfg->limits.max_header_bytes;
	g_autofree char *rel = NULL;
	size_t start = header->len;
	bool complete = false;
	bool ok = false;
	int fd = -1;

	fd = maildir_open_key(src, msg->key, &rel, error);
	if (fd < 0)
		return false;
	while (!complete && header->len - start < max) {
		guint8 buf[4096];
		size_t want = (size_t)MIN((uint64_t)sizeof(buf),
					  max - (header->len - start));
		ssize_t n = maildir_read(md, rel, fd, buf, want, error);
		size_t end;

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		g_byte_array_append(header, buf, (guint)n);
		end = toolarge_header_len(header->data + start,
					  header->len - start, &complete);
		if (complete)
			g_byte_array_set_size(header, (guint)(start + end));
	}
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	return ok;
}

/* Each key looked up as fetch() would find it. */
static bool
maildir_present(struct source *src, GPtrArray *keys, GHashTable **present_r,
		GError **error)
{
	struct maildir *md = maildir_get(src);
	g_autoptr(GHashTable) present = NULL;

	if (md == NULL || md->dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir source is not open");
		return false;
	}
	present = g_hash_table_new(g_str_hash, g_str_equal);
	for (guint i = 0; i < keys->len; i++) {
		char *key = g_ptr_array_index(keys, i);
		g_autofree char *rel = maildir_find(md, key, NULL);

		if (rel != NULL)
			g_hash_table_add(present, key);
	}
	*present_r = g_steal_pointer(&present);
	return true;
}

static bool
maildir_restore_seen(struct source *src, const char *key, GError **error)
{
	(void)src;
	(void)key;
	(void)error;
	return true; /* reading a file sets no flag */
}

/* NAME[:2,FLAGS] with 'F' added, the flags kept in ASCII order. */
static char *
maildir_add_flag(const char *name, char flag)
{
	const char *info = strstr(name, ":2,");
	GString *s;

	if (info == NULL)
		return g_strdup_printf("%s:2,%c", name, flag);
	if (strchr(info + 3, flag) != NULL)
		return g_strdup(name);
	s = g_string_new_len(name, info + 3 - name);
	for (info += 3; *info != '\0' && *info < flag; info++)
		g_string_append_c(s, *info);
	g_string_append_c(s, flag);
	g_string_append(s, info);
	return g_string_free(s, FALSE);
}

/* The Maildir++ directory of a folder: "已归档/2022" -> ".&XfJfUmhj-.2022". */
static char *
maildir_folder_dir(const struct intake_config *cfg, GError **error)
{
	const char *folder = cfg->mark_arg;
	g_autofree char *enc = NULL;

	if (folder == NULL || *folder == '\0' || *folder == '/' ||
	    strchr(folder, '.') != NULL || g_str_has_suffix(folder, "/") ||
	    strstr(folder, "//") != NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "[mailbox] mark: folder \"%s\" cannot be a "
			    "Maildir++ folder (no '.', no empty parts)",
			    folder ? folder : "");
		return NULL;
	}
	enc = imapparse_mutf7_encode(folder, error);
	if (enc == NULL)
		return NULL;
	g_strdelimit(enc, "/", '.');
	return g_strconcat(".", enc, NULL);
}

static bool
maildir_mkfolder(struct maildir *md, const char *dir, GError **error)
{
	static const char *const subs[] = { "", "/cur", "/new", "/tmp" };

	for (size_t i = 0; i < G_N_ELEMENTS(subs); i++) {
		g_autofree char *p = g_strconcat(dir, subs[i], NULL);

		if (mkdirat(md->dirfd, p, 0700) < 0 && errno != EEXIST) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "maildir %s/%s: %s", md->path, p,
				    g_strerror(errno));
			return false;
		}
	}
	return true;
}

static bool
maildir_mark(struct source *src, const char *key, GError **error)
{
	struct maildir *md = maildir_get(src);
	const struct intake_config *cfg = src->cfg;
	g_autofree char *rel = NULL;
	g_autofree char *to = NULL;
	const char *name;

	if (cfg->mark == MARK_NONE)
		return true;
	if (md == NULL || md->dirfd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir source is not open");
		return false;
	}
	rel = maildir_find(md, key, error);
	if (rel == NULL)
		return false;
	name = strchr(rel, '/') + 1;
	if (cfg->mark == MARK_FLAG) {
		g_autofree char *flagged = maildir_add_flag(name, 'F');

		to = g_strconcat("cur/", flagged, NULL);
	} else {
		g_autofree char *dir = maildir_folder_dir(cfg, error);

		if (dir == NULL || !maildir_mkfolder(md, dir, error))
			return false;
		to = g_strconcat(dir, "/cur/", name, NULL);
	}
	if (strcmp(rel, to) == 0)
		return true;
	if (renameat(md->dirfd, rel, md->dirfd, to) < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "maildir %s: rename %s to %s: %s", md->path, rel,
			    to, g_strerror(errno));
		return false;
	}
	g_hash_table_replace(md->where, g_strdup(key), g_strdup(to));
	return true;
}

const struct source_ops maildir_source_ops = {
	.name = "maildir",
	.open = maildir_open,
	.list = maildir_list,
	.fetch = maildir_fetch,
	.fetch_header = maildir_fetch_header,
	.present = maildir_present,
	.restore_seen = maildir_restore_seen,
	.mark = maildir_mark,
	.close = maildir_close,
};
