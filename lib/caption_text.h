/*
 * caption_text.h - the words of captions (internal to caption.c)
 *
 * Every function reads clean UTF-8 (as caption_clean() returns it) unless
 * it says otherwise; returned strings belong to the caller (g_free).
 */
#ifndef INTAKE_CAPTION_TEXT_H
#define INTAKE_CAPTION_TEXT_H

#include "common.h"

/* ASCII case-insensitive prefix test (other bytes compare exactly). */
bool caption_starts(const char *s, const char *prefix);
/* Does s[0..len) end with suffix (bytes)? */
bool caption_ends(const char *s, size_t len, const char *suffix);
const char *caption_skip_spaces(const char *p);

/* s[0..len) (any bytes) made a caption: valid UTF-8, format characters
 * dropped, whitespace runs one space, spaces and the characters of trim
 * cut from both ends, at most max bytes at a character boundary.  NULL
 * when nothing is left. */
char *caption_clean(const char *s, size_t len, const char *trim,
		    size_t max);

/* Length of s[0..len) without its extension (".jpg", not ".5"). */
size_t caption_stem_len(const char *s, size_t len);
/* ext[0..len) is a photo or video extension (any case). */
bool caption_is_media_ext(const char *ext, size_t len);
/* s[0..len) ends in a photo or video extension. */
bool caption_is_media_name(const char *s, size_t len);
/* s[0..len) ends in a media, document or archive extension. */
bool caption_is_file_name(const char *s, size_t len);

/* The stem (no extension) is a camera or app default: IMG_1234,
 * 微信图片_2022…, digits only, a UUID. */
bool caption_is_default(const char *stem);
/* Cuts "(1)", "（2）", " - 副本", " - Copy" from the end, in place. */
void caption_strip_copy(char *s);

/* Numbering at the start of s (图1：, 图三, 第2张, ①, （1）, 1、, and with
 * !body also "01-", "1 ", 附件1): the number, with *rest_r set to the
 * text after it; 0 when s starts with none. */
unsigned caption_numbering(const char *s, bool body, const char **rest_r);
/* Skips spaces and one separator (：、. - …) after a number or name. */
const char *caption_after_number(const char *p, bool body);

#endif
