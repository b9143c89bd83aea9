/*
 * log.c - logging to stderr, with sd-daemon prefixes under systemd
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

static const char *log_prog = "intake";
static bool log_debug_on;
static bool log_journal;

void
log_init(const char *progname, bool verbose)
{
	log_prog = progname;
	log_debug_on = verbose;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

bool
log_verbose(void)
{
	return log_debug_on;
}

static void log_vemit(int prio, const char *tag, const char *fmt, va_list ap)
	__attribute__((format(printf, 3, 0)));

static void
log_vemit(int prio, const char *tag, const char *fmt, va_list ap)
{
	char line[4096];

	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_journal) {
		fprintf(stderr, "<%d>%s\n", prio, line);
	} else {
		char stamp[32];
		struct tm tm;
		time_t now = time(NULL);

		localtime_r(&now, &tm);
		strftime(stamp, sizeof(stamp), "%Y-%m-%d %H:%M:%S", &tm);
		fprintf(stderr, "%s %s[%ld]: %s%s\n", stamp, log_prog,
			(long)getpid(), tag, line);
	}
	fflush(stderr);
}

#define LOG_FN(name, prio, tag, cond)                                  \
	void name(const char *fmt, ...)                                \
	{                                                              \
		va_list ap;                                            \
		if (!(cond))                                           \
			return;                                        \
		va_start(ap, fmt);                                     \
		log_vemit(prio, tag, fmt, ap);                         \
		va_end(ap);                                            \
	}

LOG_FN(log_debug, 7, "debug: ", log_debug_on)
LOG_FN(log_info, 6, "", true)
LOG_FN(log_warn, 4, "warning: ", true)
LOG_FN(log_error, 3, "error: ", true)

void
log_fatal(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_vemit(2, "fatal: ", fmt, ap);
	va_end(ap);
	exit(1);
}
