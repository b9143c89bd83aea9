/*
 * test_maildir.c - the Maildir source (maildir.c) on a temporary Maildir,
 * and source_new()'s choice of driver (source.c)
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "imapparse.h"
#include "source.h"
#include "t.h"

static char *top; /* the Maildir */

/* The Maildir's files: path under top, content, mtime. */
static const struct file_case {
	const char *path;
	const char *content;
	int64_t mtime;
} files[] = {
	{ "new/1000.A.host", "first\r\n", 1000 },
	{ "new/1000.0.host", "same second, sorts first\r\n", 1000 },
	{ "cur/900.B.host:2,S", "seen\r\n", 900 },
	{ "cur/1100.C.host:2,FRS", "flagged, answered, seen\r\n", 1100 },
	{ "cur/1200.D.host:2,", "no flags\r\n", 1200 },
	{ "cur/1300.BIG.host", "01234567890123456789012345678901234567\r\n",
	  1300 },
	{ "new/.hidden", "a dotfile\r\n", 1000 },
	{ "tmp/1400.T.host", "still being delivered\r\n", 1400 },
};

/* What list() returns, in order. */
static const struct list_case {
	const char *key;
	bool seen;
	const char *flags;
	int64_t internaldate;
} listed[] = {
	{ "900.B.host", true, "\\Seen", 900 },
	{ "1000.0.host", false, "", 1000 },
	{ "1000.A.host", false, "", 1000 },
	{ "1100.C.host", true, "\\Flagged \\Answered \\Seen", 1100 },
	{ "1200.D.host", false, "", 1200 },
	{ "1300.BIG.host", false, "", 1300 },
};

static char *
path_of(const char *rel)
{
	return g_build_filename(top, rel, NULL);
}

static void
write_file(const char *rel, const char *content, int64_t mtime)
{
	g_autofree char *p = path_of(rel);
	struct timespec ts[2] = { { mtime, 0 }, { mtime, 0 } };

	if (!g_file_set_contents(p, content, -1, NULL) ||
	    utimensat(AT_FDCWD, p, ts, 0) != 0) {
		fprintf(stderr, "cannot write %s\n", p);
		exit(2);
	}
}

static bool
exists(const char *rel)
{
	g_autofree char *p = path_of(rel);

	return g_file_test(p, G_FILE_TEST_EXISTS);
}

static void
make_maildir(void)
{
	static const char *const dirs[] = { "new", "cur", "tmp", "cur/adir" };
	g_autofree char *link = NULL;

	top = g_dir_make_tmp("test_maildir-XXXXXX", NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(dirs); i++) {
		g_autofree char *p = path_of(dirs[i]);

		if (mkdir(p, 0700) != 0)
			exit(2);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		write_file(files[i].path, files[i].content, files[i].mtime);
	link = path_of("cur/1500.L.host");
	if (symlink("/etc/passwd", link) != 0)
		exit(2);
}

static bool
collect(const void *buf, size_t len, void *ctx, GError **error)
{
	(void)error;
	g_string_append_len(ctx, buf, (gssize)len);
	return true;
}

static bool
refuse(const void *buf, size_t len, void *ctx, GError **error)
{
	(void)buf;
	(void)len;
	(void)ctx;
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "disk full");
	return false;
}

static const char *
content_of(const char *key)
{
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++)
		if (g_str_has_prefix(files[i].path + 4, key))
			return files[i].content;
	return NULL;
}

static struct source_msg *
find(GPtrArray *msgs, const char *key)
{
	for (guint i = 0; i < msgs->len; i++) {
		struct source_msg *m = msgs->pdata[i];

		if (strcmp(m->key, key) == 0)
			return m;
	}
	return NULL;
}

static void
test_list(struct source *src)
{
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GPtrArray) recent = NULL;
	g_autoptr(GError) error = NULL;
	struct source_cursor cursor = { 0, 0 };

	T_CHECK("list/ok", src->ops->list(src, &cursor, 0, &msgs, &error));
	if (msgs == NULL)
		return;
	T_INTEQ("list/count", msgs->len, G_N_ELEMENTS(listed));
	for (size_t i = 0; i < G_N_ELEMENTS(listed) && i < msgs->len; i++) {
		const struct list_case *c = &listed[i];
		const struct source_msg *m = msgs->pdata[i];

		T_STREQ(c->key, m->key, c->key);
		T_INTEQ(c->key, m->uid, 0);
		T_CHECK(c->key, m->seen == c->seen);
		T_STREQ(c->key, m->flags, c->flags);
		T_INTEQ(c->key, m->internaldate, c->internaldate);
		T_INTEQ(c->key, m->size, strlen(content_of(c->key)));
	}
	/* since: at or after */
	T_CHECK("list/since", src->ops->list(src, NULL, 1100, &recent, &error));
	T_INTEQ("list/since-count", recent ? recent->len : 0, 3);
	if (recent != NULL && recent->len > 0)
		T_STREQ("list/since-first",
			((struct source_msg *)recent->pdata[0])->key,
			"1100.C.host");
}

static void
test_fetch(struct source *src)
{
	g_autoptr(GPtrArray) msgs = NULL;
	g_autoptr(GError) error = NULL;

	if (!src->ops->list(src, NULL, 0, &msgs, &error))
		return;
	for (guint i = 0; i < msgs->len; i++) {
		struct source_msg *m = msgs->pdata[i];
		g_autoptr(GString) got = g_string_new(NULL);
		g_autoptr(GError) err = NULL;
		bool ok = src->ops->fetch(src, m, collect, got, &err);

		if (m->size > src->cfg->limits.max_message_bytes) {
			T_CHECK("fetch/limit", !ok && err &&
				err->code == INTAKE_ERROR_LIMIT);
			T_INTEQ("fetch/limit-nothing", got->len, 0);
			continue;
		}
		T_CHECK(m->key, ok);
		T_STREQ(m->key, got->str, content_of(m->key));
	}
	{
		/* a mail reader moved it to cur/ with flags meanwhile */
		struct source_msg *m = find(msgs, "1000.A.host");
		g_autoptr(GString) got = g_string_new(NULL);
		g_autofree char *from = path_of("new/1000.A.host");
		g_autofree char *to = path_of("cur/1000.A.host:2,S");

		T_CHECK("fetch/renamed-setup", rename(from, to) == 0);
		T_CHECK("fetch/renamed",
			m && src->ops->fetch(src, m, collect, got, &error));
		T_STREQ("fetch/renamed-content", got->str, "first\r\n");
	}
	{
		static const struct {
			const char *name;
			const char *key;
			int code;
		} bad[] = {
			{ "fetch/gone", "999.GONE.host", INTAKE_ERROR_MESSAGE },
			{ "fetch/slash", "../new/x", INTAKE_ERROR_MESSAGE },
			{ "fetch/dot", ".hidden", INTAKE_ERROR_MESSAGE },
			{ "fetch/empty", "", INTAKE_ERROR_MESSAGE },
			{ "fetch/symlink", "1500.L.host", INTAKE_ERROR_IO },
		};

		for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
			struct source_msg m = { .key = (char *)bad[i].key };
			g_autoptr(GString) got = g_string_new(NULL);
			g_autoptr(GError) err = NULL;

			T_CHECK(bad[i].name,
				!src->ops->fetch(src, &m, collect, got, &err) &&
				err && err->code == bad[i].code);
			T_INTEQ(bad[i].name, got->len, 0);
		}
	}
	{
		struct source_msg *m = find(msgs, "1200.D.host");
		g_autoptr(GError) err = NULL;

		T_CHECK("fetch/sink-fails",
			m && !src->ops->fetch(src, m, refuse, NULL, &err) &&
			err && strcmp(err->message, "disk full") == 0);
	}
	T_CHECK("restore_seen/noop",
		src->ops->restore_seen(src, "1200.D.host", &error));
}

/* mark: where the file is afterwards. */
static const struct mark_case {
	const char *name;
	enum mark_mode mode;
	const char *arg;
	const char *key;
	const char *before; /* file before, under top */
	const char *after;  /* file after, under top (NULL: mark fails) */
	int code;           /* the error's code when it fails */
} mark_cases[] = {
	{ "mark/none", MARK_NONE, NULL, "1200.D.host", "cur/1200.D.host:2,",
	  "cur/1200.D.host:2,", 0 },
	{ "mark/flag-new", MARK_FLAG, "$Filed", "1000.0.host",
	  "new/1000.0.host", "cur/1000.0.host:2,F", 0 },
	{ "mark/flag-again", MARK_FLAG, "$Filed", "1000.0.host",
	  "cur/1000.0.host:2,F", "cur/1000.0.host:2,F", 0 },
	{ "mark/flag-sorted", MARK_FLAG, NULL, "900.B.host",
	  "cur/900.B.host:2,S", "cur/900.B.host:2,FS", 0 },
	{ "mark/flag-empty-info", MARK_FLAG, NULL, "1200.D.host",
	  "cur/1200.D.host:2,", "cur/1200.D.host:2,F", 0 },
	{ "mark/move", MARK_MOVE, "Done", "1100.C.host",
	  "cur/1100.C.host:2,FRS", ".Done/cur/1100.C.host:2,FRS", 0 },
	{ "mark/move-nested-chinese", MARK_MOVE, "已处理/2022", "1000.A.host",
	  "cur/1000.A.host:2,S", ".&XfJZBHQG-.2022/cur/1000.A.host:2,S", 0 },
	{ "mark/move-dot", MARK_MOVE, "a.b", "1300.BIG.host",
	  "cur/1300.BIG.host", NULL, INTAKE_ERROR_CONFIG },
	{ "mark/move-empty", MARK_MOVE, "", "1300.BIG.host",
	  "cur/1300.BIG.host", NULL, INTAKE_ERROR_CONFIG },
	{ "mark/move-parent", MARK_MOVE, "a//b", "1300.BIG.host",
	  "cur/1300.BIG.host", NULL, INTAKE_ERROR_CONFIG },
	{ "mark/gone", MARK_FLAG, NULL, "999.GONE.host", "cur/1300.BIG.host",
	  NULL, INTAKE_ERROR_MESSAGE },
};

static void
test_mark(struct intake_config *cfg, struct source *src)
{
	g_autoptr(GError) e = NULL;
	g_autofree char *enc = imapparse_mutf7_encode("已处理", &e);

	/* the expected Maildir++ name above is what iconv makes of it */
	T_STREQ("mark/mutf7-name", enc, "&XfJZBHQG-");
	for (size_t i = 0; i < G_N_ELEMENTS(mark_cases); i++) {
		const struct mark_case *c = &mark_cases[i];
		g_autoptr(GError) error = NULL;
		bool ok;

		cfg->mark = c->mode;
		cfg->mark_arg = (char *)c->arg;
		T_CHECK(c->name, exists(c->before));
		ok = src->ops->mark(src, c->key, &error);
		if (c->after == NULL) {
			T_CHECK(c->name,
				!ok && error && error->code == c->code);
			T_CHECK(c->name, exists(c->before));
			continue;
		}
		T_CHECK(c->name, ok);
		T_CHECK(c->after, exists(c->after));
		if (strcmp(c->before, c->after) != 0)
			T_CHECK(c->before, !exists(c->before));
	}
	cfg->mark = MARK_NONE;
	cfg->mark_arg = NULL;
}

/* source_new(): the scheme picks the driver. */
static const struct new_case {
	const char *name;
	const char *url;
	const char *driver; /* NULL: refused */
	const char *says;   /* in the error */
} new_cases[] = {
	{ "new/imaps", "imaps://imap.qq.com:993/INBOX", "imap", NULL },
	{ "new/imap", "imap://127.0.0.1/INBOX", "imap", NULL },
	{ "new/imaps-case", "IMAPS://imap.163.com/INBOX", "imap", NULL },
	{ "new/maildir", "maildir:/var/mail/x", "maildir", NULL },
	{ "new/pop3", "pop3://pop.qq.com/", NULL, "unknown scheme" },
	{ "new/http", "https://mail.qq.com/", NULL, "unknown scheme" },
	{ "new/empty", "", NULL, "not set" },
	{ "new/maildir-empty", "maildir:", NULL, "names no directory" },
	{ "new/no-host", "imaps:///INBOX", NULL, "" },
	{ "new/credentials", "imaps://u:secret@imap.qq.com/INBOX", NULL,
	  "username and password_file" },
	{ "new/query", "imaps://imap.qq.com/INBOX?UNSEEN", NULL,
	  "query or fragment" },
};

static void
test_new(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(new_cases); i++) {
		const struct new_case *c = &new_cases[i];
		struct intake_config cfg = { 0 };
		g_autoptr(GError) error = NULL;
		struct source *src;

		cfg.path = (char *)"/etc/intake/intake.conf";
		cfg.mailbox_url = (char *)c->url;
		src = source_new(&cfg, &error);
		if (c->driver != NULL) {
			T_CHECK(c->name, src != NULL && error == NULL);
			T_STREQ(c->name, src ? src->ops->name : NULL,
				c->driver);
		} else {
			T_CHECK(c->name, src == NULL && error != NULL &&
				error->code == INTAKE_ERROR_CONFIG);
			T_CHECK(c->name, error &&
				strstr(error->message, "[mailbox] url") &&
				strstr(error->message, "intake.conf") &&
				strstr(error->message, c->says));
			T_CHECK(c->name, !error ||
				!strstr(error->message, "secret"));
		}
		source_free(src); /* never opened: close() copes */
	}
	source_free(NULL);
}

static void
test_open_errors(void)
{
	static const char *const urls[] = {
		"maildir:/nonexistent/intake-test",
		NULL, /* top/cur: a directory with no cur/ or new/ */
	};

	for (size_t i = 0; i < G_N_ELEMENTS(urls); i++) {
		g_autofree char *url = urls[i]
			? g_strdup(urls[i])
			: g_strconcat("maildir:", top, "/cur", NULL);
		struct intake_config cfg = { .mailbox_url = url };
		g_autoptr(GError) error = NULL;
		struct source *src = source_new(&cfg, &error);
		uint32_t v = 7;

		T_CHECK("open/bad", src && !src->ops->open(src, &v, &error) &&
			error && error->code == INTAKE_ERROR_IO);
		source_free(src);
	}
}

int
main(void)
{
	struct intake_config cfg = { 0 };
	g_autoptr(GError) error = NULL;
	g_autofree char *url = NULL;
	g_autofree char *cmd = NULL;
	struct source *src;
	uint32_t uidvalidity = 42;

	make_maildir();
	url = g_strconcat("maildir:", top, NULL);
	cfg.mailbox_url = url;
	cfg.limits.max_message_bytes = 30;
	src = source_new(&cfg, &error);
	T_CHECK("open/new", src != NULL);
	if (src == NULL)
		return t_done();
	T_CHECK("open/ok", src->ops->open(src, &uidvalidity, &error));
	T_INTEQ("open/uidvalidity", uidvalidity, 0);
	test_list(src);
	test_fetch(src);
	test_mark(&cfg, src);
	source_free(src);
	test_new();
	test_open_errors();
	cmd = g_strdup_printf("rm -rf '%s'", top);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", top);
	g_free(top);
	return t_done();
}
