/*
 * classify.c - what kind of mail is this? (pure: no I/O)
 *
 * NAME
 *	classify_headers, classify_final - submissions, auto-replies, bounces
 *
 * DESCRIPTION
 *	RFC 3834 and the usual practice, in this order:
 *
 *	bounce	a multipart/report with report-type=delivery-status, or a
 *		null return path or a MAILER-DAEMON/postmaster sender
 *		together with a subject that says the mail was not
 *		delivered (old MTAs send plain-text bounces);
 *	auto	Auto-Submitted other than "no"; Precedence bulk, list,
 *		junk or auto_reply; any List-* header; a null return path;
 *		a sender whose local part is mailer-daemon, postmaster or a
 *		no-reply variant; the mailbox's own address in From; our
 *		own X-Intake-Loop header; X-Autoreply or X-Autorespond
 *		(QQ Mail, vacation programs); any other multipart/report (read
 *		receipts, abuse feedback); a subject that begins with an
 *		auto-reply label and a colon ("自动回复：", "Automatic
 *		reply:", as Outlook and QQ Mail write them, attachments or
 *		not); then, as a secondary signal only when the message
 *		carries no attachment, an out-of-office word anywhere in the
 *		subject (自动回复, Automatic reply, Out of Office, 休假, ...).
 *
 *	X-Auto-Response-Suppress is not a reason by itself: Outlook puts
 *	it on ordinary mail.  Everything else is a candidate submission;
 *	classify_final() then needs an item, a keyword or a caption.
 */
#include <string.h>

#include "classify.h"
#include "message.h"

/* Subjects of plain-text bounces (matched case-insensitively). */
static const char *const bounce_subjects[] = {
	"undeliver", "delivery status notification", "delivery failure",
	"delivery has failed", "delivery failed", "failure notice",
	"returned mail", "non-delivery", "could not be delivered",
	"mail system error",
	"退信", "未能送达", "投递失败", "无法投递", "发送失败", "递送失败",
};

/* Out-of-office and other auto-reply subjects. */
static const char *const auto_subjects[] = {
	"自动回复", "自动答复", "auto-reply", "autoreply", "auto reply",
	"automatic reply", "out of office", "out-of-office", "休假",
};

/* Local parts that never read their mail. */
static const char *const robot_locals[] = {
	"mailer-daemon", "postmaster",
};
static const char *const noreply_prefixes[] = {
	"noreply", "no-reply", "no_reply", "donotreply", "do-not-reply",
	"do_not_reply",
};

/* Labels an auto-reply's subject begins with, before ':' or '：'. */
static const char *const auto_labels[] = {
	"自动回复", "自动答复", "auto-reply", "autoreply", "auto reply",
	"automatic reply", "out of office", "out-of-office",
};

static const char *const auto_precedence[] = {
	"bulk", "list", "junk", "auto_reply",
};

static const char *const auto_submitted_no[] = { "no" };

const char *
msg_kind_name(enum msg_kind kind)
{
	switch (kind) {
	case KIND_SUBMISSION:
		return "submission";
	case KIND_AUTO:
		return "auto";
	case KIND_BOUNCE:
		return "bounce";
	case KIND_OTHER:
		break;
	}
	return "other";
}

/* Case-insensitive (ASCII) substring test; other bytes exactly. */
static bool
cls_contains(const char *text, const char *needle)
{
	size_t n = strlen(needle);
	const char *p;

	if (text == NULL || n == 0)
		return false;
	for (p = text; *p != '\0'; p++)
		if (g_ascii_strncasecmp(p, needle, n) == 0)
			return true;
	return false;
}

static bool
cls_contains_any(const char *text, const char *const *needles, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (cls_contains(text, needles[i]))
			return true;
	return false;
}

/* The token of a header value before any ';' or comment, trimmed,
 * compared case-insensitively with each of names. */
static bool
cls_token_is(const char *value, const char *const *names, size_t n)
{
	char token[64];
	size_t len = 0, i;

	if (value == NULL)
		return false;
	while (*value == ' ' || *value == '\t')
		value++;
	while (len < sizeof(token) - 1 && value[len] != '\0' &&
	       strchr(";( \t", value[len]) == NULL)
		len++;
	memcpy(token, value, len);
	token[len] = '\0';
	for (i = 0; i < n; i++)
		if (g_ascii_strcasecmp(token, names[i]) == 0)
			return true;
	return false;
}

/* From's local part: mailer-daemon, postmaster (robot) or no-reply. */
static bool
cls_sender_is(const struct message *msg, bool robots, bool noreply)
{
	const char *addr = msg->from_addr, *at;
	char local[128];
	size_t len, i;

	if (addr == NULL)
		return false;
	at = strrchr(addr, '@');
	len = at != NULL ? (size_t)(at - addr) : strlen(addr);
	if (len >= sizeof(local))
		return false;
	memcpy(local, addr, len);
	local[len] = '\0';
	for (i = 0; robots && i < G_N_ELEMENTS(robot_locals); i++)
		if (g_ascii_strcasecmp(local, robot_locals[i]) == 0)
			return true;
	for (i = 0; noreply && i < G_N_ELEMENTS(noreply_prefixes); i++)
		if (g_ascii_strncasecmp(local, noreply_prefixes[i],
					strlen(noreply_prefixes[i])) == 0)
			return true;
	return false;
}

/* The subject begins (after blanks) with a label, then ':' or '：'. */
static bool
cls_labelled(const char *subject)
{
	const char *p = subject;
	size_t i, n;

	if (p == NULL)
		return false;
	while (*p == ' ' || *p == '\t')
		p++;
	for (i = 0; i < G_N_ELEMENTS(auto_labels); i++) {
		n = strlen(auto_labels[i]);
		if (g_ascii_strncasecmp(p, auto_labels[i], n) != 0)
			continue;
		while (p[n] == ' ')
			n++;
		if (p[n] == ':' || strncmp(p + n, "：", strlen("：")) == 0)
			return true;
	}
	return false;
}

/* A multipart/report other than a delivery status (those are bounces):
 * read receipts (RFC 8098) and abuse reports are machine-made. */
static bool
cls_other_report(const struct message *msg)
{
	static const char *const report[] = { "multipart/report" };

	return cls_token_is(msg->content_type, report, G_N_ELEMENTS(report));
}

static bool
cls_null_sender(const struct message *msg)
{
	return msg->has_return_path && msg->return_path != NULL &&
	       msg->return_path[0] == '\0';
}

static enum msg_kind
cls_why(enum msg_kind kind, const char *why, const char **why_r)
{
	if (why_r != NULL)
		*why_r = why;
	return kind;
}

enum msg_kind
classify_headers(const struct message *msg, const char *own_address,
		 const char **why_r)
{
	bool attachments = msg->parts != NULL && msg->parts->len > 0;

	if (msg->is_report)
		return cls_why(KIND_BOUNCE, "delivery status report", why_r);
	if ((cls_null_sender(msg) || cls_sender_is(msg, true, false)) &&
	    cls_contains_any(msg->subject, bounce_subjects,
			     G_N_ELEMENTS(bounce_subjects)))
		return cls_why(KIND_BOUNCE, "non-delivery notice", why_r);
	if (msg->auto_submitted != NULL && msg->auto_submitted[0] != '\0' &&
	    !cls_token_is(msg->auto_submitted, auto_submitted_no,
			  G_N_ELEMENTS(auto_submitted_no)))
		return cls_why(KIND_AUTO, "Auto-Submitted", why_r);
	if (cls_token_is(msg->precedence, auto_precedence,
			 G_N_ELEMENTS(auto_precedence)))
		return cls_why(KIND_AUTO, "Precedence", why_r);
	if (msg->has_list_header)
		return cls_why(KIND_AUTO, "List-* header", why_r);
	if (cls_null_sender(msg))
		return cls_why(KIND_AUTO, "null return path", why_r);
	if (cls_sender_is(msg, true, true))
		return cls_why(KIND_AUTO, "robot sender", why_r);
	if (own_address != NULL && *own_address != '\0' &&
	    msg->from_addr != NULL &&
	    g_ascii_strcasecmp(msg->from_addr, own_address) == 0)
		return cls_why(KIND_AUTO, "from our own address", why_r);
	if (msg->loop_header != NULL)
		return cls_why(KIND_AUTO, "our loop header", why_r);
	if (msg->has_autoreply)
		return cls_why(KIND_AUTO, "X-Autoreply", why_r);
	if (cls_other_report(msg))
		return cls_why(KIND_AUTO, "report", why_r);
	if (cls_labelled(msg->subject))
		return cls_why(KIND_AUTO, "auto-reply subject", why_r);
	if (!attachments && cls_contains_any(msg->subject, auto_subjects,
					     G_N_ELEMENTS(auto_subjects)))
		return cls_why(KIND_AUTO, "out-of-office subject", why_r);
	return cls_why(KIND_SUBMISSION, "candidate", why_r);
}

bool
classify_has_keyword(const char *text, const char *const *keywords)
{
	size_t i;

	if (text == NULL || keywords == NULL)
		return false;
	for (i = 0; keywords[i] != NULL; i++)
		if (cls_contains(text, keywords[i]))
			return true;
	return false;
}

enum msg_kind
classify_final(unsigned candidate_items, bool has_keyword,
	       bool has_captions_for_filed)
{
	if (candidate_items > 0 || has_keyword || has_captions_for_filed)
		return KIND_SUBMISSION;
	return KIND_OTHER;
}
