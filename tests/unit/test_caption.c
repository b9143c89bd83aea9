/*
 * test_caption.c - captions from file names and body lines, and how
 * they are matched to photos
 */
#include "caption.h"
#include "t.h"

/* 99 characters of three bytes each (297 bytes). */
#define LONG_CJK \
	"质量月活动现场质量月活动现场质量月活动现场质量月活动现场质量月活动现场" \
	"质量月活动现场质量月活动现场质量月活动现场质量月活动现场质量月活动现场" \
	"质量月活动现场质量月活动现场质量月活动现场质量月活动现场质"
/* The first 66 of them: 198 bytes, the most under CAPTION_MAX_BYTES. */
#define LONG_CJK_CUT \
	"质量月活动现场质量月活动现场质量月活动现场质量月活动现场质量月活动现场" \
	"质量月活动现场质量月活动现场质量月活动现场质量月活动现场质量月"

static const struct {
	const char *filename;
	const char *caption; /* NULL: a camera or app default */
} filename_cases[] = {
	{ "IMG_1234.jpg", NULL },
	{ "IMG20220915123456.jpg", NULL },
	{ "IMG-20220915-WA0001.jpeg", NULL },
	{ "IMG_20220915_123456_HDR.jpg", NULL },
	{ "IMG_E1234.JPG", NULL },
	{ "DSC_0001.JPG", NULL },
	{ "DSC01234.JPG", NULL },
	{ "DSCN0001.jpg", NULL },
	{ "P1010001.JPG", NULL },
	{ "PXL_20220915_123456789.PORTRAIT.jpg", NULL },
	{ "MVIMG_20220915_123456.jpg", NULL },
	{ "微信图片_20220915123456.jpg", NULL },
	{ "微信图片_20220915123456(1).jpg", NULL },
	{ "mmexport1663212345678.jpg", NULL },
	{ "Screenshot_2022-09-15-10-00-00-123_com.tencent.mm.jpg", NULL },
	{ "Screenshot 2022-09-15 at 10.00.00.png", NULL },
	{ "截图20220915100000.jpg", NULL },
	{ "屏幕截图 2022-09-15 100000.png", NULL },
	{ "QQ图片20220915100000.jpg", NULL },
	{ "wx_camera_1663212345678.jpg", NULL },
	{ "photo_2022-09-15_10-00-00.jpg", NULL },
	{ "image001.jpg", NULL },
	{ "image.jpg", NULL },
	{ "图片1.jpg", NULL },
	{ "图片 2.jpeg", NULL },
	{ "附件3.jpg", NULL },
	{ "圖片4.jpg", NULL },
	{ "微信圖片_20220915123456.jpg", NULL },
	{ "20220915_123456.jpg", NULL },
	{ "1663212345678.jpg", NULL },
	{ "01.jpg", NULL },
	{ "__--__.jpg", NULL },
	{ "3f2a9c1e-8b7d-4e6f-a1b2-c3d4e5f6a7b8.jpg", NULL },
	{ "d41d8cd98f00b204e9800998ecf8427e.jpg", NULL },
	{ "IMG_1234 - 副本.jpg", NULL },
	{ "IMG_1234 (2).JPG", NULL },
	{ "01-IMG_1234.jpg", NULL },
	{ ".jpg", NULL },
	{ "", NULL },
	{ "开幕式现场.jpg", "开幕式现场" },
	{ "01-开幕式现场.jpg", "开幕式现场" },
	{ "1、质量咨询台.jpeg", "质量咨询台" },
	{ "图1 专家讲座.jpg", "专家讲座" },
	{ "图三：入企服务.JPG", "入企服务" },
	{ "圖2：開幕式.jpg", "開幕式" },
	{ "（2）计量进社区.jpg", "计量进社区" },
	{ "附件1-标准化宣传.jpg", "标准化宣传" },
	{ "2022年质量月启动仪式.jpg", "2022年质量月启动仪式" },
	{ "  质量 月\t活动 .JPG", "质量 月 活动" },
	{ "dir/sub/开幕式.jpg", "开幕式" },
	{ "C:\\照片\\开幕式.jpg", "开幕式" },
	{ "1.5米长卷.jpg", "1.5米长卷" },
	{ "Quality Month Opening.jpg", "Quality Month Opening" },
	{ "photography-class.jpg", "photography-class" },
	{ "picnic.jpg", "picnic" },
	{ "开幕式现场(1).jpg", "开幕式现场" },
	{ "开幕式 - 副本.jpg", "开幕式" },
	{ "活动.现场", "活动.现场" },
	{ LONG_CJK ".jpg", LONG_CJK_CUT },
};

/*
 * Body cases: the refs caption_parse_body() finds, written as
 * "1=text" (by number) or "@name=text" (by file name), joined by '|'.
 */
static const struct {
	const char *label;
	const char *body;
	const char *refs;
} body_cases[] = {
	{ "图1：", "图1：开幕式现场", "1=开幕式现场" },
	{ "图 2: with spaces", "图 2: 专题讲座", "2=专题讲座" },
	{ "图三 Chinese numeral", "图三：质量咨询台", "3=质量咨询台" },
	{ "图十", "图十：闭幕式", "10=闭幕式" },
	{ "full-width digit", "图１：开幕式", "1=开幕式" },
	{ "1、", "1、开幕式", "1=开幕式" },
	{ "1. ", "1. 开幕式", "1=开幕式" },
	{ "1．", "1．开幕式", "1=开幕式" },
	{ "（1）", "（1）开幕式\n(2) 讲座", "1=开幕式|2=讲座" },
	{ "circled", "①开幕式\n② 讲座\n⑩结束", "1=开幕式|2=讲座|10=结束" },
	{ "照片 and 图片", "照片1：入企\n图片2：宣传", "1=入企|2=宣传" },
	{ "第二张", "第二张：讲座\n第3张照片为咨询台", "2=讲座|3=咨询台" },
	{ "图1为", "图1为开幕式现场。", "1=开幕式现场" },
	{ "traditional script",
	  "圖1：開幕式\n圖片2：講座\n第三張：諮詢台\n圖4為頒獎\n附圖5：合影",
	  "1=開幕式|2=講座|3=諮詢台|4=頒獎|5=合影" },
	{ "traditional counts", "圖片3張，視頻1個\n圖2組", "" },
	{ "file name with extension", "IMG_1234.jpg：开幕式",
	  "@IMG_1234.jpg=开幕式" },
	{ "file name without extension", "IMG_1234：开幕式",
	  "@IMG_1234=开幕式" },
	{ "quoted file name", "“活动现场.jpg”：领导讲话",
	  "@活动现场.jpg=领导讲话" },
	{ "numbered file name", "1、DSC_0001.JPG: 入企服务",
	  "@DSC_0001.JPG=入企服务" },
	{ "file name and space", "活动 现场.JPG 开幕式",
	  "@活动 现场.JPG=开幕式" },
	{ "name inside a number line", "图1：开幕式（IMG_1.jpg）",
	  "1=开幕式（IMG_1.jpg）" },
	{ "mixed styles",
	  "林老师：\n您好！现报送我局质量月活动材料，图片说明如下：\n"
	  "图1：开幕式\n2、专题讲座\n（3）质量咨询台\n④计量进社区\n"
	  "DSC_0005.JPG: 标准化宣传\n谢谢！\n",
	  "1=开幕式|2=专题讲座|3=质量咨询台|4=计量进社区|@DSC_0005.JPG=标准化宣传" },
	{ "greetings only", "林老师：您好！\n各位领导：\n此致\n敬礼", "" },
	{ "quoted lines", "> IMG_1.jpg：旧说明\n＞ 图1：旧\n图2：新说明",
	  "2=新说明" },
	{ "Original Message",
	  "图1：新说明\n\n-----Original Message-----\nFrom: x\n图2：旧说明",
	  "1=新说明" },
	{ "QQ original",
	  "补充说明\n1、开幕式\n------------------ 原始邮件 ------------------\n"
	  "2、旧说明",
	  "1=开幕式" },
	{ "Foxmail original",
	  "图1：开幕式\n------------------ Original ------------------\n"
	  "图2：旧", "1=开幕式" },
	{ "写道",
	  "图1：开幕式\n在 2022年9月30日，质量发展处 写道：\n> 图2：旧\n图3：旧",
	  "1=开幕式" },
	{ "Outlook header", "图1：开幕式\n发件人: 7263441@qq.com\n图2：旧",
	  "1=开幕式" },
	{ "signature", "图1：开幕式\n-- \n1、张三 电话 0591-1234567",
	  "1=开幕式" },
	{ "CRLF", "图1：开幕式\r\n图2：讲座\r\n", "1=开幕式|2=讲座" },
	{ "times and decimals",
	  "10:30 开会\n1.5米长卷\n2022.9.30 活动\n2022年9月活动", "" },
	{ "counts are not numbers", "图片3张，视频1个\n图片6张", "" },
	{ "attachment lists",
	  "附件1：质量月活动总结.docx\n1、活动总结.docx\n2、图片.zip", "" },
	{ "empty caption", "图1：\n图2：   \n3、", "" },
	{ "duplicate numbers kept in order", "1、开幕式\n1、讲座",
	  "1=开幕式|1=讲座" },
	{ "long line ignored", "图1：" LONG_CJK, "" },
	{ "caption bounded", "图1：" LONG_CJK_CUT "质量月活动现场",
	  "1=" LONG_CJK_CUT },
	{ "trailing separators", "图1：开幕式；\n图2：讲座，", "1=开幕式|2=讲座" },
	{ "number 0, four digits are a name", "0、开始\n图1234：x",
	  "@图1234=x" },
};

static char *
refs_text(const GPtrArray *refs)
{
	GString *s = g_string_new(NULL);
	size_t i;

	for (i = 0; i < refs->len; i++) {
		const struct caption_ref *r = g_ptr_array_index(refs, i);

		if (i > 0)
			g_string_append_c(s, '|');
		if (r->filename != NULL)
			g_string_append_printf(s, "@%s=%s", r->filename,
					       r->text);
		else
			g_string_append_printf(s, "%u=%s", r->number, r->text);
	}
	return g_string_free(s, FALSE);
}

static void
test_filenames(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(filename_cases); i++) {
		g_autofree char *got =
			caption_from_filename(filename_cases[i].filename);
		g_autofree char *label = g_strdup_printf(
			"from_filename \"%s\"", filename_cases[i].filename);

		T_STREQ(label, got, filename_cases[i].caption);
		T_CHECK(label, got == NULL || (strlen(got) <= CAPTION_MAX_BYTES &&
					       g_utf8_validate(got, -1, NULL)));
	}
	T_CHECK("from_filename NULL", caption_from_filename(NULL) == NULL);
}

static void
test_bodies(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(body_cases); i++) {
		g_autoptr(GPtrArray) refs =
			caption_parse_body(body_cases[i].body);
		g_autofree char *got = refs_text(refs);
		g_autofree char *label = g_strdup_printf("parse_body %s",
							 body_cases[i].label);

		T_STREQ(label, got, body_cases[i].refs);
	}
}

static void
test_body_bounds(void)
{
	g_autoptr(GString) body = g_string_new(NULL);
	g_autoptr(GPtrArray) none = caption_parse_body(NULL);
	g_autoptr(GPtrArray) many = NULL;
	g_autoptr(GPtrArray) bad = NULL;
	unsigned i;

	T_CHECK("parse_body NULL", none != NULL && none->len == 0);
	for (i = 1; i <= 150; i++)
		g_string_append_printf(body, "%u、说明%u\n", i, i);
	many = caption_parse_body(body->str);
	T_INTEQ("parse_body at most 100 refs", many->len, 100);
	bad = caption_parse_body("图1：\xff\xfe开幕式\n");
	T_INTEQ("parse_body invalid UTF-8", bad->len, 1);
	T_CHECK("parse_body invalid UTF-8 made valid",
		bad->len == 1 &&
		g_utf8_validate(((struct caption_ref *)
				 g_ptr_array_index(bad, 0))->text, -1, NULL));
}

/*
 * Match cases: photos "name#number" (and "=caption" already held),
 * ';'-separated; the expected captions, ';'-separated ("-" for none).
 */
static const struct {
	const char *label;
	const char *photos;
	const char *body;
	const char *captions;
	unsigned from_refs;
} match_cases[] = {
	{ "by number", "IMG_1.jpg#1;IMG_2.jpg#2", "图1：开幕式\n图2：讲座",
	  "开幕式;讲座", 2 },
	{ "name before number", "IMG_1234.jpg#1;DSC_0001.jpg#2",
	  "1、按序号\nimg_1234：按文件名", "按文件名;-", 1 },
	{ "name without extension, any case", "DSC_0001.JPG#1",
	  "dsc_0001：入企服务", "入企服务", 1 },
	{ "name with another case and extension", "活动现场.JPG#1",
	  "“活动现场.jpg”：领导讲话", "领导讲话", 1 },
	{ "number out of range", "IMG_1.jpg#1;IMG_2.jpg#2", "图7：多余",
	  "-;-", 0 },
	{ "duplicate number: first wins", "IMG_1.jpg#1", "1、开幕式\n1、讲座",
	  "开幕式", 1 },
	{ "duplicate name: first wins", "IMG_1.jpg#1",
	  "IMG_1.jpg：甲\nIMG_1：乙", "甲", 1 },
	{ "file names fill the rest", "开幕式.jpg#1;IMG_2.jpg#2;讲座.jpg#3",
	  "", "开幕式;-;讲座", 0 },
	{ "body beats file name", "开幕式.jpg#1", "图1：开幕式现场全景",
	  "开幕式现场全景", 1 },
	{ "later message replaces held caption", "开幕式.jpg#4=开幕式",
	  "图4：开幕式（更正）", "开幕式（更正）", 1 },
	{ "held caption kept", "IMG_1.jpg#1=旧说明", "谢谢！", "旧说明", 0 },
	{ "two photos share a name", "image.jpg#1;image.jpg#2",
	  "image.jpg：哪一张\n2、第二张", "-;第二张", 1 },
	{ "quoted reply does not feed back", "IMG_1.jpg#1",
	  "谢谢\n\n-----原始邮件-----\n图1：旧说明", "-", 0 },
	{ "mixed numbering, six photos",
	  "IMG_1.jpg#1;IMG_2.jpg#2;IMG_3.jpg#3;IMG_4.jpg#4;IMG_5.jpg#5;"
	  "IMG_6.jpg#6",
	  "图1：甲\n2、乙\n（3）丙\n④丁\n5. 戊\nIMG_6.jpg：己",
	  "甲;乙;丙;丁;戊;己", 6 },
	{ "unit numbers in a later message", "a.jpg#5;b.jpg#6",
	  "图6：六\n图1：一", "a;六", 1 },
	{ "name that matches nothing", "IMG_1.jpg#1", "IMG_9.jpg：无",
	  "-", 0 },
};

static void
test_match(void)
{
	size_t i, k;

	for (i = 0; i < G_N_ELEMENTS(match_cases); i++) {
		g_auto(GStrv) specs = g_strsplit(match_cases[i].photos, ";", -1);
		g_auto(GStrv) want = g_strsplit(match_cases[i].captions, ";", -1);
		g_auto(GStrv) names = g_new0(char *, g_strv_length(specs) + 1);
		g_autoptr(GPtrArray) refs =
			caption_parse_body(match_cases[i].body);
		g_autofree char *label = g_strdup_printf("match %s",
							 match_cases[i].label);
		size_t n = g_strv_length(specs);
		struct caption_photo *photos = g_new0(struct caption_photo, n);
		unsigned got;

		for (k = 0; k < n; k++) {
			char *hash = strchr(specs[k], '#');
			char *eq = strchr(specs[k], '=');

			if (eq != NULL) {
				*eq = '\0';
				photos[k].caption = g_strdup(eq + 1);
			}
			*hash = '\0';
			names[k] = g_strdup(specs[k]);
			photos[k].name = names[k];
			photos[k].number = (unsigned)g_ascii_strtoull(hash + 1,
								      NULL, 10);
		}
		got = caption_match(photos, n, refs);
		T_INTEQ(label, got, match_cases[i].from_refs);
		T_INTEQ(label, g_strv_length(want), n);
		for (k = 0; k < n && want[k] != NULL; k++) {
			const char *w = strcmp(want[k], "-") == 0 ? NULL :
								    want[k];

			T_STREQ(label, photos[k].caption, w);
			g_free(photos[k].caption);
		}
		g_free(photos);
	}
}

static void
test_match_edges(void)
{
	g_autoptr(GPtrArray) refs = caption_parse_body("图1：开幕式");
	struct caption_photo one = { .name = NULL, .number = 1 };
	struct caption_photo two[] = {
		{ .name = NULL, .number = 1 },
		{ .name = "专题讲座.jpg", .number = 2 },
	};

	T_INTEQ("match no photos", caption_match(NULL, 0, refs), 0);
	T_INTEQ("match nameless photo", caption_match(&one, 1, refs), 1);
	T_STREQ("match nameless photo caption", one.caption, "开幕式");
	g_free(one.caption);
	one.caption = NULL;
	T_INTEQ("match nameless then named", caption_match(two, 2, refs), 1);
	T_STREQ("match nameless then named, first", two[0].caption, "开幕式");
	T_STREQ("match nameless then named, second", two[1].caption,
		"专题讲座");
	g_free(two[0].caption);
	g_free(two[1].caption);
	T_INTEQ("match no refs", caption_match(&one, 1, NULL), 0);
	T_CHECK("match no refs no caption", one.caption == NULL);
}

int
main(void)
{
	test_filenames();
	test_bodies();
	test_body_bounds();
	test_match();
	test_match_edges();
	return t_done();
}
