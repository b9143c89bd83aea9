/*
 * log.h - the one logging module
 *
 * Severities have fixed meanings (as Postfix's msg.c):
 *   log_debug  detail for -v only
 *   log_info   one line per message processed, cycle summaries
 *   log_warn   something went wrong and was handled (retry, refusal)
 *   log_error  an operation failed; the daemon goes on
 *   log_fatal  the environment is broken: log and exit(1)
 *
 * Lines go to stderr.  Under systemd (JOURNAL_STREAM set) each line
 * starts with an sd-daemon priority prefix (<3> <4> <6> <7>) so journald
 * keeps the level; otherwise with a timestamp and the program name.
 * Passwords and message bodies are never passed here.
 */
#ifndef INTAKE_LOG_H
#define INTAKE_LOG_H

#include <stdbool.h>

void log_init(const char *progname, bool verbose);
bool log_verbose(void);
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_fatal(const char *fmt, ...)
	__attribute__((format(printf, 1, 2), noreturn));

#endif
