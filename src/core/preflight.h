/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Refusals: what is checked on every device of a group before any write. */
#pragma once

#include "os/kaccess.h"
#include "core/model.h"

struct refusal_code {
	const char *code;
	bool overridable; /* by --force=CODE */
	const char *description;
};
extern const struct refusal_code refusal_codes[];
extern const size_t n_refusal_codes;
const struct refusal_code *refusal_code_find(const char *code);

struct refusal {
	const char *code;
	char *device; /* NULL: the whole group */
	char *message;
	bool forced;  /* overridden with --force */
};

struct refusals {
	struct refusal *v;
	size_t n, cap;
	size_t blocking; /* refusals not forced */
};
void refusals_free(struct refusals *r);

/* Why a move leaves a device alone; the names are a JSON contract ("skip"). */
enum skip {
	SKIP_NONE,
	SKIP_BRIDGE,
	SKIP_PCIEPORT,
	SKIP_PCI_STUB,
	SKIP_NOT_PCI,
	SKIP_ALREADY,  /* claim: already on the driver with its override */
	SKIP_NOT_VFIO, /* release: not on a VFIO driver */
	SKIP_REMOVED,  /* recover: no longer in the system */
	_SKIP_MAX,
};
const char *skip_name(enum skip s);

/*
 * Whether a device is left alone by moves whatever they are: bridges
 * (header type != 0) and devices on pcieport or pci-stub; SKIP_NONE when not.
 */
enum skip move_skip_reason(const struct device *d);

/*
 * Claim to driver: boot-vga, mounted, netdev-active, sriov-pf (for the
 * devices that move), chipset, direct-mapped, kernel-bridge, non-pci, and
 * in-use (a device leaving a VFIO driver while its group's file is held).
 */
int preflight_claim(const struct ka *ka, const struct group *g, const char *driver, const struct strv *force,
		    struct refusals *out);
/* Release: in-use (a process holds the group or a device file), non-pci. */
int preflight_release(const struct ka *ka, const struct group *g, const struct strv *force, struct refusals *out);
/*
 * A rollback by recover: in-use, for the devices of g that it takes off a
 * VFIO driver (leaving[j] for g->devices[j]); the kernel would block in
 * their unbind while a process holds them.
 */
int preflight_recover(const struct ka *ka, const struct group *g, const bool *leaving, struct refusals *out);
