/*
 * message.c - a raw message parsed with GMime into what the checks need
 *
 * NAME
 *	message_parse - headers, body text and decoded attachments
 *
 * DESCRIPTION
 *	The order is fixed: a cheap pass over the file first (size, the
 *	top-level header block, lines that look like MIME boundaries), so
 *	that a message GMime would spend hundreds of megabytes on (200,000
 *	tiny parts) is refused before it is parsed; then GMime parses over
 *	a persistent file stream, so part contents stay on disk; then one
 *	walk over the MIME tree, bounded in depth (limits->max_depth) and
 *	in parts (limits->max_parts), decodes every attachment straight to
 *	its own file under work_dir (part-001, part-002, ...; the sender's
 *	name never becomes a path), counting decoded bytes against
 *	limits->max_decoded_bytes.  The decoding half (files, text
 *	parts, uuencode, names) is msgdecode.c; the check of the raw file
 *	against the limits before parsing is prescan.c.
 *
 *	Choices where the brief left room:
 *	- Nesting deeper than max_depth refuses the whole message
 *	  (INTAKE_ERROR_LIMIT), as more parts than max_parts does: silently
 *	  dropping parts would lose items without telling anyone.
 *	- The body text is every displayed text part in order, not only
 *	  the first: of multipart/alternative the text/plain child (the
 *	  HTML one, flattened, when there is no plain one); Apple Mail's
 *	  text, picture, text sequences are joined; the bodies of forwarded
 *	  messages (message/rfc822) follow the outer body, so captions
 *	  written in a forwarded mail are found.  1 MiB at most.
 *	- body_html is the first HTML body part, converted to UTF-8.
 *	- Signature and encryption control parts of multipart/signed and
 *	  multipart/encrypted are protocol, not attachments.
 *	- The bounced message inside a delivery report is read for its
 *	  Message-ID only; its attachments are not collected.
 *	- uuencoded blocks in a text/plain body become parts (GMime's uu
 *	  decoder, streaming) and are left out of the body text; a block
 *	  that decodes to nothing is dropped.
 *
 * DIAGNOSTICS
 *	INTAKE_ERROR_LIMIT over a limit, INTAKE_ERROR_MESSAGE when GMime
 *	cannot make a message of the file, INTAKE_ERROR_IO for local file
 *	trouble.  Files written before a failure are removed again.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "config.h"
#include "message.h"
#include "mimetext.h"
#include "msgdecode.h"
#include "prescan.h"
#include "msgstream.h"

#define MSG_ADDR_SCAN 16		/* addresses looked at in From */

enum walk_flags {
	WALK_NO_BODY = 1 << 0,	/* an alternative that is not shown */
	WALK_RELATED = 1 << 1,	/* a non-root part of multipart/related */
	WALK_REPORT = 1 << 2,	/* a part of a delivery-status report */
	WALK_PROTOCOL = 1 << 3,	/* signature or encryption control part */
};

static bool walk_object(struct walk *w, GMimeObject *obj, unsigned level,
			unsigned fwd, unsigned flags, GError **error);

/* ---- small helpers --------------------------------------------------- */

void
message_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

static void
msg_part_free(struct msg_part *p)
{
	if (p == NULL)
		return;
	g_free(p->filename);
	g_free(p->content_type);
	g_free(p->path);
	g_free(p->content_id);
	g_free(p->sha256);
	g_free(p);
}

void
message_free(struct message *msg)
{
	if (msg == NULL)
		return;
	g_free(msg->message_id);
	g_free(msg->from_addr);
	g_free(msg->from_name);
	g_free(msg->reply_to);
	g_free(msg->subject);
	g_free(msg->date);
	g_free(msg->in_reply_to);
	g_free(msg->references);
	g_free(msg->return_path);
	g_free(msg->auto_submitted);
	g_free(msg->precedence);
	g_free(msg->loop_header);
	g_free(msg->auto_response_suppress);
	g_free(msg->authentication_results);
	g_free(msg->content_type);
	g_free(msg->report_original_id);
	g_free(msg->body_text);
	g_free(msg->body_html);
	g_free(msg->forward_subject);
	if (msg->parts != NULL)
		g_ptr_array_unref(msg->parts);
	g_free(msg);
}

static char *
msg_header(GMimeObject *obj, const char *name)
{
	return msgdec_clean_line(g_mime_object_get_header(obj, name),
				 MSG_LINE_MAX);
}

/* A msg-id without <>, or NULL. */
static char *
msg_id(const char *value)
{
	char *id, *clean;

	if (value == NULL)
		return NULL;
	id = g_mime_utils_decode_message_id(value);
	clean = msgdec_clean_line(id, MSG_LINE_MAX);
	g_free(id);
	if (clean != NULL && *clean == '\0') {
		g_free(clean);
		clean = NULL;
	}
	return clean;
}

static char *
msg_lower_addr(const char *addr)
{
	char *clean = msgdec_clean_line(addr, MSG_LINE_MAX), *lower;

	if (clean == NULL || *clean == '\0') {
		g_free(clean);
		return NULL;
	}
	lower = g_utf8_strdown(clean, -1);
	g_free(clean);
	return lower;
}

static bool
msg_is_type(GMimeObject *obj, const char *type, const char *subtype)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);

	return ct != NULL && g_mime_content_type_is_type(ct, type, subtype);
}

/* Appends a piece of body text: line ends made \n, bounded. */
static void
msg_body_append(struct walk *w, const char *text)
{
	GString *b = w->body;
	const char *p;

	while (*text == '\n' || *text == '\r')
		text++;
	if (*text == '\0' || b->len >= MSG_BODY_MAX)
		return;
	if (b->len > 0 && b->str[b->len - 1] != '\n')
		g_string_append_c(b, '\n');
	for (p = text; *p != '\0' && b->len < MSG_BODY_MAX + 4; p++)
		if (!(p[0] == '\r' && p[1] == '\n'))
			g_string_append_c(b, *p);
	mimetext_clamp(b, MSG_BODY_MAX);
}

static bool
walk_text(struct walk *w, GMimePart *part, bool html, unsigned fwd,
	  unsigned flags, GError **error)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	const char *charset =
		g_mime_object_get_content_type_parameter(obj, "charset");
	GByteArray *raw = NULL;
	char *text;

	if ((flags & WALK_NO_BODY) && (!html || w->msg->body_html != NULL))
		return true;
	if (!msgdec_read_text(w, part, MSG_TEXT_RAW_MAX, !html, fwd, &raw,
			      error))
		return false;
	text = mimetext_to_utf8(charset, (const char *)raw->data, raw->len,
				MSG_BODY_MAX);
	g_byte_array_unref(raw);
	if (html) {
		if (!(flags & WALK_NO_BODY)) {
			char *flat = mimetext_html_to_text(text, strlen(text),
							   MSG_BODY_MAX);

			msg_body_append(w, flat);
			g_free(flat);
		}
		if (w->msg->body_html == NULL) {
			w->msg->body_html = text;
			text = NULL;
		}
	} else {
		msg_body_append(w, text);
	}
	g_free(text);
	return true;
}

/* ---- delivery reports ----------------------------------------------- */

/* Original-Message-ID / X-Original-Message-ID in a delivery-status. */
static bool
report_status(struct walk *w, GMimePart *part, GError **error)
{
	static const char *const fields[] = { "Original-Message-ID:",
					      "X-Original-Message-ID:" };
	GByteArray *raw;
	char **lines;
	size_t i, f;

	if (!msgdec_read_text(w, part, MSG_REPORT_MAX, false, 0, &raw, error))
		return false;
	g_byte_array_append(raw, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)raw->data, "\n", -1);
	for (i = 0; lines[i] != NULL && w->dsn_id == NULL; i++) {
		for (f = 0; f < G_N_ELEMENTS(fields); f++) {
			size_t len = strlen(fields[f]);

			if (g_ascii_strncasecmp(lines[i], fields[f], len) == 0)
				w->dsn_id = msg_id(lines[i] + len);
		}
	}
	g_strfreev(lines);
	g_byte_array_unref(raw);
	return true;
}

/* The Message-ID in a text/rfc822-headers part. */
static bool
report_headers(struct walk *w, GMimePart *part, GError **error)
{
	GMimeStream *mem;
	GMimeParser *parser;
	GMimeMessage *m;
	GByteArray *raw;

	if (!msgdec_read_text(w, part, MSG_REPORT_MAX, false, 0, &raw, error))
		return false;
	mem = g_mime_stream_mem_new_with_buffer((const char *)raw->data,
						raw->len);
	parser = g_mime_parser_new_with_stream(mem);
	m = g_mime_parser_construct_message(parser, w->opts);
	if (m != NULL && w->rfc822_id == NULL)
		w->rfc822_id = msg_id(g_mime_object_get_header(GMIME_OBJECT(m),
							       "Message-ID"));
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(mem);
	g_byte_array_unref(raw);
	return true;
}

/* ---- the walk ------------------------------------------------------- */

/* Which leaves are attachments: an attachment disposition; any named
 * part that is not message/ or multipart/; any image, video, audio or
 * application leaf. */
static bool
msg_is_attachment(GMimeObject *obj, const char *disposition, bool named)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	const char *media = ct ? g_mime_content_type_get_media_type(ct) : NULL;

	if (disposition != NULL && g_ascii_strcasecmp(disposition,
						      "attachment") == 0)
		return true;
	if (media == NULL)
		return named;
	if (g_ascii_strcasecmp(media, "message") == 0 ||
	    g_ascii_strcasecmp(media, "multipart") == 0)
		return false;
	if (named)
		return true;
	return g_ascii_strcasecmp(media, "image") == 0 ||
	       g_ascii_strcasecmp(media, "video") == 0 ||
	       g_ascii_strcasecmp(media, "audio") == 0 ||
	       g_ascii_strcasecmp(media, "application") == 0;
}

static bool
walk_attachment(struct walk *w, GMimePart *part, char *name, unsigned fwd,
		unsigned flags, GError **error)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	const char *disposition = g_mime_object_get_disposition(obj);
	const char *cid = g_mime_object_get_content_id(obj);
	char sha[SHA256_HEX_LEN + 1];
	struct msg_part *p;
	const char *file;
	uint64_t size;
	char *type;

	if (w->msg->parts->len >= w->limits->max_parts) {
		g_free(name);
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件的附件超过 %u 个（[limits] max_parts）",
				   w->limits->max_parts);
	}
	if (!msgdec_save(w, part, &file, &size, sha, error)) {
		g_free(name);
		return false;
	}
	type = msgdec_mime_type(obj);
	p = msgdec_add_part(w, name, type, file, size, fwd);
	p->sha256 = g_strdup(sha);
	g_free(type);
	p->content_id = msgdec_clean_line(cid, MSG_LINE_MAX);
	if (p->content_id != NULL && *p->content_id == '\0') {
		g_free(p->content_id);
		p->content_id = NULL;
	}
	if (disposition != NULL)
		p->is_inline = g_ascii_strcasecmp(disposition, "inline") == 0;
	else
		p->is_inline = (flags & WALK_RELATED) &&
			       (cid != NULL || g_mime_part_get_content_location(
						       part) != NULL);
	return true;
}

/* A message/rfc822 part that GMime left a leaf because it has a
 * transfer encoding (RFC 2046 forbids it; webmail does it): decoded to
 * a file, parsed from there and walked as a forwarded message.  1 when
 * walked, 0 when it is no message after all, -1 on error. */
static int
walk_encoded_message(struct walk *w, GMimePart *part, unsigned level,
		     unsigned fwd, unsigned flags, GError **error)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeMessage *m;
	GMimeObject *body;
	const char *file;
	uint64_t size;
	off_t start = 0;
	int fd, result = 0;

	if (!msgdec_save(w, part, &file, &size, NULL, error))
		return -1;
	fd = openat(w->dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		msgdec_io_error(w, file, errno, error);
		msgdec_drop_file(w, file);
		return -1;
	}
	/* the same bounds as the message itself, before GMime reads it */
	if (!prescan_message(fd, file, w->limits, w->buf, &start, error)) {
		close(fd);
		msgdec_drop_file(w, file);
		return -1;
	}
	stream = g_mime_stream_fs_new_with_bounds(fd, start, -1);
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	m = g_mime_parser_construct_message(parser, w->opts);
	body = m != NULL ? g_mime_message_get_mime_part(m) : NULL;
	if (body != NULL)
		result = walk_object(w, body, level + 1, fwd + 1,
				     flags & WALK_NO_BODY, error) ? 1 : -1;
	if (m != NULL)
		g_object_unref(m);
	g_object_unref(parser);
	g_object_unref(stream);
	msgdec_drop_file(w, file);
	return result;
}

static bool
walk_leaf(struct walk *w, GMimePart *part, unsigned level, unsigned fwd,
	  unsigned flags, GError **error)
{
	GMimeObject *obj = GMIME_OBJECT(part);
	char *name;

	if (flags & WALK_PROTOCOL)
		return true;
	if (flags & WALK_REPORT) {
		if (msg_is_type(obj, "message", "delivery-status"))
			return report_status(w, part, error);
		if (msg_is_type(obj, "text", "rfc822-headers"))
			return report_headers(w, part, error);
	} else if (msg_is_type(obj, "message", "rfc822") ||
		   msg_is_type(obj, "message", "global")) {
		int r = walk_encoded_message(w, part, level, fwd, flags, error);

		if (r != 0)
			return r > 0;
	}
	name = msgdec_part_name(obj);
	if (msg_is_attachment(obj, g_mime_object_get_disposition(obj),
			      name != NULL))
		return walk_attachment(w, part, name, fwd, flags, error);
	g_free(name);
	if (msg_is_type(obj, "text", "plain"))
		return walk_text(w, part, false, fwd, flags, error);
	if (msg_is_type(obj, "text", "html"))
		return walk_text(w, part, true, fwd, flags, error);
	return true;	/* text/calendar, message/delivery-status, ... */
}

static bool
walk_message_part(struct walk *w, GMimeMessagePart *mp, unsigned level,
		  unsigned fwd, unsigned flags, GError **error)
{
	GMimeMessage *inner = g_mime_message_part_get_message(mp);
	GMimeObject *body;

	if (inner == NULL || (flags & WALK_PROTOCOL))
		return true;
	if (flags & WALK_REPORT) {
		if (w->rfc822_id == NULL)
			w->rfc822_id = msg_id(g_mime_object_get_header(
				GMIME_OBJECT(inner), "Message-ID"));
		return true;
	}
	body = g_mime_message_get_mime_part(inner);
	if (body == NULL)
		return true;
	return walk_object(w, body, level + 1, fwd + 1,
			   flags & WALK_NO_BODY, error);
}

/* Of a multipart/alternative, the child whose text is shown: the plain
 * text one, else the HTML one, else the last. */
static int
alternative_choice(GMimeMultipart *mp)
{
	int i, n = g_mime_multipart_get_count(mp), html = -1;

	for (i = 0; i < n; i++) {
		GMimeObject *c = g_mime_multipart_get_part(mp, i);

		if (msg_is_type(c, "text", "plain"))
			return i;
		if (html < 0 && msg_is_type(c, "text", "html"))
			html = i;
	}
	return html >= 0 ? html : n - 1;
}

/* Of a multipart/related, the root: the start parameter's part, else
 * the first. */
static int
related_root(GMimeMultipart *mp)
{
	const char *start = g_mime_object_get_content_type_parameter(
		GMIME_OBJECT(mp), "start");
	int i, n = g_mime_multipart_get_count(mp), root = 0;
	char *id;

	if (start == NULL)
		return 0;
	id = g_mime_utils_decode_message_id(start);
	for (i = 0; id != NULL && i < n; i++) {
		const char *cid = g_mime_object_get_content_id(
			g_mime_multipart_get_part(mp, i));

		if (cid != NULL && strcmp(cid, id) == 0) {
			root = i;
			break;
		}
	}
	g_free(id);
	return root;
}

static bool
walk_multipart(struct walk *w, GMimeMultipart *mp, unsigned level,
	       unsigned fwd, unsigned flags, GError **error)
{
	GMimeObject *obj = GMIME_OBJECT(mp);
	int i, n = g_mime_multipart_get_count(mp), chosen = -1, root = -1;
	bool report = false;

	if (msg_is_type(obj, "multipart", "alternative"))
		chosen = alternative_choice(mp);
	else if (msg_is_type(obj, "multipart", "related"))
		root = related_root(mp);
	else if (fwd == 0 && msg_is_type(obj, "multipart", "report")) {
		const char *rt = g_mime_object_get_content_type_parameter(
			obj, "report-type");

		report = rt != NULL &&
			 g_ascii_strcasecmp(rt, "delivery-status") == 0;
		if (report)
			w->msg->is_report = true;
	}
	for (i = 0; i < n; i++) {
		GMimeObject *child = g_mime_multipart_get_part(mp, i);
		unsigned cflags = flags & (WALK_NO_BODY | WALK_PROTOCOL);

		if (chosen >= 0 && i != chosen)
			cflags |= WALK_NO_BODY;
		if (root >= 0 && i != root)
			cflags |= WALK_RELATED;
		if (report)
			cflags |= WALK_REPORT;
		if ((GMIME_IS_MULTIPART_SIGNED(mp) && i == 1) ||
		    (GMIME_IS_MULTIPART_ENCRYPTED(mp) && i == 0))
			cflags |= WALK_PROTOCOL;
		if (!walk_object(w, child, level + 1, fwd, cflags, error))
			return false;
	}
	return true;
}

static bool
walk_object(struct walk *w, GMimeObject *obj, unsigned level, unsigned fwd,
	    unsigned flags, GError **error)
{
	if (++w->msg->n_parts > w->limits->max_parts)
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件的 MIME 部分超过 %u 个（[limits] "
				   "max_parts）", w->limits->max_parts);
	if (level > w->limits->max_depth)
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件的 MIME 嵌套超过 %u 层（[limits] "
				   "max_depth）", w->limits->max_depth);
	if (GMIME_IS_MULTIPART(obj))
		return walk_multipart(w, GMIME_MULTIPART(obj), level, fwd,
				      flags, error);
	if (GMIME_IS_MESSAGE_PART(obj))
		return walk_message_part(w, GMIME_MESSAGE_PART(obj), level, fwd,
					 flags, error);
	if (GMIME_IS_PART(obj))
		return walk_leaf(w, GMIME_PART(obj), level, fwd, flags, error);
	return true;
}

/* ---- headers -------------------------------------------------------- */

/* The first mailbox of list; groups are looked into one level deep. */
static InternetAddressMailbox *
msg_first_mailbox(InternetAddressList *list, bool groups)
{
	int i, n;

	if (list == NULL)
		return NULL;
	n = MIN(internet_address_list_length(list), MSG_ADDR_SCAN);
	for (i = 0; i < n; i++) {
		InternetAddress *ia = internet_address_list_get_address(list,
									 i);
		InternetAddressMailbox *mb = NULL;

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (groups && INTERNET_ADDRESS_IS_GROUP(ia))
			mb = msg_first_mailbox(internet_address_group_get_members(
						       INTERNET_ADDRESS_GROUP(ia)),
					       false);
		if (mb != NULL)
			return mb;
	}
	return NULL;
}

/* Return-Path: "<>" is "", "<a@b>" is "a@b". */
static char *
msg_return_path(const char *value)
{
	char *v = msgdec_clean_line(value, MSG_LINE_MAX), *lt, *gt, *addr;

	if (v == NULL)
		return NULL;
	lt = strchr(v, '<');
	gt = lt != NULL ? strchr(lt, '>') : NULL;
	if (lt != NULL && gt != NULL)
		addr = g_strndup(lt + 1, (gsize)(gt - lt - 1));
	else
		addr = g_strdup(v);
	g_free(v);
	g_strstrip(addr);
	v = g_ascii_strdown(addr, -1);
	g_free(addr);
	return v;
}

/* Auto-reply markers other than RFC 3834's (QQ Mail, vacation). */
static const char *const autoreply_headers[] = {
	"X-Autoreply", "X-Autorespond",
};

static void
msg_headers(struct message *msg, GMimeMessage *m)
{
	GMimeObject *obj = GMIME_OBJECT(m), *body;
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeParserOptions *opts = NULL;
	InternetAddressList *from = NULL;
	InternetAddressMailbox *mb;
	char *joined, *subject = NULL;
	GDateTime *date;
	int i, n;

	msg->message_id = msg_id(g_mime_object_get_header(obj, "Message-ID"));
	joined = msgdec_rejoined(obj, "From");
	if (joined != NULL) {
		opts = msg_parser_options();
		from = internet_address_list_parse(opts, joined);
		g_free(joined);
	}
	mb = msg_first_mailbox(from != NULL ? from : g_mime_message_get_from(m),
			       true);
	if (mb != NULL) {
		const char *name = internet_address_get_name(
			INTERNET_ADDRESS(mb));

		msg->from_addr = msg_lower_addr(
			internet_address_mailbox_get_addr(mb));
		msg->from_name = msgdec_clean_line(name, MSG_LINE_MAX);
		if (msg->from_name != NULL && *msg->from_name == '\0') {
			g_free(msg->from_name);
			msg->from_name = NULL;
		}
	}
	mb = msg_first_mailbox(g_mime_message_get_reply_to(m), true);
	if (mb != NULL)
		msg->reply_to = msg_lower_addr(
			internet_address_mailbox_get_addr(mb));
	joined = msgdec_rejoined(obj, "Subject");
	if (joined != NULL) {
		if (opts == NULL)
			opts = msg_parser_options();
		subject = g_mime_utils_header_decode_text(opts, joined);
		g_free(joined);
	}
	msg->subject = msgdec_clean_line(subject != NULL ? subject :
					 g_mime_message_get_subject(m),
					 MSG_LINE_MAX * 4);
	g_free(subject);
	if (from != NULL)
		g_object_unref(from);
	if (opts != NULL)
		g_mime_parser_options_free(opts);
	if (msg->subject == NULL)
		msg->subject = g_strdup("");
	msg->date = msg_header(obj, "Date");
	date = g_mime_message_get_date(m);
	msg->date_unix = date != NULL ? g_date_time_to_unix(date) : 0;
	msg->in_reply_to = msg_id(g_mime_object_get_header(obj, "In-Reply-To"));
	msg->references = msg_header(obj, "References");
	msg->return_path = msg_return_path(
		g_mime_object_get_header(obj, "Return-Path"));
	msg->has_return_path = msg->return_path != NULL;
	msg->auto_submitted = msg_header(obj, "Auto-Submitted");
	msg->precedence = msg_header(obj, "Precedence");
	msg->loop_header = msg_header(obj, "X-Intake-Loop");
	for (i = 0; i < (int)G_N_ELEMENTS(autoreply_headers); i++) {
		const char *v = g_mime_object_get_header(obj,
							 autoreply_headers[i]);

		if (v != NULL && g_ascii_strcasecmp(v, "no") != 0)
			msg->has_autoreply = true;
	}
	msg->auto_response_suppress = msg_header(obj,
						 "X-Auto-Response-Suppress");
	msg->authentication_results = msg_header(obj,
						 "Authentication-Results");
	n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < n && !msg->has_list_header; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hn = h != NULL ? g_mime_header_get_name(h) : NULL;

		msg->has_list_header = hn != NULL &&
				       g_ascii_strncasecmp(hn, "List-", 5) == 0;
	}
	body = g_mime_message_get_mime_part(m);
	msg->content_type = body != NULL ? msgdec_mime_type(body)
					 : g_strdup("text/plain");
}

/* ---- the entry point ------------------------------------------------ */

/*
 * Inline forwards: a separator line of dashes around one of the words
 * the mail clients write, then a header block (发件人/From, 发送时间/Sent,
 * 收件人/To, 主题/Subject), possibly quoted with "> ".  The first
 * Subject line within FWD_BLOCK_LINES after a separator is taken.
 */
#define FWD_SCAN_LINES 20000	/* lines of body looked at */
#define FWD_BLOCK_LINES 12	/* header lines after the separator */

static bool
msg_forward_separator(const char *line)
{
	static const char *const words[] = {
		"转发的邮件", "转发邮件", "原始邮件", "原邮件",
		"Forwarded Message", "Forwarded message", "Original Message",
		"Original message", "Weitergeleitete Nachricht",
	};

	if (strstr(line, "---") == NULL && strstr(line, "___") == NULL &&
	    strstr(line, "——") == NULL)
		return false;
	for (size_t i = 0; i < G_N_ELEMENTS(words); i++)
		if (strstr(line, words[i]) != NULL)
			return true;
	return false;
}

/* The value of a "主题:" / "Subject:" line, or NULL. */
static const char *
msg_forward_subject_value(const char *line)
{
	static const char *const keys[] = {
		"主题", "主 题", "主　题", "標題", "标题", "Subject", "subject",
		"SUBJECT", "*Subject", "**Subject",
	};

	for (size_t i = 0; i < G_N_ELEMENTS(keys); i++) {
		const char *p;

		if (!g_str_has_prefix(line, keys[i]))
			continue;
		p = line + strlen(keys[i]);
		while (*p == ' ' || *p == '\t' || *p == '*')
			p++;
		if (*p == ':')
			return p + 1;
		if (g_str_has_prefix(p, "："))
			return p + strlen("：");
	}
	return NULL;
}

/* Leading quote marks and white space (ASCII and ideographic). */
static const char *
msg_forward_unquote(const char *line)
{
	for (;;) {
		if (*line == '>' || *line == ' ' || *line == '\t')
			line++;
		else if (g_str_has_prefix(line, "　"))
			line += strlen("　");
		else
			return line;
	}
}

static char *
msg_forward_subject(const char *body)
{
	const char *p = body;
	unsigned n = 0, after = 0;
	bool in_block = false;

	while (p != NULL && *p != '\0' && n++ < FWD_SCAN_LINES) {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		g_autofree char *line = g_strndup(p, MIN(len, MSG_LINE_MAX));
		const char *l = msg_forward_unquote(line);
		const char *v;

		p = nl != NULL ? nl + 1 : NULL;
		if (msg_forward_separator(l)) {
			in_block = true;
			after = 0;
			continue;
		}
		if (!in_block)
			continue;
		if (++after > FWD_BLOCK_LINES) {
			in_block = false;
			continue;
		}
		if ((v = msg_forward_subject_value(l)) != NULL) {
			char *subject = msgdec_clean_line(v, MSG_LINE_MAX);

			if (subject != NULL && *subject != '\0')
				return subject;
			g_free(subject);
		}
	}
	return NULL;
}

GMimeParserOptions *
msg_parser_options(void)
{
	static const char *fallback[] = { "UTF-8", "GB18030", NULL };
	GMimeParserOptions *opts = g_mime_parser_options_new();

	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	g_mime_parser_options_set_rfc2047_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_parameter_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	g_mime_parser_options_set_address_compliance_mode(
		opts, GMIME_RFC_COMPLIANCE_LOOSE);
	/* "MAILER-DAEMON" without a domain is still a sender */
	g_mime_parser_options_set_allow_addresses_without_domain(opts, TRUE);
	return opts;
}

struct message *
message_parse(const char *raw_path, const char *work_dir,
	      const struct limits_config *limits, GError **error)
{
	struct walk w = { 0 };
	struct message *msg = NULL;
	GMimeStream *stream = NULL;
	GMimeParser *parser = NULL;
	GMimeMessage *m = NULL;
	GMimeObject *body;
	bool ok = false;
	off_t start = 0;
	int fd;
	guint i;

	g_return_val_if_fail(raw_path != NULL && work_dir != NULL &&
				     limits != NULL, NULL);
	message_init();
	w.limits = limits;
	w.work_dir = work_dir;
	w.dir_fd = -1;
	w.buf = g_malloc(INTAKE_IO_BLOCK);
	w.files = g_ptr_array_new_with_free_func(g_free);
	fd = open(raw_path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    raw_path, g_strerror(errno));
		goto out;
	}
	if (!prescan_message(fd, raw_path, limits, w.buf, &start, error))
		goto out;
	/* owns fd from here; the content of every part stays in the file */
	stream = msgstream_new(fd, (gint64)start);
	w.dir_fd = open(work_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w.dir_fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    work_dir, g_strerror(errno));
		goto out;
	}

	w.opts = msg_parser_options();
	parser = g_mime_parser_new_with_stream(stream);
	g_mime_parser_set_persist_stream(parser, TRUE);
	m = g_mime_parser_construct_message(parser, w.opts);
	if (m == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "%s: 无法解析为邮件", raw_path);
		goto out;
	}

	msg = g_new0(struct message, 1);
	msg->parts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)msg_part_free);
	w.msg = msg;
	w.body = g_string_new(NULL);
	msg_headers(msg, m);
	body = g_mime_message_get_mime_part(m);
	if (body != NULL && !walk_object(&w, body, 0, 0, 0, error))
		goto out;
	if (msg->is_report) {
		if (w.dsn_id == NULL)
			w.dsn_id = msg_id(g_mime_object_get_header(
				GMIME_OBJECT(m), "X-Original-Message-ID"));
		if (w.dsn_id == NULL)
			w.dsn_id = msg_id(g_mime_object_get_header(
				GMIME_OBJECT(m), "Original-Message-ID"));
		msg->report_original_id = w.rfc822_id != NULL ? w.rfc822_id
							      : w.dsn_id;
		if (w.rfc822_id != NULL)
			g_free(w.dsn_id);
		w.rfc822_id = w.dsn_id = NULL;
	}
	msg->body_text = g_string_free(w.body, FALSE);
	w.body = NULL;
	msg->forward_subject = msg_forward_subject(msg->body_text);
	ok = true;
out:
	if (!ok) {
		for (i = 0; w.dir_fd >= 0 && i < w.files->len; i++)
			unlinkat(w.dir_fd, g_ptr_array_index(w.files, i), 0);
		message_free(msg);
		msg = NULL;
	}
	if (w.body != NULL)
		g_string_free(w.body, TRUE);
	g_free(w.rfc822_id);
	g_free(w.dsn_id);
	g_ptr_array_unref(w.files);
	g_free(w.buf);
	if (w.dir_fd >= 0)
		close(w.dir_fd);
	if (m != NULL)
		g_object_unref(m);
	if (parser != NULL)
		g_object_unref(parser);
	if (w.opts != NULL)
		g_mime_parser_options_free(w.opts);
	if (stream != NULL)
		g_object_unref(stream);
	else if (fd >= 0)
		close(fd);
	return msg;
}

struct message *
message_parse_header(const void *data, size_t len, GError **error)
{
	GMimeStream *stream;
	GMimeParser *parser;
	GMimeParserOptions *opts;
	GMimeMessage *m;
	GMimeObject *body;
	struct message *msg = NULL;

	message_init();
	stream = g_mime_stream_mem_new_with_buffer(data, len);
	parser = g_mime_parser_new_with_stream(stream);
	opts = msg_parser_options();
	m = g_mime_parser_construct_message(parser, opts);
	if (m == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "邮件头无法解析");
		goto out;
	}
	msg = g_new0(struct message, 1);
	msg->parts = g_ptr_array_new_with_free_func(
		(GDestroyNotify)msg_part_free);
	msg_headers(msg, m);
	body = g_mime_message_get_mime_part(m);
	if (body != NULL && msg_is_type(body, "multipart", "report")) {
		const char *rt = g_mime_object_get_content_type_parameter(
			body, "report-type");

		msg->is_report = rt != NULL &&
				 g_ascii_strcasecmp(rt, "delivery-status") == 0;
	}
	msg->body_text = g_strdup("");
	g_object_unref(m);
out:
	g_mime_parser_options_free(opts);
	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}
