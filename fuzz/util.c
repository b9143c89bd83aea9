/*
 * util.c - the harnesses' temporary directory and files (fuzz.h)
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

#define FUZZ_DEPTH_MAX 16 /* levels of directories fuzz_empty() descends */

static char *fuzz_top;

static void
fuzz_rmtree_at(int dfd, unsigned depth)
{
	DIR *d;
	struct dirent *de;

	if (depth > FUZZ_DEPTH_MAX || (d = fdopendir(dfd)) == NULL) {
		close(dfd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		struct stat st;
		int sub;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			sub = openat(dirfd(d), de->d_name,
				     O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
					     O_CLOEXEC);
			if (sub >= 0)
				fuzz_rmtree_at(sub, depth + 1);
			unlinkat(dirfd(d), de->d_name, AT_REMOVEDIR);
		} else {
			unlinkat(dirfd(d), de->d_name, 0);
		}
	}
	closedir(d);
}

void
fuzz_empty(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

	if (fd >= 0)
		fuzz_rmtree_at(fd, 0);
}

static void
fuzz_cleanup(void)
{
	if (fuzz_top != NULL) {
		fuzz_empty(fuzz_top);
		rmdir(fuzz_top);
		g_clear_pointer(&fuzz_top, g_free);
	}
}

const char *
fuzz_dir(void)
{
	g_autoptr(GError) err = NULL;

	if (fuzz_top != NULL)
		return fuzz_top;
	fuzz_top = g_dir_make_tmp("intake-fuzz-XXXXXX", &err);
	if (fuzz_top == NULL) {
		fprintf(stderr, "fuzz: %s\n", err->message);
		abort();
	}
	atexit(fuzz_cleanup);
	return fuzz_top;
}

char *
fuzz_write(const char *name, const uint8_t *data, size_t size)
{
	char *path = g_build_filename(fuzz_dir(), name, NULL);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
				    O_NOFOLLOW, 0600);
	size_t done = 0;

	if (fd < 0)
		goto fail;
	while (done < size) {
		ssize_t n = write(fd, data + done, size - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto fail;
		done += (size_t)n;
	}
	if (close(fd) != 0)
		goto fail;
	return path;
fail:
	fprintf(stderr, "fuzz: cannot write %s: %s\n", path,
		g_strerror(errno));
	abort();
}

char *
fuzz_subdir(const char *name)
{
	char *path = g_build_filename(fuzz_dir(), name, NULL);

	if (g_mkdir_with_parents(path, 0700) != 0) {
		fprintf(stderr, "fuzz: cannot create %s: %s\n", path,
			g_strerror(errno));
		abort();
	}
	fuzz_empty(path);
	return path;
}
