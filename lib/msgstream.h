/*
 * msgstream.h - the stream GMime parses a message from
 *
 * A GMimeStreamFs whose reads, its own and its substreams' (the parts'
 * contents), go through one cache filled with pread(): GMime's fs
 * stream makes an lseek() and a read() for every 4 KiB the parser asks
 * for.  Seeking, eos, length and closing stay GMimeStreamFs's own.
 */
#ifndef INTAKE_MSGSTREAM_H
#define INTAKE_MSGSTREAM_H

#include <gmime/gmime.h>

#include "common.h"

/* A stream over fd from start to its end, for the parser; it owns fd.
 * It and its substreams read with pread() through one cache of 256 KiB,
 * whatever GMime asks for. */
GMimeStream *msgstream_new(int fd, gint64 start);

#endif
