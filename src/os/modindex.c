// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "os/kaccess-internal.h"
#include "os/drivers.h"
#include "os/kmodlib.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "os/resolve.h"

/* The files libkmod opens in a module directory (libkmod-internal.h's index names). */
static const char *const index_files[] = {
	"modules.dep.bin", "modules.alias.bin", "modules.symbols.bin", "modules.builtin.alias.bin",
	"modules.builtin.bin", "modules.softdep", "modules.builtin.modinfo", "modules.dep", "modules.alias",
	"modules.symbols", "modules.builtin", "modules.order",
};

/*
 * Every index file of a tree's module directory is a regular file or absent:
 * libkmod opens them itself, blocking, and would hang on a FIFO.
 */
static int check_index(const struct ka *ka, const char *dir)
{
	_cleanup_close_ int dfd = res_open(ka->rootfd, dir, RES_PATH | RES_DIR, 0);
	if (dfd < 0)
		return dfd;
	for (size_t i = 0; i < ARRAY_SIZE(index_files); i++) {
		_cleanup_close_ int fd = res_open(dfd, index_files[i], RES_PATH | RES_REG | RES_NOFOLLOW, 0);
		if (fd == -ENOENT)
			continue;
		if (fd < 0) {
			_cleanup_free_ char *rel = xasprintf("%s/%s", dir, index_files[i]);
			_cleanup_free_ char *path = ka_path(ka, rel);
			log_error("%s: %s", path, ka_strerror(fd));
			return -EMEDIUMTYPE;
		}
	}
	return 0;
}

int ka_kmod(struct ka *ka, struct kmod_ctx **ret)
{
	if (ka->kmod) {
		*ret = ka->kmod;
		return 0;
	}
	const struct kmodlib *k = kmodlib();
	if (!k)
		return -ELIBACC;
	if (ka->live) {
		ka->kmod = k->kmod_new(NULL, NULL);
	} else {
		_cleanup_free_ char *release = NULL;
		int r = ka_read(ka, LAY_OSRELEASE, &release);
		if (r < 0)
			return r == -ENOENT ? -ENOPKG : r;
		/* The release names a directory: "../x" or "a/b" names none. */
		_cleanup_free_ char *dir = lay_modules_dir(release);
		if (!dir)
			return -ENOPKG;
		r = check_index(ka, dir);
		if (r < 0)
			return r == -ENOENT ? -ENOPKG : r;
		/* libkmod takes a path: the directory just checked lies beneath the root. */
		_cleanup_free_ char *path = ka_path(ka, dir);
		const char *null_config = NULL;
		ka->kmod = k->kmod_new(path, &null_config);
	}
	if (!ka->kmod)
		return -ENOMEM;
	*ret = ka->kmod;
	return 0;
}

int ka_modalias_modules(struct ka *ka, const char *modalias, struct strv *ret)
{
	struct kmod_ctx *ctx;
	int r = ka_kmod(ka, &ctx);
	if (r < 0)
		return r;
	const struct kmodlib *k = kmodlib(); /* loaded: ka_kmod() succeeded */
	struct kmod_list *list = NULL;
	r = k->kmod_module_new_from_lookup(ctx, modalias, &list);
	if (r < 0)
		return r;
	for (struct kmod_list *it = list; it; it = k->kmod_list_next(list, it)) {
		struct kmod_module *m = k->kmod_module_get_module(it);
		const char *name = k->kmod_module_get_name(m);
		/* A tree's index can name anything: only names that can be a path component are modules. */
		if (path_component_ok(name))
			strv_push(ret, xstrdup(name));
		else
			log_warning("the module index names a module '%s' for %s: ignored, it cannot be a module name",
				    name, modalias);
		k->kmod_module_unref(m);
	}
	k->kmod_module_unref_list(list);
	return 0;
}

/*
 * modules.builtin lists the built-in modules as paths ("kernel/drivers/net/
 * ethernet/intel/e1000e/e1000e.ko"), the names with the kernel's dashes and
 * underscores as written. Read from the tree's own index, not through
 * kmod_module_get_initstate(), which looks at the running kernel's
 * /sys/module whatever the root.
 */
bool ka_module_builtin(struct ka *ka, const char *module)
{
	_cleanup_free_ char *release = NULL, *text = NULL;
	if (ka_read(ka, LAY_OSRELEASE, &release) < 0)
		return false;
	_cleanup_free_ char *dir = lay_modules_dir(release);
	if (!dir)
		return false;
	_cleanup_free_ char *rel = xasprintf("%s/modules.builtin", dir);
	if (ka_read_big(ka, rel, 1 << 22, &text) < 0)
		return false;
	bool found = false;
	for (char *next = text, *line; !found && (line = strsep(&next, "\n"));) {
		char *base = strrchr(line, '/');
		base = base ? base + 1 : line;
		size_t n = strlen(base);
		if (n > 3 && streq(base + n - 3, ".ko")) {
			base[n - 3] = '\0';
			found = driver_name_eq(base, module);
		}
	}
	return found;
}

char *module_for_driver(const char *driver)
{
	char *m = xstrdup(driver);
	for (char *p = m; *p; p++)
		if (*p == '-')
			*p = '_';
	return m;
}
