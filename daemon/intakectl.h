/*
 * intakectl.h - what the intakectl command files share
 *
 * intakectl.c holds main() and the command table; each group of commands
 * lives in a daemon/ctl_*.c file of its own and only wires options to
 * lib/ functions.
 */
#ifndef INTAKE_INTAKECTL_H
#define INTAKE_INTAKECTL_H

#include "config.h"
#include "store.h"

struct ctl {
	struct intake_config *cfg;
	struct store *st;
};

/* Prints "intakectl CMD: <message>" and a hint; returns 2. */
int usage_error(const char *cmd, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Parses a command's own options (--help included); false on error. */
bool parse_opts(const char *cmd, const char *args, const char *help,
		GOptionEntry *entries, int *argc, char ***argv);
/* A positive decimal id. */
bool parse_id(const char *s, int64_t *id_r);
/* Writes out to stdout; 0, or 1 when stdout failed. */
int print_out(GString *out);
/* Prints the error; 2 for configuration errors, else 1. */
int fail(const char *cmd, GError *err);
/* Processes pending messages now (import, assign, reprocess). */
int process_now(struct ctl *ctl, const char *cmd);

/* ctl_manual.c: what arrives outside the mailbox. */
int ctl_add(struct ctl *ctl, int argc, char **argv);
int ctl_receive(struct ctl *ctl, int argc, char **argv);
int ctl_withdraw(struct ctl *ctl, int argc, char **argv);

/* ctl_office.c: the office's view. */
int ctl_export(struct ctl *ctl, int argc, char **argv);
int ctl_report(struct ctl *ctl, int argc, char **argv);
int ctl_remind(struct ctl *ctl, int argc, char **argv);
/* "\r[n/N] what" on stderr when it is a terminal (a newline after the
 * last), nothing otherwise: progress for any long command. */
void ctl_progress(unsigned done, unsigned total, const char *what);

#endif
