/*
 * test_reply.c - reply.c: header cleaning, address checks, templates,
 * composing (parsed back with GMime)
 *
 * Run from the project's top directory (tests/run does): the templates
 * are the real ones in config/templates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <gmime/gmime.h>

#include "reply.h"
#include "t.h"

#define TEMPLATE_DIR "config/templates"

static const struct {
	const char *name;
	const char *in;
	size_t max;
	const char *want;
} clean_cases[] = {
	{"plain", "质量月活动总结", 200, "质量月活动总结"},
	{"null", NULL, 200, ""},
	{"crlf", "x\r\nBcc: evil@x", 200, "x Bcc: evil@x"},
	{"lf only", "a\nb", 200, "a b"},
	{"tab", "a\tb", 200, "a b"},
	{"run of blanks", "a \r\n\t  b", 200, "a b"},
	{"trim", "  \r\n a b \t", 200, "a b"},
	{"other controls", "a\x01\x1b[31mb\x7f", 200, "a [31mb"},
	{"c1 control", "a\xc2\x85" "b", 200, "a b"},
	{"line separator", "a\xe2\x80\xa8" "b", 200, "a b"},
	{"bidi override", "a\xe2\x80\xae" "gpj.exe", 200, "a gpj.exe"},
	{"invalid utf8", "a\xff" "b", 200, "a\xef\xbf\xbd" "b"},
	{"cut ascii", "abcdef", 4, "abcd"},
	{"cut at char boundary", "质量月", 7, "质量"},
	{"cut inside char", "质量月", 5, "质"},
	{"cut keeps no trailing space", "ab cd", 3, "ab"},
	{"zero", "abc", 0, ""},
	{"fullwidth space kept", "福建\xe3\x80\x80省", 200,
	 "福建\xe3\x80\x80省"},
};

static const struct {
	const char *addr;
	bool ok;
} address_cases[] = {
	{"alice@example.com", true},
	{"a.b-c+tag@sub.example.com", true},
	{"7263441@qq.com", true},
	{"user@localhost", true},
	{"o'brien@example.ie", true},
	{"张三@例子.中国", true},
	{"x@mail.163.com", true},
	{"a=b?c@example.com", true},
	{"=?utf-8?b?5byg5LiJ?=@example.com", false},
	{"x=?gbk?q?=D5=C5?=y@example.com", false},
	{NULL, false},
	{"", false},
	{"alice", false},
	{"@example.com", false},
	{"alice@", false},
	{"alice@@example.com", false},
	{"a@b@example.com", false},
	{"alice@example.com\r\nBcc: evil@x", false},
	{"alice@example.com\n", false},
	{"alice\r@example.com", false},
	{"alice@exa\tmple.com", false},
	{"alice smith@example.com", false},
	{" alice@example.com", false},
	{"\"alice\"@example.com", false},
	{"\"a b\"@example.com", false},
	{"<alice@example.com>", false},
	{"Alice <alice@example.com>", false},
	{"alice@example.com,bob@example.com", false},
	{"alice@example.com;bob@example.com", false},
	{"alice:x@example.com", false},
	{"alice(comment)@example.com", false},
	{"ali\\ce@example.com", false},
	{".alice@example.com", false},
	{"alice.@example.com", false},
	{"al..ice@example.com", false},
	{"alice@example..com", false},
	{"alice@.example.com", false},
	{"alice@example.com.", false},
	{"alice@-example.com", false},
	{"alice@example-.com", false},
	{"alice@[127.0.0.1]", false},
	{"alice@exa_mple.com", false},
	{"al\x7fice@example.com", false},
	{"al\xffice@example.com", false},
	{"alice@exam\xc2\x85ple.com", false},
};

/* n copies of c (n < 512), in a static buffer. */
static const char *
repeat(char c, size_t n)
{
	static char buf[4][512];
	static unsigned turn;
	char *b = buf[turn++ % 4];

	memset(b, c, n);
	b[n] = '\0';
	return b;
}

static void
test_clean(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(clean_cases); i++) {
		g_autofree char *name =
			g_strdup_printf("clean.%s", clean_cases[i].name);
		g_autofree char *got = reply_clean_header(clean_cases[i].in,
							  clean_cases[i].max);

		T_STREQ(name, got, clean_cases[i].want);
	}
}

static void
test_address(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(address_cases); i++) {
		g_autofree char *shown =
			reply_clean_header(address_cases[i].addr, 60);
		g_autofree char *name =
			g_strdup_printf("address.%zu %s", i, shown);

		T_CHECK(name, reply_address_ok(address_cases[i].addr) ==
				      address_cases[i].ok);
	}
	/* Lengths: local part 64, whole address 254, label 63. */
	{
		g_autoptr(GString) a = g_string_new(NULL);

		g_string_append_printf(a, "%s@example.com",
				       repeat('a', 64));
		T_CHECK("address.local 64 bytes", reply_address_ok(a->str));
		g_string_printf(a, "%s@example.com", repeat('a', 65));
		T_CHECK("address.local 65 bytes", !reply_address_ok(a->str));
		g_string_printf(a, "a@%s.com", repeat('x', 63));
		T_CHECK("address.label 63 bytes", reply_address_ok(a->str));
		g_string_printf(a, "a@%s.com", repeat('x', 64));
		T_CHECK("address.label 64 bytes", !reply_address_ok(a->str));
		g_string_printf(a, "aaaaaaa@%s.", repeat('b', 60));
		g_string_append_printf(a, "%s.", repeat('c', 60));
		g_string_append_printf(a, "%s.", repeat('d', 60));
		g_string_append_printf(a, "%s", repeat('e', 63));
		T_CHECK("address.254 bytes",
			a->len == 254 && reply_address_ok(a->str));
		g_string_insert_c(a, 0, 'a');
		T_CHECK("address.255 bytes", !reply_address_ok(a->str));
		g_string_printf(a, "%s@example.com", repeat('a', 300));
		T_CHECK("address.300 bytes", !reply_address_ok(a->str));
	}
}

static void
test_message_id(void)
{
	g_autofree char *a = reply_new_message_id("office@Example.COM");
	g_autofree char *b = reply_new_message_id("office@example.com");
	g_autofree char *c = reply_new_message_id(NULL);
	g_autofree char *d = reply_new_message_id("bad\r\n@x y");
	g_autofree char *e = reply_new_message_id("x@例子.中国");

	T_CHECK("msgid.domain", g_str_has_suffix(a, "@example.com"));
	T_CHECK("msgid.prefix", g_str_has_prefix(a, "intake."));
	T_CHECK("msgid.unique", strcmp(a, b) != 0);
	T_CHECK("msgid.no from", g_str_has_suffix(c, "@intake.invalid"));
	T_CHECK("msgid.bad from", g_str_has_suffix(d, "@intake.invalid"));
	T_CHECK("msgid.idn", g_str_has_suffix(e, "@xn--fsqu00a.xn--fiqs8s"));
	T_CHECK("msgid.ascii", strspn(a, "abcdefghijklmnopqrstuvwxyz0123456789"
				      ".@") == strlen(a));
}

/* A reply_info for the renders below. */
static const struct reply_item sample_items[] = {
	{.name = "主会场.jpg", .type = ITEM_PHOTO, .accepted = true,
	 .caption = "质量月启动仪式现场", .width = 1600, .height = 1200},
	{.name = "IMG_0002.jpg", .type = ITEM_PHOTO, .accepted = true,
	 .width = 4000, .height = 3000, .late = true},
	{.name = "small.jpg", .type = ITEM_PHOTO, .accepted = false,
	 .reason = "图片“small.jpg”分辨率为 800×600，低于要求的 1024×768"},
	{.name = "总结.docx", .type = ITEM_SUMMARY, .accepted = true},
	{.name = "活动.mp4", .type = ITEM_VIDEO, .accepted = true,
	 .width = 1920, .height = 1080},
	{.name = "宣传片.mp4", .type = ITEM_LINK, .accepted = true},
	{.name = "evil\r\nname.exe", .type = ITEM_OTHER, .accepted = false,
	 .reason = "附件“evil name.exe”不是通知要求的材料类型"},
};

static const char *const sample_captions[] = {"图3：企业开放日", NULL};
static const char *const sample_notes[] = {
	"文档“总结.docx”中的 2 张图片未作为照片登记。", NULL};

static void
sample_info(struct reply_info *info, const char *kind, const char *verdict)
{
	memset(info, 0, sizeof(*info));
	info->kind = kind;
	info->verdict = verdict;
	info->unit = "福州市市场监督管理局";
	info->campaign = "2022年“质量月”活动";
	info->deadline = "2022年10月10日";
	info->items = sample_items;
	info->n_items = G_N_ELEMENTS(sample_items);
	info->captions_taken = sample_captions;
	info->notes = sample_notes;
	info->dossier.summaries = 1;
	info->dossier.photos = 4;
	info->dossier.photos_uncaptioned = 1;
	info->dossier.videos = 1;
	info->photo_max = 6;
	info->missing = MISSING_CAPTIONS;
	info->from = "福建省质量强省工作联席会议办公室 <7263441@qq.com>";
	info->from_addr = "7263441@qq.com";
	info->to = "fzscjgj@fuzhou.gov.cn";
	info->original_subject = "福州市局 质量月活动总结\r\nBcc: evil@x";
	info->original_id = "orig-1@fuzhou.gov.cn";
	info->original_references = "<root@a.example> <orig-0@fuzhou.gov.cn>";
	info->loop_value = "7263441@qq.com";
	info->date = 1664000000;
	info->size = 150 * 1024 * 1024 + 1;
	info->size_limit = 100 * 1024 * 1024;
}

static const struct {
	const char *kind;
	const char *verdict;
	const char *subject;
	const char *lines[8]; /* each must appear as a whole line */
	const char *absent;   /* must not appear anywhere, or NULL */
} render_cases[] = {
	{"accepted", "accepted", "回复：福州市局 质量月活动总结 Bcc: evil@x",
	 {"福州市市场监督管理局：",
	  "✓ 图片“主会场.jpg”（1600×1200）说明：质量月启动仪式现场",
	  "✓ 图片“IMG_0002.jpg”（4000×3000），尚缺文字说明（截止时间后收到）",
	  "✓ 活动总结“总结.docx”",
	  "✓ 视频“活动.mp4”（1920×1080）",
	  "✓ 图片说明“图3：企业开放日”已登记",
	  "仍缺：图片文字说明（1 张图片）。",
	  "报送截止时间：2022年10月10日。"},
	 "{{"},
	{"partial", "partial", "回复：福州市局 质量月活动总结 Bcc: evil@x",
	 {"✗ 图片“small.jpg”：图片“small.jpg”分辨率为 800×600，低于要求的 "
	  "1024×768",
	  "✗ 附件“evil name.exe”：附件“evil name.exe”不是通知要求的材料类型",
	  "✓ 大附件链接“宣传片.mp4”已登记，由办公室下载",
	  "文档“总结.docx”中的 2 张图片未作为照片登记。",
	  "你单位目前已登记的材料：活动总结 1 份；图片 4/6 张（其中 1 张缺少"
	  "文字说明）；视频 1 个。"},
	 "{{"},
	{"rejected", "rejected", "回复：福州市局 质量月活动总结 Bcc: evil@x",
	 {"✗ 图片“small.jpg”：图片“small.jpg”分辨率为 800×600，低于要求的 "
	  "1024×768"},
	 "\n\n\n"},
	{"unidentified", "unidentified",
	 "回复：福州市局 质量月活动总结 Bcc: evil@x",
	 {"您好："},
	 "福州市市场监督管理局"},
	{"reminder", NULL, "提醒：请报送2022年“质量月”活动材料",
	 {"福州市市场监督管理局：", "经核对，你单位的材料尚未报送齐全。",
	  "仍缺：图片文字说明（1 张图片）。"},
	 "回复："},
	{"too_large", "rejected", "回复：福州市局 质量月活动总结 Bcc: evil@x",
	 {"您好：",
	  "您发送的邮件“福州市局 质量月活动总结 Bcc: evil@x”大小约为 "
	  "150.1 MB，超过了本邮箱可接收的上限（100 MB），系统未能接收，其中的"
	  "材料均未登记。",
	  "3. 将材料拆分为几封邮件分别发送，每封不超过 100 MB。",
	  "报送截止时间：2022年10月10日。"},
	 "{{"},
};

static bool
has_line(const char *text, const char *line)
{
	g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
	size_t i;

	for (i = 0; lines[i] != NULL; i++)
		if (strcmp(lines[i], line) == 0)
			return true;
	return false;
}

/* The rendered body is tidy: no run of empty lines, no empty first or
 * last line, no trailing blanks, one final newline, no CR. */
static bool
is_tidy(const char *body)
{
	size_t len = strlen(body);

	return len > 0 && body[0] != '\n' && body[len - 1] == '\n' &&
	       (len < 2 || body[len - 2] != '\n') &&
	       strstr(body, "\n\n\n") == NULL && strstr(body, " \n") == NULL &&
	       strchr(body, '\r') == NULL;
}

static void
test_render(void)
{
	size_t i, j;

	for (i = 0; i < G_N_ELEMENTS(render_cases); i++) {
		struct reply_info info;
		g_autofree char *subject = NULL, *body = NULL;
		g_autoptr(GError) error = NULL;
		g_autofree char *n = NULL;
		const char *kind = render_cases[i].kind;
		bool ok;

		sample_info(&info, kind, render_cases[i].verdict);
		ok = reply_render(TEMPLATE_DIR, &info, &subject, &body,
				  &error);
		n = g_strdup_printf("render.%s ok", kind);
		T_CHECK(n, ok);
		if (!ok) {
			printf("  %s\n", error->message);
			continue;
		}
		g_free(n);
		n = g_strdup_printf("render.%s subject", kind);
		T_STREQ(n, subject, render_cases[i].subject);
		for (j = 0; j < G_N_ELEMENTS(render_cases[i].lines) &&
			    render_cases[i].lines[j] != NULL;
		     j++) {
			g_free(n);
			n = g_strdup_printf("render.%s line %zu", kind, j);
			T_CHECK(n, has_line(body, render_cases[i].lines[j]));
		}
		g_free(n);
		n = g_strdup_printf("render.%s automatic-reply line", kind);
		T_CHECK(n, has_line(body, "（本邮件为系统自动回复。如有疑问，请与省"
					  "质量强省工作联席会议办公室联系。）"));
		g_free(n);
		n = g_strdup_printf("render.%s tidy", kind);
		T_CHECK(n, is_tidy(body));
		if (render_cases[i].absent != NULL) {
			g_free(n);
			n = g_strdup_printf("render.%s absent", kind);
			T_CHECK(n,
				strstr(body, render_cases[i].absent) == NULL);
		}
		if (getenv("SHOW") != NULL)
			printf("----- %s\nSubject: %s\n\n%s", kind, subject,
			       body);
	}
}

static char *
write_template(const char *dir, const char *kind, const char *text)
{
	g_autofree char *path = g_strdup_printf("%s/%s.txt", dir, kind);

	if (!g_file_set_contents(path, text, -1, NULL))
		abort();
	return g_steal_pointer(&path);
}

static const struct {
	const char *name;
	const char *text;
	const char *error; /* substring of the error, NULL: renders */
	const char *body;  /* expected body when it renders */
} template_cases[] = {
	{"unknown placeholder", "Subject: x\n\nHello {{unitt}}\n",
	 "unknown placeholder {{unitt}}", NULL},
	{"unknown in subject", "Subject: {{subjec}}\n\nx\n",
	 "unknown placeholder {{subjec}}", NULL},
	{"unterminated", "Subject: x\n\nHello {{unit\n}}\n", "without", NULL},
	{"no subject line", "Hello\n\nx\n", "Subject:", NULL},
	{"no empty line", "Subject: x\nbody\n", "Subject:", NULL},
	{"not utf8", "Subject: x\n\n\xb2\xe2\xca\xd4\n", "UTF-8", NULL},
	{"bom and crlf", "\xef\xbb\xbfSubject: x\r\n\r\na\r\n\r\n\r\nb\r\n",
	 NULL, "a\n\nb\n"},
	{"empty sections vanish",
	 "Subject: x\n\n\n{{unit}}:\n{{captions}}\n  {{ notes }}  \n"
	 "{{missing}}\n\n\n\nend   \n\n",
	 NULL, "U:\n材料已齐全。\n\nend\n"},
	{"spaces in braces", "Subject: {{ unit }}\n\n{{unit}}\n", NULL, "U\n"},
};

static void
test_templates(void)
{
	g_autofree char *dir = g_dir_make_tmp("test_reply.XXXXXX", NULL);
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(template_cases); i++) {
		g_autofree char *path = write_template(
			dir, "accepted", template_cases[i].text);
		g_autofree char *subject = NULL, *body = NULL;
		g_autofree char *n = NULL;
		g_autoptr(GError) error = NULL;
		struct reply_info info;
		bool ok;

		memset(&info, 0, sizeof(info));
		info.kind = "accepted";
		info.unit = "U";
		ok = reply_render(dir, &info, &subject, &body, &error);
		n = g_strdup_printf("template.%s", template_cases[i].name);
		if (template_cases[i].error != NULL) {
			T_CHECK(n, !ok && strstr(error->message,
						 template_cases[i].error) &&
					   strstr(error->message, path));
		} else {
			T_STREQ(n, ok ? body : error->message,
				template_cases[i].body);
		}
		g_unlink(path);
	}
	{
		struct reply_info info;
		char *subject = NULL, *body = NULL;
		g_autoptr(GError) error = NULL;

		memset(&info, 0, sizeof(info));
		info.kind = "../accepted";
		T_CHECK("template.kind outside the list",
			!reply_render(dir, &info, &subject, &body, &error));
		g_clear_error(&error);
		info.kind = "partial";
		T_CHECK("template.missing file",
			!reply_render(dir, &info, &subject, &body, &error) &&
				strstr(error->message, "partial.txt"));
	}
	g_rmdir(dir);
}

/* Parses the composed message back. */
static GMimeMessage *
parse_back(const char *data, size_t len)
{
	GMimeStream *stream = g_mime_stream_mem_new_with_buffer(data, len);
	GMimeParser *parser = g_mime_parser_new_with_stream(stream);
	GMimeMessage *msg = g_mime_parser_construct_message(parser, NULL);

	g_object_unref(parser);
	g_object_unref(stream);
	return msg;
}

static char *
body_text(GMimeMessage *msg)
{
	GMimeObject *part = g_mime_message_get_mime_part(msg);

	if (!GMIME_IS_TEXT_PART(part))
		return NULL;
	return g_mime_text_part_get_text(GMIME_TEXT_PART(part));
}

static size_t
count_headers(GMimeMessage *msg, const char *name)
{
	GMimeHeaderList *hl = g_mime_object_get_header_list(GMIME_OBJECT(msg));
	int i, n = g_mime_header_list_get_count(hl);
	size_t found = 0;

	for (i = 0; i < n; i++) {
		GMimeHeader *h = g_mime_header_list_get_header_at(hl, i);

		if (g_ascii_strcasecmp(g_mime_header_get_name(h), name) == 0)
			found++;
	}
	return found;
}

static void
test_compose(void)
{
	struct reply_info info;
	g_autofree char *subject = NULL, *body = NULL, *data = NULL;
	g_autofree char *text = NULL;
	g_autoptr(GError) error = NULL;
	GMimeMessage *msg;
	InternetAddressList *to, *from;
	GMimeObject *part;
	GDateTime *date;
	size_t len = 0;
	const char *p;
	bool bare_lf = false, ascii = true;

	sample_info(&info, "partial", "partial");
	if (!reply_render(TEMPLATE_DIR, &info, &subject, &body, &error)) {
		T_CHECK("compose.render", false);
		return;
	}
	data = reply_compose(&info, subject, body, "intake.abc@qq.com", &len,
			     &error);
	T_CHECK("compose.ok", data != NULL);
	if (data == NULL)
		return;
	T_INTEQ("compose.len", len, strlen(data));
	for (p = data; *p != '\0'; p++) {
		if (*p == '\n' && (p == data || p[-1] != '\r'))
			bare_lf = true;
		if ((unsigned char)*p >= 0x80)
			ascii = false;
	}
	T_CHECK("compose.crlf only", !bare_lf);
	T_CHECK("compose.7bit", ascii);

	msg = parse_back(data, len);
	T_CHECK("compose.parses", msg != NULL);
	if (msg == NULL)
		return;
	T_STREQ("compose.subject", g_mime_message_get_subject(msg),
		"回复：福州市局 质量月活动总结 Bcc: evil@x");
	T_INTEQ("compose.no bcc", count_headers(msg, "Bcc"), 0);
	T_INTEQ("compose.one subject", count_headers(msg, "Subject"), 1);
	to = g_mime_message_get_addresses(msg, GMIME_ADDRESS_TYPE_TO);
	T_INTEQ("compose.one to", internet_address_list_length(to), 1);
	T_STREQ("compose.to",
		internet_address_mailbox_get_addr(INTERNET_ADDRESS_MAILBOX(
			internet_address_list_get_address(to, 0))),
		"fzscjgj@fuzhou.gov.cn");
	from = g_mime_message_get_from(msg);
	T_STREQ("compose.from name",
		internet_address_get_name(internet_address_list_get_address(
			from, 0)),
		"福建省质量强省工作联席会议办公室");
	T_STREQ("compose.message-id", g_mime_message_get_message_id(msg),
		"intake.abc@qq.com");
	T_STREQ("compose.in-reply-to",
		g_mime_object_get_header(GMIME_OBJECT(msg), "In-Reply-To"),
		"<orig-1@fuzhou.gov.cn>");
	T_STREQ("compose.references",
		g_mime_object_get_header(GMIME_OBJECT(msg), "References"),
		"<root@a.example> <orig-0@fuzhou.gov.cn> "
		"<orig-1@fuzhou.gov.cn>");
	T_STREQ("compose.auto-submitted",
		g_mime_object_get_header(GMIME_OBJECT(msg), "Auto-Submitted"),
		"auto-replied");
	T_STREQ("compose.loop",
		g_mime_object_get_header(GMIME_OBJECT(msg), REPLY_LOOP_HEADER),
		"7263441@qq.com");
	T_STREQ("compose.verdict",
		g_mime_object_get_header(GMIME_OBJECT(msg),
					 "X-Intake-Verdict"),
		"partial");
	T_STREQ("compose.mime-version",
		g_mime_object_get_header(GMIME_OBJECT(msg), "MIME-Version"),
		"1.0");
	date = g_mime_message_get_date(msg);
	T_CHECK("compose.date",
		date != NULL && g_date_time_to_unix(date) == 1664000000);
	part = g_mime_message_get_mime_part(msg);
	T_STREQ("compose.charset",
		g_mime_object_get_content_type_parameter(part, "charset"),
		"UTF-8");
	T_CHECK("compose.text/plain",
		g_mime_content_type_is_type(
			g_mime_object_get_content_type(part), "text",
			"plain"));
	T_INTEQ("compose.base64",
		g_mime_part_get_content_encoding(GMIME_PART(part)),
		GMIME_CONTENT_ENCODING_BASE64);
	text = body_text(msg);
	{
		g_autofree char *crlf_body = NULL;
		g_auto(GStrv) parts = g_strsplit(body, "\n", -1);

		crlf_body = g_strjoinv("\r\n", parts);
		T_STREQ("compose.body", text, crlf_body);
	}
	g_object_unref(msg);
}

static const struct {
	const char *name;
	const char *to;
	const char *msgid;
	const char *from;
	const char *original_id;
	const char *references;
	const char *verdict;
	bool ok;
	const char *want_irt;  /* In-Reply-To, NULL: absent */
	const char *want_refs; /* References, NULL: absent */
} compose_cases[] = {
	{"bad to", "a@b.c\r\nBcc: x@y", "m@x", "o <o@x.y>", NULL, NULL, NULL,
	 false, NULL, NULL},
	{"to with name", "A <a@b.c>", "m@x", "o <o@x.y>", NULL, NULL, NULL,
	 false, NULL, NULL},
	{"bad msgid", "a@b.c", "m@x>\r\nBcc: x@y", "o <o@x.y>", NULL, NULL,
	 NULL, false, NULL, NULL},
	{"two froms", "a@b.c", "m@x", "o <o@x.y>, p <p@x.y>", NULL, NULL, NULL,
	 false, NULL, NULL},
	{"no from", "a@b.c", "m@x", NULL, NULL, NULL, NULL, false, NULL, NULL},
	{"no thread", "a@b.c", "m@x", "o@x.y", NULL, NULL, NULL, true, NULL,
	 NULL},
	{"id with brackets", "a@b.c", "m@x", "o@x.y", "<i@x>", NULL, NULL,
	 true, "<i@x>", "<i@x>"},
	{"junk id dropped", "a@b.c", "m@x", "o@x.y", "no-at-sign",
	 "<r@x> <bad id@x> <r2@x>", NULL, true, NULL, "<r@x> <r2@x>"},
	{"bad token in the middle", "a@b.c", "m@x", "o@x.y", "i@x",
	 "<r@x> <a@b c> junk <no-at> <x<y@z> <r2@x>", NULL, true, "<i@x>",
	 "<r@x> <r2@x> <i@x>"},
	{"injected id dropped", "a@b.c", "m@x", "o@x.y", "i@x>\r\nBcc: e@v",
	 "<r@x>\r\nBcc: e@v", NULL, true, NULL, "<r@x>"},
	{"original already last", "a@b.c", "m@x", "o@x.y", "i@x",
	 "<r@x> <i@x>", "accepted", true, "<i@x>", "<r@x> <i@x>"},
};

static void
test_compose_cases(void)
{
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(compose_cases); i++) {
		struct reply_info info;
		g_autofree char *data = NULL, *n = NULL;
		g_autoptr(GError) error = NULL;
		GMimeMessage *msg;
		size_t len = 0;

		memset(&info, 0, sizeof(info));
		info.to = compose_cases[i].to;
		info.from = compose_cases[i].from;
		info.original_id = compose_cases[i].original_id;
		info.original_references = compose_cases[i].references;
		info.verdict = compose_cases[i].verdict;
		info.date = 1664000000;
		data = reply_compose(&info, "s", "b\n",
				     compose_cases[i].msgid, &len, &error);
		n = g_strdup_printf("compose.%s", compose_cases[i].name);
		T_CHECK(n, (data != NULL) == compose_cases[i].ok &&
				   (data != NULL || error != NULL));
		if (data == NULL)
			continue;
		msg = parse_back(data, len);
		g_free(n);
		n = g_strdup_printf("compose.%s in-reply-to",
				    compose_cases[i].name);
		T_STREQ(n,
			g_mime_object_get_header(GMIME_OBJECT(msg),
						 "In-Reply-To"),
			compose_cases[i].want_irt);
		g_free(n);
		n = g_strdup_printf("compose.%s references",
				    compose_cases[i].name);
		T_STREQ(n,
			g_mime_object_get_header(GMIME_OBJECT(msg),
						 "References"),
			compose_cases[i].want_refs);
		g_free(n);
		n = g_strdup_printf("compose.%s verdict",
				    compose_cases[i].name);
		T_STREQ(n,
			g_mime_object_get_header(GMIME_OBJECT(msg),
						 "X-Intake-Verdict"),
			compose_cases[i].verdict);
		g_free(n);
		n = g_strdup_printf("compose.%s one bcc-free header block",
				    compose_cases[i].name);
		T_INTEQ(n, count_headers(msg, "Bcc"), 0);
		g_object_unref(msg);
	}
}

/* References are bounded: the root and the most recent ids. */
static void
test_references_bound(void)
{
	g_autoptr(GString) refs = g_string_new(NULL);
	g_autofree char *data = NULL;
	g_autoptr(GError) error = NULL;
	struct reply_info info;
	GMimeMessage *msg;
	GMimeReferences *parsed;
	const char *value;
	size_t len = 0;
	int i;

	for (i = 0; i < 50; i++)
		g_string_append_printf(refs, "<r%d@x> ", i);
	memset(&info, 0, sizeof(info));
	info.to = "a@b.c";
	info.from = "o@x.y";
	info.original_id = "last@x";
	info.original_references = refs->str;
	data = reply_compose(&info, "s", "b", "m@x", &len, &error);
	msg = data != NULL ? parse_back(data, len) : NULL;
	value = msg != NULL ? g_mime_object_get_header(GMIME_OBJECT(msg),
						       "References")
			    : NULL;
	parsed = g_mime_references_parse(NULL, value != NULL ? value : "");
	T_INTEQ("references.bounded", g_mime_references_length(parsed), 20);
	T_STREQ("references.root kept",
		g_mime_references_length(parsed) > 0
			? g_mime_references_get_message_id(parsed, 0)
			: NULL,
		"r0@x");
	T_STREQ("references.original last",
		g_mime_references_length(parsed) > 0
			? g_mime_references_get_message_id(
				  parsed, g_mime_references_length(parsed) - 1)
			: NULL,
		"last@x");
	g_mime_references_free(parsed);
	if (msg != NULL)
		g_object_unref(msg);
}

/* Sizes as the too_large reply and intakectl status show them. */
static const struct {
	uint64_t bytes;
	bool up;
	const char *want;
} size_cases[] = {
	{0, true, "0 KB"},
	{1, true, "1 KB"},
	{1, false, "0 KB"},
	{65536, false, "64 KB"},
	{65537, true, "65 KB"},
	{1024 * 1024, true, "1 MB"},
	{1024 * 1024 + 1, true, "1.1 MB"},
	{1024 * 1024 + 1, false, "1 MB"},
	{100 * 1024 * 1024, false, "100 MB"},
	{100 * 1024 * 1024 + 1, true, "100.1 MB"},
	{(uint64_t)(1.99 * 1024 * 1024), true, "2 MB"},
	{(uint64_t)(1.99 * 1024 * 1024), false, "1.9 MB"},
	{(uint64_t)(152.25 * 1024 * 1024), true, "152.3 MB"},
	{UINT64_MAX, false, "17592186044415.9 MB"},
	{UINT64_MAX, true, "17592186044416 MB"},
};

static void
test_format_size(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(size_cases); i++) {
		g_autofree char *name = g_strdup_printf(
			"size.%" G_GUINT64_FORMAT ".%s", size_cases[i].bytes,
			size_cases[i].up ? "up" : "down");
		char buf[32];

		reply_format_size(size_cases[i].bytes, size_cases[i].up, buf,
				  sizeof(buf));
		T_STREQ(name, buf, size_cases[i].want);
	}
}

int
main(void)
{
	g_mime_init();
	test_clean();
	test_address();
	test_message_id();
	test_render();
	test_templates();
	test_compose();
	test_compose_cases();
	test_references_bound();
	test_format_size();
	g_mime_shutdown();
	return t_done();
}
