/*
 * reply.c - rendering the reply templates
 *
 * A template is template_dir/<kind>.txt: "Subject: ..." on the first
 * line, an empty line, then the body, in UTF-8 (a BOM and CRLF line ends
 * left by Windows editors are accepted).  Placeholders:
 *
 *   {{unit}}              the unit's name (empty when unidentified)
 *   {{campaign}}          the campaign's name
 *   {{deadline}}          the deadline as people read it, or 以通知要求为准
 *   {{verdict_text}}      已全部收到 / 部分收到 / 未能收录 / 无法确定单位
 *                         (reminders: 尚未报送齐全)
 *   {{items}}             one line per item, "✓ ..." or "✗ ...：reason"
 *   {{captions}}          one line per caption taken, or empty
 *   {{notes}}             extra lines (e.g. pictures inside a DOCX)
 *   {{dossier}}           what the unit's dossier holds now
 *   {{missing}}           "仍缺：..." or "材料已齐全。"
 *   {{original_subject}}  the submission's subject, cleaned and bounded
 *   {{size}}              too_large: the message's size, "152.3 MB"
 *                         (rounded up: never shown at or below the limit)
 *   {{size_limit}}        too_large: [limits] max_message_bytes, "100 MB"
 *                         (rounded down)
 *
 * An unknown placeholder is an error naming it and the file: a typo must
 * not reach a unit.  A line holding nothing but a placeholder that renders
 * empty is dropped, trailing blanks go and runs of empty lines collapse to
 * one, so a section with nothing to say leaves no hole.  Every value that
 * comes from a message (names, subjects, captions) is cleaned of controls
 * and bounded (reply_clean_header) before it is inserted: it cannot break
 * a line, let alone a header.
 *
 * Composing the message is in reply_compose.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reply.h"

#define REPLY_TEMPLATE_MAX (64 * 1024) /* bytes of one template file */
#define REPLY_SUBJECT_OUT_MAX 400      /* bytes of the rendered subject */
#define REPLY_VALUE_MAX 400            /* bytes of unit, campaign, deadline */
#define REPLY_NAME_MAX 240             /* bytes of a file name in a line */
#define REPLY_LINE_MAX 1000            /* bytes of a reason, caption, note */
#define REPLY_ITEMS_MAX 300            /* item lines listed */
#define REPLY_LIST_MAX 300             /* caption or note lines listed */
#define REPLY_PLACEHOLDER_MAX 32       /* bytes of a name in an error */

static const char *const reply_kinds[] = {
	"accepted", "partial", "rejected", "unidentified", "reminder",
	"too_large", NULL,
};

enum reply_ph {
	PH_UNIT,
	PH_CAMPAIGN,
	PH_DEADLINE,
	PH_VERDICT_TEXT,
	PH_ITEMS,
	PH_CAPTIONS,
	PH_NOTES,
	PH_DOSSIER,
	PH_MISSING,
	PH_ORIGINAL_SUBJECT,
	PH_SIZE,
	PH_SIZE_LIMIT,
	PH_COUNT,
};

static const char *const reply_ph_names[PH_COUNT] = {
	[PH_UNIT] = "unit",
	[PH_CAMPAIGN] = "campaign",
	[PH_DEADLINE] = "deadline",
	[PH_VERDICT_TEXT] = "verdict_text",
	[PH_ITEMS] = "items",
	[PH_CAPTIONS] = "captions",
	[PH_NOTES] = "notes",
	[PH_DOSSIER] = "dossier",
	[PH_MISSING] = "missing",
	[PH_ORIGINAL_SUBJECT] = "original_subject",
	[PH_SIZE] = "size",
	[PH_SIZE_LIMIT] = "size_limit",
};

/*
 * Values of the placeholders.
 */

void
reply_format_size(uint64_t bytes, bool round_up, char *buf, size_t size)
{
	const uint64_t mib = 1024 * 1024, kib = 1024;
	uint64_t whole, tenths;

	if (bytes < mib) {
		whole = bytes / kib;
		if (round_up && bytes % kib != 0)
			whole++;
		g_snprintf(buf, size, "%" G_GUINT64_FORMAT " KB", whole);
		return;
	}
	whole = bytes / mib;
	tenths = (bytes % mib) * 10;
	tenths = round_up ? (tenths + mib - 1) / mib : tenths / mib;
	if (tenths == 10) {
		whole++;
		tenths = 0;
	}
	if (tenths == 0)
		g_snprintf(buf, size, "%" G_GUINT64_FORMAT " MB", whole);
	else
		g_snprintf(buf, size, "%" G_GUINT64_FORMAT ".%u MB", whole,
			   (unsigned)tenths);
}

static const char *
reply_type_label(enum item_type type)
{
	switch (type) {
	case ITEM_PHOTO:
		return "图片";
	case ITEM_VIDEO:
		return "视频";
	case ITEM_SUMMARY:
		return "活动总结";
	case ITEM_LINK:
		return "大附件链接";
	case ITEM_OTHER:
		break;
	}
	return "附件";
}

static const char *
reply_verdict_text(const struct reply_info *info)
{
	static const struct {
		const char *key, *text;
	} map[] = {
		{"accepted", "已全部收到"},
		{"partial", "部分收到"},
		{"rejected", "未能收录"},
		{"unidentified", "无法确定单位"},
		{"reminder", "尚未报送齐全"},
	};
	const char *key = info->verdict != NULL ? info->verdict : info->kind;
	size_t i;

	for (i = 0; key != NULL && i < G_N_ELEMENTS(map); i++)
		if (strcmp(key, map[i].key) == 0)
			return map[i].text;
	return "";
}

static void
reply_append_item(GString *out, const struct reply_item *it)
{
	g_autofree char *name = reply_clean_header(it->name, REPLY_NAME_MAX);
	const char *label = reply_type_label(it->type);
	const char *shown = name[0] != '\0' ? name : "（未命名）";

	if (!it->accepted) {
		g_autofree char *reason =
			reply_clean_header(it->reason, REPLY_LINE_MAX);

		g_string_append_printf(out, "✗ %s“%s”：%s\n", label, shown,
				       reason[0] != '\0' ? reason : "未能收录");
		return;
	}
	g_string_append_printf(out, "✓ %s“%s”", label, shown);
	if ((it->type == ITEM_PHOTO || it->type == ITEM_VIDEO) &&
	    it->width > 0 && it->height > 0)
		g_string_append_printf(out, "（%u×%u）", it->width, it->height);
	if (it->type == ITEM_PHOTO) {
		g_autofree char *caption =
			reply_clean_header(it->caption, REPLY_LINE_MAX);

		if (caption[0] != '\0')
			g_string_append_printf(out, "说明：%s", caption);
		else
			g_string_append(out, "，尚缺文字说明");
	} else if (it->type == ITEM_LINK) {
		g_string_append(out, "已登记，由办公室下载");
	}
	if (it->late)
		g_string_append(out, "（截止时间后收到）");
	g_string_append_c(out, '\n');
}

static char *
reply_items_text(const struct reply_info *info)
{
	GString *out = g_string_new(NULL);
	size_t i, n = info->items != NULL ? info->n_items : 0;

	for (i = 0; i < n && i < REPLY_ITEMS_MAX; i++)
		reply_append_item(out, &info->items[i]);
	if (n > REPLY_ITEMS_MAX)
		g_string_append_printf(out, "……另有 %zu 项未列出\n",
				       n - REPLY_ITEMS_MAX);
	if (out->len > 0)
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

/* Lines of a NULL-terminated list, cleaned; prefix/suffix around each. */
static char *
reply_list_text(const char *const *list, const char *prefix,
		const char *suffix)
{
	GString *out = g_string_new(NULL);
	size_t i;

	for (i = 0; list != NULL && list[i] != NULL; i++) {
		g_autofree char *line = NULL;

		if (i == REPLY_LIST_MAX) {
			size_t rest = 0;

			while (list[i + rest] != NULL)
				rest++;
			g_string_append_printf(out, "……另有 %zu 条未列出\n",
					       rest);
			break;
		}
		line = reply_clean_header(list[i], REPLY_LINE_MAX);
		if (line[0] == '\0')
			continue;
		g_string_append_printf(out, "%s%s%s\n", prefix, line, suffix);
	}
	if (out->len > 0)
		g_string_truncate(out, out->len - 1);
	return g_string_free(out, FALSE);
}

static char *
reply_dossier_text(const struct reply_info *info)
{
	const struct dossier *d = &info->dossier;
	unsigned summaries = d->summaries + d->paper_summaries;
	GString *out;

	if (summaries == 0 && d->photos == 0 && d->videos == 0 &&
	    d->links == 0)
		return g_strdup("尚未登记任何材料");
	out = g_string_new(NULL);
	g_string_append_printf(out, "活动总结 %u 份", summaries);
	if (d->paper_summaries > 0)
		g_string_append_printf(out, "（其中纸质版 %u 份）",
				       d->paper_summaries);
	if (info->photo_max > 0)
		g_string_append_printf(out, "；图片 %u/%u 张", d->photos,
				       info->photo_max);
	else
		g_string_append_printf(out, "；图片 %u 张", d->photos);
	if (d->photos_uncaptioned > 0)
		g_string_append_printf(out, "（其中 %u 张缺少文字说明）",
				       d->photos_uncaptioned);
	g_string_append_printf(out, "；视频 %u 个", d->videos);
	if (d->links > 0)
		g_string_append_printf(out, "；大附件链接 %u 个（待办公室下载）",
				       d->links);
	if (d->late)
		g_string_append(out, "；部分材料在截止时间后收到");
	return g_string_free(out, FALSE);
}

static char *
reply_missing_text(const struct reply_info *info)
{
	GString *out;
	bool first = true;

	if (info->missing == 0)
		return g_strdup("材料已齐全。");
	out = g_string_new("仍缺：");
#define REPLY_MISSING(flag, ...)                                   \
	do {                                                       \
		if (info->missing & (flag)) {                      \
			if (!first)                                \
				g_string_append(out, "、");        \
			g_string_append_printf(out, __VA_ARGS__); \
			first = false;                             \
		}                                                  \
	} while (0)
	REPLY_MISSING(MISSING_SUMMARY, "%s", "活动总结");
	REPLY_MISSING(MISSING_PHOTOS, "%s", "图片");
	if (info->dossier.photos_uncaptioned > 0)
		REPLY_MISSING(MISSING_CAPTIONS, "图片文字说明（%u 张图片）",
			      info->dossier.photos_uncaptioned);
	else
		REPLY_MISSING(MISSING_CAPTIONS, "%s", "图片文字说明");
	REPLY_MISSING(MISSING_VIDEO, "%s", "高清视频");
#undef REPLY_MISSING
	g_string_append(out, "。");
	return g_string_free(out, FALSE);
}

static void
reply_values(const struct reply_info *info, char *values[PH_COUNT])
{
	char size[32];

	values[PH_UNIT] = reply_clean_header(info->unit, REPLY_VALUE_MAX);
	values[PH_CAMPAIGN] =
		reply_clean_header(info->campaign, REPLY_VALUE_MAX);
	values[PH_DEADLINE] =
		info->deadline != NULL && info->deadline[0] != '\0'
			? reply_clean_header(info->deadline, REPLY_VALUE_MAX)
			: g_strdup("以通知要求为准");
	values[PH_VERDICT_TEXT] = g_strdup(reply_verdict_text(info));
	values[PH_ITEMS] = reply_items_text(info);
	values[PH_CAPTIONS] =
		reply_list_text(info->captions_taken, "✓ 图片说明“", "”已登记");
	values[PH_NOTES] = reply_list_text(info->notes, "", "");
	values[PH_DOSSIER] = reply_dossier_text(info);
	values[PH_MISSING] = reply_missing_text(info);
	values[PH_ORIGINAL_SUBJECT] =
		reply_clean_header(info->original_subject, REPLY_SUBJECT_MAX);
	reply_format_size(info->size, true, size, sizeof(size));
	values[PH_SIZE] = g_strdup(size);
	reply_format_size(info->size_limit, false, size, sizeof(size));
	values[PH_SIZE_LIMIT] = g_strdup(size);
}

/*
 * Templates.
 */

static bool
reply_read_file(const char *path, char **text_r, GError **error)
{
	GString *buf = NULL;
	struct stat st;
	char block[8192];
	int fd;
	bool ok = false;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: cannot open the reply template: %s", path,
			    g_strerror(errno));
		return false;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: the reply template is not a regular file",
			    path);
		goto out;
	}
	buf = g_string_sized_new((gsize)MIN(st.st_size, REPLY_TEMPLATE_MAX));
	for (;;) {
		ssize_t n = read(fd, block, sizeof(block));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
				    "%s: cannot read the reply template: %s",
				    path, g_strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if (buf->len + (size_t)n > REPLY_TEMPLATE_MAX) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
				    "%s: the reply template is larger than "
				    "%d bytes", path, REPLY_TEMPLATE_MAX);
			goto out;
		}
		g_string_append_len(buf, block, n);
	}
	if (memchr(buf->str, '\0', buf->len) != NULL ||
	    !g_utf8_validate(buf->str, (gssize)buf->len, NULL)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: the reply template is not valid UTF-8", path);
		goto out;
	}
	*text_r = g_string_free(g_steal_pointer(&buf), FALSE);
	ok = true;
out:
	if (buf != NULL)
		g_string_free(buf, TRUE);
	close(fd);
	return ok;
}

/* Splits a template into its subject line and body; normalises a BOM and
 * CRLF line ends.  The pieces are newly allocated. */
static bool
reply_split_template(const char *path, const char *text, char **subject_r,
		     char **body_r, GError **error)
{
	g_autoptr(GString) norm = g_string_new(NULL);
	const char *p, *nl;

	if (strncmp(text, "\xef\xbb\xbf", 3) == 0)
		text += 3;
	for (p = text; *p != '\0'; p++)
		if (*p != '\r')
			g_string_append_c(norm, *p);
	nl = strchr(norm->str, '\n');
	if (g_ascii_strncasecmp(norm->str, "Subject:", 8) != 0 ||
	    nl == NULL || nl[1] != '\n') {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: the first line must be \"Subject: ...\", "
			    "followed by an empty line", path);
		return false;
	}
	*subject_r = g_strstrip(g_strndup(norm->str + 8,
					  (gsize)(nl - norm->str - 8)));
	*body_r = g_strdup(nl + 2);
	return true;
}

/* The placeholder at p ("{{name}}"), or -1 with an error.  *end_r
 * points past the closing braces. */
static int
reply_placeholder(const char *path, const char *p, const char **end_r,
		  GError **error)
{
	const char *close = strstr(p + 2, "}}");
	const char *nl = strchr(p + 2, '\n');
	g_autofree char *name = NULL;
	g_autofree char *shown = NULL;
	int i;

	if (close == NULL || (nl != NULL && nl < close)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "%s: \"{{\" without \"}}\" on the same line",
			    path);
		return -1;
	}
	*end_r = close + 2;
	name = g_strstrip(g_strndup(p + 2, (gsize)(close - p - 2)));
	for (i = 0; i < PH_COUNT; i++)
		if (strcmp(name, reply_ph_names[i]) == 0)
			return i;
	shown = reply_clean_header(name, REPLY_PLACEHOLDER_MAX);
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
		    "%s: unknown placeholder {{%s}}", path, shown);
	return -1;
}

/* Substitutes every placeholder of one line (without its newline). */
static bool
reply_subst_line(const char *path, const char *line, size_t len,
		 char *const values[PH_COUNT], GString *out, GError **error)
{
	g_autofree char *copy = g_strndup(line, len);
	const char *p = copy, *open;

	while ((open = strstr(p, "{{")) != NULL) {
		const char *end;
		int ph = reply_placeholder(path, open, &end, error);

		if (ph < 0)
			return false;
		g_string_append_len(out, p, open - p);
		g_string_append(out, values[ph]);
		p = end;
	}
	g_string_append(out, p);
	return true;
}

/* True when the line is nothing but one placeholder whose value is
 * empty: such a line is dropped. */
static bool
reply_line_vanishes(const char *line, size_t len,
		    char *const values[PH_COUNT])
{
	g_autofree char *copy = g_strstrip(g_strndup(line, len));
	size_t n = strlen(copy);
	int i;

	if (n < 5 || strncmp(copy, "{{", 2) != 0 ||
	    strcmp(copy + n - 2, "}}") != 0 ||
	    strstr(copy + 2, "{{") != NULL)
		return false;
	copy[n - 2] = '\0';
	g_strstrip(copy + 2);
	for (i = 0; i < PH_COUNT; i++)
		if (strcmp(copy + 2, reply_ph_names[i]) == 0)
			return values[i][0] == '\0';
	return false;
}

/* Trailing blanks off every line, runs of empty lines collapsed, no empty
 * lines at either end, one final newline. */
static char *
reply_tidy(const char *text)
{
	GString *out = g_string_new(NULL);
	const char *p = text;
	bool pending_empty = false;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		while (len > 0 && (p[len - 1] == ' ' || p[len - 1] == '\t'))
			len--;
		if (len == 0) {
			pending_empty = out->len > 0;
		} else {
			if (pending_empty)
				g_string_append_c(out, '\n');
			pending_empty = false;
			g_string_append_len(out, p, (gssize)len);
			g_string_append_c(out, '\n');
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return g_string_free(out, FALSE);
}

static bool
reply_subst(const char *path, const char *text, char *const values[PH_COUNT],
	    GString *out, GError **error)
{
	const char *p = text;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl != NULL ? (size_t)(nl - p) : strlen(p);

		if (!reply_line_vanishes(p, len, values)) {
			if (!reply_subst_line(path, p, len, values, out,
					      error))
				return false;
			g_string_append_c(out, '\n');
		}
		if (nl == NULL)
			break;
		p = nl + 1;
	}
	return true;
}

static bool
reply_kind_ok(const char *kind)
{
	size_t i;

	for (i = 0; kind != NULL && reply_kinds[i] != NULL; i++)
		if (strcmp(kind, reply_kinds[i]) == 0)
			return true;
	return false;
}

bool
reply_render(const char *template_dir, const struct reply_info *info,
	     char **subject_r, char **body_r, GError **error)
{
	g_autofree char *path = NULL, *text = NULL;
	g_autofree char *subject_tmpl = NULL, *body_tmpl = NULL;
	g_autoptr(GString) subject = g_string_new(NULL);
	g_autoptr(GString) body = g_string_new(NULL);
	char *values[PH_COUNT] = {NULL};
	bool ok = false;
	int i;

	if (!reply_kind_ok(info->kind)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "no reply template of kind \"%s\"",
			    info->kind != NULL ? info->kind : "(null)");
		return false;
	}
	path = g_strdup_printf("%s/%s.txt", template_dir, info->kind);
	if (!reply_read_file(path, &text, error) ||
	    !reply_split_template(path, text, &subject_tmpl, &body_tmpl,
				  error))
		return false;
	reply_values(info, values);
	if (!reply_subst_line(path, subject_tmpl, strlen(subject_tmpl), values,
			      subject, error) ||
	    !reply_subst(path, body_tmpl, values, body, error))
		goto out;
	*subject_r = reply_clean_header(subject->str, REPLY_SUBJECT_OUT_MAX);
	*body_r = reply_tidy(body->str);
	ok = true;
out:
	for (i = 0; i < PH_COUNT; i++)
		g_free(values[i]);
	return ok;
}
