/*
 * common.h - shared definitions for every intake module
 *
 * Ownership: unless a header says otherwise, strings and structures
 * returned by a function belong to the caller, who frees them with the
 * matching _free() (or g_free() for plain strings).
 *
 * Errors: library functions return FALSE/-1 and fill a GError in the
 * INTAKE_ERROR domain.  The code says how far the failure reaches; the
 * daemon, not the library, decides what to log and whether to go on.
 */
#ifndef INTAKE_COMMON_H
#define INTAKE_COMMON_H

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INTAKE_VERSION "0.1.0"

#define INTAKE_ERROR (intake_error_quark())
GQuark intake_error_quark(void);

enum intake_error_code {
	INTAKE_ERROR_ITEM,       /* one attachment is bad; the message goes on */
	INTAKE_ERROR_MESSAGE,    /* this message cannot be processed */
	INTAKE_ERROR_LIMIT,      /* a configured limit was exceeded */
	INTAKE_ERROR_TEMPORARY,  /* try again later (network, 4xx, disk) */
	INTAKE_ERROR_CONNECTION, /* the connection to a server is gone */
	INTAKE_ERROR_AUTH,       /* the server refused our credentials */
	INTAKE_ERROR_PERMANENT,  /* the peer refused for good (5xx) */
	INTAKE_ERROR_CONFIG,     /* configuration is wrong: refuse to start */
	INTAKE_ERROR_IO,         /* local disk or database failure */
	INTAKE_ERROR_FATAL,      /* the environment is broken: exit */
};

/* Sets *error (if error is not NULL) to the formatted text with code in
 * INTAKE_ERROR; returns false, for "return intake_fail(error, ...);". */
bool intake_fail(GError **error, int code, const char *fmt, ...)
	G_GNUC_PRINTF(3, 4);

/* Item types, as named in DESIGN.md §6 ("type" of an item). */
enum item_type {
	ITEM_PHOTO,
	ITEM_VIDEO,
	ITEM_SUMMARY,
	ITEM_LINK,
	ITEM_OTHER,
};
const char *item_type_name(enum item_type type);

/* Removes a work directory tree that intake created (bounded depth, no
 * symlink followed); errors are ignored: what remains is removed at the
 * next start. */
void work_rmtree(const char *path);

/* Read every byte of fd into nothing but the callback, in blocks. */
#define INTAKE_IO_BLOCK (64 * 1024)

#endif
