/*
 * privs.c - become the state directory's owner
 */
#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include "privs.h"

bool
privs_become_owner(const char *dir, bool *switched_r, GError **error)
{
	struct passwd *pw;
	struct stat sb;

	if (switched_r != NULL)
		*switched_r = false;
	if (geteuid() != 0)
		return true;
	if (stat(dir, &sb) != 0) {
		/* not created yet: the daemon creates it as its own user */
		if (errno == ENOENT)
			return true;
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_IO, "%s: %s", dir,
			    g_strerror(errno));
		return false;
	}
	if (sb.st_uid == 0)
		return true;
	pw = getpwuid(sb.st_uid);
	/* order matters: groups and gid while still root, uid last */
	if ((pw != NULL ? initgroups(pw->pw_name, sb.st_gid)
			: setgroups(0, NULL)) != 0 ||
	    setgid(sb.st_gid) != 0 || setuid(sb.st_uid) != 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "cannot switch to %s's owner (uid %u): %s", dir,
			    (unsigned)sb.st_uid, g_strerror(errno));
		return false;
	}
	if (setuid(0) == 0) {
		g_set_error(error, INTAKE_ERROR, INTAKE_ERROR_FATAL,
			    "could regain root after switching to uid %u",
			    (unsigned)sb.st_uid);
		return false;
	}
	if (switched_r != NULL)
		*switched_r = true;
	return true;
}
