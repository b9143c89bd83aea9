/*
 * test_mimetext.c - charset conversion and HTML flattening, from tables
 */
#include <string.h>

#include "mimetext.h"
#include "t.h"

struct label_case {
	const char *label;
	const char *want;
};

static const struct label_case labels[] = {
	{ "gb2312", "GB18030" }, { "GBK", "GB18030" },	 { "x-gbk", "GB18030" },
	{ "cp936", "GB18030" },	 { "GB18030", "GB18030" }, { "big5", "big5" },
	{ "utf-8", "utf-8" },	 { "", NULL },		 { NULL, NULL },
};

struct conv_case {
	const char *label;	/* test name */
	const char *charset;
	const char *in;
	size_t len;		/* 0: strlen(in) */
	size_t max;
	const char *want;
};

static const struct conv_case convs[] = {
	{ "gb2312 label, GBK-only char", "gb2312", "\xcd\xf5\x86\xb4", 0, 100,
	  "王喆" },
	{ "gbk", "gbk", "\xd6\xca\xc1\xbf\xd4\xc2", 0, 100, "质量月" },
	{ "big5", "big5", "\xab~\xbd\xe8\xa4\xeb", 0, 100, "品質月" },
	{ "utf-8", "utf-8", "hello 质量", 0, 100, "hello 质量" },
	{ "no charset, GBK bytes", NULL, "\xcd\xf5\x86\xb4", 0, 100, "王喆" },
	{ "us-ascii label, GBK bytes", "us-ascii", "\xcd\xf5\x86\xb4", 0, 100,
	  "王喆" },
	{ "utf-8 label, GBK bytes", "UTF-8", "\xd6\xca\xc1\xbf\xd4\xc2", 0,
	  100, "质量月" },
	{ "NUL bytes dropped", "utf-8", "a\0b", 3, 100, "ab" },
	{ "cut at a character", "utf-8", "质量月", 0, 7, "质量" },
	{ "incomplete tail dropped", "utf-8", "质量月", 8, 100, "质量" },
	{ "invalid byte replaced", "gbk", "a\xff" "b", 0, 100,
	  "a\xef\xbf\xbd" "b" },
	{ "unknown charset", "x-no-such-charset", "abc", 0, 100, "abc" },
	{ "latin-1", "iso-8859-1", "caf\xe9", 0, 100, "café" },
	{ "windows-1252", "windows-1252", "\x80", 0, 100, "€" },
	{ "empty", "gbk", "", 0, 100, "" },
};

struct html_case {
	const char *label;
	const char *in;
	size_t max;
	const char *want;
};

static const struct html_case htmls[] = {
	{ "paragraphs", "<p>a</p><p>b</p>", 100, "a\nb" },
	{ "br", "a<br>b<br><br><br>c", 100, "a\nb\n\nc" },
	{ "entities", "&lt;&gt;&amp;&quot;&#39;&#x41;&nbsp;x&AMP;", 100,
	  "<>&\"'A x&" },
	{ "bare <", "a < b and c > d", 100, "a < b and c > d" },
	{ "script", "<script>alert('<p>')</script>ok", 100, "ok" },
	{ "STYLE", "<STYLE>p{}</STYLE>ok", 100, "ok" },
	{ "comments", "<!-- c -->ok<!-- unterminated", 100, "ok" },
	{ "white space", "  lots   of \n\n spaces  ", 100, "lots of spaces" },
	{ "captions", "<div>图1：说明</div><div>图2：说明</div>", 100,
	  "图1：说明\n图2：说明" },
	{ "not entities", "&unknown; &#xZZ; & &#;", 100,
	  "&unknown; &#xZZ; & &#;" },
	{ "cells", "<table><tr><td>a</td><td>b</td></tr></table>", 100, "a b" },
	{ "link", "<a href=\"x\">link</a> text", 100, "link text" },
	{ "max", "abcdef", 3, "abc" },
	{ "max in UTF-8", "质量月", 7, "质量" },
	{ "no >", "<<<<<<", 100, "<<<<<<" },
	{ "unterminated tag", "x <p", 100, "x <p" },
	{ "bad code points", "&#0;&#1114112;&#xd800;", 100,
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd" },
	{ "title", "<title>t</title>body", 100, "body" },
	{ "nbsp byte", "a\xc2\xa0" "b", 100, "a b" },
	{ "pre", "<pre>x</pre>y", 100, "x\ny" },
	{ "doctype", "<!DOCTYPE html><html><body>x</body></html>", 100, "x" },
	{ "outlook", "<p class=MsoNormal>a<o:p></o:p></p><p>b</p>", 100,
	  "a\nb" },
	{ "empty", "", 100, "" },
};

/* mimetext_join_b_words(): want NULL when nothing is to be joined. */
static const struct {
	const char *label, *in, *want;
} joins[] = {
	{ "GMime issue 133", "=?UTF-8?B?SGVsbG8=?= =?UTF-8?B?IHdvcmxk?=",
	  "=?UTF-8?B?SGVsbG8gd29ybGQ=?=" },
	{ "text around, folded, charset case",
	  "Re: =?UTF-8?B?SGVsbG8=?=\n =?utf-8?b?IHdvcmxk?= (2)",
	  "Re: =?UTF-8?B?SGVsbG8gd29ybGQ=?= (2)" },
	{ "padded in the middle", "=?utf-8?B?YQ==?= =?utf-8?B?Yg==?=\t"
	  "=?utf-8?B?Yw==?=", "=?utf-8?B?YWJj?=" },
	{ "a character split between words, then padding",
	  "=?utf-8?B?5Lit5?= =?utf-8?B?paHIA==?= =?utf-8?B?5paH?=",
	  "=?utf-8?B?5Lit5paHIOaWhw==?=" },
	{ "two runs", "=?gbk?B?YQ==?= =?gbk?B?Yg==?= x =?utf-8?B?Yw==?= "
	  "=?utf-8?B?ZA==?=", "=?gbk?B?YWI=?= x =?utf-8?B?Y2Q=?=" },
	{ "split character, no padding", "=?utf-8?B?5Lit5?= =?utf-8?B?paH?=",
	  NULL },
	{ "padding on the last word only",
	  "=?utf-8?B?5Lit5paH?= =?utf-8?B?YQ==?=", NULL },
	{ "different charsets", "=?gb2312?B?YQ==?= =?utf-8?B?Yg==?=", NULL },
	{ "not separated", "=?utf-8?B?YQ==?==?utf-8?B?Yg==?=", NULL },
	{ "Q words", "=?utf-8?Q?a=3D?= =?utf-8?Q?b?=", NULL },
	{ "no words", "plain subject", NULL },
	{ "broken word", "=?utf-8?B?YQ== =?utf-8?B?Yg==?=", NULL },
	{ "NULL", NULL, NULL },
};

int
main(void)
{
	size_t i;
	char name[200];

	for (i = 0; i < G_N_ELEMENTS(labels); i++) {
		g_snprintf(name, sizeof(name), "charset %s",
			   labels[i].label ? labels[i].label : "(null)");
		T_STREQ(name, mimetext_charset(labels[i].label),
			labels[i].want);
	}
	for (i = 0; i < G_N_ELEMENTS(convs); i++) {
		const struct conv_case *c = &convs[i];
		char *got = mimetext_to_utf8(c->charset, c->in,
					     c->len ? c->len : strlen(c->in),
					     c->max);

		g_snprintf(name, sizeof(name), "to_utf8 %s", c->label);
		T_STREQ(name, got, c->want);
		g_free(got);
	}
	for (i = 0; i < G_N_ELEMENTS(htmls); i++) {
		const struct html_case *c = &htmls[i];
		char *got = mimetext_html_to_text(c->in, strlen(c->in), c->max);

		g_snprintf(name, sizeof(name), "html %s", c->label);
		T_STREQ(name, got, c->want);
		g_free(got);
	}
	for (i = 0; i < G_N_ELEMENTS(joins); i++) {
		char *got = mimetext_join_b_words(joins[i].in);

		g_snprintf(name, sizeof(name), "join %s", joins[i].label);
		T_STREQ(name, got, joins[i].want);
		g_free(got);
	}
	return t_done();
}
