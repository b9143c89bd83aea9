/*
 * ctl_office.c - intakectl export, report, remind
 *
 * SYNOPSIS
 *	intakectl [-c FILE] export DIR [--force] [--copy]
 *	intakectl [-c FILE] report FILE.html
 *	intakectl [-c FILE] remind [--dry-run]
 *
 * DESCRIPTION
 *	Wiring only: options to lib/export.c, lib/report.c, lib/remind.c.
 *	Long work shows "[n/N] ..." on stderr when it is a terminal.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "intakectl.h"
#include "export.h"
#include "remind.h"
#include "report.h"

#define CTL_PROGRESS_WIDTH 60 /* bytes of "what" shown */

void
ctl_progress(unsigned done, unsigned total, const char *what)
{
	static int tty = -1;
	g_autofree char *shown = NULL;
	const char *end;

	if (tty < 0)
		tty = isatty(STDERR_FILENO);
	if (!tty)
		return;
	shown = g_utf8_make_valid(what ? what : "", -1);
	if (strlen(shown) > CTL_PROGRESS_WIDTH) {
		end = g_utf8_find_prev_char(shown, shown + CTL_PROGRESS_WIDTH);
		if (end != NULL)
			shown[end - shown] = '\0';
	}
	/* \033[K clears what a longer line left */
	fprintf(stderr, "\r[%u/%u] %s\033[K", done, total, shown);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

int
ctl_export(struct ctl *ctl, int argc, char **argv)
{
	gboolean force = FALSE, copy = FALSE;
	GOptionEntry entries[] = {
		{"force", 0, 0, G_OPTION_ARG_NONE, &force,
		 "write into a DIR that is not empty (files of the same name "
		 "are replaced, nothing is removed)", NULL},
		{"copy", 0, 0, G_OPTION_ARG_NONE, &copy,
		 "copy every file (default: hard links on the state "
		 "directory's file system)", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	struct export_opts opts = {0};
	struct export_stats stats;
	g_autofree char *size = NULL;

	if (!parse_opts("export", "DIR",
			"Writes everything received, sorted to forward: a "
			"folder per unit of units.conf, named as there, with "
			"the summary, photo and video folders of the state "
			"directory (photos named <nn>-<caption>.jpg, or "
			"<nn>.jpg while uncaptioned, every name "
			"Windows-safe), and the summary table twice, as "
			".xlsx and as .csv (UTF-8 with a BOM, for Excel): "
			"every unit and item with its state, caption, size, "
			"time received, lateness and origin.\n\n"
			"DIR must be new or empty; --force writes into it, "
			"replacing files of the same name and removing "
			"nothing. Files are hard links when DIR is on the "
			"state directory's file system (treat them as "
			"read-only, or use --copy). Nothing is ever moved.",
			entries, &argc, &argv))
		return 2;
	if (argc != 2)
		return usage_error("export", "%s", "needs one DIR");
	opts.force = force;
	opts.copy = copy;
	opts.progress = ctl_progress;
	if (!export_run(ctl->cfg, ctl->st, argv[1], &opts, &stats, &err))
		return fail("export", err);
	size = g_format_size(stats.bytes);
	printf("%s: %u units, %u files (%s; %u linked, %u copied), "
	       "%u rows in " EXPORT_XLSX " and " EXPORT_CSV "\n",
	       argv[1], stats.units, stats.files, size, stats.linked,
	       stats.files - stats.linked, stats.rows);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
ctl_report(struct ctl *ctl, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	struct report_opts opts = {0};
	struct report_stats stats;
	g_autofree char *size = NULL;

	if (!parse_opts("report", "FILE.html",
			"Writes one self-contained HTML page (Chinese): every "
			"unit's state, a gallery of photo thumbnails with "
			"captions and sizes, refused items with their reasons. "
			"It opens offline in any browser and prints a unit per "
			"page. [storage] report_path makes intaked rewrite it "
			"after every cycle.",
			entries, &argc, &argv))
		return 2;
	if (argc != 2)
		return usage_error("report", "%s", "needs one FILE.html");
	opts.progress = ctl_progress;
	if (!report_write(ctl->cfg, ctl->st, argv[1], &opts, &stats, &err))
		return fail("report", err);
	size = g_format_size(stats.bytes);
	printf("%s: %u units, %u photos, %s\n", argv[1], stats.units,
	       stats.photos, size);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
ctl_remind(struct ctl *ctl, int argc, char **argv)
{
	gboolean dry_run = FALSE;
	GOptionEntry entries[] = {
		{"dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
		 "print each mail as it would be read, queue nothing", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;
	struct remind_opts opts = {0};
	struct remind_stats stats;

	if (!parse_opts("remind", "[--dry-run]",
			"Mails every missing or incomplete unit what it still "
			"lacks and the deadline, at most once a day per unit, "
			"to the addresses in units.conf and those it sent its "
			"accepted submissions from (less undeliverable ones). "
			"With [campaign] digest_to, also queues the daily "
			"digest for the office. The mail is queued: intaked "
			"sends it.",
			entries, &argc, &argv))
		return 2;
	if (argc != 1)
		return usage_error("remind", "unexpected argument '%s'",
				   argv[1]);
	opts.dry_run = dry_run;
	if (!remind_run(ctl->cfg, ctl->st, &opts, out, &stats, &err))
		return fail("remind", err);
	g_string_append_printf(out,
			       "%s%u 个单位、%u 封提醒%s；%u 个单位已齐全，"
			       "%u 个今天已提醒，%u 个没有可用地址\n",
			       dry_run ? "（演练，未排队）" : "", stats.units,
			       stats.mails, dry_run ? "" : "已排队",
			       stats.complete, stats.today, stats.no_address);
	return print_out(out);
}
