/*
 * mimetext.h - text bodies to UTF-8, HTML to plain text (pure: no I/O)
 *
 * Helpers of message.c, kept apart so they are tested with plain
 * strings.  Every result is newly allocated, valid UTF-8, never NULL,
 * at most max bytes long (cut at a character boundary), and belongs to
 * the caller (g_free()).
 */
#ifndef INTAKE_MIMETEXT_H
#define INTAKE_MIMETEXT_H

#include "common.h"

/* The name iconv should use for a charset label: gb2312, gbk, x-gbk,
 * cp936, euc-cn and friends are read as GB18030 (a superset that real
 * mail labelled gb2312 needs); other labels are returned as given.
 * NULL for NULL or "". */
const char *mimetext_charset(const char *label);

/* Converts len bytes in charset to UTF-8.  A missing, unknown or
 * us-ascii label, and UTF-8 that does not validate, are guessed with
 * the fallback charsets UTF-8 then GB18030 (GMime's decode_8bit).
 * Bytes that do not convert become U+FFFD. */
char *mimetext_to_utf8(const char *charset, const char *data, size_t len,
		       size_t max);

/* HTML (UTF-8) to plain text: tags stripped, script/style/head content
 * dropped, br/p/div/tr/li/h1-h6 and friends become line breaks, runs of
 * white space collapse, the common named entities and numeric
 * references decoded.  Linear in len. */
char *mimetext_html_to_text(const char *html, size_t len, size_t max);

/* Cuts s (a GString holding UTF-8) to at most max bytes at a character
 * boundary and replaces invalid sequences with U+FFFD. */
void mimetext_clamp(GString *s, size_t max);

/*
 * A header value with every run of adjacent base64 encoded words of one
 * charset ("=?utf-8?B?SGVsbG8=?= =?utf-8?B?IHdvcmxk?=") made one word,
 * when a word other than the last ends in '=' padding; NULL when there
 * is nothing to join.  GMime 3.2.13 (Debian 12) joins such a run's base64
 * text before decoding it and so loses everything after the first
 * padding (GMime issue #133, fixed after 3.2.13): Outlook and Python
 * split a long Chinese subject or file name that way.  Words without
 * padding are joined by their text, as GMime does, so a character split
 * between two words ("5Lit5" "paH") still decodes.  At most
 * MIMETEXT_HEADER_MAX bytes of value are looked at.
 */
#define MIMETEXT_HEADER_MAX (256 * 1024)
char *mimetext_join_b_words(const char *value);

#endif
