/*
 * fuzz_photo.c - the JPEG check: photo_inspect() with a thumbnail
 *
 * The input is an image file.  photo_inspect() sniffs it, reads the
 * header, checks the limits and decodes the whole entropy-coded stream
 * at reduced scale (libjpeg-turbo), writing a thumbnail as the office's
 * report does.  Limits are [limits]' defaults.
 */
#include <unistd.h>

#include "config.h"
#include "fuzz.h"
#include "photo.h"

static struct limits_config fz_limits;
static char *fz_thumb;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL;
	struct photo_facts facts;

	if (fz_thumb == NULL) {
		config_limits_defaults(&fz_limits);
		fz_thumb = g_build_filename(fuzz_dir(), "thumb.jpg", NULL);
	}
	photo_sniff(data, size);
	path = fuzz_write("photo.jpg", data, size);
	photo_inspect(path, &fz_limits, fz_thumb, &facts, &err);
	g_clear_error(&err);
	photo_inspect(path, &fz_limits, NULL, &facts, &err);
	unlink(fz_thumb);
	return 0;
}
