/*
 * pipeline_proc.h - processing beside the fetch (pipeline.c's other half)
 *
 * Only pipeline.c and pipeline_proc.c include this.
 */
#ifndef INTAKE_PIPELINE_PROC_H
#define INTAKE_PIPELINE_PROC_H

#include "pipeline.h"

/* One cycle's processing (pipeline_proc.c says how it goes). */
struct pipeline_proc {
	const struct intake_config *cfg;
	struct store *st;
	const struct pipeline_opts *opts;
	struct pipeline_stats *stats;
	int lock;            /* process.lock, or -1 until needed */
	int64_t after;       /* messages up to this id were taken */
	struct worker *busy; /* the worker in flight, or NULL */
	int64_t busy_id;
	unsigned attempts;   /* busy_id's attempt, counted */
	uint64_t need;       /* the room busy_id needs */
	bool halted;         /* disk full: nothing more this cycle */
	GError *error;       /* the local state failed beside the fetch */
};

void pipeline_proc_init(struct pipeline_proc *pp,
			const struct intake_config *cfg, struct store *st,
			const struct pipeline_opts *opts,
			struct pipeline_stats *stats);
/* Before each download: the worker in flight finished and recorded, the
 * next pending message started.  Failures are kept in pp->error. */
void pipeline_proc_beside(struct pipeline_proc *pp);
/* After the fetch: what is left, under the lock (waited for now). */
bool pipeline_proc_rest(struct pipeline_proc *pp, GError **error);
/* The worker in flight (a failed fetch leaves one) finished, the lock
 * released. */
void pipeline_proc_end(struct pipeline_proc *pp);

/* Whether a stop was requested (opts may be NULL). */
bool pipeline_stopping(const struct pipeline_opts *opts);
/* Tells systemd's watchdog the cycle is alive (opts may be NULL). */
void pipeline_tick(const struct pipeline_opts *opts);

#endif
