// SPDX-License-Identifier: GPL-2.0-or-later
/* Processes holding VFIO files open, from <sysroot>/proc/PID/fd. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "os/holders.h"
#include "os/layout.h"
#include "os/resolve.h"

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

/* The VFIO files one process holds, appended to *h. */
static void scan_process(const struct ka *ka, const char *pid, struct vfio_holder **h, size_t *count, size_t *cap)
{
	_cleanup_free_ char *fddir = lay_proc_pid(pid, "fd");
	_cleanup_close_ int dfd = fddir ? res_open(ka_rootfd(ka), fddir, RES_DIR, 0) : -EINVAL;
	if (dfd < 0)
		return; /* gone, or not ours to see */
	struct strv fds = { 0 };
	if (ka_list_fd(dfd, &fds) < 0) {
		strv_free(&fds);
		return;
	}
	for (size_t j = 0; j < fds.n; j++) {
		_cleanup_free_ char *target = NULL;
		if (res_readlink(dfd, fds.v[j], &target) < 0 || !lay_is_vfio_file(target))
			continue;
		*h = grow_array(*h, cap, *count + 1, sizeof(**h));
		struct vfio_holder *x = &(*h)[(*count)++];
		unsigned long v = 0;
		parse_ulong(pid, 10, &v);
		x->pid = (long)v;
		x->path = TAKE_PTR(target);
		_cleanup_free_ char *commrel = lay_proc_pid(pid, "comm");
		if (ka_read(ka, commrel, &x->comm) < 0)
			x->comm = xstrdup("");
	}
	strv_free(&fds);
}

int ka_vfio_holders(const struct ka *ka, struct vfio_holder **ret, size_t *n)
{
	struct strv pids = { 0 };
	struct vfio_holder *h = NULL;
	size_t count = 0, cap = 0;
	*ret = NULL;
	*n = 0;
	int r = ka_list_dir(ka, LAY_PROC, &pids);
	if (r < 0) {
		strv_free(&pids);
		return r == -ENOENT ? 0 : r;
	}
	for (size_t i = 0; i < pids.n; i++)
		if (all_digits(pids.v[i]))
			scan_process(ka, pids.v[i], &h, &count, &cap);
	strv_free(&pids);
	*ret = h;
	*n = count;
	return 0;
}

void vfio_holders_free(struct vfio_holder *h, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(h[i].comm);
		free(h[i].path);
	}
	free(h);
}
