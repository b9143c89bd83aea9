/*
 * rawstore.c - content-addressed raw messages: <state_dir>/raw/<aa>/<sha>.eml
 *
 * A message arrives into <state_dir>/tmp/spool-XXXXXX (O_CREAT | O_EXCL,
 * mode 0600) and is hashed with OpenSSL's EVP SHA-256 as the bytes pass.
 * Committing it, in this order (as Postfix's mail_queue.c):
 *   1. fsync the spool file;
 *   2. mkdir raw/<aa> if needed, and then fsync raw/ so the new folder
 *      survives a crash;
 *   3. rename the spool to raw/<aa>/<sha>.eml without replacing
 *      (RENAME_NOREPLACE): if that name exists, it holds the same bytes
 *      already and the spool file is simply removed;
 *   4. fsync raw/<aa>.
 * Only then may the caller record the message in the database.
 *
 * Pieces smaller than INTAKE_IO_BLOCK (libcurl hands an IMAP literal
 * over in 4 KiB pieces) are gathered into RAW_SPOOL_BUF bytes before
 * they are written: one write(2) per 256 KiB instead of one per 4 KiB
 * (130 instead of 8,000 for a 33 MB message).  Larger pieces are
 * written at once, so a failing disk is still reported by the write that
 * meets it; gathered bytes reach the file at the latest in commit, whose
 * fsync then covers them, and an error there fails the commit.  Every
 * RAW_SPOOL_KICK bytes the kernel is asked to start writing them out
 * (sync_file_range, SYNC_FILE_RANGE_WRITE, which does not wait), so
 * that the disk works while the rest arrives and the fsync in commit
 * waits for the tail only; the fsync alone decides durability.
 *
 * A live spool file holds an flock(): rawstore_cleanup() removes only
 * spool files nobody holds, so intakectl import running beside a starting
 * daemon keeps its spool.  Files in tmp/ that are not ours ("spool-*")
 * are left alone.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "rawstore.h"

#define RAW_SPOOL_PREFIX "spool-"
#define RAW_SPOOL_BUF (256 * 1024) /* small pieces gathered up to this */
#define RAW_SPOOL_KICK (8 * 1024 * 1024) /* writeback started this often */

struct raw_spool {
	char *state_dir;
	char *path;     /* state_dir/tmp/spool-XXXXXX */
	int fd;
	EVP_MD_CTX *md;
	uint64_t size;  /* accepted so far, gathered bytes included */
	uint64_t max;   /* 0: unbounded */
	char *buf;      /* RAW_SPOOL_BUF bytes, allocated on first use */
	size_t fill;    /* gathered bytes in buf, not yet written */
	uint64_t written; /* bytes write(2) took */
	uint64_t kicked;  /* writeback started up to here */
	bool broken;    /* a write failed: refuse to commit */
};

static void
raw_set_errno(GError **error, int err, const char *what, const char *path)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s %s: %s", what,
		    path, g_strerror(err));
}

static bool
raw_mkdir(const char *path, GError **error)
{
	if (g_mkdir_with_parents(path, 0700) == 0)
		return true;
	raw_set_errno(error, errno, "cannot create", path);
	return false;
}

static void
raw_hex(const unsigned char *md, char sha_r[SHA256_HEX_LEN + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (int i = 0; i < SHA256_HEX_LEN / 2; i++) {
		sha_r[2 * i] = digits[md[i] >> 4];
		sha_r[2 * i + 1] = digits[md[i] & 0x0f];
	}
	sha_r[SHA256_HEX_LEN] = '\0';
}

static bool
raw_md_final(EVP_MD_CTX *md, char sha_r[SHA256_HEX_LEN + 1],
	     GError **error)
{
	unsigned char out[EVP_MAX_MD_SIZE];
	unsigned int len = 0;

	if (EVP_DigestFinal_ex(md, out, &len) != 1 ||
	    len != SHA256_HEX_LEN / 2) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "SHA-256 failed (OpenSSL)");
		return false;
	}
	raw_hex(out, sha_r);
	return true;
}

static EVP_MD_CTX *
raw_md_new(GError **error)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();

	if (!md || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "SHA-256 is not available (OpenSSL)");
		return NULL;
	}
	return md;
}

static void
raw_spool_free(struct raw_spool *sp)
{
	if (sp->fd >= 0)
		close(sp->fd);
	EVP_MD_CTX_free(sp->md);
	g_free(sp->buf);
	g_free(sp->path);
	g_free(sp->state_dir);
	g_free(sp);
}

struct raw_spool *
rawstore_spool_new(const char *state_dir, uint64_t max_bytes,
		   GError **error)
{
	g_autofree char *tmp = g_build_filename(state_dir, "tmp", NULL);
	g_autofree char *raw = g_build_filename(state_dir, "raw", NULL);
	struct raw_spool *sp;

	if (!raw_mkdir(tmp, error) || !raw_mkdir(raw, error))
		return NULL;
	sp = g_new0(struct raw_spool, 1);
	sp->fd = -1;
	sp->max = max_bytes;
	sp->state_dir = g_strdup(state_dir);
	sp->md = raw_md_new(error);
	if (!sp->md)
		goto fail;
	sp->path = g_build_filename(tmp, RAW_SPOOL_PREFIX "XXXXXX", NULL);
	/* g_mkstemp_full adds O_CREAT | O_EXCL */
	sp->fd = g_mkstemp_full(sp->path, O_RDWR | O_CLOEXEC | O_NOFOLLOW,
				0600);
	if (sp->fd < 0) {
		raw_set_errno(error, errno, "cannot create a spool file in",
			      tmp);
		goto fail;
	}
	if (flock(sp->fd, LOCK_EX | LOCK_NB) != 0) {
		raw_set_errno(error, errno, "cannot lock", sp->path);
		unlink(sp->path);
		goto fail;
	}
	return sp;
fail:
	raw_spool_free(sp);
	return NULL;
}

static bool
raw_write_all(struct raw_spool *sp, const char *p, size_t len,
	      GError **error)
{
	while (len > 0) {
		ssize_t n = write(sp->fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* write(2) of a regular file returns 0 only when it
			 * cannot write: as good as a full disk */
			sp->broken = true;
			raw_set_errno(error, n < 0 ? errno : ENOSPC, "writing",
				      sp->path);
			return false;
		}
		p += n;
		len -= (size_t)n;
		sp->written += (uint64_t)n;
	}
	if (sp->written - sp->kicked >= RAW_SPOOL_KICK) {
		/* advisory: a failure here changes nothing, fsync decides */
		(void)sync_file_range(sp->fd, (off64_t)sp->kicked,
				      (off64_t)(sp->written - sp->kicked),
				      SYNC_FILE_RANGE_WRITE);
		sp->kicked = sp->written;
	}
	return true;
}

/* Writes what was gathered. */
static bool
raw_flush(struct raw_spool *sp, GError **error)
{
	size_t fill = sp->fill;

	sp->fill = 0;
	return fill == 0 || raw_write_all(sp, sp->buf, fill, error);
}

bool
rawstore_spool_write(const void *buf, size_t len, void *spool,
		     GError **error)
{
	struct raw_spool *sp = spool;

	if (sp->broken) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: an earlier write failed", sp->path);
		return false;
	}
	if (sp->max && (len > sp->max || sp->size > sp->max - len)) {
		sp->broken = true;
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
			    "the message is larger than the limit of %"
			    G_GUINT64_FORMAT " bytes ([limits] "
			    "max_message_bytes)", (guint64)sp->max);
		return false;
	}
	if (EVP_DigestUpdate(sp->md, buf, len) != 1) {
		sp->broken = true;
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "SHA-256 failed (OpenSSL)");
		return false;
	}
	sp->size += len;
	if (len >= INTAKE_IO_BLOCK)
		return raw_flush(sp, error) &&
		       raw_write_all(sp, buf, len, error);
	if (sp->buf == NULL)
		sp->buf = g_malloc(RAW_SPOOL_BUF);
	if (sp->fill + len > RAW_SPOOL_BUF && !raw_flush(sp, error))
		return false;
	memcpy(sp->buf + sp->fill, buf, len);
	sp->fill += len;
	return true;
}

uint64_t
rawstore_spool_size(const struct raw_spool *spool)
{
	return spool->size;
}

static bool
raw_fsync_path(const char *path, GError **error)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	bool ok;

	if (fd < 0) {
		raw_set_errno(error, errno, "cannot open", path);
		return false;
	}
	ok = fsync(fd) == 0;
	if (!ok)
		raw_set_errno(error, errno, "fsync of", path);
	close(fd);
	return ok;
}

/* Moves the spool to dst unless dst exists; *dup_r when it did. */
static bool
raw_place(const char *spool, const char *dst, bool *dup_r, GError **error)
{
	*dup_r = false;
	if (renameat2(AT_FDCWD, spool, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
		return true;
	if (errno == EINVAL || errno == ENOSYS) {
		/* no RENAME_NOREPLACE on this file system: link is
		 * exclusive too */
		if (link(spool, dst) == 0) {
			unlink(spool);
			return true;
		}
	}
	if (errno == EEXIST) {
		*dup_r = true;
		unlink(spool);
		return true;
	}
	raw_set_errno(error, errno, "cannot rename the spool to", dst);
	return false;
}

bool
rawstore_spool_commit(struct raw_spool *sp, char sha_r[SHA256_HEX_LEN + 1],
		      GError **error)
{
	g_autofree char *raw = NULL;
	g_autofree char *aa = NULL;
	g_autofree char *dst = NULL;
	char sha[SHA256_HEX_LEN + 1];
	char sub[3] = { 0 };
	bool ok = false, dup;
	int fd;

	if (sp->broken) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: an earlier write failed", sp->path);
		goto out;
	}
	if (!raw_flush(sp, error))
		goto out;
	if (fsync(sp->fd) != 0) {
		raw_set_errno(error, errno, "fsync of", sp->path);
		goto out;
	}
	fd = sp->fd;
	sp->fd = -1;
	if (close(fd) != 0) {
		raw_set_errno(error, errno, "closing", sp->path);
		goto out;
	}
	if (!raw_md_final(sp->md, sha, error))
		goto out;
	raw = g_build_filename(sp->state_dir, "raw", NULL);
	sub[0] = sha[0];
	sub[1] = sha[1];
	aa = g_build_filename(raw, sub, NULL);
	if (mkdir(aa, 0700) == 0) {
		if (!raw_fsync_path(raw, error))
			goto out;
	} else if (errno != EEXIST) {
		raw_set_errno(error, errno, "cannot create", aa);
		goto out;
	}
	dst = rawstore_path(sp->state_dir, sha);
	if (!raw_place(sp->path, dst, &dup, error) ||
	    !raw_fsync_path(aa, error))
		goto out;
	memcpy(sha_r, sha, sizeof(sha));
	g_clear_pointer(&sp->path, g_free);
	ok = true;
out:
	if (!ok && sp->path)
		unlink(sp->path);
	raw_spool_free(sp);
	return ok;
}

void
rawstore_spool_abort(struct raw_spool *sp)
{
	if (!sp)
		return;
	if (sp->path)
		unlink(sp->path);
	raw_spool_free(sp);
}

static bool
raw_sha_ok(const char *sha)
{
	if (!sha || strlen(sha) != SHA256_HEX_LEN)
		return false;
	for (const char *p = sha; *p; p++)
		if (!g_ascii_isdigit(*p) && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

char *
rawstore_path(const char *state_dir, const char *sha)
{
	if (!raw_sha_ok(sha))
		return NULL;
	return g_strdup_printf("%s/raw/%.2s/%s.eml", state_dir, sha, sha);
}

bool
rawstore_hash_file(const char *path, char sha_r[SHA256_HEX_LEN + 1],
		   GError **error)
{
	g_autofree char *buf = g_malloc(INTAKE_IO_BLOCK);
	EVP_MD_CTX *md;
	bool ok = false;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		raw_set_errno(error, errno, "cannot open", path);
		return false;
	}
	md = raw_md_new(error);
	if (!md)
		goto out;
	for (;;) {
		ssize_t n = read(fd, buf, INTAKE_IO_BLOCK);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			raw_set_errno(error, errno, "reading", path);
			goto out;
		}
		if (n == 0)
			break;
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
				    "SHA-256 failed (OpenSSL)");
			goto out;
		}
	}
	ok = raw_md_final(md, sha_r, error);
out:
	EVP_MD_CTX_free(md);
	close(fd);
	return ok;
}

struct raw_hash {
	EVP_MD_CTX *md;
};

struct raw_hash *
rawstore_hash_new(GError **error)
{
	EVP_MD_CTX *md = raw_md_new(error);
	struct raw_hash *hash;

	if (!md)
		return NULL;
	hash = g_new0(struct raw_hash, 1);
	hash->md = md;
	return hash;
}

bool
rawstore_hash_update(struct raw_hash *hash, const void *buf, size_t len,
		     GError **error)
{
	if (EVP_DigestUpdate(hash->md, buf, len) == 1)
		return true;
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
		    "SHA-256 failed (OpenSSL)");
	return false;
}

bool
rawstore_hash_finish(struct raw_hash *hash, char sha_r[SHA256_HEX_LEN + 1],
		     GError **error)
{
	bool ok = raw_md_final(hash->md, sha_r, error);

	rawstore_hash_free(hash);
	return ok;
}

void
rawstore_hash_free(struct raw_hash *hash)
{
	if (!hash)
		return;
	EVP_MD_CTX_free(hash->md);
	g_free(hash);
}

void
rawstore_cleanup(const char *state_dir)
{
	g_autofree char *tmp = g_build_filename(state_dir, "tmp", NULL);
	struct dirent *de;
	DIR *dir = opendir(tmp);

	if (!dir)
		return;
	while ((de = readdir(dir)) != NULL) {
		int fd;

		if (!g_str_has_prefix(de->d_name, RAW_SPOOL_PREFIX))
			continue;
		fd = openat(dirfd(dir), de->d_name,
			    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
		if (fd < 0) {
			if (errno == ELOOP)
				unlinkat(dirfd(dir), de->d_name, 0);
			continue;
		}
		/* a spool being written holds its lock */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(dir), de->d_name, 0);
		close(fd);
	}
	closedir(dir);
}
