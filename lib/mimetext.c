/*
 * mimetext.c - text bodies to UTF-8, HTML to plain text
 *
 * NAME
 *	mimetext - charset conversion and HTML flattening for message.c
 *
 * DESCRIPTION
 *	Conversion is iconv's (through GMime's iconv wrappers, which know
 *	the aliases mail uses); guessing an unlabelled charset is GMime's
 *	g_mime_utils_decode_8bit() with the fallback list UTF-8, GB18030.
 *	Chinese mail labelled gb2312 routinely carries GBK-only characters
 *	(喆, 镕, 堃 in people's names), so every GB label is read as
 *	GB18030, which is a superset of both.
 *
 *	GLib has no HTML parser, so mimetext_html_to_text() is a small
 *	state machine: it never builds a tree, looks at each input byte a
 *	bounded number of times, and stops at max bytes of output.  It is
 *	meant for reading captions out of a webmail body, not for
 *	rendering.
 */
#include <errno.h>
#include <string.h>

#include <gmime/gmime.h>

#include "mimetext.h"

#define TEXT_REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */
#define HTML_TAG_NAME_MAX 16
#define HTML_ENTITY_MAX 12		/* "&" name ";" */

static const char *const gb_labels[] = {
	"gb2312", "gbk", "x-gbk", "cp936", "ms936", "windows-936",
	"euc-cn", "x-euc-cn", "gb_2312-80", "csgb2312", "chinese",
	"gb18030", "x-gb2312", "cn-gb", "csgbk",
};

const char *
mimetext_charset(const char *label)
{
	size_t i;

	if (label == NULL || *label == '\0')
		return NULL;
	for (i = 0; i < G_N_ELEMENTS(gb_labels); i++)
		if (g_ascii_strcasecmp(label, gb_labels[i]) == 0)
			return "GB18030";
	return label;
}

void
mimetext_clamp(GString *s, size_t max)
{
	char *p;

	/* NUL bytes would cut the C string short for every reader. */
	p = memchr(s->str, '\0', s->len);
	if (p != NULL) {
		size_t i, j;

		for (i = j = (size_t)(p - s->str); i < s->len; i++)
			if (s->str[i] != '\0')
				s->str[j++] = s->str[i];
		g_string_truncate(s, j);
	}
	if (!g_utf8_validate_len(s->str, s->len, NULL)) {
		char *valid = g_utf8_make_valid(s->str, (gssize)s->len);

		g_string_assign(s, valid);
		g_free(valid);
	}
	if (s->len <= max)
		return;
	p = s->str + max;
	while (p > s->str && ((unsigned char)*p & 0xc0) == 0x80)
		p--;
	g_string_truncate(s, (size_t)(p - s->str));
}

/* Valid UTF-8, allowing NUL bytes and a sequence cut short by a bounded
 * read at the very end (*usable_r then stops before it). */
static bool
text_is_utf8(const char *data, size_t len, size_t *usable_r)
{
	const char *p = data, *end;
	size_t left = len;

	*usable_r = len;
	while (left > 0) {
		if (g_utf8_validate_len(p, left, &end))
			return true;
		left -= (size_t)(end - p);
		if (*end != '\0') {
			*usable_r = (size_t)(end - data);
			return left < 4 &&
			       ((unsigned char)*end & 0xc0) == 0xc0 &&
			       g_utf8_get_char_validated(end, (gssize)left) ==
				       (gunichar)-2;
		}
		left--;
		p = end + 1;
	}
	return true;
}

/* GMime's iconv cache needs g_mime_init(), which counts its callers. */
static void
text_init(void)
{
	static gsize once;

	if (g_once_init_enter(&once)) {
		g_mime_init();
		g_once_init_leave(&once, 1);
	}
}

static bool
text_label_is(const char *cs, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (g_ascii_strcasecmp(cs, names[i]) == 0)
			return true;
	return false;
}

static void
text_guess(const char *data, size_t len, GString *out)
{
	static const char *fallback[] = { "UTF-8", "GB18030", NULL };
	GMimeParserOptions *opts = g_mime_parser_options_new();
	char *nonul = NULL, *text;

	g_mime_parser_options_set_fallback_charsets(opts, fallback);
	if (memchr(data, '\0', len) != NULL) {
		size_t i, j;

		nonul = g_malloc(len);
		for (i = j = 0; i < len; i++)
			if (data[i] != '\0')
				nonul[j++] = data[i];
		data = nonul;
		len = j;
	}
	text = g_mime_utils_decode_8bit(opts, data, len);
	if (text != NULL)
		g_string_append(out, text);
	g_free(text);
	g_free(nonul);
	g_mime_parser_options_free(opts);
}

/* iconv with every undecodable byte replaced; false when iconv does not
 * know the charset. */
static bool
text_iconv(const char *cs, const char *data, size_t len, size_t max,
	   GString *out)
{
	char buf[4096];
	char *in = (char *)(uintptr_t)data;
	size_t inleft = len;
	iconv_t cd;

	cd = g_mime_iconv_open("UTF-8", cs);
	if (cd == (iconv_t)-1)
		return false;
	while (inleft > 0 && out->len < max) {
		char *o = buf;
		size_t oleft = sizeof(buf);
		size_t r = iconv(cd, &in, &inleft, &o, &oleft);
		int saved = errno;

		g_string_append_len(out, buf, (gssize)(o - buf));
		if (r != (size_t)-1 || saved == E2BIG)
			continue;
		if (saved != EILSEQ)
			break;	/* EINVAL: cut short at the end */
		g_string_append(out, TEXT_REPLACEMENT);
		in++;
		inleft--;
		iconv(cd, NULL, NULL, NULL, NULL);
	}
	g_mime_iconv_close(cd);
	return true;
}

char *
mimetext_to_utf8(const char *charset, const char *data, size_t len,
		 size_t max)
{
	static const char *const utf8[] = {
		"utf-8", "utf8", "unicode-1-1-utf-8",
	};
	static const char *const ascii[] = {
		"us-ascii", "ascii", "ansi_x3.4-1968", "iso646-us", "646", "us",
	};
	const char *cs = mimetext_charset(charset);
	GString *out;
	size_t usable;

	if (data == NULL || len == 0)
		return g_strdup("");
	text_init();
	out = g_string_sized_new(MIN(len, max) + 1);
	if (cs == NULL || text_label_is(cs, utf8, G_N_ELEMENTS(utf8)) ||
	    text_label_is(cs, ascii, G_N_ELEMENTS(ascii))) {
		if (text_is_utf8(data, len, &usable))
			g_string_append_len(out, data,
					    (gssize)MIN(usable, max + 4));
		else
			text_guess(data, len, out);
	} else if (!text_iconv(cs, data, len, max, out)) {
		text_guess(data, len, out);
	}
	mimetext_clamp(out, max);
	return g_string_free(out, FALSE);
}

/* ---- HTML ---------------------------------------------------------- */

struct html_entity {
	const char *name;
	const char *utf8;
};

static const struct html_entity html_entities[] = {
	{ "amp", "&" },	      { "lt", "<" },	    { "gt", ">" },
	{ "quot", "\"" },     { "apos", "'" },	    { "nbsp", " " },
	{ "ensp", " " },      { "emsp", " " },	    { "thinsp", " " },
	{ "copy", "©" },      { "reg", "®" },	    { "trade", "™" },
	{ "middot", "·" },    { "hellip", "…" },    { "mdash", "—" },
	{ "ndash", "–" },     { "ldquo", "“" },     { "rdquo", "”" },
	{ "lsquo", "‘" },     { "rsquo", "’" },     { "laquo", "«" },
	{ "raquo", "»" },     { "bull", "•" },	    { "times", "×" },
	{ "divide", "÷" },    { "yen", "¥" },	    { "euro", "€" },
	{ "deg", "°" },	      { "sect", "§" },	    { "zwnj", "" },
	{ "zwj", "" },	      { "shy", "" },
};

/* Tags whose content is not text. */
static const char *const html_skip_tags[] = { "script", "style", "title" };

/* Tags that end a line. */
static const char *const html_block_tags[] = {
	"p", "div", "tr", "li", "h1", "h2", "h3", "h4", "h5", "h6",
	"table", "ul", "ol", "dl", "dt", "dd", "blockquote", "pre", "hr",
	"section", "article", "header", "footer", "form", "center",
	"address", "caption", "tbody", "thead", "tfoot",
};

struct html_state {
	GString *out;
	size_t max;
	bool space;	/* white space seen since the last text */
	bool no_gt;	/* no '>' after this point: '<' is text */
};

static bool
html_in(const char *name, const char *const *set, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(name, set[i]) == 0)
			return true;
	return false;
}

static void
html_trim_line(GString *out)
{
	while (out->len > 0 && (out->str[out->len - 1] == ' ' ||
				out->str[out->len - 1] == '\t'))
		g_string_truncate(out, out->len - 1);
}

/* A line break; hard ones (<br>) may leave one empty line. */
static void
html_newline(struct html_state *st, bool hard)
{
	GString *out = st->out;

	st->space = false;
	html_trim_line(out);
	if (out->len == 0)
		return;
	if (out->str[out->len - 1] == '\n') {
		if (!hard || (out->len >= 2 && out->str[out->len - 2] == '\n'))
			return;
	}
	g_string_append_c(out, '\n');
}

static void
html_text(struct html_state *st, const char *s, size_t n)
{
	GString *out = st->out;

	if (n == 0)
		return;
	if (st->space && out->len > 0 && out->str[out->len - 1] != '\n')
		g_string_append_c(out, ' ');
	st->space = false;
	g_string_append_len(out, s, (gssize)n);
}

/* Case-insensitive search for needle (lower case ASCII) in [p, end). */
static const char *
html_find(const char *p, const char *end, const char *needle)
{
	size_t n = strlen(needle);

	for (; (size_t)(end - p) >= n; p++)
		if (g_ascii_strncasecmp(p, needle, n) == 0)
			return p;
	return NULL;
}

/* At '&': appends the character and returns the bytes consumed, or 0
 * when this is not an entity. */
static size_t
html_entity(struct html_state *st, const char *p, const char *end)
{
	const char *semi;
	char name[HTML_ENTITY_MAX + 1];
	size_t n, i;

	semi = memchr(p, ';', MIN((size_t)(end - p), HTML_ENTITY_MAX + 2));
	if (semi == NULL || semi - p < 2)
		return 0;
	n = (size_t)(semi - p - 1);
	memcpy(name, p + 1, n);
	name[n] = '\0';
	if (name[0] == '#') {
		bool hex = name[1] == 'x' || name[1] == 'X';
		const char *digits = name + (hex ? 2 : 1);
		gunichar c;
		char *e;
		gint64 v;
		char utf8[8];

		if (!g_ascii_isxdigit(*digits))
			return 0;
		v = g_ascii_strtoll(digits, &e, hex ? 16 : 10);
		if (*e != '\0')
			return 0;
		c = (v > 0 && v <= 0x10ffff) ? (gunichar)v : 0xfffd;
		if (!g_unichar_validate(c))
			c = 0xfffd;
		if (c == 0xa0)
			c = ' ';
		html_text(st, utf8, (size_t)g_unichar_to_utf8(c, utf8));
		return n + 2;
	}
	for (i = 0; i < G_N_ELEMENTS(html_entities); i++) {
		if (g_ascii_strcasecmp(name, html_entities[i].name) == 0) {
			html_text(st, html_entities[i].utf8,
				  strlen(html_entities[i].utf8));
			return n + 2;
		}
	}
	return 0;
}

/* At '<': handles a tag, comment or declaration and returns the bytes
 * consumed, or 0 when the '<' is plain text. */
static size_t
html_tag(struct html_state *st, const char *p, const char *end)
{
	const char *q = p + 1, *gt, *close;
	char name[HTML_TAG_NAME_MAX + 1];
	size_t n = 0;
	bool closing = false;

	if (st->no_gt || q >= end)
		return 0;
	if ((size_t)(end - p) >= 4 && memcmp(p, "<!--", 4) == 0) {
		close = html_find(p + 4, end, "-->");
		return close ? (size_t)(close + 3 - p) : (size_t)(end - p);
	}
	if (*q == '/') {
		closing = true;
		q++;
	}
	if (q >= end || !(g_ascii_isalpha(*q) || (!closing && (*q == '!' ||
							      *q == '?'))))
		return 0;
	gt = memchr(q, '>', (size_t)(end - q));
	if (gt == NULL) {
		st->no_gt = true;
		return 0;
	}
	while (q < gt && n < HTML_TAG_NAME_MAX &&
	       (g_ascii_isalnum(*q) || *q == ':' || *q == '-'))
		name[n++] = g_ascii_tolower(*q++);
	name[n] = '\0';
	if (!closing && html_in(name, html_skip_tags,
				G_N_ELEMENTS(html_skip_tags))) {
		char needle[HTML_TAG_NAME_MAX + 3];
		const char *cgt;

		g_snprintf(needle, sizeof(needle), "</%s", name);
		close = html_find(gt + 1, end, needle);
		if (close == NULL)
			return (size_t)(end - p);
		cgt = memchr(close, '>', (size_t)(end - close));
		return cgt ? (size_t)(cgt + 1 - p) : (size_t)(end - p);
	}
	if (strcmp(name, "br") == 0)
		html_newline(st, true);
	else if (html_in(name, html_block_tags, G_N_ELEMENTS(html_block_tags)))
		html_newline(st, false);
	else if (strcmp(name, "td") == 0 || strcmp(name, "th") == 0 ||
		 strcmp(name, "img") == 0)
		st->space = true;
	return (size_t)(gt + 1 - p);
}

char *
mimetext_html_to_text(const char *html, size_t len, size_t max)
{
	struct html_state st = { 0 };
	const char *p = html, *end = html + len;

	st.out = g_string_sized_new(MIN(len, max) + 1);
	st.max = max;
	while (p < end && st.out->len < max) {
		size_t used = 0;
		unsigned char c = (unsigned char)*p;

		if (c == '<')
			used = html_tag(&st, p, end);
		else if (c == '&')
			used = html_entity(&st, p, end);
		if (used > 0) {
			p += used;
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n' ||
		    c == '\f') {
			st.space = true;
			p++;
		} else if (c == 0xc2 && p + 1 < end &&
			   (unsigned char)p[1] == 0xa0) {
			html_text(&st, " ", 1);	/* U+00A0 */
			p += 2;
		} else {
			const char *run = p++;

			/* copy a run of ordinary bytes at once */
			while (p < end && *p != '<' && *p != '&' && *p != ' ' &&
			       *p != '\t' && *p != '\r' && *p != '\n' &&
			       *p != '\f' && (unsigned char)*p != 0xc2)
				p++;
			html_text(&st, run, (size_t)(p - run));
		}
	}
	html_trim_line(st.out);
	while (st.out->len > 0 && st.out->str[st.out->len - 1] == '\n')
		g_string_truncate(st.out, st.out->len - 1);
	mimetext_clamp(st.out, max);
	return g_string_free(st.out, FALSE);
}

/* ---- encoded words ------------------------------------------------------ */

/* One base64 encoded word at p: its charset and payload; *end_r after it. */
static bool
ew_parse(const char *p, const char **cs_r, size_t *cs_len_r,
	 const char **b64_r, size_t *b64_len_r, const char **end_r)
{
	const char *q, *e;

	if (p[0] != '=' || p[1] != '?')
		return false;
	q = p + 2;
	e = strchr(q, '?');
	if (e == NULL || e == q || (e[1] != 'B' && e[1] != 'b') || e[2] != '?')
		return false;
	*cs_r = q;
	*cs_len_r = (size_t)(e - q);
	q = e + 3;
	for (e = q; *e != '\0' && *e != '?' && !g_ascii_isspace(*e); e++)
		if (!g_ascii_isalnum(*e) && *e != '+' && *e != '/' &&
		    *e != '=')
			return false;
	if (e[0] != '?' || e[1] != '=')
		return false;
	*b64_r = q;
	*b64_len_r = (size_t)(e - q);
	*end_r = e + 2;
	return true;
}

/* Decodes the base64 text of pending onto out and empties pending. */
static void
ew_flush(GString *pending, GByteArray *out)
{
	gsize n = 0;
	guchar *bytes;

	if (pending->len == 0)
		return;
	bytes = g_base64_decode(pending->str, &n);
	g_byte_array_append(out, bytes, (guint)n);
	g_free(bytes);
	g_string_truncate(pending, 0);
}

char *
mimetext_join_b_words(const char *value)
{
	GString *res, *pending;
	GByteArray *bytes;
	const char *p;
	bool changed = false;

	if (value == NULL || strstr(value, "=?") == NULL ||
	    strlen(value) > MIMETEXT_HEADER_MAX)
		return NULL;
	res = g_string_new(NULL);
	pending = g_string_new(NULL);
	bytes = g_byte_array_new();
	for (p = value; *p != '\0';) {
		const char *cs, *b64, *end, *next, *cs2, *b642, *end2;
		size_t cs_len, b64_len, cs2_len, b642_len;
		bool padded = false, run = false;

		if (!ew_parse(p, &cs, &cs_len, &b64, &b64_len, &end)) {
			g_string_append_c(res, *p++);
			continue;
		}
		/* the run of words of this charset, white space between */
		g_string_append_len(pending, b64, (gssize)b64_len);
		g_byte_array_set_size(bytes, 0);
		for (;;) {
			for (next = end; *next == ' ' || *next == '\t' ||
					 *next == '\r' || *next == '\n';
			     next++)
				;
			if (next == end ||
			    !ew_parse(next, &cs2, &cs2_len, &b642, &b642_len,
				      &end2) ||
			    cs2_len != cs_len ||
			    g_ascii_strncasecmp(cs2, cs, cs_len) != 0)
				break;
			run = true;
			if (b64_len > 0 && b64[b64_len - 1] == '=') {
				padded = true;
				ew_flush(pending, bytes);
			}
			g_string_append_len(pending, b642, (gssize)b642_len);
			b64 = b642;
			b64_len = b642_len;
			end = end2;
		}
		if (!run || !padded) {
			/* nothing GMime gets wrong: the words as they are */
			g_string_append_len(res, p, end - p);
			g_string_truncate(pending, 0);
			p = end;
			continue;
		}
		ew_flush(pending, bytes);
		changed = true;
		g_string_append(res, "=?");
		g_string_append_len(res, cs, (gssize)cs_len);
		g_string_append(res, "?B?");
		if (bytes->len > 0) {
			char *enc = g_base64_encode(bytes->data, bytes->len);

			g_string_append(res, enc);
			g_free(enc);
		}
		g_string_append(res, "?=");
		p = end;
	}
	g_string_free(pending, TRUE);
	g_byte_array_unref(bytes);
	if (!changed) {
		g_string_free(res, TRUE);
		return NULL;
	}
	return g_string_free(res, FALSE);
}
