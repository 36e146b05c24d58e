// SPDX-License-Identifier: GPL-2.0-or-later
/* Who holds a device: processes from <sysroot>/proc/PID/fd, and the kernel's own display users. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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

/* Only device nodes matter here: a process's other files are not kept. */
static bool is_device_node(const char *path)
{
	return lay_is_dev_path(path);
}

/* The device nodes one process holds, appended; -errno when its fd directory cannot be read. */
static int scan_process(const struct ka *ka, const char *pid, struct holders *h)
{
	_cleanup_free_ char *fddir = lay_proc_pid(pid, "fd");
	_cleanup_close_ int dfd = fddir ? res_open(ka_rootfd(ka), fddir, RES_DIR, 0) : -EINVAL;
	if (dfd == -ENOENT)
		return 0; /* gone meanwhile */
	if (dfd < 0)
		return dfd;
	struct strv fds = { 0 };
	int r = ka_list_fd(dfd, &fds);
	_cleanup_free_ char *comm = NULL;
	for (size_t j = 0; r == 0 && j < fds.n; j++) {
		_cleanup_free_ char *target = NULL;
		if (res_readlink(dfd, fds.v[j], &target) < 0 || !is_device_node(target))
			continue;
		if (!comm) {
			_cleanup_free_ char *commrel = lay_proc_pid(pid, "comm");
			if (ka_read(ka, commrel, &comm) < 0)
				comm = xstrdup("");
		}
		h->v = grow_array(h->v, &h->cap, h->n + 1, sizeof(*h->v));
		struct holder *x = &h->v[h->n++];
		unsigned long v = 0;
		parse_ulong(pid, 10, &v);
		x->pid = (long)v;
		x->path = TAKE_PTR(target);
		x->comm = xstrdup(comm);
	}
	strv_free(&fds);
	return r;
}

int ka_holders(const struct ka *ka, struct holders *ret)
{
	memset(ret, 0, sizeof(*ret));
	struct strv pids = { 0 };
	int r = ka_list_dir(ka, LAY_PROC, &pids);
	if (r < 0) {
		strv_free(&pids);
		ret->unreadable = ka_path(ka, LAY_PROC);
		return 0;
	}
	for (size_t i = 0; i < pids.n; i++) {
		if (!all_digits(pids.v[i]))
			continue;
		r = scan_process(ka, pids.v[i], ret);
		if (r < 0 && !ret->unreadable) {
			_cleanup_free_ char *rel = lay_proc_pid(pids.v[i], "fd");
			ret->unreadable = ka_path(ka, rel);
		}
	}
	strv_free(&pids);
	return 0;
}

void holders_free(struct holders *h)
{
	for (size_t i = 0; i < h->n; i++) {
		free(h->v[i].comm);
		free(h->v[i].path);
	}
	free(h->v);
	free(h->unreadable);
	memset(h, 0, sizeof(*h));
}

int ka_vfio_holders(const struct ka *ka, struct vfio_holder **ret, size_t *n)
{
	struct holders all;
	*ret = NULL;
	*n = 0;
	int r = ka_holders(ka, &all);
	if (r < 0)
		return r;
	struct vfio_holder *v = NULL;
	size_t count = 0, cap = 0;
	for (size_t i = 0; i < all.n; i++) {
		if (!lay_is_vfio_file(all.v[i].path))
			continue;
		v = grow_array(v, &cap, count + 1, sizeof(*v));
		v[count++] = (struct vfio_holder){ all.v[i].pid, TAKE_PTR(all.v[i].comm), TAKE_PTR(all.v[i].path) };
	}
	holders_free(&all);
	*ret = v;
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

/* ---- a device's nodes ---- */

static void add_node(struct device_nodes *d, char *path, const char *kind, const char *blocks)
{
	d->v = grow_array(d->v, &d->cap, d->n + 1, sizeof(*d->v));
	d->v[d->n++] = (struct device_node){ path, kind, blocks };
}

void device_nodes_free(struct device_nodes *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].path);
	free(d->v);
	memset(d, 0, sizeof(*d));
}

/* The DEVNAME= of a class device's uevent ("dri/card0"), NULL when it has no node. */
static char *devname_of(const struct ka *ka, const char *classdev)
{
	_cleanup_free_ char *rel = xasprintf("%s/uevent", classdev);
	_cleanup_free_ char *text = NULL;
	if (ka_read(ka, rel, &text) < 0)
		return NULL;
	for (char *line = text, *next; line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, "DEVNAME=", 8) == 0 && line[8] && !strstr(line + 8, ".."))
			return xstrdup(line + 8);
	}
	return NULL;
}

/*
 * Why the kernel waits for a node's holders when the driver is unbound, or
 * NULL when it does not: ALSA's snd_card_free() waits until every file of
 * the card is released; DRM and fbdev unplug the device under them.
 */
static const struct {
	const char *subsystem, *kind, *blocks;
} node_kinds[] = {
	{ "drm", "DRM", NULL },
	{ "sound", "ALSA", "the kernel's snd_card_free() waits for every open file of the card" },
	{ "graphics", "framebuffer", NULL },
};

/* /dev/nvidiaN of a GPU on nvidia, from the driver's proc file ("Device Minor: N"). */
static int nvidia_nodes(const struct ka *ka, const char *address, struct device_nodes *ret)
{
	static const char blocks[] = "the NVIDIA driver waits while its usage count is not zero";
	_cleanup_free_ char *rel = xasprintf(LAY_NVIDIA_GPUS "/%s/information", address);
	_cleanup_free_ char *text = NULL;
	int r = path_component_ok(address) ? ka_read_big(ka, rel, 1 << 16, &text) : -EINVAL;
	if (r < 0)
		return r;
	const char *m = strstr(text, "Device Minor:");
	unsigned long minor;
	char *end;
	if (!m)
		return -EBADMSG;
	minor = strtoul(m + 13, &end, 10);
	if (end == m + 13 || minor > 255)
		return -EBADMSG;
	add_node(ret, lay_nvidia_node((unsigned)minor), "NVIDIA", blocks);
	add_node(ret, xstrdup(LAY_NVIDIA_CTL), "NVIDIA", blocks);
	return 0;
}

int ka_device_nodes(const struct ka *ka, const char *address, const char *driver, struct device_nodes *ret)
{
	memset(ret, 0, sizeof(*ret));
	_cleanup_free_ char *dir = lay_pci_device(address);
	if (!dir)
		return -EINVAL;
	for (size_t k = 0; k < ARRAY_SIZE(node_kinds); k++) {
		struct strv devs = { 0 };
		int r = ka_find_class_devices(ka, dir, node_kinds[k].subsystem, &devs);
		for (size_t i = 0; r == 0 && i < devs.n; i++) {
			_cleanup_free_ char *name = devname_of(ka, devs.v[i]);
			if (name)
				add_node(ret, lay_dev_path(name), node_kinds[k].kind, node_kinds[k].blocks);
		}
		strv_free(&devs);
		if (r < 0) {
			device_nodes_free(ret);
			return r;
		}
	}
	if (driver && streq(driver, "nvidia")) {
		int r = nvidia_nodes(ka, address, ret);
		if (r < 0) {
			device_nodes_free(ret);
			return r;
		}
	}
	return 0;
}

int ka_device_framebuffers(const struct ka *ka, const char *address, struct strv *ret)
{
	_cleanup_free_ char *dir = lay_pci_device(address);
	struct strv devs = { 0 };
	int r = dir ? ka_find_class_devices(ka, dir, "graphics", &devs) : -EINVAL;
	for (size_t i = 0; r == 0 && i < devs.n; i++) {
		const char *base = strrchr(devs.v[i], '/');
		base = base ? base + 1 : devs.v[i];
		if (strncmp(base, "fb", 2) == 0 && all_digits(base + 2))
			strv_push(ret, xstrdup(base));
	}
	strv_free(&devs);
	return r;
}

int ka_fbcon_bound(const struct ka *ka, bool *ret)
{
	*ret = false;
	struct strv cons = { 0 };
	int r = ka_list_dir(ka, LAY_VTCONSOLES, &cons);
	if (r == -ENOENT)
		return 0; /* no virtual terminals: no console to lose */
	for (size_t i = 0; r == 0 && i < cons.n && !*ret; i++) {
		_cleanup_free_ char *name_rel = xasprintf(LAY_VTCONSOLES "/%s/name", cons.v[i]);
		_cleanup_free_ char *bind_rel = xasprintf(LAY_VTCONSOLES "/%s/bind", cons.v[i]);
		_cleanup_free_ char *name = NULL, *bind = NULL;
		if (!path_component_ok(cons.v[i]))
			continue;
		if (ka_read(ka, name_rel, &name) < 0 || ka_read(ka, bind_rel, &bind) < 0)
			continue;
		*ret = strstr(name, "frame buffer device") && streq(bind, "1");
	}
	strv_free(&cons);
	return r;
}

int ka_firmware_framebuffer(const struct ka *ka, char **ret)
{
	*ret = NULL;
	for (size_t i = 0; lay_firmware_fb_drivers[i]; i++) {
		_cleanup_free_ char *rel = xasprintf(LAY_PLATFORM_DRIVERS "/%s", lay_firmware_fb_drivers[i]);
		struct ka_entry *e = NULL;
		size_t n = 0;
		int r = ka_scan_dir(ka, rel, &e, &n);
		if (r == -ENOENT)
			continue;
		if (r < 0)
			return r;
		/* A bound device shows as a link named after it (efi-framebuffer.0). */
		for (size_t j = 0; j < n && !*ret; j++)
			if (S_ISLNK(e[j].mode) && strchr(e[j].name, '.'))
				*ret = xasprintf("%s (%s)", lay_firmware_fb_drivers[i], e[j].name);
		ka_entries_free(e, n);
		if (*ret)
			return 0;
	}
	return 0;
}
