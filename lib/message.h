/*
 * message.h - a raw message parsed with GMime into what the checks need
 *
 * message_parse() opens the raw file with a persistent GMime file stream
 * (nothing of the message is held in memory), decodes headers to UTF-8
 * (fallback charsets UTF-8, then GB18030; GB2312 and GBK are read as
 * GB18030), extracts the body text, and writes every attachment and every
 * inline picture decoded to its own file under work_dir.  Limits
 * (parts, nesting, decoded bytes) come from struct limits_config; over a
 * limit the parse fails with INTAKE_ERROR_LIMIT and a reason a person
 * can read.
 *
 * The struct message and everything in it belongs to the caller:
 * message_free().  Files under work_dir belong to the caller too.
 */
#ifndef INTAKE_MESSAGE_H
#define INTAKE_MESSAGE_H

#include "common.h"

struct limits_config;

struct msg_part {
	char *filename;     /* as the sender named it, UTF-8; never NULL:
			       "附件1.jpg" style when the sender gave none */
	bool named;         /* the sender gave a name */
	char *content_type; /* "image/jpeg", lower case */
	char *path;         /* decoded content, under work_dir */
	uint64_t size;      /* decoded bytes */
	char *sha256;       /* SHA-256 of the decoded bytes (64 hex digits),
			       taken while they were written; NULL: the
			       checks read the file for it */
	bool is_inline;     /* Content-Disposition: inline or no name, in
			       an HTML body (multipart/related) */
	char *content_id;   /* without <>, or NULL */
	unsigned depth;     /* 0 top level; >0 inside a forwarded message */
};

struct message {
	char *message_id;   /* without <>, or NULL */
	char *from_addr;    /* lower case, or NULL */
	char *from_name;    /* decoded display name, or NULL */
	char *reply_to;     /* address, lower case, or NULL */
	char *subject;      /* decoded, UTF-8, "" when absent */
	char *date;         /* the Date header as written, or NULL */
	int64_t date_unix;  /* parsed Date, 0 when absent or invalid */
	char *in_reply_to;  /* without <>, or NULL */
	char *references;   /* as written, or NULL */

	/* What classify needs (RFC 3834); raw values or NULL. */
	char *return_path;     /* "" for <> */
	bool has_return_path;
	char *auto_submitted;
	char *precedence;
	bool has_list_header;  /* any List-* header */
	char *loop_header;     /* our X-Intake-Loop, if present */
	bool has_autoreply;    /* X-Autoreply or X-Autorespond (QQ Mail,
				  vacation programs), other than "no" */
	char *auto_response_suppress;
	char *authentication_results;
	char *content_type;    /* top-level, "multipart/mixed" */

	/* Delivery status notifications (multipart/report). */
	bool is_report;
	char *report_original_id; /* Message-ID of the bounced mail */

	char *body_text;    /* plain text, UTF-8, bounded; HTML bodies are
			       converted to text; never NULL */
	char *body_html;    /* the HTML body, UTF-8, bounded, or NULL */

	GPtrArray *parts;   /* struct msg_part *, in message order */
	unsigned n_parts;   /* MIME parts seen, all kinds */

	/* An inline forward in body_text ("-------- 转发的邮件 --------",
	 * "-----Original Message-----", "------------------ 原始邮件
	 * ------------------", ...): the Subject / 主题 line of the first
	 * forwarded header block, UTF-8, one line; NULL when there is none.
	 * Forwards attached as message/rfc822 are parts, not this. */
	char *forward_subject;
};

struct message *message_parse(const char *raw_path, const char *work_dir,
			      const struct limits_config *limits,
			      GError **error);
void message_free(struct message *msg);

/* A header block alone (a message too large to download: toolarge.c),
 * given whole in memory: the header fields as message_parse() sets them;
 * body_text is "", there are no parts. */
struct message *message_parse_header(const void *data, size_t len,
				     GError **error);

/* One-time GMime set-up (idempotent).  message_parse() calls it. */
void message_init(void);

#endif
