/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who holds a device: the processes with its files open (VFIO group and
 * device files, the device nodes of its host drivers: DRM, ALSA,
 * framebuffer, NVIDIA), and the kernel's own users of it (the framebuffer
 * console, a firmware framebuffer on the boot display).
 */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "os/kaccess.h"

/* A process holding a device node open (from <sysroot>/proc/PID/fd). */
struct holder {
	long pid;
	char *comm; /* the process's command name, "" when unknown */
	char *path; /* the node it holds: "/dev/vfio/12", "/dev/dri/card0" */
};

/* Every process's open device nodes, read once. */
struct holders {
	struct holder *v;
	size_t n, cap;
	/*
	 * NULL when every process could be looked at; else what could not be
	 * read ("<sysroot>/proc", "<sysroot>/proc/1234/fd"): a check that needs
	 * it cannot say nobody holds a device, and must refuse.
	 */
	char *unreadable;
};
int ka_holders(const struct ka *ka, struct holders *ret);
void holders_free(struct holders *h);

/* The holders of VFIO group and device files only (what the replay engine and recover look at). */
struct vfio_holder {
	long pid;
	char *comm;
	char *path;
};
int ka_vfio_holders(const struct ka *ka, struct vfio_holder **ret, size_t *n);
void vfio_holders_free(struct vfio_holder *h, size_t n);

/* A device node of a PCI device's host driver, and whether its holders can be forced away. */
struct device_node {
	char *path;       /* "/dev/dri/card0", "/dev/snd/pcmC1D3p", "/dev/nvidia0" */
	const char *kind; /* "DRM", "ALSA", "framebuffer", "NVIDIA" */
	/*
	 * NULL when the kernel does not wait for its holders on unbind (DRM
	 * unplugs the device under them); else why it does, and a claim must
	 * not be forced past them.
	 */
	const char *blocks;
};
struct device_nodes {
	struct device_node *v;
	size_t n, cap;
};
/*
 * The device nodes below a PCI device (its drm, sound and graphics class
 * devices, by their uevent's DEVNAME) and, for a device on nvidia, its
 * /dev/nvidiaN and the control nodes. -errno when they cannot all be read.
 */
int ka_device_nodes(const struct ka *ka, const char *address, const char *driver, struct device_nodes *ret);
void device_nodes_free(struct device_nodes *d);

/* The kernel's own users of a display. */
/* The framebuffer devices below a PCI device ("fb0"), from its graphics class devices. */
int ka_device_framebuffers(const struct ka *ka, const char *address, struct strv *ret);
/* Whether the framebuffer console is bound (a vtconsole "frame buffer device" with bind 1). */
int ka_fbcon_bound(const struct ka *ka, bool *ret);
/* The firmware framebuffer driving the boot display (efifb, simplefb, simpledrm, vesafb), or NULL. */
int ka_firmware_framebuffer(const struct ka *ka, char **ret);
