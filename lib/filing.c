/*
 * filing.c - the unit folders: <state_dir>/units/<unit>/总结|图片|视频/
 *
 * Every path below state_dir is walked one component at a time from a
 * directory fd with openat(O_NOFOLLOW | O_DIRECTORY): a symbolic link
 * planted anywhere under state_dir makes the operation fail, it is never
 * followed.  state_dir itself is opened normally: it comes from the
 * configuration, and under systemd's DynamicUser= it is a symlink into
 * /var/lib/private.
 *
 * Placing a file (filing_put), in this order:
 *   1. hard-link the source to ".tmp-<random>" in the target folder, or,
 *      on another file system, copy it into a temp file created
 *      O_CREAT | O_EXCL | O_NOFOLLOW;
 *   2. fsync the temp file;
 *   3. renameat() it over the final name: a redo after a crash replaces
 *      the earlier file instead of adding a second one;
 *   4. fsync the folder.
 * A folder created on the way is fsynced into its parent.  Sanitised
 * names never start with a dot, so ".tmp-*" and ".withdrawn" cannot be
 * produced from a message.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filing.h"

#define FILING_TMP_PREFIX ".tmp-"
#define FILING_WITHDRAWN ".withdrawn"
#define FILING_TRIES 100     /* temp names to try */
#define FILING_SUFFIX_MAX 999 /* "name-2.jpg" ... in .withdrawn */
#define FILING_EXT_MAX 16    /* bytes of an extension kept when cutting */
#define FILING_DEPTH 3       /* units/<unit>/<subdir>/<file> */

const char *
filing_subdir(enum item_type type)
{
	switch (type) {
	case ITEM_SUMMARY:
		return "总结";
	case ITEM_PHOTO:
		return "图片";
	case ITEM_VIDEO:
		return "视频";
	case ITEM_LINK:
	case ITEM_OTHER:
		break;
	}
	return NULL;
}

/* Characters removed outright: controls, path separators, bidi and
 * zero-width format characters. */
static bool
filing_char_dropped(gunichar c)
{
	return c < 0x20 || c == 0x7f || (c >= 0x80 && c <= 0x9f) ||
	       c == '/' || c == '\\' || c == 0x061c ||
	       (c >= 0x200b && c <= 0x200f) || /* ZWSP ZWNJ ZWJ LRM RLM */
	       (c >= 0x202a && c <= 0x202e) || /* LRE RLE PDF LRO RLO */
	       (c >= 0x2060 && c <= 0x2064) || /* word joiner ... */
	       (c >= 0x2066 && c <= 0x2069) || /* LRI RLI FSI PDI */
	       c == 0xfeff || (c >= 0xfff9 && c <= 0xfffb);
}

/* CON, PRN, AUX, NUL, COM1-9, LPT1-9, CONIN$, CONOUT$, with or without an
 * extension, in any case (Windows ignores trailing spaces before it). */
static bool
filing_reserved(const char *s)
{
	static const char *const names[] = {
		"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$", NULL
	};
	size_t n = strcspn(s, ".");

	while (n > 0 && s[n - 1] == ' ')
		n--;
	for (const char *const *r = names; *r; r++)
		if (n == strlen(*r) && g_ascii_strncasecmp(s, *r, n) == 0)
			return true;
	return n == 4 && (g_ascii_strncasecmp(s, "COM", 3) == 0 ||
			  g_ascii_strncasecmp(s, "LPT", 3) == 0) &&
	       s[3] >= '1' && s[3] <= '9';
}

/* The byte length of s's extension (".jpg"), 0 if none worth keeping. */
static size_t
filing_ext_len(const char *s)
{
	const char *dot = strrchr(s, '.');
	size_t n;

	if (!dot || dot == s)
		return 0;
	n = strlen(dot);
	if (n < 2 || n > FILING_EXT_MAX)
		return 0;
	for (const char *p = dot + 1; *p; p++)
		if (!g_ascii_isalnum(*p))
			return 0;
	return n;
}

/* Removes trailing dots and spaces from s[0..*len). */
static void
filing_trim_end(const char *s, size_t *len)
{
	while (*len > 0 && (s[*len - 1] == '.' || s[*len - 1] == ' '))
		(*len)--;
}

/* Cuts s to at most max bytes, keeping the extension, at a character
 * boundary, then trims the stem's end again. */
static void
filing_cut(GString *s, size_t max)
{
	size_t ext = filing_ext_len(s->str);
	size_t stem = s->len - ext;
	size_t keep;

	if (s->len <= max)
		return;
	if (ext + 1 > max)
		ext = 0, stem = s->len;
	keep = max - ext;
	if (keep > stem)
		keep = stem;
	while (keep > 0 && ((unsigned char)s->str[keep] & 0xc0) == 0x80)
		keep--;
	filing_trim_end(s->str, &keep);
	g_string_erase(s, (gssize)keep, (gssize)(stem - keep));
	if (keep == 0)
		g_string_truncate(s, 0); /* not a bare ".jpg" */
}

char *
filing_sanitize(const char *name, size_t max_bytes)
{
	g_autofree char *valid = NULL;
	g_autofree char *nfc = NULL;
	GString *out;
	size_t start = 0, len;

	if (max_bytes == 0)
		max_bytes = FILING_NAME_MAX;
	valid = g_utf8_make_valid(name ? name : "", -1);
	out = g_string_sized_new(strlen(valid));
	for (const char *p = valid; *p; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (filing_char_dropped(c))
			continue;
		if (c < 0x80 && strchr("<>:\"|?*", (int)c))
			g_string_append_c(out, '_');
		else
			g_string_append_unichar(out, c);
	}
	nfc = g_utf8_normalize(out->str, -1, G_NORMALIZE_NFC);
	g_string_assign(out, nfc ? nfc : "");

	/* no leading dots or spaces, no trailing ones (Windows) */
	while (out->str[start] == '.' || out->str[start] == ' ')
		start++;
	g_string_erase(out, 0, (gssize)start);
	len = out->len;
	filing_trim_end(out->str, &len);
	g_string_truncate(out, len);

	if (filing_reserved(out->str))
		g_string_prepend_c(out, '_');
	filing_cut(out, max_bytes);
	if (out->len == 0 || filing_reserved(out->str)) {
		g_string_prepend_c(out, '_');
		filing_cut(out, max_bytes);
	}
	if (out->len == 0)
		g_string_assign(out, "_");
	return g_string_free(out, FALSE);
}

/* ---- walking below state_dir ---- */

static void
filing_errno(GError **error, int err, const char *state_dir,
	     const char *rel, const char *what)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s/%s: %s: %s",
		    state_dir, rel, what, g_strerror(err));
}

/* One path component that we chose (a subdir), never "." or "..". */
static bool
filing_component_ok(const char *c)
{
	return c && *c && strcmp(c, ".") != 0 && strcmp(c, "..") != 0 &&
	       !strchr(c, '/');
}

static int
filing_open_root(const char *state_dir, GError **error)
{
	int fd = open(state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: cannot open the state directory: %s",
			    state_dir, g_strerror(errno));
	return fd;
}

/* Opens comps[0..n) below state_dir one at a time, creating them when
 * create; never follows a symlink.  Returns the last folder's fd. */
static int
filing_open_chain(const char *state_dir, const char *const *comps, size_t n,
		  bool create, GError **error)
{
	g_autoptr(GString) rel = g_string_new(NULL);
	int dfd = filing_open_root(state_dir, error);

	for (size_t i = 0; dfd >= 0 && i < n; i++) {
		bool made = false;
		int fd;

		if (rel->len)
			g_string_append_c(rel, '/');
		g_string_append(rel, comps[i]);
		if (create) {
			if (mkdirat(dfd, comps[i], 0750) == 0) {
				made = true;
			} else if (errno != EEXIST) {
				filing_errno(error, errno, state_dir,
					     rel->str, "cannot create");
				close(dfd);
				return -1;
			}
		}
		fd = openat(dfd, comps[i],
			    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			int e = errno;

			filing_errno(error, e, state_dir, rel->str,
				     e == ELOOP || e == ENOTDIR ?
				     "not a folder (a symbolic link?), "
				     "refusing to follow" :
				     "cannot open");
			close(dfd);
			return -1;
		}
		if (made && fsync(dfd) != 0) {
			filing_errno(error, errno, state_dir, rel->str,
				     "fsync of the parent folder");
			close(fd);
			close(dfd);
			return -1;
		}
		close(dfd);
		dfd = fd;
	}
	return dfd;
}

static bool
filing_fsync_dir(int dfd, const char *state_dir, const char *rel,
		 GError **error)
{
	if (fsync(dfd) == 0)
		return true;
	filing_errno(error, errno, state_dir, rel, "fsync of the folder");
	return false;
}

/* Splits "units/<unit>/<subdir>/<file>"; NULL when it is not one. */
static char **
filing_split(const char *relpath, GError **error)
{
	char **comps = g_strsplit(relpath ? relpath : "", "/", 5);

	if (g_strv_length(comps) != 4 || strcmp(comps[0], "units") != 0)
		goto bad;
	for (int i = 1; i < 4; i++)
		if (!filing_component_ok(comps[i]))
			goto bad;
	return comps;
bad:
	g_strfreev(comps);
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
		    "\"%s\" is not a filed item's path "
		    "(units/<unit>/<folder>/<file>)", relpath ? relpath : "");
	return NULL;
}

static void
filing_tmp_name(char *buf, size_t size)
{
	snprintf(buf, size, FILING_TMP_PREFIX "%08x%08x", g_random_int(),
		 g_random_int());
}

static bool
filing_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/* Copies src into a new temp file in dfd; *tmp_r names it. */
static bool
filing_copy(int dfd, int src, char *tmp_r, size_t tmp_size, GError **error)
{
	g_autofree char *buf = g_malloc(INTAKE_IO_BLOCK);
	bool ok = false;
	int fd = -1;

	for (int i = 0; fd < 0 && i < FILING_TRIES; i++) {
		filing_tmp_name(tmp_r, tmp_size);
		fd = openat(dfd, tmp_r,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
			    O_CLOEXEC, 0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create a temp file: %s",
			    g_strerror(errno));
		return false;
	}
	for (;;) {
		ssize_t n = read(src, buf, INTAKE_IO_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "reading the source: %s",
				    g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (!filing_write_all(fd, buf, (size_t)n)) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "writing %s: %s", tmp_r,
				    g_strerror(errno));
			goto out;
		}
	}
	if (fsync(fd) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "fsync of %s: %s", tmp_r, g_strerror(errno));
		goto out;
	}
	ok = true;
out:
	if (close(fd) != 0 && ok) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "closing %s: %s", tmp_r, g_strerror(errno));
		ok = false;
	}
	if (!ok)
		unlinkat(dfd, tmp_r, 0);
	return ok;
}

/* Hard-links src_path into a new temp name in dfd and fsyncs it.
 * Returns 1 when linked, 0 when linking is not possible here (another
 * file system), -1 on error. */
static int
filing_link(int dfd, const char *src_path, char *tmp_r, size_t tmp_size,
	    GError **error)
{
	struct stat st;
	int fd, e = 0;

	for (int i = 0; i < FILING_TRIES; i++) {
		filing_tmp_name(tmp_r, tmp_size);
		e = 0;
		if (linkat(AT_FDCWD, src_path, dfd, tmp_r, 0) == 0)
			break;
		e = errno;
		if (e != EEXIST)
			break;
	}
	if (e == EXDEV || e == EPERM || e == EMLINK || e == ENOTSUP ||
	    e == EOPNOTSUPP || e == EACCES)
		return 0;
	if (e != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "linking %s: %s", src_path, g_strerror(e));
		return -1;
	}
	/* linkat() without AT_SYMLINK_FOLLOW links a symlink itself:
	 * check what we got, then make the data durable. */
	fd = openat(dfd, tmp_r, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    fsync(fd) != 0) {
		e = errno;
		if (fd >= 0)
			close(fd);
		unlinkat(dfd, tmp_r, 0);
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s is not a regular file or cannot be synced: "
			    "%s", src_path, g_strerror(e ? e : EINVAL));
		return -1;
	}
	close(fd);
	return 1;
}

bool
filing_put(const char *state_dir, const char *unit, const char *subdir,
	   const char *name, const char *src_path, char **relpath_r,
	   GError **error)
{
	g_autofree char *unit_s = filing_sanitize(unit, FILING_NAME_MAX);
	g_autofree char *name_s = filing_sanitize(name, FILING_NAME_MAX);
	g_autofree char *rel = NULL;
	const char *chain[3] = { "units", unit_s, subdir };
	char tmp[64];
	bool ok = false;
	int dfd, src = -1, linked;
	struct stat st;

	if (!filing_component_ok(subdir)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "\"%s\" is not a folder name",
			    subdir ? subdir : "");
		return false;
	}
	rel = g_strdup_printf("units/%s/%s/%s", unit_s, subdir, name_s);
	src = open(src_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0 || fstat(src, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: not a readable regular file: %s", src_path,
			    g_strerror(src < 0 ? errno : EINVAL));
		if (src >= 0)
			close(src);
		return false;
	}
	dfd = filing_open_chain(state_dir, chain, 3, true, error);
	if (dfd < 0)
		goto out;
	linked = filing_link(dfd, src_path, tmp, sizeof(tmp), error);
	if (linked < 0 ||
	    (linked == 0 && !filing_copy(dfd, src, tmp, sizeof(tmp), error)))
		goto out;
	if (renameat(dfd, tmp, dfd, name_s) != 0) {
		filing_errno(error, errno, state_dir, rel, "cannot rename");
		unlinkat(dfd, tmp, 0);
		goto out;
	}
	/* When the source already is the final file (a redo, or a photo
	 * filed again under its own name), tmp and the final name are links
	 * to one inode, and rename() does nothing: drop the temp link. */
	if (linked)
		unlinkat(dfd, tmp, 0);
	if (!filing_fsync_dir(dfd, state_dir, rel, error))
		goto out;
	if (relpath_r)
		*relpath_r = g_steal_pointer(&rel);
	ok = true;
out:
	if (dfd >= 0)
		close(dfd);
	close(src);
	return ok;
}

/* Whether name exists in dfd as a regular file (not following links). */
static int
filing_stat_reg(int dfd, const char *name)
{
	struct stat st;

	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0)
		return errno == ENOENT ? 0 : -1;
	return S_ISREG(st.st_mode) ? 1 : -1;
}

bool
filing_rename(const char *state_dir, const char *relpath,
	      const char *new_name, char **relpath_r, GError **error)
{
	g_auto(GStrv) comps = filing_split(relpath, error);
	g_autofree char *name_s = NULL;
	g_autofree char *rel = NULL;
	bool ok = false;
	int dfd, old;

	if (!comps)
		return false;
	name_s = filing_sanitize(new_name, FILING_NAME_MAX);
	rel = g_strdup_printf("units/%s/%s/%s", comps[1], comps[2], name_s);
	dfd = filing_open_chain(state_dir, (const char *const *)comps, 3,
				false, error);
	if (dfd < 0)
		return false;
	if (strcmp(name_s, comps[3]) == 0)
		goto done;
	old = filing_stat_reg(dfd, comps[3]);
	if (old == 0 && filing_stat_reg(dfd, name_s) == 1)
		goto done; /* renamed before a crash: nothing left to do */
	if (old != 1) {
		filing_errno(error, old == 0 ? ENOENT : EINVAL, state_dir,
			     relpath, "not a filed file");
		goto out;
	}
	if (renameat(dfd, comps[3], dfd, name_s) != 0) {
		filing_errno(error, errno, state_dir, relpath,
			     "cannot rename");
		goto out;
	}
	if (!filing_fsync_dir(dfd, state_dir, rel, error))
		goto out;
done:
	if (relpath_r)
		*relpath_r = g_steal_pointer(&rel);
	ok = true;
out:
	close(dfd);
	return ok;
}

/* Moves name from sfd to wfd under the first free of name, name-2.ext,
 * name-3.ext...; *moved_r gets the name used. */
static bool
filing_move_free(int sfd, const char *name, int wfd, char **moved_r)
{
	size_t ext = filing_ext_len(name);
	g_autofree char *stem = g_strndup(name, strlen(name) - ext);

	for (int i = 1; i <= FILING_SUFFIX_MAX; i++) {
		g_autofree char *cand = i == 1 ? g_strdup(name) :
			g_strdup_printf("%s-%d%s", stem, i,
					name + strlen(name) - ext);
		int r = renameat2(sfd, name, wfd, cand, RENAME_NOREPLACE);

		if (r != 0 && (errno == EINVAL || errno == ENOSYS)) {
			/* no RENAME_NOREPLACE here: link is exclusive */
			r = linkat(sfd, name, wfd, cand, 0);
			if (r == 0)
				unlinkat(sfd, name, 0);
		}
		if (r == 0) {
			*moved_r = g_steal_pointer(&cand);
			return true;
		}
		if (errno != EEXIST)
			return false;
	}
	errno = EEXIST;
	return false;
}

bool
filing_move_aside(const char *state_dir, const char *relpath,
		  char **relpath_r, GError **error)
{
	g_auto(GStrv) comps = filing_split(relpath, error);
	g_autofree char *moved = NULL;
	char *rel;
	bool ok = false;
	int ufd, sfd = -1, wfd = -1, st;

	if (!comps)
		return false;
	if (strcmp(comps[2], FILING_WITHDRAWN) == 0) {
		if (relpath_r)
			*relpath_r = g_strdup(relpath);
		return true;
	}
	ufd = filing_open_chain(state_dir, (const char *const *)comps, 2,
				false, error);
	if (ufd < 0)
		return false;
	sfd = openat(ufd, comps[2],
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sfd < 0) {
		filing_errno(error, errno, state_dir, relpath,
			     "cannot open the folder");
		goto out;
	}
	{
		const char *chain[3] = { "units", comps[1], FILING_WITHDRAWN };

		wfd = filing_open_chain(state_dir, chain, 3, true, error);
	}
	if (wfd < 0)
		goto out;
	st = filing_stat_reg(sfd, comps[3]);
	if (st == 0 && filing_stat_reg(wfd, comps[3]) == 1) {
		moved = g_strdup(comps[3]); /* moved before a crash */
	} else if (st != 1) {
		filing_errno(error, st == 0 ? ENOENT : EINVAL, state_dir,
			     relpath, "not a filed file");
		goto out;
	} else if (!filing_move_free(sfd, comps[3], wfd, &moved)) {
		filing_errno(error, errno, state_dir, relpath,
			     "cannot move it into " FILING_WITHDRAWN);
		goto out;
	}
	rel = g_strdup_printf("units/%s/" FILING_WITHDRAWN "/%s", comps[1],
			      moved);
	if (!filing_fsync_dir(wfd, state_dir, rel, error) ||
	    !filing_fsync_dir(sfd, state_dir, relpath, error)) {
		g_free(rel);
		goto out;
	}
	if (relpath_r)
		*relpath_r = rel;
	else
		g_free(rel);
	ok = true;
out:
	if (wfd >= 0)
		close(wfd);
	if (sfd >= 0)
		close(sfd);
	close(ufd);
	return ok;
}

/* Removes from dfd (at rel, depth levels below units/) what does not
 * belong; recurses into folders up to FILING_DEPTH. */
static bool
filing_sweep(int dfd, const char *state_dir, const char *rel, int depth,
	     GHashTable *known, int *count, GError **error)
{
	struct dirent *de;
	bool dirty = false, ok = true;
	DIR *dir;
	int fd = dup(dfd);

	if (fd < 0 || !(dir = fdopendir(fd))) {
		filing_errno(error, errno, state_dir, rel, "cannot list");
		if (fd >= 0)
			close(fd);
		return false;
	}
	while (ok) {
		g_autofree char *path = NULL;
		struct stat st;
		bool drop;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			if (errno != 0) {
				filing_errno(error, errno, state_dir, rel,
					     "cannot list");
				ok = false;
			}
			break;
		}
		if (strcmp(de->d_name, ".") == 0 ||
		    strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue; /* gone meanwhile */
		path = g_strdup_printf("%s/%s", rel, de->d_name);
		if (S_ISDIR(st.st_mode)) {
			int sub;

			if (depth >= FILING_DEPTH)
				continue;
			sub = openat(dfd, de->d_name, O_RDONLY | O_DIRECTORY |
				     O_NOFOLLOW | O_CLOEXEC);
			if (sub < 0) {
				filing_errno(error, errno, state_dir, path,
					     "cannot open");
				ok = false;
				break;
			}
			ok = filing_sweep(sub, state_dir, path, depth + 1,
					  known, count, error);
			close(sub);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			drop = true; /* symlinks, fifos, devices */
		else if (g_str_has_prefix(de->d_name, FILING_TMP_PREFIX))
			drop = true;
		else
			drop = known && !g_hash_table_contains(known, path);
		if (!drop)
			continue;
		if (unlinkat(dfd, de->d_name, 0) != 0 && errno != ENOENT) {
			filing_errno(error, errno, state_dir, path,
				     "cannot remove");
			ok = false;
			break;
		}
		(*count)++;
		dirty = true;
	}
	closedir(dir);
	if (ok && dirty)
		ok = filing_fsync_dir(dfd, state_dir, rel, error);
	return ok;
}

int
filing_cleanup(const char *state_dir, GHashTable *known, GError **error)
{
	struct stat st;
	int root, ufd, count = 0;
	bool ok;

	root = filing_open_root(state_dir, error);
	if (root < 0)
		return -1;
	if (fstatat(root, "units", &st, AT_SYMLINK_NOFOLLOW) != 0) {
		close(root);
		if (errno == ENOENT)
			return 0;
		filing_errno(error, errno, state_dir, "units", "cannot stat");
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		/* a stray symlink or file where the folder belongs */
		ok = unlinkat(root, "units", 0) == 0;
		if (!ok)
			filing_errno(error, errno, state_dir, "units",
				     "cannot remove");
		close(root);
		return ok ? 1 : -1;
	}
	ufd = openat(root, "units",
		     O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	close(root);
	if (ufd < 0) {
		filing_errno(error, errno, state_dir, "units", "cannot open");
		return -1;
	}
	ok = filing_sweep(ufd, state_dir, "units", 1, known, &count, error);
	close(ufd);
	return ok ? count : -1;
}
