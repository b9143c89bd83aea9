/*
 * test_rawstore.c - spooling, hashing and committing raw messages
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "rawstore.h"
#include "t.h"

/* Known SHA-256 values (FIPS 180-2 examples and the empty string). */
struct hash_case {
	const char *name;
	const char *input;
	size_t chunk; /* write in pieces of this size (0: at once) */
	const char *sha;
};

static const struct hash_case hash_cases[] = {
	{ "hash.empty", "", 0,
	  "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "hash.abc", "abc", 0,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "hash.abc_bytewise", "abc", 1,
	  "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "hash.448bits",
	  "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 7,
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "hash.fox", "The quick brown fox jumps over the lazy dog", 5,
	  "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592" },
};

static void
rmtree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *n;

	if (dir) {
		while ((n = g_dir_read_name(dir))) {
			g_autofree char *p = g_build_filename(path, n, NULL);

			if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
				rmtree(p);
			else
				unlink(p);
		}
		g_dir_close(dir);
	}
	rmdir(path);
}

static unsigned
count_entries(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	unsigned n = 0;

	if (!dir)
		return 0;
	while (g_dir_read_name(dir))
		n++;
	g_dir_close(dir);
	return n;
}

/* Spools input in chunks and commits it; sha_r gets the hash. */
static bool
spool_commit(const char *state, const char *input, size_t len, size_t chunk,
	     char sha_r[SHA256_HEX_LEN + 1], GError **error)
{
	struct raw_spool *sp = rawstore_spool_new(state, 0, error);
	size_t off = 0;

	if (!sp)
		return false;
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t n = len - off < chunk ? len - off : chunk;

		if (!rawstore_spool_write(input + off, n, sp, error)) {
			rawstore_spool_abort(sp);
			return false;
		}
		off += n;
	}
	if (rawstore_spool_size(sp) != len) {
		rawstore_spool_abort(sp);
		return false;
	}
	return rawstore_spool_commit(sp, sha_r, error);
}

/* The streaming hash over input in pieces of chunk bytes (0: at once). */
static bool
hash_stream(const char *input, size_t len, size_t chunk,
	    char sha_r[SHA256_HEX_LEN + 1])
{
	struct raw_hash *h = rawstore_hash_new(NULL);
	size_t off = 0;

	if (h == NULL)
		return false;
	if (chunk == 0)
		chunk = len ? len : 1;
	while (off < len) {
		size_t n = MIN(chunk, len - off);

		if (!rawstore_hash_update(h, input + off, n, NULL)) {
			rawstore_hash_free(h);
			return false;
		}
		off += n;
	}
	return rawstore_hash_finish(h, sha_r, NULL);
}

static void
test_hashes(const char *state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(hash_cases); i++) {
		const struct hash_case *c = &hash_cases[i];
		char sha[SHA256_HEX_LEN + 1] = "";
		char fsha[SHA256_HEX_LEN + 1] = "";
		g_autoptr(GError) err = NULL;
		g_autofree char *path = NULL;
		g_autofree char *body = NULL;
		char name[128];
		gsize len = 0;
		bool ok = spool_commit(state, c->input, strlen(c->input),
				       c->chunk, sha, &err);

		snprintf(name, sizeof(name), "%s.commit", c->name);
		T_CHECK(name, ok);
		snprintf(name, sizeof(name), "%s.sha", c->name);
		T_STREQ(name, sha, c->sha);
		path = rawstore_path(state, c->sha);
		snprintf(name, sizeof(name), "%s.placed", c->name);
		T_CHECK(name, g_file_get_contents(path, &body, &len, NULL) &&
			      len == strlen(c->input) &&
			      memcmp(body, c->input, len) == 0);
		snprintf(name, sizeof(name), "%s.hash_file", c->name);
		T_CHECK(name, rawstore_hash_file(path, fsha, NULL) &&
			      strcmp(fsha, c->sha) == 0);
		snprintf(name, sizeof(name), "%s.hash_stream", c->name);
		T_CHECK(name, hash_stream(c->input, strlen(c->input), c->chunk,
					  fsha) &&
			      strcmp(fsha, c->sha) == 0);
	}
}

/*
 * Pieces smaller than INTAKE_IO_BLOCK are gathered before they are
 * written, larger ones are written at once: whatever the mix, the file
 * holds the bytes in order and its hash is the hash of one write.
 */
/* The descriptor of the open spool file (tmp/spool-*), or -1. */
static int
spool_fd(void)
{
	int found = -1;

	for (int fd = 3; fd < 64; fd++) {
		char link[64], target[PATH_MAX];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (strstr(target, "/tmp/spool-"))
				found = fd;
		}
	}
	return found;
}

static const size_t gather_4k[] = { 4096 };
static const size_t gather_odd[] = { 1, 4095, 9999 };
static const size_t gather_mixed[] = { 4096, INTAKE_IO_BLOCK, 100, 200000 };
static const size_t gather_edge[] = { INTAKE_IO_BLOCK - 1, INTAKE_IO_BLOCK,
				      1 };

static const struct gather_case {
	const char *name;
	size_t total;
	const size_t *pieces; /* used in turn, again and again */
	size_t n_pieces;
} gather_cases[] = {
	{ "gather.4k", 1024 * 1024 + 123, gather_4k, 1 },
	{ "gather.odd", 700001, gather_odd, 3 },
	{ "gather.mixed", 3 * 1024 * 1024, gather_mixed, 4 },
	{ "gather.edge", 512 * 1024, gather_edge, 3 },
	/* past RAW_SPOOL_KICK twice: writeback is started on the way */
	{ "gather.kick", 20 * 1024 * 1024 + 1, gather_mixed, 4 },
};

static void
test_gather(const char *state)
{
	for (size_t i = 0; i < G_N_ELEMENTS(gather_cases); i++) {
		const struct gather_case *c = &gather_cases[i];
		g_autofree char *data = g_malloc(c->total);
		g_autofree char *path = NULL, *body = NULL;
		char sha[SHA256_HEX_LEN + 1] = "", one[SHA256_HEX_LEN + 1] = "";
		struct raw_spool *sp = rawstore_spool_new(state, 0, NULL);
		bool ok = sp != NULL;
		size_t off = 0, k = 0;
		gsize len = 0;
		char name[128];

		for (size_t j = 0; j < c->total; j++)
			data[j] = (char)(j * 31 + j / 4093 + i);
		while (ok && off < c->total) {
			size_t n = c->pieces[k++ % c->n_pieces];

			n = MIN(n, c->total - off);

			ok = rawstore_spool_write(data + off, n, sp, NULL);
			off += n;
		}
		snprintf(name, sizeof(name), "%s.size", c->name);
		T_CHECK(name, ok && rawstore_spool_size(sp) == c->total);
		snprintf(name, sizeof(name), "%s.commit", c->name);
		T_CHECK(name, ok && rawstore_spool_commit(sp, sha, NULL));
		if (!ok)
			rawstore_spool_abort(sp);
		path = rawstore_path(state, sha);
		snprintf(name, sizeof(name), "%s.bytes", c->name);
		T_CHECK(name, path != NULL &&
			      g_file_get_contents(path, &body, &len, NULL) &&
			      len == c->total &&
			      memcmp(body, data, len) == 0);
		/* the same bytes in one write: the same name, no new file */
		snprintf(name, sizeof(name), "%s.sha", c->name);
		T_CHECK(name, spool_commit(state, data, c->total, 0, one,
					   NULL) && strcmp(sha, one) == 0);
	}
}

int
main(void)
{
	g_autofree char *state = g_dir_make_tmp("rawstore-XXXXXX", NULL);
	g_autofree char *tmpdir = g_build_filename(state, "tmp", NULL);
	char sha[SHA256_HEX_LEN + 1], sha2[SHA256_HEX_LEN + 1];
	const char *abc = "ba7816bf8f01cfea414140de5dae2223"
			  "b00361a396177a9cb410ff61f20015ad";
	struct stat st;

	test_hashes(state);
	test_gather(state);
	{
		struct raw_hash *h = rawstore_hash_new(NULL);

		T_CHECK("hash_stream.abandoned",
			h != NULL && rawstore_hash_update(h, "abc", 3, NULL));
		rawstore_hash_free(h);
		rawstore_hash_free(NULL);
	}

	{
		g_autofree char *p = rawstore_path("/var/lib/intake", abc);
		g_autofree char *want = g_strdup_printf(
			"/var/lib/intake/raw/ba/%s.eml", abc);

		T_STREQ("path.shape", p, want);
		T_CHECK("path.refuses_traversal",
			rawstore_path("/s", "../../etc/passwd") == NULL);
		T_CHECK("path.refuses_upper_case",
			rawstore_path("/s", "BA7816BF8F01CFEA414140DE5DAE2223"
					    "B00361A396177A9CB410FF61F20015AD")
				== NULL);
		T_CHECK("path.refuses_short",
			rawstore_path("/s", "ba7816") == NULL);
	}

	/* modes: raw/ private, files 0600 */
	{
		g_autofree char *p = rawstore_path(state, abc);
		g_autofree char *raw = g_build_filename(state, "raw", NULL);

		T_CHECK("mode.file", stat(p, &st) == 0 &&
				     (st.st_mode & 0777) == 0600);
		T_CHECK("mode.raw_dir", stat(raw, &st) == 0 &&
					(st.st_mode & 0777) == 0700);
	}

	/* the same bytes again: same hash, one file, no spool left */
	{
		g_autoptr(GError) err = NULL;
		g_autofree char *p = rawstore_path(state, abc);
		g_autofree char *dir = g_path_get_dirname(p);
		struct stat st1;

		stat(p, &st1);
		T_CHECK("duplicate.commit",
			spool_commit(state, "abc", 3, 0, sha, &err));
		T_STREQ("duplicate.sha", sha, abc);
		T_INTEQ("duplicate.one_file", count_entries(dir), 1);
		T_CHECK("duplicate.not_rewritten",
			stat(p, &st) == 0 && st.st_ino == st1.st_ino);
		T_INTEQ("duplicate.spool_removed", count_entries(tmpdir), 0);
	}

	/* the limit: exactly max is fine, one byte more is refused */
	{
		g_autoptr(GError) err = NULL;
		struct raw_spool *sp = rawstore_spool_new(state, 10, &err);

		T_CHECK("limit.exact", sp &&
			rawstore_spool_write("0123456789", 10, sp, &err) &&
			rawstore_spool_commit(sp, sha, &err));
		sp = rawstore_spool_new(state, 10, NULL);
		T_CHECK("limit.under", sp &&
			rawstore_spool_write("01234", 5, sp, NULL));
		T_CHECK("limit.over", !rawstore_spool_write("56789X", 6, sp,
							    &err));
		T_CHECK("limit.code",
			g_error_matches(err, INTAKE_ERROR,
					INTAKE_ERROR_LIMIT));
		T_CHECK("limit.message", err &&
			strstr(err->message, "max_message_bytes") &&
			strstr(err->message, "10 bytes"));
		g_clear_error(&err);
		T_CHECK("limit.no_commit",
			!rawstore_spool_commit(sp, sha, &err));
		T_INTEQ("limit.spool_removed", count_entries(tmpdir), 0);
	}

	/* abort removes the spool */
	{
		struct raw_spool *sp = rawstore_spool_new(state, 0, NULL);

		T_CHECK("abort.spooled", sp &&
			rawstore_spool_write("x", 1, sp, NULL) &&
			count_entries(tmpdir) == 1);
		rawstore_spool_abort(sp);
		T_INTEQ("abort.removed", count_entries(tmpdir), 0);
	}

	/* a large message in uneven pieces: hash equals hash_file */
	{
		size_t len = 3 * INTAKE_IO_BLOCK + 12345;
		g_autofree char *big = g_malloc(len);
		g_autofree char *p = NULL;

		for (size_t i = 0; i < len; i++)
			big[i] = (char)(i * 7 + i / 251);
		T_CHECK("large.commit",
			spool_commit(state, big, len, 10007, sha, NULL));
		p = rawstore_path(state, sha);
		T_CHECK("large.hash_file", rawstore_hash_file(p, sha2, NULL) &&
					   strcmp(sha, sha2) == 0);
		T_CHECK("large.size", stat(p, &st) == 0 &&
				      (size_t)st.st_size == len);
	}

	/* cleanup: stale spool files go, a live spool and others stay */
	{
		g_autofree char *stale =
			g_build_filename(tmpdir, "spool-stale1", NULL);
		g_autofree char *other = g_build_filename(tmpdir, "work-part",
							  NULL);
		struct raw_spool *live = rawstore_spool_new(state, 0, NULL);

		g_file_set_contents(stale, "half a message", -1, NULL);
		g_file_set_contents(other, "not ours", -1, NULL);
		rawstore_spool_write("live", 4, live, NULL);
		rawstore_cleanup(state);
		T_CHECK("cleanup.stale_removed",
			!g_file_test(stale, G_FILE_TEST_EXISTS));
		T_CHECK("cleanup.others_kept",
			g_file_test(other, G_FILE_TEST_EXISTS));
		T_INTEQ("cleanup.live_kept", count_entries(tmpdir), 2);
		T_CHECK("cleanup.live_commits",
			rawstore_spool_commit(live, sha, NULL));
		unlink(other);
		rawstore_cleanup(state); /* nothing left: harmless */
		T_INTEQ("cleanup.empty", count_entries(tmpdir), 0);
	}

	/* errors */
	{
		g_autoptr(GError) err = NULL;
		g_autofree char *file = g_build_filename(state, "plainfile",
							 NULL);

		T_CHECK("hash_file.missing",
			!rawstore_hash_file("/nonexistent/x.eml", sha, &err));
		T_CHECK("hash_file.missing_code",
			g_error_matches(err, INTAKE_ERROR, INTAKE_ERROR_IO) &&
			strstr(err->message, "/nonexistent/x.eml"));
		g_clear_error(&err);
		g_file_set_contents(file, "x", -1, NULL);
		T_CHECK("spool_new.bad_state_dir",
			rawstore_spool_new(file, 0, &err) == NULL && err &&
			err->code == INTAKE_ERROR_IO);
	}

	/* a full disk: ENOSPC is an I/O error with its text */
	if (access("/dev/full", W_OK) == 0) {
		g_autoptr(GError) err = NULL;
		struct raw_spool *sp = rawstore_spool_new(state, 0, NULL);
		g_autofree char *big = g_malloc0(INTAKE_IO_BLOCK);
		/* swap the spool's fd for /dev/full, which fails writes with
		 * ENOSPC */
		int full = open("/dev/full", O_WRONLY | O_CLOEXEC);
		int found = sp ? spool_fd() : -1;

		if (found >= 0 && full >= 0)
			dup2(full, found);
		T_CHECK("enospc.write",
			found >= 0 && !rawstore_spool_write(big,
							    INTAKE_IO_BLOCK,
							    sp, &err));
		T_CHECK("enospc.message",
			g_error_matches(err, INTAKE_ERROR, INTAKE_ERROR_IO) &&
			strstr(err->message, g_strerror(ENOSPC)));
		rawstore_spool_abort(sp);
		if (full >= 0)
			close(full);
		/* small pieces are gathered: the commit meets the full disk,
		 * fails and leaves no spool file behind */
		g_clear_error(&err);
		sp = rawstore_spool_new(state, 0, NULL);
		found = sp ? spool_fd() : -1;
		full = open("/dev/full", O_WRONLY | O_CLOEXEC);
		if (found >= 0 && full >= 0)
			dup2(full, found);
		T_CHECK("enospc.gathered_write",
			found >= 0 && rawstore_spool_write(big, 4096, sp,
							   NULL));
		T_CHECK("enospc.gathered_commit",
			!rawstore_spool_commit(sp, sha, &err) &&
			g_error_matches(err, INTAKE_ERROR, INTAKE_ERROR_IO) &&
			strstr(err->message, g_strerror(ENOSPC)));
		T_INTEQ("enospc.spool_removed", count_entries(tmpdir), 0);
		if (full >= 0)
			close(full);
	} else {
		printf("SKIP rawstore.enospc: no /dev/full\n");
	}

	rmtree(state);
	return t_done();
}
