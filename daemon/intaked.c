/*
 * intaked - the intake daemon
 *
 * SYNOPSIS
 *	intaked [-c FILE] [--once] [--dry-run] [--check-config]
 *	        [--test-login] [-v] [--version]
 *
 * DESCRIPTION
 *	Polls the contact mailbox, files every submission by unit and
 *	replies (DESIGN.md §3).  Without --once it runs a cycle every
 *	poll_interval seconds until SIGTERM, which finishes the current
 *	message first.  While the mailbox cannot be reached the pause
 *	doubles after each failed cycle, up to 10 x poll_interval, and is
 *	back to poll_interval after the first good one.  SIGHUP reloads
 *	intake.conf and units.conf and starts a cycle; an invalid new
 *	configuration is logged and the old one kept.
 *
 *	Under systemd (Type=notify): READY=1 once recovered and ready,
 *	STATUS= after every cycle (its time and counts, what is pending and
 *	failed, whether the mailbox was reached), WATCHDOG=1 between
 *	messages, during downloads and while idle when WatchdogSec is set,
 *	STOPPING=1 on the way out.
 *
 * EXIT STATUS
 *	0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "pipeline.h"
#include "remind.h"
#include "report.h"
#include "smtp.h"
#include "source.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/intake/intake.conf"
#define BACKOFF_MAX 10 /* x poll_interval, while the mailbox fails */

static volatile sig_atomic_t stop_requested;
static volatile sig_atomic_t reload_requested;
static volatile int stop_flag; /* what the pipeline reads */
static uint64_t watchdog_usec;  /* WatchdogSec, 0 when not set */

static void
on_signal(int sig)
{
	if (sig == SIGHUP) {
		reload_requested = 1;
	} else {
		stop_requested = 1;
		stop_flag = 1;
	}
}

static void
install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

/* One intaked per state directory: a lock held for the process's life. */
static int
lock_state_dir(const char *state_dir)
{
	g_autofree char *path = g_build_filename(state_dir, "intaked.lock", NULL);
	int fd;

	if (g_mkdir_with_parents(state_dir, 0750) != 0)
		log_fatal("cannot create %s: %s", state_dir, g_strerror(errno));
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		log_fatal("cannot open %s: %s", path, g_strerror(errno));
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			log_fatal("another intaked is running on %s",
				  state_dir);
		log_fatal("cannot lock %s: %s", path, g_strerror(errno));
	}
	return fd;
}

static int
check_config(const struct intake_config *cfg)
{
	for (unsigned i = 0; i < cfg->warnings->len; i++)
		fprintf(stderr, "warning: %s\n",
			(const char *)g_ptr_array_index(cfg->warnings, i));
	printf("%s: ok (%zu units)\n", cfg->path, cfg->n_units);
	return 0;
}

static int
test_login(const struct intake_config *cfg)
{
	g_autoptr(GError) err = NULL;
	g_autoptr(GString) report = g_string_new(NULL);
	struct source *src = source_new(cfg, &err);
	uint32_t uidvalidity = 0;
	int rc = 0;

	if (src == NULL || !src->ops->open(src, &uidvalidity, &err)) {
		printf("mailbox %s: FAILED: %s\n", cfg->mailbox_url,
		       err->message);
		g_clear_error(&err);
		rc = 1;
	} else {
		printf("mailbox %s: ok (%s, UIDVALIDITY %u)\n",
		       cfg->mailbox_url,
		       g_str_has_prefix(cfg->mailbox_url, "imap") ?
			       "logged in" : "readable",
		       uidvalidity);
	}
	source_free(src);
	if (cfg->smtp_url == NULL) {
		printf("smtp: not configured (no replies are sent)\n");
	} else if (!smtp_test_login(cfg, report, &err)) {
		printf("smtp %s: FAILED: %s\n", cfg->smtp_url, err->message);
		rc = 1;
	} else {
		printf("smtp %s: ok\n%s", cfg->smtp_url, report->str);
	}
	return rc;
}

/* Between messages of a long cycle: systemd's watchdog is told. */
static void
tick(void)
{
	if (watchdog_usec)
		sd_notify(0, "WATCHDOG=1");
}

/* Sleeps up to seconds, waking for signals and the watchdog. */
static void
idle(unsigned seconds)
{
	time_t until = time(NULL) + (time_t)seconds;

	while (!stop_requested && !reload_requested && time(NULL) < until) {
		struct timespec ts = {1, 0};

		nanosleep(&ts, NULL);
		if (watchdog_usec)
			sd_notify(0, "WATCHDOG=1");
	}
}

/* The pause after a cycle: poll_interval, doubled for each cycle in a row
 * that could not reach the mailbox, at most BACKOFF_MAX times it. */
static unsigned
pause_after(const struct intake_config *cfg, unsigned failures)
{
	uint64_t wait = cfg->poll_interval;

	for (unsigned i = 0; i < failures && wait < (uint64_t)BACKOFF_MAX *
						       cfg->poll_interval;
	     i++)
		wait *= 2;
	return (unsigned)MIN(wait, (uint64_t)BACKOFF_MAX * cfg->poll_interval);
}

/* STATUS= for systemctl status: when the last cycle ran, what it did,
 * what waits, and whether the mailbox was reached. */
static void
notify_status(struct store *st, const struct pipeline_stats *stats,
	      time_t t0, unsigned pause)
{
	g_autoptr(GDateTime) now = g_date_time_new_now_local();
	g_autofree char *when = g_date_time_format(now, "%Y-%m-%d %H:%M:%S");
	g_autoptr(GString) line = g_string_new("STATUS=");
	GArray *pending = store_messages_in_state(st, MSG_PENDING, NULL);
	GArray *failed = store_messages_in_state(st, MSG_FAILED, NULL);

	g_string_append_printf(line, "last cycle %s (%lds): %u new, "
			       "%u processed, %u failed, %u replies sent; "
			       "%u pending, %u failed in all",
			       when ? when : "?", (long)(time(NULL) - t0),
			       stats->fetched, stats->processed, stats->failed,
			       stats->sent, pending ? pending->len : 0,
			       failed ? failed->len : 0);
	if (!stats->source_ok)
		g_string_append_printf(line, "; mailbox unreachable, next "
				       "attempt in %us: %s", pause,
				       stats->source_error);
	sd_notify(0, line->str);
	if (pending)
		g_array_unref(pending);
	if (failed)
		g_array_unref(failed);
}

static struct intake_config *
reload(struct intake_config *cfg, const char *path)
{
	g_autoptr(GError) err = NULL;
	struct intake_config *fresh = config_load(path, &err);

	if (fresh == NULL) {
		log_error("reload refused, keeping the running configuration: "
			  "%s", err->message);
		return cfg;
	}
	if (g_strcmp0(fresh->state_dir, cfg->state_dir) != 0) {
		log_error("reload refused: state_dir cannot change while "
			  "running (%s -> %s)", cfg->state_dir,
			  fresh->state_dir);
		config_free(fresh);
		return cfg;
	}
	log_info("configuration reloaded (%zu units)", fresh->n_units);
	config_free(cfg);
	return fresh;
}

int
main(int argc, char **argv)
{
	g_autofree char *config_path = NULL;
	gboolean once = FALSE, dry_run = FALSE, check = FALSE, login = FALSE;
	gboolean verbose = FALSE, version = FALSE;
	GOptionEntry entries[] = {
		{"config", 'c', 0, G_OPTION_ARG_FILENAME, &config_path,
		 "configuration file (default " DEFAULT_CONFIG ")", "FILE"},
		{"once", 0, 0, G_OPTION_ARG_NONE, &once,
		 "run one cycle and exit", NULL},
		{"dry-run", 0, 0, G_OPTION_ARG_NONE, &dry_run,
		 "send no mail and change nothing on the server", NULL},
		{"check-config", 0, 0, G_OPTION_ARG_NONE, &check,
		 "check the configuration and exit (0 ok, 2 errors)", NULL},
		{"test-login", 0, 0, G_OPTION_ARG_NONE, &login,
		 "log in to IMAP and SMTP, report, and exit", NULL},
		{"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
		 "debug logging", NULL},
		{"version", 0, 0, G_OPTION_ARG_NONE, &version,
		 "print the version and exit", NULL},
		{NULL, 0, 0, 0, NULL, NULL, NULL}};
	g_autoptr(GOptionContext) ctx = NULL;
	g_autoptr(GError) err = NULL;
	struct intake_config *cfg;
	struct store *st;
	struct pipeline_opts opts = {0};
	unsigned source_failures = 0;
	int lock_fd, rc = 0;

	setlocale(LC_ALL, "");
	setlocale(LC_NUMERIC, "C"); /* numbers in JSON and files */
	ctx = g_option_context_new("- the intake daemon");
	g_option_context_set_summary(
		ctx, "Polls the contact mailbox, files submissions by unit and "
		     "replies.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		fprintf(stderr, "intaked: %s\n", err->message);
		return 2;
	}
	if (argc > 1) {
		fprintf(stderr, "intaked: unexpected argument '%s'\n", argv[1]);
		return 2;
	}
	if (version) {
		printf("intaked %s\n", INTAKE_VERSION);
		return 0;
	}
	log_init("intaked", verbose);
	if (config_path == NULL)
		config_path = g_strdup(DEFAULT_CONFIG);
	cfg = config_load(config_path, &err);
	if (cfg == NULL) {
		fprintf(stderr, "intaked: %s\n", err->message);
		return 2;
	}
	if (check) {
		rc = check_config(cfg);
		config_free(cfg);
		return rc;
	}
	for (unsigned i = 0; i < cfg->warnings->len; i++)
		log_warn("%s",
			 (const char *)g_ptr_array_index(cfg->warnings, i));
	if (login) {
		rc = test_login(cfg);
		config_free(cfg);
		return rc;
	}

	install_signals();
	lock_fd = lock_state_dir(cfg->state_dir);
	st = store_open(cfg->state_dir, &err);
	if (st == NULL)
		log_fatal("%s", err->message);
	if (!pipeline_recover(cfg, st, &err))
		log_fatal("recovery: %s", err->message);
	opts.dry_run = dry_run;
	opts.stop = &stop_flag;
	opts.tick = tick;
	if (sd_watchdog_enabled(0, &watchdog_usec) <= 0)
		watchdog_usec = 0;
	if (watchdog_usec != 0 &&
	    (uint64_t)cfg->limits.worker_seconds * G_USEC_PER_SEC >=
		    watchdog_usec)
		log_warn("[limits] worker_seconds (%u) is not shorter than the "
			 "watchdog's %" G_GUINT64_FORMAT " s: a slow message "
			 "would have systemd kill the daemon",
			 cfg->limits.worker_seconds,
			 (guint64)(watchdog_usec / G_USEC_PER_SEC));
	sd_notify(0, "READY=1");
	log_info("started (%s, %zu units)%s", cfg->mailbox_url, cfg->n_units,
		 dry_run ? ", dry run" : "");

	while (!stop_requested) {
		struct pipeline_stats stats;
		time_t t0 = time(NULL);
		unsigned pause;

		/* the office's daily digest, queued to go out in this cycle */
		if (!opts.dry_run &&
		    !remind_digest_due(cfg, st, (int64_t)time(NULL), NULL,
				       &err)) {
			log_error("digest: %s", err->message);
			g_clear_error(&err);
		}
		if (!pipeline_cycle(cfg, st, &opts, &stats, &err)) {
			log_error("cycle: %s", err->message);
			g_clear_error(&err);
			rc = 1;
		} else {
			rc = 0;
		}
		log_info("cycle: %u new, %u duplicate, %u processed, "
			 "%u failed, %u replies sent%s",
			 stats.fetched, stats.duplicates, stats.processed,
			 stats.failed, stats.sent,
			 stats.source_ok ? "" : " (mailbox unreachable)");
		if (cfg->report_path != NULL) {
			g_autoptr(GError) rerr = NULL;

			/* temp file + rename: readers never see half a page */
			if (!report_write(cfg, st, cfg->report_path, NULL, NULL,
					  &rerr))
				log_error("report %s: %s", cfg->report_path,
					  rerr->message);
		}
		/* a mailbox that fails is tried less and less often */
		if (stats.source_ok) {
			if (source_failures > 0)
				log_info("mailbox reachable again after %u "
					 "failed cycle(s)", source_failures);
			source_failures = 0;
		} else if (source_failures < UINT_MAX) {
			source_failures++;
		}
		pause = pause_after(cfg, source_failures);
		if (!stats.source_ok && !once)
			log_warn("mailbox unreachable %u cycle(s) in a row: "
				 "next attempt in %u s", source_failures,
				 pause);
		notify_status(st, &stats, t0, pause);
		if (watchdog_usec)
			sd_notify(0, "WATCHDOG=1");
		if (once) {
			/* nothing could be fetched: say so to the caller */
			if (rc == 0 && !stats.source_ok)
				rc = 1;
			break;
		}
		idle(pause);
		if (reload_requested) {
			reload_requested = 0;
			cfg = reload(cfg, config_path);
		}
	}
	sd_notify(0, "STOPPING=1");
	log_info("stopped");
	store_close(st);
	config_free(cfg);
	close(lock_fd);
	return rc;
}
