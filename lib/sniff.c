/*
 * sniff.c - what is this file? (libmagic, plus a look inside zips)
 *
 * libmagic is asked twice: the MIME type (MAGIC_MIME_TYPE) decides the
 * kind, the description (MAGIC_NONE) refines it and is kept for refusal
 * reasons.  The database is loaded once per process (libmagic handles
 * are not thread-safe; the daemon checks one message at a time).
 * libmagic reads SNIFF_BYTES_MAX bytes of the file for each answer:
 * file 5.44 reads up to 7 MiB by default, into a fresh 7 MiB buffer each
 * time, which for a photo is the whole file twice and more than the
 * rest of its checks but the decode; every kind above is told by the
 * first MiB (libmagic's own default before 5.41).
 *
 * How the answers map to kinds:
 *   image/jpeg -> JPEG; other image types -> IMAGE; video types -> VIDEO
 *     (video_probe() decides whether it really is one);
 *   application/pdf -> PDF;
 *   Compound Files (CDFV2: application/msword, vnd.ms-office, CDFV2,
 *     x-ole-storage, vnd.ms-works, vnd.ms-outlook) -> OUTLOOK_MSG when
 *     libmagic says Outlook, WPS when the creating application is
 *     Kingsoft/WPS (libmagic calls WPS files msword: they are Word
 *     binary files) or the type is vnd.ms-works, DOC for Word, else OTHER
 *     (Excel, PowerPoint, installers);
 *   the DOCX type -> DOCX; a zip (application/zip, or a description of
 *     "Zip archive" or "Microsoft OOXML", which libmagic gives some DOCX
 *     files) -> DOCX when it holds word/document.xml, OFD when it holds
 *     OFD.xml, else ZIP;
 *   rar -> RAR, 7z -> 7Z, application/vnd.ms-tnef -> TNEF;
 *   text/plain -> TXT; zero bytes -> EMPTY; the rest -> OTHER.
 */
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <magic.h>

#include "archive.h"
#include "sniff.h"

#define SNIFF_BYTES_MAX (1024 * 1024)

#define SNIFF_DOCX_MIME \
	"application/vnd.openxmlformats-officedocument." \
	"wordprocessingml.document"

static magic_t sniff_cookie;

/* The libmagic handle, loaded on first use. */
static magic_t
sniff_magic(GError **error)
{
	size_t bytes_max = SNIFF_BYTES_MAX;

	if (sniff_cookie != NULL)
		return sniff_cookie;
	sniff_cookie = magic_open(MAGIC_MIME_TYPE | MAGIC_ERROR);
	if (sniff_cookie == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "libmagic: %s", g_strerror(errno));
		return NULL;
	}
	if (magic_setparam(sniff_cookie, MAGIC_PARAM_BYTES_MAX,
			   &bytes_max) != 0 ||
	    magic_load(sniff_cookie, NULL) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "libmagic: cannot load the database: %s",
			    magic_error(sniff_cookie));
		magic_close(sniff_cookie);
		sniff_cookie = NULL;
		return NULL;
	}
	return sniff_cookie;
}

/* Copies libmagic's text (which may quote bytes of the file) as valid
 * UTF-8 without control characters, cut at a character boundary. */
static void
sniff_copy(char *dst, size_t size, const char *src)
{
	g_autofree char *valid = g_utf8_make_valid(src, -1);
	size_t len = 0;

	for (const char *p = valid; *p != '\0';) {
		const char *next = g_utf8_next_char(p);
		size_t n = (size_t)(next - p);

		if (len + n >= size)
			break;
		if ((unsigned char)*p < 0x20 || *p == 0x7F) {
			dst[len++] = ' ';
		} else {
			memcpy(dst + len, p, n);
			len += n;
		}
		p = next;
	}
	dst[len] = '\0';
}

static bool
sniff_mime_is(const char *mime, const char *const *list)
{
	for (; *list != NULL; list++)
		if (g_ascii_strcasecmp(mime, *list) == 0)
			return true;
	return false;
}

/* A Compound File (OLE2): Word, WPS, Outlook, or something else. */
static enum sniff_kind
sniff_cdf(const char *mime, const char *desc)
{
	if (g_ascii_strcasecmp(mime, "application/vnd.ms-outlook") == 0 ||
	    strstr(desc, "Microsoft Outlook") != NULL)
		return SNIFF_OUTLOOK_MSG;
	if (strstr(desc, "Kingsoft") != NULL || strstr(desc, "WPS") != NULL ||
	    g_ascii_strcasecmp(mime, "application/vnd.ms-works") == 0)
		return SNIFF_WPS;
	if (g_ascii_strcasecmp(mime, "application/msword") == 0 ||
	    strstr(desc, "Microsoft Word") != NULL)
		return SNIFF_DOC;
	return SNIFF_OTHER;
}

static enum sniff_kind
sniff_classify(const char *path, const char *mime, const char *desc)
{
	static const char *const empty[] = {
		"inode/x-empty", "application/x-empty", NULL,
	};
	static const char *const cdf[] = {
		"application/msword", "application/vnd.ms-office",
		"application/CDFV2", "application/x-ole-storage",
		"application/vnd.ms-works", "application/vnd.ms-outlook",
		NULL,
	};
	static const char *const zip[] = {
		"application/zip", "application/x-zip-compressed", NULL,
	};
	static const char *const rar[] = {
		"application/x-rar", "application/vnd.rar",
		"application/x-rar-compressed", NULL,
	};

	if (sniff_mime_is(mime, empty))
		return SNIFF_EMPTY;
	if (g_ascii_strcasecmp(mime, "image/jpeg") == 0)
		return SNIFF_JPEG;
	if (g_ascii_strncasecmp(mime, "image/", 6) == 0)
		return SNIFF_IMAGE;
	if (g_ascii_strncasecmp(mime, "video/", 6) == 0)
		return SNIFF_VIDEO;
	if (g_ascii_strcasecmp(mime, "application/pdf") == 0)
		return SNIFF_PDF;
	if (sniff_mime_is(mime, cdf))
		return sniff_cdf(mime, desc);
	if (g_ascii_strcasecmp(mime, SNIFF_DOCX_MIME) == 0)
		return SNIFF_DOCX;
	if (sniff_mime_is(mime, zip) ||
	    g_str_has_prefix(desc, "Zip archive") ||
	    strstr(desc, "Microsoft OOXML") != NULL) {
		if (archive_zip_has(path, "word/document.xml"))
			return SNIFF_DOCX;
		if (archive_zip_has(path, "OFD.xml"))
			return SNIFF_OFD;
		return SNIFF_ZIP;
	}
	if (sniff_mime_is(mime, rar))
		return SNIFF_RAR;
	if (g_ascii_strcasecmp(mime, "application/x-7z-compressed") == 0)
		return SNIFF_7Z;
	if (g_ascii_strcasecmp(mime, "application/vnd.ms-tnef") == 0)
		return SNIFF_TNEF;
	if (g_ascii_strcasecmp(mime, "text/plain") == 0)
		return SNIFF_TXT;
	return SNIFF_OTHER;
}

bool
sniff_file(const char *path, struct sniff_result *r, GError **error)
{
	magic_t cookie;
	const char *text;
	struct stat st;

	memset(r, 0, sizeof(*r));
	if (stat(path, &st) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		return false;
	}
	if (st.st_size == 0) {
		r->kind = SNIFF_EMPTY;
		g_strlcpy(r->mime, "inode/x-empty", sizeof(r->mime));
		g_strlcpy(r->description, "empty", sizeof(r->description));
		return true;
	}
	cookie = sniff_magic(error);
	if (cookie == NULL)
		return false;
	magic_setflags(cookie, MAGIC_MIME_TYPE | MAGIC_ERROR);
	text = magic_file(cookie, path);
	if (text == NULL)
		goto fail;
	sniff_copy(r->mime, sizeof(r->mime), text);
	magic_setflags(cookie, MAGIC_NONE | MAGIC_ERROR);
	text = magic_file(cookie, path);
	if (text == NULL)
		goto fail;
	sniff_copy(r->description, sizeof(r->description), text);
	r->kind = sniff_classify(path, r->mime, r->description);
	if (r->kind == SNIFF_DOCX)
		r->docx_has_media = archive_zip_has(path, "word/media/");
	return true;
fail:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: libmagic: %s",
		    path, magic_error(cookie));
	return false;
}

/* A decimal number of 1 to 6 digits at *p, not part of a longer one;
 * moves *p past it. */
static bool
sniff_dim(const char **p, unsigned *n_r)
{
	const char *s = *p;
	unsigned n = 0;
	size_t len = 0;

	while (g_ascii_isdigit(s[len]) && len < 7)
		n = n * 10 + (unsigned)(s[len++] - '0');
	if (len == 0 || len > 6 || n == 0)
		return false;
	*p = s + len;
	*n_r = n;
	return true;
}

/* The value of "key=N" in a TIFF description. */
static bool
sniff_tiff_dim(const char *desc, const char *key, unsigned *n_r)
{
	const char *p = strstr(desc, key);

	if (p == NULL)
		return false;
	p += strlen(key);
	return sniff_dim(&p, n_r);
}

bool
sniff_image_size(const char *description, unsigned *width_r,
		 unsigned *height_r)
{
	const char *p;

	*width_r = *height_r = 0;
	if (sniff_tiff_dim(description, "width=", width_r) &&
	    sniff_tiff_dim(description, "height=", height_r))
		return true;
	*width_r = *height_r = 0;
	/* the first "W x H" or "WxH" that starts a field */
	for (p = description; *p != '\0'; p++) {
		const char *q = p;
		unsigned w, h;

		if (p != description && (g_ascii_isalnum(p[-1]) ||
					  p[-1] == '.' || p[-1] == '='))
			continue;
		if (!sniff_dim(&q, &w))
			continue;
		if (*q == ' ')
			q++;
		if (*q++ != 'x')
			continue;
		if (*q == ' ')
			q++;
		if (!sniff_dim(&q, &h) || g_ascii_isalnum(*q))
			continue;
		*width_r = w;
		*height_r = h;
		return true;
	}
	return false;
}

const char *
sniff_kind_label(enum sniff_kind kind)
{
	switch (kind) {
	case SNIFF_EMPTY:
		return "空文件";
	case SNIFF_JPEG:
		return "JPG 图片";
	case SNIFF_IMAGE:
		return "图片";
	case SNIFF_VIDEO:
		return "视频";
	case SNIFF_PDF:
		return "PDF 文档";
	case SNIFF_DOC:
	case SNIFF_DOCX:
		return "Word 文档";
	case SNIFF_WPS:
		return "WPS 文档";
	case SNIFF_OFD:
		return "OFD 文档";
	case SNIFF_TXT:
		return "文本文件";
	case SNIFF_ZIP:
		return "ZIP 压缩包";
	case SNIFF_RAR:
		return "RAR 压缩包";
	case SNIFF_7Z:
		return "7z 压缩包";
	case SNIFF_TNEF:
		return "Outlook 附件包（winmail.dat）";
	case SNIFF_OUTLOOK_MSG:
		return "Outlook 邮件";
	case SNIFF_OTHER:
		break;
	}
	return "其他文件";
}

bool
sniff_is_document(enum sniff_kind kind)
{
	switch (kind) {
	case SNIFF_PDF:
	case SNIFF_DOC:
	case SNIFF_DOCX:
	case SNIFF_WPS:
	case SNIFF_OFD:
	case SNIFF_TXT:
		return true;
	default:
		return false;
	}
}
