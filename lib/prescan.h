/*
 * prescan.h - the raw message against the limits, before GMime sees it
 */
#ifndef INTAKE_PRESCAN_H
#define INTAKE_PRESCAN_H

#include <sys/types.h>

#include "common.h"
#include "config.h"

/* Checks the raw file (fd, read from its start) against lim's
 * max_message_bytes, max_header_bytes and max_parts in one pass, reading
 * INTAKE_IO_BLOCK bytes at a time into buf; path names it in errors.
 * *start_r is where the headers begin (lines of white space before them
 * are skipped) and fd is left there.  A limit passed: INTAKE_ERROR_LIMIT
 * with the reason in Chinese, for the reply. */
bool prescan_message(int fd, const char *path,
		     const struct limits_config *lim, char *buf,
		     off_t *start_r, GError **error);

#endif
