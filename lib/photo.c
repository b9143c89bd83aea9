/*
 * photo.c - JPEG photos checked by content with libjpeg(-turbo)
 *
 * photo_inspect() sniffs the first bytes; only a JPEG is decoded.  The
 * decode is the validation (RECIPES.md §4c): the header alone proves
 * nothing, so the whole entropy-coded stream is read, to EOI, with the
 * libjpeg API:
 *
 *   - error_exit longjmps back here; emit_message does the same for any
 *     warning (msg_level -1: "Corrupt JPEG data", "Premature end of JPEG
 *     file", ...): a warning is damage, and decoding stops at the first;
 *   - width x height from the header is checked against max_photo_pixels
 *     before anything is decoded (PHOTO_TOO_LARGE);
 *   - cinfo.mem->max_memory_to_use = max_jpeg_memory bounds what libjpeg
 *     may allocate for whole-image buffers (a progressive file keeps every
 *     DCT coefficient, even at 1/8 scale); going over it is libjpeg's
 *     "Backing store not supported" and counts as PHOTO_TOO_COMPLEX;
 *   - a progress monitor stops a file with more than max_jpeg_scans
 *     scans (libjpeg-turbo's djpeg -maxscans does the same), since many
 *     tiny scans make libjpeg spend unbounded time (PHOTO_TOO_COMPLEX);
 *   - 12-bit data, lossless (SOF3), hierarchical and other processes that
 *     the 8-bit libjpeg API cannot decode are PHOTO_UNSUPPORTED, with
 *     libjpeg's message in detail; so is a file that is not a JPEG at all
 *     (facts->format says what it is).
 *
 * The decode runs at DCT scale 1/8, 1/4 or 1/2: the smallest whose output
 * is at least PHOTO_THUMB_WIDTH wide, else 1/2 (a small image gets the
 * largest reduced scale, which is still "about" that wide).  Memory does
 * not grow with the photo: one scaled scanline at a time, never the
 * full-size image.  A thumbnail, when asked for, is made on the fly from
 * those scanlines: a box filter down to PHOTO_THUMB_WIDTH pixels wide
 * (when the scaled image is wider), fed row by row into the libjpeg
 * compressor, written to a temporary file and renamed into place.  CMYK
 * and YCCK files are decoded as CMYK and converted (Adobe's inverted
 * CMYK when the Adobe marker says so); grayscale becomes RGB.
 *
 * Under valgrind, run with JSIMD_FORCENONE=1: libjpeg-turbo's SIMD
 * encoder, run right after its SIMD decoder in one thread, makes memcheck
 * report uninitialised values (vector register lanes it then ignores);
 * libjpeg alone does the same, and the output is bit-identical either way.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>

#include "config.h"
#include "photo.h"

#define PHOTO_THUMB_WIDTH 240
#define PHOTO_THUMB_QUALITY 80
#define PHOTO_READ_BUF (256 * 1024) /* stdio buffer of the input */

/* libjpeg's error manager with what we need to know after a longjmp. */
struct photo_err {
	struct jpeg_error_mgr pub;
	jmp_buf *jump;
	bool failed;       /* error_exit, or a warning when decoding */
	bool warning;      /* it was a warning */
	char msg[JMSG_LENGTH_MAX];
};

/* The box filter from the scaled image (sw x sh) to the thumbnail. */
struct photo_box {
	unsigned sw, sh, tw, th;
	unsigned y;        /* source rows seen */
	unsigned row;      /* thumbnail row being summed */
	unsigned nrows;    /* source rows summed into it */
	uint32_t *sum;     /* tw * 3 */
	uint32_t *ncols;   /* source columns per thumbnail column */
	JSAMPLE *rgb;      /* one source row as RGB, sw * 3 */
	JSAMPROW out;      /* one thumbnail row, tw * 3 (libjpeg's pool) */
};

/* Everything one inspection holds; outside the setjmp frame on purpose:
 * nothing here is a local of the function that calls setjmp. */
struct photo_job {
	const struct limits_config *limits;
	struct photo_facts *facts;
	FILE *in;
	jmp_buf jump;
	struct jpeg_decompress_struct d;
	struct photo_err derr;
	struct jpeg_progress_mgr progress;
	bool scans_exceeded;

	const char *thumb_path;
	bool thumb;        /* making one */
	bool adobe_cmyk;   /* inverted CMYK */
	char *tmp_path;
	FILE *out;
	int thumb_errno;   /* the temporary file could not be made */
	struct jpeg_compress_struct c;
	struct photo_err cerr;
	struct photo_box box;
};

const char *
photo_format_name(enum photo_format fmt)
{
	switch (fmt) {
	case PHOTO_JPEG:
		return "JPEG";
	case PHOTO_PNG:
		return "PNG";
	case PHOTO_GIF:
		return "GIF";
	case PHOTO_BMP:
		return "BMP";
	case PHOTO_WEBP:
		return "WEBP";
	case PHOTO_HEIC:
		return "HEIC";
	case PHOTO_TIFF:
		return "TIFF";
	case PHOTO_UNKNOWN:
		break;
	}
	return "unknown";
}

enum photo_format
photo_sniff(const unsigned char *buf, size_t len)
{
	static const char *const heic_brands[] = {
		"heic", "heix", "heim", "heis", "hevc", "hevx", "mif1",
		"msf1",
	};

	if (len >= 3 && buf[0] == 0xFF && buf[1] == 0xD8 && buf[2] == 0xFF)
		return PHOTO_JPEG;
	if (len >= 8 && memcmp(buf, "\x89PNG\r\n\x1a\n", 8) == 0)
		return PHOTO_PNG;
	if (len >= 6 && (memcmp(buf, "GIF87a", 6) == 0 ||
			 memcmp(buf, "GIF89a", 6) == 0))
		return PHOTO_GIF;
	if (len >= 12 && memcmp(buf, "RIFF", 4) == 0 &&
	    memcmp(buf + 8, "WEBP", 4) == 0)
		return PHOTO_WEBP;
	if (len >= 12 && memcmp(buf + 4, "ftyp", 4) == 0) {
		for (size_t i = 0; i < G_N_ELEMENTS(heic_brands); i++)
			if (memcmp(buf + 8, heic_brands[i], 4) == 0)
				return PHOTO_HEIC;
	}
	if (len >= 4 && (memcmp(buf, "II*\0", 4) == 0 ||
			 memcmp(buf, "MM\0*", 4) == 0))
		return PHOTO_TIFF;
	if (len >= 18 && buf[0] == 'B' && buf[1] == 'M') {
		/* the DIB header's size: the known BMP versions only */
		uint32_t dib = buf[14] | buf[15] << 8 |
			       (uint32_t)buf[16] << 16 |
			       (uint32_t)buf[17] << 24;

		if (dib == 12 || dib == 40 || dib == 52 || dib == 56 ||
		    dib == 64 || dib == 108 || dib == 124)
			return PHOTO_BMP;
	}
	return PHOTO_UNKNOWN;
}

static void
photo_error_exit(j_common_ptr cinfo)
{
	struct photo_err *err = (struct photo_err *)cinfo->err;

	(*cinfo->err->format_message)(cinfo, err->msg);
	err->failed = true;
	longjmp(*err->jump, 1);
}

/* Decompressor: a warning is damage; trace messages are ignored. */
static void
photo_emit_message(j_common_ptr cinfo, int msg_level)
{
	struct photo_err *err = (struct photo_err *)cinfo->err;

	if (msg_level >= 0)
		return;
	(*cinfo->err->format_message)(cinfo, err->msg);
	err->failed = true;
	err->warning = true;
	longjmp(*err->jump, 1);
}

/* Compressor: its warnings do not matter to the photo. */
static void
photo_emit_quiet(j_common_ptr cinfo, int msg_level)
{
	(void)cinfo;
	(void)msg_level;
}

/* Nothing of libjpeg's goes to stderr. */
static void
photo_output_message(j_common_ptr cinfo)
{
	(void)cinfo;
}

static void
photo_err_init(struct photo_err *err, jmp_buf *jump, bool decoder)
{
	jpeg_std_error(&err->pub);
	err->pub.error_exit = photo_error_exit;
	err->pub.emit_message =
		decoder ? photo_emit_message : photo_emit_quiet;
	err->pub.output_message = photo_output_message;
	err->jump = jump;
}

/* Called at least once per scan while the input is consumed. */
static void
photo_progress(j_common_ptr cinfo)
{
	struct photo_job *job = cinfo->client_data;
	unsigned max = job->limits->max_jpeg_scans;

	if (max > 0 && job->d.input_scan_number > 0 &&
	    (unsigned)job->d.input_scan_number > max) {
		job->scans_exceeded = true;
		longjmp(job->jump, 1);
	}
}

/* The DCT scale denominator for an image w pixels wide. */
static unsigned
photo_scale(unsigned w)
{
	static const unsigned denoms[] = { 8, 4, 2 };

	for (size_t i = 0; i < G_N_ELEMENTS(denoms); i++)
		if ((w + denoms[i] - 1) / denoms[i] >= PHOTO_THUMB_WIDTH)
			return denoms[i];
	return 2;
}

/* One decoded row (components 1, 3 or 4) as RGB in box->rgb. */
static void
photo_to_rgb(struct photo_job *job, const JSAMPLE *row)
{
	struct photo_box *box = &job->box;
	int comps = job->d.output_components;

	for (unsigned x = 0; x < box->sw; x++) {
		JSAMPLE *o = box->rgb + 3 * x;

		if (comps == 1) {
			o[0] = o[1] = o[2] = row[x];
		} else if (comps == 3) {
			memcpy(o, row + 3 * x, 3);
		} else {
			const JSAMPLE *p = row + 4 * x;
			unsigned k = p[3];

			for (int i = 0; i < 3; i++)
				o[i] = job->adobe_cmyk ?
					       (JSAMPLE)(p[i] * k / 255) :
					       (JSAMPLE)((255 - p[i]) *
							 (255 - k) / 255);
		}
	}
}

/* Writes the thumbnail row being summed and starts the next. */
static void
photo_box_emit(struct photo_job *job)
{
	struct photo_box *box = &job->box;
	JSAMPROW rows[1] = { box->out };

	for (unsigned i = 0; i < box->tw * 3; i++) {
		uint32_t n = box->ncols[i / 3] * box->nrows;

		box->out[i] = (JSAMPLE)((box->sum[i] + n / 2) / n);
	}
	jpeg_write_scanlines(&job->c, rows, 1);
	memset(box->sum, 0, sizeof(*box->sum) * box->tw * 3);
	box->nrows = 0;
	box->row++;
}

/* Source row y goes to thumbnail row y * th / sh, source column x to
 * column x * tw / sw: every thumbnail pixel is the mean of a box of at
 * least one source pixel (sw >= tw and sh >= th). */
static void
photo_box_feed(struct photo_job *job, const JSAMPLE *row)
{
	struct photo_box *box = &job->box;
	unsigned target = (unsigned)((uint64_t)box->y * box->th / box->sh);

	if (target != box->row && box->nrows > 0)
		photo_box_emit(job);
	photo_to_rgb(job, row);
	for (unsigned x = 0; x < box->sw; x++) {
		unsigned i = (unsigned)((uint64_t)x * box->tw / box->sw);

		for (int k = 0; k < 3; k++)
			box->sum[3 * i + k] += box->rgb[3 * x + k];
	}
	box->nrows++;
	box->y++;
	if (box->y == box->sh)
		photo_box_emit(job);
}

static void
photo_box_init(struct photo_box *box, unsigned sw, unsigned sh)
{
	box->sw = sw;
	box->sh = sh;
	box->tw = MIN(sw, PHOTO_THUMB_WIDTH);
	box->th = (unsigned)(((uint64_t)sh * box->tw + sw / 2) / sw);
	if (box->th == 0)
		box->th = 1;
	box->sum = g_new0(uint32_t, (size_t)box->tw * 3);
	box->ncols = g_new0(uint32_t, box->tw);
	box->rgb = g_new(JSAMPLE, (size_t)sw * 3);
	for (unsigned x = 0; x < sw; x++)
		box->ncols[(uint64_t)x * box->tw / sw]++;
}

/* The compressor, writing to a new temporary file next to thumb_path. */
static bool
photo_thumb_start(struct photo_job *job)
{
	struct jpeg_compress_struct *c = &job->c;
	int fd;

	job->tmp_path = g_strdup_printf("%s.XXXXXX", job->thumb_path);
	fd = g_mkstemp_full(job->tmp_path, O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0) {
		job->thumb_errno = errno;
		g_clear_pointer(&job->tmp_path, g_free);
		return false;
	}
	job->out = fdopen(fd, "wb");
	if (job->out == NULL) {
		job->thumb_errno = errno;
		close(fd);
		return false;
	}
	c->err = &job->cerr.pub;
	c->client_data = job;
	jpeg_create_compress(c);
	jpeg_stdio_dest(c, job->out);
	c->image_width = job->box.tw;
	c->image_height = job->box.th;
	c->input_components = 3;
	c->in_color_space = JCS_RGB;
	jpeg_set_defaults(c);
	jpeg_set_quality(c, PHOTO_THUMB_QUALITY, TRUE);
	job->box.out = (*c->mem->alloc_sarray)((j_common_ptr)c,
					       JPOOL_PERMANENT,
					       job->box.tw * 3, 1)[0];
	jpeg_start_compress(c, TRUE);
	return true;
}

/* Header, limits, scale, colour space; false when the facts are final. */
static bool
photo_setup(struct photo_job *job)
{
	struct jpeg_decompress_struct *d = &job->d;
	struct photo_facts *facts = job->facts;
	uint64_t pixels;

	jpeg_read_header(d, TRUE);
	facts->width = d->image_width;
	facts->height = d->image_height;
	facts->progressive = d->progressive_mode;
	pixels = (uint64_t)d->image_width * d->image_height;
	if (job->limits->max_photo_pixels > 0 &&
	    pixels > job->limits->max_photo_pixels) {
		facts->damage = PHOTO_TOO_LARGE;
		g_snprintf(facts->detail, sizeof(facts->detail),
			   "%ux%u is %" G_GUINT64_FORMAT " pixels, over the "
			   "limit of %" G_GUINT64_FORMAT, d->image_width,
			   d->image_height, pixels,
			   job->limits->max_photo_pixels);
		return false;
	}
	d->scale_num = 1;
	d->scale_denom = photo_scale(d->image_width);
	switch (d->jpeg_color_space) {
	case JCS_GRAYSCALE:
	case JCS_YCbCr:
	case JCS_RGB:
		d->out_color_space = JCS_RGB;
		break;
	case JCS_CMYK:
	case JCS_YCCK:
		d->out_color_space = JCS_CMYK;
		job->adobe_cmyk = d->saw_Adobe_marker;
		break;
	default:
		break; /* decoded as it is; a thumbnail if 1 or 3 channels */
	}
	jpeg_calc_output_dimensions(d);
	job->thumb = job->thumb_path != NULL &&
		     (d->output_components == 1 || d->output_components == 3 ||
		      (d->output_components == 4 &&
		       d->out_color_space == JCS_CMYK));
	return true;
}

/*
 * The decode, and the thumbnail with it.  Returns true when it ran to
 * the end (or stopped at a limit, with the facts filled); false after a
 * longjmp, the reason being in job->derr, job->cerr or scans_exceeded.
 */
static bool
photo_decode(struct photo_job *job)
{
	struct jpeg_decompress_struct *d = &job->d;
	JSAMPARRAY row;

	if (setjmp(job->jump))
		return false;
	jpeg_create_decompress(d);
	if (job->limits->max_jpeg_memory > 0)
		d->mem->max_memory_to_use =
			(long)MIN(job->limits->max_jpeg_memory,
				  (uint64_t)G_MAXLONG);
	job->progress.progress_monitor = photo_progress;
	d->progress = &job->progress;
	jpeg_stdio_src(d, job->in);
	if (!photo_setup(job))
		return true;
	jpeg_start_decompress(d);
	row = (*d->mem->alloc_sarray)((j_common_ptr)d, JPOOL_IMAGE,
				      d->output_width *
					      (JDIMENSION)d->output_components,
				      1);
	if (job->thumb) {
		photo_box_init(&job->box, d->output_width, d->output_height);
		if (!photo_thumb_start(job))
			return false;
	}
	while (d->output_scanline < d->output_height) {
		/* 0 rows only from a suspending source; stdio never is */
		if (jpeg_read_scanlines(d, row, 1) != 1)
			ERREXIT(d, JERR_INPUT_EMPTY);
		if (job->thumb)
			photo_box_feed(job, row[0]);
	}
	jpeg_finish_decompress(d);
	if (job->thumb) {
		jpeg_finish_compress(&job->c);
		job->facts->thumb_width = job->box.tw;
		job->facts->thumb_height = job->box.th;
	}
	return true;
}

/* What a libjpeg error means for the photo. */
static enum photo_damage
photo_damage_of(const struct photo_err *err)
{
	if (err->warning)
		return PHOTO_DAMAGED;
	switch (err->pub.msg_code) {
	case JERR_NO_BACKING_STORE:
	case JERR_OUT_OF_MEMORY:
		return PHOTO_TOO_COMPLEX;
	case JERR_IMAGE_TOO_BIG:
		return PHOTO_TOO_LARGE;
	case JERR_BAD_PRECISION:
	case JERR_SOF_UNSUPPORTED:
	case JERR_ARITH_NOTIMPL:
	case JERR_NOTIMPL:
	case JERR_CCIR601_NOTIMPL:
	case JERR_CONVERSION_NOTIMPL:
		return PHOTO_UNSUPPORTED;
	default:
		return PHOTO_DAMAGED;
	}
}

/* Flush, fsync and rename the thumbnail into place. */
static bool
photo_thumb_commit(struct photo_job *job, GError **error)
{
	FILE *out = job->out;
	bool ok;

	job->out = NULL;
	ok = fflush(out) == 0 && fsync(fileno(out)) == 0;
	ok = fclose(out) == 0 && ok;
	if (ok && rename(job->tmp_path, job->thumb_path) != 0)
		ok = false;
	if (!ok) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: %s", job->thumb_path, g_strerror(errno));
		return false;
	}
	g_clear_pointer(&job->tmp_path, g_free);
	return true;
}

bool
photo_inspect(const char *path, const struct limits_config *limits,
	      const char *thumb_path, struct photo_facts *facts_r,
	      GError **error)
{
	struct photo_job *job = g_new0(struct photo_job, 1);
	unsigned char head[32];
	size_t n;
	bool ok = false;

	memset(facts_r, 0, sizeof(*facts_r));
	job->limits = limits;
	job->facts = facts_r;
	job->thumb_path = thumb_path;
	job->in = fopen(path, "rbe");
	if (job->in == NULL) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s",
			    path, g_strerror(errno));
		goto out;
	}
	/* stdio would read 4 KiB at a time: a thousand read(2)s a photo */
	setvbuf(job->in, NULL, _IOFBF, PHOTO_READ_BUF);
	n = fread(head, 1, sizeof(head), job->in);
	if (ferror(job->in) || fseek(job->in, 0, SEEK_SET) != 0)
		goto read_error;
	facts_r->format = photo_sniff(head, n);
	if (facts_r->format != PHOTO_JPEG) {
		facts_r->damage = PHOTO_UNSUPPORTED;
		g_snprintf(facts_r->detail, sizeof(facts_r->detail),
			   "not a JPEG file (%s)",
			   photo_format_name(facts_r->format));
		ok = true;
		goto out;
	}

	photo_err_init(&job->derr, &job->jump, true);
	photo_err_init(&job->cerr, &job->jump, false);
	job->d.err = &job->derr.pub;
	job->d.client_data = job;
	if (photo_decode(job)) {
		ok = job->out == NULL || photo_thumb_commit(job, error);
		goto out;
	}
	if (job->cerr.failed || job->thumb_errno != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO,
			    "%s: %s", thumb_path,
			    job->cerr.failed ? job->cerr.msg :
					       g_strerror(job->thumb_errno));
		goto out;
	}
	if (ferror(job->in))
		goto read_error;
	if (facts_r->width == 0 && job->d.image_width > 0) {
		facts_r->width = job->d.image_width;
		facts_r->height = job->d.image_height;
	}
	if (job->scans_exceeded) {
		facts_r->damage = PHOTO_TOO_COMPLEX;
		g_snprintf(facts_r->detail, sizeof(facts_r->detail),
			   "more than %u scans", limits->max_jpeg_scans);
	} else {
		facts_r->damage = photo_damage_of(&job->derr);
		g_strlcpy(facts_r->detail, job->derr.msg,
			  sizeof(facts_r->detail));
	}
	ok = true;
	goto out;

read_error:
	g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: read error",
		    path);
out:
	jpeg_destroy_compress(&job->c);
	jpeg_destroy_decompress(&job->d);
	if (job->out != NULL)
		fclose(job->out);
	if (job->tmp_path != NULL) {
		unlink(job->tmp_path);
		g_free(job->tmp_path);
	}
	if (job->in != NULL)
		fclose(job->in);
	g_free(job->box.sum);
	g_free(job->box.ncols);
	g_free(job->box.rgb);
	g_free(job);
	if (!ok) {
		facts_r->thumb_width = 0;
		facts_r->thumb_height = 0;
	}
	return ok;
}
