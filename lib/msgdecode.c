/*
 * msgdecode.c - message.c's I/O half: parts to files, text
 *
 * NAME
 *	msgdec_save, msgdec_read_text, msgdec_part_name
 *
 * DESCRIPTION
 *	Every part is decoded by GMime's own transfer decoders, so no
 *	part is ever held in memory: attachments go straight to a new file
 *	under the work dir, opened O_EXCL and O_NOFOLLOW relative to the
 *	directory and named part-NNN by us, and are hashed (SHA-256,
 *	rawstore.h) on the way, so that the checks never read them again
 *	for their hash.  An attachment is read as it is stored, in blocks
 *	of INTAKE_IO_BLOCK, and put through GMime's basic filter directly:
 *	GMime's filter stream would read 4 KiB and hand back 3 KiB at a
 *	time, two system calls for every 3 KiB written.  Every
 *	MSG_KICK_BYTES the kernel is asked to start writing the file out
 *	(sync_file_range, SYNC_FILE_RANGE_WRITE: it does not wait), so that
 *	filing's fsync of an accepted item waits for its tail only.  Text
 *	parts are read through a filter stream (they are small).  Every
 *	decoded byte counts against limits->max_decoded_bytes.
 *
 *	Text parts are read up to a bound; a text/plain body is read to
 *	its end anyway, line by line, so that uuencoded blocks ("begin 644
 *	name" ... "end") are cut out of the text and decoded by GMime's uu
 *	filter into files of their own.
 *
 *	Attachment names: Content-Disposition filename, else Content-Type
 *	name, and the latter also when the former says nothing (QQ Mail's
 *	tcmime.1866.bin); any directory part is dropped, control
 *	characters removed, the length bounded.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include "mimetext.h"
#include "msgdecode.h"

#define MSG_NAME_MAX 1024		/* bytes of a file name */
#define MSG_UU_LINE_MAX 200		/* longer lines are not uuencode */
#define MSG_OPEN_TRIES 10000		/* part-NNN names already taken */
#define MSG_ZERO_READS (1u << 20)	/* empty filter reads in a row */
#define MSG_KICK_BYTES (8 * 1024 * 1024) /* writeback started this often */

/* What a part's media type says about a file name, both ways. */
static const struct {
	const char *type;
	const char *ext;
} dec_types[] = {
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

/* One line of UTF-8: control characters become spaces, trimmed, cut at
 * max bytes.  NULL stays NULL. */
char *
msgdec_clean_line(const char *s, size_t max)
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

char *
msgdec_mime_type(GMimeObject *obj)
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
dec_ext_of_type(const char *type)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(dec_types); i++)
		if (strcmp(type, dec_types[i].type) == 0)
			return dec_types[i].ext;
	return g_str_has_prefix(type, "text/") ? "txt" : "bin";
}

static const char *
dec_type_of_name(const char *name)
{
	const char *dot = strrchr(name, '.');
	size_t i;

	if (dot != NULL)
		for (i = 0; i < G_N_ELEMENTS(dec_types); i++)
			if (g_ascii_strcasecmp(dot + 1, dec_types[i].ext) == 0)
				return dec_types[i].type;
	return "application/octet-stream";
}

/* A file name as the sender gave it, made safe to show: valid UTF-8, no
 * directory part (C:\TEMP\x.png is x.png), no control characters,
 * bounded.  NULL when nothing is left. */
static char *
dec_clean_name(const char *raw)
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
dec_name_generic(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (g_ascii_strncasecmp(name, "tcmime.", 7) == 0)
		return true;
	return dot == NULL || g_ascii_strcasecmp(dot, ".bin") == 0;
}

char *
msgdec_rejoined(GMimeObject *obj, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(obj);
	GMimeHeader *h = hl != NULL ? g_mime_header_list_get_header(hl, name)
				    : NULL;
	const char *raw = h != NULL ? g_mime_header_get_raw_value(h) : NULL;
	char *unfolded, *joined;

	if (raw == NULL || strstr(raw, "=?") == NULL)
		return NULL;
	unfolded = g_mime_utils_header_unfold(raw);
	joined = mimetext_join_b_words(unfolded);
	g_free(unfolded);
	return joined;
}

/* A parameter of the Content-Disposition (disposition) or Content-Type
 * header, decoded again from a rejoined value when GMime's decoding of
 * it went wrong (msgdec_rejoined()). */
static char *
dec_param(GMimeObject *obj, bool disposition, const char *param)
{
	char *joined = msgdec_rejoined(obj, disposition ?
					    "Content-Disposition" :
					    "Content-Type");
	GMimeParserOptions *opts;
	char *v = NULL;

	if (joined == NULL)
		return dec_clean_name(
			disposition ?
				g_mime_object_get_content_disposition_parameter(
					obj, param) :
				g_mime_object_get_content_type_parameter(obj,
									 param));
	opts = msg_parser_options();
	if (disposition) {
		GMimeContentDisposition *cd =
			g_mime_content_disposition_parse(opts, joined);

		v = dec_clean_name(
			g_mime_content_disposition_get_parameter(cd, param));
		g_object_unref(cd);
	} else {
		GMimeContentType *ct = g_mime_content_type_parse(opts, joined);

		v = dec_clean_name(g_mime_content_type_get_parameter(ct, param));
		g_object_unref(ct);
	}
	g_mime_parser_options_free(opts);
	g_free(joined);
	return v;
}

/* The attachment's name: Content-Disposition filename, else the
 * Content-Type name; the latter also wins over a generic filename. */
char *
msgdec_part_name(GMimeObject *obj)
{
	char *fn, *ctn;

	fn = dec_param(obj, true, "filename");
	ctn = dec_param(obj, false, "name");
	if (fn == NULL || (ctn != NULL && dec_name_generic(fn) &&
			   !dec_name_generic(ctn))) {
		g_free(fn);
		return ctn;
	}
	g_free(ctn);
	return fn;
}

static bool
dec_write_all(int fd, const char *buf, size_t len)
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

bool
msgdec_io_error(struct walk *w, const char *name, int err, GError **error)
{
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s/%s: %s",
		    w->work_dir, name, g_strerror(err));
	return false;
}

/* A new part-NNN file under work_dir; its name is remembered so that a
 * failed parse removes it again. */
static int
dec_open_file(struct walk *w, const char **name_r, GError **error)
{
	char name[32] = "";
	unsigned tries;

	for (tries = 0; tries < MSG_OPEN_TRIES; tries++) {
		int fd;

		g_snprintf(name, sizeof(name), "part-%03u", ++w->next_file);
		fd = openat(w->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL |
					     O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd >= 0) {
			*name_r = g_strdup(name);
			g_ptr_array_add(w->files, (gpointer)(uintptr_t)*name_r);
			return fd;
		}
		if (errno != EEXIST)
			break;
	}
	msgdec_io_error(w, name, errno, error);
	return -1;
}

/* Removes a file dec_open_file() made (name is its string). */
void
msgdec_drop_file(struct walk *w, const char *name)
{
	unlinkat(w->dir_fd, name, 0);
	g_ptr_array_remove(w->files, (gpointer)(uintptr_t)name);
}

static bool
dec_count_decoded(struct walk *w, size_t n, GError **error)
{
	if (w->decoded + n > w->limits->max_decoded_bytes)
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件附件解码后超过 %" G_GUINT64_FORMAT
				   " 字节（[limits] max_decoded_bytes）",
				   w->limits->max_decoded_bytes);
	w->decoded += n;
	return true;
}

struct msg_part *
msgdec_add_part(struct walk *w, char *filename, const char *type,
		const char *file, uint64_t size, unsigned fwd)
{
	struct msg_part *p = g_new0(struct msg_part, 1);

	p->named = filename != NULL;
	if (filename == NULL)
		filename = g_strdup_printf("附件%u.%s", w->msg->parts->len + 1,
					   dec_ext_of_type(type));
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
dec_stream(GMimePart *part)
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

/* One block from s: > 0 bytes, 0 at the end, -1 on error.  decoded:
 * the bytes count against max_decoded_bytes. */
static ssize_t
dec_read_block(struct walk *w, GMimeStream *s, bool decoded, GError **error)
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
		if (n > 0 && decoded)
			return dec_count_decoded(w, (size_t)n, error) ? n : -1;
		if (n > 0)
			return n;
		if (g_mime_stream_eos(s))
			return 0;
	}
	return 0;
}

/* Counts, hashes and writes a piece of decoded content. */
static bool
dec_put(struct walk *w, int fd, const char *file, struct raw_hash *hash,
	const char *buf, size_t len, GError **error)
{
	if (len == 0)
		return true;
	if (!dec_count_decoded(w, len, error))
		return false;
	if (hash != NULL && !rawstore_hash_update(hash, buf, len, error))
		return false;
	if (!dec_write_all(fd, buf, len))
		return msgdec_io_error(w, file, errno, error);
	return true;
}

/* Decodes part into a new file under work_dir. */
bool
msgdec_save(struct walk *w, GMimePart *part, const char **file_r,
	    uint64_t *size_r, char sha_r[SHA256_HEX_LEN + 1], GError **error)
{
	GMimeDataWrapper *dw = g_mime_part_get_content(part);
	GMimeStream *s = dw != NULL ? g_mime_data_wrapper_get_stream(dw)
				    : NULL;
	GMimeFilter *filter = NULL;
	struct raw_hash *hash = NULL;
	GMimeContentEncoding enc;
	uint64_t size = 0, kicked = 0;
	const char *file;
	bool ok = false;
	char *out;
	size_t outlen, pre;
	int fd;

	fd = dec_open_file(w, &file, error);
	if (fd < 0)
		goto out;
	if (sha_r != NULL && (hash = rawstore_hash_new(error)) == NULL)
		goto out;
	if (s != NULL) {
		enc = g_mime_data_wrapper_get_encoding(dw);
		if (enc == GMIME_CONTENT_ENCODING_BASE64 ||
		    enc == GMIME_CONTENT_ENCODING_QUOTEDPRINTABLE ||
		    enc == GMIME_CONTENT_ENCODING_UUENCODE)
			filter = g_mime_filter_basic_new(enc, FALSE);
		g_mime_stream_reset(s);
	}
	while (s != NULL) {
		ssize_t n = dec_read_block(w, s, false, error);

		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (filter != NULL) {
			g_mime_filter_filter(filter, w->buf, (size_t)n, 0, &out,
					     &outlen, &pre);
		} else {
			out = w->buf;
			outlen = (size_t)n;
		}
		if (!dec_put(w, fd, file, hash, out, outlen, error))
			goto out;
		size += outlen;
		if (size - kicked >= MSG_KICK_BYTES) {
			/* advisory: filing's fsync decides durability */
			(void)sync_file_range(fd, (off64_t)kicked,
					      (off64_t)(size - kicked),
					      SYNC_FILE_RANGE_WRITE);
			kicked = size;
		}
	}
	if (filter != NULL) {
		char empty[1] = "";

		g_mime_filter_complete(filter, empty, 0, 0, &out, &outlen,
				       &pre);
		if (!dec_put(w, fd, file, hash, out, outlen, error))
			goto out;
		size += outlen;
	}
	if (close(fd) < 0) {
		fd = -1;
		msgdec_io_error(w, file, errno, error);
		goto out;
	}
	fd = -1;
	if (hash != NULL) {
		struct raw_hash *h = hash;

		hash = NULL;
		if (!rawstore_hash_finish(h, sha_r, error))
			goto out;
	}
	*file_r = file;
	*size_r = size;
	ok = true;
out:
	if (fd >= 0)
		close(fd);
	rawstore_hash_free(hash);
	if (filter != NULL)
		g_object_unref(filter);
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
	struct raw_hash *hash;	/* of what was written */
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
	name = dec_clean_name(utf8);
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
	if (!rawstore_hash_update(uu->hash, out, n, error))
		return false;
	if (!dec_write_all(uu->fd, out, n))
		return msgdec_io_error(w, uu->file, errno, error);
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
	rawstore_hash_free(uu->hash);
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
		return intake_fail(error, INTAKE_ERROR_LIMIT,
				   "邮件的附件超过 %u 个（[limits] max_parts）",
				   w->limits->max_parts);
	}
	uu->name = name;
	uu->begin_line = g_strndup(line, len);
	uu->size = 0;
	uu->fd = dec_open_file(w, &uu->file, error);
	if (uu->fd < 0)
		return false;
	uu->hash = rawstore_hash_new(error);
	if (uu->hash == NULL)
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
	char empty[1] = "", *out, sha[SHA256_HEX_LEN + 1];
	size_t outlen, pre;
	struct msg_part *p;
	bool ok;

	g_mime_filter_complete(uu->filter, empty, 0, 0, &out, &outlen, &pre);
	ok = uu_write(w, uu, out, outlen, error);
	if (ok && close(uu->fd) < 0)
		ok = msgdec_io_error(w, uu->file, errno, error);
	uu->fd = -1;
	if (ok && uu->size > 0) {
		ok = rawstore_hash_finish(uu->hash, sha, error);
		uu->hash = NULL;
	}
	if (ok && uu->size > 0) {
		p = msgdec_add_part(w, uu->name, dec_type_of_name(uu->name),
				    uu->file, uu->size, fwd);
		p->sha256 = g_strdup(sha);
		uu->name = NULL;
	} else if (ok) {
		msgdec_drop_file(w, uu->file);
		if (text->len < MSG_TEXT_RAW_MAX) {
			const char *line = uu->begin_line;

			g_byte_array_append(text, (const guint8 *)line,
					    (guint)strlen(line));
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
bool
msgdec_read_text(struct walk *w, GMimePart *part, size_t max, bool scan_uu,
		 unsigned fwd, GByteArray **text_r, GError **error)
{
	GMimeStream *s = dec_stream(part);
	GByteArray *text = g_byte_array_new();
	GByteArray *line = g_byte_array_new();
	struct uu_block uu = { .fd = -1 };
	bool ok = false;

	while (s != NULL) {
		ssize_t n = dec_read_block(w, s, true, error);
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
