/*
 * fixtures.h - the generated test files (tests/fixtures/gen.py)
 *
 * fixtures_make() runs the generator with /usr/bin/python3 into a new
 * directory under /tmp and returns its path, or NULL (with a FAIL line)
 * when it failed; the unit tests run from the repository's top, as
 * tests/run does.  fixtures_path() joins a name to it; fixtures_remove()
 * deletes the directory and everything under it.
 */
#ifndef INTAKE_FIXTURES_H
#define INTAKE_FIXTURES_H

#include <glib.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "t.h"

static inline char *
fixtures_make(const char *test)
{
	char *dir = g_dir_make_tmp("intake-fixtures-XXXXXX", NULL);
	char *cmd;
	int rc;

	if (dir == NULL) {
		T_CHECK(test, dir != NULL);
		return NULL;
	}
	cmd = g_strdup_printf("/usr/bin/python3 tests/fixtures/gen.py '%s'",
			      dir);
	rc = system(cmd);
	g_free(cmd);
	T_INTEQ("fixtures generated", rc, 0);
	if (rc != 0) {
		g_free(dir);
		return NULL;
	}
	return dir;
}

static inline char *
fixtures_path(const char *dir, const char *name)
{
	return g_build_filename(dir, name, NULL);
}

/* Depth-first; bounded by what the tests create (a few levels). */
static inline void
fixtures_remove(const char *path)
{
	GDir *d = g_dir_open(path, 0, NULL);
	const char *name;

	if (d != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			char *sub = g_build_filename(path, name, NULL);

			if (g_file_test(sub, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(sub, G_FILE_TEST_IS_SYMLINK))
				fixtures_remove(sub);
			else
				g_unlink(sub);
			g_free(sub);
		}
		g_dir_close(d);
	}
	g_rmdir(path);
}

#endif
