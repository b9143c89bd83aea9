/*
 * smtp-send - sends a file (or a composed reply) with smtp.c, for tests
 *
 *   smtp-send [options] URL USER PASSFILE CAFILE FROM RCPT FILE
 *   smtp-send --compose [options] URL USER PASSFILE CAFILE FROM RCPT SUBJECT
 *   smtp-send --test-login [options] URL USER PASSFILE CAFILE
 *
 * USER, PASSFILE and CAFILE may be "-" (none).  FROM is the envelope
 * sender.  With --compose the message is a reply rendered from the
 * templates (--template-dir, --kind) and composed by reply.c: SUBJECT is
 * the original's raw Subject header, RFC 2047 words and all, decoded with
 * GMime as the message parser would; the From header is
 * "省质量强省工作联席会议办公室 <FROM>".
 *
 * The struct intake_config is built by hand (config.c is not used).
 * Prints "outcome=sent|tempfail|permfail", "code=N", "text=..." (and
 * "message-id=..." when composing) on stdout, one a line.
 * Exit: 0 sent (or logged in), 1 tempfail, 3 permfail, 2 usage.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gmime/gmime.h>

#include "config.h"
#include "reply.h"
#include "smtp.h"

static gboolean opt_compose, opt_test_login, opt_insecure;
static char *opt_helo, *opt_template_dir, *opt_kind, *opt_original_id;
static char *opt_references;
static int opt_count = 1, opt_pause_ms;

static const GOptionEntry entries[] = {
	{"compose", 0, 0, G_OPTION_ARG_NONE, &opt_compose,
	 "Send a reply composed by reply.c", NULL},
	{"test-login", 0, 0, G_OPTION_ARG_NONE, &opt_test_login,
	 "Log in and report, send nothing", NULL},
	{"insecure", 0, 0, G_OPTION_ARG_NONE, &opt_insecure,
	 "allow_insecure: smtp:// without STARTTLS", NULL},
	{"helo", 0, 0, G_OPTION_ARG_STRING, &opt_helo, "EHLO name", "NAME"},
	{"count", 0, 0, G_OPTION_ARG_INT, &opt_count,
	 "Send N times over one session", "N"},
	{"pause-ms", 0, 0, G_OPTION_ARG_INT, &opt_pause_ms,
	 "Wait between two sends", "MS"},
	{"template-dir", 0, 0, G_OPTION_ARG_FILENAME, &opt_template_dir,
	 "Templates (default config/templates)", "DIR"},
	{"kind", 0, 0, G_OPTION_ARG_STRING, &opt_kind,
	 "Template kind (default accepted)", "KIND"},
	{"original-id", 0, 0, G_OPTION_ARG_STRING, &opt_original_id,
	 "The original's Message-ID", "ID"},
	{"references", 0, 0, G_OPTION_ARG_STRING, &opt_references,
	 "The original's References", "REFS"},
	{NULL, 0, 0, 0, NULL, NULL, NULL},
};

static const char *
dash_null(const char *s)
{
	return strcmp(s, "-") == 0 ? NULL : s;
}

static char *
read_password(const char *path, GError **error)
{
	char *text = NULL;

	if (path == NULL)
		return NULL;
	if (!g_file_get_contents(path, &text, NULL, error))
		return NULL;
	return g_strchomp(text);
}

static const char *
outcome_name(enum smtp_outcome o)
{
	switch (o) {
	case SMTP_SENT:
		return "sent";
	case SMTP_TEMPFAIL:
		return "tempfail";
	case SMTP_PERMFAIL:
		break;
	}
	return "permfail";
}

static int
outcome_exit(enum smtp_outcome o)
{
	switch (o) {
	case SMTP_SENT:
		return 0;
	case SMTP_TEMPFAIL:
		return 1;
	case SMTP_PERMFAIL:
		break;
	}
	return 3;
}

/* A reply as the pipeline would queue it, for the original subject. */
static char *
compose(const char *from_addr, const char *rcpt, const char *raw_subject,
	char **message_id_r, size_t *len_r, GError **error)
{
	static const struct reply_item items[] = {
		{.name = "主会场.jpg", .type = ITEM_PHOTO, .accepted = true,
		 .caption = "质量月启动仪式", .width = 1600, .height = 1200},
		{.name = "总结.docx", .type = ITEM_SUMMARY, .accepted = true},
	};
	g_autofree char *subject = NULL, *body = NULL, *decoded = NULL;
	g_autofree char *from = NULL;
	struct reply_info info;
	char *data;

	decoded = g_mime_utils_header_decode_text(NULL, raw_subject);
	from = g_strdup_printf("省质量强省工作联席会议办公室 <%s>", from_addr);
	memset(&info, 0, sizeof(info));
	info.kind = opt_kind != NULL ? opt_kind : "accepted";
	info.verdict = strcmp(info.kind, "reminder") == 0 ? NULL : info.kind;
	info.unit = "福州市市场监督管理局";
	info.campaign = "2022年“质量月”活动";
	info.deadline = "2022年10月10日";
	info.items = items;
	info.n_items = G_N_ELEMENTS(items);
	info.dossier.summaries = 1;
	info.dossier.photos = 1;
	info.photo_max = 6;
	info.from = from;
	info.from_addr = from_addr;
	info.to = rcpt;
	info.original_subject = decoded;
	info.original_id = opt_original_id != NULL ? opt_original_id
						    : "orig@example.com";
	info.original_references = opt_references;
	info.loop_value = from_addr;
	info.date = (int64_t)time(NULL);
	if (!reply_render(opt_template_dir != NULL ? opt_template_dir
						   : "config/templates",
			  &info, &subject, &body, error))
		return NULL;
	*message_id_r = reply_new_message_id(from_addr);
	data = reply_compose(&info, subject, body, *message_id_r, len_r,
			     error);
	return data;
}

int
main(int argc, char **argv)
{
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(GError) error = NULL;
	g_autofree char *password = NULL, *data = NULL, *message_id = NULL;
	struct intake_config cfg;
	struct smtp_session *s;
	struct smtp_result r;
	size_t len = 0;
	int i, want;

	ctx = g_option_context_new("URL USER PASSFILE CAFILE FROM RCPT FILE");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
		fprintf(stderr, "smtp-send: %s\n", error->message);
		return 2;
	}
	want = opt_test_login ? 5 : 8;
	if (argc != want || opt_count < 1 || opt_count > 100 ||
	    opt_pause_ms < 0 || opt_pause_ms > 60000) {
		fprintf(stderr, "usage: smtp-send [--compose|--test-login] "
				"URL USER PASSFILE CAFILE [FROM RCPT "
				"FILE|SUBJECT]\n");
		return 2;
	}
	g_mime_init();
	password = read_password(dash_null(argv[3]), &error);
	if (error != NULL) {
		fprintf(stderr, "smtp-send: %s\n", error->message);
		return 2;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.smtp_url = argv[1];
	cfg.smtp_user = (char *)dash_null(argv[2]);
	cfg.smtp_password = password;
	cfg.smtp_ca_file = (char *)dash_null(argv[4]);
	cfg.smtp_helo = opt_helo;
	cfg.allow_insecure = opt_insecure;

	if (opt_test_login) {
		g_autoptr(GString) report = g_string_new(NULL);
		bool ok = smtp_test_login(&cfg, report, &error);

		fputs(report->str, stdout);
		if (!ok)
			printf("error=%s\n", error->message);
		return ok ? 0 : 3;
	}

	cfg.smtp_from_addr = argv[5];
	if (opt_compose) {
		data = compose(argv[5], argv[6], argv[7], &message_id, &len,
			       &error);
		if (data == NULL) {
			printf("outcome=permfail\ncode=0\ntext=%s\n",
			       error->message);
			return 3;
		}
		printf("message-id=%s\n", message_id);
	} else if (!g_file_get_contents(argv[7], &data, &len, &error)) {
		fprintf(stderr, "smtp-send: %s\n", error->message);
		return 2;
	}

	s = smtp_session_new(&cfg);
	for (i = 0; i < opt_count; i++) {
		if (i > 0 && opt_pause_ms > 0)
			g_usleep((gulong)opt_pause_ms * 1000);
		smtp_send(s, argv[5], argv[6], data, len, &r);
		printf("outcome=%s\ncode=%ld\ntext=%s\n",
		       outcome_name(r.outcome), r.code, r.text);
		if (r.outcome != SMTP_SENT)
			break;
	}
	smtp_session_free(s);
	g_free(opt_helo);
	g_free(opt_template_dir);
	g_free(opt_kind);
	g_free(opt_original_id);
	g_free(opt_references);
	return outcome_exit(r.outcome);
}
