/*
 * test_config.c - intake.conf and units.conf: every error names the file,
 * the group and the key; good files give the values and the defaults
 *
 * Runs from the project's top directory (tests/run does): it reads
 * tests/fixtures/config/ and the config/ examples.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "t.h"

#define MAILDIR "[mailbox]\nurl = maildir:/tmp/mail\n"
#define IMAP                                                           \
	"[mailbox]\nurl = imaps://imap.qq.com:993/INBOX\n"             \
	"username = 7263441@qq.com\npassword_file = imap.secret\n"
#define STORAGE "[storage]\nstate_dir = /tmp/state\nunits_file = units.conf\n"
#define GOOD MAILDIR STORAGE

struct bad_case {
	const char *name;
	const char *text;
	const char *where;  /* "[group] key" (or "[group]"); NULL: none */
	const char *phrase; /* what is wrong */
};

static const struct bad_case bad_cases[] = {
	{ "rules.six", GOOD "[rules]\nphoto_max = six\n",
	  "[rules] photo_max: ", "\"six\" is not a whole number" },
	{ "rules.zero", GOOD "[rules]\nphoto_max = 0\n",
	  "[rules] photo_max: ", "out of range" },
	{ "rules.negative", GOOD "[rules]\nphoto_max = -1\n",
	  "[rules] photo_max: ", "not a whole number" },
	{ "rules.fraction", GOOD "[rules]\nphoto_min_long = 1024.5\n",
	  "[rules] photo_min_long: ", "not a whole number" },
	{ "rules.short_gt_long",
	  GOOD "[rules]\nphoto_min_long = 800\nphoto_min_short = 900\n",
	  "[rules] photo_min_short: ", "larger than photo_min_long" },
	{ "rules.caption", GOOD "[rules]\nphoto_caption = maybe\n",
	  "[rules] photo_caption: ", "not required or optional" },
	{ "rules.bool", GOOD "[rules]\nvideo_required = yes\n",
	  "[rules] video_required: ", "not true or false" },
	{ "rules.link_scheme",
	  GOOD "[rules]\nlink_prefixes = ftp://pan.example.gov.cn/s/\n",
	  "[rules] link_prefixes: ",
	  "\"ftp://pan.example.gov.cn/s/\" does not start with https:// or "
	  "http://" },
	{ "rules.link_no_scheme",
	  GOOD "[rules]\nlink_prefixes = pan.example.gov.cn/s/\n",
	  "[rules] link_prefixes: ", "does not start with https://" },
	{ "rules.link_no_host", GOOD "[rules]\nlink_prefixes = https:///s/\n",
	  "[rules] link_prefixes: ", "\"https:///s/\" has no host name" },
	{ "rules.link_bare_scheme", GOOD "[rules]\nlink_prefixes = http://\n",
	  "[rules] link_prefixes: ", "has no host name" },
	{ "rules.link_port_only",
	  GOOD "[rules]\nlink_prefixes = https://:8443/s/\n",
	  "[rules] link_prefixes: ", "has no host name" },
	{ "rules.link_userinfo",
	  GOOD "[rules]\nlink_prefixes = https://u@pan.example.gov.cn/s/\n",
	  "[rules] link_prefixes: ", "contains a user name" },
	{ "rules.link_bad_host",
	  GOOD "[rules]\nlink_prefixes = https://pan_example!gov/s/\n",
	  "[rules] link_prefixes: ", "has an invalid host name" },
	{ "rules.link_space",
	  GOOD "[rules]\nlink_prefixes = https://pan.example.gov.cn/s /\n",
	  "[rules] link_prefixes: ", "cannot be in a link" },
	{ "rules.link_quote",
	  GOOD "[rules]\nlink_prefixes = https://pan.example.gov.cn/\"s\n",
	  "[rules] link_prefixes: ", "cannot be in a link" },
	{ "rules.link_non_ascii",
	  GOOD "[rules]\nlink_prefixes = https://网盘.example.cn/s/\n",
	  "[rules] link_prefixes: ", "non-ASCII" },
	{ "rules.link_second_bad",
	  GOOD "[rules]\nlink_prefixes = https://pan.example.gov.cn/s/;"
	  "https://pan.example.gov.cn.;pan2.example.gov.cn\n",
	  "[rules] link_prefixes: ",
	  "\"pan2.example.gov.cn\" does not start with https://" },
	{ "rules.unknown_key", GOOD "[rules]\nphoto_maxx = 6\n",
	  "[rules] photo_maxx: ", "unknown key" },
	{ "unknown_group", GOOD "[rulez]\nphoto_max = 6\n",
	  "[rulez]: ", "unknown group" },
	{ "duplicate_group", GOOD "[rules]\nphoto_max = 6\n[rules]\n",
	  "[rules]: ", "appears twice" },
	{ "syntax", GOOD "this line is garbage\n", NULL, "garbage" },
	{ "locale_key", GOOD "[campaign]\nname[zh_CN] = x\n",
	  "[campaign] name[zh_CN]: ", "unknown key" },
	{ "control_char", GOOD "[campaign]\nname = a\\tb\n",
	  "[campaign] name: ", "control character" },
	{ "mailbox.no_group", STORAGE, "[mailbox] url: ", "missing" },
	{ "mailbox.no_url", "[mailbox]\nusername = a\n" STORAGE,
	  "[mailbox] url: ", "missing" },
	{ "mailbox.empty_url", "[mailbox]\nurl =\n" STORAGE,
	  "[mailbox] url: ", "missing" },
	{ "mailbox.scheme", "[mailbox]\nurl = http://imap.qq.com/\n" STORAGE,
	  "[mailbox] url: ", "does not start with imaps://, imap://" },
	{ "mailbox.no_host", "[mailbox]\nurl = imaps:///INBOX\nusername = u\n"
	  "password_file = imap.secret\n" STORAGE,
	  "[mailbox] url: ", "no host name" },
	{ "mailbox.userinfo",
	  "[mailbox]\nurl = imaps://u:p@imap.qq.com/INBOX\nusername = u\n"
	  "password_file = imap.secret\n" STORAGE,
	  "[mailbox] url: ", "contains a user name" },
	{ "mailbox.maildir_relative",
	  "[mailbox]\nurl = maildir:mail\n" STORAGE,
	  "[mailbox] url: ", "must be absolute" },
	{ "mailbox.no_username",
	  "[mailbox]\nurl = imaps://imap.qq.com:993/INBOX\n" STORAGE,
	  "[mailbox] username: ", "missing" },
	{ "mailbox.no_password",
	  "[mailbox]\nurl = imap://127.0.0.1/INBOX\nusername = u\n" STORAGE,
	  "[mailbox] password_file: ", "CREDENTIALS_DIRECTORY/imap" },
	{ "mailbox.password_missing",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = nonexistent.secret\n" STORAGE,
	  "[mailbox] password_file: ", "No such file or directory" },
	{ "mailbox.password_open",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = open.secret\n" STORAGE,
	  "[mailbox] password_file: ", "(mode 0644): chmod 600" },
	{ "mailbox.password_empty",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = empty.secret\n" STORAGE,
	  "[mailbox] password_file: ", "is empty" },
	{ "mailbox.password_newline_only",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = newline.secret\n" STORAGE,
	  "[mailbox] password_file: ", "is empty" },
	{ "mailbox.password_two_lines",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = twoline.secret\n" STORAGE,
	  "[mailbox] password_file: ", "more than one line" },
	{ "mailbox.password_dir",
	  "[mailbox]\nurl = imaps://h/INBOX\nusername = u\n"
	  "password_file = dir.secret\n" STORAGE,
	  "[mailbox] password_file: ", "not a regular file" },
	{ "mailbox.ca_missing", IMAP "ca_file = nonexistent.pem\n" STORAGE,
	  "[mailbox] ca_file: ", "No such file or directory" },
	{ "mailbox.poll_small", MAILDIR "poll_interval = 5\n" STORAGE,
	  "[mailbox] poll_interval: ", "out of range (10 to" },
	{ "mailbox.mark_unknown", MAILDIR "mark = archive\n" STORAGE,
	  "[mailbox] mark: ", "not none, flag, flag:KEYWORD or move:FOLDER" },
	{ "mailbox.mark_empty_folder", MAILDIR "mark = move:\n" STORAGE,
	  "[mailbox] mark: ", "folder name is empty" },
	{ "mailbox.mark_bad_keyword", MAILDIR "mark = flag:a b\n" STORAGE,
	  "[mailbox] mark: ", "keyword must be" },
	{ "mailbox.mark_paren_keyword", MAILDIR "mark = flag:(x)\n" STORAGE,
	  "[mailbox] mark: ", "keyword must be" },
	{ "mailbox.insecure", MAILDIR "allow_insecure = 1\n" STORAGE,
	  "[mailbox] allow_insecure: ", "not true or false" },
	{ "mailbox.authserv_space", MAILDIR "authserv_id = mx qq.com\n"
	  STORAGE, "[mailbox] authserv_id: ", "not a server name" },
	{ "mailbox.authserv_semicolon", MAILDIR "authserv_id = mx.qq.com;\n"
	  STORAGE, "[mailbox] authserv_id: ", "not a server name" },
	{ "mailbox.authserv_cjk", MAILDIR "authserv_id = 邮件服务器\n"
	  STORAGE, "[mailbox] authserv_id: ", "not a server name" },
	{ "smtp.no_from", GOOD "[smtp]\nurl = smtps://smtp.qq.com:465\n",
	  "[smtp] from: ", "missing" },
	{ "smtp.bad_from",
	  GOOD "[smtp]\nurl = smtps://smtp.qq.com:465\nfrom = the office\n",
	  "[smtp] from: ", "address" },
	{ "smtp.two_from",
	  GOOD "[smtp]\nurl = smtps://smtp.qq.com:465\n"
	  "from = a@x.cn, b@y.cn\n",
	  "[smtp] from: ", "not one address" },
	{ "smtp.scheme",
	  GOOD "[smtp]\nurl = imaps://smtp.qq.com:465\nfrom = a@x.cn\n",
	  "[smtp] url: ", "does not start with smtps://, smtp://" },
	{ "smtp.keys_without_url", GOOD "[smtp]\nusername = a@x.cn\n",
	  "[smtp] url: ", "missing, but [smtp] username is set" },
	{ "smtp.no_password",
	  GOOD "[smtp]\nurl = smtps://smtp.qq.com:465\nusername = a@x.cn\n"
	  "from = a@x.cn\n",
	  "[smtp] password_file: ", "CREDENTIALS_DIRECTORY/smtp" },
	{ "smtp.helo",
	  GOOD "[smtp]\nurl = smtp://127.0.0.1:25/\nfrom = a@x.cn\n"
	  "helo = bad helo!\n",
	  "[smtp] helo: ", "not a host name" },
	{ "campaign.no_offset",
	  GOOD "[campaign]\ndeadline = 2022-10-10T23:59:59\n",
	  "[campaign] deadline: ", "add one, e.g. +08:00" },
	{ "campaign.not_a_date", GOOD "[campaign]\nstart = 10月10日\n",
	  "[campaign] start: ", "not an ISO 8601 date" },
	{ "campaign.order",
	  GOOD "[campaign]\nstart = 2022-10-11T00:00:00+08:00\n"
	  "deadline = 2022-10-10T23:59:59+08:00\n",
	  "[campaign] deadline: ",
	  "2022-10-10T23:59:59+08:00 is not after [campaign] start" },
	{ "campaign.late_policy", GOOD "[campaign]\nlate_policy = maybe\n",
	  "[campaign] late_policy: ", "not accept or refuse" },
	{ "campaign.grace_unit", GOOD "[campaign]\ngrace = 2x\n",
	  "[campaign] grace: ", "not a duration" },
	{ "campaign.grace_long", GOOD "[campaign]\ngrace = 100d\n",
	  "[campaign] grace: ", "at most 90 days" },
	{ "campaign.grace_negative", GOOD "[campaign]\ngrace = -5\n",
	  "[campaign] grace: ", "not a duration" },
	{ "campaign.digest_to", GOOD "[campaign]\ndigest_to = office\n",
	  "[campaign] digest_to: ", "not an address" },
	{ "storage.no_group", MAILDIR, "[storage] state_dir: ", "missing" },
	{ "storage.no_state_dir",
	  MAILDIR "[storage]\nunits_file = units.conf\n",
	  "[storage] state_dir: ", "missing" },
	{ "storage.relative", MAILDIR "[storage]\nstate_dir = state\n",
	  "[storage] state_dir: ", "not an absolute path" },
	{ "storage.units_missing",
	  MAILDIR "[storage]\nstate_dir = /tmp/s\nunits_file = none.conf\n",
	  "[storage] units_file: ", "No such file or directory" },
	{ "storage.unknown", GOOD "[limits]\nmax_parts = 10\n"
	  "[storage2]\nx = 1\n", "[storage2]: ", "unknown group" },
	{ "limits.zero", GOOD "[limits]\nmax_parts = 0\n",
	  "[limits] max_parts: ", "out of range" },
	{ "limits.suffix", GOOD "[limits]\nmax_message_bytes = 100MB\n",
	  "[limits] max_message_bytes: ", "\"100MB\" is not a whole number" },
	{ "limits.overflow",
	  GOOD "[limits]\nmax_decoded_bytes = 99999999999999999999999\n",
	  "[limits] max_decoded_bytes: ", "out of range" },
	{ "limits.header_gt_message",
	  GOOD "[limits]\nmax_message_bytes = 2048\nmax_header_bytes = 4096\n",
	  "[limits] max_header_bytes: ", "larger than max_message_bytes" },
	{ "limits.unknown", GOOD "[limits]\nmax_partz = 10\n",
	  "[limits] max_partz: ", "unknown key" },
	{ "limits.worker_memory", GOOD "[limits]\nworker_memory = 1024\n",
	  "[limits] worker_memory: ", "out of range" },
};

struct unit_case {
	const char *name;
	const char *text;
	const char *where;
	const char *phrase;
};

static const struct unit_case unit_cases[] = {
	{ "units.unknown_key", "[福州]\nadress = a@b.cn\n",
	  "[福州] adress: ", "unknown key" },
	{ "units.bad_address", "[福州]\naddresses = not-an-address\n",
	  "[福州] addresses: ", "\"not-an-address\" is not an address" },
	{ "units.two_at", "[福州]\naddresses = a@b@c.cn\n",
	  "[福州] addresses: ", "is not an address" },
	{ "units.space", "[福州]\naddresses = a b@c.cn\n",
	  "[福州] addresses: ", "is not an address" },
	{ "units.angle", "[福州]\naddresses = Name <a@c.cn>\n",
	  "[福州] addresses: ", "is not an address" },
	{ "units.alias_twice",
	  "[福州市局]\naliases = 福州\n[福州市市场监管局]\naliases = 福州\n",
	  "[福州市市场监管局] aliases: ",
	  "also a name or alias of [福州市局]" },
	{ "units.alias_is_name",
	  "[福州市局]\n[福州市市场监管局]\naliases = 福州市局\n",
	  "[福州市市场监管局] aliases: ", "of [福州市局]" },
	{ "units.alias_case_width",
	  "[ABC局]\n[其他]\naliases = ａｂｃ局\n",
	  "[其他] aliases: ", "of [ABC局]" },
	{ "units.none", "# nobody\n", NULL, "no units" },
	{ "units.folder_name", "[a/b]\n", "[a/b]: ",
	  "cannot be a folder name" },
	{ "units.dot_name", "[.hidden]\n", "[.hidden]: ",
	  "cannot be a folder name" },
	{ "units.duplicate", "[福州]\n[厦门]\n[福州]\n", "[福州]: ",
	  "appears twice" },
	{ "units.syntax", "[福州]\nnonsense\n", NULL, "nonsense" },
};

static char *tdir;

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

static void
write_file(const char *name, const char *text, mode_t mode)
{
	g_autofree char *p = g_build_filename(tdir, name, NULL);

	g_file_set_contents(p, text, -1, NULL);
	chmod(p, mode);
}

static char *
copy_fixture(const char *from, const char *name)
{
	g_autofree char *text = NULL;
	char *to = g_build_filename(tdir, name, NULL);

	if (!g_file_get_contents(from, &text, NULL, NULL)) {
		printf("FAIL fixture %s: cannot read (run from the top)\n",
		       from);
		exit(1);
	}
	g_file_set_contents(to, text, -1, NULL);
	return to;
}

static void
check_error(const char *name, const GError *err, const char *file,
	    const char *where, const char *phrase)
{
	char n[160];

	snprintf(n, sizeof(n), "%s.code", name);
	T_CHECK(n, err && err->domain == INTAKE_ERROR &&
		   err->code == INTAKE_ERROR_CONFIG);
	snprintf(n, sizeof(n), "%s.file", name);
	T_CHECK(n, err && g_str_has_prefix(err->message, file));
	if (where) {
		snprintf(n, sizeof(n), "%s.where", name);
		T_CHECK(n, err && strstr(err->message, where));
	}
	snprintf(n, sizeof(n), "%s.phrase", name);
	T_CHECK(n, err && strstr(err->message, phrase));
	if (err && g_getenv("T_VERBOSE"))
		printf("# %s\n", err->message);
}

static void
test_bad(void)
{
	g_autofree char *path = g_build_filename(tdir, "case.conf", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		g_autoptr(GError) err = NULL;
		struct intake_config *cfg;
		char n[160];

		g_file_set_contents(path, c->text, -1, NULL);
		cfg = config_load(path, &err);
		snprintf(n, sizeof(n), "bad.%s", c->name);
		T_CHECK(n, cfg == NULL);
		config_free(cfg);
		check_error(n, err, path, c->where, c->phrase);
	}
	{
		g_autoptr(GError) err = NULL;

		T_CHECK("bad.no_file", !config_load("/nonexistent/intake.conf",
						    &err));
		check_error("bad.no_file", err, "/nonexistent/intake.conf",
			    NULL, "cannot read");
	}
}

static void
test_bad_units(void)
{
	g_autofree char *path = g_build_filename(tdir, "case-units.conf",
						 NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(unit_cases); i++) {
		const struct unit_case *c = &unit_cases[i];
		g_autoptr(GError) err = NULL;
		struct intake_config cfg = { 0 };
		char n[160];

		g_file_set_contents(path, c->text, -1, NULL);
		snprintf(n, sizeof(n), "bad.%s", c->name);
		T_CHECK(n, !config_load_units(&cfg, path, &err) &&
			   cfg.units == NULL && cfg.n_units == 0);
		check_error(n, err, path, c->where, c->phrase);
		g_ptr_array_unref(cfg.warnings);
	}
}

static bool
has_warning(const struct intake_config *cfg, const char *a, const char *b)
{
	for (guint i = 0; i < cfg->warnings->len; i++) {
		const char *w = g_ptr_array_index(cfg->warnings, i);

		if (strstr(w, a) && strstr(w, b))
			return true;
	}
	return false;
}

static void
test_fixture(void)
{
	g_autofree char *conf = copy_fixture(
		"tests/fixtures/config/intake.conf", "intake.conf");
	g_autofree char *units = copy_fixture(
		"tests/fixtures/config/units.conf", "units.conf");
	g_autofree char *want_units = g_build_filename(tdir, "units.conf",
						       NULL);
	g_autofree char *want_tpl = g_build_filename(tdir, "templates", NULL);
	g_autoptr(GError) err = NULL;
	g_autofree char *start = NULL, *deadline = NULL;
	struct intake_config *cfg = config_load(conf, &err);
	const struct unit *u;

	T_CHECK("fixture.loads", cfg != NULL);
	if (!cfg) {
		printf("# %s\n", err->message);
		return;
	}
	T_STREQ("fixture.path", cfg->path, conf);
	T_STREQ("fixture.url", cfg->mailbox_url,
		"imaps://127.0.0.1:10993/INBOX");
	T_STREQ("fixture.user", cfg->mailbox_user, "testuser");
	T_STREQ("fixture.password", cfg->mailbox_password, "imap pass");
	T_STREQ("fixture.ca_default", cfg->mailbox_ca_file, NULL);
	T_INTEQ("fixture.poll", cfg->poll_interval, 30);
	T_INTEQ("fixture.mark", cfg->mark, MARK_MOVE);
	T_STREQ("fixture.mark_arg", cfg->mark_arg, "归档/2022");
	T_CHECK("fixture.insecure", cfg->allow_insecure);
	T_STREQ("fixture.authserv_id", cfg->authserv_id, "mx.qq.com");
	T_STREQ("fixture.smtp_url", cfg->smtp_url, "smtp://127.0.0.1:10587/");
	T_STREQ("fixture.smtp_user", cfg->smtp_user, "smtpuser");
	T_STREQ("fixture.smtp_password", cfg->smtp_password, "smtp-pass");
	T_STREQ("fixture.from", cfg->smtp_from,
		"福建省质量强省工作联席会议办公室 <Intake@Example.COM>");
	T_STREQ("fixture.from_addr", cfg->smtp_from_addr,
		"intake@example.com");
	T_STREQ("fixture.helo", cfg->smtp_helo, "intake.example.com");
	T_CHECK("fixture.from_warning",
		has_warning(cfg, "[smtp] from", "501 mail from address"));
	T_STREQ("fixture.campaign", cfg->campaign_name,
		"2022年“质量月”活动");
	start = cfg->start ? g_date_time_format_iso8601(cfg->start) : NULL;
	deadline = cfg->deadline ? g_date_time_format_iso8601(cfg->deadline) :
				   NULL;
	T_STREQ("fixture.start", start, "2022-08-29T00:00:00+08");
	T_STREQ("fixture.deadline", deadline, "2022-10-10T23:59:59+08");
	T_INTEQ("fixture.deadline_unix",
		cfg->deadline ? g_date_time_to_unix(cfg->deadline) : 0,
		1665417599);
	T_INTEQ("fixture.grace", cfg->grace_seconds, 7200);
	T_INTEQ("fixture.keywords_n", g_strv_length(cfg->keywords), 2);
	T_STREQ("fixture.keyword0", cfg->keywords[0], "质量月");
	T_STREQ("fixture.keyword1", cfg->keywords[1], "活动总结");
	T_INTEQ("fixture.late", cfg->late_policy, LATE_REFUSE);
	T_STREQ("fixture.digest", cfg->digest_to, "office@example.com");
	T_INTEQ("fixture.photo_max", cfg->rules.photo_max, 8);
	T_INTEQ("fixture.min_long", cfg->rules.photo_min_long, 1280);
	T_INTEQ("fixture.min_short", cfg->rules.photo_min_short, 720);
	T_CHECK("fixture.caption", !cfg->rules.caption_required);
	T_INTEQ("fixture.video_short", cfg->rules.video_min_short, 1080);
	T_CHECK("fixture.video_req", cfg->rules.video_required);
	T_CHECK("fixture.summary_req", !cfg->rules.summary_required);
	T_STREQ("fixture.state", cfg->state_dir, "/tmp/intake-fixture-state");
	T_STREQ("fixture.units_file", cfg->units_file, want_units);
	T_STREQ("fixture.template", cfg->template_dir, want_tpl);
	T_STREQ("fixture.report", cfg->report_path,
		"/tmp/intake-fixture-state/report.html");
	T_INTEQ("fixture.max_message", cfg->limits.max_message_bytes,
		52428800);
	T_INTEQ("fixture.max_parts", cfg->limits.max_parts, 100);
	T_INTEQ("fixture.worker_seconds", cfg->limits.worker_seconds, 60);
	T_INTEQ("fixture.replies", cfg->limits.replies_per_sender, 5);
	T_INTEQ("fixture.max_depth_default", cfg->limits.max_depth, 20);
	T_INTEQ("fixture.n_units", cfg->n_units, 4);
	u = config_find_unit(cfg, "福州市市场监督管理局");
	T_CHECK("fixture.find", u != NULL);
	T_STREQ("fixture.category", u ? u->category : NULL, "设区市");
	T_STREQ("fixture.alias1", u ? u->aliases[1] : NULL,
		"福州市市场监管局");
	T_STREQ("fixture.address_lower", u ? u->addresses[0] : NULL,
		"fzscjgj@example.gov.cn");
	T_STREQ("fixture.address_trimmed", u ? u->addresses[1] : NULL,
		"someone@qq.com");
	u = config_find_unit(cfg, "福建省工商业联合会");
	T_CHECK("fixture.bare_unit", u && u->category == NULL &&
				     u->aliases && !u->aliases[0] &&
				     u->addresses && !u->addresses[0]);
	T_CHECK("fixture.find_missing", !config_find_unit(cfg, "福州"));
	T_CHECK("fixture.find_null", !config_find_unit(cfg, NULL));
	config_free(cfg);
}

static void
test_defaults(void)
{
	g_autofree char *path = g_build_filename(tdir, "min.conf", NULL);
	g_autofree char *units = g_build_filename(tdir, "units.conf", NULL);
	struct rules_config r;
	struct limits_config l;
	struct intake_config *cfg;
	g_autoptr(GError) err = NULL;

	memset(&r, 0, sizeof(r)); /* padding: compared with memcmp below */
	memset(&l, 0, sizeof(l));
	config_rules_defaults(&r);
	config_limits_defaults(&l);
	T_INTEQ("defaults.photo_max", r.photo_max, 6);
	T_INTEQ("defaults.min_long", r.photo_min_long, 1024);
	T_INTEQ("defaults.min_short", r.photo_min_short, 768);
	T_CHECK("defaults.caption", r.caption_required);
	T_INTEQ("defaults.video_short", r.video_min_short, 720);
	T_CHECK("defaults.video_req", !r.video_required);
	T_CHECK("defaults.summary_req", r.summary_required);
	T_INTEQ("defaults.max_message", l.max_message_bytes, 100 << 20);
	T_INTEQ("defaults.max_header", l.max_header_bytes, 1 << 20);
	T_INTEQ("defaults.max_parts", l.max_parts, 500);
	T_INTEQ("defaults.max_depth", l.max_depth, 20);
	T_INTEQ("defaults.max_decoded", l.max_decoded_bytes, 1 << 30);
	T_INTEQ("defaults.archive_members", l.max_archive_members, 200);
	T_INTEQ("defaults.archive_bytes", l.max_archive_bytes, 1 << 30);
	T_INTEQ("defaults.archive_ratio", l.max_archive_ratio, 100);
	T_INTEQ("defaults.pixels", l.max_photo_pixels, 100000000);
	T_INTEQ("defaults.scans", l.max_jpeg_scans, 100);
	T_INTEQ("defaults.jpeg_memory", l.max_jpeg_memory, 256 << 20);
	T_INTEQ("defaults.probe", l.video_probe_seconds, 20);
	T_INTEQ("defaults.worker_seconds", l.worker_seconds, 300);
	T_INTEQ("defaults.worker_memory", l.worker_memory, 1 << 30);
	T_INTEQ("defaults.attempts", l.max_attempts, 3);
	T_INTEQ("defaults.replies", l.replies_per_sender, 20);

	g_file_set_contents(path, GOOD, -1, NULL);
	cfg = config_load(path, &err);
	T_CHECK("minimal.loads", cfg != NULL);
	if (!cfg)
		return;
	T_CHECK("minimal.rules", memcmp(&cfg->rules, &r, sizeof(r)) == 0);
	T_CHECK("minimal.limits", memcmp(&cfg->limits, &l, sizeof(l)) == 0);
	T_STREQ("minimal.user", cfg->mailbox_user, NULL);
	T_STREQ("minimal.password", cfg->mailbox_password, NULL);
	T_INTEQ("minimal.poll", cfg->poll_interval, 60);
	T_INTEQ("minimal.mark", cfg->mark, MARK_NONE);
	T_STREQ("minimal.mark_arg", cfg->mark_arg, NULL);
	T_CHECK("minimal.secure", !cfg->allow_insecure);
	T_STREQ("minimal.authserv_id", cfg->authserv_id, NULL);
	T_STREQ("minimal.smtp", cfg->smtp_url, NULL);
	T_STREQ("minimal.helo", cfg->smtp_helo, "localhost");
	T_STREQ("minimal.campaign", cfg->campaign_name, "");
	T_CHECK("minimal.no_dates", !cfg->start && !cfg->deadline);
	T_INTEQ("minimal.grace", cfg->grace_seconds, 0);
	T_CHECK("minimal.keywords", cfg->keywords && !cfg->keywords[0]);
	T_INTEQ("minimal.late", cfg->late_policy, LATE_ACCEPT);
	T_STREQ("minimal.digest", cfg->digest_to, NULL);
	T_STREQ("minimal.units_file", cfg->units_file, units);
	T_STREQ("minimal.template", cfg->template_dir,
		"/etc/intake/templates");
	T_STREQ("minimal.report", cfg->report_path, NULL);
	T_INTEQ("minimal.warnings", cfg->warnings->len, 0);
	config_free(cfg);
}

struct value_case {
	const char *name;
	const char *text;  /* appended to MAILDIR... see test_values */
	int mark;          /* -1: not checked */
	const char *mark_arg;
	unsigned grace;    /* checked when mark is -1 */
};

static const struct value_case value_cases[] = {
	{ "mark.none", "mark = none\n", MARK_NONE, NULL, 0 },
	{ "mark.flag", "mark = flag\n", MARK_FLAG, "$Filed", 0 },
	{ "mark.flag_keyword", "mark = flag:$Intake\n", MARK_FLAG, "$Intake",
	  0 },
	{ "mark.flag_system", "mark = flag:\\\\Flagged\n", MARK_FLAG,
	  "\\Flagged", 0 },
	{ "mark.move", "mark = move:Archive\n", MARK_MOVE, "Archive", 0 },
	{ "mark.move_cjk", "mark = move:已归档/质量月\n", MARK_MOVE,
	  "已归档/质量月", 0 },
	{ "grace.seconds", "[campaign]\ngrace = 3600\n", -1, NULL, 3600 },
	{ "grace.s", "[campaign]\ngrace = 90s\n", -1, NULL, 90 },
	{ "grace.m", "[campaign]\ngrace = 30m\n", -1, NULL, 1800 },
	{ "grace.h", "[campaign]\ngrace = 2h\n", -1, NULL, 7200 },
	{ "grace.d", "[campaign]\ngrace = 1d\n", -1, NULL, 86400 },
	{ "grace.max", "[campaign]\ngrace = 90d\n", -1, NULL, 7776000 },
};

static void
test_values(void)
{
	g_autofree char *path = g_build_filename(tdir, "v.conf", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(value_cases); i++) {
		const struct value_case *c = &value_cases[i];
		g_autofree char *text = g_strconcat(MAILDIR, c->mark >= 0 ?
						    c->text : "", STORAGE,
						    c->mark < 0 ? c->text : "",
						    NULL);
		g_autoptr(GError) err = NULL;
		struct intake_config *cfg;
		char n[160];

		g_file_set_contents(path, text, -1, NULL);
		cfg = config_load(path, &err);
		snprintf(n, sizeof(n), "value.%s", c->name);
		if (!cfg) {
			T_CHECK(n, cfg != NULL);
			printf("# %s\n", err->message);
			continue;
		}
		if (c->mark >= 0) {
			T_INTEQ(n, cfg->mark, c->mark);
			snprintf(n, sizeof(n), "value.%s.arg", c->name);
			T_STREQ(n, cfg->mark_arg, c->mark_arg);
		} else {
			T_INTEQ(n, cfg->grace_seconds, c->grace);
		}
		config_free(cfg);
	}
}

/* [rules] link_prefixes as loaded: NULL-terminated, trimmed, NULL when
 * not set or empty; an over-long prefix is refused. */
static void
test_link_prefixes(void)
{
	static const struct {
		const char *name;
		const char *value; /* NULL: no key */
		const char *want[3];
	} cases[] = {
		{ "unset", NULL, { NULL } },
		{ "empty", "", { NULL } },
		{ "only_separators", " ; ;", { NULL } },
		{ "one", "https://pan.example.gov.cn/s/",
		  { "https://pan.example.gov.cn/s/", NULL } },
		{ "two_trimmed",
		  " https://pan.example.gov.cn/s/ ;; http://10.0.0.8:8080/f/ ;",
		  { "https://pan.example.gov.cn/s/", "http://10.0.0.8:8080/f/",
		    NULL } },
		{ "host_only", "https://pan.example.gov.cn",
		  { "https://pan.example.gov.cn", NULL } },
		{ "ipv6", "http://[::1]:8080/share/",
		  { "http://[::1]:8080/share/", NULL } },
	};
	g_autofree char *path = g_build_filename(tdir, "links.conf", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *text = g_strconcat(
			GOOD "[rules]\n", cases[i].value ? "link_prefixes = " :
							   "",
			cases[i].value ? cases[i].value : "", "\n", NULL);
		g_autoptr(GError) err = NULL;
		struct intake_config *cfg;
		char n[160];
		unsigned want_n = 0;

		while (cases[i].want[want_n])
			want_n++;
		g_file_set_contents(path, text, -1, NULL);
		cfg = config_load(path, &err);
		snprintf(n, sizeof(n), "link_prefixes.%s.loads",
			 cases[i].name);
		T_CHECK(n, cfg != NULL);
		if (!cfg) {
			printf("# %s\n", err->message);
			continue;
		}
		snprintf(n, sizeof(n), "link_prefixes.%s.n", cases[i].name);
		if (want_n == 0) {
			T_CHECK(n, cfg->rules.link_prefixes == NULL);
		} else {
			T_INTEQ(n, cfg->rules.link_prefixes ?
				g_strv_length(cfg->rules.link_prefixes) : 0,
				want_n);
			for (unsigned k = 0; cfg->rules.link_prefixes &&
					     k < want_n; k++) {
				snprintf(n, sizeof(n), "link_prefixes.%s.%u",
					 cases[i].name, k);
				T_STREQ(n, cfg->rules.link_prefixes[k],
					cases[i].want[k]);
			}
		}
		config_free(cfg);
	}
	{
		g_autoptr(GString) text = g_string_new(
			GOOD "[rules]\nlink_prefixes = https://pan.example."
			"gov.cn/");
		g_autoptr(GError) err = NULL;
		struct intake_config *cfg;

		while (text->len < 1200)
			g_string_append(text, "abcdefgh/");
		g_string_append(text, "\n");
		g_file_set_contents(path, text->str, -1, NULL);
		cfg = config_load(path, &err);
		T_CHECK("bad.rules.link_long", cfg == NULL);
		config_free(cfg);
		check_error("bad.rules.link_long", err, path,
			    "[rules] link_prefixes: ",
			    "is longer than 1024 bytes");
	}
}

static void
test_credentials(void)
{
	g_autofree char *path = g_build_filename(tdir, "cred.conf", NULL);
	g_autofree char *cred = g_build_filename(tdir, "creds", NULL);
	g_autofree char *imap = g_build_filename(cred, "imap", NULL);
	g_autofree char *smtp = g_build_filename(cred, "smtp", NULL);
	g_autoptr(GError) err = NULL;
	struct intake_config *cfg;

	mkdir(cred, 0700);
	g_file_set_contents(imap, "from-systemd\n", -1, NULL);
	g_file_set_contents(smtp, "smtp-from-systemd", -1, NULL);
	chmod(imap, 0400);
	chmod(smtp, 0400);
	g_file_set_contents(path,
			    "[mailbox]\nurl = imaps://imap.qq.com/INBOX\n"
			    "username = 7263441@qq.com\n"
			    "[smtp]\nurl = smtps://smtp.qq.com:465\n"
			    "username = 7263441@qq.com\n"
			    "from = 福建省质量强省工作联席会议办公室 "
			    "<7263441@QQ.com>\n" STORAGE, -1, NULL);
	g_setenv("CREDENTIALS_DIRECTORY", cred, TRUE);
	cfg = config_load(path, &err);
	T_CHECK("credentials.loads", cfg != NULL);
	T_STREQ("credentials.imap", cfg ? cfg->mailbox_password : NULL,
		"from-systemd");
	T_STREQ("credentials.smtp", cfg ? cfg->smtp_password : NULL,
		"smtp-from-systemd");
	T_STREQ("credentials.from_addr", cfg ? cfg->smtp_from_addr : NULL,
		"7263441@qq.com");
	T_INTEQ("credentials.no_warning", cfg ? cfg->warnings->len : 99, 0);
	config_free(cfg);

	/* the credential must be private too */
	chmod(imap, 0644);
	g_clear_error(&err);
	cfg = config_load(path, &err);
	T_CHECK("credentials.open_refused", cfg == NULL);
	check_error("credentials.open", err, path, "[mailbox] password_file: ",
		    "CREDENTIALS_DIRECTORY/imap");
	config_free(cfg);

	unlink(imap);
	g_clear_error(&err);
	cfg = config_load(path, &err);
	T_CHECK("credentials.missing_refused", cfg == NULL);
	check_error("credentials.missing", err, path,
		    "[mailbox] password_file: ", "No such file or directory");
	config_free(cfg);
	unlink(smtp);
	rmdir(cred);
	g_unsetenv("CREDENTIALS_DIRECTORY");
}

static void
test_units_more(void)
{
	g_autofree char *path = g_build_filename(tdir, "u2.conf", NULL);
	g_autoptr(GError) err = NULL;
	struct intake_config cfg = { 0 };

	g_file_set_contents(path,
			    "[甲]\naddresses = Shared@QQ.com\n"
			    "[乙]\naddresses = shared@qq.com;b@b.cn\n"
			    "[丙]\naliases = 丙单位;丙单位; 丙\n", -1, NULL);
	T_CHECK("units.shared_loads", config_load_units(&cfg, path, &err));
	T_INTEQ("units.shared_n", cfg.n_units, 3);
	T_CHECK("units.shared_warning",
		has_warning(&cfg, "shared@qq.com", "[甲]"));
	T_STREQ("units.own_alias_repeat",
		config_find_unit(&cfg, "丙") ? "found" : NULL, "found");
	/* loading again replaces */
	g_file_set_contents(path, "[丁]\n", -1, NULL);
	T_CHECK("units.reload", config_load_units(&cfg, path, &err));
	T_INTEQ("units.reload_n", cfg.n_units, 1);
	T_CHECK("units.reload_replaced", !config_find_unit(&cfg, "甲") &&
					 config_find_unit(&cfg, "丁"));
	/* a failed load keeps the units there were */
	g_file_set_contents(path, "[戊]\nbad = 1\n", -1, NULL);
	T_CHECK("units.failed_keeps", !config_load_units(&cfg, path, NULL) &&
				      cfg.n_units == 1 &&
				      config_find_unit(&cfg, "丁"));
	for (size_t i = 0; i < cfg.n_units; i++) {
		g_free(cfg.units[i].name);
		g_free(cfg.units[i].category);
		g_strfreev(cfg.units[i].aliases);
		g_strfreev(cfg.units[i].addresses);
	}
	g_free(cfg.units);
	g_ptr_array_unref(cfg.warnings);
}

/* The shipped examples: intake.conf.example with its /etc and /var paths
 * pointed into the temp dir, and units.conf.example as it is. */
static void
test_examples(void)
{
	g_autofree char *text = NULL;
	g_autofree char *top = g_get_current_dir();
	g_autofree char *units = g_build_filename(top,
						  "config/units.conf.example",
						  NULL);
	g_autofree char *imap = g_build_filename(tdir, "imap.secret", NULL);
	g_autofree char *smtp = g_build_filename(tdir, "smtp.secret", NULL);
	g_autofree char *path = g_build_filename(tdir, "example.conf", NULL);
	g_autoptr(GString) s = NULL;
	g_autoptr(GError) err = NULL;
	struct intake_config *cfg;
	const struct unit *u;
	struct rules_config r;
	struct limits_config l;

	if (!g_file_get_contents("config/intake.conf.example", &text, NULL,
				 NULL)) {
		T_CHECK("example.readable", false);
		return;
	}
	s = g_string_new(text);
	g_string_replace(s, "/etc/intake/imap.secret", imap, 0);
	g_string_replace(s, "/etc/intake/smtp.secret", smtp, 0);
	g_string_replace(s, "/etc/intake/units.conf", units, 0);
	g_string_replace(s, "/var/lib/intake", tdir, 0);
	g_file_set_contents(path, s->str, -1, NULL);
	cfg = config_load(path, &err);
	T_CHECK("example.loads", cfg != NULL);
	if (!cfg) {
		printf("# %s\n", err->message);
		return;
	}
	memset(&r, 0, sizeof(r));
	memset(&l, 0, sizeof(l));
	config_rules_defaults(&r);
	config_limits_defaults(&l);
	T_CHECK("example.rules_defaults",
		memcmp(&cfg->rules, &r, sizeof(r)) == 0);
	T_CHECK("example.limits_defaults",
		memcmp(&cfg->limits, &l, sizeof(l)) == 0);
	T_STREQ("example.url", cfg->mailbox_url,
		"imaps://imap.qq.com:993/INBOX");
	T_STREQ("example.smtp", cfg->smtp_url, "smtps://smtp.qq.com:465");
	T_STREQ("example.from_addr", cfg->smtp_from_addr, "7263441@qq.com");
	T_INTEQ("example.no_warnings", cfg->warnings->len, 0);
	T_INTEQ("example.deadline",
		cfg->deadline ? g_date_time_to_unix(cfg->deadline) : 0,
		1665417599);
	T_INTEQ("example.keywords", g_strv_length(cfg->keywords), 2);
	T_STREQ("example.template", cfg->template_dir,
		"/etc/intake/templates");
	T_CHECK("example.units_many", cfg->n_units >= 40);
	u = config_find_unit(cfg, "平潭综合实验区市场监督管理局");
	T_STREQ("example.pingtan", u ? u->category : NULL, "设区市");
	u = config_find_unit(cfg, "福建省计量科学研究院");
	T_STREQ("example.institute", u ? u->category : NULL, "直属单位");
	u = config_find_unit(cfg, "福建省工商业联合会");
	T_STREQ("example.gsl_alias", u ? u->aliases[0] : NULL, "省工商联");
	config_free(cfg);

	/* units.conf.example directly */
	{
		struct intake_config c = { 0 };
		size_t cities = 0;

		g_clear_error(&err);
		T_CHECK("example.units_direct",
			config_load_units(&c, "config/units.conf.example",
					  &err));
		for (size_t i = 0; i < c.n_units; i++)
			if (g_strcmp0(c.units[i].category, "设区市") == 0)
				cities++;
		T_INTEQ("example.cities", cities, 10);
		T_INTEQ("example.units_warnings", c.warnings->len, 0);
		for (size_t i = 0; i < c.n_units; i++) {
			g_free(c.units[i].name);
			g_free(c.units[i].category);
			g_strfreev(c.units[i].aliases);
			g_strfreev(c.units[i].addresses);
		}
		g_free(c.units);
		g_ptr_array_unref(c.warnings);
	}
}

int
main(void)
{
	tdir = g_dir_make_tmp("config-XXXXXX", NULL);
	g_unsetenv("CREDENTIALS_DIRECTORY");
	write_file("imap.secret", "imap pass\n", 0600);
	write_file("smtp.secret", "smtp-pass\r\n", 0400);
	write_file("open.secret", "x\n", 0644);
	write_file("empty.secret", "", 0600);
	write_file("newline.secret", "\n", 0600);
	write_file("twoline.secret", "a\nb\n", 0600);
	{
		g_autofree char *d = g_build_filename(tdir, "dir.secret",
						      NULL);

		mkdir(d, 0700);
	}
	test_fixture(); /* also puts units.conf in tdir */
	test_bad();
	test_bad_units();
	test_defaults();
	test_values();
	test_link_prefixes();
	test_credentials();
	test_units_more();
	test_examples();
	rmtree(tdir);
	g_free(tdir);
	return t_done();
}
