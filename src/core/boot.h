/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The boot step: before any host driver can bind (before udev's coldplug
 * trigger, or as a hotplugged device appears), the devices of every declared
 * group get the declared VFIO driver as their driver_override, so that a
 * driver's probe passes them over (driver_match_device() honours the
 * override). It loads no module, unbinds nothing and binds nothing: apply
 * does that later. An entry that drifted is left alone; the boot display is
 * left alone unless its entry forces boot-vga.
 */
#pragma once

#include <json-c/json.h>

#include "core/decl.h"

struct boot_entry {
	const struct decl *decl;
	const char *skipped;   /* NULL: enforced; else why not ("drift", "boot-vga", ...) */
	char *why;             /* the drift's explanation */
	struct strv devices;   /* the devices given the override */
};

struct boot_result {
	struct boot_entry *v;
	size_t n, cap;
	unsigned writes, failed;
};
void boot_result_free(struct boot_result *b);

/*
 * Enforce the declarations on the whole system (only NULL), or only on the
 * device only (a hotplug event: the device itself, when it is declared or in
 * the group of a declared device). Writes go through ka; db reads the serial
 * numbers entries pin (NULL: not compared).
 */
int boot_enforce(struct ka *ka, const struct system *sys, struct pcidb *db, const struct decls *ds, const char *only,
		 struct boot_result *out);
/*
 * What the boot step enforced, as check compares it with the declarations
 * now (boot.json); off: iommu_own=off turned it off.
 */
struct json_object *boot_record(const struct boot_result *b, bool off);
