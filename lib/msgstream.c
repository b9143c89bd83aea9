/*
 * msgstream.c - the stream GMime parses a message from (msgstream.h)
 *
 * DESCRIPTION
 *	msgstream_new() is the stream GMime parses from: a
 *	GMimeStreamFs whose reads (its own and its substreams', that is
 *	the parts' contents) go through a shared cache of
 *	MSGSTREAM_CACHE_BYTES filled with pread().  GMime's fs stream
 *	makes an lseek() and a read() for every read it is asked for, and
 *	the parser asks for 4 KiB at a time: two system calls per 4 KiB of
 *	message, most of the parse on a large message.  Reads of
 *	INTAKE_IO_BLOCK or more (msgdec_save's) go straight to the
 *	caller's buffer.  Seeking, eos, length and closing stay
 *	GMimeStreamFs's own.
 */
#include <errno.h>
#include <unistd.h>

#include "msgstream.h"

#define MSGSTREAM_CACHE_BYTES (256 * 1024)

struct ms_cache {
	int fd;
	gint64 start;		/* file offset of buf[0] */
	size_t len;		/* valid bytes in buf */
	unsigned refs;		/* streams sharing it */
	char buf[MSGSTREAM_CACHE_BYTES];
};

struct ms_stream {
	GMimeStreamFs fs;
	struct ms_cache *cache;
};

static GObjectClass *ms_stream_parent;
static GType ms_stream_type(void);

static void
ms_stream_finalize(GObject *obj)
{
	struct ms_stream *ds = (struct ms_stream *)obj;

	if (ds->cache != NULL && --ds->cache->refs == 0)
		g_free(ds->cache);
	ms_stream_parent->finalize(obj);
}

static ssize_t
ms_pread(int fd, char *buf, size_t len, gint64 offset)
{
	ssize_t n;

	do
		n = pread(fd, buf, len, (off_t)offset);
	while (n < 0 && errno == EINTR);
	return n;
}

static ssize_t
ms_stream_read(GMimeStream *stream, char *buf, size_t len)
{
	struct ms_stream *ds = (struct ms_stream *)stream;
	struct ms_cache *c = ds->cache;
	gint64 pos = stream->position;
	ssize_t n;

	if (stream->bound_end != -1 && pos >= stream->bound_end) {
		errno = EINVAL;
		return -1;
	}
	if (stream->bound_end != -1)
		len = (size_t)MIN((gint64)len, stream->bound_end - pos);
	if (len >= INTAKE_IO_BLOCK) {
		n = ms_pread(c->fd, buf, len, pos);
		goto done;
	}
	if (pos < c->start || pos >= c->start + (gint64)c->len) {
		n = ms_pread(c->fd, c->buf, sizeof(c->buf), pos);
		c->start = pos;
		c->len = n > 0 ? (size_t)n : 0;
		if (n <= 0)
			goto done;
	}
	n = (ssize_t)MIN(len, (size_t)(c->start + (gint64)c->len - pos));
	memcpy(buf, c->buf + (pos - c->start), (size_t)n);
done:
	if (n > 0)
		stream->position += n;
	else if (n == 0)
		ds->fs.eos = TRUE;
	return n;
}

static GMimeStream *
ms_stream_substream(GMimeStream *stream, gint64 start, gint64 end)
{
	struct ms_stream *ds = (struct ms_stream *)stream;
	struct ms_stream *sub = g_object_new(ms_stream_type(), NULL);

	g_mime_stream_construct(GMIME_STREAM(sub), start, end);
	sub->fs.owner = FALSE;
	sub->fs.fd = ds->fs.fd;
	sub->cache = ds->cache;
	sub->cache->refs++;
	return GMIME_STREAM(sub);
}

static void
ms_stream_class_init(gpointer klass, gpointer data)
{
	GMimeStreamClass *sc = klass;

	(void)data;
	ms_stream_parent = g_type_class_peek_parent(klass);
	G_OBJECT_CLASS(klass)->finalize = ms_stream_finalize;
	sc->read = ms_stream_read;
	sc->substream = ms_stream_substream;
}

static GType
ms_stream_type(void)
{
	static gsize type;

	if (g_once_init_enter(&type)) {
		GType t = g_type_register_static_simple(
			GMIME_TYPE_STREAM_FS,
			g_intern_static_string("IntakeMessageStream"),
			sizeof(GMimeStreamFsClass), ms_stream_class_init,
			sizeof(struct ms_stream), NULL, 0);

		g_once_init_leave(&type, t);
	}
	return type;
}

GMimeStream *
msgstream_new(int fd, gint64 start)
{
	struct ms_stream *ds = g_object_new(ms_stream_type(), NULL);

	g_mime_stream_construct(GMIME_STREAM(ds), start, -1);
	ds->fs.owner = TRUE;
	ds->fs.fd = fd;
	ds->cache = g_malloc(sizeof(*ds->cache));
	ds->cache->fd = fd;
	ds->cache->start = -1;
	ds->cache->len = 0;
	ds->cache->refs = 1;
	return GMIME_STREAM(ds);
}
