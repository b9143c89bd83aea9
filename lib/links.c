/*
 * links.c - large-file links in a body
 *
 * The providers write a small block around each link, e.g. QQ Mail:
 *
 *   从QQ邮箱发来的超大附件
 *   质量月宣传片.mp4 (1.25G, 2022年10月20日 10:15 到期)
 *   进入下载页面：https://mail.qq.com/cgi-bin/ftnExs_download?k=...
 *
 * and Baidu Netdisk: "链接: https://pan.baidu.com/s/1AbC 提取码: x7k2".
 * The reader looks at a window of lines around the URL for a file name
 * (a token with a known extension), a size, an expiry date and a code.
 * A URL whose last path segment is itself such a file name
 * (".../share/8f3a/宣传片.mp4", percent-encoded) is named by it first:
 * that is exact, the window is a guess.
 *
 * Extra prefixes ([rules] link_prefixes) are matched like the built-in
 * ones, case-insensitively, with one more check: a prefix that ends in
 * the host ("https://pan.example.gov.cn") matches only where the URL's
 * host ends there too, never "https://pan.example.gov.cn.evil.example/".
 * Such links are described the same way as the built-in kinds.
 */
#include <string.h>

#include "links.h"

#define LINKS_WINDOW 4 /* lines before and after the URL's line */

struct provider {
	const char *prefix;
	const char *name;
};

static const struct provider providers[] = {
	{"https://mail.qq.com/cgi-bin/ftnexs_download", "QQ邮箱超大附件"},
	{"http://mail.qq.com/cgi-bin/ftnexs_download", "QQ邮箱超大附件"},
	{"https://wx.mail.qq.com/ftn/", "QQ邮箱超大附件"},
	{"https://mail.163.com/large-attachment-download/", "网易邮箱超大附件"},
	{"https://mail.126.com/large-attachment-download/", "网易邮箱超大附件"},
	{"https://dashi.163.com/", "网易邮箱超大附件"},
	{"https://pan.baidu.com/s/", "百度网盘"},
	{"https://pan.baidu.com/share/", "百度网盘"},
};

void
link_ref_free(struct link_ref *ref)
{
	if (ref == NULL)
		return;
	g_free(ref->url);
	g_free(ref->provider);
	g_free(ref->filename);
	g_free(ref->size);
	g_free(ref->code);
	g_free(ref);
}

static bool
links_url_char(char c)
{
	return c > ' ' && c != '"' && c != '\'' && c != '<' && c != '>' &&
	       c != ')' && c != '(' && (unsigned char)c < 0x7f;
}

/*
 * A configured prefix at p.  One that ends inside the host part
 * ("https://pan.example.gov.cn") must end at the host's end in the URL
 * too, so that "https://pan.example.gov.cn.evil.example/" or
 * "https://pan.example.gov.cn@evil.example/" does not match it.
 */
static bool
links_extra_at(const char *p, const char *prefix)
{
	size_t n = strlen(prefix);
	const char *host = strstr(prefix, "://");
	char c;

	if (n == 0 || g_ascii_strncasecmp(p, prefix, n) != 0)
		return false;
	host = host != NULL ? host + 3 : prefix;
	if (host[strcspn(host, "/?#")] != '\0')
		return true; /* the prefix reaches into the path */
	c = p[n];
	return !links_url_char(c) || c == '/' || c == '?' || c == '#' ||
	       (c == ':' && strchr(host, ':') == NULL);
}

static const char *
links_provider(const char *p, const char *const *extra)
{
	for (size_t i = 0; i < G_N_ELEMENTS(providers); i++)
		if (g_ascii_strncasecmp(p, providers[i].prefix,
					strlen(providers[i].prefix)) == 0)
			return providers[i].name;
	for (size_t i = 0; extra != NULL && extra[i] != NULL; i++)
		if (links_extra_at(p, extra[i]))
			return "大附件链接";
	return NULL;
}

/* The lines around offset in text: [start, end). */
static void
links_window(const char *text, size_t off, const char **start_r,
	     const char **end_r)
{
	const char *s = text + off, *e = text + off;
	int n;

	for (n = 0; s > text && n <= LINKS_WINDOW; s--)
		if (s[-1] == '\n')
			n++;
	if (s > text || (s == text && *s == '\n'))
		s += *s == '\n';
	for (n = 0; *e && n <= LINKS_WINDOW; e++)
		if (*e == '\n')
			n++;
	*start_r = s;
	*end_r = e;
}

static char *
links_match(GRegex *re, const char *s, gssize len, int group)
{
	g_autoptr(GMatchInfo) mi = NULL;

	if (!g_regex_match_full(re, s, len, 0, 0, &mi, NULL))
		return NULL;
	return g_match_info_fetch(mi, group);
}

static int64_t
links_expiry(GRegex *re, const char *s, gssize len, GTimeZone *tz)
{
	g_autoptr(GMatchInfo) mi = NULL;
	g_autoptr(GDateTime) dt = NULL;
	int v[5] = {0, 0, 0, 0, 0};

	if (!g_regex_match_full(re, s, len, 0, 0, &mi, NULL))
		return 0;
	for (int i = 0; i < 5; i++) {
		g_autofree char *g = g_match_info_fetch(mi, i + 1);

		v[i] = g && *g ? (int)g_ascii_strtoll(g, NULL, 10) : 0;
	}
	if (v[3] == 0 && v[4] == 0) {
		v[3] = 23;
		v[4] = 59;
	}
	dt = g_date_time_new(tz, v[0], v[1], v[2], v[3], v[4], 0);
	return dt ? g_date_time_to_unix(dt) : 0;
}

struct links_res {
	GRegex *name, *size, *code, *date;
};

/*
 * The URL's last path segment when it is a file name with a known
 * extension (".../s/8f3a/质量月宣传片.mp4", percent-encoded UTF-8), or
 * NULL.
 */
static char *
links_url_name(GRegex *name_re, const char *url)
{
	g_autoptr(GMatchInfo) mi = NULL;
	g_autofree char *name = NULL;
	const char *path = strstr(url, "://");
	const char *end, *seg;
	int from, to;

	if (path == NULL)
		return NULL;
	path += 3;
	end = path + strcspn(path, "?#");
	path += strcspn(path, "/");
	if (path >= end)
		return NULL;
	for (seg = end; seg > path && seg[-1] != '/'; seg--)
		;
	name = g_uri_unescape_segment(seg, end, "/");
	if (name == NULL || *name == '\0' ||
	    !g_utf8_validate(name, -1, NULL))
		return NULL;
	for (const unsigned char *c = (const unsigned char *)name; *c; c++)
		if (*c < 0x20 || *c == 0x7f)
			return NULL;
	/* the whole segment, not a file name inside it */
	if (!g_regex_match(name_re, name, 0, &mi) ||
	    !g_match_info_fetch_pos(mi, 1, &from, &to) || from != 0 ||
	    (size_t)to != strlen(name))
		return NULL;
	return g_steal_pointer(&name);
}

static void
links_describe(const struct links_res *res, const char *text, size_t off,
	       struct link_ref *ref, GTimeZone *tz)
{
	const char *s, *e;

	links_window(text, off, &s, &e);
	ref->filename = links_url_name(res->name, ref->url);
	if (ref->filename == NULL)
		ref->filename = links_match(res->name, s, e - s, 1);
	ref->size = links_match(res->size, s, e - s, 1);
	ref->code = links_match(res->code, s, e - s, 1);
	ref->expires = links_expiry(res->date, s, e - s, tz);
	if (ref->filename != NULL)
		g_strstrip(ref->filename);
}

static bool
links_seen(GPtrArray *out, const char *url)
{
	for (unsigned i = 0; i < out->len; i++) {
		const struct link_ref *r = g_ptr_array_index(out, i);

		if (strcmp(r->url, url) == 0)
			return true;
	}
	return false;
}

static void
links_scan(const struct links_res *res, const char *text,
	   const char *const *extra, GTimeZone *tz, GPtrArray *out)
{
	const char *p = text;

	while (out->len < LINKS_MAX && (p = strstr(p, "http")) != NULL) {
		const char *name = links_provider(p, extra);
		const char *end = p;
		struct link_ref *ref;
		g_autofree char *url = NULL;

		while (links_url_char(*end))
			end++;
		if (name == NULL || end - p > 2048) {
			p = end > p ? end : p + 4;
			continue;
		}
		url = g_strndup(p, (gsize)(end - p));
		/* HTML bodies write & as &amp; inside href values */
		while (strstr(url, "&amp;") != NULL) {
			char *amp = strstr(url, "&amp;");

			memmove(amp + 1, amp + 5, strlen(amp + 5) + 1);
		}
		if (!links_seen(out, url)) {
			ref = g_new0(struct link_ref, 1);
			ref->url = g_steal_pointer(&url);
			ref->provider = g_strdup(name);
			links_describe(res, text, (size_t)(p - text), ref, tz);
			g_ptr_array_add(out, ref);
		}
		p = end;
	}
}

GPtrArray *
links_find(const char *text, const char *html,
	   const char *const *extra_prefixes, GTimeZone *tz)
{
	GPtrArray *out =
		g_ptr_array_new_with_free_func((GDestroyNotify)link_ref_free);
	g_autoptr(GTimeZone) cst = NULL;
	struct links_res res;

	if (tz == NULL)
		tz = cst = g_time_zone_new_offset(8 * 3600);
	res.name = g_regex_new(
		"([^\\s/\\\\:*?\"<>|（(：，；、]{1,120}\\.(?i:mp4|mov|avi|mkv|wmv|flv"
		"|m4v|mpg|mpeg|ts|rar|zip|7z|pdf|docx?|wps|ofd|jpe?g))"
		"(?![A-Za-z0-9])",
		G_REGEX_OPTIMIZE, 0, NULL);
	res.size = g_regex_new(
		"[(（\\s,，]((?:\\d{1,6}(?:\\.\\d{1,3})?)\\s?(?i:[KMGT]B?|字节))",
		G_REGEX_OPTIMIZE, 0, NULL);
	res.code = g_regex_new("(?:提取码|提取密码|访问码|密码)\\s*[:：]?\\s*"
			       "([A-Za-z0-9]{4,8})",
			       G_REGEX_OPTIMIZE, 0, NULL);
	res.date = g_regex_new(
		"(20\\d\\d)\\s*[年/-]\\s*(\\d{1,2})\\s*[月/-]\\s*(\\d{1,2})"
		"\\s*日?(?:\\s*(\\d{1,2})[:：](\\d{2}))?",
		G_REGEX_OPTIMIZE, 0, NULL);
	if (text != NULL)
		links_scan(&res, text, extra_prefixes, tz, out);
	if (html != NULL)
		links_scan(&res, html, extra_prefixes, tz, out);
	g_regex_unref(res.name);
	g_regex_unref(res.size);
	g_regex_unref(res.code);
	g_regex_unref(res.date);
	return out;
}
