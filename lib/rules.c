/*
 * rules.c - the notice's rules as pure decisions (DESIGN.md §4)
 *
 * Facts in, verdicts out: nothing here reads a file, the clock or the
 * database.  Each refusal reason is one Chinese sentence that names the
 * file and the figure that failed, in the notice's own words, e.g.
 *   图片“IMG_0001.jpg”分辨率为 800×600，低于要求的 1024×768
 * Names are quoted with “ ” and the punctuation is full-width, as in the
 * office's replies written by hand.
 */
#include <string.h>

#include "rules.h"

/* Shown for a nameless attachment. */
#define RULES_NO_NAME "（未命名）"

static const char *
rules_name(const char *name)
{
	return name != NULL && *name != '\0' ? name : RULES_NO_NAME;
}

/* Length of a fixed-size text field, which may lack its NUL. */
static int
rules_field_len(const char *field, size_t size)
{
	return (int)strnlen(field, size);
}

/* A fact's detail text, or fallback when the probe left it empty. */
static void
rules_detail(const char *detail, size_t size, const char *fallback,
	     const char **text_r, int *len_r)
{
	int len = rules_field_len(detail, size);

	if (len == 0) {
		detail = fallback;
		len = (int)strlen(fallback);
	}
	*text_r = detail;
	*len_r = len;
}

const char *
verdict_name(enum verdict v)
{
	switch (v) {
	case VERDICT_ACCEPTED:
		return "accepted";
	case VERDICT_PARTIAL:
		return "partial";
	case VERDICT_REJECTED:
		return "rejected";
	case VERDICT_UNIDENTIFIED:
		return "unidentified";
	case VERDICT_IGNORED:
		return "ignored";
	case VERDICT_DUPLICATE:
		return "duplicate";
	}
	return "rejected";
}

const char *
unit_status_name(enum unit_status s)
{
	switch (s) {
	case UNIT_COMPLETE:
		return "complete";
	case UNIT_INCOMPLETE:
		return "incomplete";
	case UNIT_MISSING:
		return "missing";
	}
	return "missing";
}

/*
 * Complete: a summary (electronic or on paper) when one is required,
 * 1..photo_max photos, none without caption when captions are required,
 * a video when one is required.  A link item is not a video until the
 * office has fetched it.  Missing: nothing at all is held.  More photos
 * than photo_max (the limit was lowered after they were filed) is
 * incomplete with no missing flag: the office must withdraw some.
 */
enum unit_status
rules_unit_status(const struct rules_config *rules, const struct dossier *d,
		  unsigned *missing_r)
{
	unsigned missing = 0;
	bool complete;

	if (rules->summary_required && d->summaries + d->paper_summaries == 0)
		missing |= MISSING_SUMMARY;
	if (d->photos == 0)
		missing |= MISSING_PHOTOS;
	if (rules->caption_required && d->photos_uncaptioned > 0)
		missing |= MISSING_CAPTIONS;
	if (rules->video_required && d->videos == 0)
		missing |= MISSING_VIDEO;
	if (missing_r != NULL)
		*missing_r = missing;

	complete = missing == 0 && d->photos <= rules->photo_max;
	if (complete)
		return UNIT_COMPLETE;
	if (d->summaries == 0 && d->paper_summaries == 0 && d->photos == 0 &&
	    d->videos == 0 && d->links == 0)
		return UNIT_MISSING;
	return UNIT_INCOMPLETE;
}

static const struct {
	unsigned flag;
	const char *name;
	const char *label;
} rules_missing_table[] = {
	{ MISSING_SUMMARY, "summary", "活动总结" },
	{ MISSING_PHOTOS, "photos", "图片" },
	{ MISSING_CAPTIONS, "captions", "图片说明" },
	{ MISSING_VIDEO, "video", "高清视频" },
};

static size_t
rules_missing_list(unsigned missing, bool labels, const char *out_r[5])
{
	size_t i, n = 0;

	for (i = 0; i < G_N_ELEMENTS(rules_missing_table); i++) {
		if ((missing & rules_missing_table[i].flag) == 0)
			continue;
		out_r[n++] = labels ? rules_missing_table[i].label :
				      rules_missing_table[i].name;
	}
	out_r[n] = NULL;
	return n;
}

size_t
rules_missing_names(unsigned missing, const char *names_r[5])
{
	return rules_missing_list(missing, false, names_r);
}

size_t
rules_missing_labels(unsigned missing, const char *labels_r[5])
{
	return rules_missing_list(missing, true, labels_r);
}

/* The reason a photo's content fails, or NULL when it is a sound JPEG. */
static char *
rules_photo_content(const char *name, const struct photo_facts *f)
{
	int dlen = rules_field_len(f->detail, sizeof(f->detail));
	const char *text;
	int tlen;

	if (f->format == PHOTO_UNKNOWN)
		return g_strdup_printf("图片“%s”不是可识别的图片文件，"
				       "请提供 JPG 格式的照片", name);
	if (f->format != PHOTO_JPEG && f->width != 0 && f->height != 0)
		return g_strdup_printf("图片“%s”实际为 %s 格式（%u×%u），"
				       "请提供 JPG 格式的照片", name,
				       photo_format_name(f->format),
				       f->width, f->height);
	if (f->format != PHOTO_JPEG)
		return g_strdup_printf("图片“%s”实际为 %s 格式，"
				       "请提供 JPG 格式的照片", name,
				       photo_format_name(f->format));
	switch (f->damage) {
	case PHOTO_OK:
		break;
	case PHOTO_DAMAGED:
		if (dlen == 0)
			return g_strdup_printf("图片“%s”文件不完整或已损坏，"
					       "请重新发送原图", name);
		return g_strdup_printf("图片“%s”文件不完整或已损坏（%.*s），"
				       "请重新发送原图", name, dlen,
				       f->detail);
	case PHOTO_UNSUPPORTED:
		rules_detail(f->detail, sizeof(f->detail), "如 12 位或无损压缩",
			     &text, &tlen);
		return g_strdup_printf("图片“%s”采用了不支持的 JPEG 编码"
				       "（%.*s），请另存为普通 JPG 格式后重新发送",
				       name, tlen, text);
	case PHOTO_TOO_LARGE:
		if (f->width == 0 || f->height == 0)
			return g_strdup_printf("图片“%s”像素总数超出可处理的上限，"
					       "请缩小尺寸后重新发送", name);
		return g_strdup_printf("图片“%s”分辨率为 %u×%u，"
				       "像素总数超出可处理的上限，"
				       "请缩小尺寸后重新发送", name, f->width,
				       f->height);
	case PHOTO_TOO_COMPLEX:
		rules_detail(f->detail, sizeof(f->detail),
			     "渐进式扫描次数或所需内存超出上限", &text, &tlen);
		return g_strdup_printf("图片“%s”结构过于复杂（%.*s），无法校验，"
				       "请另存为普通 JPG 格式后重新发送",
				       name, tlen, text);
	}
	if (f->width == 0 || f->height == 0)
		return g_strdup_printf("图片“%s”文件不完整或已损坏（无法读取"
				       "图片尺寸），请重新发送原图", name);
	return NULL;
}

bool
rules_photo(const struct rules_config *rules, const char *name,
	    const struct photo_facts *f, char **reason_r)
{
	unsigned long_side, short_side;
	char *reason;

	name = rules_name(name);
	reason = rules_photo_content(name, f);
	if (reason == NULL) {
		long_side = MAX(f->width, f->height);
		short_side = MIN(f->width, f->height);
		if (long_side < rules->photo_min_long ||
		    short_side < rules->photo_min_short)
			reason = g_strdup_printf("图片“%s”分辨率为 %u×%u，"
						 "低于要求的 %u×%u", name,
						 f->width, f->height,
						 rules->photo_min_long,
						 rules->photo_min_short);
	}
	*reason_r = reason;
	return reason == NULL;
}

bool
rules_photo_room(const struct rules_config *rules, const char *name,
		 unsigned photos_held, char **reason_r)
{
	*reason_r = NULL;
	if (photos_held < rules->photo_max)
		return true;
	*reason_r = g_strdup_printf("已收录 %u 张图片，达到通知要求的上限 %u 张，"
				    "图片“%s”未收录", photos_held,
				    rules->photo_max, rules_name(name));
	return false;
}

char *
rules_photo_duplicate_reason(const char *name, const char *earlier)
{
	name = rules_name(name);
	if (earlier == NULL || *earlier == '\0' || strcmp(name, earlier) == 0)
		return g_strdup_printf("图片“%s”已收到过（内容相同），"
				       "不重复收录", name);
	return g_strdup_printf("图片“%s”与已收到的图片“%s”内容相同，"
			       "不重复收录", name, earlier);
}

bool
rules_video(const struct rules_config *rules, const char *name,
	    const struct video_facts *f, char **reason_r)
{
	int dlen = rules_field_len(f->detail, sizeof(f->detail));
	char *reason = NULL;

	name = rules_name(name);
	if (!f->readable) {
		if (dlen == 0)
			reason = g_strdup_printf("视频“%s”无法读取，"
						 "请检查文件后重新发送", name);
		else
			reason = g_strdup_printf("视频“%s”无法读取（%.*s），"
						 "请检查文件后重新发送", name,
						 dlen, f->detail);
	} else if (f->width == 0 || f->height == 0) {
		reason = g_strdup_printf("视频“%s”无法读出画面分辨率，"
					 "不能确认为高清格式", name);
	} else if (MIN(f->width, f->height) < rules->video_min_short) {
		reason = g_strdup_printf("视频“%s”分辨率为 %u×%u，不是高清格式"
					 "（短边应不低于 %u）", name, f->width,
					 f->height, rules->video_min_short);
	}
	*reason_r = reason;
	return reason == NULL;
}

/* libmagic's words for a file, or "" when it had none. */
static void
rules_kind_text(const struct sniff_result *s, const char **text_r,
		int *len_r)
{
	int len = rules_field_len(s->description, sizeof(s->description));

	if (len > 0) {
		*text_r = s->description;
		*len_r = len;
		return;
	}
	*text_r = s->mime;
	*len_r = rules_field_len(s->mime, sizeof(s->mime));
}

bool
rules_summary(const char *name, const struct sniff_result *s, uint64_t size,
	      char **reason_r)
{
	const char *kind;
	int klen;
	char *reason = NULL;

	name = rules_name(name);
	if (s == NULL) {
		reason = g_strdup_printf("活动总结“%s”无法读取，请重新发送", name);
	} else if (size == 0 || s->kind == SNIFF_EMPTY) {
		reason = g_strdup_printf("附件“%s”文件为空（0 字节），"
					 "请重新发送", name);
	} else if (!sniff_is_document(s->kind)) {
		rules_kind_text(s, &kind, &klen);
		if (klen == 0)
			reason = g_strdup_printf("活动总结“%s”的格式无法识别，"
						 "请提供 PDF、Word、WPS、OFD 或 "
						 "TXT 格式的文档", name);
		else
			reason = g_strdup_printf("活动总结“%s”实际为 %.*s，"
						 "请提供 PDF、Word、WPS、OFD 或 "
						 "TXT 格式的文档", name, klen,
						 kind);
	}
	*reason_r = reason;
	return reason == NULL;
}

/* What a unit calls a file of this MIME type, for the kinds people
 * send by mistake; NULL when libmagic's words must do. */
static const char *
rules_other_label(const char *mime)
{
	static const struct {
		const char *part, *label;
	} labels[] = {
		{ "audio/", "音频文件" },
		{ "spreadsheet", "Excel 表格" },
		{ "ms-excel", "Excel 表格" },
		{ "presentation", "PowerPoint 演示文稿" },
		{ "ms-powerpoint", "PowerPoint 演示文稿" },
		{ "text/html", "网页文件" },
		{ "x-dosexec", "Windows 程序" },
		{ "x-executable", "程序" },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(labels); i++)
		if (strstr(mime, labels[i].part) != NULL)
			return labels[i].label;
	return NULL;
}

char *
rules_other_reason(const char *name, const struct sniff_result *s)
{
	const char *kind = "", *label = NULL;
	int klen = 0;

	name = rules_name(name);
	if (s != NULL) {
		rules_kind_text(s, &kind, &klen);
		label = rules_other_label(s->mime);
	}
	if (klen == 0)
		return g_strdup_printf("附件“%s”类型无法识别，不在通知要求的"
				       "材料之列（活动总结、图片、视频），未收录",
				       name);
	if (label != NULL)
		return g_strdup_printf("附件“%s”是%s（%.*s），不在通知要求的"
				       "材料之列（活动总结、图片、视频），未收录",
				       name, label, klen, kind);
	return g_strdup_printf("附件“%s”类型为 %.*s，不在通知要求的材料之列"
			       "（活动总结、图片、视频），未收录", name, klen,
			       kind);
}

bool
rules_is_late(int64_t arrival, int64_t deadline, unsigned grace)
{
	int64_t limit;

	if (deadline == 0)
		return false;
	if (deadline > INT64_MAX - (int64_t)grace)
		limit = INT64_MAX;
	else
		limit = deadline + (int64_t)grace;
	return arrival > limit;
}

char *
rules_late_reason(const char *name, const char *deadline_text)
{
	name = rules_name(name);
	if (deadline_text == NULL || *deadline_text == '\0')
		return g_strdup_printf("附件“%s”于截止时间之后收到，未收录",
				       name);
	return g_strdup_printf("附件“%s”于截止时间 %s 之后收到，未收录", name,
			       deadline_text);
}

enum verdict
rules_message_verdict(unsigned accepted, unsigned refused)
{
	if (accepted == 0)
		return VERDICT_REJECTED;
	if (refused == 0)
		return VERDICT_ACCEPTED;
	return VERDICT_PARTIAL;
}
