// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <string.h>

#include "os/drivers.h"

struct driver_info {
	const char *name;
	enum role role;
	bool pci; /* a PCI driver (claim targets come from these) */
};

/*
 * Drivers that set driver_managed_dma = true, from the kernel sources
 * (shared/reference/kernel-rules.md). Every other driver uses the kernel DMA
 * API. New kernels add variant drivers: --dma-safe-driver extends this.
 */
static const struct driver_info dma_safe_drivers[] = {
	{ "vfio-pci", ROLE_USER, true },
	{ "mlx5_vfio_pci", ROLE_USER, true },
	{ "hisi_acc_vfio_pci", ROLE_USER, true },
	{ "pds_vfio_pci", ROLE_USER, true },
	{ "virtio_vfio_pci", ROLE_USER, true },
	{ "nvgrace_gpu_vfio_pci", ROLE_USER, true },
	{ "qat_vfio_pci", ROLE_USER, true },
	{ "xe-vfio-pci", ROLE_USER, true },
	{ "ism_vfio_pci", ROLE_USER, true },
	{ "pci-stub", ROLE_NEUTRAL, true },
	{ "pcieport", ROLE_NEUTRAL, true },
	{ "vfio-platform", ROLE_USER, false },
	{ "vfio-amba", ROLE_USER, false },
	{ "vfio-fsl-mc", ROLE_USER, false },
	{ "vfio-cdx", ROLE_USER, false },
};

static struct strv extra;

static const char *const role_names[_ROLE_MAX] = {
	[ROLE_NONE] = "none",
	[ROLE_NEUTRAL] = "neutral",
	[ROLE_KERNEL] = "kernel",
	[ROLE_USER] = "user",
};

const char *role_to_string(enum role r)
{
	return r < _ROLE_MAX ? role_names[r] : "unknown";
}

bool driver_name_eq(const char *a, const char *b)
{
	for (;; a++, b++) {
		char x = *a == '-' ? '_' : *a;
		char y = *b == '-' ? '_' : *b;
		if (x != y)
			return false;
		if (!x)
			return true;
	}
}

static const struct driver_info *lookup(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(dma_safe_drivers); i++)
		if (driver_name_eq(dma_safe_drivers[i].name, name))
			return &dma_safe_drivers[i];
	return NULL;
}

static bool is_extra(const char *name)
{
	for (size_t i = 0; i < extra.n; i++)
		if (driver_name_eq(extra.v[i], name))
			return true;
	return false;
}

void drivers_add_dma_safe(const char *name)
{
	if (!is_extra(name))
		strv_push(&extra, xstrdup(name));
}

void drivers_reset_extra(void)
{
	strv_free(&extra);
}

bool driver_known(const char *name)
{
	return lookup(name) != NULL;
}

enum role driver_role(const char *driver, bool vfio_dev)
{
	if (!driver)
		return ROLE_NONE;
	if (vfio_dev)
		return ROLE_USER;
	const struct driver_info *d = lookup(driver);
	if (d)
		return d->role;
	if (is_extra(driver))
		return ROLE_NEUTRAL;
	return ROLE_KERNEL;
}

const char *driver_vfio_pci_name(const char *name)
{
	const struct driver_info *d = lookup(name);
	return d && d->pci && d->role == ROLE_USER ? d->name : NULL;
}

bool driver_configures_sriov(const char *driver)
{
	/*
	 * sriov_numvfs_store() calls the PF driver's sriov_configure, and fails
	 * with ENOENT without one. pci-stub and pcieport have none; vfio-pci's
	 * (vfio_pci_core_sriov_configure) refuses unless the module was loaded
	 * with enable_sriov=1, and a PF given to user space is not the tool's to
	 * split. Any other driver is taken to have one: the write tells.
	 */
	return driver && driver_role(driver, false) == ROLE_KERNEL;
}
