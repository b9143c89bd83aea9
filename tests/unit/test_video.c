/*
 * test_video.c - video_probe() on generated files, and its time bound
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "fixtures.h"
#include "t.h"
#include "video.h"

#define MOV "mov,mp4,m4a,3gp,3g2,mj2"

static const struct {
	const char *file;
	bool readable;
	const char *format;  /* when readable */
	const char *codec;
	unsigned width, height;
	double duration;
	const char *detail;  /* part of it, when not readable */
} files[] = {
	{ "video_1280x720.mp4", true, MOV, "h264", 1280, 720, 2.0, NULL },
	{ "video_640x480.mp4", true, MOV, "h264", 640, 480, 2.0, NULL },
	{ "video_640x480.mkv", true, "matroska,webm", "h264", 640, 480, 2.0,
	  NULL },
	{ "video_640x480.avi", true, "avi", "h264", 640, 480, 2.0, NULL },
	{ "video_640x480.ts", true, "mpegts", "h264", 640, 480, 2.0, NULL },
	{ "video_mpegps.mpg", false, NULL, NULL, 0, 0, 0,
	  "不是可接受的视频格式（mpeg）" },
	{ "audio.m4a", false, NULL, NULL, 0, 0, 0, "只有声音" },
	{ "summary.pdf", false, NULL, NULL, 0, 0, 0, "不是可接受的视频格式" },
	{ "photo_1024x768.jpg", false, NULL, NULL, 0, 0, 0,
	  "不是可接受的视频格式" },
	{ "empty.dat", false, NULL, NULL, 0, 0, 0, "文件为空" },
	{ "video_truncated.mp4", false, NULL, NULL, 0, 0, 0, "无法读取" },
};

static void
test_files(const char *dir, const struct limits_config *lim)
{
	for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
		g_autofree char *path = fixtures_path(dir, files[i].file);
		struct video_facts f;
		GError *err = NULL;
		char name[160];

		g_snprintf(name, sizeof(name), "%s: probed", files[i].file);
		T_CHECK(name, video_probe(path, lim, &f, &err) && err == NULL);
		g_snprintf(name, sizeof(name), "%s: readable", files[i].file);
		T_INTEQ(name, f.readable, files[i].readable);
		if (!files[i].readable) {
			g_snprintf(name, sizeof(name), "%s: detail",
				   files[i].file);
			T_CHECK(name, strstr(f.detail, files[i].detail));
			if (!strstr(f.detail, files[i].detail))
				printf("# detail: %s\n", f.detail);
			continue;
		}
		g_snprintf(name, sizeof(name), "%s: format", files[i].file);
		T_STREQ(name, f.format, files[i].format);
		g_snprintf(name, sizeof(name), "%s: codec", files[i].file);
		T_STREQ(name, f.codec, files[i].codec);
		g_snprintf(name, sizeof(name), "%s: size", files[i].file);
		T_CHECK(name, f.width == files[i].width &&
				      f.height == files[i].height);
		g_snprintf(name, sizeof(name), "%s: duration %.3f",
			   files[i].file, f.duration);
		T_CHECK(name, f.duration > files[i].duration - 0.1 &&
				      f.duration < files[i].duration + 0.1);
		g_snprintf(name, sizeof(name), "%s: no detail", files[i].file);
		T_STREQ(name, f.detail, "");
		g_clear_error(&err);
	}
}

/* The first third of an MP4 whose moov box is at its end. */
static bool
write_truncated(const char *dir)
{
	g_autofree char *src = fixtures_path(dir, "video_1280x720.mp4");
	g_autofree char *dst = fixtures_path(dir, "video_truncated.mp4");
	g_autofree char *data = NULL;
	size_t len;

	return g_file_get_contents(src, &data, &len, NULL) &&
	       g_file_set_contents(dst, data, (gssize)(len / 3), NULL);
}

/* Writes all of buf to fd, waiting out a moment without a reader. */
static bool
feed(int fd, const char *buf, size_t len)
{
	unsigned waits = 0;

	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && (errno == EINTR || errno == EPIPE) &&
		    waits++ < 500) {
			g_usleep(10000);
			continue;
		}
		if (n <= 0)
			return false;
		buf += n;
		len -= (size_t)n;
	}
	return true;
}

/*
 * A FIFO stands for a slow network disk.  The writer gives exactly the
 * 64 KiB that video_probe() reads itself (the video, zero-padded), then,
 * on the same open end, the video again at 100 bytes every 50 ms: the
 * demuxer would need 18 s, and the deadline of 1 s must stop it.
 */
static void
test_deadline(const char *dir)
{
	g_autofree char *src = fixtures_path(dir, "video_1280x720.mp4");
	g_autofree char *fifo = fixtures_path(dir, "slow.mp4");
	g_autofree char *data = NULL;
	struct limits_config lim;
	struct video_facts f;
	size_t len;
	gint64 t0, took;
	pid_t pid;
	bool ok;
	int status;

	if (!g_file_get_contents(src, &data, &len, NULL) ||
	    len > 64 * 1024 || mkfifo(fifo, 0600) != 0) {
		T_CHECK("deadline: fifo made", false);
		return;
	}
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		g_autofree char *head = g_malloc0(64 * 1024);
		int fd;

		signal(SIGPIPE, SIG_IGN);
		alarm(30);
		memcpy(head, data, len);
		fd = open(fifo, O_WRONLY);
		if (fd < 0 || !feed(fd, head, 64 * 1024))
			_exit(1);
		for (size_t off = 0; off < len; off += 100) {
			if (!feed(fd, data + off, MIN(100, len - off)))
				break;
			g_usleep(50000);
		}
		_exit(0);
	}
	config_limits_defaults(&lim);
	lim.video_probe_seconds = 1;
	t0 = g_get_monotonic_time();
	ok = video_probe(fifo, &lim, &f, NULL);
	took = g_get_monotonic_time() - t0;
	kill(pid, SIGTERM);
	waitpid(pid, &status, 0);
	T_CHECK("deadline: probe returns", ok);
	T_CHECK("deadline: not readable", !f.readable);
	T_CHECK("deadline: says it gave up", strstr(f.detail, "分析超过 1 秒"));
	if (!strstr(f.detail, "分析超过 1 秒"))
		printf("# detail: %s\n", f.detail);
	printf("# deadline: gave up after %.2f s\n", took / 1e6);
	T_CHECK("deadline: within 3 s", took < 3 * G_USEC_PER_SEC);
}

int
main(void)
{
	g_autofree char *missing = NULL;
	struct limits_config lim;
	struct video_facts f;
	GError *err = NULL;
	char *dir;

	dir = fixtures_make("video fixtures");
	if (dir == NULL)
		return t_done();
	config_limits_defaults(&lim);
	T_CHECK("truncated video written", write_truncated(dir));
	test_files(dir, &lim);
	test_deadline(dir);
	missing = fixtures_path(dir, "no-such.mp4");
	T_CHECK("missing file is an I/O error",
		!video_probe(missing, &lim, &f, &err) && err != NULL &&
			err->code == INTAKE_ERROR_IO);
	g_clear_error(&err);
	fixtures_remove(dir);
	g_free(dir);
	return t_done();
}
