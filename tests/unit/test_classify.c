/*
 * test_classify.c - classify_headers() and friends on hand-built messages
 */
#include <string.h>

#include "classify.h"
#include "message.h"
#include "t.h"

#define OWN "7263441@qq.com"

struct cls_case {
	const char *label;
	const char *from;
	const char *subject;
	const char *return_path;	/* NULL: no Return-Path header */
	const char *auto_submitted;
	const char *precedence;
	bool list;
	const char *loop;
	const char *suppress;
	bool report;
	unsigned attachments;
	enum msg_kind want;
};

static const struct cls_case cases[] = {
	{ "plain submission", "fzscjgj@qq.com", "质量月活动总结", "fzscjgj@qq.com",
	  NULL, NULL, false, NULL, NULL, false, 2, KIND_SUBMISSION },
	{ "Auto-Submitted auto-replied", "a@b.cn", "Re: x", NULL,
	  "auto-replied", NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "Auto-Submitted auto-generated", "a@b.cn", "x", NULL,
	  "auto-generated", NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "Auto-Submitted no", "a@b.cn", "x", NULL, "no", NULL, false, NULL,
	  NULL, false, 1, KIND_SUBMISSION },
	{ "Auto-Submitted No (comment)", "a@b.cn", "x", NULL, " No (ok)", NULL,
	  false, NULL, NULL, false, 1, KIND_SUBMISSION },
	{ "Precedence bulk", "news@b.cn", "x", NULL, NULL, "bulk", false, NULL,
	  NULL, false, 0, KIND_AUTO },
	{ "Precedence list", "a@b.cn", "x", NULL, NULL, "List", false, NULL,
	  NULL, false, 0, KIND_AUTO },
	{ "Precedence junk", "a@b.cn", "x", NULL, NULL, "junk", false, NULL,
	  NULL, false, 0, KIND_AUTO },
	{ "Precedence auto_reply", "a@b.cn", "x", NULL, NULL, "auto_reply",
	  false, NULL, NULL, false, 0, KIND_AUTO },
	{ "Precedence first-class", "a@b.cn", "x", NULL, NULL, "first-class",
	  false, NULL, NULL, false, 1, KIND_SUBMISSION },
	{ "List-Id", "list@b.cn", "x", NULL, NULL, NULL, true, NULL, NULL,
	  false, 1, KIND_AUTO },
	{ "null return path", "a@b.cn", "hello", "", NULL, NULL, false, NULL,
	  NULL, false, 0, KIND_AUTO },
	{ "null return path, bounce subject", "a@b.cn",
	  "Undelivered Mail Returned to Sender", "", NULL, NULL, false, NULL,
	  NULL, false, 0, KIND_BOUNCE },
	{ "MAILER-DAEMON failure notice", "MAILER-DAEMON@mx.b.cn",
	  "failure notice", "x@y", NULL, NULL, false, NULL, NULL, false, 0,
	  KIND_BOUNCE },
	{ "postmaster 系统退信", "postmaster@qq.com", "系统退信", NULL, NULL,
	  NULL, false, NULL, NULL, false, 0, KIND_BOUNCE },
	{ "mailer-daemon without domain", "mailer-daemon",
	  "Returned mail: see transcript", NULL, NULL, NULL, false, NULL, NULL,
	  false, 0, KIND_BOUNCE },
	{ "MAILER-DAEMON other subject", "mailer-daemon@b.cn", "hello", NULL,
	  NULL, NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "delivery-status report", "someone@b.cn", "x", NULL, NULL, NULL,
	  false, NULL, NULL, true, 0, KIND_BOUNCE },
	{ "noreply", "noreply@service.cn", "x", NULL, NULL, NULL, false, NULL,
	  NULL, false, 1, KIND_AUTO },
	{ "no-reply", "No-Reply@service.cn", "x", NULL, NULL, NULL, false,
	  NULL, NULL, false, 1, KIND_AUTO },
	{ "do-not-reply", "do-not-reply@service.cn", "x", NULL, NULL, NULL,
	  false, NULL, NULL, false, 0, KIND_AUTO },
	{ "donotreply", "DoNotReply@service.cn", "x", NULL, NULL, NULL, false,
	  NULL, NULL, false, 0, KIND_AUTO },
	{ "noreply prefix", "noreply-notify@service.cn", "x", NULL, NULL, NULL,
	  false, NULL, NULL, false, 0, KIND_AUTO },
	{ "own address", "7263441@QQ.com", "x", NULL, NULL, NULL, false, NULL,
	  NULL, false, 1, KIND_AUTO },
	{ "loop header", "a@b.cn", "x", NULL, NULL, NULL, false, OWN, NULL,
	  false, 0, KIND_AUTO },
	{ "X-Auto-Response-Suppress alone", "a@b.cn", "质量月", "a@b.cn", NULL,
	  NULL, false, NULL, "All", false, 1, KIND_SUBMISSION },
	{ "自动回复 subject", "a@b.cn", "自动回复：您的邮件", NULL, NULL, NULL,
	  false, NULL, NULL, false, 0, KIND_AUTO },
	{ "Automatic reply subject", "a@b.cn", "Automatic reply: x", NULL, NULL,
	  NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "Out of Office subject", "a@b.cn", "Out of Office: x", NULL, NULL,
	  NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "休假 subject", "a@b.cn", "休假通知", NULL, NULL, NULL, false, NULL,
	  NULL, false, 0, KIND_AUTO },
	{ "自动答复 (Outlook zh)", "a@b.cn", "自动答复: 质量月", NULL, NULL,
	  NULL, false, NULL, NULL, false, 0, KIND_AUTO },
	{ "auto subject with attachments", "a@b.cn", "自动回复 质量月照片",
	  NULL, NULL, NULL, false, NULL, NULL, false, 2, KIND_SUBMISSION },
	{ "ordinary return path", "a@b.cn", "x", "a@b.cn", NULL, NULL, false,
	  NULL, NULL, false, 0, KIND_SUBMISSION },
	{ "Undeliverable from a person", "a@b.cn", "Undeliverable: 质量月",
	  "a@b.cn", NULL, NULL, false, NULL, NULL, false, 1, KIND_SUBMISSION },
	{ "no From at all", NULL, "", NULL, NULL, NULL, false, NULL, NULL,
	  false, 0, KIND_SUBMISSION },
	{ "postmaster-ish local part", "postmasters@b.cn", "x", NULL, NULL,
	  NULL, false, NULL, NULL, false, 0, KIND_SUBMISSION },
};

struct kw_case {
	const char *text;
	const char *const *keywords;
	bool want;
};

static const char *const kw_campaign[] = { "质量月", "活动总结", NULL };
static const char *const kw_ascii[] = { "Quality Month", NULL };
static const char *const kw_none[] = { NULL };
static const char *const kw_empty[] = { "", NULL };

static const struct kw_case kws[] = {
	{ "关于2022年质量月的报送", kw_campaign, true },
	{ "附件：活动总结.docx", kw_campaign, true },
	{ "会议通知", kw_campaign, false },
	{ "the QUALITY month report", kw_ascii, true },
	{ "quality-month", kw_ascii, false },
	{ "anything", kw_none, false },
	{ "anything", kw_empty, false },
	{ NULL, kw_campaign, false },
	{ "", kw_campaign, false },
	{ "质量", kw_campaign, false },
};

struct final_case {
	unsigned items;
	bool keyword;
	bool captions;
	enum msg_kind want;
};

static const struct final_case finals[] = {
	{ 0, false, false, KIND_OTHER },
	{ 1, false, false, KIND_SUBMISSION },
	{ 0, true, false, KIND_SUBMISSION },
	{ 0, false, true, KIND_SUBMISSION },
	{ 3, true, true, KIND_SUBMISSION },
};

struct name_case {
	enum msg_kind kind;
	const char *want;
};

static const struct name_case names[] = {
	{ KIND_SUBMISSION, "submission" },
	{ KIND_AUTO, "auto" },
	{ KIND_BOUNCE, "bounce" },
	{ KIND_OTHER, "other" },
};

int
main(void)
{
	char label[200];
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		const struct cls_case *c = &cases[i];
		struct message m = { 0 };
		const char *why = NULL;
		enum msg_kind got;

		m.from_addr = (char *)c->from;
		m.subject = (char *)c->subject;
		m.return_path = (char *)c->return_path;
		m.has_return_path = c->return_path != NULL;
		m.auto_submitted = (char *)c->auto_submitted;
		m.precedence = (char *)c->precedence;
		m.has_list_header = c->list;
		m.loop_header = (char *)c->loop;
		m.auto_response_suppress = (char *)c->suppress;
		m.is_report = c->report;
		m.content_type = (char *)(c->report ? "multipart/report"
						    : "multipart/mixed");
		m.parts = g_ptr_array_new();
		for (unsigned a = 0; a < c->attachments; a++)
			g_ptr_array_add(m.parts, NULL);
		got = classify_headers(&m, OWN, &why);
		g_snprintf(label, sizeof(label), "classify %s", c->label);
		T_STREQ(label, msg_kind_name(got), msg_kind_name(c->want));
		g_snprintf(label, sizeof(label), "classify %s has a reason",
			   c->label);
		T_CHECK(label, why != NULL && *why != '\0');
		g_ptr_array_unref(m.parts);
	}
	for (i = 0; i < G_N_ELEMENTS(kws); i++) {
		g_snprintf(label, sizeof(label), "keyword #%zu \"%s\"", i,
			   kws[i].text ? kws[i].text : "(null)");
		T_INTEQ(label,
			classify_has_keyword(kws[i].text, kws[i].keywords),
			kws[i].want);
	}
	for (i = 0; i < G_N_ELEMENTS(finals); i++) {
		g_snprintf(label, sizeof(label), "final #%zu", i);
		T_STREQ(label,
			msg_kind_name(classify_final(finals[i].items,
						     finals[i].keyword,
						     finals[i].captions)),
			msg_kind_name(finals[i].want));
	}
	for (i = 0; i < G_N_ELEMENTS(names); i++) {
		g_snprintf(label, sizeof(label), "msg_kind_name %s",
			   names[i].want);
		T_STREQ(label, msg_kind_name(names[i].kind), names[i].want);
	}
	return t_done();
}
