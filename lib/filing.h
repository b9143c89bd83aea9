/*
 * filing.h - the unit folders: <state_dir>/units/<unit>/总结|图片|视频/
 *
 * Every name written to disk is sanitised (filing_sanitize) and every file
 * is opened relative to a directory fd with O_NOFOLLOW: nothing from a
 * message chooses a path outside state_dir.  A file is placed durably: a
 * temp file created O_EXCL, written, fsynced, renamed to its final name,
 * then the directory fsynced.  The final name is derived from the item's
 * identity, so a redo after a crash replaces instead of duplicating.
 */
#ifndef INTAKE_FILING_H
#define INTAKE_FILING_H

#include "common.h"

#define FILING_NAME_MAX 180 /* bytes of a sanitised name */

/* The subfolder for a type: "总结", "图片", "视频" (NULL for others). */
const char *filing_subdir(enum item_type type);

/* A safe file name: valid UTF-8, no '/', "..", control, bidi or
 * zero-width characters, no Windows-reserved name (CON, NUL, COM1...)
 * or trailing dot/space, at most max_bytes (extension kept).  Never empty
 * ("_" at worst).  Pure. */
char *filing_sanitize(const char *name, size_t max_bytes);

/* Places src_path as units/<unit>/<subdir>/<name> (unit and name are
 * sanitised here).  The source is copied, or hard-linked when it is on
 * the same file system.  relpath_r (optional) gets the path relative to
 * state_dir. */
bool filing_put(const char *state_dir, const char *unit, const char *subdir,
		const char *name, const char *src_path, char **relpath_r,
		GError **error);

/* Renames a filed item (relative path) to new_name (sanitised) in the
 * same folder, replacing a file of that name.  When relpath is gone and
 * new_name exists (a redo after a crash) it succeeds. */
bool filing_rename(const char *state_dir, const char *relpath,
		   const char *new_name, char **relpath_r, GError **error);

/* Moves a filed item into units/<unit>/.withdrawn/ (kept, not counted),
 * under its name, or name-2.ext, name-3.ext... when that is taken.  A
 * relpath already in .withdrawn is returned as it is; one that is gone
 * while .withdrawn/<name> exists (a redo) returns that. */
bool filing_move_aside(const char *state_dir, const char *relpath,
		       char **relpath_r, GError **error);

/* Removes temp files and files that known (relative paths, a set) does
 * not contain from units/, and every symlink or special file there; never
 * follows a link.  known NULL: only temp files, links and special files
 * go.  Returns how many were removed, -1 on error. */
int filing_cleanup(const char *state_dir, GHashTable *known, GError **error);

#endif
