/*
 * replay.c - a harness as a test program: each input once
 *
 *   build/tests/test_fuzz_NAME [FILE|DIR]...
 *
 * Without arguments it reads fuzz/regressions/NAME/ (NAME from the
 * program's own name; run from the top of the tree, as tests/run does).
 * Every file (directories are read one level deep, in name order) goes
 * through LLVMFuzzerTestOneInput() once, and prints "PASS fuzz.NAME.FILE"
 * when the harness returned: a crash, a sanitizer report or a leak ends
 * the program, and tests/run counts that as a failure.
 */
#include <stdio.h>
#include <string.h>

#include "fuzz.h"

#define REPLAY_FILE_MAX (64u * 1024 * 1024) /* bytes of one input */

/* libFuzzer calls it first when a harness has one. */
int LLVMFuzzerInitialize(int *argc, char ***argv) __attribute__((weak));

static unsigned replay_failed;

static void
replay_file(const char *name, const char *path)
{
	g_autoptr(GError) err = NULL;
	g_autofree char *data = NULL;
	g_autofree char *base = g_path_get_basename(path);
	gsize len = 0;

	if (!g_file_get_contents(path, &data, &len, &err) ||
	    len > REPLAY_FILE_MAX) {
		printf("FAIL fuzz.%s.%s: %s\n", name, base,
		       err ? err->message : "too large");
		replay_failed++;
		return;
	}
	LLVMFuzzerTestOneInput((const uint8_t *)data, len);
	printf("PASS fuzz.%s.%s\n", name, base);
	fflush(stdout);
}

static int
replay_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
replay_path(const char *name, const char *path)
{
	g_autoptr(GPtrArray) files = NULL;
	const char *entry;
	GDir *d;

	if (!g_file_test(path, G_FILE_TEST_IS_DIR)) {
		replay_file(name, path);
		return;
	}
	d = g_dir_open(path, 0, NULL);
	if (d == NULL)
		return;
	files = g_ptr_array_new_with_free_func(g_free);
	while ((entry = g_dir_read_name(d)) != NULL) {
		char *full = g_build_filename(path, entry, NULL);

		if (entry[0] != '.' &&
		    g_file_test(full, G_FILE_TEST_IS_REGULAR))
			g_ptr_array_add(files, full);
		else
			g_free(full);
	}
	g_dir_close(d);
	qsort(files->pdata, files->len, sizeof(gpointer), replay_cmp);
	for (unsigned i = 0; i < files->len; i++)
		replay_file(name, g_ptr_array_index(files, i));
}

int
main(int argc, char **argv)
{
	g_autofree char *prog = g_path_get_basename(argv[0]);
	const char *name = prog;

	if (g_str_has_prefix(name, "test_fuzz_"))
		name += strlen("test_fuzz_");
	if (LLVMFuzzerInitialize != NULL)
		LLVMFuzzerInitialize(&argc, &argv);
	if (argc > 1) {
		for (int i = 1; i < argc; i++)
			replay_path(name, argv[i]);
	} else {
		g_autofree char *dir =
			g_build_filename("fuzz", "regressions", name, NULL);

		replay_path(name, dir);
	}
	return replay_failed ? 1 : 0;
}
