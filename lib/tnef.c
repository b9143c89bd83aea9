/*
 * tnef.c - Outlook's winmail.dat (TNEF) opened into its attachments
 *
 * libytnef parses the whole stream in memory (TNEFParseMemory over a
 * copy without the message-level MAPI properties, see tnef_filter(); the
 * file's size is already bounded by the message's decoded-bytes limit)
 * and hands back a list of attachments.  For each, as ytnef(1) does:
 *   - the name is PR_ATTACH_LONG_FILENAME (Unicode, then 8-bit), else
 *     PR_ATTACH_FILENAME, else the down-level attAttachTitle; an OLE
 *     object (PR_ATTACH_METHOD 6) has no name, only a description.  8-bit
 *     names are in the sender's code page: used as they are when valid
 *     UTF-8, read as GB18030 (GBK's superset, Chinese Windows) when not;
 *     Unicode names are UTF-16LE.  Only the base name is kept;
 *   - the bytes are PR_ATTACH_DATA_OBJ as PT_OBJECT (a 16-byte IID,
 *     then the data) or PT_BINARY, else the down-level attAttachData.
 * An attachment with neither name nor bytes is nothing a person sent
 * and is skipped.  Each is written under a name of ours (tnef-0001.ext)
 * so that nothing in the stream chooses a path.
 *
 * Bounds: max_archive_members attachments, max_archive_bytes in all;
 * over either the whole file is refused and what was written removed.
 * A stream that fails to parse is taken for what was read before the
 * damage when that holds attachments, and refused otherwise.
 *
 * libytnef prints its complaints on stdout; the daemon's worker is a
 * forked process (DESIGN.md, Isolation), so a crash in it ends only
 * that message's attempt.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <ytnef.h>	/* needs <stdio.h> first */

#include "config.h"
#include "tnef.h"

#define TNEF_NAME_MAX 255   /* bytes of a kept name */
#define TNEF_IID_LEN 16     /* PT_OBJECT data starts with an IID */
#define TNEF_ATTACH_OLE 6   /* PR_ATTACH_METHOD: an OLE object */
#define TNEF_HEAD 6         /* signature (4) and key (2) */
#define TNEF_ATTR_HEAD 9    /* level (1), id (4), length (4) */
#define TNEF_ATTR_TAIL 2    /* checksum */
#define TNEF_LVL_MESSAGE 1
#define TNEF_ATT_MAPIPROPS 0x00069003u

void
tnef_member_free(struct tnef_member *m)
{
	if (m == NULL)
		return;
	g_free(m->name);
	g_free(m->path);
	g_free(m);
}

/* A MAPI property's value, or NULL. */
static variableLength *
tnef_prop(Attachment *a, unsigned type, unsigned id)
{
	variableLength *v = MAPIFindProperty(&a->MAPI, PROP_TAG(type, id));

	if (v == MAPI_UNDEFINED || v == NULL || v->data == NULL ||
	    v->size <= 0)
		return NULL;
	return v;
}

/* 8-bit text of len bytes (NUL ends it early) as UTF-8. */
static char *
tnef_text8(const BYTE *data, int len)
{
	size_t n = strnlen((const char *)data, (size_t)len);
	char *s;

	if (g_utf8_validate((const char *)data, (gssize)n, NULL))
		return g_strndup((const char *)data, n);
	s = g_convert((const char *)data, (gssize)n, "UTF-8", "GB18030",
		      NULL, NULL, NULL);
	if (s == NULL)
		s = g_utf8_make_valid((const char *)data, (gssize)n);
	return s;
}

/* A PT_UNICODE value as UTF-8: libytnef has converted it from UTF-16LE
 * already (keeping the UTF-16 size: a NUL ends the text). */
static char *
tnef_text16(const BYTE *data, int len)
{
	size_t n = strnlen((const char *)data, (size_t)len);

	return g_utf8_make_valid((const char *)data, (gssize)n);
}

/* An embedded OLE object (a picture pasted into rich text) has only a
 * description ("Picture (Device Independent Bitmap)"), no file name. */
static bool
tnef_is_ole(Attachment *a)
{
	variableLength *v = tnef_prop(a, PT_LONG, PR_ATTACH_METHOD);

	return v != NULL && v->size >= 4 && v->data[0] == TNEF_ATTACH_OLE &&
	       v->data[1] == 0 && v->data[2] == 0 && v->data[3] == 0;
}

/* The sender's name for the attachment, or NULL. */
static char *
tnef_raw_name(Attachment *a)
{
	static const unsigned ids[] = {
		PR_ATTACH_LONG_FILENAME, PR_ATTACH_FILENAME,
	};
	variableLength *v;

	for (size_t i = 0; i < G_N_ELEMENTS(ids); i++) {
		char *s = NULL;

		if ((v = tnef_prop(a, PT_UNICODE, ids[i])) != NULL)
			s = tnef_text16(v->data, v->size);
		else if ((v = tnef_prop(a, PT_STRING8, ids[i])) != NULL)
			s = tnef_text8(v->data, v->size);
		if (s != NULL && *s != '\0')
			return s;
		g_free(s);
	}
	if (a->Title.data != NULL && a->Title.size > 0)
		return tnef_text8(a->Title.data, a->Title.size);
	return NULL;
}

/* The base name, without control characters, bounded; NULL if empty. */
static char *
tnef_clean_name(const char *full)
{
	const char *base = full;
	GString *name = g_string_new(NULL);

	for (const char *p = full; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	for (const char *p = base; *p != '\0'; p = g_utf8_next_char(p)) {
		size_t n = (size_t)(g_utf8_next_char(p) - p);

		if (name->len + n > TNEF_NAME_MAX)
			break;
		if ((unsigned char)*p < 0x20 || *p == 0x7F)
			g_string_append_c(name, '_');
		else
			g_string_append_len(name, p, (gssize)n);
	}
	g_strstrip(name->str);
	if (name->str[0] == '\0' || strcmp(name->str, ".") == 0 ||
	    strcmp(name->str, "..") == 0) {
		g_string_free(name, TRUE);
		return NULL;
	}
	return g_string_free(name, FALSE);
}

/* The attachment's bytes (pointer into the parsed stream). */
static void
tnef_data(Attachment *a, const BYTE **data_r, size_t *len_r)
{
	variableLength *v;

	*data_r = NULL;
	*len_r = 0;
	if ((v = tnef_prop(a, PT_OBJECT, PR_ATTACH_DATA_OBJ)) != NULL &&
	    v->size > TNEF_IID_LEN) {
		*data_r = v->data + TNEF_IID_LEN;
		*len_r = (size_t)v->size - TNEF_IID_LEN;
	} else if ((v = tnef_prop(a, PT_BINARY, PR_ATTACH_DATA_OBJ)) !=
		   NULL) {
		*data_r = v->data;
		*len_r = (size_t)v->size;
	} else if (a->FileData.data != NULL && a->FileData.size > 0) {
		*data_r = a->FileData.data;
		*len_r = (size_t)a->FileData.size;
	}
}

static uint32_t
tnef_le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

/*
 * The stream without the message's own MAPI properties.  They are of no
 * use here, and libytnef gives up on the whole stream when a name in
 * them passes one of its fixed sizes (100 bytes), which Outlook's
 * Exchange headers do: the attachments that follow would be lost.
 * Attributes of no bytes go too (libytnef stops at them; they carry
 * nothing).  The
 * attribute records are walked by their lengths; from a record that does
 * not fit on, the rest is copied as it is, for libytnef to judge.
 */
static GByteArray *
tnef_filter(const unsigned char *data, size_t len)
{
	GByteArray *out = g_byte_array_sized_new((guint)len);
	size_t off = TNEF_HEAD;

	if (len < TNEF_HEAD) {
		g_byte_array_append(out, data, (guint)len);
		return out;
	}
	g_byte_array_append(out, data, TNEF_HEAD);
	while (off < len) {
		size_t rest = len - off, n;
		bool empty;

		if (rest < TNEF_ATTR_HEAD)
			break;
		n = tnef_le32(data + off + 5);
		if (n > rest - TNEF_ATTR_HEAD ||
		    rest - TNEF_ATTR_HEAD - n < TNEF_ATTR_TAIL)
			break;
		empty = n == 0;
		n += TNEF_ATTR_HEAD + TNEF_ATTR_TAIL;
		if (!empty && !(data[off] == TNEF_LVL_MESSAGE &&
				tnef_le32(data + off + 1) == TNEF_ATT_MAPIPROPS))
			g_byte_array_append(out, data + off, (guint)n);
		off += n;
	}
	if (off < len)
		g_byte_array_append(out, data + off, (guint)(len - off));
	return out;
}

/* "tnef-0001.jpg": ours, with the extension when it is short ASCII. */
static char *
tnef_file_name(const char *name, unsigned index)
{
	const char *dot = name != NULL ? strrchr(name, '.') : NULL;
	size_t n = dot != NULL ? strlen(dot) : 0;
	bool plain = n >= 2 && n <= 8;

	for (size_t i = 1; plain && i < n; i++)
		if (!g_ascii_isalnum(dot[i]))
			plain = false;
	if (!plain)
		return g_strdup_printf("tnef-%04u", index);
	return g_strdup_printf("tnef-%04u%s", index, dot);
}

static bool
tnef_write(const char *path, const BYTE *data, size_t len, GError **error)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		goto fail;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			int e = errno;

			close(fd);
			errno = e;
			goto fail;
		}
		off += (size_t)w;
	}
	if (close(fd) != 0)
		goto fail;
	return true;
fail:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s", path,
		    g_strerror(errno));
	return false;
}

/* Removes what was written and empties the list. */
static void
tnef_undo(GPtrArray *members)
{
	for (unsigned i = 0; i < members->len; i++) {
		struct tnef_member *m = g_ptr_array_index(members, i);

		(void)unlink(m->path);
	}
	g_ptr_array_set_size(members, 0);
}

/* Writes the parsed attachments; false with error over a limit. */
static bool
tnef_save_all(TNEFStruct *tnef, const char *work_dir,
	      const struct limits_config *limits, GPtrArray *members,
	      GError **error)
{
	uint64_t total = 0;
	unsigned seen = 0;

	for (Attachment *a = tnef->starting_attach.next; a != NULL;
	     a = a->next) {
		g_autofree char *raw = tnef_raw_name(a);
		g_autofree char *file = NULL;
		struct tnef_member *m;
		const BYTE *data;
		size_t len;

		tnef_data(a, &data, &len);
		if (raw == NULL && len == 0)
			continue;
		seen++;
		if (limits->max_archive_members != 0 &&
		    seen > limits->max_archive_members) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
				    "其中的附件超过 %u 个的上限，未解开",
				    limits->max_archive_members);
			return false;
		}
		total += len;
		if (limits->max_archive_bytes != 0 &&
		    total > limits->max_archive_bytes) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_LIMIT,
				    "其中的附件超过 %" G_GUINT64_FORMAT
				    " MB 的上限，未解开",
				    limits->max_archive_bytes / (1024 * 1024));
			return false;
		}
		m = g_new0(struct tnef_member, 1);
		m->name = raw != NULL && !tnef_is_ole(a) ? tnef_clean_name(raw)
							 : NULL;
		m->named = m->name != NULL;
		if (m->name == NULL)
			m->name = g_strdup_printf("附件%u", seen);
		file = tnef_file_name(m->name, seen);
		m->path = g_build_filename(work_dir, file, NULL);
		m->size = len;
		if (!tnef_write(m->path, data, len, error)) {
			tnef_member_free(m);
			return false;
		}
		g_ptr_array_add(members, m);
	}
	return true;
}

bool
tnef_extract(const char *path, const char *work_dir,
	     const struct limits_config *limits, GPtrArray **members_r,
	     GError **error)
{
	g_autoptr(GMappedFile) map = NULL;
	g_autoptr(GByteArray) buf = NULL;
	GPtrArray *members = NULL;
	TNEFStruct tnef;
	GError *merr = NULL;
	bool ok = false;
	int rc;

	*members_r = NULL;
	map = g_mapped_file_new(path, FALSE, &merr);
	if (map == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, merr->message);
		g_error_free(merr);
		return false;
	}
	if (g_mapped_file_get_length(map) == 0 ||
	    g_mapped_file_get_length(map) > G_MAXUINT / 2) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_ITEM,
			    "文件已损坏，无法解开");
		return false;
	}
	TNEFInitialize(&tnef);
	tnef.Debug = 0;
	buf = tnef_filter((const unsigned char *)g_mapped_file_get_contents(map),
			  g_mapped_file_get_length(map));
	g_clear_pointer(&map, g_mapped_file_unref);
	rc = TNEFParseMemory(buf->data, (long)buf->len, &tnef);
	if (rc < 0 && tnef.starting_attach.next == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_ITEM,
			    "文件已损坏，无法解开");
		goto out;
	}
	members = g_ptr_array_new_with_free_func(
		(GDestroyNotify)tnef_member_free);
	if (!tnef_save_all(&tnef, work_dir, limits, members, error)) {
		tnef_undo(members);
		g_ptr_array_unref(members);
		goto out;
	}
	*members_r = members;
	ok = true;
out:
	TNEFFree(&tnef);
	return ok;
}
