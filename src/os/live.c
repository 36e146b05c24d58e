// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The live backend: the running kernel's sysfs, written through libsysfs,
 * and its modules, loaded through libkmod.
 *
 * A write the kernel blocks cannot be interrupted: an unbind of a device
 * that a process holds waits in vfio_unregister_group_dev() until the
 * process lets go, and a signal does not end it. So each write runs in a
 * forked writer that holds none of the caller's files (a caller reading our
 * stdout through a pipe would otherwise wait for it too), and the caller
 * waits for its answer at most timeout_ms: then the write is reported stuck
 * (-ETIMEDOUT) and left to finish by itself.
 */
#include "config.h"

#define _GNU_SOURCE 1
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sysfs/libsysfs.h>

#include "os/backend.h"
#include "os/kmodlib.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "os/nodes.h"

static int sysfs_write(const char *path, const char *value)
{
	errno = 0;
	struct sysfs_attribute *attr = sysfs_open_attribute(path);
	if (!attr)
		return errno ? -errno : -EIO;
	errno = 0;
	int r = sysfs_write_attribute(attr, value, strlen(value));
	int err = errno;
	sysfs_close_attribute(attr);
	if (r < 0)
		return err ? -err : -EIO;
	return 0;
}

/* The writer: no file of the caller's but the answer pipe, no signal but SIGKILL. */
_Noreturn static void writer(int answer, const char *path, const char *value)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGPIPE };
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		signal(sigs[i], SIG_IGN);
	if (answer != 3) {
		dup2(answer, 3);
		close(answer);
	}
	int null = open(LAY_DEV_NULL, O_RDWR | O_CLOEXEC);
	for (int fd = 0; fd < 3; fd++)
		if (null >= 0)
			dup2(null, fd);
		else
			close(fd);
	close_range(4, ~0U, 0);
	int r = sysfs_write(path, value);
	ssize_t k = write(3, &r, sizeof(r));
	_exit(k == (ssize_t)sizeof(r) ? 0 : 1);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for the writer's answer; signals only shorten a poll, never the wait. */
static int wait_answer(int fd, pid_t pid, int timeout_ms)
{
	long deadline = now_ms() + timeout_ms;
	for (;;) {
		long left = deadline - now_ms();
		if (timeout_ms > 0 && left <= 0)
			return -ETIMEDOUT; /* the writer is left to finish: the kernel holds it */
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int k = poll(&p, 1, timeout_ms > 0 ? (int)left : -1);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		if (k == 0)
			continue;
		int r = -EIO;
		ssize_t got;
		do
			got = read(fd, &r, sizeof(r));
		while (got < 0 && errno == EINTR);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return got == (ssize_t)sizeof(r) ? r : -EIO;
	}
}

static int live_write(struct ka_backend *b, struct ka *ka, const struct ka_write *w, unsigned nth, int timeout_ms)
{
	(void)b;
	(void)nth;
	/* An owner or mode is no sysfs attribute: the node itself, a character device of /dev. */
	if (w->op == KA_OWNER || w->op == KA_MODE)
		return node_apply(ka, w, S_IFCHR);
	_cleanup_free_ char *rel = ka_write_path(w);
	if (!rel)
		return -EINVAL;
	_cleanup_free_ char *path = ka_path(ka, rel);
	/* libsysfs copies paths into 256-byte buffers and truncates silently. */
	if (strlen(path) >= SYSFS_PATH_MAX)
		return -ENAMETOOLONG;
	int pfd[2];
	if (pipe2(pfd, O_CLOEXEC) < 0)
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		int r = -errno;
		close(pfd[0]);
		close(pfd[1]);
		return r;
	}
	if (pid == 0) {
		close(pfd[0]);
		writer(pfd[1], path, ka_write_value(w));
	}
	close(pfd[1]);
	int r = wait_answer(pfd[0], pid, timeout_ms);
	close(pfd[0]);
	return r;
}

static int live_load_driver(struct ka_backend *b, struct ka *ka, const char *driver, const char *module)
{
	(void)b;
	(void)driver;
	struct kmod_ctx *ctx;
	int r = ka_kmod(ka, &ctx);
	if (r < 0)
		return r;
	const struct kmodlib *k = kmodlib(); /* loaded: ka_kmod() succeeded */
	struct kmod_module *m = NULL;
	r = k->kmod_module_new_from_name(ctx, module, &m);
	if (r < 0)
		return r;
	r = k->kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
	k->kmod_module_unref(m);
	return r > 0 ? -EPERM : r; /* > 0: blacklisted */
}

static void live_free(struct ka_backend *b)
{
	free(b);
}

static const struct ka_backend_ops live_ops = {
	.name = "live",
	.write = live_write,
	.load_driver = live_load_driver,
	.free = live_free,
};

struct ka_backend *backend_live_new(void)
{
	struct ka_backend *b = xcalloc(1, sizeof(*b));
	b->ops = &live_ops;
	return b;
}
