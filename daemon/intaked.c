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
 *	message first.  SIGHUP reloads intake.conf and units.conf; an
 *	invalid new configuration is logged and the old one kept.
 *
 * EXIT STATUS
 *	0 ok, 1 runtime failure, 2 usage or configuration error.
 */
#include <errno.h>
#include <fcntl.h>
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
#include "report.h"
#include "smtp.h"
#include "source.h"
#include "store.h"

#define DEFAULT_CONFIG "/etc/intake/intake.conf"

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
		fprintf(stderr, "%s: warning: %s\n", cfg->path,
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
		printf("mailbox %s: ok (logged in, UIDVALIDITY %u)\n",
		       cfg->mailbox_url, uidvalidity);
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
	int lock_fd, rc = 0;

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
		log_warn("%s: %s", cfg->path,
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
	sd_watchdog_enabled(0, &watchdog_usec);
	sd_notify(0, "READY=1");
	log_info("started (%s, %zu units)%s", cfg->mailbox_url, cfg->n_units,
		 dry_run ? ", dry run" : "");

	while (!stop_requested) {
		struct pipeline_stats stats;
		time_t t0 = time(NULL);

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
		sd_notifyf(0,
			   "STATUS=last cycle %lds ago: %u new, %u processed, "
			   "%u failed, %u replies sent",
			   (long)(time(NULL) - t0), stats.fetched,
			   stats.processed, stats.failed, stats.sent);
		if (watchdog_usec)
			sd_notify(0, "WATCHDOG=1");
		if (once) {
			/* nothing could be fetched: say so to the caller */
			if (rc == 0 && !stats.source_ok)
				rc = 1;
			break;
		}
		idle(cfg->poll_interval);
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
