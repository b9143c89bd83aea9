/*
 * test_tnef.c - tnef_extract() over the shared corpus, its bounds, and
 * winmail.dat inside real messages through message_parse() and
 * check_message()
 *
 * Corpus: every mimekit/tnef/NAME.tnef is opened in a forked child
 * (alarm TNEF_ALARM seconds: a crash or a hang in libytnef is counted,
 * it does not end the test) and the attachment names it gives are
 * compared with NAME.list, mimekit's own expectation.  The .list names
 * the message body too (body.rtf, body.html), which is no attachment
 * and is left out; mimekit calls an unnamed attachment "Untitled
 * Attachment", which matches one we had to name ourselves.
 * Disagreements are printed; at least TNEF_AGREE_PCT % must agree.
 * Two samples are known to differ and are checked against names of our
 * own instead (known[] below): mimekit's .list names no attachment for
 * them, while each stream holds named attachments with data (a Word
 * file shows as Word.Document.8 in it); they do not count in the share.
 *
 * $INTAKE_SHARED is the shared directory (default ../shared).
 */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "check.h"
#include "config.h"
#include "fixtures.h"
#include "message.h"
#include "tnef.h"

#define TNEF_ALARM 10
#define TNEF_AGREE_PCT 90
#define TNEF_NAMES_MAX (64 * 1024)

static char *shared_dir;

/* Samples whose .list we do not follow: what we expect instead. */
static const struct {
	const char *file;
	const char *names; /* one a line, as the child prints them */
} known[] = {
	{ "long-filename.tnef", "allproductsmar2000.dat\n" },
	{ "missing-filenames.tnef", "generpts.src\nTechlibDEC99.doc\n"
				    "TechlibDEC99-JAN00.doc\n"
				    "TechlibNOV99.doc\n" },
};

static char *
corpus_path(const char *rel)
{
	return g_build_filename(shared_dir, "corpus", "mime", rel, NULL);
}

static void
limits_defaults(struct limits_config *lim)
{
	config_limits_defaults(lim);
}

/* The child: one line per attachment, "N:name" or "N:?" when unnamed,
 * or "N:!why" (libytnef prints its own complaints on stdout too). */
static int
child_run(const char *path, const char *work)
{
	struct limits_config lim;
	GPtrArray *members = NULL;
	GError *err = NULL;

	limits_defaults(&lim);
	if (!tnef_extract(path, work, &lim, &members, &err)) {
		printf("N:!%s\n", err->message);
		g_error_free(err);
		return 0;
	}
	for (unsigned i = 0; i < members->len; i++) {
		struct tnef_member *m = g_ptr_array_index(members, i);

		printf("N:%s\n", m->named ? m->name : "?");
	}
	g_ptr_array_unref(members);
	return 0;
}

/* Keeps the "N:" lines, without the mark. */
static void
keep_marked(GString *out)
{
	g_auto(GStrv) lines = g_strsplit(out->str, "\n", 10000);

	g_string_truncate(out, 0);
	for (char **l = lines; *l != NULL; l++)
		if (g_str_has_prefix(*l, "N:"))
			g_string_append_printf(out, "%s\n", *l + 2);
}

/* Runs path in a child; returns its exit status (or -signal) and what
 * it printed in *out_r. */
static int
run_child(const char *path, char **out_r)
{
	char *work = g_dir_make_tmp("intake-tnef-XXXXXX", NULL);
	GString *out = g_string_new(NULL);
	int fds[2], wstatus = 0, result = -1000;
	pid_t pid = -1;
	char buf[4096];
	ssize_t n;

	if (work == NULL || pipe(fds) < 0)
		goto out;
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		if (dup2(fds[1], STDOUT_FILENO) < 0)
			_exit(127);
		alarm(TNEF_ALARM);
		g_string_free(out, TRUE);
		child_run(path, work);
		g_free(work);
		fflush(stdout);
		_exit(0);
	}
	close(fds[1]);
	while (pid > 0 && (n = read(fds[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (out->len < TNEF_NAMES_MAX)
			g_string_append_len(out, buf, (gsize)n);
	}
	keep_marked(out);
	close(fds[0]);
	while (pid > 0 && waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
		;
	if (pid > 0)
		result = WIFSIGNALED(wstatus) ? -WTERMSIG(wstatus)
					      : WEXITSTATUS(wstatus);
out:
	if (work != NULL)
		fixtures_remove(work);
	g_free(work);
	*out_r = g_string_free(out, FALSE);
	return result;
}

/* The names of a .list (one a line), without the body's. */
static GPtrArray *
read_list(const char *path)
{
	GPtrArray *names = g_ptr_array_new_with_free_func(g_free);
	g_autofree char *text = NULL;
	g_auto(GStrv) lines = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return names;
	lines = g_strsplit(text, "\n", 1000);
	for (char **l = lines; *l != NULL; l++) {
		g_strchomp(*l);
		if (**l == '\0' || strcmp(*l, "body.rtf") == 0 ||
		    strcmp(*l, "body.html") == 0 ||
		    strcmp(*l, "body.txt") == 0)
			continue;
		g_ptr_array_add(names, g_strdup(*l));
	}
	return names;
}

/* The same names, in any order ("?" matches one "Untitled..."). */
static bool
names_agree(char **got, GPtrArray *want)
{
	g_autofree bool *used = g_new0(bool, want->len + 1);
	unsigned n = 0;

	for (; got[n] != NULL; n++) {
		bool found = false;

		for (unsigned j = 0; j < want->len && !found; j++) {
			const char *w = g_ptr_array_index(want, j);

			if (used[j])
				continue;
			if (strcmp(got[n], "?") == 0
				    ? g_str_has_prefix(w, "Untitled")
				    : strcmp(got[n], w) == 0)
				used[j] = found = true;
		}
		if (!found)
			return false;
	}
	return n == want->len;
}

static int
cmp_names(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
test_corpus(void)
{
	g_autofree char *dir = corpus_path("mimekit/tnef");
	GDir *d = g_dir_open(dir, 0, NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	const char *e;
	unsigned agree = 0, total = 0, crashed = 0;

	T_CHECK("tnef corpus found", d != NULL);
	if (d == NULL) {
		g_ptr_array_unref(files);
		return;
	}
	while ((e = g_dir_read_name(d)) != NULL)
		if (g_str_has_suffix(e, ".tnef"))
			g_ptr_array_add(files, g_strdup(e));
	g_dir_close(d);
	g_ptr_array_sort(files, cmp_names);

	for (unsigned i = 0; i < files->len; i++) {
		const char *f = g_ptr_array_index(files, i);
		g_autofree char *path = g_build_filename(dir, f, NULL);
		g_autofree char *stem = g_strndup(f, strlen(f) - 5);
		g_autofree char *lname = g_strconcat(stem, ".list", NULL);
		g_autofree char *lpath = g_build_filename(dir, lname, NULL);
		g_autoptr(GPtrArray) want = read_list(lpath);
		g_autofree char *out = NULL;
		g_auto(GStrv) got = NULL;
		int rc = run_child(path, &out);
		const char *own = NULL;

		for (size_t k = 0; k < G_N_ELEMENTS(known); k++)
			if (strcmp(f, known[k].file) == 0)
				own = known[k].names;
		if (own != NULL) {
			char name[160];

			g_snprintf(name, sizeof(name), "tnef %s: our names", f);
			T_STREQ(name, rc == 0 ? out : "(crashed)", own);
			continue;
		}
		total++;
		if (rc != 0) {
			crashed++;
			printf("# tnef %s: child ended with %d\n", f, rc);
			continue;
		}
		g_strchomp(out);
		got = *out == '\0' ? g_new0(char *, 1)
				   : g_strsplit(out, "\n", 1000);
		if (got[0] != NULL && got[0][0] == '!') {
			/* refused: agrees when mimekit found nothing */
			if (want->len == 0) {
				agree++;
				continue;
			}
		} else if (names_agree(got, want)) {
			agree++;
			continue;
		}
		printf("# tnef %s disagrees: got [%s], want %u name(s):", f,
		       out, want->len);
		for (unsigned j = 0; j < want->len; j++)
			printf(" \"%s\"", (char *)g_ptr_array_index(want, j));
		printf("\n");
	}
	g_ptr_array_unref(files);

	T_CHECK("tnef corpus: no crash or hang", crashed == 0);
	T_CHECK("tnef corpus: at least 15 samples", total >= 15);
	printf("# tnef corpus: %u of %u agree with mimekit\n", agree, total);
	T_CHECK("tnef corpus: names agree with mimekit (>= 90%)",
		total > 0 && agree * 100 >= total * TNEF_AGREE_PCT);
}

/* Hostile samples, one by one: no crash, a verdict. */
static void
test_hostile(void)
{
	static const char *const files[] = {
		"garbage-at-end.tnef", "panic.tnef",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *rel = g_strconcat("mimekit/tnef/", files[i],
						   NULL);
		g_autofree char *path = corpus_path(rel);
		g_autofree char *out = NULL;
		g_autofree char *name = g_strdup_printf("tnef %s: no crash",
							files[i]);

		T_INTEQ(name, run_child(path, &out), 0);
	}
}

/* The bounds: members and bytes. */
static void
test_limits(void)
{
	static const struct {
		const char *file;
		unsigned members;
		uint64_t bytes;
		bool ok;
		int code;
		unsigned n;
	} cases[] = {
		{ "two-files.tnef", 0, 0, true, 0, 2 },
		{ "two-files.tnef", 2, 0, true, 0, 2 },
		{ "two-files.tnef", 1, 0, false, INTAKE_ERROR_LIMIT, 0 },
		{ "two-files.tnef", 0, 10, false, INTAKE_ERROR_LIMIT, 0 },
		{ "one-file.tnef", 1, 1024 * 1024, true, 0, 1 },
		{ "body.tnef", 0, 0, true, 0, 0 },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *rel = g_strconcat("mimekit/tnef/",
						   cases[i].file, NULL);
		g_autofree char *path = corpus_path(rel);
		g_autofree char *work = g_dir_make_tmp("intake-tnef-XXXXXX",
						       NULL);
		struct limits_config lim;
		GPtrArray *members = NULL;
		GError *err = NULL;
		char name[128];
		bool ok;
		GDir *d;

		limits_defaults(&lim);
		lim.max_archive_members = cases[i].members;
		lim.max_archive_bytes = cases[i].bytes;
		ok = tnef_extract(path, work, &lim, &members, &err);
		g_snprintf(name, sizeof(name), "tnef limits %zu: verdict", i);
		T_CHECK(name, ok == cases[i].ok);
		g_snprintf(name, sizeof(name), "tnef limits %zu: error code",
			   i);
		T_INTEQ(name, err != NULL ? err->code : 0, cases[i].code);
		g_snprintf(name, sizeof(name), "tnef limits %zu: members", i);
		T_INTEQ(name, members != NULL ? members->len : 0, cases[i].n);
		d = g_dir_open(work, 0, NULL);
		g_snprintf(name, sizeof(name),
			   "tnef limits %zu: files left = members", i);
		{
			unsigned left = 0;

			while (d != NULL && g_dir_read_name(d) != NULL)
				left++;
			T_INTEQ(name, left,
				members != NULL ? members->len : 0);
		}
		if (d != NULL)
			g_dir_close(d);
		if (members != NULL)
			g_ptr_array_unref(members);
		g_clear_error(&err);
		fixtures_remove(work);
	}
}

/* Items of a message: "name|type|accepted" joined by "; ". */
static char *
items_of(const char *path, const struct intake_config *cfg)
{
	g_autofree char *work = g_dir_make_tmp("intake-tnef-XXXXXX", NULL);
	struct message *msg;
	GPtrArray *items;
	GError *err = NULL;
	GString *s = g_string_new(NULL);

	msg = message_parse(path, work, &cfg->limits, &err);
	if (msg == NULL) {
		g_string_printf(s, "parse: %s", err->message);
		g_error_free(err);
		fixtures_remove(work);
		return g_string_free(s, FALSE);
	}
	items = check_message(cfg, msg, work, &err);
	if (items == NULL) {
		g_string_printf(s, "check: %s", err->message);
		g_error_free(err);
	}
	for (unsigned i = 0; items != NULL && i < items->len; i++) {
		struct check_item *ci = g_ptr_array_index(items, i);

		g_string_append_printf(s, "%s%s|%d|%d", i ? "; " : "",
				       ci->it.name, (int)ci->it.type,
				       ci->it.accepted);
	}
	if (items != NULL)
		g_ptr_array_unref(items);
	message_free(msg);
	fixtures_remove(work);
	return g_string_free(s, FALSE);
}

/* winmail.dat inside real messages, and the uuencoded fixture. */
static void
test_messages(const char *fixtures)
{
	static const struct {
		const char *rel;  /* under corpus/mime, or "fixture:" */
		const char *want; /* items_of() */
	} cases[] = {
		/* the photo inside winmail.dat accepted; two pasted OLE
		 * pictures refused as what they are */
		{ "mimekit/tnef/rich-text.eml",
		  "kitten-playing-with-a-christmas-tree.jpg|0|1; "
		  "Untitled Attachment|4|0; Untitled Attachment|4|0" },
		/* winmail.dat with only the message's formatting */
		{ "mimekit/tnef/ukr.eml", "" },
		/* "winmail.dat" that is really a 27x27 PNG: judged as one */
		{ "zbateson-mail-mime-parser/m4006.txt", "winmail.dat|0|0" },
		{ "fixture:uuencode.eml", "photo one.jpg|0|0" },
	};
	struct intake_config cfg = { 0 };

	config_rules_defaults(&cfg.rules);
	config_limits_defaults(&cfg.limits);
	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *path = NULL;
		g_autofree char *got = NULL;
		char name[160];

		if (g_str_has_prefix(cases[i].rel, "fixture:"))
			path = g_build_filename(fixtures, cases[i].rel + 8,
						NULL);
		else
			path = corpus_path(cases[i].rel);
		got = items_of(path, &cfg);
		printf("# %s: %s\n", cases[i].rel, got);
		g_snprintf(name, sizeof(name), "message %s: items",
			   cases[i].rel);
		T_STREQ(name, got, cases[i].want);
	}
}

/* An Outlook .msg attached: refused with what to do instead. */
static void
test_outlook_msg(void)
{
	g_autofree char *dir = fixtures_make("outlook msg fixtures");
	g_autofree char *path = NULL;
	g_autofree char *work = g_dir_make_tmp("intake-tnef-XXXXXX", NULL);
	struct intake_config cfg = { 0 };
	GPtrArray *items;
	GError *err = NULL;
	const struct check_item *ci;

	if (dir == NULL)
		return;
	config_rules_defaults(&cfg.rules);
	config_limits_defaults(&cfg.limits);
	path = fixtures_path(dir, "outlook.msg");
	items = check_path(&cfg, "会议纪要.msg", path, work, &err);
	T_CHECK("outlook msg: checked", items != NULL && items->len == 1);
	if (items != NULL && items->len == 1) {
		ci = g_ptr_array_index(items, 0);
		T_CHECK("outlook msg: refused", !ci->it.accepted);
		T_STREQ("outlook msg: reason", ci->it.reason,
			"附件“会议纪要.msg”：Outlook 邮件文件（.msg）无法处理，"
			"请将其中的附件直接作为附件发送");
	}
	if (items != NULL)
		g_ptr_array_unref(items);
	g_clear_error(&err);
	fixtures_remove(work);
	fixtures_remove(dir);
}

int
main(void)
{
	const char *env = getenv("INTAKE_SHARED");

	shared_dir = g_strdup(env != NULL ? env : "../shared");
	message_init();
	test_corpus();
	test_hostile();
	test_limits();
	test_messages("tests/fixtures/mime");
	test_outlook_msg();
	g_free(shared_dir);
	return t_done();
}
