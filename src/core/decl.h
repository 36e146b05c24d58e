/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Declarations: which groups belong to VFIO, as iommu-own.conf(5) says, in
 * $sysconfdir/iommu-own/iommu-own.conf and conf.d/ *.conf (under the
 * sysroot). An entry names a device by address and pins what must be found
 * there; it means: the whole group that holds this device belongs to a
 * VFIO driver. Parsing here is pure text; the judging against the tree
 * (drift) reads through the kernel-access layer.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "os/kaccess.h"
#include "os/pcidb.h"

struct decl {
	char *file;       /* where it was read, for messages */
	unsigned line;    /* its [device ...] line */
	char *address;    /* canonical: 0000:01:00.0 */
	uint16_t vendor, device;
	bool has_subsystem;
	uint16_t svendor, sdevice;
	bool has_serial;
	uint64_t serial;  /* PCIe Device Serial Number */
	char *driver;     /* the VFIO driver's kernel name (default vfio-pci) */
	struct strv members; /* the group as declared (empty: not pinned) */
	struct strv force;   /* refusal codes this entry overrides */
	unsigned long vfs;   /* a PF with this many VFs, whose groups belong to driver (0: the entry's group does) */
	char *owner, *mode;  /* the hand-off of the group's nodes (USER[:GROUP], octal), NULL: none */
	bool masked;      /* "masked = yes": this address is not declared */
	bool persisted;   /* from a drop-in that claim --persist wrote */
};

struct decls {
	struct decl *v;
	size_t n, cap;
	struct strv files; /* the files read, in order */
};

/*
 * Parse one file's text into ds: a later entry for an address replaces an
 * earlier one (a later file overrides, masked = yes removes). Errors are
 * printed as "FILE:LINE: what" and give -EINVAL; nothing of the file is kept
 * then.
 */
int decls_parse(struct decls *ds, const char *file, const char *text);
/*
 * The system's declarations: iommu-own.conf, then conf.d/ *.conf in byte
 * order of their names, under ka's root. conf_file (NULL: the system's)
 * names one file of the real file system instead. Printed errors: -EINVAL.
 */
int decls_load(const struct ka *ka, const char *conf_file, struct decls *ret);
/* Only the file conf_file of the real file system. */
int decls_load_file(const char *conf_file, struct decls *ret);
/*
 * The system's declarations as they would be after a change to conf.d:
 * the drop-ins named in skip left out, and add_name (with add_text) read
 * where its name sorts, instead of a file of that name (NULL: none). What
 * claim and release --persist check before they write or remove a drop-in.
 */
struct decls_overlay {
	const struct strv *skip;
	const char *add_name, *add_text;
};
int decls_load_overlay(const struct ka *ka, const struct decls_overlay *ov, struct decls *ret);
void decls_free(struct decls *ds);
/* Whether an entry that declares something pins a serial number (config space must be read). */
bool decls_pin_serial(const struct decls *ds);
/* The entries that declare something (masked ones left out). */
size_t decls_active(const struct decls *ds);
struct decl *decls_find(const struct decls *ds, const char *address);

/* The header every drop-in written by claim --persist starts with: files without it are never touched. */
#define DECL_PERSIST_HEADER "# Written by iommu-own claim --persist; iommu-own release --persist removes it."
/* The name of the drop-in claim --persist writes for a group, after the address of its first device. */
char *decl_persist_name(const char *address);
/* The text of such a drop-in for the claim of group g for driver (its devices as members). */
char *decl_persist_text(const struct group *g, const char *driver, const struct device *named);

/* What is at a declared address now, against what the entry pins. */
enum decl_state {
	DECL_OK,      /* the device and its group are as declared */
	DECL_MISSING, /* no device at the address */
	DECL_DRIFT,   /* another device, or the group gained or lost a device */
};
/*
 * Judge e against the tree (sys holds the device, db reads its serial; db
 * NULL: serials are not compared). *why explains a drift or a missing
 * device; the caller frees it.
 */
enum decl_state decl_judge(const struct ka *ka, const struct system *sys, struct pcidb *db, const struct decl *e,
			   char **why);

/* Other ways of binding to VFIO at boot, which fight the declarations. */
/* Where vfio-pci's ids= is set: "the kernel command line" or a modprobe.d file; NULL when nowhere. */
char *decl_vfio_ids_source(const struct ka *ka, const struct system *sys);
/* The driver a driverctl override (etc/driverctl.d/pci-ADDRESS) names for a device, or NULL. */
char *decl_driverctl_override(const struct ka *ka, const char *address);
/*
 * A built-in module (not a VFIO one) that matches a device's modalias: its
 * driver binds at boot before any boot step can run. NULL when none.
 */
char *decl_builtin_driver(struct ka *ka, const char *address);
