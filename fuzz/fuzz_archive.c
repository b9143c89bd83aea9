/*
 * fuzz_archive.c - the archive check: archive_extract() and friends
 *
 * The input is an attachment that might be an archive.  It is sniffed
 * (libmagic, and a look inside zips for DOCX and OFD), asked for DOCX
 * parts, and extracted under [limits]' defaults (libarchive: zip, rar,
 * 7z), as check.c does with an archive attachment.
 */
#include "archive.h"
#include "config.h"
#include "fuzz.h"
#include "sniff.h"

static struct limits_config fz_limits;
static bool fz_ready;

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *path = NULL, *work = NULL;
	GPtrArray *members = NULL;
	struct sniff_result sn;

	if (!fz_ready) {
		config_limits_defaults(&fz_limits);
		fz_ready = true;
	}
	path = fuzz_write("attachment.bin", data, size);
	work = fuzz_subdir("members");
	sniff_file(path, &sn, &err);
	g_clear_error(&err);
	archive_zip_has(path, "word/document.xml");
	if (archive_extract(path, work, &fz_limits, &members, &err))
		g_ptr_array_unref(members);
	fuzz_empty(work);
	return 0;
}
