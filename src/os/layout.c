// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <string.h>

#include "os/layout.h"
#include "shared/util.h"

static char *join(const char *dir, const char *name)
{
	return path_component_ok(name) ? xasprintf("%s/%s", dir, name) : NULL;
}

static char *join2(const char *dir, const char *name, const char *attr)
{
	if (!path_component_ok(name))
		return NULL;
	/* attr may be a short relative path of the tool's own (vfio-dev/vfio0): each part is checked. */
	_cleanup_free_ char *a = xstrdup(attr);
	char *save = NULL;
	for (char *c = strtok_r(a, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (!path_component_ok(c))
			return NULL;
	return xasprintf("%s/%s/%s", dir, name, attr);
}

char *lay_pci_device(const char *addr)
{
	return join(LAY_PCI_DEVICES, addr);
}

char *lay_pci_device_attr(const char *addr, const char *attr)
{
	return join2(LAY_PCI_DEVICES, addr, attr);
}

char *lay_pci_driver(const char *driver)
{
	return join(LAY_PCI_DRIVERS, driver);
}

char *lay_pci_driver_attr(const char *driver, const char *attr)
{
	return join2(LAY_PCI_DRIVERS, driver, attr);
}

char *lay_group(unsigned long n)
{
	return xasprintf(LAY_IOMMU_GROUPS "/%lu", n);
}

char *lay_group_attr(unsigned long n, const char *attr)
{
	return path_component_ok(attr) ? xasprintf(LAY_IOMMU_GROUPS "/%lu/%s", n, attr) : NULL;
}

char *lay_vfio_group_node(unsigned long n, bool noiommu)
{
	return xasprintf(LAY_DEV_VFIO "/%s%lu", noiommu ? "noiommu-" : "", n);
}

char *lay_vfio_group_path(unsigned long n, bool noiommu)
{
	return xasprintf("/" LAY_DEV_VFIO "/%s%lu", noiommu ? "noiommu-" : "", n);
}

const char *lay_vfio_cdev_name(const char *path)
{
	static const char prefix[] = "/" LAY_DEV_VFIO_CDEVS "/";
	if (strncmp(path, prefix, sizeof(prefix) - 1) != 0)
		return NULL;
	const char *name = path + sizeof(prefix) - 1;
	return path_component_ok(name) ? name : NULL;
}

char *lay_vfio_cdev_node(const char *name)
{
	return join(LAY_DEV_VFIO_CDEVS, name);
}

char *lay_vfio_cdev_path(const char *name)
{
	return path_component_ok(name) ? xasprintf("/" LAY_DEV_VFIO_CDEVS "/%s", name) : NULL;
}

const char *lay_vfio_node_rel(const char *path)
{
	static const char prefix[] = "/" LAY_DEV_VFIO "/";
	if (!lay_is_vfio_file(path))
		return NULL;
	const char *rest = path + sizeof(prefix) - 1;
	/* dev/vfio/<group> or dev/vfio/devices/<name>, nothing else */
	if (path_component_ok(rest) && !streq(rest, "devices"))
		return path + 1;
	return lay_vfio_cdev_name(path) ? path + 1 : NULL;
}

bool lay_is_vfio_file(const char *path)
{
	static const char prefix[] = "/" LAY_DEV_VFIO "/";
	return strncmp(path, prefix, sizeof(prefix) - 1) == 0 && !streq(path, "/" LAY_DEV_VFIO_CONTAINER);
}

char *lay_module(const char *module)
{
	return join(LAY_MODULES, module);
}

char *lay_module_attr(const char *module, const char *attr)
{
	return join2(LAY_MODULES, module, attr);
}

const char *lay_dev_name(const char *name)
{
	return strncmp(name, "/dev/", 5) == 0 ? name + 5 : name;
}

char *lay_class_device(const char *subsystem, const char *name)
{
	return path_component_ok(name) ? xasprintf("sys/class/%s/%s", subsystem, name) : NULL;
}

char *lay_modules_dir(const char *release)
{
	return join("lib/modules", release);
}

char *lay_dev_path(const char *name)
{
	return xasprintf("/dev/%s", name);
}

bool lay_is_dev_path(const char *path)
{
	return strncmp(path, "/dev/", 5) == 0;
}

char *lay_nvidia_node(unsigned minor)
{
	return xasprintf("/dev/nvidia%u", minor);
}

const char *const lay_firmware_fb_drivers[] = { "efi-framebuffer", "simple-framebuffer", "vesa-framebuffer", NULL };

const char *const lay_modprobe_dirs[] = { "etc/modprobe.d", "run/modprobe.d", "usr/lib/modprobe.d", "lib/modprobe.d",
					  NULL };

char *lay_proc_pid(const char *pid, const char *what)
{
	return join2(LAY_PROC, pid, what);
}

char *lay_override_decode(const char *text)
{
	/* The kernel keeps a write up to its first newline: more lines come only from a damaged tree. */
	size_t len = text ? strcspn(text, "\n") : 0;
	if (len == 0 || (len == 6 && strncmp(text, "(null)", 6) == 0))
		return NULL;
	return xstrndup(text, len);
}

char *lay_override_show(const char *written)
{
	size_t len = strcspn(written, "\n");
	return len ? xasprintf("%.*s\n", (int)len, written) : xstrdup("(null)\n");
}

const char *lay_override_encode(const char *override)
{
	return override && *override ? override : "\n";
}
