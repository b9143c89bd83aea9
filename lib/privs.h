/*
 * privs.h - intakectl run as root becomes the state directory's owner
 *
 * The daemon runs as its own user (systemd/intake.sysusers).  An office
 * administrator who runs `sudo intakectl ...` must not leave root-owned
 * files (the database's -wal and -shm, thumbnails, filed items) in the
 * state directory, where the daemon could no longer write them: as root,
 * intakectl switches to the directory's owner and group before it touches
 * anything.
 */
#ifndef INTAKE_PRIVS_H
#define INTAKE_PRIVS_H

#include "common.h"

/* Not root, or the directory is root's (or missing): nothing to do.
 * Otherwise setgroups/setgid/setuid to its owner; false with an error
 * when that fails.  *switched_r (optional) says whether it switched. */
bool privs_become_owner(const char *dir, bool *switched_r, GError **error);

#endif
