/*
 * test_links.c - large-file links found in bodies
 */
#include <stdlib.h>

#include "links.h"
#include "t.h"

struct link_case {
	const char *name;
	const char *text;
	const char *html;
	unsigned count;
	const char *url;      /* of the first link */
	const char *provider;
	const char *filename;
	const char *size;
	const char *code;
	const char *expires;  /* ISO, +08:00, or NULL for 0 */
};

static const struct link_case cases[] = {
	{"qq.classic",
	 "从QQ邮箱发来的超大附件\n\n质量月宣传片.mp4 (1.25G, 2022年10月20日 "
	 "10:15 到期)\n进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_"
	 "download?k=0a3b&t=exs_ftn_download&code=7c2e\n",
	 NULL, 1,
	 "https://mail.qq.com/cgi-bin/ftnExs_download?k=0a3b&t=exs_ftn_"
	 "download&code=7c2e",
	 "QQ邮箱超大附件", "质量月宣传片.mp4", "1.25G", NULL,
	 "2022-10-20T10:15:00+08"},
	{"qq.new_ui",
	 "超大附件：活动视频.MOV（856.3M，2022/10/25 到期）\n"
	 "https://wx.mail.qq.com/ftn/download?func=3&k=abc&key=def\n",
	 NULL, 1, "https://wx.mail.qq.com/ftn/download?func=3&k=abc&key=def",
	 "QQ邮箱超大附件", "活动视频.MOV", "856.3M", NULL,
	 "2022-10-25T23:59:00+08"},
	{"163",
	 "网易邮箱超大附件\n厦门质量月.mp4 2.1G 到期时间：2022年11月1日\n"
	 "下载：https://mail.163.com/large-attachment-download/index.html?"
	 "p=X&file=Y\n",
	 NULL, 1,
	 "https://mail.163.com/large-attachment-download/index.html?p=X&"
	 "file=Y",
	 "网易邮箱超大附件", "厦门质量月.mp4", "2.1G", NULL,
	 "2022-11-01T23:59:00+08"},
	{"baidu",
	 "视频较大，放在网盘：\n链接: https://pan.baidu.com/s/1AbCdEf "
	 "提取码: x7k2\n--来自百度网盘超级会员V3的分享",
	 NULL, 1, "https://pan.baidu.com/s/1AbCdEf", "百度网盘", NULL, NULL,
	 "x7k2", NULL},
	{"html.href",
	 "请下载视频",
	 "<a href=\"https://mail.qq.com/cgi-bin/ftnExs_download?k=1&amp;"
	 "t=2\">下载</a>",
	 1, "https://mail.qq.com/cgi-bin/ftnExs_download?k=1&t=2",
	 "QQ邮箱超大附件", NULL, NULL, NULL, NULL},
	{"same.twice",
	 "https://pan.baidu.com/s/1x 提取码：abcd\n"
	 "再发一次 https://pan.baidu.com/s/1x\n",
	 "<a href=\"https://pan.baidu.com/s/1x\">x</a>", 1,
	 "https://pan.baidu.com/s/1x", "百度网盘", NULL, NULL, "abcd", NULL},
	{"ordinary.links", "见 https://www.samr.gov.cn/ 和 http://example.com",
	 NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL},
	{"no.text", NULL, NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL},
	{"two.providers",
	 "视频1：https://pan.baidu.com/s/1a 提取码 1111\n\n\n\n\n\n\n\n\n\n"
	 "视频2：https://mail.163.com/large-attachment-download/x\n",
	 NULL, 2, "https://pan.baidu.com/s/1a", "百度网盘", NULL, NULL, "1111",
	 NULL},
};

/* [rules] link_prefixes: one configured prefix (NULL: none) per case */
struct extra_case {
	const char *prefix;
	struct link_case c;
};

static const struct extra_case extra_cases[] = {
	{"https://pan.example.gov.cn/s/",
	 {"extra.text",
	  "视频较大，放在省政务网盘：\n质量月宣传片.mp4（1.2G，2022年10月20日"
	  "到期）\n下载：https://pan.example.gov.cn/s/8f3a2b 提取码：k9m2\n",
	  NULL, 1, "https://pan.example.gov.cn/s/8f3a2b", "大附件链接",
	  "质量月宣传片.mp4", "1.2G", "k9m2", "2022-10-20T23:59:00+08"}},
	{"https://pan.example.gov.cn/s/",
	 {"extra.html", "视频见下方链接",
	  "<p>视频（856M）：<a href=\"https://pan.example.gov.cn/s/77aa?from="
	  "mail&amp;x=1\">漳州质量月.mp4</a></p>",
	  1, "https://pan.example.gov.cn/s/77aa?from=mail&x=1", "大附件链接",
	  "漳州质量月.mp4", "856M", NULL, NULL}},
	/* the URL's own last segment names the file, percent-decoded */
	{"https://pan.example.gov.cn/s/",
	 {"extra.url_name",
	  "https://pan.example.gov.cn/s/9c/%E8%B4%A8%E9%87%8F%E6%9C%88.mp4\n"
	  "另附 说明.pdf 一份\n",
	  NULL, 1,
	  "https://pan.example.gov.cn/s/9c/%E8%B4%A8%E9%87%8F%E6%9C%88.mp4",
	  "大附件链接", "质量月.mp4", NULL, NULL, NULL}},
	/* not a file name: the text near the link is read instead */
	{"https://pan.example.gov.cn/s/",
	 {"extra.url_name_bad",
	  "宣传片.mp4 https://pan.example.gov.cn/s/9c/%FF%FE.mp4\n",
	  NULL, 1, "https://pan.example.gov.cn/s/9c/%FF%FE.mp4", "大附件链接",
	  "宣传片.mp4", NULL, NULL, NULL}},
	{NULL,
	 {"extra.not_configured",
	  "下载：https://pan.example.gov.cn/s/8f3a2b 提取码：k9m2\n",
	  "<a href=\"https://pan.example.gov.cn/s/77aa\">x.mp4</a>",
	  0, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"https://pan.example.gov.cn/s/",
	 {"extra.other_prefix",
	  "https://pan.example.gov.cn/t/8f3a2b https://example.gov.cn/s/1\n",
	  NULL, 0, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"https://pan.example.gov.cn/s/",
	 {"extra.evil_host",
	  "下载：https://pan.example.gov.cn.evil.com/s/8f3a2b\n",
	  "<a href=\"https://pan.example.gov.cn.evil.com/s/77aa\">x</a>",
	  0, NULL, NULL, NULL, NULL, NULL, NULL}},
	/* a prefix that is only a host ends where the URL's host ends */
	{"https://pan.example.gov.cn",
	 {"extra.host_only.evil_host",
	  "下载：https://pan.example.gov.cn.evil.com/s/8f3a2b\n",
	  "<a href=\"https://pan.example.gov.cnx.com/\">x</a>",
	  0, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"https://pan.example.gov.cn",
	 {"extra.host_only.userinfo",
	  "下载：https://pan.example.gov.cn@evil.com/s/8f3a2b\n", NULL,
	  0, NULL, NULL, NULL, NULL, NULL, NULL}},
	{"https://pan.example.gov.cn",
	 {"extra.host_only.path", "下载：https://PAN.example.gov.cn/s/1x\n",
	  NULL, 1, "https://PAN.example.gov.cn/s/1x", "大附件链接", NULL,
	  NULL, NULL, NULL}},
	{"https://pan.example.gov.cn",
	 {"extra.host_only.port", "https://pan.example.gov.cn:8443/s/1x\n",
	  NULL, 1, "https://pan.example.gov.cn:8443/s/1x", "大附件链接", NULL,
	  NULL, NULL, NULL}},
	{"https://pan.example.gov.cn",
	 {"extra.host_only.bare", "链接：https://pan.example.gov.cn 密码 ab12",
	  NULL, 1, "https://pan.example.gov.cn", "大附件链接", NULL, NULL,
	  "ab12", NULL}},
	/* an empty prefix matches nothing, not every link */
	{"",
	 {"extra.empty", "见 https://www.samr.gov.cn/ 视频.mp4", NULL, 0,
	  NULL, NULL, NULL, NULL, NULL, NULL}},
	/* the built-in providers keep their names */
	{"https://pan.baidu.com/",
	 {"extra.builtin_first", "https://pan.baidu.com/s/1AbC 提取码: x7k2",
	  NULL, 1, "https://pan.baidu.com/s/1AbC", "百度网盘", NULL, NULL,
	  "x7k2", NULL}},
};

static void
check_case(const struct link_case *c, const char *const *extra)
{
	GPtrArray *found = links_find(c->text, c->html, extra, NULL);
	char name[128];

	g_snprintf(name, sizeof(name), "links.%s.count", c->name);
	T_INTEQ(name, found->len, c->count);
	if (found->len > 0 && c->count > 0) {
		const struct link_ref *r = g_ptr_array_index(found, 0);
		g_autofree char *iso = NULL;

		if (r->expires) {
			g_autoptr(GTimeZone) tz = g_time_zone_new_offset(8 * 3600);
			g_autoptr(GDateTime) u = g_date_time_new_from_unix_utc(r->expires);
			g_autoptr(GDateTime) d = g_date_time_to_timezone(u, tz);

			iso = g_date_time_format(d, "%Y-%m-%dT%H:%M:%S%:::z");
		}
		g_snprintf(name, sizeof(name), "links.%s.url", c->name);
		T_STREQ(name, r->url, c->url);
		g_snprintf(name, sizeof(name), "links.%s.provider", c->name);
		T_STREQ(name, r->provider, c->provider);
		g_snprintf(name, sizeof(name), "links.%s.filename", c->name);
		T_STREQ(name, r->filename, c->filename);
		g_snprintf(name, sizeof(name), "links.%s.size", c->name);
		T_STREQ(name, r->size, c->size);
		g_snprintf(name, sizeof(name), "links.%s.code", c->name);
		T_STREQ(name, r->code, c->code);
		g_snprintf(name, sizeof(name), "links.%s.expires", c->name);
		T_STREQ(name, iso, c->expires);
	}
	g_ptr_array_unref(found);
}

int
main(void)
{
	const char *extra[] = {"https://files.example.cn/share/", NULL};
	GPtrArray *found;

	for (size_t i = 0; i < G_N_ELEMENTS(cases); i++)
		check_case(&cases[i], NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(extra_cases); i++) {
		const char *one[] = {extra_cases[i].prefix, NULL};

		check_case(&extra_cases[i].c, one);
	}

	/* configured extra prefixes */
	found = links_find("见 https://files.example.cn/share/abc 视频.mp4",
			   NULL, extra, NULL);
	T_INTEQ("links.extra.count", found->len, 1);
	g_ptr_array_unref(found);

	/* bounded: a body full of links yields at most LINKS_MAX */
	{
		GString *big = g_string_new(NULL);

		for (int i = 0; i < 500; i++)
			g_string_append_printf(big, "https://pan.baidu.com/s/%d\n",
					       i);
		found = links_find(big->str, NULL, NULL, NULL);
		T_INTEQ("links.bounded", found->len, LINKS_MAX);
		g_ptr_array_unref(found);
		g_string_free(big, TRUE);
	}
	return t_done();
}
