/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Which drivers leave DMA to others (driver_managed_dma): data, in one place. */
#pragma once

#include <stdbool.h>

#include "shared/util.h"

/* What a device's binding means for its group's DMA ownership. */
enum role {
	ROLE_NONE,    /* unbound */
	ROLE_NEUTRAL, /* bound to a driver that manages no DMA (pci-stub, pcieport) */
	ROLE_KERNEL,  /* bound to a driver that uses the kernel DMA API */
	ROLE_USER,    /* bound to VFIO: user space owns its DMA */
	_ROLE_MAX,
};

const char *role_to_string(enum role r);

/* Drivers added with --dma-safe-driver: treated as neutral (or user with vfio-dev/). */
void drivers_add_dma_safe(const char *name);
void drivers_reset_extra(void);

/*
 * The role of a device bound to driver (NULL: unbound). vfio_dev says the
 * device has a vfio-dev/ directory, which every VFIO driver creates (6.1+).
 */
enum role driver_role(const char *driver, bool vfio_dev);
/*
 * The kernel's spelling of vfio-pci or a known VFIO PCI variant driver, given
 * its name with '-' and '_' mixed as modules allow ("vfio_pci" gives
 * "vfio-pci"); NULL when name is none of them.
 */
const char *driver_vfio_pci_name(const char *name);
/* Whether the built-in table knows the driver (so no vfio-dev/ check is needed). */
bool driver_known(const char *name);
/* Driver names compare with '-' and '_' folded, as module names do. */
bool driver_name_eq(const char *a, const char *b);
/* Whether a PF's driver can change its VF count through sriov_numvfs (has sriov_configure, as far as known). */
bool driver_configures_sriov(const char *driver);
