/*
 * ctl_manual.c - intakectl add, receive, withdraw: what arrives outside
 * the mailbox (lib/manual.h does the work)
 *
 * SYNOPSIS
 *	intakectl add UNIT FILE... [--link ITEM] [--received DATE] [--notify]
 *	intakectl receive UNIT summary --paper [--note TEXT]
 *		[--received DATE] [--notify]
 *	intakectl withdraw ITEM [--reason TEXT]
 *
 * DESCRIPTION
 *	add files files the office obtained another way through the checks
 *	of mailed attachments; receive records a paper summary; withdraw
 *	takes an item filed by mistake out of the dossier.  Each prints
 *	what it recorded.  No mail is sent; --notify queues the unit's
 *	usual reply and intaked sends it.
 *
 * EXIT STATUS
 *	0 recorded (whatever the verdict of each file), 1 runtime failure,
 *	2 usage error: an unknown unit or item, a bad date, a missing file.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "intakectl.h"
#include "office.h"
#include "manual.h"

/* The unit's standing after the change, as status says it. */
static bool
ctl_unit_line(struct ctl *ctl, const char *unit, GString *out,
	      GError **error)
{
	const char *names[5];
	struct dossier d;
	enum unit_status s;
	unsigned missing = 0;
	size_t n;

	if (!store_dossier(ctl->st, unit, &d, error))
		return false;
	s = rules_unit_status(&ctl->cfg->rules, &d, &missing);
	n = rules_missing_names(missing, names);
	g_string_append_printf(out, "%s: %s", unit, unit_status_name(s));
	if (n > 0) {
		g_autofree char *lack = g_strjoinv(", ", (char **)names);

		g_string_append_printf(out, " (missing: %s)", lack);
	}
	if (d.links > 0)
		g_string_append_printf(out, ", %u link(s) to download",
				       d.links);
	g_string_append_c(out, '\n');
	return true;
}

static int
ctl_print_result(struct ctl *ctl, const char *cmd,
		 const struct manual_result *r)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;

	g_string_append_printf(out, "%s:\n", r->unit);
	for (unsigned i = 0; i < r->items->len; i++)
		office_item_line(out, "  ", g_ptr_array_index(r->items, i));
	if (r->link != 0)
		g_string_append_printf(out,
				       "link %" G_GINT64_FORMAT " fulfilled: "
				       "no longer waiting to be downloaded\n",
				       r->link);
	if (r->notified != NULL)
		g_string_append_printf(out,
				       "reply (%s) queued for %s; intaked "
				       "sends it on its next cycle\n",
				       verdict_name(r->verdict), r->notified);
	if (!ctl_unit_line(ctl, r->unit, out, &err))
		return fail(cmd, err);
	return print_out(out);
}

/* Option values are taken as bytes (GOption would convert them from
 * the locale's charset, which fails under LANG=C): they must be UTF-8. */
static bool
ctl_utf8_ok(const char *cmd, const char *option, const char *value)
{
	if (value == NULL || g_utf8_validate(value, -1, NULL))
		return true;
	usage_error(cmd, "%s: not valid UTF-8", option);
	return false;
}

/* --received, or 0 when not given; false (usage error printed). */
static bool
ctl_received(struct ctl *ctl, const char *cmd, const char *text,
	     int64_t now, int64_t *t_r)
{
	g_autoptr(GTimeZone) zone = NULL;
	g_autoptr(GError) err = NULL;

	*t_r = 0;
	if (text == NULL)
		return true;
	zone = manual_zone(ctl->cfg);
	if (!manual_parse_time(text, zone, now, t_r, &err)) {
		usage_error(cmd, "--received: %s", err->message);
		return false;
	}
	return true;
}

int
ctl_add(struct ctl *ctl, int argc, char **argv)
{
	g_autofree char *link_text = NULL, *received = NULL, *who = NULL;
	gboolean notify = FALSE;
	GOptionEntry entries[] = {
		{"link", 0, 0, G_OPTION_ARG_FILENAME, &link_text,
		 "the files fulfil this large-file link item", "ITEM"},
		{"received", 0, 0, G_OPTION_ARG_FILENAME, &received,
		 "when they arrived (default: now; with --link: when the "
		 "link arrived)", "DATE"},
		{"notify", 0, 0, G_OPTION_ARG_NONE, &notify,
		 "queue the usual reply to the unit", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GPtrArray) files = g_ptr_array_new();
	g_autoptr(GError) err = NULL;
	struct manual_request req = {0};
	struct manual_result *r = NULL;
	int64_t link = 0;
	int rc;

	if (!parse_opts("add", "UNIT FILE...",
			"Files files the office obtained another way (a "
			"downloaded large attachment, a scan, photos from a "
			"USB stick) through the checks of mailed ones.",
			entries, &argc, &argv))
		return 2;
	if (argc < 3)
		return usage_error("add", "%s", "needs a UNIT and a FILE");
	if (manual_find_unit(ctl->cfg, argv[1]) == NULL)
		return usage_error("add", "no unit '%s' in %s", argv[1],
				   ctl->cfg->units_file);
	if (link_text != NULL && !parse_id(link_text, &link))
		return usage_error("add", "--link: '%s' is not an item id",
				   link_text);
	for (int i = 2; i < argc; i++) {
		if (!g_file_test(argv[i], G_FILE_TEST_IS_REGULAR) ||
		    access(argv[i], R_OK) != 0)
			return usage_error("add", "'%s' is not a readable "
						  "file", argv[i]);
		g_ptr_array_add(files, argv[i]);
	}
	g_ptr_array_add(files, NULL);
	req.now = (int64_t)time(NULL);
	if (!ctl_received(ctl, "add", received, req.now, &req.received))
		return 2;
	who = manual_current_user();
	req.unit = argv[1];
	req.who = who;
	req.notify = notify;
	if (!manual_add(ctl->cfg, ctl->st, &req,
			(const char *const *)files->pdata, link, &r, &err))
		return fail("add", err);
	rc = ctl_print_result(ctl, "add", r);
	manual_result_free(r);
	return rc;
}

int
ctl_receive(struct ctl *ctl, int argc, char **argv)
{
	g_autofree char *note = NULL, *received = NULL, *who = NULL;
	gboolean paper = FALSE, notify = FALSE;
	GOptionEntry entries[] = {
		{"paper", 0, 0, G_OPTION_ARG_NONE, &paper,
		 "the summary came on paper", NULL},
		{"note", 0, 0, G_OPTION_ARG_FILENAME, &note,
		 "a remark kept with it", "TEXT"},
		{"received", 0, 0, G_OPTION_ARG_FILENAME, &received,
		 "when it arrived (default: now)", "DATE"},
		{"notify", 0, 0, G_OPTION_ARG_NONE, &notify,
		 "queue the usual reply to the unit", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	struct manual_request req = {0};
	struct manual_result *r = NULL;
	int rc;

	if (!parse_opts("receive", "UNIT summary --paper",
			"Records that the unit's paper summary arrived.",
			entries, &argc, &argv))
		return 2;
	if (argc != 3)
		return usage_error("receive", "%s",
				   "needs UNIT and 'summary'");
	if (strcmp(argv[2], "summary") != 0)
		return usage_error("receive", "'%s': only a summary can be "
					      "received on paper", argv[2]);
	if (!ctl_utf8_ok("receive", "--note", note))
		return 2;
	if (!paper)
		return usage_error("receive", "%s",
				   "--paper is required (other material is "
				   "filed with 'intakectl add')");
	if (manual_find_unit(ctl->cfg, argv[1]) == NULL)
		return usage_error("receive", "no unit '%s' in %s", argv[1],
				   ctl->cfg->units_file);
	req.now = (int64_t)time(NULL);
	if (!ctl_received(ctl, "receive", received, req.now, &req.received))
		return 2;
	who = manual_current_user();
	req.unit = argv[1];
	req.who = who;
	req.notify = notify;
	if (!manual_receive_paper(ctl->cfg, ctl->st, &req, note, &r, &err))
		return fail("receive", err);
	rc = ctl_print_result(ctl, "receive", r);
	manual_result_free(r);
	return rc;
}

int
ctl_withdraw(struct ctl *ctl, int argc, char **argv)
{
	g_autofree char *reason = NULL, *who = NULL;
	GOptionEntry entries[] = {
		{"reason", 0, 0, G_OPTION_ARG_FILENAME, &reason,
		 "why (kept in the item's note)", "TEXT"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;
	struct store_item *it = NULL;
	int64_t id;

	if (!parse_opts("withdraw", "ITEM",
			"Takes an item filed by mistake out of its unit's "
			"dossier (kept in history, its file moved aside).",
			entries, &argc, &argv))
		return 2;
	if (argc != 2)
		return usage_error("withdraw", "%s", "needs one ITEM");
	if (!ctl_utf8_ok("withdraw", "--reason", reason))
		return 2;
	if (!parse_id(argv[1], &id))
		return usage_error("withdraw", "'%s' is not an item id",
				   argv[1]);
	who = manual_current_user();
	if (!manual_withdraw(ctl->cfg, ctl->st, id, reason, who,
			     (int64_t)time(NULL), &it, &err))
		return fail("withdraw", err);
	g_string_append_printf(out, "item %" G_GINT64_FORMAT " withdrawn: "
				    "%s %s%s%s\n",
			       it->id, office_type_label(it->type), it->name,
			       it->path ? " → " : "",
			       it->path ? it->path : "");
	if (it->unit != NULL && !ctl_unit_line(ctl, it->unit, out, &err)) {
		store_item_free(it);
		return fail("withdraw", err);
	}
	store_item_free(it);
	return print_out(out);
}
