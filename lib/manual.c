/*
 * manual.c - what arrives outside the mailbox: the decisions (dates as
 * the office types them, who is at the keyboard, the note kept, the
 * unit-dependent rules for added files)
 *
 * Everything here but manual_current_user() is pure and tested by
 * tests/unit/test_manual.c; the operations themselves (add, receive,
 * withdraw) are in manual_ops.c.
 */
#include <pwd.h>
#include <string.h>
#include <unistd.h>

#include "caption.h"
#include "decide.h"
#include "manual.h"

/* A time this far after now is a typo, not a clock difference. */
#define MANUAL_FUTURE_SLACK 300

/* ---- pure helpers ---- */

const struct unit *
manual_find_unit(const struct intake_config *cfg, const char *name)
{
	const struct unit *u = config_find_unit(cfg, name);

	for (size_t i = 0; u == NULL && i < cfg->n_units; i++)
		for (char **a = cfg->units[i].aliases; *a != NULL; a++)
			if (strcmp(*a, name) == 0)
				u = &cfg->units[i];
	return u;
}

GTimeZone *
manual_zone(const struct intake_config *cfg)
{
	if (cfg->deadline != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->deadline));
	if (cfg->start != NULL)
		return g_time_zone_ref(g_date_time_get_timezone(cfg->start));
	return g_time_zone_new_local();
}

/* n decimal digits at s; -1 when one is not a digit. */
static int
manual_digits(const char *s, unsigned n)
{
	int v = 0;

	for (unsigned i = 0; i < n; i++) {
		int d = g_ascii_digit_value(s[i]);

		if (d < 0)
			return -1;
		v = v * 10 + d;
	}
	return v;
}

/* "YYYY-MM-DD" at s: year, month, day; false when not that shape. */
static bool
manual_date_part(const char *s, int *y_r, int *m_r, int *d_r)
{
	if (strlen(s) < 10 || s[4] != '-' || s[7] != '-')
		return false;
	*y_r = manual_digits(s, 4);
	*m_r = manual_digits(s + 5, 2);
	*d_r = manual_digits(s + 8, 2);
	return *y_r >= 0 && *m_r >= 0 && *d_r >= 0;
}

bool
manual_parse_time(const char *text, GTimeZone *zone, int64_t now,
		  int64_t *t_r, GError **error)
{
	g_autofree char *s = g_strstrip(g_strdup(text != NULL ? text : ""));
	g_autoptr(GDateTime) dt = NULL;
	size_t len = strlen(s);
	int y, mo, d, h, mi;

	if (len > 64)
		goto bad;
	if (manual_date_part(s, &y, &mo, &d)) {
		if (len == 10) {
			dt = g_date_time_new(zone, y, mo, d, 0, 0, 0);
		} else if (len == 16 && (s[10] == ' ' || s[10] == 'T') &&
			   s[13] == ':') {
			h = manual_digits(s + 11, 2);
			mi = manual_digits(s + 14, 2);
			if (h >= 0 && mi >= 0)
				dt = g_date_time_new(zone, y, mo, d, h, mi, 0);
		} else if (s[10] == ' ' || s[10] == 'T') {
			s[10] = 'T';
			dt = g_date_time_new_from_iso8601(s, zone);
		}
	} else {
		dt = g_date_time_new_from_iso8601(s, zone);
	}
	if (dt == NULL)
		goto bad;
	*t_r = g_date_time_to_unix(dt);
	if (*t_r > now + MANUAL_FUTURE_SLACK) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
			    "\"%s\" is in the future", text);
		return false;
	}
	return true;
bad:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_CONFIG,
		    "\"%s\" is not a date: give YYYY-MM-DD, "
		    "YYYY-MM-DD HH:MM or ISO 8601 "
		    "(2022-10-09T10:00:00+08:00)",
		    text != NULL ? text : "");
	return false;
}

/* A user name worth recording: short, valid UTF-8, printable. */
static bool
manual_name_ok(const char *s)
{
	if (s == NULL || *s == '\0' || strlen(s) > MANUAL_WHO_MAX ||
	    !g_utf8_validate(s, -1, NULL))
		return false;
	for (const char *p = s; *p != '\0'; p = g_utf8_next_char(p)) {
		gunichar c = g_utf8_get_char(p);

		if (!g_unichar_isgraph(c))
			return false;
	}
	return true;
}

char *
manual_who(const char *sudo_user, const char *login, unsigned long uid)
{
	if (manual_name_ok(sudo_user))
		return g_strdup(sudo_user);
	if (manual_name_ok(login))
		return g_strdup(login);
	return g_strdup_printf("uid %lu", uid);
}

char *
manual_note(const char *entered, int64_t link, const char *text)
{
	GString *out = g_string_new(NULL);

	if (entered != NULL && *entered != '\0')
		g_string_append_printf(out, "登记于 %s", entered);
	if (link != 0)
		g_string_append_printf(out, "%s下载自大附件链接（条目 %"
				       G_GINT64_FORMAT "）",
				       out->len ? "；" : "", link);
	if (text != NULL && *text != '\0')
		g_string_append_printf(out, "%s%s", out->len ? "；" : "", text);
	if (out->len == 0) {
		g_string_free(out, TRUE);
		return NULL;
	}
	return g_string_free(out, FALSE);
}

void
manual_decide(const struct intake_config *cfg, const GPtrArray *held,
	      GPtrArray *items, int64_t received, unsigned *accepted_r,
	      unsigned *refused_r)
{
	for (unsigned i = 0; i < items->len; i++) {
		struct check_item *ci = g_ptr_array_index(items, i);

		if (ci->it.type == ITEM_PHOTO && ci->it.caption == NULL)
			ci->it.caption = caption_from_filename(ci->it.name);
	}
	decide_items(cfg, held, items, received, accepted_r, refused_r);
}

/* ---- impure ---- */

char *
manual_current_user(void)
{
	uid_t uid = getuid();
	struct passwd pw, *found = NULL;
	char buf[4096];

	if (getpwuid_r(uid, &pw, buf, sizeof(buf), &found) != 0)
		found = NULL;
	return manual_who(g_getenv("SUDO_USER"), found ? found->pw_name : NULL,
			  (unsigned long)uid);
}
