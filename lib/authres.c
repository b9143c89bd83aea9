/*
 * authres.c - Authentication-Results (RFC 8601), read to trust a From
 *
 * NAME
 *	authres_parse, authres_from_trusted - whose verdict, which results
 *
 * DESCRIPTION
 *	The grammar, much simplified from RFC 8601 §2.2:
 *
 *	    payload  = [CFWS] authserv-id [CFWS version] *(";" resinfo)
 *	    resinfo  = [CFWS] method [CFWS "/" version] [CFWS] "=" [CFWS]
 *	               result [reason] *propspec
 *
 *	where CFWS is white space and (nested (comments)), and a value is a
 *	token or a "quoted string".  Only the authserv-id and the first
 *	word after "method=" are read; reasons and properties are skipped
 *	up to the next ';' that is outside quotes and comments.  The lexer
 *	is one pass over the string: no recursion, no allocation, words
 *	cut at a fixed length.  A header that says "; none" has no
 *	results; one that is not RFC 8601 at all yields what could be read
 *	and never more.
 *
 *	Several results for one method: dmarc=fail wins (a failure is
 *	never hidden by a later pass), dkim=pass wins (one good signature
 *	is enough), spf keeps the first.
 */
#include <string.h>

#include "authres.h"

#define AUTHRES_WORD_MAX 64 /* bytes of a method or result word */

static const struct {
	const char *word;
	enum authres_result result;
} authres_words[] = {
	{ "pass", AUTHRES_PASS },
	{ "fail", AUTHRES_FAIL },
	{ "hardfail", AUTHRES_FAIL }, /* pre-RFC 7001 spelling */
	{ "softfail", AUTHRES_SOFTFAIL },
	{ "neutral", AUTHRES_NEUTRAL },
	{ "none", AUTHRES_NONE },
	{ "temperror", AUTHRES_TEMPERROR },
	{ "permerror", AUTHRES_PERMERROR },
	{ "policy", AUTHRES_POLICY },
};

const char *
authres_result_name(enum authres_result r)
{
	if (r == AUTHRES_ABSENT)
		return "absent";
	for (size_t i = 0; i < G_N_ELEMENTS(authres_words); i++)
		if (authres_words[i].result == r)
			return authres_words[i].word;
	return "other";
}

static enum authres_result
authres_result_of(const char *word)
{
	for (size_t i = 0; i < G_N_ELEMENTS(authres_words); i++)
		if (g_ascii_strcasecmp(word, authres_words[i].word) == 0)
			return authres_words[i].result;
	return AUTHRES_OTHER;
}

/* White space and comments; comments nest, "\x" quotes one character. */
static const char *
authres_cfws(const char *p)
{
	unsigned depth = 0;

	for (; *p != '\0'; p++) {
		if (*p == '(') {
			depth++;
		} else if (depth > 0 && *p == ')') {
			depth--;
		} else if (depth > 0 && *p == '\\') {
			if (p[1] == '\0')
				break;
			p++;
		} else if (depth == 0 && !g_ascii_isspace(*p)) {
			break;
		}
	}
	return p;
}

/* Token characters: RFC 2045 tspecials less '.', '@', ':' and '[]' (a
 * property value such as user@example.com or [192.0.2.1] stays whole). */
static bool
authres_is_token(char c)
{
	return (unsigned char)c > 0x20 && (unsigned char)c != 0x7f &&
	       strchr("()<>,;\\\"/?=", c) == NULL;
}

/* One value (token or quoted string) into buf, cut at size - 1 bytes;
 * returns the position after it (p itself when there is none). */
static const char *
authres_value(const char *p, char *buf, size_t size)
{
	size_t n = 0;

	if (*p == '"') {
		for (p++; *p != '\0' && *p != '"'; p++) {
			if (*p == '\\' && p[1] != '\0')
				p++;
			if (n + 1 < size)
				buf[n++] = *p;
		}
		if (*p == '"')
			p++;
	} else {
		for (; authres_is_token(*p); p++)
			if (n + 1 < size)
				buf[n++] = *p;
	}
	buf[n] = '\0';
	return p;
}

/* Past the next ';' outside quotes and comments (or at the end). */
static const char *
authres_next(const char *p)
{
	char skip[2];

	for (;;) {
		p = authres_cfws(p);
		if (*p == '\0')
			return p;
		if (*p == ';')
			return p + 1;
		if (*p == '"' || authres_is_token(*p))
			p = authres_value(p, skip, sizeof(skip));
		else
			p++;
	}
}

static void
authres_record(struct authres *ar, const char *method, const char *word)
{
	enum authres_result r = authres_result_of(word);

	if (g_ascii_strcasecmp(method, "dmarc") == 0) {
		if (ar->dmarc == AUTHRES_ABSENT || r == AUTHRES_FAIL)
			ar->dmarc = r;
	} else if (g_ascii_strcasecmp(method, "spf") == 0) {
		if (ar->spf == AUTHRES_ABSENT)
			ar->spf = r;
	} else if (g_ascii_strcasecmp(method, "dkim") == 0) {
		if (ar->dkim == AUTHRES_ABSENT || r == AUTHRES_PASS)
			ar->dkim = r;
	}
}

bool
authres_parse(const char *value, struct authres *ar_r)
{
	char method[AUTHRES_WORD_MAX], word[AUTHRES_WORD_MAX];
	const char *p;

	memset(ar_r, 0, sizeof(*ar_r));
	if (value == NULL)
		return false;
	p = authres_value(authres_cfws(value), ar_r->authserv_id,
			  sizeof(ar_r->authserv_id));
	if (ar_r->authserv_id[0] == '\0')
		return false;
	for (p = authres_next(p); *p != '\0'; p = authres_next(p)) {
		p = authres_cfws(p);
		p = authres_value(p, method, sizeof(method));
		p = authres_cfws(p);
		if (*p == '/') {
			p = authres_cfws(p + 1);
			p = authres_value(p, word, sizeof(word));
			p = authres_cfws(p);
		}
		if (method[0] == '\0' || *p != '=')
			continue; /* "; none", or not a result */
		p = authres_cfws(p + 1);
		p = authres_value(p, word, sizeof(word));
		if (word[0] != '\0')
			authres_record(ar_r, method, word);
	}
	return true;
}

bool
authres_from_trusted(const char *value, const char *authserv_id)
{
	struct authres ar;
	bool spf_failed, dkim_failed;

	if (authserv_id == NULL || *authserv_id == '\0' ||
	    !authres_parse(value, &ar) ||
	    g_ascii_strcasecmp(ar.authserv_id, authserv_id) != 0)
		return true;
	if (ar.dmarc == AUTHRES_FAIL)
		return false;
	spf_failed = ar.spf == AUTHRES_FAIL || ar.spf == AUTHRES_SOFTFAIL;
	dkim_failed = ar.dkim != AUTHRES_ABSENT && ar.dkim != AUTHRES_PASS &&
		      ar.dkim != AUTHRES_TEMPERROR;
	return !(spf_failed && dkim_failed);
}
