/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Who holds a device's files: processes with VFIO group or device files open. */
#pragma once

#include <stddef.h>

#include "os/kaccess.h"

/* A process holding a VFIO group or device file open (from <sysroot>/proc). */
struct vfio_holder {
	long pid;
	char *comm; /* the process's command name, "" when unknown */
	char *path; /* "/dev/vfio/12" or "/dev/vfio/devices/vfio0" */
};
/*
 * Every /dev/vfio/N, /dev/vfio/noiommu-N and /dev/vfio/devices/vfioX held
 * open, in the order of proc's listing; no proc/ at all is no holder.
 */
int ka_vfio_holders(const struct ka *ka, struct vfio_holder **ret, size_t *n);
void vfio_holders_free(struct vfio_holder *h, size_t n);
