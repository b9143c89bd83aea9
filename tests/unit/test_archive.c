/*
 * test_archive.c - archive_extract() on generated and hand-made archives
 *
 * Every extraction runs twice, in the C locale and in C.UTF-8: member
 * names must come out the same whatever the daemon's locale is.
 */
#include <locale.h>
#include <string.h>
#include <sys/stat.h>

/* libarchive's own header (lib/archive.h has its name; see archive.c) */
#include <archive.h>
#include <archive_entry.h>

#include "archive.h"
#include "config.h"
#include "fixtures.h"
#include "t.h"

static const char *const locales[] = { "C", "C.UTF-8" };

/* Archives that extract: their members in order. */
static const struct {
	const char *file;
	unsigned n;
	struct {
		const char *name; /* decoded base name */
		const char *disk; /* our file name under work_dir */
		const char *same; /* a fixture with the same bytes, or NULL */
		uint64_t size;    /* when same is NULL */
	} m[3];
} good[] = {
	{ "gbk_names.zip", 2, {
		{ "活动照片1.jpg", "member-0001.jpg", "photo_1024x768.jpg", 0 },
		{ "说明.txt", "member-0002.txt", NULL, 13 },
	} },
	{ "utf8_names.zip", 2, {
		{ "总结.txt", "member-0001.txt", "summary.txt", 0 },
		{ "内层.zip", "member-0002.zip", "gbk_names.zip", 0 },
	} },
	{ "made.7z", 2, {
		{ "活动照片.jpg", "member-0001.jpg", "photo_800x600.jpg", 0 },
		{ "总结.txt", "member-0002.txt", "summary.txt", 0 },
	} },
	{ "made.zip", 3, {
		{ "evil.txt", "member-0001.txt", "summary.txt", 0 },
		{ "passwd", "member-0002", "summary.txt", 0 },
		{ "back.txt", "member-0003.txt", "summary.txt", 0 },
	} },
};

/* Archives that are refused, with the default limits but one. */
enum which_limit { LIM_NONE, LIM_MEMBERS, LIM_BYTES_NO_RATIO };
static const struct {
	const char *name;
	const char *file;
	enum which_limit which;
	uint64_t value;
	int code;
	const char *words; /* in the message */
} bad[] = {
	{ "zip bomb", "bomb.zip", LIM_NONE, 0, INTAKE_ERROR_LIMIT,
	  "压缩炸弹" },
	{ "zip bomb, bytes only", "bomb.zip", LIM_BYTES_NO_RATIO, 50 << 20,
	  INTAKE_ERROR_LIMIT, "解压后超过 50 MB 的上限" },
	{ "too many members", "gbk_names.zip", LIM_MEMBERS, 1,
	  INTAKE_ERROR_LIMIT, "超过 1 个" },
	{ "encrypted member", "encrypted.zip", LIM_NONE, 0, INTAKE_ERROR_ITEM,
	  "密码" },
	{ "damaged rar", "signature.rar", LIM_NONE, 0, INTAKE_ERROR_ITEM,
	  "已损坏" },
	{ "7z of nothing", "signature.7z", LIM_NONE, 0, INTAKE_ERROR_ITEM,
	  "没有文件" },
	{ "not an archive", "summary.pdf", LIM_NONE, 0, INTAKE_ERROR_ITEM,
	  "已损坏" },
	{ "empty file", "empty.dat", LIM_NONE, 0, INTAKE_ERROR_ITEM,
	  "已损坏" },
};

/* A member for write_archive(). */
struct entry {
	const char *path;
	const char *fixture; /* content, or NULL */
	mode_t type;         /* AE_IFREG, AE_IFDIR, AE_IFLNK */
};

/* An archive written with libarchive: the format 7z or zip. */
static bool
write_archive(const char *dir, const char *file, bool sevenzip,
	      const struct entry *entries, size_t n)
{
	g_autofree char *path = fixtures_path(dir, file);
	struct archive *a = archive_write_new();
	bool ok = true;

	if (sevenzip)
		archive_write_set_format_7zip(a);
	else
		archive_write_set_format_zip(a);
	if (archive_write_open_filename(a, path) != ARCHIVE_OK) {
		archive_write_free(a);
		return false;
	}
	for (size_t i = 0; i < n && ok; i++) {
		struct archive_entry *e = archive_entry_new();
		g_autofree char *data = NULL;
		size_t len = 0;

		if (entries[i].fixture != NULL) {
			g_autofree char *src =
				fixtures_path(dir, entries[i].fixture);

			ok = g_file_get_contents(src, &data, &len, NULL);
		}
		archive_entry_set_pathname_utf8(e, entries[i].path);
		archive_entry_set_filetype(e, entries[i].type);
		archive_entry_set_perm(e, 0644);
		archive_entry_set_size(e, (la_int64_t)len);
		if (entries[i].type == AE_IFLNK)
			archive_entry_set_symlink(e, "/etc/passwd");
		ok = ok && archive_write_header(a, e) == ARCHIVE_OK;
		if (ok && len > 0)
			ok = archive_write_data(a, data, len) ==
			     (la_ssize_t)len;
		archive_entry_free(e);
	}
	ok = archive_write_close(a) == ARCHIVE_OK && ok;
	archive_write_free(a);
	return ok;
}

/* gbk_names.zip with bit 0 (encrypted) set in every header's flags. */
static bool
write_encrypted(const char *dir)
{
	g_autofree char *src = fixtures_path(dir, "gbk_names.zip");
	g_autofree char *dst = fixtures_path(dir, "encrypted.zip");
	g_autofree char *data = NULL;
	size_t len;

	if (!g_file_get_contents(src, &data, &len, NULL))
		return false;
	for (size_t i = 0; i + 10 < len; i++) {
		if (memcmp(data + i, "PK\x03\x04", 4) == 0)
			data[i + 6] |= 1;
		else if (memcmp(data + i, "PK\x01\x02", 4) == 0)
			data[i + 8] |= 1;
	}
	return g_file_set_contents(dst, data, (gssize)len, NULL);
}

static bool
same_bytes(const char *a, const char *b)
{
	g_autofree char *da = NULL, *db = NULL;
	size_t la, lb;

	return g_file_get_contents(a, &da, &la, NULL) &&
	       g_file_get_contents(b, &db, &lb, NULL) && la == lb &&
	       memcmp(da, db, la) == 0;
}

static unsigned
count_entries(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while (g_dir_read_name(d) != NULL)
		n++;
	g_dir_close(d);
	return n;
}

static void
test_good(const char *dir, const char *loc)
{
	struct limits_config lim;

	config_limits_defaults(&lim);
	for (size_t i = 0; i < G_N_ELEMENTS(good); i++) {
		g_autofree char *path = fixtures_path(dir, good[i].file);
		g_autofree char *work = g_build_filename(dir, "work", NULL);
		GPtrArray *members = NULL;
		GError *err = NULL;
		char name[200];

		g_mkdir(work, 0700);
		g_snprintf(name, sizeof(name), "%s (%s): extracted",
			   good[i].file, loc);
		T_CHECK(name, archive_extract(path, work, &lim, &members,
					      &err) && members != NULL);
		if (err != NULL)
			printf("# %s\n", err->message);
		g_snprintf(name, sizeof(name), "%s (%s): members",
			   good[i].file, loc);
		T_INTEQ(name, members != NULL ? members->len : 0, good[i].n);
		for (unsigned j = 0; members != NULL && j < members->len &&
				     j < good[i].n; j++) {
			const struct archive_member *m =
				g_ptr_array_index(members, j);
			g_autofree char *disk = g_build_filename(
				work, good[i].m[j].disk, NULL);

			g_snprintf(name, sizeof(name), "%s (%s): name %u",
				   good[i].file, loc, j + 1);
			T_STREQ(name, m->name, good[i].m[j].name);
			g_snprintf(name, sizeof(name), "%s (%s): path %u",
				   good[i].file, loc, j + 1);
			T_STREQ(name, m->path, disk);
			g_snprintf(name, sizeof(name), "%s (%s): content %u",
				   good[i].file, loc, j + 1);
			if (good[i].m[j].same != NULL) {
				g_autofree char *orig =
					fixtures_path(dir, good[i].m[j].same);
				struct stat st;

				T_CHECK(name,
					same_bytes(m->path, orig) &&
					stat(orig, &st) == 0 &&
					m->size == (uint64_t)st.st_size);
			} else {
				T_INTEQ(name, m->size, good[i].m[j].size);
			}
		}
		g_snprintf(name, sizeof(name), "%s (%s): nothing else written",
			   good[i].file, loc);
		T_INTEQ(name, count_entries(work), good[i].n);
		if (members != NULL)
			g_ptr_array_unref(members);
		g_clear_error(&err);
		fixtures_remove(work);
	}
}

static void
test_bad(const char *dir, const char *loc)
{
	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *path = fixtures_path(dir, bad[i].file);
		g_autofree char *work = g_build_filename(dir, "work", NULL);
		struct limits_config lim;
		GPtrArray *members = NULL;
		GError *err = NULL;
		gint64 t0;
		char name[200];
		bool ok;

		config_limits_defaults(&lim);
		if (bad[i].which == LIM_MEMBERS) {
			lim.max_archive_members = (unsigned)bad[i].value;
		} else if (bad[i].which == LIM_BYTES_NO_RATIO) {
			lim.max_archive_bytes = bad[i].value;
			lim.max_archive_ratio = 0;
		}
		g_mkdir(work, 0700);
		t0 = g_get_monotonic_time();
		ok = archive_extract(path, work, &lim, &members, &err);
		g_snprintf(name, sizeof(name), "%s (%s): refused", bad[i].name,
			   loc);
		T_CHECK(name, !ok && members == NULL && err != NULL &&
				      err->code == bad[i].code);
		g_snprintf(name, sizeof(name), "%s (%s): reason", bad[i].name,
			   loc);
		T_CHECK(name,
			err != NULL && strstr(err->message, bad[i].words));
		if (err != NULL && !strstr(err->message, bad[i].words))
			printf("# %s\n", err->message);
		g_snprintf(name, sizeof(name), "%s (%s): within 3 s",
			   bad[i].name, loc);
		T_CHECK(name,
			g_get_monotonic_time() - t0 < 3 * G_USEC_PER_SEC);
		g_snprintf(name, sizeof(name), "%s (%s): nothing left",
			   bad[i].name, loc);
		T_INTEQ(name, count_entries(work), 0);
		if (members != NULL)
			g_ptr_array_unref(members);
		g_clear_error(&err);
		fixtures_remove(work);
	}
}

static void
test_io_errors(const char *dir)
{
	g_autofree char *zip = fixtures_path(dir, "gbk_names.zip");
	g_autofree char *missing = fixtures_path(dir, "no-such.zip");
	g_autofree char *nowork = fixtures_path(dir, "no-such-dir");
	struct limits_config lim;
	GPtrArray *members = NULL;
	GError *err = NULL;

	config_limits_defaults(&lim);
	T_CHECK("missing archive is an I/O error",
		!archive_extract(missing, dir, &lim, &members, &err) &&
			err != NULL && err->code == INTAKE_ERROR_IO);
	g_clear_error(&err);
	T_CHECK("missing work directory is an I/O error",
		!archive_extract(zip, nowork, &lim, &members, &err) &&
			err != NULL && err->code == INTAKE_ERROR_IO);
	g_clear_error(&err);
	archive_member_free(NULL);
	T_CHECK("archive_member_free(NULL)", true);
}

int
main(void)
{
	static const struct entry made7z[] = {
		{ "照片", NULL, AE_IFDIR },
		{ "照片/活动照片.jpg", "photo_800x600.jpg", AE_IFREG },
		{ "总结.txt", "summary.txt", AE_IFREG },
	};
	static const struct entry madezip[] = {
		{ "../../evil.txt", "summary.txt", AE_IFREG },
		{ "/etc/passwd", "summary.txt", AE_IFREG },
		{ "link", NULL, AE_IFLNK },
		{ "a\\b\\back.txt", "summary.txt", AE_IFREG },
	};
	char *dir;

	dir = fixtures_make("archive fixtures");
	if (dir == NULL)
		return t_done();
	setlocale(LC_ALL, "C.UTF-8"); /* for the 7z writer's UTF-16 names */
	T_CHECK("7z written", write_archive(dir, "made.7z", true, made7z,
					    G_N_ELEMENTS(made7z)));
	T_CHECK("zip written", write_archive(dir, "made.zip", false, madezip,
					     G_N_ELEMENTS(madezip)));
	T_CHECK("encrypted zip written", write_encrypted(dir));
	for (size_t i = 0; i < G_N_ELEMENTS(locales); i++) {
		if (setlocale(LC_ALL, locales[i]) == NULL) {
			printf("SKIP locale %s: not available\n", locales[i]);
			continue;
		}
		test_good(dir, locales[i]);
		test_bad(dir, locales[i]);
	}
	setlocale(LC_ALL, "C");
	test_io_errors(dir);
	{
		/* ../../evil.txt went nowhere outside the work directory */
		g_autofree char *parent = g_path_get_dirname(dir);
		g_autofree char *evil =
			g_build_filename(parent, "evil.txt", NULL);

		T_CHECK("no member outside the work directory",
			!g_file_test(evil, G_FILE_TEST_EXISTS));
	}
	fixtures_remove(dir);
	g_free(dir);
	return t_done();
}
