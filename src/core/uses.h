/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What sits behind a device: its network interfaces, disks, DRM and sound
 * nodes, and the USB devices on a USB controller, with the facts that say
 * whether the host uses them (an interface up with addresses, a disk
 * mounted). list shows them (USES); the refusals (core/preflight.c) judge
 * from the same facts.
 */
#pragma once

#include "core/model.h"
#include "core/preflight.h"

/* ---- the facts, read through ka and cached in in ---- */
void uses_need_mounts(const struct ka *ka, struct preflight_inputs *in);
void uses_need_net(const struct ka *ka, struct preflight_inputs *in);
/* The disks of the NVMe subsystems one of whose controllers is below devpath (native multipath). */
int uses_nvme_subsystem_blocks(const struct ka *ka, const char *devpath, struct strv *blocks);
/* Why block device blk (a class device path) is in use, NULL when it is not; -errno in *err when unknown. */
const char *uses_block_use(const struct ka *ka, const char *blk, const char *name, struct preflight_inputs *in,
			   int *err);
/* Whether ifname has a line in /proc/net/route (inet6: a global address in if_inet6). */
bool uses_iface_listed(const char *text, const char *ifname, bool inet6);
/* Whether interface iface (a class device path) is up. */
int uses_iface_up(const struct ka *ka, const char *iface, bool *up);

/* ---- one device ---- */
struct uses {
	struct use_net {
		char *name, *operstate;
		bool up, addresses; /* addresses: routes or global IPv6 addresses */
	} *nets;
	size_t nnets;
	struct use_block {
		char *name;
		const char *use; /* "mounted", "used as swap", "held by ...", or NULL */
	} *blocks;
	size_t nblocks;
	struct strv drm;   /* card0, renderD128 */
	struct strv sound; /* card0 */
	struct use_usb {
		char *name;    /* 1-1.2 */
		char *id;      /* 046d:c52b */
		char *product; /* NULL when it has none */
	} *usb;
	size_t nusb;
	char *unreadable;  /* what could not be read, or NULL */
};
/* Read what sits behind d. Never fails: what cannot be read is named in unreadable. */
void uses_read(const struct ka *ka, const struct device *d, struct preflight_inputs *in, struct uses *out);
void uses_free(struct uses *u);
/* One line: "net eth0 (up, addresses); disk nvme0n1 (mounted); drm card0; usb 1-1 (046d:c52b Receiver)". */
char *uses_text(const struct uses *u);
/* Only the names of d's interfaces and disks (cheap), as claim records keep them for --netdev and --blockdev. */
void uses_read_names(const struct ka *ka, const struct device *d, struct strv *nets, struct strv *blocks);
