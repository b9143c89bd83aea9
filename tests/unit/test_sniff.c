/*
 * test_sniff.c - sniff_file() on every generated file, labels, documents
 */
#include <string.h>

#include "archive.h"
#include "fixtures.h"
#include "sniff.h"
#include "t.h"

static const struct {
	const char *file;
	enum sniff_kind kind;
	const char *mime;    /* libmagic's MIME type, exactly */
	bool docx_has_media;
} files[] = {
	{ "photo_1024x768.jpg", SNIFF_JPEG, "image/jpeg", false },
	{ "photo_truncated.jpg", SNIFF_JPEG, "image/jpeg", false },
	{ "png_named.jpg", SNIFF_IMAGE, "image/png", false },
	{ "image.bmp", SNIFF_IMAGE, "image/bmp", false },
	{ "video_1280x720.mp4", SNIFF_VIDEO, "video/mp4", false },
	{ "video_640x480.mkv", SNIFF_VIDEO, "video/x-matroska", false },
	{ "video_640x480.avi", SNIFF_VIDEO, "video/x-msvideo", false },
	{ "video_mpegps.mpg", SNIFF_VIDEO, "video/mpeg", false },
	{ "audio.m4a", SNIFF_OTHER, "audio/x-m4a", false },
	{ "summary.pdf", SNIFF_PDF, "application/pdf", false },
	{ "summary.docx", SNIFF_DOCX,
	  "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document", false },
	{ "summary_media.docx", SNIFF_DOCX,
	  "application/vnd.openxmlformats-officedocument."
	  "wordprocessingml.document", true },
	{ "summary_plainzip.docx", SNIFF_DOCX, "application/zip", false },
	{ "summary.ofd", SNIFF_OFD, "application/zip", false },
	{ "summary.txt", SNIFF_TXT, "text/plain", false },
	{ "empty.dat", SNIFF_EMPTY, "inode/x-empty", false },
	{ "word.doc", SNIFF_DOC, "application/msword", false },
	{ "kingsoft.wps", SNIFF_WPS, "application/msword", false },
	{ "outlook.msg", SNIFF_OUTLOOK_MSG, "application/vnd.ms-outlook",
	  false },
	{ "winmail.dat", SNIFF_TNEF, "application/vnd.ms-tnef", false },
	{ "gbk_names.zip", SNIFF_ZIP, "application/zip", false },
	{ "utf8_names.zip", SNIFF_ZIP, "application/zip", false },
	{ "bomb.zip", SNIFF_ZIP, "application/zip", false },
	{ "signature.rar", SNIFF_RAR, "application/x-rar", false },
	{ "signature.7z", SNIFF_7Z, "application/x-7z-compressed", false },
};

/* sniff_image_size(): libmagic's descriptions as file(1) 5.44 writes
 * them for what Pillow saves, and texts with no size or a false one. */
static const struct {
	const char *description;
	unsigned width, height; /* 0: no size */
} image_sizes[] = {
	{ "PNG image data, 1920 x 1080, 8-bit/color RGB, non-interlaced",
	  1920, 1080 },
	{ "GIF image data, version 89a, 800 x 600", 800, 600 },
	{ "PC bitmap, Windows 3.x format, 1024 x 768 x 24, image size "
	  "2359296, resolution 3780 x 3780 px/m, cbSize 2359350, bits "
	  "offset 54", 1024, 768 },
	{ "RIFF (little-endian) data, Web/P image, VP8 encoding, 1920x1080, "
	  "Scaling: [none]x[none], YUV color, decoders should clamp",
	  1920, 1080 },
	{ "TIFF image data, little-endian, direntries=10, height=1080, "
	  "bps=134, compression=none, PhotometricInterpretation=RGB, "
	  "width=1920", 1920, 1080 },
	{ "ISO Media, HEIF Image HEVC Main or Main Still Picture Profile",
	  0, 0 },
	{ "GIF image data, version 89a, 0 x 600", 0, 0 },
	{ "PNG image data, 12345678 x 10, 8-bit", 0, 0 },
	{ "data", 0, 0 },
	{ "", 0, 0 },
};

static const struct {
	enum sniff_kind kind;
	const char *label;
	bool document;
} kinds[] = {
	{ SNIFF_EMPTY, "空文件", false },
	{ SNIFF_JPEG, "JPG 图片", false },
	{ SNIFF_IMAGE, "图片", false },
	{ SNIFF_VIDEO, "视频", false },
	{ SNIFF_PDF, "PDF 文档", true },
	{ SNIFF_DOC, "Word 文档", true },
	{ SNIFF_DOCX, "Word 文档", true },
	{ SNIFF_WPS, "WPS 文档", true },
	{ SNIFF_OFD, "OFD 文档", true },
	{ SNIFF_TXT, "文本文件", true },
	{ SNIFF_ZIP, "ZIP 压缩包", false },
	{ SNIFF_RAR, "RAR 压缩包", false },
	{ SNIFF_7Z, "7z 压缩包", false },
	{ SNIFF_TNEF, "Outlook 附件包（winmail.dat）", false },
	{ SNIFF_OUTLOOK_MSG, "Outlook 邮件", false },
	{ SNIFF_OTHER, "其他文件", false },
};

/* archive_zip_has(), which sniffing relies on */
static const struct {
	const char *file;
	const char *prefix;
	bool has;
} zips[] = {
	{ "summary.docx", "word/document.xml", true },
	{ "summary.docx", "word/media/", false },
	{ "summary_media.docx", "word/media/", true },
	{ "summary_plainzip.docx", "word/document.xml", true },
	{ "summary.ofd", "OFD.xml", true },
	{ "summary.ofd", "word/document.xml", false },
	{ "gbk_names.zip", "OFD.xml", false },
	{ "summary.pdf", "OFD.xml", false },
	{ "empty.dat", "OFD.xml", false },
	{ "no-such-file.zip", "OFD.xml", false },
};

static void
test_files(const char *dir)
{
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = fixtures_path(dir, files[i].file);
		struct sniff_result r;
		GError *err = NULL;
		char name[160];

		g_snprintf(name, sizeof(name), "%s: sniffed", files[i].file);
		T_CHECK(name, sniff_file(path, &r, &err) && err == NULL);
		g_snprintf(name, sizeof(name), "%s: kind", files[i].file);
		T_STREQ(name, sniff_kind_label(r.kind),
			sniff_kind_label(files[i].kind));
		T_INTEQ(name, r.kind, files[i].kind);
		g_snprintf(name, sizeof(name), "%s: mime", files[i].file);
		T_STREQ(name, r.mime, files[i].mime);
		g_snprintf(name, sizeof(name), "%s: description",
			   files[i].file);
		T_CHECK(name, r.description[0] != '\0' &&
			g_utf8_validate(r.description, -1, NULL));
		g_snprintf(name, sizeof(name), "%s: docx media",
			   files[i].file);
		T_INTEQ(name, r.docx_has_media, files[i].docx_has_media);
		g_clear_error(&err);
	}
}

static void
test_image_sizes(void)
{
	for (size_t i = 0; i < G_N_ELEMENTS(image_sizes); i++) {
		const char *d = image_sizes[i].description;
		unsigned w = 1, h = 1;
		bool found = sniff_image_size(d, &w, &h);

		T_INTEQ(d, found, image_sizes[i].width != 0);
		T_INTEQ(d, w, image_sizes[i].width);
		T_INTEQ(d, h, image_sizes[i].height);
	}
}

int
main(void)
{
	test_image_sizes();
	struct sniff_result r;
	GError *err = NULL;
	char *dir;

	for (size_t i = 0; i < G_N_ELEMENTS(kinds); i++) {
		T_STREQ("kind label", sniff_kind_label(kinds[i].kind),
			kinds[i].label);
		T_INTEQ(kinds[i].label, sniff_is_document(kinds[i].kind),
			kinds[i].document);
	}

	dir = fixtures_make("sniff fixtures");
	if (dir == NULL)
		return t_done();
	test_files(dir);
	for (size_t i = 0; i < G_N_ELEMENTS(zips); i++) {
		g_autofree char *path = fixtures_path(dir, zips[i].file);
		g_autofree char *name = g_strdup_printf(
			"zip_has %s %s", zips[i].file, zips[i].prefix);

		T_INTEQ(name, archive_zip_has(path, zips[i].prefix),
			zips[i].has);
	}
	{
		g_autofree char *path = fixtures_path(dir, "no-such-file");

		T_CHECK("missing file is an I/O error",
			!sniff_file(path, &r, &err) && err != NULL &&
				err->code == INTAKE_ERROR_IO);
		g_clear_error(&err);
	}
	fixtures_remove(dir);
	g_free(dir);
	return t_done();
}
