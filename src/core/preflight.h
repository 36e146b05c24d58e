/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Refusals: what is checked on every device of a group before any write.
 * Every check fails closed: when its input cannot be read it refuses with
 * cannot-verify, naming the input, and never reports the device safe.
 */
#pragma once

#include "core/model.h"
#include "os/holders.h"
#include "os/kaccess.h"

struct refusal_code {
	const char *code;
	bool overridable; /* by --force=CODE (some refusals of an overridable code are not: see forceable) */
	const char *description;
};
extern const struct refusal_code refusal_codes[];
extern const size_t n_refusal_codes;
const struct refusal_code *refusal_code_find(const char *code);

struct refusal {
	const char *code;
	char *device;    /* NULL: the whole group */
	char *message;
	bool forceable;  /* --force=CODE may override this one */
	char *why_not;   /* !forceable: why not, for people */
	bool forced;     /* overridden with --force */
	bool unverified; /* a dry run: a check it could not make, reported, not refused */
};

struct refusals {
	struct refusal *v;
	size_t n, cap;
	size_t blocking; /* refusals not forced */
};
void refusals_free(struct refusals *r);
/* A refusal of code (never forced) for device (NULL: the group), from outside the checks here. */
void refusals_add(struct refusals *r, const char *code, const char *device, const char *fmt, ...) _printf_(4, 5);
/*
 * A refusal of code for device (NULL: the group) from a check: forced when
 * force names the code and the code is overridable. refuse_hard: never
 * forceable, why_not says why for people.
 */
void refusals_refuse(struct refusals *out, const struct strv *force, const char *code, const char *device,
		     const char *fmt, ...) _printf_(5, 6);
void refusals_refuse_hard(struct refusals *out, const char *code, const char *device, const char *why_not,
			  const char *fmt, ...) _printf_(5, 6);
/* Take back the refusals of code for device (a move that deals with what they stand for). */
void refusals_drop(struct refusals *r, const char *code, const char *device);
/*
 * For a dry run, which changes nothing: the checks that could not be made
 * (cannot-verify, often because the user is not root) are said, not
 * refused, so that the plan still shows.
 */
void refusals_unverified(struct refusals *r);

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
	SKIP_VMD_DOMAIN, /* in the PCI domain of a VMD controller that moves: removed with it */
	_SKIP_MAX,
};
const char *skip_name(enum skip s);

/*
 * Whether a device is left alone by moves whatever they are: bridges
 * (header type != 0) and devices on pcieport or pci-stub; SKIP_NONE when not.
 */
enum skip move_skip_reason(const struct device *d);

/*
 * What the checks read besides the model, each read once and only when a
 * check needs it: the mount table, swaps, routes, IPv6 addresses, the
 * processes' open device nodes, the console. A NULL text after a read is
 * an input that could not be read.
 */
struct preflight_inputs {
	bool mounts_read, net_read, holders_read, console_read;
	char *mountinfo, *swaps, *route, *inet6;
	int mounts_err, swaps_err, route_err, inet6_err; /* their reads' errors, to name them */
	struct holders holders;
	bool fbcon;
	char *fbcon_error;  /* what could not be read to know the console */
	char *firmware_fb;  /* the firmware framebuffer on the boot display, or NULL */
};
void preflight_inputs_free(struct preflight_inputs *in);
/* The processes' open device nodes, read once (in->holders). */
void preflight_need_holders(const struct ka *ka, struct preflight_inputs *in);

/*
 * Claim to driver: boot-vga, mounted, netdev-active, sriov-pf (for the
 * devices that move), chipset, vmd, host-in-use (processes and the kernel
 * using a device that leaves its host driver), direct-mapped,
 * kernel-bridge, non-pci, in-use (a device leaving a VFIO driver while its
 * group's file is held), cannot-verify.
 */
int preflight_claim(const struct ka *ka, const struct group *g, const char *driver, const struct strv *force,
		    struct preflight_inputs *in, struct refusals *out);
/* Release: in-use (a process holds the group or a device file), non-pci, cannot-verify. */
int preflight_release(const struct ka *ka, const struct group *g, const struct strv *force,
		      struct preflight_inputs *in, struct refusals *out);
/*
 * A rollback by recover: in-use for the devices of g that it takes off a
 * VFIO driver (leaving_vfio[j] for g->devices[j]), host-in-use for those it
 * takes off a host driver (leaving_host[j]); the kernel would block in
 * their unbind while a process holds them.
 */
int preflight_recover(const struct ka *ka, const struct group *g, const bool *leaving_vfio, const bool *leaving_host,
		      struct preflight_inputs *in, struct refusals *out);
