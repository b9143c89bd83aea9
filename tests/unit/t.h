/*
 * t.h - the unit tests' harness
 *
 * Each check prints one line, "PASS name" or "FAIL name: why (file:line)";
 * tests/run counts them across every program and prints the closing
 * "N passed, N failed".  A test program exits 1 when any check failed.
 *
 *   T_CHECK(name, cond)           one named check
 *   T_STREQ(name, got, want)      strings (NULL-safe)
 *   T_INTEQ(name, got, want)      integers
 *   return t_done();              at the end of main()
 */
#ifndef INTAKE_T_H
#define INTAKE_T_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static unsigned t_passed, t_failed;

static inline void
t_report(const char *name, int ok, const char *file, int line,
	 const char *fmt_why)
{
	if (ok) {
		t_passed++;
		printf("PASS %s\n", name);
	} else {
		t_failed++;
		printf("FAIL %s: %s (%s:%d)\n", name, fmt_why, file, line);
	}
	fflush(stdout);
}

#define T_CHECK(name, cond) \
	t_report((name), !!(cond), __FILE__, __LINE__, #cond)

#define T_STREQ(name, got, want)                                          \
	do {                                                              \
		const char *t_g_ = (got), *t_w_ = (want);                 \
		char t_why_[1024];                                        \
		int t_ok_ = (t_g_ == NULL && t_w_ == NULL) ||             \
			    (t_g_ && t_w_ && strcmp(t_g_, t_w_) == 0);    \
		snprintf(t_why_, sizeof(t_why_), "got \"%s\", want \"%s\"", \
			 t_g_ ? t_g_ : "(null)", t_w_ ? t_w_ : "(null)");  \
		t_report((name), t_ok_, __FILE__, __LINE__, t_why_);      \
	} while (0)

#define T_INTEQ(name, got, want)                                          \
	do {                                                              \
		intmax_t t_g_ = (intmax_t)(got), t_w_ = (intmax_t)(want); \
		char t_why_[128];                                         \
		snprintf(t_why_, sizeof(t_why_), "got %jd, want %jd",     \
			 t_g_, t_w_);                                     \
		t_report((name), t_g_ == t_w_, __FILE__, __LINE__, t_why_); \
	} while (0)

static inline int
t_done(void)
{
	return t_failed ? 1 : 0;
}

#endif
