/*
 * test_message.c - message_parse() on the fixtures in tests/fixtures/mime
 *
 * Tables: what each fixture parses into (subject, sender, body,
 * parts, decoded files compared byte for byte with small.jpg), single
 * header fields by offset, generated messages (long bodies, base64
 * forwards, signatures, ...), and messages over a limit (generated into a
 * temp dir) that must be refused with the right error and leave no
 * file behind.  Run from the repository's top (tests/run does).
 */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "message.h"
#include "rawstore.h"
#include "t.h"

#define FIXTURES "tests/fixtures/mime/"
#define MAX_WANT 3

struct part_want {
	const char *filename;
	bool named;
	const char *type;
	const char *same_as;	/* fixture whose bytes the part must equal */
	int64_t size;		/* -1: not checked */
	bool is_inline;
	unsigned depth;
	const char *content_id;
};

struct msg_case {
	const char *file;
	const char *subject;
	const char *from_addr;
	const char *from_name;
	const char *message_id;
	const char *content_type;
	const char *body;	/* the whole body text, or NULL */
	const char *body_has[3];
	const char *body_not;
	bool has_html;
	unsigned n_parts;
	bool is_report;
	const char *report_id;
	unsigned n_att;
	struct part_want att[MAX_WANT];
};

static const struct msg_case cases[] = {
	{ .file = "qq_foxmail.eml",
	  .subject = "福州市局质量月活动总结报送",
	  .from_addr = "fzscjgj@qq.com", .from_name = "福州市市场监督管理局",
	  .message_id = "tencent_ABC123@qq.com",
	  .content_type = "multipart/mixed",
	  .body_has = { "图1：启动仪式现场\n", "图2：质量开放日", "各位好：" },
	  .body_not = "\r", .n_parts = 4, .n_att = 2,
	  .att = { { "启动仪式现场.jpg", true, "application/octet-stream",
		     "small.jpg", -1, false, 0, NULL },
		   { "质量开放日.jpg", true, "image/jpeg", "small.jpg", -1,
		     false, 0, NULL } } },
	{ .file = "rfc2231.eml", .subject = "RFC 2231 names",
	  .from_addr = "someone@example.com", .from_name = "Someone",
	  .message_id = "rfc2231@example.com",
	  .content_type = "multipart/mixed", .body = "see attachments",
	  .n_parts = 4, .n_att = 2,
	  .att = { { "2022年质量月活动总结（福州市市场监督管理局）.docx", true,
		     "application/vnd.openxmlformats-officedocument."
		     "wordprocessingml.document", NULL, 20, false, 0, NULL },
		   { "照片 一.jpg", true, "image/jpeg", "small.jpg", -1, false,
		     0, NULL } } },
	{ .file = "raw_gbk_filename.eml", .subject = "raw 8bit name",
	  .from_addr = "old@example.cn", .content_type = "multipart/mixed",
	  .body = "正文内容", .n_parts = 3, .n_att = 1,
	  .att = { { "测试图片_报告.jpg", true, "image/jpeg", "small.jpg", -1,
		     false, 0, NULL } } },
	{ .file = "gb2312_subject.eml",
	  .subject = "关于“质量月”活动总结的报送（王喆）",
	  .from_addr = "wz@example.cn", .from_name = "王喆",
	  .content_type = "text/plain",
	  .body = "联系人：王喆\n电话：0591-12345678\n", .n_parts = 1 },
	{ .file = "html_only.eml", .subject = "质量月 HTML",
	  .from_addr = "html@example.com", .from_name = "Html Sender",
	  .content_type = "text/html",
	  .body = "您好！\n图1：福州市质量月启动仪式\n"
		  "A & B <tag> \"q\" end\nx y\nz\nline\nbreak",
	  .has_html = true, .n_parts = 1 },
	{ .file = "related_inline.eml", .subject = "inline picture",
	  .from_addr = "fox@example.com", .from_name = "Foxmail User",
	  .content_type = "multipart/related",
	  .body = "see the picture below", .body_not = "<p>",
	  .has_html = true, .n_parts = 5, .n_att = 1,
	  .att = { { "附件1.jpg", false, "image/jpeg", "small.jpg", -1, true,
		     0, "img001@example.com" } } },
	{ .file = "forward_rfc822.eml", .subject = "Fwd: 照片",
	  .from_addr = "fwd@example.com", .from_name = "Forwarder",
	  .content_type = "multipart/mixed",
	  .body_has = { "outer text\n", "图1：内层照片说明" }, .n_parts = 6,
	  .n_att = 1,
	  .att = { { "内层照片.jpg", true, "image/jpeg", "small.jpg", -1, false,
		     1, NULL } } },
	{ .file = "dsn_report.eml",
	  .subject = "Undelivered Mail Returned to Sender",
	  .from_addr = "mailer-daemon@mx.example.com",
	  .from_name = "Mail Delivery System",
	  .content_type = "multipart/report",
	  .body_has = { "could not\nbe delivered" },
	  .body_not = "body of our reply", .n_parts = 4, .is_report = true,
	  .report_id = "reply-42.1664000000@intake.example.com" },
	{ .file = "dsn_headers.eml",
	  .subject = "Delivery Status Notification (Failure)",
	  .from_addr = "postmaster@example.net",
	  .content_type = "multipart/report", .body = "failed",
	  .n_parts = 4, .is_report = true,
	  .report_id = "reply-43.1664000001@intake.example.com" },
	{ .file = "no_content_type.eml", .subject = "plain old mail",
	  .from_addr = "plain@example.com", .content_type = "text/plain",
	  .body = "Just text, no MIME.\nSecond line.\n", .n_parts = 1 },
	{ .file = "uuencode.eml", .subject = "uuencoded photo",
	  .from_addr = "uu@example.com", .content_type = "text/plain",
	  .body = "Here is the photo:\n\n\nRegards.\n", .n_parts = 1,
	  .n_att = 1,
	  .att = { { "photo one.jpg", true, "image/jpeg", "small.jpg", -1,
		     false, 0, NULL } } },
	{ .file = "auto_reply.eml", .subject = "自动回复: your mail",
	  .from_addr = "boss@example.com", .from_name = "Boss",
	  .message_id = "ooo-1@example.com", .content_type = "text/plain",
	  .body = "I am away.\n", .n_parts = 1 },
	{ .file = "big5.eml", .subject = "big5", .from_addr = "tw@example.tw",
	  .content_type = "text/plain", .body = "品質月活動總結\n",
	  .n_parts = 1 },
};

/* Single string fields of struct message. */
struct field_case {
	const char *file;
	const char *label;
	size_t offset;
	const char *want;
};

#define F(file, field, want) \
	{ file, #field, offsetof(struct message, field), want }

static const struct field_case fields[] = {
	F("auto_reply.eml", return_path, "boss@example.com"),
	F("auto_reply.eml", reply_to, "sec@example.com"),
	F("auto_reply.eml", date, "Sun, 9 Oct 2022 16:00:00 +0800"),
	F("auto_reply.eml", in_reply_to, "reply-44@intake.example.com"),
	F("auto_reply.eml", references, "<a@x> <reply-44@intake.example.com>"),
	F("auto_reply.eml", auto_submitted, "auto-replied"),
	F("auto_reply.eml", precedence, "bulk"),
	F("auto_reply.eml", loop_header, "intake@example.com"),
	F("auto_reply.eml", auto_response_suppress, "All"),
	F("auto_reply.eml", authentication_results,
	  "mx.example.com; spf=pass smtp.mailfrom=example.com"),
	F("auto_reply.eml", report_original_id, NULL),
	F("auto_reply.eml", body_html, NULL),
	F("dsn_report.eml", return_path, ""),
	F("dsn_report.eml", auto_submitted, "auto-replied"),
	F("dsn_report.eml", message_id, NULL),
	F("qq_foxmail.eml", return_path, NULL),
	F("qq_foxmail.eml", precedence, NULL),
	F("qq_foxmail.eml", reply_to, NULL),
	F("qq_foxmail.eml", date, "Fri, 30 Sep 2022 10:12:00 +0800"),
	F("related_inline.eml", body_html,
	  "<p>see the picture below</p><img src=\"cid:img001@example.com\">"),
	F("no_content_type.eml", date, "8 Oct 2022 15:00:00 +0800"),
	F("raw_gbk_filename.eml", date, NULL),
};

/* Single flags and numbers. */
struct flag_case {
	const char *file;
	const char *label;
	int64_t (*get)(const struct message *m);
	int64_t want;
};

static int64_t
get_date(const struct message *m)
{
	return m->date_unix;
}

static int64_t
get_list(const struct message *m)
{
	return m->has_list_header;
}

static int64_t
get_has_rp(const struct message *m)
{
	return m->has_return_path;
}

static int64_t
get_report(const struct message *m)
{
	return m->is_report;
}

static const struct flag_case flags[] = {
	{ "auto_reply.eml", "date_unix", get_date, 1665302400 },
	{ "qq_foxmail.eml", "date_unix", get_date, 1664503920 },
	{ "no_content_type.eml", "date_unix", get_date, 1665212400 },
	{ "big5.eml", "date_unix", get_date, 0 },
	{ "auto_reply.eml", "has_list_header", get_list, 1 },
	{ "qq_foxmail.eml", "has_list_header", get_list, 0 },
	{ "auto_reply.eml", "has_return_path", get_has_rp, 1 },
	{ "dsn_report.eml", "has_return_path", get_has_rp, 1 },
	{ "qq_foxmail.eml", "has_return_path", get_has_rp, 0 },
	{ "qq_foxmail.eml", "is_report", get_report, 0 },
};

/* Messages over a limit, written into the temp dir by a generator. */
struct limit_case {
	const char *label;
	void (*make)(FILE *f);	/* NULL: use the fixture */
	const char *fixture;
	void (*tune)(struct limits_config *l);
	int code;		/* expected INTAKE_ERROR_* */
};

static void
make_many_parts(FILE *f)
{
	fputs("From: a@b\nContent-Type: multipart/mixed; boundary=x\n\n", f);
	for (int i = 0; i < 2000; i++)
		fputs("--x\nContent-Type: text/plain\n\nx\n", f);
	fputs("--x--\n", f);
}

static void
make_deep(FILE *f)
{
	fputs("From: a@b\nContent-Type: multipart/mixed; boundary=b0\n\n", f);
	for (int i = 1; i < 40; i++)
		fprintf(f, "--b%d\nContent-Type: multipart/mixed; "
			"boundary=b%d\n\n", i - 1, i);
	fputs("--b39\nContent-Type: text/plain\n\ndeep\n", f);
	for (int i = 39; i >= 0; i--)
		fprintf(f, "--b%d--\n", i);
}

static void
make_big_header(FILE *f)
{
	fputs("From: a@b\n", f);
	for (int i = 0; i < 20000; i++)
		fprintf(f, "X-Filler-%d: %0100d\n", i, i);
	fputs("\nbody\n", f);
}

static void
make_empty(FILE *f)
{
	(void)f;
}

static void
tune_none(struct limits_config *l)
{
	(void)l;
}

static void
tune_parts3(struct limits_config *l)
{
	l->max_parts = 3;
}

static void
tune_depth2(struct limits_config *l)
{
	l->max_depth = 2;
}

static void
tune_size(struct limits_config *l)
{
	l->max_message_bytes = 1000;
}

static void
tune_decoded(struct limits_config *l)
{
	l->max_decoded_bytes = 1500;
}

static void
tune_header(struct limits_config *l)
{
	l->max_header_bytes = 200;
}

static const struct limit_case limit_cases[] = {
	{ "2000 parts", make_many_parts, NULL, tune_none, INTAKE_ERROR_LIMIT },
	{ "40 levels", make_deep, NULL, tune_none, INTAKE_ERROR_LIMIT },
	{ "2 MB header", make_big_header, NULL, tune_none, INTAKE_ERROR_LIMIT },
	{ "empty file", make_empty, NULL, tune_none, INTAKE_ERROR_MESSAGE },
	{ "max_parts 3", NULL, "qq_foxmail.eml", tune_parts3,
	  INTAKE_ERROR_LIMIT },
	{ "max_depth 2 forward", NULL, "forward_rfc822.eml", tune_depth2,
	  INTAKE_ERROR_LIMIT },
	{ "max_message_bytes", NULL, "qq_foxmail.eml", tune_size,
	  INTAKE_ERROR_LIMIT },
	{ "max_decoded_bytes", NULL, "qq_foxmail.eml", tune_decoded,
	  INTAKE_ERROR_LIMIT },
	{ "max_header_bytes", NULL, "auto_reply.eml", tune_header,
	  INTAKE_ERROR_LIMIT },
};

/* Messages written by a generator that must parse into what is said. */
struct gen_case {
	const char *label;
	void (*make)(FILE *f);
	const char *subject;	/* NULL: not checked */
	const char *body_has;
	size_t body_max;	/* 0: not checked */
	unsigned n_parts;
	unsigned n_att;
	const char *att0_name;	/* of the first attachment */
	unsigned att0_depth;
	const char *from_name;	/* NULL: not checked */
};

static void
make_long_body(FILE *f)
{
	fputs("From: a@b\nSubject: long\nContent-Type: text/plain; "
	      "charset=utf-8\n\n", f);
	for (int i = 0; i < 300000; i++)
		fputs("质量月\n", f);	/* 3 MB */
}

static void
make_leading_space(FILE *f)
{
	fputs("          \nFrom: a@b\nSubject: leading\n\nbody\n", f);
}

static void
make_b64_forward(FILE *f)
{
	static const char inner[] =
		"From: x@y\nSubject: inner\n"
		"Content-Type: multipart/mixed; boundary=in\n\n"
		"--in\nContent-Type: text/plain; charset=utf-8\n\n图2：内层\n"
		"--in\nContent-Type: application/pdf; name=inner.pdf\n"
		"Content-Transfer-Encoding: base64\n\nJVBERi0xLjQK\n--in--\n";
	char *b64 = g_base64_encode((const guchar *)inner, strlen(inner));

	fprintf(f, "From: a@b\nSubject: b64 forward\n"
		"Content-Type: multipart/mixed; boundary=out\n\n"
		"--out\nContent-Type: text/plain\n\nsee below\n"
		"--out\nContent-Type: message/rfc822\n"
		"Content-Disposition: attachment; filename=fw.eml\n"
		"Content-Transfer-Encoding: base64\n\n%s\n--out--\n", b64);
	g_free(b64);
}

static void
make_signed(FILE *f)
{
	fputs("From: a@b\nSubject: signed\nContent-Type: multipart/signed; "
	      "protocol=\"application/pgp-signature\"; boundary=s\n\n"
	      "--s\nContent-Type: multipart/mixed; boundary=m\n\n"
	      "--m\nContent-Type: text/plain\n\nsigned text\n"
	      "--m\nContent-Type: image/jpeg; name=a.jpg\n"
	      "Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n--m--\n"
	      "--s\nContent-Type: application/pgp-signature; "
	      "name=signature.asc\n\n-----BEGIN PGP SIGNATURE-----\n"
	      "--s--\n", f);
}

static void
make_gbk_no_charset(FILE *f)
{
	fputs("From: a@b\nSubject: gbk\nContent-Type: text/plain\n"
	      "Content-Transfer-Encoding: 8bit\n\n"
	      "\xd6\xca\xc1\xbf\xd4\xc2\xbb\xee\xb6\xaf\n", f);
}

static void
make_apple_split(FILE *f)
{
	fputs("From: a@b\nSubject: split\n"
	      "Content-Type: multipart/mixed; boundary=a\n\n"
	      "--a\nContent-Type: text/plain; charset=utf-8\n\n图1：甲\n"
	      "--a\nContent-Type: image/jpeg; name=1.jpg\n"
	      "Content-Disposition: inline; filename=1.jpg\n"
	      "Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n"
	      "--a\nContent-Type: text/plain; charset=utf-8\n\n图2：乙\n"
	      "--a--\n", f);
}

/* Outlook and Python split a long subject or name into base64 words,
 * each padded: GMime 3.2.13 alone keeps only the first. */
static void
make_padded_words(FILE *f)
{
	fputs("From: =?utf-8?B?56aP5bee5biC5biC5Zy655uR552j566h55CG5bGAIA==?= =?utf-8?B?5Yqe5YWs5a6k?= <a@b>\n"
	      "Subject: =?utf-8?b?56aP5bee5biC5biC5Zy655uR552j566h55CG5bGAIOi0qOmHj+aciA==?=\n =?utf-8?b?5rS75Yqo5oC757uT?=\n"
	      "Content-Type: multipart/mixed; boundary=a\n\n"
	      "--a\nContent-Type: text/plain; charset=utf-8\n\n图1：甲\n"
	      "--a\nContent-Type: image/jpeg\n"
	      "Content-Disposition: attachment;\n"
	      " filename=\"=?UTF-8?B?5byA5bmV5byP546w5Zy654Wn54mHIA==?= =?UTF-8?B?77yI5LiA77yJLmpwZw==?=\"\n"
	      "Content-Transfer-Encoding: base64\n\n/9j/4AAQ\n--a--\n", f);
}

static const struct gen_case gen_cases[] = {
	{ "3 MB body cut at 1 MiB", make_long_body, "long", "质量月\n",
	  1024 * 1024, 1, 0, NULL, 0, NULL },
	{ "white space before the headers", make_leading_space, "leading",
	  "body", 0, 1, 0, NULL, 0, NULL },
	{ "base64 message/rfc822", make_b64_forward, "b64 forward",
	  "图2：内层", 0, 6, 1, "inner.pdf", 1, NULL },
	{ "multipart/signed", make_signed, "signed", "signed text", 0, 5, 1,
	  "a.jpg", 0, NULL },
	{ "GBK body without charset", make_gbk_no_charset, "gbk", "质量月活动",
	  0, 1, 0, NULL, 0, NULL },
	{ "text, picture, text", make_apple_split, "split", "图1：甲\n图2：乙",
	  0, 4, 1, "1.jpg", 0, NULL },
	{ "padded base64 words", make_padded_words,
	  "福州市市场监督管理局 质量月活动总结", "图1：甲", 0, 3, 1,
	  "开幕式现场照片 （一）.jpg", 0, "福州市市场监督管理局 办公室" },
};

/* ---- helpers --------------------------------------------------------- */

static unsigned
count_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	unsigned n = 0;

	while (d != NULL && g_dir_read_name(d) != NULL)
		n++;
	if (d != NULL)
		g_dir_close(d);
	return n;
}

static void
remove_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while (d != NULL && (name = g_dir_read_name(d)) != NULL) {
		char *p = g_build_filename(dir, name, NULL);

		unlink(p);
		g_free(p);
	}
	if (d != NULL)
		g_dir_close(d);
	rmdir(dir);
}

static int64_t
file_size(const char *path)
{
	struct stat st;

	return path != NULL && stat(path, &st) == 0 ? (int64_t)st.st_size : -1;
}

static bool
same_bytes(const char *path, const char *fixture)
{
	char *a = NULL, *b = NULL, *fp = g_strconcat(FIXTURES, fixture, NULL);
	gsize la = 0, lb = 0;
	bool same;

	same = g_file_get_contents(path, &a, &la, NULL) &&
	       g_file_get_contents(fp, &b, &lb, NULL) && la == lb &&
	       memcmp(a, b, la) == 0;
	g_free(a);
	g_free(b);
	g_free(fp);
	return same;
}

static struct message *
parse_fixture(const char *file, const char *work, GError **error)
{
	struct limits_config lim;
	char *path = g_strconcat(FIXTURES, file, NULL);
	struct message *m;

	config_limits_defaults(&lim);
	m = message_parse(path, work, &lim, error);
	g_free(path);
	return m;
}

static void
check_part(const char *file, unsigned i, const struct msg_part *p,
	   const struct part_want *want, const char *work)
{
	char name[256], sha[SHA256_HEX_LEN + 1];

#define N(what) (g_snprintf(name, sizeof(name), "%s part %u %s", file, i, \
			    what), name)
	T_STREQ(N("filename"), p->filename, want->filename);
	T_INTEQ(N("named"), p->named, want->named);
	T_STREQ(N("content_type"), p->content_type, want->type);
	T_INTEQ(N("is_inline"), p->is_inline, want->is_inline);
	T_INTEQ(N("depth"), p->depth, want->depth);
	T_STREQ(N("content_id"), p->content_id, want->content_id);
	T_CHECK(N("path under work_dir"),
		p->path != NULL && g_str_has_prefix(p->path, work) &&
			strstr(p->path + strlen(work), "..") == NULL);
	if (want->same_as != NULL)
		T_CHECK(N("bytes equal the original"),
			same_bytes(p->path, want->same_as));
	if (want->size >= 0)
		T_INTEQ(N("size"), p->size, want->size);
	T_INTEQ(N("size is the file's"), p->size, file_size(p->path));
	T_CHECK(N("sha256 is the file's"),
		p->sha256 != NULL && rawstore_hash_file(p->path, sha, NULL) &&
			strcmp(sha, p->sha256) == 0);
#undef N
}

static void
run_case(const struct msg_case *c)
{
	char *work = g_dir_make_tmp("intake-msg-XXXXXX", NULL);
	GError *err = NULL;
	struct message *m = parse_fixture(c->file, work, &err);
	char name[256];

#define N(what) (g_snprintf(name, sizeof(name), "%s %s", c->file, what), name)
	T_CHECK(N("parses"), m != NULL);
	if (m == NULL) {
		fprintf(stderr, "%s: %s\n", c->file, err ? err->message : "?");
		g_clear_error(&err);
		remove_dir(work);
		g_free(work);
		return;
	}
	T_STREQ(N("subject"), m->subject, c->subject);
	T_STREQ(N("from_addr"), m->from_addr, c->from_addr);
	T_STREQ(N("from_name"), m->from_name, c->from_name);
	T_STREQ(N("message_id"), m->message_id, c->message_id);
	T_STREQ(N("content_type"), m->content_type, c->content_type);
	T_CHECK(N("body_text not NULL"), m->body_text != NULL);
	if (c->body != NULL)
		T_STREQ(N("body_text"), m->body_text, c->body);
	for (int i = 0; i < 3 && c->body_has[i] != NULL; i++)
		T_CHECK((g_snprintf(name, sizeof(name), "%s body has #%d",
				    c->file, i + 1), name),
			m->body_text && strstr(m->body_text, c->body_has[i]));
	if (c->body_not != NULL)
		T_CHECK(N("body lacks unwanted text"),
			m->body_text && !strstr(m->body_text, c->body_not));
	T_CHECK(N("body is UTF-8"),
		m->body_text && g_utf8_validate(m->body_text, -1, NULL));
	T_INTEQ(N("has body_html"), m->body_html != NULL, c->has_html);
	T_INTEQ(N("n_parts"), m->n_parts, c->n_parts);
	T_INTEQ(N("is_report"), m->is_report, c->is_report);
	T_STREQ(N("report_original_id"), m->report_original_id, c->report_id);
	T_INTEQ(N("attachments"), m->parts->len, c->n_att);
	T_INTEQ(N("files in work_dir"), count_dir(work), c->n_att);
	for (unsigned i = 0; i < m->parts->len && i < c->n_att; i++)
		check_part(c->file, i, g_ptr_array_index(m->parts, i),
			   &c->att[i], work);
#undef N
	message_free(m);
	remove_dir(work);
	g_free(work);
}

static void
run_field(const struct field_case *c)
{
	char *work = g_dir_make_tmp("intake-msg-XXXXXX", NULL);
	struct message *m = parse_fixture(c->file, work, NULL);
	char name[256];

	g_snprintf(name, sizeof(name), "%s %s", c->file, c->label);
	if (m == NULL)
		T_CHECK(name, m != NULL);
	else
		T_STREQ(name, *(char **)((char *)m + c->offset), c->want);
	message_free(m);
	remove_dir(work);
	g_free(work);
}

static void
run_flag(const struct flag_case *c)
{
	char *work = g_dir_make_tmp("intake-msg-XXXXXX", NULL);
	struct message *m = parse_fixture(c->file, work, NULL);
	char name[256];

	g_snprintf(name, sizeof(name), "%s %s", c->file, c->label);
	if (m == NULL)
		T_CHECK(name, m != NULL);
	else
		T_INTEQ(name, c->get(m), c->want);
	message_free(m);
	remove_dir(work);
	g_free(work);
}

static void
run_limit(const struct limit_case *c)
{
	char *work = g_dir_make_tmp("intake-msg-XXXXXX", NULL);
	char *gen = g_dir_make_tmp("intake-gen-XXXXXX", NULL);
	char *path;
	struct limits_config lim;
	struct message *m;
	GError *err = NULL;
	char name[256];

	if (c->make != NULL) {
		FILE *f;

		path = g_build_filename(gen, "m.eml", NULL);
		f = fopen(path, "w");
		if (f != NULL) {
			c->make(f);
			fclose(f);
		}
	} else {
		path = g_strconcat(FIXTURES, c->fixture, NULL);
	}
	config_limits_defaults(&lim);
	c->tune(&lim);
	m = message_parse(path, work, &lim, &err);
	g_snprintf(name, sizeof(name), "limit %s refused", c->label);
	T_CHECK(name, m == NULL && err != NULL);
	g_snprintf(name, sizeof(name), "limit %s error code", c->label);
	T_INTEQ(name, err != NULL && err->domain == INTAKE_ERROR ?
			      err->code : -1, c->code);
	g_snprintf(name, sizeof(name), "limit %s leaves no file", c->label);
	T_INTEQ(name, count_dir(work), 0);
	if (err != NULL)
		fprintf(stderr, "limit %s: %s\n", c->label, err->message);
	g_clear_error(&err);
	message_free(m);
	remove_dir(work);
	remove_dir(gen);
	g_free(work);
	g_free(gen);
	g_free(path);
}

static void
run_gen(const struct gen_case *c)
{
	char *work = g_dir_make_tmp("intake-msg-XXXXXX", NULL);
	char *gen = g_dir_make_tmp("intake-gen-XXXXXX", NULL);
	char *path = g_build_filename(gen, "m.eml", NULL);
	struct limits_config lim;
	struct message *m;
	GError *err = NULL;
	FILE *f = fopen(path, "w");
	char name[256];

#define N(what) (g_snprintf(name, sizeof(name), "gen %s %s", c->label, \
			    what), name)
	if (f != NULL) {
		c->make(f);
		fclose(f);
	}
	config_limits_defaults(&lim);
	m = message_parse(path, work, &lim, &err);
	T_CHECK(N("parses"), m != NULL);
	if (m != NULL) {
		const struct msg_part *p0 = m->parts->len > 0 ?
			g_ptr_array_index(m->parts, 0) : NULL;

		if (c->subject != NULL)
			T_STREQ(N("subject"), m->subject, c->subject);
		if (c->from_name != NULL)
			T_STREQ(N("from name"), m->from_name, c->from_name);
		T_CHECK(N("body has"), strstr(m->body_text, c->body_has));
		T_CHECK(N("body is UTF-8"),
			g_utf8_validate(m->body_text, -1, NULL));
		if (c->body_max > 0)
			T_CHECK(N("body bounded"),
				strlen(m->body_text) <= c->body_max &&
					strlen(m->body_text) > c->body_max - 16);
		T_INTEQ(N("n_parts"), m->n_parts, c->n_parts);
		T_INTEQ(N("attachments"), m->parts->len, c->n_att);
		if (c->att0_name != NULL) {
			T_STREQ(N("first name"), p0 ? p0->filename : NULL,
				c->att0_name);
			T_INTEQ(N("first depth"), p0 ? p0->depth : 99,
				c->att0_depth);
		}
		T_INTEQ(N("files in work_dir"), count_dir(work), c->n_att);
	} else {
		fprintf(stderr, "gen %s: %s\n", c->label,
			err ? err->message : "?");
	}
#undef N
	g_clear_error(&err);
	message_free(m);
	remove_dir(work);
	remove_dir(gen);
	g_free(work);
	g_free(gen);
	g_free(path);
}

int
main(void)
{
	size_t i;

	message_init();
	for (i = 0; i < G_N_ELEMENTS(cases); i++)
		run_case(&cases[i]);
	for (i = 0; i < G_N_ELEMENTS(fields); i++)
		run_field(&fields[i]);
	for (i = 0; i < G_N_ELEMENTS(flags); i++)
		run_flag(&flags[i]);
	for (i = 0; i < G_N_ELEMENTS(gen_cases); i++)
		run_gen(&gen_cases[i]);
	for (i = 0; i < G_N_ELEMENTS(limit_cases); i++)
		run_limit(&limit_cases[i]);
	return t_done();
}
