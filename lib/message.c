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
 *	limits->max_decoded_bytes.
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
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmime/gmime.h>

#include "config.h"
#include "message.h"
#include "mimetext.h"

#define MSG_BODY_MAX (1024 * 1024)	/* body_text, body_html */
#define MSG_TEXT_RAW_MAX (2 * MSG_BODY_MAX) /* raw bytes of one text part */
#define MSG_REPORT_MAX (64 * 1024)	/* delivery-status, rfc822-headers */
#define MSG_NAME_MAX 1024		/* bytes of a file name */
#define MSG_LINE_MAX 998		/* header values we keep */
#define MSG_UU_LINE_MAX 200		/* longer lines are not uuencode */
#define MSG_OPEN_TRIES 10000		/* part-NNN names already taken */
#define MSG_ZERO_READS (1u << 20)	/* empty filter reads in a row */
#define MSG_BOUNDARY_SLACK 64		/* "--" lines that are not MIME */
#define MSG_ADDR_SCAN 16		/* addresses looked at in From */
#define MSG_LEADING_MAX (64 * 1024)	/* blank lines before the headers */

enum walk_flags {
	WALK_NO_BODY = 1 << 0,	/* an alternative that is not shown */
	WALK_RELATED = 1 << 1,	/* a non-root part of multipart/related */
	WALK_REPORT = 1 << 2,	/* a part of a delivery-status report */
	WALK_PROTOCOL = 1 << 3,	/* signature or encryption control part */
};

struct walk {
	const struct limits_config *limits;
	GMimeParserOptions *opts;
	struct message *msg;
	const char *work_dir;
	int dir_fd;
	unsigned next_file;	/* part-NNN */
	GPtrArray *files;	/* names created under work_dir */
	uint64_t decoded;	/* bytes decoded so far */
	GString *body;		/* body text being built */
	char *rfc822_id;	/* Message-ID of the bounced message */
	char *dsn_id;		/* Original-Message-ID in the report */
	char *buf;		/* INTAKE_IO_BLOCK bytes */
};

/* What a part's media type says about a file name, both ways. */
static const struct {
	const char *type;
	const char *ext;
} msg_types[] = {
	{ "image/jpeg", "jpg" },
	{ "image/jpeg", "jpeg" },
	{ "image/pjpeg", "jpg" },
	{ "image/jpg", "jpg" },
	{ "image/png", "png" },
	{ "image/gif", "gif" },
	{ "image/bmp", "bmp" },
	{ "image/tiff", "tif" },
	{ "image/webp", "webp" },
	{ "image/heic", "heic" },
	{ "video/mp4", "mp4" },
	{ "video/quicktime", "mov" },
	{ "video/x-msvideo", "avi" },
	{ "video/x-ms-wmv", "wmv" },
	{ "video/mpeg", "mpg" },
	{ "video/x-flv", "flv" },
	{ "video/x-matroska", "mkv" },
	{ "video/3gpp", "3gp" },
	{ "audio/mpeg", "mp3" },
	{ "application/pdf", "pdf" },
	{ "application/msword", "doc" },
	{ "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document", "docx" },
	{ "application/vnd.ms-excel", "xls" },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  "xlsx" },
	{ "application/vnd.ms-powerpoint", "ppt" },
	{ "application/vnd.openxmlformats-officedocument."
	  "presentationml.presentation", "pptx" },
	{ "application/kswps", "wps" },
	{ "application/ofd", "ofd" },
	{ "application/zip", "zip" },
	{ "application/x-zip-compressed", "zip" },
	{ "application/vnd.rar", "rar" },
	{ "application/x-rar-compressed", "rar" },
	{ "application/x-7z-compressed", "7z" },
	{ "application/vnd.ms-tnef", "dat" },
	{ "application/ms-tnef", "dat" },
	{ "text/plain", "txt" },
	{ "text/html", "html" },
	{ "text/csv", "csv" },
	{ "message/rfc822", "eml" },
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
	if (msg->parts != NULL)
		g_ptr_array_unref(msg->parts);
	g_free(msg);
}

static bool
msg_limit(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static bool
msg_limit(GError **error, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	text = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT, text);
	g_free(text);
	return false;
}

/* One line of UTF-8: control characters become spaces, trimmed, cut at
 * max bytes.  NULL stays NULL. */
static char *
msg_clean_line(const char *s, size_t max)
{
	GString *g;
	size_t i;

	if (s == NULL)
		return NULL;
	g = g_string_new(s);
	mimetext_clamp(g, max);
	for (i = 0; i < g->len; i++)
		if ((unsigned char)g->str[i] < 0x20 || g->str[i] == 0x7f)
			g->str[i] = ' ';
	g_strstrip(g->str);
	g_string_truncate(g, strlen(g->str));
	return g_string_free(g, FALSE);
}

static char *
msg_header(GMimeObject *obj, const char *name)
{
	return msg_clean_line(g_mime_object_get_header(obj, name),
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
	clean = msg_clean_line(id, MSG_LINE_MAX);
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
	char *clean = msg_clean_line(addr, MSG_LINE_MAX), *lower;

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

static char *
msg_mime_type(GMimeObject *obj)
{
	GMimeContentType *ct = g_mime_object_get_content_type(obj);
	char *type, *lower;

	if (ct == NULL)
		return g_strdup("application/octet-stream");
	type = g_mime_content_type_get_mime_type(ct);
	lower = g_ascii_strdown(type, -1);
	g_free(type);
	return lower;
}

static const char *
msg_ext_of_type(const char *type)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(msg_types); i++)
		if (strcmp(type, msg_types[i].type) == 0)
			return msg_types[i].ext;
	return g_str_has_prefix(type, "text/") ? "txt" : "bin";
}

static const char *
msg_type_of_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < G_N_ELEMENTS(msg_types); i++)
			if (g_ascii_strcasecmp(dot + 1, msg_types[i].ext) == 0)
				return msg_types[i].type;
	return "application/octet-stream";
}

/* A file name as the sender gave it, made safe to show: valid UTF-8, no
 * directory part (C:\TEMP\x.png is x.png), no control characters,
 * bounded.  NULL when nothing is left. */
static char *
msg_clean_name(const char *raw)
{
	GString *g;
	const char *base;
	size_t i, j;

	if (raw == NULL)
		return NULL;
	g = g_string_new(raw);
	mimetext_clamp(g, MSG_NAME_MAX);
	base = g->str;
	for (i = 0; i < g->len; i++)
		if (g->str[i] == '/' || g->str[i] == '\\')
			base = g->str + i + 1;
	g_string_erase(g, 0, (gssize)(base - g->str));
	for (i = j = 0; i < g->len; i++) {
		unsigned char c = (unsigned char)g->str[i];

		if (c == '\t')
			g->str[j++] = ' ';
		else if (c >= 0x20 && c != 0x7f)
			g->str[j++] = (char)c;
	}
	g_string_truncate(g, j);
	g_strstrip(g->str);
	g_string_truncate(g, strlen(g->str));
	if (g->len == 0) {
		g_string_free(g, TRUE);
		return NULL;
	}
	return g_string_free(g, FALSE);
}

/* A name that says nothing: QQ Mail's tcmime.1866.bin, or no extension. */
static bool
msg_name_generic(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (g_ascii_strncasecmp(name, "tcmime.", 7) == 0)
		return true;
	return dot == NULL || g_ascii_strcasecmp(dot, ".bin") == 0;
}

/* The attachment's name: Content-Disposition filename, else the
 * Content-Type name; the latter also wins over a generic filename. */
static char *
msg_part_name(GMimeObject *obj)
{
	char *fn, *ctn;

	fn = msg_clean_name(
		g_mime_object_get_content_disposition_parameter(obj, "filename"));
	ctn = msg_clean_name(g_mime_object_get_content_type_parameter(obj, "name"));
	if (fn == NULL || (ctn != NULL && msg_name_generic(fn) &&
			   !msg_name_generic(ctn))) {
		g_free(fn);
		return ctn;
	}
	g_free(ctn);
	return fn;
}

static bool
msg_write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

static bool
msg_io_error(struct walk *w, const char *name, int err, GError **error)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s/%s: %s",
		    w->work_dir, name, g_strerror(err));
	return false;
}

/* A new part-NNN file under work_dir; its name is remembered so that a
 * failed parse removes it again. */
static int
msg_open_file(struct walk *w, const char **name_r, GError **error)
{
	char name[32] = "";
	unsigned tries;

	for (tries = 0; tries < MSG_OPEN_TRIES; tries++) {
		int fd;

		g_snprintf(name, sizeof(name), "part-%03u", ++w->next_file);
		fd = openat(w->dir_fd, name,
			    O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
			    0600);
		if (fd >= 0) {
			g_ptr_array_add(w->files, g_strdup(name));
			*name_r = g_ptr_array_index(w->files, w->files->len - 1);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	msg_io_error(w, name, errno, error);
	return -1;
}

/* Removes a file msg_open_file() made (name is its string). */
static void
msg_drop_file(struct walk *w, const char *name)
{
	unlinkat(w->dir_fd, name, 0);
	g_ptr_array_remove(w->files, (gpointer)(uintptr_t)name);
}

static bool
msg_count_decoded(struct walk *w, size_t n, GError **error)
{
	if (w->decoded + n > w->limits->max_decoded_bytes)
		return msg_limit(error,
				 "邮件附件解码后超过 %" G_GUINT64_FORMAT
				 " 字节（[limits] max_decoded_bytes）",
				 w->limits->max_decoded_bytes);
	w->decoded += n;
	return true;
}

static struct msg_part *
msg_add_part(struct walk *w, char *filename, const char *type,
	     const char *file, uint64_t size, unsigned fwd)
{
	struct msg_part *p = g_new0(struct msg_part, 1);

	p->named = filename != NULL;
	if (filename == NULL)
		filename = g_strdup_printf("附件%u.%s", w->msg->parts->len + 1,
					   msg_ext_of_type(type));
	p->filename = filename;
	p->content_type = g_strdup(type);
	p->path = g_build_filename(w->work_dir, file, NULL);
	p->size = size;
	p->depth = fwd;
	g_ptr_array_add(w->msg->parts, p);
	return p;
}

/* ---- decoding ------------------------------------------------------- */

/* The part's content with its transfer encoding undone, or NULL for a
 * part without content. */
static GMimeStream *
msg_decoded_stream(GMimePart *part)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeContentEncoding enc;
	GMimeStream *src, *f;

	if (dw == NULL)
		return NULL;
	src = g_mime_data_wrapper_get_stream(dw);
	if (src == NULL)
		return NULL;
	f = g_mime_stream_filter_new(src);
	enc = g_mime_data_wrapper_get_encoding(dw);
	if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
	    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
	    enc == GMIME_CONTENT_ENCODING_UUENCODE) {
		GMimeFilter *dec = g_mime_filter_basic_new(enc, FALSE);

		g_mime_stream_filter_add(GMIME_STREAM_FILTER(f), dec);
		g_object_unref(dec);
	}
	g_mime_stream_reset(f);
	return f;
}

/* One block of decoded bytes: > 0 bytes, 0 at the end, -1 on error. */
static ssize_t
msg_read_block(struct walk *w, GMimeStream *s, GError **error)
{
	unsigned zeros;

	for (zeros = 0; zeros < MSG_ZERO_READS; zeros++) {
		ssize_t n = g_mime_stream_read(s, w->buf, INTAKE_IO_BLOCK);

		if (n < 0 && g_mime_stream_eos(s))
			return 0;	/* GMime's fs substreams end so */
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "reading the message: %s",
				    g_strerror(errno));
			return -1;
		}
		if (n > 0)
			return msg_count_decoded(w, (size_t)n, error) ? n : -1;
		if (g_mime_stream_eos(s))
			return 0;
	}
	return 0;
}

/* Decodes part into a new file under work_dir. */
static bool
msg_save(struct walk *w, GMimePart *part, const char **file_r,
	 uint64_t *size_r, GError **error)
{
	GMimeStream *s = msg_decoded_stream(part);
	uint64_t size = 0;
	const char *file;
	bool ok = false;
	int fd;

	fd = msg_open_file(w, &file, error);
	if (fd < 0)
		goto out;
	while (s != NULL) {
		ssize_t n = msg_read_block(w, s, error);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (!msg_write_all(fd, w->buf, (size_t)n)) {
			msg_io_error(w, file, errno, error);
			goto out;
		}
		size += (uint64_t)n;
	}
	if (close(fd) < 0) {
		fd = -1;
		msg_io_error(w, file, errno, error);
		goto out;
	}
	fd = -1;
	*file_r = file;
	*size_r = size;
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	if (s != NULL)
		g_object_unref(s);
	return ok;
}

/* ---- uuencode inside text bodies ------------------------------------ */

struct uu_block {
	GMimeFilter *filter;	/* NULL when not inside a block */
	int fd;
	const char *file;
	char *name;		/* from the begin line, UTF-8 */
	char *begin_line;	/* given back to the text if nothing decodes */
	uint64_t size;
};

/* "begin 644 name": the name, or NULL. */
static char *
uu_begin_name(struct walk *w, const char *line, size_t len)
{
	size_t i = 6, digits = 0;
	char *raw, *utf8, *name;

	if (len < 8 || memcmp(line, "begin ", 6) != 0)
		return NULL;
	while (i < len && line[i] >= '0' && line[i] <= '7' && digits < 5) {
		i++;
		digits++;
	}
	if (digits < 3 || i >= len || line[i] != ' ')
		return NULL;
	raw = g_strndup(line + i + 1, len - i - 1);
	g_strchomp(raw);
	utf8 = g_mime_utils_decode_8bit(w->opts, raw, strlen(raw));
	name = msg_clean_name(utf8);
	g_free(raw);
	g_free(utf8);
	return name;
}

static bool
uu_data_line(const char *line, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (line[i] < 0x20 || line[i] > 0x60)
			return false;
	return len > 0;
}

static bool
uu_write(struct walk *w, struct uu_block *uu, const char *out, size_t n,
	 GError **error)
{
	if (n == 0)
		return true;
	if (!msg_write_all(uu->fd, out, n))
		return msg_io_error(w, uu->file, errno, error);
	uu->size += n;
	return true;
}

static bool
uu_feed(struct walk *w, struct uu_block *uu, const char *line, size_t len,
	GError **error)
{
	char *in = g_malloc(len + 1), *out;
	size_t outlen, pre;
	bool ok;

	memcpy(in, line, len);
	in[len] = '\n';
	g_mime_filter_filter(uu->filter, in, len + 1, 0, &out, &outlen, &pre);
	ok = uu_write(w, uu, out, outlen, error);
	g_free(in);
	return ok;
}

static void
uu_reset(struct uu_block *uu)
{
	if (uu->filter != NULL)
		g_object_unref(uu->filter);
	if (uu->fd >= 0)
		close(uu->fd);
	g_free(uu->name);
	g_free(uu->begin_line);
	memset(uu, 0, sizeof(*uu));
	uu->fd = -1;
}

static bool
uu_start(struct walk *w, struct uu_block *uu, char *name, const char *line,
	 size_t len, GError **error)
{
	if (w->msg->parts->len >= w->limits->max_parts) {
		g_free(name);
		return msg_limit(error, "邮件的附件超过 %u 个（[limits] max_parts）",
				 w->limits->max_parts);
	}
	uu->name = name;
	uu->begin_line = g_strndup(line, len);
	uu->size = 0;
	uu->fd = msg_open_file(w, &uu->file, error);
	if (uu->fd < 0)
		return false;
	uu->filter = g_mime_filter_basic_new(GMIME_CONTENT_ENCODING_UUENCODE,
					     FALSE);
	return uu_feed(w, uu, line, len, error);
}

/* Ends the block: a part when something decoded, else the begin line
 * goes back into the text. */
static bool
uu_finish(struct walk *w, struct uu_block *uu, unsigned fwd,
	  GByteArray *text, GError **error)
{
	char empty[1] = "", *out;
	size_t outlen, pre;
	bool ok;

	g_mime_filter_complete(uu->filter, empty, 0, 0, &out, &outlen, &pre);
	ok = uu_write(w, uu, out, outlen, error);
	if (ok && close(uu->fd) < 0)
		ok = msg_io_error(w, uu->file, errno, error);
	uu->fd = -1;
	if (ok && uu->size > 0) {
		msg_add_part(w, uu->name, msg_type_of_name(uu->name), uu->file,
			     uu->size, fwd);
		uu->name = NULL;
	} else if (ok) {
		msg_drop_file(w, uu->file);
		if (text->len < MSG_TEXT_RAW_MAX) {
			g_byte_array_append(text, (const guint8 *)uu->begin_line,
					    (guint)strlen(uu->begin_line));
			g_byte_array_append(text, (const guint8 *)"\n", 1);
		}
	}
	uu_reset(uu);
	return ok;
}

/* One complete line of a text/plain body (without its line end). */
static bool
text_line(struct walk *w, struct uu_block *uu, const char *line, size_t len,
	  bool eol, unsigned fwd, GByteArray *text, GError **error)
{
	char *name;

	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (uu->filter != NULL) {
		if (len == 3 && memcmp(line, "end", 3) == 0) {
			if (!uu_feed(w, uu, line, len, error))
				return false;
			return uu_finish(w, uu, fwd, text, error);
		}
		if (len <= MSG_UU_LINE_MAX && uu_data_line(line, len))
			return uu_feed(w, uu, line, len, error);
		if (!uu_finish(w, uu, fwd, text, error))
			return false;
	}
	if (len <= MSG_UU_LINE_MAX) {
		name = uu_begin_name(w, line, len);
		if (name != NULL)
			return uu_start(w, uu, name, line, len, error);
	}
	if (text->len < MSG_TEXT_RAW_MAX) {
		g_byte_array_append(text, (const guint8 *)line, (guint)len);
		if (eol)
			g_byte_array_append(text, (const guint8 *)"\n", 1);
	}
	return true;
}

/* Reads a text part: up to max raw bytes of it into *text_r.  With
 * scan_uu, reads it to the end and takes uuencoded blocks out. */
static bool
msg_read_text(struct walk *w, GMimePart *part, size_t max, bool scan_uu,
	      unsigned fwd, GByteArray **text_r, GError **error)
{
	GMimeStream *s = msg_decoded_stream(part);
	GByteArray *text = g_byte_array_new();
	GByteArray *line = g_byte_array_new();
	struct uu_block uu = { .fd = -1 };
	bool ok = false;

	while (s != NULL) {
		ssize_t n = msg_read_block(w, s, error);
		const char *p, *end;

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (!scan_uu) {
			size_t room = max > text->len ? max - text->len : 0;

			g_byte_array_append(text, (const guint8 *)w->buf,
					    (guint)MIN((size_t)n, room));
			if (text->len >= max)
				break;
			continue;
		}
		for (p = w->buf, end = w->buf + n; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *stop = nl != NULL ? nl : end;

			/* lines longer than MSG_LINE_MAX pass in pieces */
			g_byte_array_append(line, (const guint8 *)p,
					    (guint)(stop - p));
			p = nl != NULL ? nl + 1 : end;
			if (nl == NULL && line->len <= MSG_LINE_MAX)
				continue;
			if (!text_line(w, &uu, (const char *)line->data,
				       line->len, nl != NULL, fwd, text, error))
				goto out;
			g_byte_array_set_size(line, 0);
		}
	}
	if (line->len > 0 && !text_line(w, &uu, (const char *)line->data,
					line->len, false, fwd, text, error))
		goto out;
	if (uu.filter != NULL && !uu_finish(w, &uu, fwd, text, error))
		goto out;
	if (text->len > max)
		g_byte_array_set_size(text, (guint)max);
	*text_r = text;
	text = NULL;
	ok = true;
out:
	uu_reset(&uu);
	if (text != NULL)
		g_byte_array_unref(text);
	g_byte_array_unref(line);
	if (s != NULL)
		g_object_unref(s);
	return ok;
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
	if (!msg_read_text(w, part, MSG_TEXT_RAW_MAX, !html, fwd, &raw, error))
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

	if (!msg_read_text(w, part, MSG_REPORT_MAX, false, 0, &raw, error))
		return false;
	g_byte_array_append(raw, (const guint8 *)"", 1);
	lines = g_strsplit((const char *)raw->data, "\n", -1);
	for (i = 0; lines[i] != NULL && w->dsn_id == NULL; i++)
		for (f = 0; f < G_N_ELEMENTS(fields); f++)
			if (g_ascii_strncasecmp(lines[i], fields[f],
						strlen(fields[f])) == 0)
				w->dsn_id = msg_id(lines[i] + strlen(fields[f]));
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

	if (!msg_read_text(w, part, MSG_REPORT_MAX, false, 0, &raw, error))
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

/* Which leaves are attachments (the brief's list): an attachment
 * disposition; any named part that is not a message/ type; any image, video,
 * audio or application leaf. */
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
	struct msg_part *p;
	const char *file;
	uint64_t size;
	char *type;

	if (w->msg->parts->len >= w->limits->max_parts) {
		g_free(name);
		return msg_limit(error, "邮件的附件超过 %u 个（[limits] max_parts）",
				 w->limits->max_parts);
	}
	if (!msg_save(w, part, &file, &size, error)) {
		g_free(name);
		return false;
	}
	type = msg_mime_type(obj);
	p = msg_add_part(w, name, type, file, size, fwd);
	g_free(type);
	p->content_id = msg_clean_line(cid, MSG_LINE_MAX);
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
	int fd, result = 0;

	if (!msg_save(w, part, &file, &size, error))
		return -1;
	fd = openat(w->dir_fd, file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		msg_io_error(w, file, errno, error);
		msg_drop_file(w, file);
		return -1;
	}
	stream = g_mime_stream_fs_new(fd);
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
	msg_drop_file(w, file);
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
	name = msg_part_name(obj);
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
		return msg_limit(error,
				 "邮件的 MIME 部分超过 %u 个（[limits] max_parts）",
				 w->limits->max_parts);
	if (level > w->limits->max_depth)
		return msg_limit(error,
				 "邮件的 MIME 嵌套超过 %u 层（[limits] max_depth）",
				 w->limits->max_depth);
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

static InternetAddressMailbox *
msg_first_mailbox(InternetAddressList *list)
{
	int i, n = list != NULL ? internet_address_list_length(list) : 0;

	for (i = 0; i < n && i < MSG_ADDR_SCAN; i++) {
		InternetAddress *ia = internet_address_list_get_address(list, i);

		if (INTERNET_ADDRESS_IS_MAILBOX(ia))
			return INTERNET_ADDRESS_MAILBOX(ia);
		if (INTERNET_ADDRESS_IS_GROUP(ia)) {
			InternetAddressList *members =
				internet_address_group_get_members(
					INTERNET_ADDRESS_GROUP(ia));
			int j, m = members != NULL ?
					   internet_address_list_length(members) : 0;

			for (j = 0; j < m && j < MSG_ADDR_SCAN; j++) {
				ia = internet_address_list_get_address(members, j);
				if (INTERNET_ADDRESS_IS_MAILBOX(ia))
					return INTERNET_ADDRESS_MAILBOX(ia);
			}
		}
	}
	return NULL;
}

/* Return-Path: "<>" is "", "<a@b>" is "a@b". */
static char *
msg_return_path(const char *value)
{
	char *v = msg_clean_line(value, MSG_LINE_MAX), *lt, *gt, *addr;

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

static void
msg_headers(struct message *msg, GMimeMessage *m)
{
	GMimeObject *obj = GMIME_OBJECT(m), *body;
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	InternetAddressMailbox *mb;
	GDateTime *date;
	int i, n;

	msg->message_id = msg_id(g_mime_object_get_header(obj, "Message-ID"));
	mb = msg_first_mailbox(g_mime_message_get_from(m));
	if (mb != NULL) {
		const char *name = internet_address_get_name(
			INTERNET_ADDRESS(mb));

		msg->from_addr = msg_lower_addr(
			internet_address_mailbox_get_addr(mb));
		msg->from_name = msg_clean_line(name, MSG_LINE_MAX);
		if (msg->from_name != NULL && *msg->from_name == '\0') {
			g_free(msg->from_name);
			msg->from_name = NULL;
		}
	}
	mb = msg_first_mailbox(g_mime_message_get_reply_to(m));
	if (mb != NULL)
		msg->reply_to = msg_lower_addr(
			internet_address_mailbox_get_addr(mb));
	msg->subject = msg_clean_line(g_mime_message_get_subject(m),
				      MSG_LINE_MAX * 4);
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
	msg->auto_response_suppress = msg_header(obj,
						 "X-Auto-Response-Suppress");
	msg->authentication_results = msg_header(obj,
						 "Authentication-Results");
	n = hl != NULL ? g_mime_header_list_get_count(hl) : 0;
	for (i = 0; i < n && !msg->has_list_header; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);
		const char *hname = h != NULL ? g_mime_header_get_name(h) : NULL;

		msg->has_list_header = hname != NULL &&
				       g_ascii_strncasecmp(hname, "List-", 5) == 0;
	}
	body = g_mime_message_get_mime_part(m);
	msg->content_type = body != NULL ? msg_mime_type(body)
					 : g_strdup("text/plain");
}

/* ---- before parsing ------------------------------------------------- */

/* One pass over the file: its size, the top-level header block and
 * the lines that could be MIME boundaries, against the limits.  Lines
 * of white space before the headers (some exports have them; GMime
 * gives up on them) are skipped: *start_r is where the headers begin.
 * An empty first line stays: it is a message without headers. */
static bool
msg_prescan(int fd, const char *path, const struct limits_config *lim,
	    char *buf, off_t *start_r, GError **error)
{
	uint64_t header = 0, dashes = 0, max_dashes, offset = 0;
	size_t line_len = 0;
	char prefix[3] = { 0 };
	bool in_header = true, leading = true, blank = true;
	struct stat st;

	*start_r = 0;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: not a readable regular file", path);
		return false;
	}
	if ((uint64_t)st.st_size > lim->max_message_bytes)
		return msg_limit(error,
				 "邮件大小 %" G_GUINT64_FORMAT " 字节，超过上限 %"
				 G_GUINT64_FORMAT " 字节（[limits] "
				 "max_message_bytes）",
				 (uint64_t)st.st_size, lim->max_message_bytes);
	max_dashes = (uint64_t)lim->max_parts * 2 + MSG_BOUNDARY_SLACK;
	for (;;) {
		ssize_t n = read(fd, buf, INTAKE_IO_BLOCK);
		const char *p, *end;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
				    "%s: %s", path, g_strerror(errno));
			return false;
		}
		if (n == 0)
			break;
		for (p = buf, end = buf + n; p < end;) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			const char *next = nl != NULL ? nl + 1 : end;
			size_t i;

			for (i = 0; line_len + i < 3 && p + i < next; i++)
				prefix[line_len + i] = p[i];
			for (i = 0; leading && blank && p + i < next; i++)
				blank = g_ascii_isspace(p[i]);
			line_len += (size_t)(next - p);
			offset += (uint64_t)(next - p);
			if (in_header && !(leading && blank))
				header += (uint64_t)(next - p);
			p = next;
			if (nl != NULL && leading && blank && line_len > 1 &&
			    !(line_len == 2 && prefix[0] == '\r') &&
			    offset <= MSG_LEADING_MAX) {
				*start_r = (off_t)offset;
				line_len = 0;
				continue;
			}
			if (nl != NULL && leading) {
				leading = false;
				header = line_len;
			}
			if (in_header && header > lim->max_header_bytes)
				return msg_limit(error,
						 "邮件头超过 %" G_GUINT64_FORMAT
						 " 字节（[limits] max_header_bytes）",
						 lim->max_header_bytes);
			if (nl == NULL)
				break;
			if (in_header && (line_len == 1 ||
					  (line_len == 2 && prefix[0] == '\r')))
				in_header = false;
			if (line_len >= 3 && prefix[0] == '-' && prefix[1] == '-' &&
			    !g_ascii_isspace(prefix[2]))
				dashes++;
			line_len = 0;
		}
		if (dashes > max_dashes)
			return msg_limit(error,
					 "邮件的 MIME 部分超过 %u 个（[limits] "
					 "max_parts）", lim->max_parts);
	}
	if (lseek(fd, *start_r, SEEK_SET) < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		return false;
	}
	return true;
}

/* ---- the entry point ------------------------------------------------ */

static GMimeParserOptions *
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
	if (!msg_prescan(fd, raw_path, limits, w.buf, &start, error))
		goto out;
	/* owns fd from here; the content of every part stays in the file */
	stream = g_mime_stream_fs_new_with_bounds(fd, start, -1);
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
