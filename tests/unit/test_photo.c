/*
 * test_photo.c - photo_inspect() and photo_sniff() on generated files
 */
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "fixtures.h"
#include "photo.h"
#include "t.h"

/* Every generated file, default limits, with a thumbnail asked for. */
static const struct {
	const char *file;
	enum photo_format format;
	unsigned width, height;
	bool progressive;
	enum photo_damage damage;
	unsigned thumb_width, thumb_height;
	const char *detail; /* a part of it, or NULL for none */
} files[] = {
	{ "photo_1024x768.jpg", PHOTO_JPEG, 1024, 768, false, PHOTO_OK,
	  240, 180, NULL },
	{ "photo_768x1024.jpg", PHOTO_JPEG, 768, 1024, false, PHOTO_OK,
	  240, 320, NULL },
	{ "photo_1023x768.jpg", PHOTO_JPEG, 1023, 768, false, PHOTO_OK,
	  240, 180, NULL },
	{ "photo_800x600.jpg", PHOTO_JPEG, 800, 600, false, PHOTO_OK,
	  240, 180, NULL },
	{ "photo_4000x3000.jpg", PHOTO_JPEG, 4000, 3000, false, PHOTO_OK,
	  240, 180, NULL },
	{ "photo_progressive_1280x960.jpg", PHOTO_JPEG, 1280, 960, true,
	  PHOTO_OK, 240, 180, NULL },
	{ "photo_gray_1024x768.jpg", PHOTO_JPEG, 1024, 768, false, PHOTO_OK,
	  240, 180, NULL },
	{ "photo_truncated.jpg", PHOTO_JPEG, 1024, 768, false, PHOTO_DAMAGED,
	  0, 0, "Premature end of JPEG file" },
	{ "photo_forged_60000x60000.jpg", PHOTO_JPEG, 60000, 60000, false,
	  PHOTO_TOO_LARGE, 0, 0, "3600000000 pixels" },
	{ "png_named.jpg", PHOTO_PNG, 0, 0, false, PHOTO_UNSUPPORTED, 0, 0,
	  "not a JPEG" },
	{ "image.bmp", PHOTO_BMP, 0, 0, false, PHOTO_UNSUPPORTED, 0, 0,
	  "not a JPEG" },
	{ "summary.pdf", PHOTO_UNKNOWN, 0, 0, false, PHOTO_UNSUPPORTED, 0, 0,
	  "not a JPEG" },
	{ "empty.dat", PHOTO_UNKNOWN, 0, 0, false, PHOTO_UNSUPPORTED, 0, 0,
	  "not a JPEG" },
	{ "video_1280x720.mp4", PHOTO_UNKNOWN, 0, 0, false,
	  PHOTO_UNSUPPORTED, 0, 0, "not a JPEG" },
};

/* One limit changed from the defaults; no thumbnail. */
enum which_limit { LIM_PIXELS, LIM_SCANS, LIM_MEMORY };
static const struct {
	const char *name;
	const char *file;
	enum which_limit which;
	uint64_t value;
	enum photo_damage damage;
} limit_cases[] = {
	{ "pixels exactly at the limit", "photo_4000x3000.jpg", LIM_PIXELS,
	  12000000, PHOTO_OK },
	{ "pixels one over the limit", "photo_4000x3000.jpg", LIM_PIXELS,
	  11999999, PHOTO_TOO_LARGE },
	{ "progressive: 10 scans allowed", "photo_progressive_1280x960.jpg",
	  LIM_SCANS, 10, PHOTO_OK },
	{ "progressive: 9 scans allowed", "photo_progressive_1280x960.jpg",
	  LIM_SCANS, 9, PHOTO_TOO_COMPLEX },
	{ "progressive: 1 MiB for libjpeg", "photo_progressive_1280x960.jpg",
	  LIM_MEMORY, 1 << 20, PHOTO_TOO_COMPLEX },
	{ "progressive: 8 MiB for libjpeg", "photo_progressive_1280x960.jpg",
	  LIM_MEMORY, 8 << 20, PHOTO_OK },
	{ "baseline streams in 1 MiB", "photo_4000x3000.jpg", LIM_MEMORY,
	  1 << 20, PHOTO_OK },
};

static const struct {
	const char *name;
	const char *bytes;
	size_t len;
	enum photo_format format;
} sniffs[] = {
	{ "sniff jpeg", "\xFF\xD8\xFF\xE0", 4, PHOTO_JPEG },
	{ "sniff jpeg cut short", "\xFF\xD8", 2, PHOTO_UNKNOWN },
	{ "sniff png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16, PHOTO_PNG },
	{ "sniff gif87a", "GIF87a\x01\0", 8, PHOTO_GIF },
	{ "sniff gif89a", "GIF89a\x01\0", 8, PHOTO_GIF },
	{ "sniff webp", "RIFF\x10\0\0\0WEBPVP8 ", 16, PHOTO_WEBP },
	{ "sniff riff wave", "RIFF\x10\0\0\0WAVEfmt ", 16, PHOTO_UNKNOWN },
	{ "sniff heic", "\0\0\0\x18" "ftypheic\0\0\0\0", 16, PHOTO_HEIC },
	{ "sniff heif mif1", "\0\0\0\x18" "ftypmif1\0\0\0\0", 16, PHOTO_HEIC },
	{ "sniff mp4 is no image", "\0\0\0\x18" "ftypisom\0\0\0\0", 16,
	  PHOTO_UNKNOWN },
	{ "sniff tiff le", "II*\0\x08\0\0\0", 8, PHOTO_TIFF },
	{ "sniff tiff be", "MM\0*\0\0\0\x08", 8, PHOTO_TIFF },
	{ "sniff bmp", "BM\x36\x24\0\0\0\0\0\0\x36\0\0\0\x28\0\0\0", 18,
	  PHOTO_BMP },
	{ "sniff BM text", "BMW and other cars", 18, PHOTO_UNKNOWN },
	{ "sniff empty", "", 0, PHOTO_UNKNOWN },
};

static const struct {
	enum photo_format format;
	const char *name;
} names[] = {
	{ PHOTO_JPEG, "JPEG" }, { PHOTO_PNG, "PNG" }, { PHOTO_GIF, "GIF" },
	{ PHOTO_BMP, "BMP" },   { PHOTO_WEBP, "WEBP" }, { PHOTO_HEIC, "HEIC" },
	{ PHOTO_TIFF, "TIFF" }, { PHOTO_UNKNOWN, "unknown" },
};

/* Files in dir whose name starts with prefix (left-over temp files). */
static unsigned
count_prefixed(const char *dir, const char *prefix)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	unsigned n = 0;

	if (d == NULL)
		return 0;
	while ((name = g_dir_read_name(d)) != NULL)
		if (g_str_has_prefix(name, prefix))
			n++;
	g_dir_close(d);
	return n;
}

static void
test_files(const char *dir, const struct limits_config *lim)
{
	g_autofree char *thumbs = g_build_filename(dir, "thumbs", NULL);

	g_mkdir(thumbs, 0700);
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = fixtures_path(dir, files[i].file);
		g_autofree char *thumb =
			g_strdup_printf("%s/%s.thumb.jpg", thumbs,
					files[i].file);
		g_autofree char *prefix =
			g_strdup_printf("%s.thumb.jpg", files[i].file);
		struct photo_facts f;
		GError *err = NULL;
		char name[160];
		bool ok;

		ok = photo_inspect(path, lim, thumb, &f, &err);
		g_snprintf(name, sizeof(name), "%s: inspected", files[i].file);
		T_CHECK(name, ok && err == NULL);
		g_snprintf(name, sizeof(name), "%s: format", files[i].file);
		T_STREQ(name, photo_format_name(f.format),
			photo_format_name(files[i].format));
		g_snprintf(name, sizeof(name), "%s: width", files[i].file);
		T_INTEQ(name, f.width, files[i].width);
		g_snprintf(name, sizeof(name), "%s: height", files[i].file);
		T_INTEQ(name, f.height, files[i].height);
		g_snprintf(name, sizeof(name), "%s: progressive",
			   files[i].file);
		T_INTEQ(name, f.progressive, files[i].progressive);
		g_snprintf(name, sizeof(name), "%s: damage", files[i].file);
		T_INTEQ(name, f.damage, files[i].damage);
		g_snprintf(name, sizeof(name), "%s: detail", files[i].file);
		if (files[i].detail == NULL)
			T_STREQ(name, f.detail, "");
		else
			T_CHECK(name, strstr(f.detail, files[i].detail));
		g_snprintf(name, sizeof(name), "%s: thumbnail size",
			   files[i].file);
		T_CHECK(name, f.thumb_width == files[i].thumb_width &&
				      f.thumb_height == files[i].thumb_height);
		g_snprintf(name, sizeof(name), "%s: thumbnail file",
			   files[i].file);
		T_INTEQ(name, g_file_test(thumb, G_FILE_TEST_EXISTS),
			files[i].thumb_width > 0);
		g_snprintf(name, sizeof(name), "%s: no temporary file left",
			   files[i].file);
		T_INTEQ(name, count_prefixed(thumbs, prefix),
			files[i].thumb_width > 0);
		if (files[i].thumb_width > 0) {
			/* the thumbnail is itself a sound JPEG that size */
			struct photo_facts t;

			g_snprintf(name, sizeof(name), "%s: thumbnail decodes",
				   files[i].file);
			T_CHECK(name,
				photo_inspect(thumb, lim, NULL, &t, NULL) &&
					t.damage == PHOTO_OK &&
					t.width == files[i].thumb_width &&
					t.height == files[i].thumb_height);
		}
		g_clear_error(&err);
	}
}

static void
test_limits(const char *dir)
{
	for (size_t i = 0; i < G_N_ELEMENTS(limit_cases); i++) {
		g_autofree char *path =
			fixtures_path(dir, limit_cases[i].file);
		struct limits_config lim;
		struct photo_facts f;

		config_limits_defaults(&lim);
		switch (limit_cases[i].which) {
		case LIM_PIXELS:
			lim.max_photo_pixels = limit_cases[i].value;
			break;
		case LIM_SCANS:
			lim.max_jpeg_scans = (unsigned)limit_cases[i].value;
			break;
		case LIM_MEMORY:
			lim.max_jpeg_memory = limit_cases[i].value;
			break;
		}
		T_CHECK(limit_cases[i].name,
			photo_inspect(path, &lim, NULL, &f, NULL) &&
				f.damage == limit_cases[i].damage);
	}
}

/* A copy of a good JPEG with its middle overwritten: damage, whatever
 * the bytes are. */
static void
test_corrupt(const char *dir, const struct limits_config *lim)
{
	static const struct {
		const char *name;
		const char *bytes;
		size_t len;
	} patches[] = {
		{ "corrupt: EOI in the middle", "\xFF\xD9", 2 },
		{ "corrupt: RST0 without restart interval", "\xFF\xD0", 2 },
		{ "corrupt: SOI in the middle", "\xFF\xD8\xFF\xD8", 4 },
	};
	g_autofree char *src = fixtures_path(dir, "photo_1024x768.jpg");
	g_autofree char *dst = fixtures_path(dir, "corrupt.jpg");
	g_autofree char *data = NULL;
	size_t len;

	if (!g_file_get_contents(src, &data, &len, NULL)) {
		T_CHECK("corrupt: source read", false);
		return;
	}
	for (size_t i = 0; i < G_N_ELEMENTS(patches); i++) {
		g_autofree char *copy = g_memdup2(data, len);
		struct photo_facts f;

		memcpy(copy + len / 2, patches[i].bytes, patches[i].len);
		g_file_set_contents(dst, copy, (gssize)len, NULL);
		T_CHECK(patches[i].name,
			photo_inspect(dst, lim, NULL, &f, NULL) &&
				f.damage == PHOTO_DAMAGED && f.detail[0]);
	}
}

static void
test_io_errors(const char *dir, const struct limits_config *lim)
{
	g_autofree char *good = fixtures_path(dir, "photo_800x600.jpg");
	g_autofree char *missing = fixtures_path(dir, "no-such-file.jpg");
	g_autofree char *badthumb =
		g_build_filename(dir, "no-such-dir", "t.jpg", NULL);
	struct photo_facts f;
	GError *err = NULL;

	T_CHECK("missing file is an I/O error",
		!photo_inspect(missing, lim, NULL, &f, &err) && err &&
			err->code == INTAKE_ERROR_IO);
	g_clear_error(&err);
	T_CHECK("unwritable thumbnail is an I/O error",
		!photo_inspect(good, lim, badthumb, &f, &err) && err &&
			err->code == INTAKE_ERROR_IO &&
			f.thumb_width == 0);
	g_clear_error(&err);
}

int
main(void)
{
	struct limits_config lim;
	char *dir;

	for (size_t i = 0; i < G_N_ELEMENTS(sniffs); i++)
		T_STREQ(sniffs[i].name,
			photo_format_name(photo_sniff(
				(const unsigned char *)sniffs[i].bytes,
				sniffs[i].len)),
			photo_format_name(sniffs[i].format));
	for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
		T_STREQ("format name", photo_format_name(names[i].format),
			names[i].name);

	dir = fixtures_make("photo fixtures");
	if (dir == NULL)
		return t_done();
	config_limits_defaults(&lim);
	test_files(dir, &lim);
	test_limits(dir);
	test_corrupt(dir, &lim);
	test_io_errors(dir, &lim);
	fixtures_remove(dir);
	g_free(dir);
	return t_done();
}
