// SPDX-License-Identifier: GPL-2.0-or-later
/* Writes to sysfs: live through libsysfs, or to the replay engine for captured trees. */
#include "config.h"

#include <errno.h>
#include <string.h>

#include <sysfs/libsysfs.h>

#include "os/drivers.h"
#include "os/kaccess-internal.h"

static const char *const op_names[_KA_OP_MAX] = {
	[KA_OVERRIDE] = "override",
	[KA_UNBIND] = "unbind",
	[KA_BIND] = "bind",
	[KA_PROBE] = "probe",
};

const char *ka_op_name(enum ka_op op)
{
	return op < _KA_OP_MAX ? op_names[op] : "unknown";
}

char *ka_write_path(const struct ka_write *w)
{
	switch (w->op) {
	case KA_OVERRIDE:
		return xasprintf("sys/bus/pci/devices/%s/driver_override", w->device);
	case KA_UNBIND:
		return xasprintf("sys/bus/pci/drivers/%s/unbind", w->driver);
	case KA_BIND:
		return xasprintf("sys/bus/pci/drivers/%s/bind", w->driver);
	case KA_PROBE:
	default:
		return xstrdup("sys/bus/pci/drivers_probe");
	}
}

const char *ka_write_value(const struct ka_write *w)
{
	if (w->op == KA_OVERRIDE)
		return w->value && *w->value ? w->value : "\n";
	return w->device;
}

unsigned ka_writes_attempted(const struct ka *ka)
{
	return ka->writes;
}

static bool live_forbidden(void)
{
	const char *e = getenv("IOMMU_OWN_FORBID_LIVE");
	return e && *e && strcmp(e, "0") != 0;
}

static int live_write(struct ka *ka, const char *rel, const char *value)
{
	if (live_forbidden())
		return -EPERM;
	_cleanup_free_ char *path = ka_path(ka, rel);
	/* libsysfs copies paths into 256-byte buffers and truncates silently. */
	if (strlen(path) >= SYSFS_PATH_MAX)
		return -ENAMETOOLONG;
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

int ka_apply(struct ka *ka, const struct ka_write *w)
{
	ka->writes++;
	/* The tree's kind decided the path at open; make sure it has not changed under us. */
	if (ka->live != ka_sys_is_sysfs(ka))
		return -EXDEV;
	if (!ka->live)
		return replay_apply(ka, w);
	_cleanup_free_ char *rel = ka_write_path(w);
	return live_write(ka, rel, ka_write_value(w));
}

static char *module_for_driver(const char *driver)
{
	char *m = xstrdup(driver);
	for (char *p = m; *p; p++)
		if (*p == '-')
			*p = '_';
	return m;
}

/* The running kernel's module directory (live) or the tree's (replay). */
static int kmod_ctx(struct ka *ka, struct kmod_ctx **ret)
{
	if (ka->kmod) {
		*ret = ka->kmod;
		return 0;
	}
	if (ka->live) {
		ka->kmod = kmod_new(NULL, NULL);
	} else {
		_cleanup_free_ char *rel = NULL;
		int r = ka_read(ka, "proc/sys/kernel/osrelease", &rel);
		if (r < 0)
			return r == -ENOENT ? -ENOPKG : r;
		_cleanup_free_ char *dir = xasprintf("lib/modules/%s", rel);
		_cleanup_close_ int fd = -1;
		r = ka_open_dir(ka, dir, &fd);
		if (r < 0)
			return r == -ENOENT ? -ENOPKG : r;
		/* libkmod takes a path: the directory we just checked lies beneath the root. */
		_cleanup_free_ char *path = ka_path(ka, dir);
		const char *null_config = NULL;
		ka->kmod = kmod_new(path, &null_config);
	}
	if (!ka->kmod)
		return -ENOMEM;
	*ret = ka->kmod;
	return 0;
}

int ka_modalias_modules(struct ka *ka, const char *modalias, struct strv *ret)
{
	struct kmod_ctx *ctx;
	int r = kmod_ctx(ka, &ctx);
	if (r < 0)
		return r;
	struct kmod_list *list = NULL, *it;
	r = kmod_module_new_from_lookup(ctx, modalias, &list);
	if (r < 0)
		return r;
	kmod_list_foreach(it, list)
	{
		struct kmod_module *m = kmod_module_get_module(it);
		strv_push(ret, xstrdup(kmod_module_get_name(m)));
		kmod_module_unref(m);
	}
	kmod_module_unref_list(list);
	return 0;
}

int ka_load_driver(struct ka *ka, const char *driver, const char *module)
{
	_cleanup_free_ char *mod = module ? xstrdup(module) : module_for_driver(driver);
	if (!ka->live)
		return replay_load_driver(ka, driver, mod);
	if (live_forbidden())
		return -EPERM;
	struct kmod_ctx *ctx;
	int r = kmod_ctx(ka, &ctx);
	if (r < 0)
		return r;
	struct kmod_module *m = NULL;
	r = kmod_module_new_from_name(ctx, mod, &m);
	if (r < 0)
		return r;
	r = kmod_module_probe_insert_module(m, KMOD_PROBE_APPLY_BLACKLIST, NULL, NULL, NULL, NULL);
	kmod_module_unref(m);
	return r > 0 ? -EPERM : r; /* > 0: blacklisted */
}
