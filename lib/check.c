/*
 * check.c - from parsed parts to checked items (content only)
 *
 * Containers are opened one level: the members of a zip, rar or 7z
 * archive, and the attachments inside an Outlook winmail.dat (TNEF), are
 * checked as if attached.  An archive inside winmail.dat is opened too
 * (Outlook wraps what was attached, it adds no level); an archive inside
 * an archive, or a winmail.dat inside either, is refused.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/stat.h>

#include "archive.h"
#include "check.h"
#include "photo.h"
#include "rawstore.h"
#include "rules.h"
#include "sniff.h"
#include "tnef.h"
#include "video.h"

void
check_item_free(struct check_item *ci)
{
	if (ci == NULL)
		return;
	store_item_clear(&ci->it);
	g_free(ci->src);
	g_free(ci->ext);
	g_free(ci);
}

static char *
check_ext(const char *name)
{
	const char *dot = strrchr(name, '.');

	if (dot == NULL || dot == name || strlen(dot) > 8)
		return g_strdup("");
	return g_ascii_strdown(dot, -1);
}

static bool
check_is_archive(enum sniff_kind k)
{
	return k == SNIFF_ZIP || k == SNIFF_RAR || k == SNIFF_7Z;
}

/*
 * An inline picture that fails as a photo is decoration (a signature
 * logo, an icon, a banner) when it is small: under a quarter of the
 * smallest photo's area (511×384 with the defaults; 512×384 is not), or
 * of unknown size (a HEIC, whose size libmagic does not give).  A bigger one was meant as a photo and is refused
 * with its reason, so the unit learns why it was not taken.
 */
static bool
check_decoration(const struct rules_config *rules,
		 const struct photo_facts *pf)
{
	uint64_t area = (uint64_t)pf->width * pf->height;

	return area * 4 < (uint64_t)rules->photo_min_long *
				  rules->photo_min_short;
}

/*
 * One file, judged by what it is.  sha: its SHA-256 when message.c took
 * it while decoding, else NULL (archive members, a file given by path)
 * and the file is read for it.  Returns the item, or NULL when it is to
 * be dropped silently (an inline decoration).
 */
static struct check_item *
check_file(const struct intake_config *cfg, const char *name,
	   const char *path, uint64_t size, bool is_inline,
	   const struct sniff_result *sn, const char *sha, GError **error)
{
	struct check_item *ci = g_new0(struct check_item, 1);
	char hex[SHA256_HEX_LEN + 1];

	ci->it.name = g_strdup(name);
	ci->it.size = size;
	ci->src = g_strdup(path);
	ci->ext = check_ext(name);
	if (sha == NULL && !rawstore_hash_file(path, hex, error)) {
		check_item_free(ci);
		return NULL;
	}
	ci->it.sha256 = g_strdup(sha != NULL ? sha : hex);

	switch (sn->kind) {
	case SNIFF_JPEG:
	case SNIFF_IMAGE: {
		struct photo_facts pf;

		if (!photo_inspect(path, &cfg->limits, NULL, &pf, error)) {
			check_item_free(ci);
			return NULL;
		}
		/* a PNG or a GIF: its size as libmagic read it, for the
		 * refusal and to tell a pasted photo from a logo */
		if (pf.format != PHOTO_JPEG && pf.width == 0)
			(void)sniff_image_size(sn->description, &pf.width,
					       &pf.height);
		ci->it.type = ITEM_PHOTO;
		ci->it.width = pf.width;
		ci->it.height = pf.height;
		ci->it.accepted =
			rules_photo(&cfg->rules, name, &pf, &ci->it.reason);
		if (is_inline && !ci->it.accepted &&
		    check_decoration(&cfg->rules, &pf)) {
			/* a logo or an icon in an HTML signature */
			check_item_free(ci);
			return NULL;
		}
		break;
	}
	case SNIFF_VIDEO: {
		struct video_facts vf;

		if (!video_probe(path, &cfg->limits, &vf, error)) {
			check_item_free(ci);
			return NULL;
		}
		ci->it.type = ITEM_VIDEO;
		ci->it.width = vf.width;
		ci->it.height = vf.height;
		ci->it.duration = vf.duration;
		ci->it.codec = vf.codec[0] ? g_strdup(vf.codec) : NULL;
		ci->it.accepted =
			rules_video(&cfg->rules, name, &vf, &ci->it.reason);
		break;
	}
	case SNIFF_EMPTY:
	case SNIFF_PDF:
	case SNIFF_DOC:
	case SNIFF_DOCX:
	case SNIFF_WPS:
	case SNIFF_OFD:
	case SNIFF_TXT:
		ci->it.type = ITEM_SUMMARY;
		ci->it.accepted =
			rules_summary(name, sn, size, &ci->it.reason);
		ci->docx_has_media = sn->docx_has_media;
		break;
	case SNIFF_OUTLOOK_MSG:
		ci->it.type = ITEM_OTHER;
		ci->it.accepted = false;
		ci->it.reason = g_strdup_printf(
			"附件“%s”：Outlook 邮件文件（.msg）无法处理，"
			"请将其中的附件直接作为附件发送", name);
		break;
	default:
		ci->it.type = ITEM_OTHER;
		ci->it.accepted = false;
		ci->it.reason = rules_other_reason(name, sn);
		break;
	}
	return ci;
}

/* The members of an archive, checked as if attached (one level). */
static bool
check_archive(const struct intake_config *cfg, const char *name,
	      const char *path, const char *work_dir, const char *sub,
	      GPtrArray *items, GError **error)
{
	g_autofree char *dir = NULL;
	g_autoptr(GError) aerr = NULL;
	GPtrArray *members = NULL;

	dir = g_build_filename(work_dir, sub, NULL);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create %s", dir);
		return false;
	}
	if (!archive_extract(path, dir, &cfg->limits, &members, &aerr)) {
		struct check_item *ci = g_new0(struct check_item, 1);

		if (aerr->code == INTAKE_ERROR_IO) {
			g_propagate_error(error, g_steal_pointer(&aerr));
			g_free(ci);
			return false;
		}
		ci->it.name = g_strdup(name);
		ci->it.type = ITEM_OTHER;
		ci->it.reason = strstr(aerr->message, name) != NULL
					? g_strdup(aerr->message)
					: g_strdup_printf("压缩包“%s”：%s", name,
							  aerr->message);
		ci->src = g_strdup(path);
		ci->ext = check_ext(name);
		g_ptr_array_add(items, ci);
		return true;
	}
	for (unsigned i = 0; i < members->len; i++) {
		struct archive_member *am = g_ptr_array_index(members, i);
		struct sniff_result sn;
		struct check_item *ci;

		if (!sniff_file(am->path, &sn, error))
			goto fail;
		if (check_is_archive(sn.kind)) {
			ci = g_new0(struct check_item, 1);
			ci->it.name = g_strdup(am->name);
			ci->it.type = ITEM_OTHER;
			ci->it.reason = g_strdup_printf(
				"压缩包“%s”中的“%s”本身也是压缩包，"
				"请解压后直接作为附件发送",
				name, am->name);
			ci->src = g_strdup(am->path);
			ci->ext = check_ext(am->name);
			g_ptr_array_add(items, ci);
			continue;
		}
		ci = check_file(cfg, am->name, am->path, am->size, false, &sn,
				NULL, error);
		if (ci == NULL) {
			if (error != NULL && *error != NULL)
				goto fail;
			continue;
		}
		g_ptr_array_add(items, ci);
	}
	g_ptr_array_unref(members);
	return true;
fail:
	g_ptr_array_unref(members);
	return false;
}

/* A refusal of a whole container file, with its reason. */
static void
check_refuse(GPtrArray *items, const char *name, const char *path,
	     char *reason)
{
	struct check_item *ci = g_new0(struct check_item, 1);

	ci->it.name = g_strdup(name);
	ci->it.type = ITEM_OTHER;
	ci->it.reason = reason;
	ci->src = g_strdup(path);
	ci->ext = check_ext(name);
	g_ptr_array_add(items, ci);
}

/* The attachments inside winmail.dat, checked as if attached. */
static bool
check_tnef(const struct intake_config *cfg, const char *name,
	   const char *path, const char *work_dir, unsigned index,
	   GPtrArray *items, GError **error)
{
	g_autofree char *dir = NULL;
	g_autoptr(GError) terr = NULL;
	GPtrArray *members = NULL;
	char sub[32];
	bool ok = false;

	g_snprintf(sub, sizeof(sub), "tnef-%u", index);
	dir = g_build_filename(work_dir, sub, NULL);
	if (g_mkdir_with_parents(dir, 0700) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "cannot create %s", dir);
		return false;
	}
	if (!tnef_extract(path, dir, &cfg->limits, &members, &terr)) {
		if (terr->code == INTAKE_ERROR_IO) {
			g_propagate_error(error, g_steal_pointer(&terr));
			return false;
		}
		check_refuse(items, name, path,
			     g_strdup_printf("附件“%s”（Outlook 附件包）：%s",
					     name, terr->message));
		return true;
	}
	for (unsigned i = 0; i < members->len; i++) {
		struct tnef_member *tm = g_ptr_array_index(members, i);
		struct sniff_result sn;
		struct check_item *ci;
		char asub[48];

		if (!sniff_file(tm->path, &sn, error))
			goto out;
		if (check_is_archive(sn.kind)) {
			g_snprintf(asub, sizeof(asub), "%s-archive-%u", sub, i);
			if (!check_archive(cfg, tm->name, tm->path, work_dir,
					   asub, items, error))
				goto out;
			continue;
		}
		if (sn.kind == SNIFF_TNEF) {
			check_refuse(items, tm->name, tm->path,
				     g_strdup_printf("附件“%s”中的“%s”又是一个 "
						     "Outlook 附件包，无法处理，"
						     "请将其中的附件直接作为附件"
						     "发送", name, tm->name));
			continue;
		}
		ci = check_file(cfg, tm->name, tm->path, tm->size, false, &sn,
				NULL, error);
		if (ci == NULL) {
			if (error != NULL && *error != NULL)
				goto out;
			continue;
		}
		g_ptr_array_add(items, ci);
	}
	ok = true;
out:
	g_ptr_array_unref(members);
	return ok;
}

GPtrArray *
check_message(const struct intake_config *cfg, const struct message *msg,
	      const char *work_dir, GError **error)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)check_item_free);

	for (unsigned i = 0; i < msg->parts->len; i++) {
		const struct msg_part *p = g_ptr_array_index(msg->parts, i);
		struct sniff_result sn;
		struct check_item *ci;
		GError *err = NULL;

		if (!sniff_file(p->path, &sn, error))
			goto fail;
		if (check_is_archive(sn.kind)) {
			char sub[32];

			g_snprintf(sub, sizeof(sub), "archive-%u", i);
			if (!check_archive(cfg, p->filename, p->path, work_dir,
					   sub, items, error))
				goto fail;
			continue;
		}
		if (sn.kind == SNIFF_TNEF) {
			if (!check_tnef(cfg, p->filename, p->path, work_dir, i,
					items, error))
				goto fail;
			continue;
		}
		ci = check_file(cfg, p->filename, p->path, p->size,
				p->is_inline, &sn, p->sha256, &err);
		if (err != NULL) {
			g_propagate_error(error, err);
			goto fail;
		}
		if (ci != NULL)
			g_ptr_array_add(items, ci);
	}
	return items;
fail:
	g_ptr_array_unref(items);
	return NULL;
}

GPtrArray *
check_path(const struct intake_config *cfg, const char *name,
	   const char *path, const char *work_dir, GError **error)
{
	GPtrArray *items = g_ptr_array_new_with_free_func(
		(GDestroyNotify)check_item_free);
	struct sniff_result sn;
	struct check_item *ci;
	GStatBuf sb;

	if (g_stat(path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: not a readable file", path);
		goto fail;
	}
	if (!sniff_file(path, &sn, error))
		goto fail;
	if (check_is_archive(sn.kind)) {
		if (!check_archive(cfg, name, path, work_dir, "archive-0",
				   items, error))
			goto fail;
		return items;
	}
	if (sn.kind == SNIFF_TNEF) {
		if (!check_tnef(cfg, name, path, work_dir, 0, items, error))
			goto fail;
		return items;
	}
	/* not inline: nothing is dropped silently */
	ci = check_file(cfg, name, path, (uint64_t)sb.st_size, false, &sn,
			NULL, error);
	if (ci == NULL)
		goto fail;
	g_ptr_array_add(items, ci);
	return items;
fail:
	g_ptr_array_unref(items);
	return NULL;
}
