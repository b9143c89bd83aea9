/*
 * test_rules.c - the notice's rules: every refusal text, sizes at the
 * boundary, a unit's status for many dossiers
 */
#include "rules.h"
#include "t.h"

/* [rules] as DESIGN.md §4 gives them. */
static const struct rules_config defaults = {
	.photo_max = 6,
	.photo_min_long = 1024,
	.photo_min_short = 768,
	.caption_required = true,
	.video_min_short = 720,
	.video_required = false,
	.summary_required = true,
};

static const struct photo_case {
	const char *label;
	const char *name;
	enum photo_format format;
	unsigned width, height;
	enum photo_damage damage;
	const char *detail;
	const char *reason; /* NULL: accepted */
} photo_cases[] = {
	{ "landscape at the limit", "IMG_0001.jpg", PHOTO_JPEG, 1024, 768,
	  PHOTO_OK, "", NULL },
	{ "portrait at the limit", "IMG_0002.jpg", PHOTO_JPEG, 768, 1024,
	  PHOTO_OK, "", NULL },
	{ "large photo", "开幕式.jpg", PHOTO_JPEG, 4000, 3000, PHOTO_OK, "",
	  NULL },
	{ "long side one short", "IMG_0003.jpg", PHOTO_JPEG, 1023, 768,
	  PHOTO_OK, "",
	  "图片“IMG_0003.jpg”分辨率为 1023×768，低于要求的 1024×768" },
	{ "short side one short", "IMG_0004.jpg", PHOTO_JPEG, 1024, 767,
	  PHOTO_OK, "",
	  "图片“IMG_0004.jpg”分辨率为 1024×767，低于要求的 1024×768" },
	{ "portrait short side one short", "IMG_0005.jpg", PHOTO_JPEG, 767,
	  1024, PHOTO_OK, "",
	  "图片“IMG_0005.jpg”分辨率为 767×1024，低于要求的 1024×768" },
	{ "small", "IMG_0001.jpg", PHOTO_JPEG, 800, 600, PHOTO_OK, "",
	  "图片“IMG_0001.jpg”分辨率为 800×600，低于要求的 1024×768" },
	{ "long but narrow", "全景.jpg", PHOTO_JPEG, 5000, 700, PHOTO_OK, "",
	  "图片“全景.jpg”分辨率为 5000×700，低于要求的 1024×768" },
	{ "png named jpg", "x.jpg", PHOTO_PNG, 2000, 1500, PHOTO_OK, "",
	  "图片“x.jpg”实际为 PNG 格式（2000×1500），请提供 JPG 格式的照片" },
	{ "png of unknown size", "x.png", PHOTO_PNG, 0, 0, PHOTO_OK, "",
	  "图片“x.png”实际为 PNG 格式，请提供 JPG 格式的照片" },
	{ "heic", "IMG_1234.HEIC", PHOTO_HEIC, 0, 0, PHOTO_OK, "",
	  "图片“IMG_1234.HEIC”实际为 HEIC 格式，请提供 JPG 格式的照片" },
	{ "not an image", "x.jpg", PHOTO_UNKNOWN, 0, 0, PHOTO_OK, "",
	  "图片“x.jpg”不是可识别的图片文件，请提供 JPG 格式的照片" },
	{ "truncated", "x.jpg", PHOTO_JPEG, 2000, 1500, PHOTO_DAMAGED,
	  "Premature end of JPEG file",
	  "图片“x.jpg”文件不完整或已损坏（Premature end of JPEG file），"
	  "请重新发送原图" },
	{ "damaged without detail", "x.jpg", PHOTO_JPEG, 2000, 1500,
	  PHOTO_DAMAGED, "", "图片“x.jpg”文件不完整或已损坏，请重新发送原图" },
	{ "no size in header", "x.jpg", PHOTO_JPEG, 0, 0, PHOTO_OK, "",
	  "图片“x.jpg”文件不完整或已损坏（无法读取图片尺寸），请重新发送原图" },
	{ "too many pixels", "huge.jpg", PHOTO_JPEG, 30000, 20000,
	  PHOTO_TOO_LARGE, "",
	  "图片“huge.jpg”分辨率为 30000×20000，像素总数超出可处理的上限，"
	  "请缩小尺寸后重新发送" },
	{ "too many pixels, no size", "huge.jpg", PHOTO_JPEG, 0, 0,
	  PHOTO_TOO_LARGE, "",
	  "图片“huge.jpg”像素总数超出可处理的上限，请缩小尺寸后重新发送" },
	{ "12-bit", "monkey12.jpg", PHOTO_JPEG, 2048, 1536, PHOTO_UNSUPPORTED,
	  "Unsupported JPEG data precision 12",
	  "图片“monkey12.jpg”采用了不支持的 JPEG 编码（Unsupported JPEG data "
	  "precision 12），请另存为普通 JPG 格式后重新发送" },
	{ "unsupported without detail", "l.jpg", PHOTO_JPEG, 2048, 1536,
	  PHOTO_UNSUPPORTED, "",
	  "图片“l.jpg”采用了不支持的 JPEG 编码（如 12 位或无损压缩），"
	  "请另存为普通 JPG 格式后重新发送" },
	{ "too complex", "p.jpg", PHOTO_JPEG, 2048, 1536, PHOTO_TOO_COMPLEX,
	  "", "图片“p.jpg”结构过于复杂（渐进式扫描次数或所需内存超出上限），"
	  "无法校验，请另存为普通 JPG 格式后重新发送" },
	{ "damage before size", "s.jpg", PHOTO_JPEG, 100, 100, PHOTO_DAMAGED,
	  "Corrupt JPEG data",
	  "图片“s.jpg”文件不完整或已损坏（Corrupt JPEG data），请重新发送原图" },
	{ "nameless", NULL, PHOTO_JPEG, 800, 600, PHOTO_OK, "",
	  "图片“（未命名）”分辨率为 800×600，低于要求的 1024×768" },
};

static const struct video_case {
	const char *label;
	const char *name;
	bool readable;
	unsigned width, height;
	const char *detail;
	const char *reason;
} video_cases[] = {
	{ "720p", "a.mp4", true, 1280, 720, "", NULL },
	{ "1080p portrait", "b.mp4", true, 1080, 1920, "", NULL },
	{ "vga", "x.mp4", true, 640, 480, "",
	  "视频“x.mp4”分辨率为 640×480，不是高清格式（短边应不低于 720）" },
	{ "one line short", "y.mov", true, 1280, 719, "",
	  "视频“y.mov”分辨率为 1280×719，不是高清格式（短边应不低于 720）" },
	{ "unreadable", "z.mp4", false, 0, 0, "moov atom not found",
	  "视频“z.mp4”无法读取（moov atom not found），请检查文件后重新发送" },
	{ "unreadable without detail", "z.mp4", false, 0, 0, "",
	  "视频“z.mp4”无法读取，请检查文件后重新发送" },
	{ "no size", "w.mp4", true, 0, 0, "",
	  "视频“w.mp4”无法读出画面分辨率，不能确认为高清格式" },
};

static const struct summary_case {
	const char *label;
	const char *name;
	enum sniff_kind kind;
	const char *description;
	uint64_t size;
	bool unreadable; /* no sniff result */
	const char *reason;
} summary_cases[] = {
	{ "docx", "总结.docx", SNIFF_DOCX, "Microsoft Word 2007+", 12000,
	  false, NULL },
	{ "pdf", "总结.pdf", SNIFF_PDF, "PDF document", 50000, false, NULL },
	{ "ofd", "总结.ofd", SNIFF_OFD, "Zip archive data", 50000, false,
	  NULL },
	{ "empty", "总结.docx", SNIFF_EMPTY, "empty", 0, false,
	  "附件“总结.docx”文件为空（0 字节），请重新发送" },
	{ "zero bytes", "总结.pdf", SNIFF_PDF, "PDF document", 0, false,
	  "附件“总结.pdf”文件为空（0 字节），请重新发送" },
	{ "unreadable", "总结.doc", SNIFF_DOC, "", 100, true,
	  "活动总结“总结.doc”无法读取，请重新发送" },
	{ "not a document", "总结.doc", SNIFF_OTHER, "data", 100, false,
	  "活动总结“总结.doc”实际为 data，请提供 PDF、Word、WPS、OFD 或 TXT "
	  "格式的文档" },
	{ "unknown kind", "总结.doc", SNIFF_OTHER, "", 100, false,
	  "活动总结“总结.doc”的格式无法识别，请提供 PDF、Word、WPS、OFD 或 "
	  "TXT 格式的文档" },
};

static const struct other_case {
	const char *label;
	const char *name;
	const char *description;
	const char *mime;
	const char *reason;
} other_cases[] = {
	{ "executable", "x.exe",
	  "PE32 executable (GUI) Intel 80386, for MS Windows",
	  "application/x-dosexec",
	  "附件“x.exe”是Windows 程序（PE32 executable (GUI) Intel 80386, for "
	  "MS Windows），不在通知要求的材料之列（活动总结、图片、视频），未收录" },
	{ "audio", "录音.m4a",
	  "ISO Media, Apple iTunes ALAC/AAC-LC (.M4A) Audio", "audio/x-m4a",
	  "附件“录音.m4a”是音频文件（ISO Media, Apple iTunes ALAC/AAC-LC "
	  "(.M4A) Audio），不在通知要求的材料之列（活动总结、图片、视频），未收录" },
	{ "spreadsheet", "统计表.xlsx", "Microsoft Excel 2007+",
	  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	  "附件“统计表.xlsx”是Excel 表格（Microsoft Excel 2007+），不在通知"
	  "要求的材料之列（活动总结、图片、视频），未收录" },
	{ "other described", "a.dat", "data with a name", "application/x-foo",
	  "附件“a.dat”类型为 data with a name，不在通知要求的材料之列"
	  "（活动总结、图片、视频），未收录" },
	{ "mime only", "a.bin", "", "application/octet-stream",
	  "附件“a.bin”类型为 application/octet-stream，不在通知要求的材料之列"
	  "（活动总结、图片、视频），未收录" },
	{ "nothing known", "a.bin", "", "",
	  "附件“a.bin”类型无法识别，不在通知要求的材料之列"
	  "（活动总结、图片、视频），未收录" },
};

static void
test_photos(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(photo_cases); i++) {
		const struct photo_case *c = &photo_cases[i];
		struct photo_facts f = { 0 };
		g_autofree char *label = g_strdup_printf("photo %s", c->label);
		g_autofree char *reason = NULL;
		bool ok;

		f.format = c->format;
		f.width = c->width;
		f.height = c->height;
		f.damage = c->damage;
		g_strlcpy(f.detail, c->detail, sizeof(f.detail));
		ok = rules_photo(&defaults, c->name, &f, &reason);
		T_CHECK(label, ok == (c->reason == NULL));
		T_STREQ(label, reason, c->reason);
	}
}

static void
test_photo_room(void)
{
	static const struct {
		unsigned held, max;
		const char *reason;
	} cases[] = {
		{ 0, 6, NULL },
		{ 5, 6, NULL },
		{ 6, 6, "已收录 6 张图片，达到通知要求的上限 6 张，图片“x.jpg”未收录" },
		{ 7, 6, "已收录 7 张图片，达到通知要求的上限 6 张，图片“x.jpg”未收录" },
		{ 3, 3, "已收录 3 张图片，达到通知要求的上限 3 张，图片“x.jpg”未收录" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		struct rules_config r = defaults;
		g_autofree char *label = g_strdup_printf("photo room %u of %u",
							 cases[i].held,
							 cases[i].max);
		g_autofree char *reason = NULL;
		bool ok;

		r.photo_max = cases[i].max;
		ok = rules_photo_room(&r, "x.jpg", cases[i].held, &reason);
		T_CHECK(label, ok == (cases[i].reason == NULL));
		T_STREQ(label, reason, cases[i].reason);
	}
}

static void
test_duplicate(void)
{
	static const struct {
		const char *name, *earlier, *reason;
	} cases[] = {
		{ "a.jpg", "b.jpg",
		  "图片“a.jpg”与已收到的图片“b.jpg”内容相同，不重复收录" },
		{ "a.jpg", "a.jpg", "图片“a.jpg”已收到过（内容相同），不重复收录" },
		{ "a.jpg", NULL, "图片“a.jpg”已收到过（内容相同），不重复收录" },
	};
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *reason = rules_photo_duplicate_reason(
			cases[i].name, cases[i].earlier);

		T_STREQ("duplicate reason", reason, cases[i].reason);
	}
}

static void
test_videos(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(video_cases); i++) {
		const struct video_case *c = &video_cases[i];
		struct video_facts f = { 0 };
		g_autofree char *label = g_strdup_printf("video %s", c->label);
		g_autofree char *reason = NULL;
		bool ok;

		f.readable = c->readable;
		f.width = c->width;
		f.height = c->height;
		g_strlcpy(f.detail, c->detail, sizeof(f.detail));
		ok = rules_video(&defaults, c->name, &f, &reason);
		T_CHECK(label, ok == (c->reason == NULL));
		T_STREQ(label, reason, c->reason);
	}
}

static void
test_summaries(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(summary_cases); i++) {
		const struct summary_case *c = &summary_cases[i];
		struct sniff_result s = { 0 };
		g_autofree char *label = g_strdup_printf("summary %s",
							 c->label);
		g_autofree char *reason = NULL;
		bool ok;

		s.kind = c->kind;
		g_strlcpy(s.description, c->description,
			  sizeof(s.description));
		ok = rules_summary(c->name, c->unreadable ? NULL : &s, c->size,
				   &reason);
		T_CHECK(label, ok == (c->reason == NULL));
		T_STREQ(label, reason, c->reason);
	}
}

static void
test_others(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(other_cases); i++) {
		const struct other_case *c = &other_cases[i];
		struct sniff_result s = { .kind = SNIFF_OTHER };
		g_autofree char *label = g_strdup_printf("other %s", c->label);
		g_autofree char *reason = NULL;

		g_strlcpy(s.description, c->description,
			  sizeof(s.description));
		g_strlcpy(s.mime, c->mime, sizeof(s.mime));
		reason = rules_other_reason(c->name, &s);
		T_STREQ(label, reason, c->reason);
	}
}

static void
test_late(void)
{
	static const struct {
		int64_t arrival, deadline;
		unsigned grace;
		bool late;
	} cases[] = {
		{ 1000, 0, 0, false },          /* no deadline */
		{ 999, 1000, 0, false },
		{ 1000, 1000, 0, false },       /* at the deadline: on time */
		{ 1001, 1000, 0, true },
		{ 1500, 1000, 600, false },     /* within the grace */
		{ 1600, 1000, 600, false },
		{ 1601, 1000, 600, true },
		{ INT64_MAX, INT64_MAX - 1, 10, false }, /* no overflow */
	};
	size_t i;
	char *reason;

	for (i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autofree char *label = g_strdup_printf("late case %zu", i);

		T_CHECK(label, rules_is_late(cases[i].arrival,
					     cases[i].deadline,
					     cases[i].grace) == cases[i].late);
	}
	reason = rules_late_reason("开幕式.jpg", "2022-10-10 23:59");
	T_STREQ("late reason", reason,
		"附件“开幕式.jpg”于截止时间 2022-10-10 23:59 之后收到，未收录");
	g_free(reason);
	reason = rules_late_reason("开幕式.jpg", NULL);
	T_STREQ("late reason without deadline text", reason,
		"附件“开幕式.jpg”于截止时间之后收到，未收录");
	g_free(reason);
}

static const struct status_case {
	const char *label;
	struct dossier d;
	bool caption_optional, video_required, summary_optional;
	enum unit_status status;
	const char *missing; /* names, joined with ',' */
} status_cases[] = {
	{ "nothing", { 0 }, false, false, false, UNIT_MISSING,
	  "summary,photos" },
	{ "messages but nothing accepted", { .messages = 3 }, false, false,
	  false, UNIT_MISSING, "summary,photos" },
	{ "nothing, video required", { 0 }, false, true, false, UNIT_MISSING,
	  "summary,photos,video" },
	{ "complete", { .summaries = 1, .photos = 4 }, false, false, false,
	  UNIT_COMPLETE, "" },
	{ "complete with six", { .summaries = 2, .photos = 6 }, false, false,
	  false, UNIT_COMPLETE, "" },
	{ "paper summary", { .paper_summaries = 1, .photos = 1 }, false,
	  false, false, UNIT_COMPLETE, "" },
	{ "seven photos", { .summaries = 1, .photos = 7 }, false, false, false,
	  UNIT_INCOMPLETE, "" },
	{ "no summary", { .photos = 3 }, false, false, false, UNIT_INCOMPLETE,
	  "summary" },
	{ "summary optional", { .photos = 3 }, false, false, true,
	  UNIT_COMPLETE, "" },
	{ "no photos", { .summaries = 1 }, false, false, false,
	  UNIT_INCOMPLETE, "photos" },
	{ "uncaptioned", { .summaries = 1, .photos = 3,
			   .photos_uncaptioned = 1 }, false, false, false,
	  UNIT_INCOMPLETE, "captions" },
	{ "uncaptioned, captions optional", { .summaries = 1, .photos = 3,
					     .photos_uncaptioned = 3 },
	  true, false, false, UNIT_COMPLETE, "" },
	{ "video required, none", { .summaries = 1, .photos = 2 }, false, true,
	  false, UNIT_INCOMPLETE, "video" },
	{ "video required, held", { .summaries = 1, .photos = 2, .videos = 1 },
	  false, true, false, UNIT_COMPLETE, "" },
	{ "video required, only a link", { .summaries = 1, .photos = 2,
					  .links = 1 }, false, true, false,
	  UNIT_INCOMPLETE, "video" },
	{ "only a link", { .links = 1 }, false, false, false, UNIT_INCOMPLETE,
	  "summary,photos" },
	{ "only a video", { .videos = 1 }, false, false, false,
	  UNIT_INCOMPLETE, "summary,photos" },
	{ "only paper", { .paper_summaries = 1 }, false, true, false,
	  UNIT_INCOMPLETE, "photos,video" },
	{ "all missing but captions", { .photos = 2, .photos_uncaptioned = 2 },
	  false, true, false, UNIT_INCOMPLETE, "summary,captions,video" },
	{ "late is still complete", { .summaries = 1, .photos = 1,
				      .late = true }, false, false, false,
	  UNIT_COMPLETE, "" },
};

static void
test_status(void)
{
	size_t i, n, k;

	for (i = 0; i < G_N_ELEMENTS(status_cases); i++) {
		const struct status_case *c = &status_cases[i];
		struct rules_config r = defaults;
		const char *names[5];
		g_autofree char *label = g_strdup_printf("status %s", c->label);
		g_autofree char *joined = NULL;
		unsigned missing = 0xff;
		enum unit_status s;

		r.caption_required = !c->caption_optional;
		r.video_required = c->video_required;
		r.summary_required = !c->summary_optional;
		s = rules_unit_status(&r, &c->d, &missing);
		T_STREQ(label, unit_status_name(s), unit_status_name(c->status));
		n = rules_missing_names(missing, names);
		for (k = 0; names[k] != NULL; k++)
			;
		T_INTEQ(label, n, k);
		joined = g_strjoinv(",", (char **)names);
		T_STREQ(label, joined, c->missing);
	}
}

static void
test_names(void)
{
	static const struct {
		enum verdict v;
		const char *name;
	} verdicts[] = {
		{ VERDICT_ACCEPTED, "accepted" },
		{ VERDICT_PARTIAL, "partial" },
		{ VERDICT_REJECTED, "rejected" },
		{ VERDICT_UNIDENTIFIED, "unidentified" },
		{ VERDICT_IGNORED, "ignored" },
		{ VERDICT_DUPLICATE, "duplicate" },
	};
	static const struct {
		unsigned accepted, refused;
		enum verdict v;
	} messages[] = {
		{ 0, 0, VERDICT_REJECTED },
		{ 3, 0, VERDICT_ACCEPTED },
		{ 0, 2, VERDICT_REJECTED },
		{ 3, 1, VERDICT_PARTIAL },
	};
	const char *labels[5];
	g_autofree char *joined = NULL;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(verdicts); i++)
		T_STREQ("verdict name", verdict_name(verdicts[i].v),
			verdicts[i].name);
	T_STREQ("status name complete", unit_status_name(UNIT_COMPLETE),
		"complete");
	T_STREQ("status name incomplete", unit_status_name(UNIT_INCOMPLETE),
		"incomplete");
	T_STREQ("status name missing", unit_status_name(UNIT_MISSING),
		"missing");
	for (i = 0; i < G_N_ELEMENTS(messages); i++) {
		g_autofree char *label = g_strdup_printf(
			"message verdict %u accepted %u refused",
			messages[i].accepted, messages[i].refused);

		T_STREQ(label, verdict_name(rules_message_verdict(
				       messages[i].accepted,
				       messages[i].refused)),
			verdict_name(messages[i].v));
	}
	T_INTEQ("missing labels count",
		rules_missing_labels(MISSING_SUMMARY | MISSING_PHOTOS |
				     MISSING_CAPTIONS | MISSING_VIDEO, labels),
		4);
	joined = g_strjoinv("、", (char **)labels);
	T_STREQ("missing labels", joined, "活动总结、图片、图片说明、高清视频");
	T_INTEQ("no missing labels", rules_missing_labels(0, labels), 0);
	T_CHECK("no missing labels terminated", labels[0] == NULL);
}

int
main(void)
{
	test_photos();
	test_photo_room();
	test_duplicate();
	test_videos();
	test_summaries();
	test_others();
	test_late();
	test_status();
	test_names();
	return t_done();
}
