/*
 * test_toolarge.c - where the header block of a message too large to
 * download ends (toolarge_header_len), and its parse (message_parse_header)
 */
#include "message.h"
#include "t.h"
#include "toolarge.h"

static const struct {
	const char *name;
	const char *buf;
	size_t want;
	bool complete;
} len_cases[] = {
	{"crlf", "From: a@b\r\nSubject: x\r\n\r\nbody", 25, true},
	{"lf", "From: a@b\nSubject: x\n\nbody", 22, true},
	{"folded", "Subject: x\r\n y\r\n\r\n", 18, true},
	{"no end", "From: a@b\r\nSubject: x\r\n", 23, false},
	{"cut in a line", "From: a@b\r\nSubj", 11, false},
	{"nothing whole", "From: a@b", 0, false},
	{"empty", "", 0, false},
	{"empty first line", "\r\nbody", 2, true},
	{"lone lf first", "\nbody", 1, true},
	{"cr alone is no end", "A: b\r\r\nC: d\r\n\r\n", 15, true},
	{"space line is no end", "A: b\r\n \r\nC: d\r\n\r\n", 17, true},
};

static void
test_header_len(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(len_cases); i++) {
		g_autofree char *name = g_strdup_printf("len.%s",
							len_cases[i].name);
		bool complete = !len_cases[i].complete;
		size_t got = toolarge_header_len(
			(const guint8 *)len_cases[i].buf,
			strlen(len_cases[i].buf), &complete);

		T_INTEQ(name, got, len_cases[i].want);
		T_CHECK(name, complete == len_cases[i].complete);
	}
}

static const char header[] =
	"Return-Path: <fz@fuzhou.gov.cn>\r\n"
	"From: =?UTF-8?B?56aP5bee5biC5biC5Zy655uR552j566h55CG5bGA?= "
	"<FZ@fuzhou.gov.cn>\r\n"
	"Reply-To: <Office@fuzhou.gov.cn>\r\n"
	"Subject: =?UTF-8?B?6LSo6YeP5pyI6KeG6aKR?=\r\n"
	"Message-ID: <big-1@fuzhou.gov.cn>\r\n"
	"Auto-Submitted: auto-replied\r\n"
	"Content-Type: multipart/mixed; boundary=\"b\"\r\n"
	"\r\n";

static void
test_parse_header(void)
{
	g_autoptr(GError) error = NULL;
	struct message *msg = message_parse_header(header, sizeof(header) - 1,
						   &error);

	T_CHECK("parse.ok", msg != NULL);
	if (msg == NULL)
		return;
	T_STREQ("parse.from", msg->from_addr, "fz@fuzhou.gov.cn");
	T_STREQ("parse.from_name", msg->from_name, "福州市市场监督管理局");
	T_STREQ("parse.reply_to", msg->reply_to, "office@fuzhou.gov.cn");
	T_STREQ("parse.subject", msg->subject, "质量月视频");
	T_STREQ("parse.message_id", msg->message_id, "big-1@fuzhou.gov.cn");
	T_STREQ("parse.auto", msg->auto_submitted, "auto-replied");
	T_STREQ("parse.body", msg->body_text, "");
	T_INTEQ("parse.parts", msg->parts->len, 0);
	T_CHECK("parse.not_report", !msg->is_report);
	message_free(msg);
}

int
main(void)
{
	test_header_len();
	test_parse_header();
	return t_done();
}
