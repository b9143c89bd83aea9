/*
 * common.c - error domain and small shared helpers
 */
#include <stdarg.h>
#include <unistd.h>

#include "common.h"

G_DEFINE_QUARK(intake-error-quark, intake_error)

bool
intake_fail(GError **error, int code, const char *fmt, ...)
{
	va_list ap;

	if (error == NULL)
		return false;
	g_return_val_if_fail(*error == NULL, false);
	va_start(ap, fmt);
	*error = g_error_new_valist(INTAKE_ERROR, code, fmt, ap);
	va_end(ap);
	return false;
}

const char *
item_type_name(enum item_type type)
{
	switch (type) {
	case ITEM_PHOTO:
		return "photo";
	case ITEM_VIDEO:
		return "video";
	case ITEM_SUMMARY:
		return "summary";
	case ITEM_LINK:
		return "link";
	case ITEM_OTHER:
		break;
	}
	return "other";
}

static void
work_rmtree_at(const char *path, unsigned depth)
{
	GDir *d;
	const char *name;

	if (depth > 8)
		return;
	d = g_dir_open(path, 0, NULL);
	if (d != NULL) {
		while ((name = g_dir_read_name(d)) != NULL) {
			g_autofree char *child = g_build_filename(path, name, NULL);

			if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
				work_rmtree_at(child, depth + 1);
			else
				unlink(child);
		}
		g_dir_close(d);
	}
	rmdir(path);
}

void
work_rmtree(const char *path)
{
	work_rmtree_at(path, 0);
}
