/*
 * slow_worker.c - an LD_PRELOAD for the fault tests: a worker that stalls
 *
 * Makes intaked's worker (a process whose parent is intaked) sleep at a
 * chosen point, so that the parent's time limit kills it there:
 *
 *   INTAKE_FAULT_STALL=begin   before the worker's transaction: its files
 *                              are filed, nothing is committed
 *   INTAKE_FAULT_STALL=close   when it closes the database: after its
 *                              commit
 *   INTAKE_FAULT_SECONDS=N     how long (default 30)
 *
 * The real function runs afterwards.  No other process is affected.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

typedef struct sqlite3 sqlite3;
typedef int (*exec_cb)(void *, int, char **, char **);

static int
in_worker(void)
{
	char path[64], comm[64] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/comm", (int)getppid());
	if ((f = fopen(path, "re")) != NULL) {
		if (fgets(comm, sizeof(comm), f) == NULL)
			comm[0] = '\0';
		fclose(f);
	}
	return strncmp(comm, "intaked", 7) == 0;
}

static void
stall(const char *where)
{
	const char *at = getenv("INTAKE_FAULT_STALL");
	const char *secs = getenv("INTAKE_FAULT_SECONDS");

	if (at == NULL || strcmp(at, where) != 0 || !in_worker())
		return;
	fprintf(stderr, "slow_worker: worker %d stalls at %s\n",
		(int)getpid(), where);
	sleep(secs != NULL ? (unsigned)strtoul(secs, NULL, 10) : 30);
}

int
sqlite3_exec(sqlite3 *db, const char *sql, exec_cb cb, void *arg,
	     char **errmsg)
{
	int (*real)(sqlite3 *, const char *, exec_cb, void *, char **) =
		(int (*)(sqlite3 *, const char *, exec_cb, void *,
			 char **))dlsym(RTLD_NEXT, "sqlite3_exec");

	if (sql != NULL && strncasecmp(sql, "BEGIN", 5) == 0)
		stall("begin");
	return real(db, sql, cb, arg, errmsg);
}

int
sqlite3_close_v2(sqlite3 *db)
{
	int (*real)(sqlite3 *) =
		(int (*)(sqlite3 *))dlsym(RTLD_NEXT, "sqlite3_close_v2");

	stall("close");
	return real(db);
}

int
sqlite3_close(sqlite3 *db)
{
	int (*real)(sqlite3 *) =
		(int (*)(sqlite3 *))dlsym(RTLD_NEXT, "sqlite3_close");

	stall("close");
	return real(db);
}
