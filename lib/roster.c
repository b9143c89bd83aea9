/*
 * roster.c - which unit sent this? (pure: no I/O)
 *
 * Four levels, the first that names any unit decides:
 *   1. the subject holds the unit's name or an alias;
 *   2. From or Reply-To is one of the unit's registered addresses (only
 *      when the caller trusts From: it passed DMARC);
 *   3. the body holds a name or alias;
 *   4. an attachment's file name does.
 * Texts are compared after NFKC, case folding and dropping whitespace,
 * so "福州市 市场监督管理局" and full-width letters still match.
 *
 * A match inside a longer match of another unit does not count: with the
 * units "省市场监督管理局" and "省市场监督管理局质量发展处", the subject
 * "省市场监督管理局质量发展处活动总结" names only the second.  Two units
 * left at one level is ROSTER_AMBIGUOUS: a guess would file one unit's
 * photos under another's name.
 *
 * Bounds: each text is cut at ROSTER_TEXT_MAX bytes, at most
 * ROSTER_MAX_FILENAMES names are read, and the work is linear in the
 * text: every occurrence of a name costs only a comparison with the few
 * longer names of other units that contain it.
 */
#include <string.h>

#include "config.h"
#include "roster.h"

#define ROSTER_TEXT_MAX (128 * 1024)
#define ROSTER_NAME_MAX 1024      /* bytes of a unit name or alias */
#define ROSTER_MAX_ALIASES 64     /* aliases read per unit */
#define ROSTER_MAX_FILENAMES 500
#define ROSTER_MAX_COVERS 64      /* longer names containing one name */

/* A unit's name or alias, normalised. */
struct roster_pattern {
	size_t unit;
	char *text;
	size_t len;
};

/* A longer name of another unit that contains a pattern at offset. */
struct roster_cover {
	const struct roster_pattern *outer;
	size_t offset;
};

/*
 * s (at most max bytes) as compared: valid UTF-8, NFKC, case-folded,
 * without whitespace or format characters.  Never NULL.
 */
static char *
roster_normalize(const char *s, size_t max)
{
	g_autofree char *valid = g_utf8_make_valid(s, (gssize)strnlen(s, max));
	g_autofree char *nfkc = g_utf8_normalize(valid, -1,
						 G_NORMALIZE_NFKC);
	g_autofree char *folded = g_utf8_casefold(nfkc != NULL ? nfkc : valid,
						  -1);
	GString *out = g_string_sized_new(strlen(folded) + 1);
	const char *p;
	gunichar c;

	for (p = folded; *p != '\0'; p = g_utf8_next_char(p)) {
		c = g_utf8_get_char(p);
		if (g_unichar_isspace(c) || g_unichar_iscntrl(c) ||
		    g_unichar_type(c) == G_UNICODE_FORMAT)
			continue;
		g_string_append_unichar(out, c);
	}
	return g_string_free(out, FALSE);
}

static void
roster_add_pattern(GArray *pats, size_t unit, const char *name)
{
	struct roster_pattern pat;

	if (name == NULL)
		return;
	pat.unit = unit;
	pat.text = roster_normalize(name, ROSTER_NAME_MAX);
	pat.len = strlen(pat.text);
	if (pat.len == 0) {
		g_free(pat.text);
		return;
	}
	g_array_append_val(pats, pat);
}

static void
roster_pattern_clear(gpointer p)
{
	struct roster_pattern *pat = p;

	g_free(pat->text);
}

static GArray *
roster_patterns(const struct unit *units, size_t n_units)
{
	GArray *pats = g_array_new(FALSE, FALSE,
				   sizeof(struct roster_pattern));
	size_t u, a;

	g_array_set_clear_func(pats, roster_pattern_clear);
	for (u = 0; u < n_units; u++) {
		roster_add_pattern(pats, u, units[u].name);
		for (a = 0; units[u].aliases != NULL &&
			    units[u].aliases[a] != NULL &&
			    a < ROSTER_MAX_ALIASES; a++)
			roster_add_pattern(pats, u, units[u].aliases[a]);
	}
	return pats;
}

/* The longer names of other units that contain pat, and where. */
static size_t
roster_covers(const GArray *pats, const struct roster_pattern *pat,
	      struct roster_cover covers_r[ROSTER_MAX_COVERS])
{
	const struct roster_pattern *outer;
	const char *at;
	size_t i, n = 0;

	for (i = 0; i < pats->len; i++) {
		outer = &g_array_index(pats, struct roster_pattern, i);
		if (outer->unit == pat->unit || outer->len <= pat->len)
			continue;
		for (at = strstr(outer->text, pat->text);
		     at != NULL && n < ROSTER_MAX_COVERS;
		     at = strstr(g_utf8_next_char(at), pat->text)) {
			covers_r[n].outer = outer;
			covers_r[n].offset = (size_t)(at - outer->text);
			n++;
		}
	}
	return n;
}

/* Is the occurrence of a pattern at pos inside one of its covers? */
static bool
roster_covered(const char *text, const char *pos,
	       const struct roster_cover *covers, size_t n)
{
	const char *start;
	size_t i;

	for (i = 0; i < n; i++) {
		if ((size_t)(pos - text) < covers[i].offset)
			continue;
		start = pos - covers[i].offset;
		if (strncmp(start, covers[i].outer->text,
			    covers[i].outer->len) == 0)
			return true;
	}
	return false;
}

/* Marks in found the units named in text (normalised); returns how many
 * units were newly found. */
static size_t
roster_scan(const GArray *pats, const char *text, bool *found)
{
	struct roster_cover covers[ROSTER_MAX_COVERS];
	const struct roster_pattern *pat;
	const char *pos;
	size_t i, n_covers, n = 0;

	for (i = 0; i < pats->len; i++) {
		pat = &g_array_index(pats, struct roster_pattern, i);
		if (found[pat->unit])
			continue;
		pos = strstr(text, pat->text);
		if (pos == NULL)
			continue;
		n_covers = roster_covers(pats, pat, covers);
		for (; pos != NULL; pos = strstr(g_utf8_next_char(pos),
						 pat->text)) {
			if (!roster_covered(text, pos, covers, n_covers)) {
				found[pat->unit] = true;
				n++;
				break;
			}
		}
	}
	return n;
}

static size_t
roster_scan_raw(const GArray *pats, const char *raw, bool *found)
{
	g_autofree char *text = NULL;

	if (raw == NULL || *raw == '\0')
		return 0;
	text = roster_normalize(raw, ROSTER_TEXT_MAX);
	return roster_scan(pats, text, found);
}

static bool
roster_has_address(const struct unit *unit, const char *addr)
{
	size_t i;

	if (addr == NULL || *addr == '\0' || unit->addresses == NULL)
		return false;
	for (i = 0; unit->addresses[i] != NULL; i++)
		if (g_ascii_strcasecmp(unit->addresses[i], addr) == 0)
			return true;
	return false;
}

/* Runs one level; returns how many units it named. */
static size_t
roster_level(enum roster_how how, const struct unit *units, size_t n_units,
	     const GArray *pats, const struct roster_query *q, bool *found)
{
	size_t u, i, n = 0;

	switch (how) {
	case ROSTER_SUBJECT:
		return roster_scan_raw(pats, q->subject, found);
	case ROSTER_ADDRESS:
		if (!q->trust_address)
			return 0;
		for (u = 0; u < n_units; u++) {
			if (roster_has_address(&units[u], q->from_addr) ||
			    roster_has_address(&units[u], q->reply_to)) {
				found[u] = true;
				n++;
			}
		}
		return n;
	case ROSTER_BODY:
		return roster_scan_raw(pats, q->body, found);
	case ROSTER_FILENAME:
		for (i = 0; q->filenames != NULL && q->filenames[i] != NULL &&
			    i < ROSTER_MAX_FILENAMES; i++)
			n += roster_scan_raw(pats, q->filenames[i], found);
		return n;
	case ROSTER_NONE:
	case ROSTER_AMBIGUOUS:
		break;
	}
	return 0;
}

int
roster_identify(const struct unit *units, size_t n_units,
		const struct roster_query *q, enum roster_how *how_r)
{
	static const enum roster_how levels[] = {
		ROSTER_SUBJECT, ROSTER_ADDRESS, ROSTER_BODY, ROSTER_FILENAME,
	};
	g_autoptr(GArray) pats = NULL;
	g_autofree bool *found = NULL;
	enum roster_how how = ROSTER_NONE;
	int result = -1;
	size_t i, u, n = 0;

	if (n_units == 0 || n_units > G_MAXINT)
		goto out;
	pats = roster_patterns(units, n_units);
	found = g_new0(bool, n_units);
	for (i = 0; i < G_N_ELEMENTS(levels) && n == 0; i++) {
		n = roster_level(levels[i], units, n_units, pats, q, found);
		how = levels[i];
	}
	if (n == 0) {
		how = ROSTER_NONE;
	} else if (n > 1) {
		how = ROSTER_AMBIGUOUS;
	} else {
		for (u = 0; !found[u]; u++)
			;
		result = (int)u;
	}
out:
	*how_r = how;
	return result;
}

const char *
roster_how_name(enum roster_how how)
{
	switch (how) {
	case ROSTER_NONE:
		return "none";
	case ROSTER_AMBIGUOUS:
		return "ambiguous";
	case ROSTER_SUBJECT:
		return "subject";
	case ROSTER_ADDRESS:
		return "address";
	case ROSTER_BODY:
		return "body";
	case ROSTER_FILENAME:
		return "filename";
	}
	return "none";
}
