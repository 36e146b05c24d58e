/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The model: IOMMU groups and their devices as read from a sysroot, and the
 * judgement of who owns each group's DMA. No printing happens here.
 */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "os/drivers.h"
#include "os/kaccess.h"
#include "shared/util.h"

/* What to read beyond the essentials (names, groups, drivers). */
enum {
	MODEL_IDS = 1 << 0,      /* vendor, device, class */
	MODEL_OVERRIDE = 1 << 1, /* driver_override */
	MODEL_BOOT_VGA = 1 << 2, /* boot_vga (VGA-class devices only; needs IDS) */
	MODEL_RESET = 1 << 3,    /* reset_method */
	MODEL_TYPE = 1 << 4,     /* group domain type */
	MODEL_REGIONS = 1 << 5,  /* group reserved regions */
	MODEL_PARAMS = 1 << 6,   /* VFIO module parameters, command line, loaded PCI drivers */
	MODEL_RESET_USER = 1 << 7, /* reset_method of devices on VFIO only */
	MODEL_CLASS = 1 << 8,    /* class alone (MODEL_IDS reads it too) */
	MODEL_CDEVS = 1 << 9,    /* the VFIO cdev names of devices on VFIO (their consumer's nodes) */
	MODEL_ALL = (1 << 10) - 1,
};

enum group_state {
	GROUP_FREE,
	GROUP_KERNEL,
	GROUP_USER,
	GROUP_MIXED,
	GROUP_NOIOMMU,
	_GROUP_STATE_MAX,
};
const char *group_state_to_string(enum group_state s);

struct group;

struct device {
	char *name; /* sysfs name: "0000:01:00.0" */
	bool is_pci;
	struct pci_addr addr;
	struct group *group; /* NULL: in no IOMMU group */
	bool has_ids;   /* vendor, device and class read */
	bool has_class; /* class read */
	uint16_t vendor, device;
	uint32_t class; /* 24 bits: base class, subclass, prog-if */
	char *driver;   /* NULL: unbound */
	bool has_override_attr;
	char *driver_override; /* NULL: unset, "(null)" in sysfs */
	bool vfio_dev;         /* has vfio-dev/ */
	int boot_vga;          /* 1, 0, or -1 when there is no boot_vga */
	char *reset_method;    /* NULL when absent or empty */
	bool has_cdevs;        /* cdevs read (MODEL_CDEVS, a device on VFIO) */
	struct strv cdevs;     /* vfio-dev/ entries: "vfio0" */
	enum role role;
	int header_type;       /* config space header type, -1 until model_read_config() */
	bool selected;
};

struct region {
	uint64_t start, end;
	char *type; /* direct, direct-relaxable, reserved, msi */
};

struct group {
	unsigned long number;
	char *type; /* NULL when the kernel has no type attribute */
	char *name; /* NULL unless the group has a name (vfio-noiommu) */
	struct region *regions;
	size_t nregions;
	struct device **devices;
	size_t ndevices, cap;
	enum group_state state;
	bool viable;
	bool selected;
};

/* Tri-state module parameters: absent when the module is not loaded. */
enum param { PARAM_ABSENT = -1, PARAM_OFF = 0, PARAM_ON = 1 };

struct system {
	unsigned loaded; /* MODEL_* flags read */
	struct device **devices; /* sorted by address; non-PCI devices last */
	size_t ndevices, devcap;
	struct group **groups; /* sorted by number */
	size_t ngroups, groupcap;
	bool has_groups_dir;
	enum param noiommu_mode;       /* vfio enable_unsafe_noiommu_mode */
	enum param unsafe_interrupts;  /* vfio_iommu_type1 allow_unsafe_interrupts */
	char *cmdline;                 /* NULL when proc/cmdline is absent */
	struct strv pci_drivers;       /* loaded PCI drivers (sys/bus/pci/drivers) */
	unsigned kernel_major, kernel_minor; /* from proc/sys/kernel/osrelease; 0 when unknown */
};

/*
 * Vendor, device and class from a PCI device's uevent text (PCI_ID=VVVV:DDDD,
 * PCI_CLASS=CCCCCC lines). -ENODATA: neither line; -EBADMSG: one missing,
 * repeated or malformed.
 */
int model_parse_pci_uevent(const char *text, uint16_t *vendor, uint16_t *device, uint32_t *class);

/*
 * Read the tree and judge it. On error a message naming the file has been
 * printed and a negative errno is returned.
 */
int model_load(const struct ka *ka, unsigned flags, struct system **ret);
void model_free(struct system *sys);
/*
 * Read only the group that target names (a group number, or a PCI address
 * whose group it is), for moves: the system-wide facts (MODEL_PARAMS) and
 * that group's devices. Errors are printed: -ENOENT for a group or device
 * that does not exist, -ENXIO for a device in no group, -EINVAL for garbage.
 */
int model_load_group(const struct ka *ka, unsigned flags, const char *target, struct system **ret);
static inline void model_freep(struct system **s)
{
	model_free(*s);
}

/* Recompute every device's role and every group's state and viability. */
void model_judge(struct system *sys);
void group_judge(struct group *g);

struct group *model_find_group(const struct system *sys, unsigned long number);
struct device *model_find_device(const struct system *sys, const struct pci_addr *addr);

/*
 * Mark what the arguments name (group numbers or PCI addresses); with no
 * arguments everything is selected. An argument that names nothing is an
 * error with a message naming it (-ENOENT, -EINVAL).
 */
int model_select(struct system *sys, int argc, char **argv);

struct pcidb;
/*
 * Read the header type of every selected PCI device from config space
 * through libpci (pcidb_use_sysroot() done). A device whose config file is
 * missing or is not a regular file keeps -1.
 */
int model_read_config(struct system *sys, const struct ka *ka, struct pcidb *db);

/* A device's binding as the kernel shows it now (re-read, never cached). */
struct binding {
	char *driver;   /* NULL: unbound */
	char *override; /* NULL: unset */
};
int model_read_binding(const struct ka *ka, const char *address, struct binding *ret);
void binding_clear(struct binding *b);
bool binding_eq(const struct binding *a, const struct binding *b);

/*
 * Whether a device is a bridge: its config header type when read (1 PCI
 * bridge, 2 CardBus), else its class (PCI, semi-transparent or CardBus bridge).
 */
bool device_is_bridge(const struct device *d);

/* Whether the group has a reserved region of type "direct". */
bool group_direct_mapped(const struct group *g);
