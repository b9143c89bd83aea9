/*
 * intakectl - the office's view of intake
 *
 * SYNOPSIS
 *	intakectl [-c FILE] status [--json]
 *	intakectl [-c FILE] show UNIT [--json]
 *	intakectl [-c FILE] messages [--state STATE] [--json]
 *	intakectl [-c FILE] import FILE.eml...
 *	intakectl [-c FILE] assign MESSAGE UNIT
 *	intakectl [-c FILE] reprocess MESSAGE | --all
 *	intakectl [-c FILE] resend MESSAGE
 *
 * DESCRIPTION
 *	Works beside a running intaked (SQLite WAL, a busy timeout, and a
 *	processing lock shared with the daemon).  Commands that queue mail
 *	leave the sending to intaked.
 *
 * EXIT STATUS
 *	0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "intakectl.h"
#include "log.h"
#include "manual.h"
#include "office.h"
#include "pipeline.h"
#include "privs.h"

#define DEFAULT_CONFIG "/etc/intake/intake.conf"

struct command {
	const char *name;
	const char *args;
	const char *help;
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

int
usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "intakectl %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nTry 'intakectl %s --help'.\n", cmd);
	return 2;
}

/* Parses a command's own options; returns false on a usage error. */
bool
parse_opts(const char *cmd, const char *args, const char *help,
	   GOptionEntry *entries, int *argc, char ***argv)
{
	/* "Usage: intakectl CMD [OPTION…] ARGS": main() named the
	 * program after the command */
	g_autoptr(GOptionContext) ctx = g_option_context_new(args);
	g_autoptr(GError) err = NULL;

	g_option_context_set_summary(ctx, help);
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, argc, argv, &err)) {
		fprintf(stderr, "intakectl %s: %s\n", cmd, err->message);
		return false;
	}
	return true;
}

bool
parse_id(const char *s, int64_t *id_r)
{
	guint64 v;

	if (!g_ascii_string_to_unsigned(s, 10, 1, G_MAXINT64, &v, NULL))
		return false;
	*id_r = (int64_t)v;
	return true;
}

int
print_out(GString *out)
{
	fputs(out->str, stdout);
	return fflush(stdout) == 0 ? 0 : 1;
}

int
fail(const char *cmd, GError *err)
{
	fprintf(stderr, "intakectl %s: %s\n", cmd, err->message);
	return err->code == INTAKE_ERROR_CONFIG ? 2 : 1;
}

static int
cmd_status(struct ctl *ctl, int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;

	if (!parse_opts("status", "", "Every unit: complete, incomplete or "
				      "missing, and what it lacks.",
			entries, &argc, &argv))
		return 2;
	if (argc > 1)
		return usage_error("status", "unexpected argument '%s'",
				   argv[1]);
	if (!office_status(ctl->cfg, ctl->st, json, out, &err))
		return fail("status", err);
	return print_out(out);
}

static int
cmd_show(struct ctl *ctl, int argc, char **argv)
{
	gboolean json = FALSE;
	GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;

	if (!parse_opts("show", "UNIT", "One unit's items, with history.",
			entries, &argc, &argv))
		return 2;
	if (argc != 2)
		return usage_error("show", "%s", "needs one UNIT");
	if (!office_show(ctl->cfg, ctl->st, argv[1], json, out, &err))
		return fail("show", err);
	return print_out(out);
}

static int
cmd_messages(struct ctl *ctl, int argc, char **argv)
{
	gboolean json = FALSE;
	g_autofree char *state = NULL;
	GOptionEntry entries[] = {
		{"json", 0, 0, G_OPTION_ARG_NONE, &json, "print JSON", NULL},
		{"state", 0, 0, G_OPTION_ARG_STRING, &state,
		 "only messages in STATE (pending, processed, held, failed)",
		 "STATE"},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) err = NULL;

	if (!parse_opts("messages", "", "Every message received, with its "
					"items and verdicts.",
			entries, &argc, &argv))
		return 2;
	if (argc > 1)
		return usage_error("messages", "unexpected argument '%s'",
				   argv[1]);
	if (state != NULL && strcmp(state, "pending") != 0 &&
	    strcmp(state, "processed") != 0 && strcmp(state, "held") != 0 &&
	    strcmp(state, "failed") != 0)
		return usage_error("messages", "unknown state '%s'", state);
	if (!office_messages(ctl->cfg, ctl->st, state, json, out, &err))
		return fail("messages", err);
	return print_out(out);
}

/* reprocess --all on a terminal: "[n/N] messages" on stderr */
static void
process_progress(unsigned done, unsigned total)
{
	if (total > 1)
		ctl_progress(done, total, "messages");
}

int
process_now(struct ctl *ctl, const char *cmd)
{
	struct pipeline_opts opts = {0};
	struct pipeline_stats stats = {0};
	g_autoptr(GError) err = NULL;
	bool ok;

	opts.progress = process_progress;
	ok = pipeline_process_pending(ctl->cfg, ctl->st, &opts, &stats, &err);
	if (stats.processed + stats.failed > 1)
		process_progress(stats.processed + stats.failed,
				 stats.processed + stats.failed);
	if (!ok)
		return fail(cmd, err);
	if (stats.failed)
		fprintf(stderr, "intakectl %s: %u message(s) failed; see "
				"'intakectl messages --state failed'\n",
			cmd, stats.failed);
	return 0;
}

static int
cmd_import(struct ctl *ctl, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
	int rc = 0;

	if (!parse_opts("import", "FILE.eml...",
			"Takes messages from files through the same pipeline "
			"as the mailbox (raw/, checks, filing, replies).",
			entries, &argc, &argv))
		return 2;
	if (argc < 2)
		return usage_error("import", "%s", "needs at least one FILE");
	for (int i = 1; i < argc; i++) {
		g_autoptr(GError) err = NULL;
		int64_t id = 0;
		char outcome = 0;

		if (!pipeline_import_file(ctl->cfg, ctl->st, argv[i], &id,
					  &outcome, &err)) {
			fprintf(stderr, "intakectl import: %s\n", err->message);
			rc = 1;
			continue;
		}
		printf("%s: message %" G_GINT64_FORMAT "%s\n", argv[i], id,
		       outcome == 'd' ? " (duplicate of an earlier message)"
				      : "");
	}
	if (process_now(ctl, "import") != 0)
		rc = 1;
	return rc;
}

/*
 * Whether assign or reprocess may take message id: it must exist, and not
 * be a byte-identical copy of another (a duplicate is never processed nor
 * answered, DESIGN §7: the office acts on the original).  0, or the exit
 * status once the reason is printed.
 */
static int
requeue_check(struct ctl *ctl, const char *cmd, int64_t id)
{
	g_autoptr(GError) err = NULL;
	struct store_message *m = store_message_get(ctl->st, id, &err);
	int64_t orig;

	if (m == NULL && err != NULL)
		return fail(cmd, err);
	if (m == NULL) {
		fprintf(stderr, "intakectl %s: no message %" G_GINT64_FORMAT
				"\n", cmd, id);
		return 2;
	}
	orig = m->duplicate_of;
	store_message_free(m);
	if (orig != 0) {
		fprintf(stderr, "intakectl %s: message %" G_GINT64_FORMAT " is a "
				"copy of message %" G_GINT64_FORMAT ": %s %"
				G_GINT64_FORMAT " instead\n",
			cmd, id, orig, cmd, orig);
		return 2;
	}
	return 0;
}

/* Processes what was requeued, then removes the files that no item owns
 * any more (those of a message now filed elsewhere). */
static int
requeue_process(struct ctl *ctl, const char *cmd)
{
	g_autoptr(GError) err = NULL;
	int rc = process_now(ctl, cmd);

	if (manual_sweep(ctl->cfg, ctl->st, &err) < 0) {
		fprintf(stderr, "intakectl %s: removing files no item owns: "
				"%s\n", cmd, err->message);
		rc = 1;
	}
	return rc;
}

static int
cmd_assign(struct ctl *ctl, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	const struct unit *u;
	int64_t id;
	int rc;

	if (!parse_opts("assign", "MESSAGE UNIT",
			"Files a held message under UNIT and replies to it.",
			entries, &argc, &argv))
		return 2;
	if (argc != 3)
		return usage_error("assign", "%s", "needs MESSAGE and UNIT");
	if (!parse_id(argv[1], &id))
		return usage_error("assign", "'%s' is not a message id",
				   argv[1]);
	u = config_find_unit(ctl->cfg, argv[2]);
	if (u == NULL)
		return usage_error("assign", "no unit '%s' in units.conf",
				   argv[2]);
	rc = requeue_check(ctl, "assign", id);
	if (rc != 0)
		return rc;
	if (!store_message_requeue(ctl->st, id, u->name, &err))
		return fail("assign", err);
	return requeue_process(ctl, "assign");
}

static int
cmd_reprocess(struct ctl *ctl, int argc, char **argv)
{
	gboolean all = FALSE;
	GOptionEntry entries[] = {
		{"all", 0, 0, G_OPTION_ARG_NONE, &all,
		 "every message that is not a duplicate", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	int64_t id;
	int rc;

	if (!parse_opts("reprocess", "MESSAGE | --all",
			"Processes messages again from their raw copies "
			"(after a change of rules or units).",
			entries, &argc, &argv))
		return 2;
	if (all) {
		if (argc != 1)
			return usage_error("reprocess", "%s",
					   "--all takes no MESSAGE");
		if (!store_exec(ctl->st,
				"UPDATE messages SET state='pending',"
				" attempts=0, error=NULL"
				" WHERE duplicate_of IS NULL",
				&err))
			return fail("reprocess", err);
		return requeue_process(ctl, "reprocess");
	}
	if (argc != 2)
		return usage_error("reprocess", "%s", "needs one MESSAGE");
	if (!parse_id(argv[1], &id))
		return usage_error("reprocess", "'%s' is not a message id",
				   argv[1]);
	rc = requeue_check(ctl, "reprocess", id);
	if (rc != 0)
		return rc;
	if (!store_message_requeue(ctl->st, id, NULL, &err))
		return fail("reprocess", err);
	return requeue_process(ctl, "reprocess");
}

static int
cmd_resend(struct ctl *ctl, int argc, char **argv)
{
	GOptionEntry entries[] = {{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GError) err = NULL;
	sqlite3_stmt *stmt;
	int64_t id;
	int changed;

	if (!parse_opts("resend", "MESSAGE",
			"Queues the reply to MESSAGE again (after a failure).",
			entries, &argc, &argv))
		return 2;
	if (argc != 2 || !parse_id(argv[1], &id))
		return usage_error("resend", "%s", "needs one MESSAGE id");
	stmt = store_prepare(ctl->st,
			     "UPDATE outbox SET state='queued', next_attempt=0"
			     " WHERE id=(SELECT MAX(id) FROM outbox WHERE"
			     " message=?)",
			     &err);
	if (stmt == NULL)
		return fail("resend", err);
	sqlite3_bind_int64(stmt, 1, id);
	if (!store_step_done(ctl->st, stmt, &err)) {
		sqlite3_finalize(stmt);
		return fail("resend", err);
	}
	sqlite3_finalize(stmt);
	changed = sqlite3_changes(store_db(ctl->st));
	if (changed == 0) {
		fprintf(stderr, "intakectl resend: message %s has no reply\n",
			argv[1]);
		return 1;
	}
	printf("reply to message %s queued; intaked sends it on its next "
	       "cycle\n", argv[1]);
	return 0;
}

static const struct command commands[] = {
	{"status", "[--json]", "who has submitted and who has not",
	 cmd_status},
	{"show", "UNIT [--json]", "one unit's items", cmd_show},
	{"messages", "[--state STATE] [--json]", "every message received",
	 cmd_messages},
	{"import", "FILE.eml...", "take messages from files", cmd_import},
	{"assign", "MESSAGE UNIT", "file a held message under a unit",
	 cmd_assign},
	{"reprocess", "MESSAGE | --all", "process messages again",
	 cmd_reprocess},
	{"resend", "MESSAGE", "queue a reply again", cmd_resend},
	{"add", "UNIT FILE... [--link ITEM] [--received DATE] [--notify]",
	 "file what came another way", ctl_add},
	{"receive",
	 "UNIT summary --paper [--note TEXT] [--received DATE] [--notify]",
	 "a paper summary", ctl_receive},
	{"withdraw", "ITEM [--reason TEXT]", "withdraw an item filed in error",
	 ctl_withdraw},
	{"export", "DIR [--force] [--copy]", "unit folders and 汇总表",
	 ctl_export},
	{"report", "FILE.html", "one page with thumbnails", ctl_report},
	{"remind", "[--dry-run]", "mail units what they lack", ctl_remind},
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: intakectl [-c FILE] COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < G_N_ELEMENTS(commands); i++) {
		/* arguments too long for their column: the help below */
		if (strlen(commands[i].args) > 28)
			fprintf(f, "  %-10s %s\n  %-10s %-28s %s\n",
				commands[i].name, commands[i].args, "", "",
				commands[i].help);
		else
			fprintf(f, "  %-10s %-28s %s\n", commands[i].name,
				commands[i].args, commands[i].help);
	}
	fprintf(f, "\n'intakectl COMMAND --help' tells more.\n");
}

int
main(int argc, char **argv)
{
	const char *config_path = DEFAULT_CONFIG;
	const struct command *cmd = NULL;
	g_autoptr(GError) err = NULL;
	g_autofree char *prgname = NULL;
	struct ctl ctl = {0};
	int i = 1, rc;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C"); /* numbers in JSON and files */
	/* Global options stand before the command; the rest is its own. */
	while (i < argc && argv[i][0] == '-') {
		if ((strcmp(argv[i], "-c") == 0 ||
		     strcmp(argv[i], "--config") == 0) &&
		    i + 1 < argc) {
			config_path = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config_path = argv[i] + 9;
			i++;
		} else if (strcmp(argv[i], "-h") == 0 ||
			   strcmp(argv[i], "--help") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0) {
			printf("intakectl %s\n", INTAKE_VERSION);
			return 0;
		} else {
			fprintf(stderr, "intakectl: unknown option '%s'\n",
				argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t k = 0; k < G_N_ELEMENTS(commands); k++)
		if (strcmp(commands[k].name, argv[i]) == 0)
			cmd = &commands[k];
	if (cmd == NULL) {
		fprintf(stderr, "intakectl: unknown command '%s'\n", argv[i]);
		usage(stderr);
		return 2;
	}
	log_init("intakectl", getenv("INTAKE_DEBUG") != NULL);
	/* what a command's --help names it */
	prgname = g_strdup_printf("intakectl %s", cmd->name);
	g_set_prgname(prgname);
	/* --help needs no configuration */
	for (int k = i + 1; k < argc; k++)
		if (strcmp(argv[k], "--help") == 0 || strcmp(argv[k], "-h") == 0)
			return cmd->run(&ctl, argc - i, argv + i);
	ctl.cfg = config_load_flags(config_path, CONFIG_NO_SECRETS, &err);
	if (ctl.cfg == NULL) {
		fprintf(stderr, "intakectl: %s\n", err->message);
		return 2;
	}
	/* as root: the service user's files stay the service user's */
	if (!privs_become_owner(ctl.cfg->state_dir, NULL, &err)) {
		fprintf(stderr, "intakectl: %s\n", err->message);
		config_free(ctl.cfg);
		return 1;
	}
	ctl.st = store_open(ctl.cfg->state_dir, &err);
	if (ctl.st == NULL) {
		fprintf(stderr, "intakectl: %s\n", err->message);
		config_free(ctl.cfg);
		return 1;
	}
	rc = cmd->run(&ctl, argc - i, argv + i);
	store_close(ctl.st);
	config_free(ctl.cfg);
	return rc;
}
