/*
 * test_jpeg_corpus.c - photo_inspect() on every real JPEG of the corpus
 *
 * Every *.jpg, *.jpeg and *.mpo under $INTAKE_SHARED/corpus/jpeg
 * (default ../shared, from the repository's top) goes through
 * photo_inspect() with the default limits and a thumbnail, each in a
 * forked child with a 10 s alarm, and is compared with what djpeg said
 * (DJPEG_RESULTS.tsv): "ok" must be PHOTO_OK, "warning" and "error" must
 * not be.  No file may crash or hang the child.
 *
 * Output: one PASS line for the whole agreement (or one FAIL line per
 * disagreeing file), one for crashes and hangs, one for the thumbnails,
 * and one per pinned file below.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fixtures.h"
#include "photo.h"
#include "t.h"

#define CORPUS_MAX_FILES 5000
#define CORPUS_MAX_DEPTH 8
#define CORPUS_ALARM 10

/*
 * Files whose class we pin down, with why.  None of these disagrees
 * with djpeg; where a judgement was made, it is said here.
 */
static const struct {
	const char *file;
	enum photo_format format;
	enum photo_damage damage;
	const char *why;
} pins[] = {
	{ "libjpeg-turbo/monkey12.jpg", PHOTO_JPEG, PHOTO_UNSUPPORTED,
	  "12-bit: the 8-bit libjpeg API cannot decode it" },
	{ "jpeg-decoder/reftest/images/lossless/1/jpeg_lossless_sel1.jpg",
	  PHOTO_JPEG, PHOTO_UNSUPPORTED, "lossless (SOF3)" },
	{ "libjpeg-turbo/testimgari.jpg", PHOTO_JPEG, PHOTO_OK,
	  "arithmetic coding: libjpeg-turbo decodes it" },
	{ "jpeg-decoder/crashtest/images/max_size.jpg", PHOTO_JPEG,
	  PHOTO_TOO_LARGE, "65535x65535: over libjpeg's 65500 as well" },
	{ "jpeg-decoder/reftest/images/mozilla/jpg-size-6x6.jpg", PHOTO_PNG,
	  PHOTO_UNSUPPORTED, "a PNG named .jpg: sniffed, not decoded" },
	{ "jpeg-decoder/crashtest/images/empty.jpg", PHOTO_UNKNOWN,
	  PHOTO_UNSUPPORTED, "zero bytes" },
	{ "pillow/truncated_jpeg.jpg", PHOTO_JPEG, PHOTO_DAMAGED,
	  "truncated: a warning is damage" },
	{ "pillow/pil_sample_cmyk.jpg", PHOTO_JPEG, PHOTO_OK,
	  "Adobe CMYK, thumbnail converted to RGB" },
	{ "jpeg-decoder/reftest/images/ycck.jpg", PHOTO_JPEG, PHOTO_OK,
	  "YCCK" },
	{ "jpeg-decoder/reftest/images/progressive-missing-dc.jpg",
	  PHOTO_JPEG, PHOTO_DAMAGED, "progression error is damage" },
	/* A judgement: an MPO (multi-picture, e.g. a 3D camera's pair) is a
	 * JPEG followed by more JPEGs.  Its first picture is an ordinary
	 * JPEG, decoded to its EOI; what follows is not looked at.  djpeg
	 * does the same, and a photo of the event is what the office gets. */
	{ "pillow/sugarshack.mpo", PHOTO_JPEG, PHOTO_OK,
	  "MPO: the first picture is checked" },
};

struct result {
	bool ran;          /* the child reported */
	bool ok;           /* photo_inspect returned true */
	struct photo_facts facts;
};

static const char *
corpus_shared(void)
{
	const char *s = getenv("INTAKE_SHARED");

	return s != NULL && s[0] != '\0' ? s : "../shared";
}

/* file (relative, without "./") -> djpeg status */
static GHashTable *
corpus_load_tsv(const char *path)
{
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;
	GHashTable *h;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	lines = g_strsplit(text, "\n", CORPUS_MAX_FILES + 2);
	for (size_t i = 1; lines[i] != NULL; i++) {
		g_auto(GStrv) f = g_strsplit(lines[i], "\t", 5);
		const char *name;

		if (g_strv_length(f) < 4)
			continue;
		name = g_str_has_prefix(f[0], "./") ? f[0] + 2 : f[0];
		g_hash_table_replace(h, g_strdup(name), g_strdup(f[3]));
	}
	return h;
}

static bool
corpus_is_jpeg_name(const char *name)
{
	g_autofree char *lower = g_ascii_strdown(name, -1);

	return g_str_has_suffix(lower, ".jpg") ||
	       g_str_has_suffix(lower, ".jpeg") ||
	       g_str_has_suffix(lower, ".mpo");
}

/* Relative paths of the JPEGs under top/rel, sorted at the end. */
static void
corpus_walk(const char *top, const char *rel, unsigned depth,
	    GPtrArray *files)
{
	g_autofree char *path = rel[0] ? g_build_filename(top, rel, NULL) :
					 g_strdup(top);
	GDir *d;
	const char *name;

	if (depth > CORPUS_MAX_DEPTH)
		return;
	d = g_dir_open(path, 0, NULL);
	if (d == NULL)
		return;
	while ((name = g_dir_read_name(d)) != NULL &&
	       files->len < CORPUS_MAX_FILES) {
		g_autofree char *sub_rel =
			rel[0] ? g_build_filename(rel, name, NULL) :
				 g_strdup(name);
		g_autofree char *sub = g_build_filename(top, sub_rel, NULL);

		if (g_file_test(sub, G_FILE_TEST_IS_SYMLINK))
			continue;
		if (g_file_test(sub, G_FILE_TEST_IS_DIR))
			corpus_walk(top, sub_rel, depth + 1, files);
		else if (corpus_is_jpeg_name(name))
			g_ptr_array_add(files, g_steal_pointer(&sub_rel));
	}
	g_dir_close(d);
}

static gint
corpus_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* photo_inspect() in a child: a crash or a hang stays there. */
static struct result
corpus_run(const char *path, const char *thumb, int *status_r)
{
	struct result r = { 0 };
	int fds[2];
	pid_t pid;

	*status_r = 0;
	if (pipe(fds) != 0)
		return r;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		close(fds[0]);
		close(fds[1]);
		return r;
	}
	if (pid == 0) {
		struct limits_config lim;
		struct result c = { .ran = true };

		close(fds[0]);
		alarm(CORPUS_ALARM);
		config_limits_defaults(&lim);
		c.ok = photo_inspect(path, &lim, thumb, &c.facts, NULL);
		if (write(fds[1], &c, sizeof(c)) != (ssize_t)sizeof(c))
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	while (waitpid(pid, status_r, 0) < 0 && errno == EINTR)
		;
	if (read(fds[0], &r, sizeof(r)) != (ssize_t)sizeof(r))
		memset(&r, 0, sizeof(r));
	close(fds[0]);
	return r;
}

int
main(void)
{
	g_autofree char *top =
		g_build_filename(corpus_shared(), "corpus", "jpeg", NULL);
	g_autofree char *tsv =
		g_build_filename(top, "DJPEG_RESULTS.tsv", NULL);
	g_autoptr(GHashTable) djpeg = corpus_load_tsv(tsv);
	g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func(g_free);
	g_autoptr(GHashTable) results = g_hash_table_new_full(
		g_str_hash, g_str_equal, NULL, g_free);
	g_autofree char *tmp = g_dir_make_tmp("intake-corpus-XXXXXX", NULL);
	unsigned agree = 0, disagree = 0, crashed = 0, thumbs_bad = 0;
	unsigned unlisted = 0;

	if (djpeg == NULL || tmp == NULL) {
		printf("SKIP jpeg corpus: %s not readable\n", tsv);
		return 0;
	}
	corpus_walk(top, "", 0, files);
	g_ptr_array_sort(files, corpus_cmp);

	for (unsigned i = 0; i < files->len; i++) {
		const char *rel = g_ptr_array_index(files, i);
		g_autofree char *path = g_build_filename(top, rel, NULL);
		g_autofree char *thumb = g_build_filename(tmp, "t.jpg", NULL);
		const char *status = g_hash_table_lookup(djpeg, rel);
		struct result r;
		int wstatus;
		bool ours_ok;

		g_unlink(thumb);
		r = corpus_run(path, thumb, &wstatus);
		if (!r.ran || !WIFEXITED(wstatus) ||
		    WEXITSTATUS(wstatus) != 0) {
			crashed++;
			printf("FAIL jpeg corpus: %s: %s %d\n", rel,
			       WIFSIGNALED(wstatus) ? "killed by signal" :
						      "exit status",
			       WIFSIGNALED(wstatus) ? WTERMSIG(wstatus) :
						      WEXITSTATUS(wstatus));
			continue;
		}
		g_hash_table_insert(results, (gpointer)rel,
				    g_memdup2(&r, sizeof(r)));
		ours_ok = r.ok && r.facts.damage == PHOTO_OK;
		if (ours_ok &&
		    (r.facts.thumb_width == 0 || r.facts.thumb_width > 240 ||
		     !g_file_test(thumb, G_FILE_TEST_IS_REGULAR))) {
			thumbs_bad++;
			printf("FAIL jpeg corpus: %s: no thumbnail\n", rel);
		}
		if (status == NULL) {
			unlisted++;
			continue;
		}
		if (ours_ok == (strcmp(status, "ok") == 0)) {
			agree++;
			continue;
		}
		disagree++;
		printf("FAIL jpeg corpus: %s: djpeg says %s, we say %s "
		       "(damage %d: %s)\n", rel, status,
		       ours_ok ? "ok" : "not ok", r.facts.damage,
		       r.facts.detail);
	}
	fixtures_remove(tmp);

	printf("# %u files, %u agree with djpeg, %u disagree, "
	       "%u not in the TSV\n", files->len, agree, disagree, unlisted);
	T_CHECK("jpeg corpus: every file found", files->len > 0 &&
		files->len == g_hash_table_size(djpeg));
	if (disagree == 0)
		T_CHECK("jpeg corpus: every verdict agrees with djpeg",
			agree > 0);
	else
		t_failed++; /* each disagreement printed its FAIL line */
	if (crashed == 0)
		T_CHECK("jpeg corpus: no crash or hang", true);
	else
		t_failed++;
	if (thumbs_bad == 0)
		T_CHECK("jpeg corpus: a thumbnail for every sound file", true);
	else
		t_failed++;

	for (size_t i = 0; i < G_N_ELEMENTS(pins); i++) {
		const struct result *r =
			g_hash_table_lookup(results, pins[i].file);
		g_autofree char *name =
			g_strdup_printf("jpeg corpus: %s (%s)", pins[i].file,
					pins[i].why);

		T_CHECK(name, r != NULL && r->ok &&
				      r->facts.format == pins[i].format &&
				      r->facts.damage == pins[i].damage);
	}
	return t_done();
}
