/*
 * test_filing.c - safe names, and placing files under state_dir/units/
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filing.h"
#include "t.h"

struct name_case {
	const char *name;
	const char *input;
	size_t max; /* 0: FILING_NAME_MAX */
	const char *want;
};

static const struct name_case name_cases[] = {
	{ "plain", "01-活动现场.jpg", 0, "01-活动现场.jpg" },
	{ "camera", "IMG_0001.JPG", 0, "IMG_0001.JPG" },
	{ "dotdot_path", "../../etc/passwd", 0, "etcpasswd" },
	{ "absolute", "/etc/passwd", 0, "etcpasswd" },
	{ "backslash", "..\\..\\windows\\x.jpg", 0, "windowsx.jpg" },
	{ "inner_dotdot", "a/../b.jpg", 0, "a..b.jpg" },
	{ "tab_cr_lf", "a\tb\r\nc.jpg", 0, "abc.jpg" },
	{ "del", "photo\x7f.jpg", 0, "photo.jpg" },
	{ "escape", "\x1b[31mred.jpg", 0, "[31mred.jpg" },
	{ "c1_nel", "a\xc2\x85" "b.jpg", 0, "ab.jpg" },
	{ "rlo", "invoice\xe2\x80\xaegpj.exe", 0, "invoicegpj.exe" },
	{ "lri_pdi", "\xe2\x81\xa6x\xe2\x81\xa9.jpg", 0, "x.jpg" },
	{ "lrm_rlm", "\xe2\x80\x8e图片\xe2\x80\x8f.jpg", 0, "图片.jpg" },
	{ "zero_width", "a\xe2\x80\x8b" "b\xe2\x80\x8d" "c\xef\xbb\xbf.jpg", 0,
	  "abc.jpg" },
	{ "windows_chars", "a<b>c:d\"e|f?g*h.jpg", 0, "a_b_c_d_e_f_g_h.jpg" },
	{ "con", "CON", 0, "_CON" },
	{ "con_ext", "con.txt", 0, "_con.txt" },
	{ "nul_txt", "nul.txt", 0, "_nul.txt" },
	{ "com1_jpg", "COM1.jpg", 0, "_COM1.jpg" },
	{ "lpt9", "lpt9", 0, "_lpt9" },
	{ "aux_two_ext", "Aux.tar.gz", 0, "_Aux.tar.gz" },
	{ "con_space", "CON .txt", 0, "_CON .txt" },
	{ "com10_ok", "COM10.jpg", 0, "COM10.jpg" },
	{ "console_ok", "CONSOLE.jpg", 0, "CONSOLE.jpg" },
	{ "com0_ok", "COM0.jpg", 0, "COM0.jpg" },
	{ "hidden", ".hidden", 0, "hidden" },
	{ "dot", ".", 0, "_" },
	{ "dotdot", "..", 0, "_" },
	{ "only_dots", ".....", 0, "_" },
	{ "dots_spaces", " . . ", 0, "_" },
	{ "empty", "", 0, "_" },
	{ "only_controls", "\x01\x02\x03", 0, "_" },
	{ "trailing_dot_space", "name. . ", 0, "name" },
	{ "trailing_dot_ext", "file.jpg.", 0, "file.jpg" },
	{ "leading_space", "  name.jpg", 0, "name.jpg" },
	{ "ideographic_space_kept", "\xe3\x80\x80图.jpg", 0,
	  "\xe3\x80\x80图.jpg" },
	{ "invalid_utf8", "\xff\xfe.jpg", 0, "\xef\xbf\xbd\xef\xbf\xbd.jpg" },
	{ "invalid_gbk_bytes", "\xb2\xe2\xca\xd4.jpg", 0,
	  "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.jpg" },
	{ "nfd_to_nfc", "cafe\xcc\x81.jpg", 0, "caf\xc3\xa9.jpg" },
	{ "nfc_stays", "caf\xc3\xa9.jpg", 0, "caf\xc3\xa9.jpg" },
	{ "cut_keeps_ext", "abcdef.jpg", 6, "ab.jpg" },
	{ "cut_no_room_for_ext", "abcdef.jpg", 4, "abcd" },
	{ "cut_char_boundary", "图片说明.jpg", 10, "图片.jpg" },
	{ "cut_trims_stem", "ab  cd.jpg", 7, "ab.jpg" },
	{ "cut_tiny_cjk", "图.jpg", 5, "_" },
	{ "max_one", "abc", 1, "a" },
	{ "reserved_after_cut", "CONSOLE", 3, "_CO" },
	{ "long_ext_not_kept", "a.verylongextensionname", 5, "a.ver" },
};

/* Long names: prefix repeated count times, then suffix. */
struct long_case {
	const char *name;
	const char *unit;
	size_t count;
	const char *suffix;
	size_t want_count;
	const char *want_suffix;
};

static const struct long_case long_cases[] = {
	{ "long_ascii_1000", "a", 996, ".jpg", 176, ".jpg" },
	{ "long_cjk", "图", 333, ".jpg", 58, ".jpg" },
	{ "long_cjk_noext", "图", 100, "", 60, "" },
	{ "long_mixed_ext", "说明", 200, ".docx", 29, ".docx" },
};

static void
test_names(void)
{
	char name[128];

	for (size_t i = 0; i < G_N_ELEMENTS(name_cases); i++) {
		const struct name_case *c = &name_cases[i];
		g_autofree char *got = filing_sanitize(c->input, c->max);

		snprintf(name, sizeof(name), "sanitize.%s", c->name);
		T_STREQ(name, got, c->want);
	}
	for (size_t i = 0; i < G_N_ELEMENTS(long_cases); i++) {
		const struct long_case *c = &long_cases[i];
		g_autoptr(GString) in = g_string_new(NULL);
		g_autoptr(GString) want = g_string_new(NULL);
		g_autofree char *got = NULL;

		for (size_t j = 0; j < c->count; j++)
			g_string_append(in, c->unit);
		g_string_append(in, c->suffix);
		for (size_t j = 0; j < c->want_count; j++)
			g_string_append(want, c->unit);
		g_string_append(want, c->want_suffix);
		got = filing_sanitize(in->str, FILING_NAME_MAX);
		snprintf(name, sizeof(name), "sanitize.%s", c->name);
		T_STREQ(name, got, want->str);
		snprintf(name, sizeof(name), "sanitize.%s.bounded", c->name);
		T_CHECK(name, strlen(got) <= FILING_NAME_MAX &&
			      g_utf8_validate(got, -1, NULL));
	}
	{
		g_autofree char *got = filing_sanitize(NULL, 0);

		T_STREQ("sanitize.null", got, "_");
	}
	/* two spellings of one name collide on purpose */
	{
		g_autofree char *a =
			filing_sanitize("e\xcc\x81t\xc3\xa9.jpg", 0);
		g_autofree char *b =
			filing_sanitize("\xc3\xa9te\xcc\x81.jpg", 0);

		T_STREQ("sanitize.nfc_collide", a, b);
	}
}

static void
test_subdirs(void)
{
	T_STREQ("subdir.summary", filing_subdir(ITEM_SUMMARY), "总结");
	T_STREQ("subdir.photo", filing_subdir(ITEM_PHOTO), "图片");
	T_STREQ("subdir.video", filing_subdir(ITEM_VIDEO), "视频");
	T_STREQ("subdir.link", filing_subdir(ITEM_LINK), NULL);
	T_STREQ("subdir.other", filing_subdir(ITEM_OTHER), NULL);
}

/* ---- file operations ---- */

static GPtrArray *t_paths; /* what tpath() built, freed at the end */

/* A path built from components, kept until the end of the test. */
static const char *tpath(const char *first, ...) G_GNUC_NULL_TERMINATED;

static const char *
tpath(const char *first, ...)
{
	va_list ap;
	char *p;

	va_start(ap, first);
	p = g_build_filename_valist(first, &ap);
	va_end(ap);
	g_ptr_array_add(t_paths, p);
	return p;
}

static void
rmtree(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *n;

	if (dir) {
		while ((n = g_dir_read_name(dir))) {
			g_autofree char *p = g_build_filename(path, n, NULL);

			if (g_file_test(p, G_FILE_TEST_IS_DIR) &&
			    !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
				rmtree(p);
			else
				unlink(p);
		}
		g_dir_close(dir);
	}
	rmdir(path);
}

static bool
has_content(const char *dir, const char *rel, const char *want)
{
	g_autofree char *p = g_build_filename(dir, rel, NULL);
	g_autofree char *got = NULL;

	if (g_file_test(p, G_FILE_TEST_IS_SYMLINK))
		return false;
	return g_file_get_contents(p, &got, NULL, NULL) &&
	       strcmp(got, want) == 0;
}

static bool
exists(const char *dir, const char *rel)
{
	g_autofree char *p = g_build_filename(dir, rel, NULL);
	struct stat st;

	return lstat(p, &st) == 0;
}

/* Counts ".tmp-*" entries in dir/rel. */
static unsigned
temp_files(const char *dir, const char *rel)
{
	g_autofree char *p = g_build_filename(dir, rel, NULL);
	GDir *d = g_dir_open(p, 0, NULL);
	const char *n;
	unsigned count = 0;

	if (!d)
		return 0;
	while ((n = g_dir_read_name(d)))
		if (g_str_has_prefix(n, ".tmp-"))
			count++;
	g_dir_close(d);
	return count;
}

static char *
make_src(const char *dir, const char *name, const char *content)
{
	char *p = g_build_filename(dir, name, NULL);

	g_file_set_contents(p, content, -1, NULL);
	return p;
}

static void
test_put(const char *state, const char *work)
{
	g_autofree char *src = make_src(work, "part1", "jpeg bytes");
	g_autofree char *src2 = make_src(work, "part2", "new bytes");
	g_autoptr(GError) err = NULL;
	char *rel = NULL;
	const char *want = "units/福州市市场监督管理局/图片/01-活动现场.jpg";

	T_CHECK("put.ok", filing_put(state, "福州市市场监督管理局", "图片",
				     "01-活动现场.jpg", src, &rel, &err));
	T_STREQ("put.relpath", rel, want);
	T_CHECK("put.content", has_content(state, want, "jpeg bytes"));
	T_INTEQ("put.no_temp",
		temp_files(state, "units/福州市市场监督管理局/图片"), 0);
	g_clear_pointer(&rel, g_free);

	/* a redo replaces */
	T_CHECK("put.redo", filing_put(state, "福州市市场监督管理局", "图片",
				       "01-活动现场.jpg", src2, NULL, NULL));
	T_CHECK("put.redo_replaced", has_content(state, want, "new bytes"));
	T_CHECK("put.source_kept", has_content(work, "part2", "new bytes"));

	/* the source is the filed file itself: nothing changes, no temp
	 * link is left behind (rename() of two links to one inode) */
	{
		g_autofree char *self = g_build_filename(state, want, NULL);

		T_CHECK("put.self", filing_put(state, "福州市市场监督管理局",
					       "图片", "01-活动现场.jpg", self,
					       &rel, NULL));
		T_STREQ("put.self_relpath", rel, want);
		T_CHECK("put.self_content",
			has_content(state, want, "new bytes"));
		T_INTEQ("put.self_no_temp",
			temp_files(state, "units/福州市市场监督管理局/图片"),
			0);
		g_clear_pointer(&rel, g_free);
	}

	/* names from a message cannot leave state_dir */
	T_CHECK("put.hostile", filing_put(state, "../../evil", "总结",
					  "../../../x.doc", src, &rel, NULL));
	T_STREQ("put.hostile_relpath", rel, "units/evil/总结/x.doc");
	T_CHECK("put.hostile_inside",
		has_content(state, "units/evil/总结/x.doc", "jpeg bytes"));
	g_clear_pointer(&rel, g_free);

	T_CHECK("put.bad_subdir",
		!filing_put(state, "u", "..", "x.jpg", src, NULL, NULL));
	T_CHECK("put.bad_subdir_slash",
		!filing_put(state, "u", "a/b", "x.jpg", src, NULL, NULL));
	T_CHECK("put.missing_source",
		!filing_put(state, "u", "图片", "x.jpg", "/nonexistent/src",
			    NULL, NULL));
	T_CHECK("put.missing_state_dir",
		!filing_put("/nonexistent/state", "u", "图片", "x.jpg", src,
			    NULL, NULL));

	/* across file systems: copied, not linked */
	{
		g_autofree char *dsrc = NULL;
		struct stat a, b;

		if (stat("/dev/shm", &a) == 0 && stat(state, &b) == 0 &&
		    a.st_dev != b.st_dev && access("/dev/shm", W_OK) == 0) {
			g_autofree char *d =
				g_strdup("/dev/shm/filing-XXXXXX");

			if (g_mkdtemp(d)) {
				dsrc = make_src(d, "video", "mp4 bytes");
				T_CHECK("put.copy",
					filing_put(state,
						   "厦门市市场监督管理局",
						   "视频", "a.mp4", dsrc, &rel,
						   &err));
				T_CHECK("put.copy_content",
					rel && has_content(state, rel,
							   "mp4 bytes"));
				T_INTEQ("put.copy_no_temp",
					temp_files(state, "units/厦门市市场"
						   "监督管理局/视频"), 0);
				g_clear_pointer(&rel, g_free);
				rmtree(d);
			}
		} else {
			printf("SKIP filing.copy: no second file system\n");
		}
	}
}

static void
test_symlinks(const char *state, const char *work, const char *outside)
{
	g_autofree char *src = make_src(work, "part3", "payload");
	g_autofree char *victim = make_src(outside, "victim", "precious");
	g_autofree char *units = g_build_filename(state, "units", NULL);
	g_autofree char *link1 = g_build_filename(units, "漳州", NULL);
	g_autofree char *link2 = NULL;
	g_autofree char *link3 = NULL;
	g_autoptr(GError) err = NULL;

	/* a unit folder that is a symlink elsewhere */
	g_mkdir_with_parents(units, 0750);
	symlink(outside, link1);
	T_CHECK("symlink.unit_refused",
		!filing_put(state, "漳州", "图片", "a.jpg", src, NULL, &err));
	T_CHECK("symlink.unit_error", err && err->code == INTAKE_ERROR_IO &&
				      strstr(err->message, "symbolic link"));
	T_CHECK("symlink.unit_nothing_outside",
		!exists(outside, "图片") && !exists(outside, "a.jpg"));
	g_clear_error(&err);

	/* a subdir that is a symlink */
	g_mkdir_with_parents(tpath(units, "泉州", NULL), 0750);
	link2 = g_build_filename(units, "泉州", "图片", NULL);
	symlink(outside, link2);
	T_CHECK("symlink.subdir_refused",
		!filing_put(state, "泉州", "图片", "a.jpg", src, NULL, NULL));
	T_CHECK("symlink.subdir_nothing_outside", !exists(outside, "a.jpg"));

	/* a symlink where the file goes is replaced, not written through */
	g_mkdir_with_parents(tpath(units, "三明", "图片", NULL),
			     0750);
	link3 = g_build_filename(units, "三明", "图片", "a.jpg", NULL);
	symlink(victim, link3);
	T_CHECK("symlink.final_put",
		filing_put(state, "三明", "图片", "a.jpg", src, NULL, NULL));
	T_CHECK("symlink.final_replaced",
		has_content(state, "units/三明/图片/a.jpg", "payload"));
	T_CHECK("symlink.victim_intact",
		has_content(outside, "victim", "precious"));

	/* rename and move_aside refuse symlinked items and folders */
	T_CHECK("symlink.rename_refused",
		!filing_rename(state, "units/漳州/图片/a.jpg", "b.jpg", NULL,
			       NULL));
	symlink(victim, tpath(units, "三明", "图片", "l.jpg", NULL));
	T_CHECK("symlink.rename_link_refused",
		!filing_rename(state, "units/三明/图片/l.jpg", "m.jpg", NULL,
			       NULL));
	T_CHECK("symlink.move_aside_refused",
		!filing_move_aside(state, "units/三明/图片/l.jpg", NULL,
				   NULL));
	T_CHECK("symlink.victim_still_intact",
		has_content(outside, "victim", "precious"));
}

static void
test_rename_move(const char *state, const char *work)
{
	g_autofree char *src = make_src(work, "part4", "photo");
	g_autoptr(GError) err = NULL;
	char *rel = NULL, *rel2 = NULL;

	filing_put(state, "南平", "图片", "03.jpg", src, &rel, NULL);
	T_CHECK("rename.ok", filing_rename(state, rel, "03-义诊活动.jpg",
					   &rel2, &err));
	T_STREQ("rename.relpath", rel2, "units/南平/图片/03-义诊活动.jpg");
	T_CHECK("rename.moved", !exists(state, rel) &&
				has_content(state, rel2, "photo"));
	g_clear_pointer(&rel2, g_free);
	/* a redo after a crash: already renamed */
	T_CHECK("rename.redo", filing_rename(state, rel, "03-义诊活动.jpg",
					     &rel2, NULL));
	T_STREQ("rename.redo_relpath", rel2,
		"units/南平/图片/03-义诊活动.jpg");
	g_clear_pointer(&rel, g_free);
	g_clear_pointer(&rel2, g_free);
	T_CHECK("rename.sanitised",
		filing_rename(state, "units/南平/图片/03-义诊活动.jpg",
			      "../x/y.jpg", &rel2, NULL));
	T_STREQ("rename.sanitised_relpath", rel2, "units/南平/图片/xy.jpg");
	g_clear_pointer(&rel2, g_free);
	T_CHECK("rename.missing",
		!filing_rename(state, "units/南平/图片/none.jpg", "z.jpg",
			       NULL, NULL));
	T_CHECK("rename.bad_relpath",
		!filing_rename(state, "units/南平/../../x.jpg", "z.jpg", NULL,
			       &err));
	T_CHECK("rename.bad_relpath_outside",
		!filing_rename(state, "/etc/passwd", "z.jpg", NULL, NULL));

	/* move aside; a second one with the same name gets a suffix */
	T_CHECK("aside.ok", filing_move_aside(state, "units/南平/图片/xy.jpg",
					      &rel, NULL));
	T_STREQ("aside.relpath", rel, "units/南平/.withdrawn/xy.jpg");
	T_CHECK("aside.moved", !exists(state, "units/南平/图片/xy.jpg") &&
			       has_content(state, rel, "photo"));
	g_clear_pointer(&rel, g_free);
	/* the redo of a move that happened */
	T_CHECK("aside.redo",
		filing_move_aside(state, "units/南平/图片/xy.jpg", &rel,
				  NULL));
	T_STREQ("aside.redo_relpath", rel, "units/南平/.withdrawn/xy.jpg");
	g_clear_pointer(&rel, g_free);
	filing_put(state, "南平", "图片", "xy.jpg", src, NULL, NULL);
	T_CHECK("aside.second", filing_move_aside(state,
						  "units/南平/图片/xy.jpg",
						  &rel, NULL));
	T_STREQ("aside.suffix", rel, "units/南平/.withdrawn/xy-2.jpg");
	g_clear_pointer(&rel, g_free);
	T_CHECK("aside.already_aside",
		filing_move_aside(state, "units/南平/.withdrawn/xy-2.jpg",
				  &rel, NULL));
	T_STREQ("aside.already_relpath", rel,
		"units/南平/.withdrawn/xy-2.jpg");
	g_clear_pointer(&rel, g_free);
	T_CHECK("aside.missing",
		!filing_move_aside(state, "units/南平/图片/none.jpg", NULL,
				   NULL));
}

static void
test_cleanup(const char *state, const char *work, const char *outside)
{
	g_autofree char *src = make_src(work, "part5", "keep me");
	g_autoptr(GHashTable) known =
		g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autoptr(GError) err = NULL;
	g_autofree char *dir = g_build_filename(state, "units", "龙岩", "图片",
						NULL);
	g_autofree char *evil = g_build_filename(state, "units", "evil-link",
						 NULL);
	g_autofree char *fifo = g_build_filename(dir, "fifo", NULL);
	char *rel = NULL;
	int n;

	rmtree(tpath(state, "units", NULL));
	T_INTEQ("cleanup.no_units", filing_cleanup(state, known, NULL), 0);

	filing_put(state, "龙岩", "图片", "01-a.jpg", src, &rel, NULL);
	g_hash_table_add(known, rel);
	filing_put(state, "龙岩", "图片", "02-b.jpg", src, &rel, NULL);
	g_hash_table_add(known, rel); /* freed by the table */
	filing_move_aside(state, rel, &rel, NULL);
	g_hash_table_add(known, rel);
	filing_put(state, "龙岩", "总结", "总结.docx", src, &rel, NULL);
	g_hash_table_add(known, rel);
	/* leftovers of a crash and planted things */
	filing_put(state, "龙岩", "图片", "stray.jpg", src, NULL, NULL);
	g_free(make_src(dir, ".tmp-0000dead0000beef", "half"));
	g_free(make_src(state, "units/龙岩/loose.txt", "x"));
	symlink(tpath(outside, "victim", NULL), tpath(dir, "link.jpg", NULL));
	symlink(outside, evil);
	mkfifo(fifo, 0600);

	/* without a known set only temp files, links and specials go */
	n = filing_cleanup(state, NULL, &err);
	T_INTEQ("cleanup.null_known", n, 4);
	T_CHECK("cleanup.null_known_kept_stray",
		exists(state, "units/龙岩/图片/stray.jpg"));

	g_free(make_src(dir, ".tmp-0000dead0000beef", "half"));
	n = filing_cleanup(state, known, &err);
	T_INTEQ("cleanup.count", n, 3);
	T_CHECK("cleanup.known_kept",
		has_content(state, "units/龙岩/图片/01-a.jpg", "keep me") &&
		has_content(state, "units/龙岩/.withdrawn/02-b.jpg",
			    "keep me") &&
		has_content(state, "units/龙岩/总结/总结.docx", "keep me"));
	T_CHECK("cleanup.stray_removed",
		!exists(state, "units/龙岩/图片/stray.jpg") &&
		!exists(state, "units/龙岩/loose.txt"));
	T_CHECK("cleanup.temp_removed",
		temp_files(state, "units/龙岩/图片") == 0);
	T_CHECK("cleanup.links_removed",
		!exists(state, "units/龙岩/图片/link.jpg") &&
		!exists(state, "units/evil-link"));
	T_CHECK("cleanup.outside_intact",
		has_content(outside, "victim", "precious"));
	T_INTEQ("cleanup.idempotent", filing_cleanup(state, known, NULL), 0);

	/* units itself a symlink: removed, the target untouched */
	rmtree(tpath(state, "units", NULL));
	symlink(outside, tpath(state, "units", NULL));
	T_INTEQ("cleanup.units_link", filing_cleanup(state, known, NULL), 1);
	T_CHECK("cleanup.units_link_outside_intact",
		has_content(outside, "victim", "precious"));
	T_CHECK("cleanup.bad_state",
		filing_cleanup("/nonexistent/state", known, NULL) == -1);
}

int
main(void)
{
	g_autofree char *top = g_dir_make_tmp("filing-XXXXXX", NULL);
	g_autofree char *state = g_build_filename(top, "state", NULL);
	g_autofree char *work = g_build_filename(top, "work", NULL);
	g_autofree char *outside = g_build_filename(top, "outside", NULL);

	mkdir(state, 0700);
	mkdir(work, 0700);
	mkdir(outside, 0700);
	t_paths = g_ptr_array_new_with_free_func(g_free);
	test_names();
	test_subdirs();
	test_put(state, work);
	test_symlinks(state, work, outside);
	test_rename_move(state, work);
	test_cleanup(state, work, outside);
	rmtree(top);
	g_ptr_array_unref(t_paths);
	return t_done();
}
