/*
 * pipeline.h - one cycle of the daemon, and the steps intakectl shares
 *
 * For every message, in UID order (DESIGN.md §3):
 *   discover  list what the source has after the committed cursor
 *   fetch     spool, hash, fsync, rename into raw/, fsync, record
 *   process   in a forked, limited worker (process.h): parse, classify,
 *             identify, check, file, and ONE transaction for items,
 *             dossier, queued reply and the message's state; one worker
 *             at a time, in the order of the fetch, each running while
 *             the next message is fetched
 *   reply     send what the outbox holds (4xx retried, 5xx failed)
 *   mark      flag or move on the server, only after the commit
 */
#ifndef INTAKE_PIPELINE_H
#define INTAKE_PIPELINE_H

#include "common.h"
#include "config.h"
#include "store.h"

struct pipeline_stats {
	unsigned fetched;    /* new messages recorded */
	unsigned duplicates; /* byte-identical redeliveries */
	unsigned processed;
	unsigned failed;     /* messages given up after max_attempts */
	unsigned sent;       /* replies sent */
	unsigned send_failed;
	bool source_ok;      /* the mailbox could be reached */
	char source_error[256];
};

struct pipeline_opts {
	bool dry_run;        /* no mail sent, nothing changed on the server */
	volatile const int *stop; /* non-zero: finish this message, return */
	/* Called before every message is fetched or processed, and every
	 * few seconds of a long download, so a long cycle can tell
	 * systemd's watchdog it is alive; may be NULL. */
	void (*tick)(void);
	/* Called before each pending message is processed (intakectl shows
	 * progress on a terminal); may be NULL. */
	void (*progress)(unsigned done, unsigned total);
};

/* At start-up, under the process lock (pipeline_lock): spool files and
 * interrupted work directories removed, moves into .withdrawn/ that a
 * crash interrupted completed, then temp files and files under units/
 * that the database does not know removed.  (Owed \Seen restores are
 * replayed by the next cycle, when the mailbox is open.) */
bool pipeline_recover(const struct intake_config *cfg, struct store *st,
		      GError **error);

/* A whole cycle.  Source failures are reported in stats (the cycle still
 * processes pending messages and sends the outbox); false only when the
 * local state (disk, database) failed. */
bool pipeline_cycle(const struct intake_config *cfg, struct store *st,
		    const struct pipeline_opts *opts,
		    struct pipeline_stats *stats, GError **error);

/* The steps, for intakectl. */
bool pipeline_import_file(const struct intake_config *cfg, struct store *st,
			  const char *path, int64_t *id_r, char *outcome_r,
			  GError **error);
bool pipeline_process_pending(const struct intake_config *cfg,
			      struct store *st,
			      const struct pipeline_opts *opts,
			      struct pipeline_stats *stats, GError **error);
bool pipeline_send_outbox(const struct intake_config *cfg, struct store *st,
			  struct pipeline_stats *stats, GError **error);

/* Takes state_dir/process.lock (waiting for it): processing is serialised
 * across intaked and intakectl.  Returns the fd to close(), or -1. */
int pipeline_lock(const struct intake_config *cfg, GError **error);

/* The mailbox's identity in the database: its URL without credentials. */
char *pipeline_mailbox_key(const struct intake_config *cfg);

#endif
