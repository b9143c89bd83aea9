/*
 * caption.c - short texts for photos (pure: no I/O)
 *
 * How captions are found (README section):
 *
 *   The notice asks for a short text with every photo ("配简要文字说明").
 *   intake takes it from two places, body lines first:
 *
 *   1. Lines in the mail body.  A line gives the caption of one photo,
 *      referred to by number or by file name:
 *        图1：开幕式现场        图 2. 专题讲座        图三：质量咨询台
 *        照片4：…   图片5：…   第6张：…   图1为…
 *        1、…   1. …   1．…   （1）…   (1) …   ①…⑳
 *        IMG_1234.jpg：…   IMG_1234：…   “活动现场.jpg”：…
 *      Colons may be full-width or ASCII, spaces are optional, and one
 *      body may mix the styles.  A number is the photo's position: in the
 *      same message, the order of its photos; in a later message, the
 *      unit's photo number (as listed in the reply).  A file name matches
 *      with or without its extension, in any letter case.
 *      Not read as captions: quoted lines ("> …"), lines over 300 bytes,
 *      lines that list an attachment ("1、活动总结.docx") or count
 *      ("图片6张"), times and decimals ("10:30", "1.5米"), and everything
 *      after a signature ("-- ") or a quoted original ("-----Original
 *      Message-----", "------------------ 原始邮件 ------------------",
 *      "在 2022年9月30日，… 写道：", "发件人：…"), so a reply that
 *      quotes our reply never feeds captions back.  At most 100 caption
 *      lines of one body are taken.
 *      When one number or name is given twice, the first line counts.
 *      A number with no such photo, or a name that matches no photo (or
 *      two photos), is ignored.
 *
 *   2. The file name, when it is descriptive: "开幕式现场.jpg" gives
 *      "开幕式现场"; leading numbering ("01-", "1、", "图1 ") is dropped.
 *      Camera and app defaults are not captions: IMG_1234,
 *      IMG20220915123456, IMG-20220915-WA0001, DSC_0001, DSCN0001,
 *      P1010001, PXL_…, MVIMG_…, 微信图片_2022…, mmexport…, Screenshot…,
 *      截图…, 屏幕截图…, QQ图片…, wx_camera_…, photo_…, image001, 图片1,
 *      附件1, names of digits and punctuation only, UUID or hash names.
 *
 *   A caption from the body replaces one taken from a file name, also
 *   for photos sent in an earlier message.  Captions are at most 200
 *   bytes (CAPTION_MAX_BYTES), cut at a character boundary.
 */
#include <string.h>

#include "caption.h"
#include "caption_text.h"

#define CAPTION_MAX_REFS 100     /* refs taken from one body */
#define CAPTION_MAX_LINE 300     /* longer lines are prose, not captions */
#define CAPTION_MAX_NAME 255     /* bytes of a referenced file name */
#define CAPTION_MAX_FILENAME 1024 /* bytes of a file name considered */

/* Words in a rule of dashes that introduces a quoted original mail:
 * "-----Original Message-----" (Outlook), "---- Original ----"
 * (Foxmail), "---- 原始邮件 ----" (QQ Mail), "-----邮件原件-----". */
static const char *const caption_quote_marks[] = {
	"original", "原始邮件", "原邮件", "forwarded message", "转发邮件",
	"转发的邮件", "邮件原件",
};

/* ASCII case-insensitive search, bounded by the haystack's NUL. */
static bool
caption_contains(const char *s, const char *needle)
{
	for (; *s != '\0'; s++)
		if (caption_starts(s, needle))
			return true;
	return false;
}

/* A file name without its folders (an archive member's "dir/a.jpg") and
 * its extension, clean; NULL when nothing is left. */
static char *
caption_stem(const char *filename)
{
	const char *base, *p;
	char *clean;

	for (base = p = filename; *p != '\0'; p++)
		if (*p == '/' || *p == '\\')
			base = p + 1;
	clean = caption_clean(base, strnlen(base, CAPTION_MAX_FILENAME), NULL,
			      CAPTION_MAX_FILENAME);
	if (clean != NULL)
		clean[caption_stem_len(clean, strlen(clean))] = '\0';
	return clean;
}

char *
caption_from_filename(const char *filename)
{
	g_autofree char *clean = NULL;
	const char *rest = NULL;

	if (filename == NULL || (clean = caption_stem(filename)) == NULL)
		return NULL;
	caption_strip_copy(clean);
	if (*clean == '\0' || caption_is_default(clean))
		return NULL;
	if (caption_numbering(clean, false, &rest) == 0)
		rest = clean;
	if (*rest == '\0' || caption_is_default(rest))
		return NULL;
	return caption_clean(rest, strlen(rest), "-_.、,，;；:：",
			     CAPTION_MAX_BYTES);
}

void
caption_ref_free(struct caption_ref *ref)
{
	if (ref == NULL)
		return;
	g_free(ref->filename);
	g_free(ref->text);
	g_free(ref);
}

static void
caption_ref_destroy(gpointer ref)
{
	caption_ref_free(ref);
}

/* Does a clean line start a quoted original or a forwarded mail? */
static bool
caption_is_quote_start(const char *t)
{
	size_t len = strlen(t), i;

	if (caption_starts(t, "--") || caption_starts(t, "—")) {
		for (i = 0; i < G_N_ELEMENTS(caption_quote_marks); i++)
			if (caption_contains(t, caption_quote_marks[i]))
				return true;
	}
	if (len >= 10 && strspn(t, "_") == len)
		return true; /* Outlook's rule above its quoted header */
	if (caption_ends(t, len, "写道：") || caption_ends(t, len, "写道:"))
		return true;
	if (caption_starts(t, "on ") && caption_ends(t, len, "wrote:"))
		return true;
	return caption_starts(t, "发件人：") || caption_starts(t, "发件人:") ||
	       caption_starts(t, "from:");
}

/* The first colon, full-width or ASCII, in t, or NULL. */
static const char *
caption_first_colon(const char *t)
{
	const char *full = strstr(t, "："), *half = strchr(t, ':');

	if (full == NULL || (half != NULL && half < full))
		return half;
	return full;
}

/* Skips the colon after a name; NULL when there is none. */
static const char *
caption_skip_colon(const char *p)
{
	p = caption_skip_spaces(p);
	if (*p == ':')
		return caption_skip_spaces(p + 1);
	if (caption_starts(p, "："))
		return caption_skip_spaces(p + strlen("："));
	return NULL;
}

/* A quoted file name at the start of t: “活动现场.jpg”：…  The colon may
 * be left out after a name with a media extension.  Sets *rest_r to the
 * text after it. */
static char *
caption_quoted_name(const char *t, const char **rest_r)
{
	static const char *const pairs[][2] = {
		{ "“", "”" }, { "\"", "\"" }, { "「", "」" }, { "『", "』" },
		{ "《", "》" }, { "‘", "’" }, { "'", "'" },
	};
	g_autofree char *name = NULL;
	const char *p, *close, *rest;
	size_t i;

	for (i = 0; i < G_N_ELEMENTS(pairs); i++) {
		if (!caption_starts(t, pairs[i][0]))
			continue;
		p = t + strlen(pairs[i][0]);
		close = strstr(p, pairs[i][1]);
		if (close == NULL || close == p ||
		    (size_t)(close - p) > CAPTION_MAX_NAME)
			return NULL;
		name = caption_clean(p, (size_t)(close - p), NULL,
				     CAPTION_MAX_NAME);
		if (name == NULL)
			return NULL;
		close += strlen(pairs[i][1]);
		rest = caption_skip_colon(close);
		if (rest == NULL && caption_is_media_name(name, strlen(name)))
			rest = caption_after_number(close, false);
		if (rest == NULL)
			return NULL;
		*rest_r = rest;
		return g_steal_pointer(&name);
	}
	return NULL;
}

/* A name with a media extension at the start of t, followed by a
 * separator or a space: "IMG_1234.jpg：…", "活动 现场.JPG 开幕式".  A
 * leading number is not part of it ("1、IMG_1234.jpg：…"); a name after
 * a colon is ("图1：开幕式（IMG_1.jpg）" is by number). */
static char *
caption_ext_name(const char *t, const char **rest_r)
{
	g_autofree char *name = NULL;
	const char *dot, *end, *inner, *colon;
	size_t n;

	colon = caption_first_colon(t);
	for (dot = strchr(t, '.'); dot != NULL && dot - t <= CAPTION_MAX_NAME &&
	     (colon == NULL || dot < colon); dot = strchr(dot + 1, '.')) {
		for (end = dot + 1; g_ascii_isalnum(*end); end++)
			;
		n = (size_t)(end - dot - 1);
		if (dot == t || n == 0 || g_ascii_isalnum(*end) ||
		    *end == '.' || *end == '_' ||
		    !caption_is_media_ext(dot + 1, n))
			continue;
		name = caption_clean(t, (size_t)(end - t), NULL,
				     CAPTION_MAX_NAME);
		if (name == NULL)
			return NULL;
		if (caption_numbering(name, true, &inner) > 0 &&
		    caption_is_media_name(inner, strlen(inner)))
			memmove(name, inner, strlen(inner) + 1);
		*rest_r = caption_after_number(end, false);
		return g_steal_pointer(&name);
	}
	return NULL;
}

static bool
caption_has_letter_and_digit(const char *s)
{
	bool letter = false, digit = false;
	gunichar c;

	for (; *s != '\0'; s = g_utf8_next_char(s)) {
		c = g_utf8_get_char(s);
		letter = letter || g_unichar_isalpha(c);
		digit = digit || g_unichar_isdigit(c);
	}
	return letter && digit;
}

/* A camera or app default name before a colon: "IMG_1234：…", not
 * "10:30". */
static char *
caption_default_name(const char *t, const char **rest_r)
{
	const char *colon = caption_first_colon(t);
	g_autofree char *name = NULL;

	if (colon == NULL || colon == t ||
	    (size_t)(colon - t) > CAPTION_MAX_NAME)
		return NULL;
	name = caption_clean(t, (size_t)(colon - t), NULL, CAPTION_MAX_NAME);
	if (name == NULL || !caption_is_default(name) ||
	    !caption_has_letter_and_digit(name))
		return NULL;
	*rest_r = caption_skip_colon(colon);
	return g_steal_pointer(&name);
}

/* The caption text of a line's rest, or NULL when it is none. */
static char *
caption_text(const char *rest)
{
	char *text = caption_clean(rest, strlen(rest), "；;，,、。",
				   CAPTION_MAX_BYTES);
	size_t len;

	if (text == NULL)
		return NULL;
	len = strlen(text);
	if (caption_is_file_name(text, len)) {
		g_free(text);
		return NULL; /* "1、活动总结.docx" lists an attachment */
	}
	return text;
}

/* The caption a clean line gives, or NULL. */
static struct caption_ref *
caption_parse_line(const char *t)
{
	struct caption_ref *ref;
	g_autofree char *name = NULL;
	const char *rest = NULL;
	unsigned number = 0;
	char *text;

	if ((name = caption_quoted_name(t, &rest)) == NULL &&
	    (name = caption_ext_name(t, &rest)) == NULL &&
	    (number = caption_numbering(t, true, &rest)) == 0 &&
	    (name = caption_default_name(t, &rest)) == NULL)
		return NULL;
	if ((text = caption_text(rest)) == NULL)
		return NULL;
	ref = g_new0(struct caption_ref, 1);
	ref->number = name != NULL ? 0 : number;
	ref->filename = g_steal_pointer(&name);
	ref->text = text;
	return ref;
}

GPtrArray *
caption_parse_body(const char *body)
{
	GPtrArray *refs = g_ptr_array_new_with_free_func(caption_ref_destroy);
	struct caption_ref *ref;
	const char *p, *eol;
	size_t len;

	if (body == NULL)
		return refs;
	for (p = body; *p != '\0' && refs->len < CAPTION_MAX_REFS;
	     p = *eol == '\0' ? eol : eol + 1) {
		g_autofree char *t = NULL;

		eol = strchrnul(p, '\n');
		len = (size_t)(eol - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len > CAPTION_MAX_LINE)
			continue;
		t = caption_clean(p, len, NULL, CAPTION_MAX_LINE);
		if (t == NULL)
			continue;
		if (strcmp(t, "--") == 0 || caption_is_quote_start(t))
			break; /* a signature ("-- ") or a quoted mail */
		if (*t == '>' || caption_starts(t, "＞"))
			continue;
		if ((ref = caption_parse_line(t)) != NULL)
			g_ptr_array_add(refs, ref);
	}
	return refs;
}

/* The key a file name is matched by: the base name without extension,
 * trimmed, case-folded. */
static char *
caption_name_key(const char *name)
{
	g_autofree char *clean = NULL;

	if (name == NULL || (clean = caption_stem(name)) == NULL)
		return NULL;
	return g_utf8_casefold(clean, -1);
}

static void
caption_set(struct caption_photo *photo, const char *text)
{
	g_free(photo->caption);
	photo->caption = g_strdup(text);
}

/* The one photo whose name matches key, or -1 (none, or two). */
static gssize
caption_find_name(char **keys, size_t n, const char *key)
{
	gssize found = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		if (keys[i] == NULL || strcmp(keys[i], key) != 0)
			continue;
		if (found >= 0)
			return -1;
		found = (gssize)i;
	}
	return found;
}

unsigned
caption_match(struct caption_photo *photos, size_t n, const GPtrArray *refs)
{
	g_autofree bool *by_ref = g_new0(bool, n);
	char **keys = g_new0(char *, n); /* NULL for a nameless photo */
	const struct caption_ref *ref;
	unsigned count = 0;
	gssize at;
	size_t i, r;

	for (i = 0; i < n; i++)
		keys[i] = caption_name_key(photos[i].name);
	/* By file name first: the sender named the photo. */
	for (r = 0; refs != NULL && r < refs->len; r++) {
		g_autofree char *key = NULL;

		ref = g_ptr_array_index(refs, r);
		if (ref->filename == NULL || ref->text == NULL)
			continue;
		key = caption_name_key(ref->filename);
		if (key == NULL)
			continue;
		at = caption_find_name(keys, n, key);
		if (at < 0 || by_ref[at])
			continue;
		caption_set(&photos[at], ref->text);
		by_ref[at] = true;
		count++;
	}
	/* Then by number; the first line for a number counts. */
	for (r = 0; refs != NULL && r < refs->len; r++) {
		ref = g_ptr_array_index(refs, r);
		if (ref->filename != NULL || ref->number == 0 ||
		    ref->text == NULL)
			continue;
		for (i = 0; i < n && photos[i].number != ref->number; i++)
			;
		if (i == n || by_ref[i])
			continue;
		caption_set(&photos[i], ref->text);
		by_ref[i] = true;
		count++;
	}
	/* Descriptive file names where nothing else gave a caption. */
	for (i = 0; i < n; i++)
		if (photos[i].caption == NULL)
			photos[i].caption = caption_from_filename(photos[i].name);
	for (i = 0; i < n; i++)
		g_free(keys[i]);
	g_free(keys);
	return count;
}
