/*
 * process.h - one message, from raw file to committed verdict
 *
 * Runs inside a forked worker (worker.h) with its own database connection.
 * The durable order, as DESIGN.md §3 states it:
 *   1. accepted items are written into the unit's folder (temp file, fsync,
 *      rename, fsync the directory) under names derived from the item's
 *      identity, so a redo replaces instead of duplicating;
 *   2. ONE transaction records the items, the unit's dossier changes,
 *      the queued reply and the message's new state;
 *   3. only then are superseded file names removed, the files of replaced
 *      items moved into .withdrawn/ and stand-in names settled (an item
 *      whose name still belonged to an item it replaces was filed under a
 *      stand-in name in 1: nothing the database knows is overwritten).
 * A crash anywhere before 2 leaves files the database does not know;
 * pipeline_recover() removes them and the message is processed again.  A
 * crash in 3 leaves moves that pipeline_recover() completes, or names it
 * removes; the items stay whole either way.
 */
#ifndef INTAKE_PROCESS_H
#define INTAKE_PROCESS_H

#include "common.h"

struct intake_config;

bool process_message(const struct intake_config *cfg, int64_t id,
		     GError **error);

#endif
