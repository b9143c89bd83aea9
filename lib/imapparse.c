/*
 * imapparse.c - pure parsing of IMAP server lines (RFC 3501, RFC 9051)
 *
 * A line is scanned with a cursor (struct scan) that never reads past
 * its end; every number is range-checked; a FETCH with an item we did not
 * ask for, a literal, or a repeated item is refused rather than skipped,
 * since the driver only ever asks for UID FLAGS INTERNALDATE RFC822.SIZE.
 * Keywords of the protocol are case-insensitive, as RFC 3501 §9 says.
 */
#include <inttypes.h>
#include <string.h>

#include "imapparse.h"

#define IMAPPARSE_MAX_FLAGS 256
#define IMAPPARSE_MAX_CAPS 256
#define IMAPPARSE_MAX_FLAG_LEN 128

struct scan {
	const char *p;
	const char *end;
};

/* Sets up sc over line without its CRLF; false if the line has a NUL. */
static bool
scan_init(struct scan *sc, const char *line, size_t len)
{
	if (line == NULL || memchr(line, '\0', len) != NULL)
		return false;
	if (len > 0 && line[len - 1] == '\n')
		len--;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	sc->p = line;
	sc->end = line + len;
	return true;
}

static bool
scan_eof(const struct scan *sc)
{
	return sc->p >= sc->end;
}

static bool
scan_char(struct scan *sc, char c)
{
	if (scan_eof(sc) || *sc->p != c)
		return false;
	sc->p++;
	return true;
}

/* A protocol keyword, case-insensitively. */
static bool
scan_word(struct scan *sc, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(sc->end - sc->p) < n ||
	    g_ascii_strncasecmp(sc->p, word, n) != 0)
		return false;
	sc->p += n;
	return true;
}

/* Decimal digits into a value no greater than max. */
static bool
scan_number(struct scan *sc, uint64_t max, uint64_t *value_r)
{
	uint64_t v = 0;
	const char *start = sc->p;

	while (!scan_eof(sc) && g_ascii_isdigit(*sc->p)) {
		unsigned d = (unsigned)(*sc->p - '0');

		if (v > (max - d) / 10)
			return false;
		v = v * 10 + d;
		sc->p++;
	}
	if (sc->p == start)
		return false;
	*value_r = v;
	return true;
}

static bool
scan_nz32(struct scan *sc, uint32_t *value_r)
{
	uint64_t v;

	if (!scan_number(sc, UINT32_MAX, &v) || v == 0)
		return false;
	*value_r = (uint32_t)v;
	return true;
}

/* ATOM-CHAR: any CHAR except atom-specials (RFC 3501 §9). */
static bool
is_atom_char(char c)
{
	if ((unsigned char)c <= 0x20 || (unsigned char)c >= 0x7f)
		return false;
	return strchr("(){%*\"\\]", c) == NULL;
}

/* "* " at the start of an untagged line. */
static bool
scan_untagged(struct scan *sc)
{
	return scan_char(sc, '*') && scan_char(sc, ' ');
}

bool
imapparse_search(const char *line, size_t len, GArray *uids, size_t max)
{
	struct scan sc;
	guint old_len = uids->len;

	if (!scan_init(&sc, line, len) || !scan_untagged(&sc) ||
	    !scan_word(&sc, "SEARCH"))
		return false;
	while (!scan_eof(&sc)) {
		uint32_t uid;

		if (!scan_char(&sc, ' '))
			goto fail;
		if (scan_char(&sc, '(')) {
			uint64_t modseq;

			/* RFC 7162: "(MODSEQ n)" ends the response */
			if (!scan_word(&sc, "MODSEQ ") ||
			    !scan_number(&sc, INT64_MAX, &modseq) ||
			    !scan_char(&sc, ')') || !scan_eof(&sc))
				goto fail;
			break;
		}
		if (!scan_nz32(&sc, &uid) || uids->len - old_len >= max)
			goto fail;
		g_array_append_val(uids, uid);
	}
	return true;
fail:
	g_array_set_size(uids, old_len);
	return false;
}

void
imapparse_fetch_clear(struct imapparse_fetch *fetch)
{
	g_free(fetch->flags);
	memset(fetch, 0, sizeof(*fetch));
}

/* "(\Seen $Filed)" into a space-separated string. */
static bool
scan_flag_list(struct scan *sc, char **flags_r, bool *seen_r)
{
	g_autoptr(GString) flags = g_string_new(NULL);
	unsigned n = 0;

	*seen_r = false;
	if (!scan_char(sc, '('))
		return false;
	while (!scan_char(sc, ')')) {
		const char *start;

		if (n > 0 && !scan_char(sc, ' '))
			return false;
		if (n++ >= IMAPPARSE_MAX_FLAGS)
			return false;
		start = sc->p;
		scan_char(sc, '\\');
		while (!scan_eof(sc) && is_atom_char(*sc->p))
			sc->p++;
		/* "\" alone or an empty name is not a flag */
		if (sc->p == start || (sc->p == start + 1 && *start == '\\'))
			return false;
		if ((size_t)(sc->p - start) == 5 &&
		    g_ascii_strncasecmp(start, "\\Seen", 5) == 0)
			*seen_r = true;
		if (flags->len > 0)
			g_string_append_c(flags, ' ');
		g_string_append_len(flags, start, sc->p - start);
	}
	*flags_r = g_string_free(g_steal_pointer(&flags), FALSE);
	return true;
}

/* A quoted INTERNALDATE; no escapes can occur in a valid one. */
static bool
scan_internaldate(struct scan *sc, int64_t *time_r)
{
	const char *start;

	if (!scan_char(sc, '"'))
		return false;
	start = sc->p;
	while (!scan_eof(sc) && *sc->p != '"') {
		if (sc->p - start > 40)
			return false;
		sc->p++;
	}
	if (!imapparse_date_time(start, (size_t)(sc->p - start), time_r))
		return false;
	return scan_char(sc, '"');
}

enum fetch_item {
	ITEM_UID = 1 << 0,
	ITEM_FLAGS = 1 << 1,
	ITEM_INTERNALDATE = 1 << 2,
	ITEM_SIZE = 1 << 3,
	ITEM_MODSEQ = 1 << 4,
};

static bool
scan_fetch_item(struct scan *sc, struct imapparse_fetch *f, unsigned *seen)
{
	unsigned item;
	uint64_t v;

	if (scan_word(sc, "UID "))
		item = ITEM_UID;
	else if (scan_word(sc, "FLAGS "))
		item = ITEM_FLAGS;
	else if (scan_word(sc, "INTERNALDATE "))
		item = ITEM_INTERNALDATE;
	else if (scan_word(sc, "RFC822.SIZE "))
		item = ITEM_SIZE;
	else if (scan_word(sc, "MODSEQ "))
		item = ITEM_MODSEQ;
	else
		return false;
	if (*seen & item)
		return false;
	*seen |= item;
	switch (item) {
	case ITEM_UID:
		return scan_nz32(sc, &f->uid);
	case ITEM_FLAGS:
		return scan_flag_list(sc, &f->flags, &f->seen);
	case ITEM_INTERNALDATE:
		f->has_internaldate = scan_internaldate(sc, &f->internaldate);
		return f->has_internaldate;
	case ITEM_SIZE:
		f->has_size = scan_number(sc, INT64_MAX, &f->size);
		return f->has_size;
	default:
		return scan_char(sc, '(') && scan_number(sc, INT64_MAX, &v) &&
		       scan_char(sc, ')');
	}
}

bool
imapparse_fetch(const char *line, size_t len,
		struct imapparse_fetch *fetch_r)
{
	struct scan sc;
	unsigned seen = 0;

	memset(fetch_r, 0, sizeof(*fetch_r));
	if (!scan_init(&sc, line, len) || !scan_untagged(&sc) ||
	    !scan_nz32(&sc, &fetch_r->seq) || !scan_word(&sc, " FETCH ("))
		goto fail;
	do {
		if (!scan_fetch_item(&sc, fetch_r, &seen))
			goto fail;
	} while (scan_char(&sc, ' '));
	if (!scan_char(&sc, ')') || !scan_eof(&sc))
		goto fail;
	return true;
fail:
	imapparse_fetch_clear(fetch_r);
	return false;
}

bool
imapparse_header_literal(const char *line, size_t len, uint32_t *uid_r,
			 uint64_t *size_r)
{
	struct imapparse_fetch f;
	struct scan sc;
	unsigned seen = 0;
	uint64_t origin;
	bool ok = false;

	memset(&f, 0, sizeof(f));
	if (!scan_init(&sc, line, len) || !scan_untagged(&sc) ||
	    !scan_nz32(&sc, &f.seq) || !scan_word(&sc, " FETCH ("))
		goto out;
	/* items before it: UID and, from a server that reports them, FLAGS
	 * or MODSEQ */
	while (!scan_word(&sc, "BODY[HEADER]")) {
		if (!scan_fetch_item(&sc, &f, &seen) || !scan_char(&sc, ' '))
			goto out;
	}
	if (scan_char(&sc, '<') &&
	    (!scan_number(&sc, UINT32_MAX, &origin) || !scan_char(&sc, '>')))
		goto out;
	if (!scan_word(&sc, " {") ||
	    !scan_number(&sc, IMAPPARSE_MAX_LITERAL, size_r) ||
	    !scan_char(&sc, '}') || !scan_eof(&sc))
		goto out;
	*uid_r = f.uid;
	ok = true;
out:
	imapparse_fetch_clear(&f);
	return ok;
}

bool
imapparse_is_fetch(const char *line, size_t len)
{
	struct scan sc;
	uint32_t seq;

	return scan_init(&sc, line, len) && scan_untagged(&sc) &&
	       scan_nz32(&sc, &seq) && scan_word(&sc, " FETCH") &&
	       (scan_eof(&sc) || *sc.p == ' ');
}

bool
imapparse_uidvalidity(const char *line, size_t len, uint32_t *uidvalidity_r)
{
	struct scan sc;

	return scan_init(&sc, line, len) && scan_untagged(&sc) &&
	       scan_word(&sc, "OK [UIDVALIDITY ") &&
	       scan_nz32(&sc, uidvalidity_r) && scan_char(&sc, ']');
}

/* "* n WORD" and nothing after it. */
static bool
parse_numbered(const char *line, size_t len, const char *word,
	       uint64_t *n_r)
{
	struct scan sc;

	return scan_init(&sc, line, len) && scan_untagged(&sc) &&
	       scan_number(&sc, UINT32_MAX, n_r) && scan_char(&sc, ' ') &&
	       scan_word(&sc, word) && scan_eof(&sc);
}

bool
imapparse_exists(const char *line, size_t len, uint32_t *exists_r)
{
	uint64_t n;

	if (!parse_numbered(line, len, "EXISTS", &n))
		return false;
	*exists_r = (uint32_t)n;
	return true;
}

bool
imapparse_expunge(const char *line, size_t len, uint32_t *seq_r)
{
	uint64_t n;

	if (!parse_numbered(line, len, "EXPUNGE", &n) || n == 0)
		return false;
	*seq_r = (uint32_t)n;
	return true;
}

/* Space-separated capability names up to the end or a ']'. */
static char **
scan_caps(struct scan *sc, bool bracketed)
{
	g_autoptr(GPtrArray) caps = g_ptr_array_new_with_free_func(g_free);

	do {
		const char *start = sc->p;

		while (!scan_eof(sc) && is_atom_char(*sc->p))
			sc->p++;
		if (sc->p == start || caps->len >= IMAPPARSE_MAX_CAPS)
			return NULL;
		g_ptr_array_add(caps, g_ascii_strup(start, sc->p - start));
	} while (scan_char(sc, ' '));
	if (bracketed ? !scan_char(sc, ']') : !scan_eof(sc))
		return NULL;
	g_ptr_array_add(caps, NULL);
	return (char **)g_ptr_array_free(g_steal_pointer(&caps), FALSE);
}

char **
imapparse_capability(const char *line, size_t len)
{
	struct scan sc;

	if (!scan_init(&sc, line, len))
		return NULL;
	if (scan_untagged(&sc)) {
		if (scan_word(&sc, "CAPABILITY "))
			return scan_caps(&sc, false);
		if (!scan_word(&sc, "OK "))
			return NULL;
	} else {
		/* a tag, then OK */
		while (!scan_eof(&sc) && is_atom_char(*sc.p) && *sc.p != '+')
			sc.p++;
		if (sc.p == sc.end || sc.p == line || !scan_word(&sc, " OK "))
			return NULL;
	}
	if (!scan_word(&sc, "[CAPABILITY "))
		return NULL;
	return scan_caps(&sc, true);
}

bool
imapparse_has_capability(char *const *caps, const char *name)
{
	for (; caps != NULL && *caps != NULL; caps++)
		if (g_ascii_strcasecmp(*caps, name) == 0)
			return true;
	return false;
}

static const char imapparse_months[12][4] = {
	"Jan", "Feb", "Mar", "Apr", "May", "Jun",
	"Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

/* Exactly n digits. */
static bool
scan_digits(struct scan *sc, unsigned n, int *value_r)
{
	int v = 0;

	for (unsigned i = 0; i < n; i++) {
		if (scan_eof(sc) || !g_ascii_isdigit(*sc->p))
			return false;
		v = v * 10 + (*sc->p++ - '0');
	}
	*value_r = v;
	return true;
}

bool
imapparse_date_time(const char *s, size_t len, int64_t *time_r)
{
	struct scan sc = { s, s + len };
	int day, month = -1, year, hour, min, sec, zh, zm, sign = 1;
	g_autoptr(GDateTime) dt = NULL;

	if (s == NULL || memchr(s, '\0', len) != NULL)
		return false;
	/* date-day-fixed is " 7" or "07"; some servers send "7" */
	scan_char(&sc, ' ');
	if (!scan_digits(&sc, 1, &day))
		return false;
	if (!scan_eof(&sc) && g_ascii_isdigit(*sc.p)) {
		int d2;

		scan_digits(&sc, 1, &d2);
		day = day * 10 + d2;
	}
	if (!scan_char(&sc, '-'))
		return false;
	for (int i = 0; i < 12; i++) {
		if (scan_word(&sc, imapparse_months[i])) {
			month = i + 1;
			break;
		}
	}
	if (month < 0 || !scan_char(&sc, '-') || !scan_digits(&sc, 4, &year) ||
	    !scan_char(&sc, ' ') || !scan_digits(&sc, 2, &hour) ||
	    !scan_char(&sc, ':') || !scan_digits(&sc, 2, &min) ||
	    !scan_char(&sc, ':') || !scan_digits(&sc, 2, &sec) ||
	    !scan_char(&sc, ' '))
		return false;
	if (scan_char(&sc, '-'))
		sign = -1;
	else if (!scan_char(&sc, '+'))
		return false;
	if (!scan_digits(&sc, 2, &zh) || !scan_digits(&sc, 2, &zm) ||
	    !scan_eof(&sc))
		return false;
	if (year < 1 || hour > 23 || min > 59 || sec > 59 || zm > 59)
		return false;
	dt = g_date_time_new_utc(year, month, day, hour, min, sec);
	if (dt == NULL)
		return false;
	*time_r = g_date_time_to_unix(dt) - sign * (zh * 3600 + zm * 60);
	return true;
}

bool
imapparse_search_date(int64_t t, char *buf, size_t size)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc(t);
	int n;

	if (dt == NULL)
		return false;
	n = g_snprintf(buf, size, "%d-%s-%04d",
		       g_date_time_get_day_of_month(dt),
		       imapparse_months[g_date_time_get_month(dt) - 1],
		       g_date_time_get_year(dt));
	return n > 0 && (size_t)n < size;
}

char *
imapparse_mutf7_encode(const char *utf8, GError **error)
{
	g_autoptr(GError) err = NULL;
	char *out;

	if (!g_utf8_validate(utf8, -1, NULL)) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "folder name is not valid UTF-8");
		return NULL;
	}
	out = g_convert(utf8, -1, "UTF-7-IMAP", "UTF-8", NULL, NULL, &err);
	if (out == NULL)
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "folder name \"%s\" cannot be written in modified "
			    "UTF-7: %s", utf8, err->message);
	return out;
}

char *
imapparse_mutf7_decode(const char *mutf7, GError **error)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *back = NULL;
	char *out;

	for (const char *p = mutf7; *p != '\0'; p++) {
		if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e) {
			g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
				    "folder name is not modified UTF-7");
			return NULL;
		}
	}
	out = g_convert(mutf7, -1, "UTF-8", "UTF-7-IMAP", NULL, NULL, &err);
	if (out == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "folder name \"%s\" is not modified UTF-7: %s",
			    mutf7, err->message);
		return NULL;
	}
	/* glibc's decoder also takes what RFC 3501 forbids (an unclosed
	 * "&...", ASCII written in base64): only the canonical form, the
	 * one that encodes back to the same bytes, is accepted */
	back = g_convert(out, -1, "UTF-7-IMAP", "UTF-8", NULL, NULL, NULL);
	if (back == NULL || strcmp(back, mutf7) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "folder name \"%s\" is not canonical modified "
			    "UTF-7", mutf7);
		g_clear_pointer(&out, g_free);
	}
	return out;
}

char *
imapparse_quote(const char *s)
{
	g_autoptr(GString) q = g_string_new("\"");

	for (; *s != '\0'; s++) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return NULL;
		if (*s == '"' || *s == '\\')
			g_string_append_c(q, '\\');
		g_string_append_c(q, *s);
	}
	g_string_append_c(q, '"');
	return g_string_free(g_steal_pointer(&q), FALSE);
}

bool
imapparse_is_flag(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > IMAPPARSE_MAX_FLAG_LEN)
		return false;
	if (*s == '\\') {
		s++;
		n--;
		if (n == 0)
			return false;
	}
	for (; *s != '\0'; s++)
		if (!is_atom_char(*s))
			return false;
	return true;
}

char *
imapparse_uid_set(const uint32_t *uids, size_t n)
{
	GString *set;

	if (n == 0)
		return NULL;
	set = g_string_new(NULL);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j + 1 < n && uids[j + 1] == uids[j] + 1)
			j++;
		if (set->len > 0)
			g_string_append_c(set, ',');
		if (j == i)
			g_string_append_printf(set, "%" PRIu32, uids[i]);
		else
			g_string_append_printf(set, "%" PRIu32 ":%" PRIu32,
					       uids[i], uids[j]);
		i = j + 1;
	}
	return g_string_free(set, FALSE);
}

static void
copy_token(char *buf, size_t size, const char *start, size_t n)
{
	if (size == 0)
		return;
	if (n >= size)
		n = size - 1;
	memcpy(buf, start, n);
	buf[n] = '\0';
}

bool
imapparse_tagged(const char *line, size_t len, char *status,
		 size_t status_size, char *code, size_t code_size)
{
	struct scan sc;
	const char *start;

	if (!scan_init(&sc, line, len))
		return false;
	/* tag = 1*<any ASTRING-CHAR except "+"> */
	while (!scan_eof(&sc) && (is_atom_char(*sc.p) || *sc.p == ']') &&
	       *sc.p != '+')
		sc.p++;
	if (sc.p == line || !scan_char(&sc, ' '))
		return false;
	start = sc.p;
	if (!scan_word(&sc, "OK") && !scan_word(&sc, "NO") &&
	    !scan_word(&sc, "BAD"))
		return false;
	if (!scan_eof(&sc) && *sc.p != ' ')
		return false;
	copy_token(status, status_size, start, (size_t)(sc.p - start));
	for (char *p = status; status_size > 0 && *p != '\0'; p++)
		*p = g_ascii_toupper(*p);
	copy_token(code, code_size, "", 0);
	if (scan_char(&sc, ' ') && scan_char(&sc, '[')) {
		start = sc.p;
		while (!scan_eof(&sc) && is_atom_char(*sc.p))
			sc.p++;
		copy_token(code, code_size, start, (size_t)(sc.p - start));
	}
	return true;
}
