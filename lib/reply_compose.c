/*
 * reply_compose.c - composing a reply with GMime; header hygiene
 *
 * reply_compose() builds the message with GMime: RFC 2047 encoded words
 * for non-ASCII headers, a base64 text/plain; charset=UTF-8 body, CRLF
 * line ends throughout, ready for SMTP.  Nothing taken from a message
 * reaches a header unchecked: the recipient must be one plain addr-spec
 * (reply_address_ok), the subject and every other value are cleaned of
 * controls and bounded (reply_clean_header), message-ids for In-Reply-To
 * and References must be clean msg-id tokens or they are dropped.
 */
#include <string.h>

#include <gmime/gmime.h>

#include "reply.h"

#define REPLY_SUBJECT_LINE_MAX 900 /* bytes of Subject before encoding */
#define REPLY_REFS_MAX 20          /* message-ids kept in References */
#define REPLY_REFS_IN_MAX (64 * 1024) /* bytes of References read */
#define REPLY_MSGID_MAX 250        /* bytes of one message-id */
#define REPLY_HEADER_MAX 400       /* bytes of From, loop, verdict */
#define REPLY_ADDR_MAX 254         /* RFC 5321 path minus <> */
#define REPLY_LOCAL_MAX 64
#define REPLY_DOMAIN_MAX 253
#define REPLY_LABEL_MAX 63

/*
 * Cleaning and checking what goes into a header.
 */

/* Characters that must not survive into a header or a line: C0 and C1
 * controls, DEL, Unicode line/paragraph separators, bidi controls. */
static bool
reply_is_blank(gunichar c)
{
	if (c == ' ' || c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0))
		return true;
	if (c == 0x2028 || c == 0x2029)
		return true;
	if ((c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
	    c == 0x200e || c == 0x200f || c == 0xfeff)
		return true;
	return false;
}

char *
reply_clean_header(const char *value, size_t max_bytes)
{
	g_autofree char *valid = NULL;
	GString *out;
	const char *p;
	bool blank = false;

	if (value == NULL)
		return g_strdup("");
	valid = g_utf8_make_valid(value, -1);
	out = g_string_sized_new(MIN(strlen(valid), max_bytes) + 1);
	for (p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);
		size_t n = (size_t)(g_utf8_next_char(p) - p);

		if (reply_is_blank(c)) {
			blank = true;
			continue;
		}
		if (blank && out->len > 0) {
			if (out->len + 1 + n > max_bytes)
				break;
			g_string_append_c(out, ' ');
		}
		blank = false;
		if (out->len + n > max_bytes)
			break;
		g_string_append_len(out, p, (gssize)n);
	}
	return g_string_free(out, FALSE);
}

/* One character of a dot-atom (RFC 5322 atext, plus UTF-8 as SMTPUTF8
 * allows). */
static bool
reply_atext(gunichar c)
{
	if (c < 0x80)
		return g_ascii_isalnum((char)c) ||
		       strchr("!#$%&'*+-/=?^_`{|}~", (int)c) != NULL;
	return !reply_is_blank(c) && g_unichar_isgraph(c);
}

static bool
reply_local_ok(const char *s, size_t len)
{
	const char *p, *end = s + len;
	bool dot = true; /* no leading dot */

	if (len == 0 || len > REPLY_LOCAL_MAX)
		return false;
	for (p = s; p < end; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '.') {
			if (dot)
				return false;
			dot = true;
			continue;
		}
		if (!reply_atext(c))
			return false;
		dot = false;
	}
	return !dot;
}

static bool
reply_domain_ok(const char *s)
{
	size_t len = strlen(s), label = 0;
	const char *p;
	gunichar prev = '.';

	if (len == 0 || len > REPLY_DOMAIN_MAX)
		return false;
	for (p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (c == '.') {
			if (label == 0 || prev == '-')
				return false;
			label = 0;
		} else if (c == '-') {
			if (label == 0)
				return false;
			label++;
		} else if (c < 0x80 ? g_ascii_isalnum((char)c)
				    : (!reply_is_blank(c) &&
				       g_unichar_isgraph(c))) {
			label += (size_t)(g_utf8_next_char(p) - p);
		} else {
			return false;
		}
		if (label > REPLY_LABEL_MAX)
			return false;
		prev = c;
	}
	return label > 0 && prev != '-';
}

bool
reply_address_ok(const char *addr)
{
	const char *at;
	size_t len;

	if (addr == NULL)
		return false;
	len = strlen(addr);
	if (len < 3 || len > REPLY_ADDR_MAX ||
	    !g_utf8_validate(addr, (gssize)len, NULL))
		return false;
	at = strchr(addr, '@');
	if (at == NULL || strchr(at + 1, '@') != NULL)
		return false;
	/* an encoded word the sender put where an address belongs: what
	 * it hides is not where anything should be sent */
	if (g_strstr_len(addr, (gssize)(at - addr), "=?") != NULL)
		return false;
	return reply_local_ok(addr, (size_t)(at - addr)) &&
	       reply_domain_ok(at + 1);
}

/* A msg-id's inside (without <>): printable ASCII, no specials that
 * would end or break the token, one '@'. */
static bool
reply_msgid_ok(const char *id)
{
	size_t len;
	const char *p;

	if (id == NULL)
		return false;
	len = strlen(id);
	if (len < 3 || len > REPLY_MSGID_MAX)
		return false;
	for (p = id; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>()\",;\\", c) != NULL)
			return false;
	}
	p = strchr(id, '@');
	return p != NULL && p != id && p[1] != '\0' &&
	       strchr(p + 1, '@') == NULL;
}

char *
reply_new_message_id(const char *from_addr)
{
	g_autofree char *uuid = g_uuid_string_random();
	g_autofree char *domain = NULL;
	const char *at = from_addr != NULL ? strrchr(from_addr, '@') : NULL;
	GString *id = g_string_new("intake.");
	const char *p;

	for (p = uuid; *p != '\0'; p++)
		if (*p != '-')
			g_string_append_c(id, *p);
	if (at != NULL && g_utf8_validate(at + 1, -1, NULL) &&
	    reply_domain_ok(at + 1)) {
		g_autofree char *ascii = g_hostname_to_ascii(at + 1);

		if (ascii != NULL && strlen(ascii) <= REPLY_DOMAIN_MAX)
			domain = g_ascii_strdown(ascii, -1);
	}
	g_string_append_c(id, '@');
	g_string_append(id, domain != NULL ? domain : "intake.invalid");
	return g_string_free(id, FALSE);
}

/*
 * Composing.
 */

/* "<a> <b> ... <original>": the original's references that are msg-id
 * tokens, then the original's id; at most REPLY_REFS_MAX, keeping the
 * first (the thread's root) and the most recent.  NULL when empty.
 * GMime's References parser stops at the first malformed token (and
 * truncates "<a@b c>" to "a@b"), so the tokens are taken here: each
 * "<...>" whose inside is a clean msg-id, everything else skipped. */
static char *
reply_references(const char *refs, const char *original_id)
{
	g_autoptr(GPtrArray) ids = g_ptr_array_new_with_free_func(g_free);
	const char *p = refs, *open, *close;
	GString *out;
	guint i;

	while (p != NULL && (size_t)(p - refs) < REPLY_REFS_IN_MAX &&
	       (open = strchr(p, '<')) != NULL) {
		g_autofree char *id = NULL;

		close = strchr(open + 1, '>');
		if (close == NULL)
			break;
		id = g_strndup(open + 1, (gsize)(close - open - 1));
		p = close + 1;
		if (!reply_msgid_ok(id))
			continue;
		if (ids->len == REPLY_REFS_MAX + 1)
			g_ptr_array_remove_index(ids, 1);
		g_ptr_array_add(ids, g_steal_pointer(&id));
	}
	if (reply_msgid_ok(original_id) &&
	    (ids->len == 0 ||
	     strcmp(g_ptr_array_index(ids, ids->len - 1), original_id) != 0))
		g_ptr_array_add(ids, g_strdup(original_id));
	if (ids->len > REPLY_REFS_MAX)
		g_ptr_array_remove_range(ids, 1, ids->len - REPLY_REFS_MAX);
	if (ids->len == 0)
		return NULL;
	out = g_string_new(NULL);
	for (i = 0; i < ids->len; i++)
		g_string_append_printf(
			out, "%s<%s>", i > 0 ? " " : "",
			(const char *)g_ptr_array_index(ids, i));
	return g_string_free(out, FALSE);
}

/* The original's id without surrounding <> (tolerated), or NULL. */
static char *
reply_strip_id(const char *id)
{
	size_t len;

	if (id == NULL)
		return NULL;
	len = strlen(id);
	if (len >= 2 && id[0] == '<' && id[len - 1] == '>')
		return g_strndup(id + 1, len - 2);
	return g_strdup(id);
}

/* Text with LF line ends (CRs dropped) to CRLF, as text/plain is
 * canonically encoded before base64. */
static char *
reply_crlf(const char *text)
{
	GString *out = g_string_sized_new(strlen(text) + 64);
	const char *p;

	for (p = text; *p != '\0'; p++) {
		if (*p == '\r')
			continue;
		if (*p == '\n')
			g_string_append_c(out, '\r');
		g_string_append_c(out, *p);
	}
	return g_string_free(out, FALSE);
}

/* The From value as one mailbox with a usable address. */
static InternetAddressList *
reply_from_list(const char *from, GError **error)
{
	g_autofree char *clean = reply_clean_header(from, REPLY_HEADER_MAX);
	InternetAddressList *list = internet_address_list_parse(NULL, clean);
	InternetAddress *a;

	if (list == NULL || internet_address_list_length(list) != 1)
		goto bad;
	a = internet_address_list_get_address(list, 0);
	if (!INTERNET_ADDRESS_IS_MAILBOX(a) ||
	    !reply_address_ok(internet_address_mailbox_get_addr(
		    INTERNET_ADDRESS_MAILBOX(a))))
		goto bad;
	return list;
bad:
	if (list != NULL)
		g_object_unref(list);
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
		    "the reply's From \"%s\" is not one usable address",
		    clean);
	return NULL;
}

/* GMime counts its initialisations: once is enough. */
static void
reply_gmime_init(void)
{
	static gsize done;

	if (g_once_init_enter(&done)) {
		g_mime_init();
		g_once_init_leave(&done, 1);
	}
}

char *
reply_compose(const struct reply_info *info, const char *subject,
	      const char *body, const char *message_id, size_t *len_r,
	      GError **error)
{
	GMimeMessage *msg = NULL;
	GMimeTextPart *part = NULL;
	GMimeFormatOptions *fmt = NULL;
	GMimeStream *mem = NULL;
	InternetAddressList *from = NULL;
	InternetAddress *to;
	GDateTime *date = NULL;
	GByteArray *bytes;
	g_autofree char *clean_subject = NULL, *text = NULL, *refs = NULL;
	g_autofree char *orig = NULL;
	char *result = NULL;

	if (!reply_address_ok(info->to)) {
		g_autofree char *shown =
			reply_clean_header(info->to, REPLY_HEADER_MAX);

		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "cannot reply to \"%s\": not one usable address",
			    shown);
		return NULL;
	}
	if (!reply_msgid_ok(message_id)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "the reply's Message-ID is not a msg-id token");
		return NULL;
	}
	reply_gmime_init();
	from = reply_from_list(info->from, error);
	if (from == NULL)
		goto out;
	date = g_date_time_new_from_unix_local(info->date);
	if (date == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "the reply's date %" G_GINT64_FORMAT
			    " is out of range", info->date);
		goto out;
	}

	msg = g_mime_message_new(TRUE);
	internet_address_list_append(g_mime_message_get_from(msg), from);
	to = internet_address_mailbox_new(NULL, info->to);
	internet_address_list_add(
		g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO), to);
	g_object_unref(to); /* the list took its own reference */
	clean_subject = reply_clean_header(subject, REPLY_SUBJECT_LINE_MAX);
	g_mime_message_set_subject(msg, clean_subject, "UTF-8");
	g_mime_message_set_date(msg, date);
	g_mime_message_set_message_id(msg, message_id);

	orig = reply_strip_id(info->original_id);
	if (reply_msgid_ok(orig)) {
		g_autofree char *v = g_strdup_printf("<%s>", orig);

		g_mime_object_set_header(GMIME_OBJECT(msg), "In-Reply-To", v,
					 NULL);
	}
	refs = reply_references(info->original_references, orig);
	if (refs != NULL)
		g_mime_object_set_header(GMIME_OBJECT(msg), "References", refs,
					 NULL);
	/* RFC 3834 section 5: a reminder or a digest answers no message */
	g_mime_object_set_header(GMIME_OBJECT(msg), "Auto-Submitted",
				 info->original_id != NULL ||
						 info->original_subject != NULL ?
					 "auto-replied" :
					 "auto-generated",
				 NULL);
	if (info->loop_value != NULL) {
		g_autofree char *v =
			reply_clean_header(info->loop_value, REPLY_HEADER_MAX);

		g_mime_object_set_header(GMIME_OBJECT(msg), REPLY_LOOP_HEADER,
					 v, "UTF-8");
	}
	if (info->verdict != NULL) {
		g_autofree char *v =
			reply_clean_header(info->verdict, REPLY_HEADER_MAX);

		g_mime_object_set_header(GMIME_OBJECT(msg), "X-Intake-Verdict",
					 v, "UTF-8");
	}

	text = reply_crlf(body != NULL ? body : "");
	if (!g_utf8_validate(text, -1, NULL)) {
		g_autofree char *valid = g_utf8_make_valid(text, -1);

		g_free(text);
		text = g_steal_pointer(&valid);
	}
	part = g_mime_text_part_new_with_subtype("plain");
	g_mime_text_part_set_text(part, text);
	g_mime_text_part_set_charset(part, "UTF-8");
	g_mime_part_set_content_encoding(GMIME_PART(part),
					 GMIME_CONTENT_ENCODING_BASE64);
	g_mime_message_set_mime_part(msg, GMIME_OBJECT(part));

	fmt = g_mime_format_options_new();
	g_mime_format_options_set_newline_format(fmt,
						 GMIME_NEWLINE_FORMAT_DOS);
	mem = g_mime_stream_mem_new();
	if (g_mime_object_write_to_stream(GMIME_OBJECT(msg), fmt, mem) < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_MESSAGE,
			    "cannot serialize the reply");
		goto out;
	}
	bytes = g_mime_stream_mem_get_byte_array(GMIME_STREAM_MEM(mem));
	result = g_malloc(bytes->len + 1);
	memcpy(result, bytes->data, bytes->len);
	result[bytes->len] = '\0';
	if (len_r != NULL)
		*len_r = bytes->len;
out:
	if (mem != NULL)
		g_object_unref(mem);
	if (fmt != NULL)
		g_mime_format_options_free(fmt);
	if (part != NULL)
		g_object_unref(part);
	if (msg != NULL)
		g_object_unref(msg);
	if (from != NULL)
		g_object_unref(from);
	if (date != NULL)
		g_date_time_unref(date);
	return result;
}
