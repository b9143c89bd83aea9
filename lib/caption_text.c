/*
 * caption_text.c - the words of captions: cleaning, numbering, file names
 *
 * The lexical layer under caption.c: what a photo number looks like
 * (图1：, 图三, 第2张, ①, （1）, 1、), what a camera or app default file
 * name looks like (IMG_1234, 微信图片_2022…), and how a caption is made
 * clean (valid UTF-8, one space between words, bounded).  The words of
 * numbering are known in traditional script too (圖1：, 第2張), as a
 * Big5 mail from Foxmail writes them.  Pure: no I/O.
 */
#include <string.h>

#include "caption_text.h"

/* Which text a prefix of a camera/app default name may be followed by. */
enum caption_rest {
	REST_DIGITS, /* digits and separators only: P1010001 */
	REST_WEAK,   /* no CJK; letter runs of 1-2 or a known tag (HDR) */
	REST_ASCII,  /* no CJK: Screenshot_…_com.tencent.mm */
};

static const struct {
	const char *prefix; /* ASCII parts lower case */
	enum caption_rest rest;
} caption_defaults[] = {
	{ "img", REST_WEAK },        { "imag", REST_WEAK },
	{ "image", REST_WEAK },      { "dsc", REST_WEAK },
	{ "_dsc", REST_WEAK },       { "dscn", REST_WEAK },
	{ "dscf", REST_WEAK },       { "dji", REST_WEAK },
	{ "gopr", REST_WEAK },       { "sam", REST_WEAK },
	{ "cimg", REST_WEAK },       { "pict", REST_WEAK },
	{ "hpim", REST_WEAK },       { "pxl", REST_WEAK },
	{ "mvimg", REST_WEAK },      { "vid", REST_WEAK },
	{ "pano", REST_WEAK },       { "burst", REST_WEAK },
	{ "photo", REST_WEAK },      { "pic", REST_WEAK },
	{ "p", REST_DIGITS },        { "mmexport", REST_WEAK },
	{ "wx_camera", REST_WEAK },  { "retouch", REST_WEAK },
	{ "beauty", REST_WEAK },     { "screenshot", REST_ASCII },
	{ "screen shot", REST_ASCII }, { "snipaste", REST_ASCII },
	{ "截图", REST_ASCII },      { "屏幕截图", REST_ASCII },
	{ "微信截图", REST_ASCII },  { "qq截图", REST_ASCII },
	{ "微信图片", REST_WEAK },   { "微信图片编辑", REST_WEAK },
	{ "qq图片", REST_WEAK },     { "tim图片", REST_WEAK },
	{ "钉钉图片", REST_WEAK },   { "图片", REST_WEAK },
	{ "照片", REST_WEAK },       { "相片", REST_WEAK },
	{ "附件", REST_WEAK },       { "图", REST_WEAK },
	{ "微信圖片", REST_WEAK },   { "圖片", REST_WEAK },
	{ "圖", REST_WEAK },
};

/* Letter runs a camera or app appends to a default name. */
static const char *const caption_tags[] = {
	"hdr", "burst", "cover", "portrait", "night", "pano", "edit",
	"edited", "copy", "top", "lls", "effects", "original", "bokeh",
	"live", "motion", "photo", "img", "jpg", "jpeg",
};

/* Words before a photo number: 图1：, 照片 2.  附件1 only in a file
 * name: in a body it numbers the attachments, the summary among them. */
static const struct {
	const char *word;
	bool in_body;
} caption_words[] = {
	{ "图片", true }, { "照片", true }, { "相片", true }, { "附图", true },
	{ "图", true },   { "fig.", true }, { "fig", true },  { "附件", false },
	{ "圖片", true }, { "附圖", true }, { "圖", true },
};

/* Extensions that make "X.ext：…" a reference by file name. */
static const char *const caption_media_ext[] = {
	"jpg", "jpeg", "jpe", "jfif", "png", "heic", "heif", "bmp", "gif",
	"webp", "tif", "tiff", "mp4", "mov", "avi", "wmv", "mkv", "flv",
	"3gp", "m4v",
};

/* Documents and archives: a body line whose text ends in one of these
 * (or a media extension) lists an attachment ("1、活动总结.docx"). */
static const char *const caption_file_ext[] = {
	"doc", "docx", "pdf", "wps", "ofd", "txt", "zip", "rar", "7z",
	"xls", "xlsx", "ppt", "pptx",
};

bool
caption_starts(const char *s, const char *prefix)
{
	return g_ascii_strncasecmp(s, prefix, strlen(prefix)) == 0;
}

bool
caption_ends(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

static bool
caption_in_list(const char *s, size_t len, const char *const *list,
		size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strlen(list[i]) == len &&
		    g_ascii_strncasecmp(s, list[i], len) == 0)
			return true;
	return false;
}

static bool
caption_is_space(gunichar c)
{
	return g_unichar_isspace(c) || g_unichar_iscntrl(c);
}

/* Is c a space or one of the characters of trim (UTF-8, may be NULL)? */
static bool
caption_is_trimmed(gunichar c, const char *trim)
{
	return c == ' ' || (trim != NULL && g_utf8_strchr(trim, -1, c));
}

/* Cuts spaces and trim characters from both ends of out. */
static void
caption_trim(GString *out, const char *trim)
{
	const char *p;
	gsize skip = 0;

	while (out->len > 0) {
		p = g_utf8_find_prev_char(out->str, out->str + out->len);
		if (p == NULL || !caption_is_trimmed(g_utf8_get_char(p), trim))
			break;
		g_string_truncate(out, (gsize)(p - out->str));
	}
	p = out->str;
	while (*p != '\0' && caption_is_trimmed(g_utf8_get_char(p), trim))
		p = g_utf8_next_char(p);
	skip = (gsize)(p - out->str);
	if (skip > 0)
		g_string_erase(out, 0, (gssize)skip);
}

/*
 * The text of s[0..len) as a caption: valid UTF-8, format characters
 * (zero-width, bidi) dropped, whitespace runs made one space, trimmed of
 * spaces and of the characters in trim, bounded to max bytes at a
 * character boundary.  NULL when nothing is left.
 */
char *
caption_clean(const char *s, size_t len, const char *trim, size_t max)
{
	g_autofree char *valid = g_utf8_make_valid(s, (gssize)len);
	GString *out = g_string_sized_new(len + 1);
	const char *p;
	bool space = false;
	gunichar c;

	for (p = valid; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		if (caption_is_space(c)) {
			space = out->len > 0;
			continue;
		}
		if (space)
			g_string_append_c(out, ' ');
		space = false;
		g_string_append_unichar(out, c);
	}
	caption_trim(out, trim);
	if (out->len > max) {
		p = g_utf8_find_prev_char(out->str, out->str + max + 1);
		g_string_truncate(out, (gsize)(p - out->str));
		caption_trim(out, trim);
	}
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

/*
 * Length of s[0..len) without its extension: a dot, then 1-5 ASCII
 * letters and digits with at least one letter ("1.5" keeps its ".5",
 * "活动.现场" its "现场"; ".jpg" is all extension).
 */
size_t
caption_stem_len(const char *s, size_t len)
{
	size_t dot, i;
	bool letter = false;

	for (dot = len; dot > 0 && s[dot - 1] != '.'; dot--)
		if (len - dot >= 5)
			return len;
	if (dot == 0 || dot == len)
		return len;
	for (i = dot; i < len; i++) {
		if (!g_ascii_isalnum(s[i]))
			return len;
		letter = letter || g_ascii_isalpha(s[i]);
	}
	return letter ? dot - 1 : len;
}

/* Does s[0..len) end in ".ext" with ext in list? */
static bool
caption_has_ext(const char *s, size_t len, const char *const *list,
		size_t n)
{
	size_t stem = caption_stem_len(s, len);

	return stem < len && caption_in_list(s + stem + 1, len - stem - 1, list,
					     n);
}

/* Does the rest of a name after a camera/app prefix fit kind? */
static bool
caption_rest_fits(const char *rest, enum caption_rest kind)
{
	const char *p, *run = NULL;
	bool digit = false;
	gunichar c;

	for (p = rest;; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (c < 0x80 && g_ascii_isalpha((char)c)) {
			if (run == NULL)
				run = p;
			continue;
		}
		if (run != NULL) {
			if (kind == REST_DIGITS)
				return false;
			if (kind == REST_WEAK && p - run > 2 &&
			    !caption_in_list(run, (size_t)(p - run), caption_tags,
					     G_N_ELEMENTS(caption_tags)))
				return false;
			run = NULL;
		}
		if (c == 0)
			break;
		if (g_unichar_isdigit(c))
			digit = true;
		else if (g_unichar_isalpha(c))
			return false;
	}
	return kind != REST_DIGITS || digit;
}

/* Is the stem (clean UTF-8) a camera or app default, not a caption? */
bool
caption_is_default(const char *stem)
{
	const char *p;
	unsigned hex = 0;
	bool alpha = false, digit = false, other = false;
	gunichar c;
	size_t i;

	for (p = stem; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		alpha = alpha || g_unichar_isalpha(c);
		if (c < 0x80 && g_ascii_isxdigit((char)c)) {
			hex++;
			digit = digit || g_ascii_isdigit((char)c);
		} else if (c != '-' && c != '_' && c != '{' && c != '}') {
			other = true;
		}
	}
	if (!alpha)
		return true;	/* digits and punctuation only */
	if (!other && digit && hex >= 16)
		return true;	/* a UUID or a hash */
	for (i = 0; i < G_N_ELEMENTS(caption_defaults); i++)
		if (caption_starts(stem, caption_defaults[i].prefix) &&
		    caption_rest_fits(stem + strlen(caption_defaults[i].prefix),
				      caption_defaults[i].rest))
			return true;
	return false;
}

/* Length of s[0..len) without a trailing copy mark: "(1)", "（2）",
 * "副本", "拷贝", " - Copy". */
static size_t
caption_copy_mark(const char *s, size_t len)
{
	size_t close, i, n = 0;

	close = len > 0 && s[len - 1] == ')' ? 1 :
		caption_ends(s, len, "）") ? strlen("）") : 0;
	if (close > 0) {
		for (i = len - close; i > 0 && n <= 3 &&
		     g_ascii_isdigit(s[i - 1]); i--)
			n++;
		if (n == 0 || n > 3)
			return len;
		if (i >= 1 && s[i - 1] == '(')
			return i - 1;
		if (caption_ends(s, i, "（"))
			return i - strlen("（");
		return len;
	}
	if (caption_ends(s, len, "副本"))
		return len - strlen("副本");
	if (caption_ends(s, len, "拷贝"))
		return len - strlen("拷贝");
	if (len > 4 && g_ascii_strncasecmp(s + len - 4, "copy", 4) == 0 &&
	    (s[len - 5] == ' ' || s[len - 5] == '-' || s[len - 5] == '_'))
		return len - 4;
	return len;
}

/* Cuts the marks a copy of a file gets from the end of s, in place. */
void
caption_strip_copy(char *s)
{
	size_t len = strlen(s), cut;
	unsigned round;

	for (round = 0; round < 4; round++) {
		cut = caption_copy_mark(s, len);
		if (cut == len)
			break;
		len = cut;
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '-' ||
				   s[len - 1] == '_'))
			len--;
	}
	s[len] = '\0';
}

const char *
caption_skip_spaces(const char *p)
{
	while (*p == ' ')
		p++;
	return p;
}

/* The value of a Chinese digit, or -1. */
static int
caption_cjk_digit(gunichar c)
{
	static const gunichar digits[] = { 0x3007, 0x4e00, 0x4e8c, 0x4e09,
					   0x56db, 0x4e94, 0x516d, 0x4e03,
					   0x516b, 0x4e5d }; /* 〇一二三四五六七八九 */
	int i;

	for (i = 0; i < 10; i++)
		if (digits[i] == c)
			return i;
	if (c == 0x4e24) /* 两 */
		return 2;
	return -1;
}

/*
 * The number at *pp: 1-3 ASCII or full-width digits, or (cjk) a Chinese
 * numeral up to 九十九; *pp moves past it.  0 when there is none.
 */
static unsigned
caption_number(const char **pp, bool cjk)
{
	const char *p = *pp;
	unsigned n = 0, digits = 0, tens = 0, units = 0;
	bool ten = false, unit = false;
	gunichar c;
	int d;

	for (;; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (c >= '0' && c <= '9')
			d = (int)(c - '0');
		else if (c >= 0xff10 && c <= 0xff19) /* ０-９ */
			d = (int)(c - 0xff10);
		else
			break;
		if (++digits > 3)
			return 0;
		n = n * 10 + (unsigned)d;
	}
	if (digits > 0) {
		*pp = p;
		return n;
	}
	if (!cjk)
		return 0;
	for (digits = 0; digits < 3; digits++, p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (c == 0x5341 && !ten) { /* 十 */
			ten = true;
			tens = unit ? units : 1;
			units = 0;
			unit = false;
		} else if ((d = caption_cjk_digit(c)) > 0 && !unit) {
			units = (unsigned)d;
			unit = true;
		} else {
			break;
		}
	}
	n = ten ? tens * 10 + units : units;
	if (n > 0)
		*pp = p;
	return n;
}

/* After a photo number: skip a separator, if any; in a body also "为"
 * or "是" ("图1为开幕式现场").  Returns the text that follows. */
const char *
caption_after_number(const char *p, bool body)
{
	static const char *const seps[] = { "：", ":", "、", "．", ".", "，",
					    ",", "-", "—", "_" };
	size_t i;

	p = caption_skip_spaces(p);
	for (i = 0; i < G_N_ELEMENTS(seps); i++)
		if (caption_starts(p, seps[i]))
			return caption_skip_spaces(p + strlen(seps[i]));
	if (body && (caption_starts(p, "为") || caption_starts(p, "為") ||
		     caption_starts(p, "是")))
		return caption_skip_spaces(p + strlen("为"));
	return p;
}

/* Is c a measure word: "图片3张" counts photos, it does not number one. */
static bool
caption_is_measure(gunichar c)
{
	return c == 0x5f20 || c == 0x5e45 || c == 0x4e2a || c == 0x4efd ||
	       c == 0x6bb5 || c == 0x7ec4 || /* 张幅个份段组 */
	       c == 0x5f35 || c == 0x500b || c == 0x7d44; /* 張個組 */
}

/*
 * Numbering at the start of s (clean UTF-8): 图1：, 图 2., 图三, 第4张：,
 * ①, （1）, (1), 1、, 1., 1．, 1：, and in a file name also "01-", "01_",
 * "1 ", "附件1".  Returns the number and sets *rest_r to the text after
 * it, or returns 0.
 */
unsigned
caption_numbering(const char *s, bool body, const char **rest_r)
{
	const char *p;
	unsigned n;
	gunichar c;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(caption_words); i++) {
		if ((body && !caption_words[i].in_body) ||
		    !caption_starts(s, caption_words[i].word))
			continue;
		p = caption_skip_spaces(s + strlen(caption_words[i].word));
		if ((n = caption_number(&p, true)) == 0 ||
		    caption_is_measure(g_utf8_get_char(p)))
			continue;
		*rest_r = caption_after_number(p, body);
		return n;
	}
	if (caption_starts(s, "第")) {
		p = caption_skip_spaces(s + strlen("第"));
		if ((n = caption_number(&p, true)) == 0)
			return 0;
		p = caption_skip_spaces(p);
		if (!caption_starts(p, "张") && !caption_starts(p, "張") &&
		    !caption_starts(p, "幅"))
			return 0;
		p += strlen("张");
		if (caption_starts(p, "图片") || caption_starts(p, "照片") ||
		    caption_starts(p, "圖片"))
			p += strlen("图片");
		else if (caption_starts(p, "图") || caption_starts(p, "圖"))
			p += strlen("图");
		*rest_r = caption_after_number(p, body);
		return n;
	}
	c = g_utf8_get_char(s);
	if (c >= 0x2460 && c <= 0x249b) { /* ①-⑳, ⑴-⒇, ⒈-⒛ */
		*rest_r = caption_after_number(g_utf8_next_char(s), body);
		return (c - 0x2460) % 20 + 1;
	}
	if (c == '(' || c == 0xff08 || c == '[' || c == 0x3010) {
		p = caption_skip_spaces(g_utf8_next_char(s));
		if ((n = caption_number(&p, false)) == 0)
			return 0;
		p = caption_skip_spaces(p);
		c = g_utf8_get_char(p);
		if (c != ')' && c != 0xff09 && c != ']' && c != 0x3011)
			return 0;
		*rest_r = caption_after_number(g_utf8_next_char(p), body);
		return n;
	}
	p = s;
	if ((n = caption_number(&p, false)) == 0)
		return 0;
	c = g_utf8_get_char(p);
	switch (c) {
	case 0x3001: /* 、 */
	case ')':
	case 0xff09: /* ） */
		break;
	case '.':
	case ':':
	case 0xff0e: /* ． */
	case 0xff1a: /* ： */
		if (g_ascii_isdigit(*g_utf8_next_char(p)))
			return 0; /* 1.5米, 10:30 */
		break;
	case ' ':
	case '-':
	case '_':
		if (body)
			return 0;
		break;
	default:
		return 0;
	}
	*rest_r = caption_skip_spaces(g_utf8_next_char(p));
	return n;
}

bool
caption_is_media_ext(const char *ext, size_t len)
{
	return caption_in_list(ext, len, caption_media_ext,
			       G_N_ELEMENTS(caption_media_ext));
}

bool
caption_is_media_name(const char *s, size_t len)
{
	return caption_has_ext(s, len, caption_media_ext,
			       G_N_ELEMENTS(caption_media_ext));
}

bool
caption_is_file_name(const char *s, size_t len)
{
	return caption_is_media_name(s, len) ||
	       caption_has_ext(s, len, caption_file_ext,
			       G_N_ELEMENTS(caption_file_ext));
}
