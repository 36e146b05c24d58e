/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Why the kernel put devices in one IOMMU group, explained from config space
 * (read through libpci) and the sysfs topology: bridges that alias what is
 * behind them, ports without ACS, multifunction devices without ACS, and
 * what config space cannot show (DMA alias quirks). The groups themselves are
 * always read from sysfs, never recomputed.
 */
#pragma once

#include "core/model.h"
#include "os/pcidb.h"

enum why_kind {
	WHY_PCI_BRIDGE,   /* behind a PCIe-to-PCI or PCI-to-PCI bridge: aliased to it */
	WHY_VMD,          /* behind an Intel VMD controller, which does their DMA */
	WHY_ACS_MISSING,  /* an upstream root or downstream port without ACS */
	WHY_ACS_DISABLED, /* an upstream port with ACS, some required controls off */
	WHY_MULTIFUNCTION, /* functions of one device without ACS */
	WHY_NOT_VISIBLE,  /* nothing in config space: a DMA alias quirk */
	WHY_UNREADABLE,   /* config space could not be read: the reason cannot be told */
	_WHY_MAX,
};
const char *why_kind_to_string(enum why_kind k);

/* One device of the group as config space shows it. */
struct why_device {
	const struct device *dev;
	struct strv path;       /* PCI ancestors from the top, ending with the device */
	struct pci_facts facts;
};

struct why_reason {
	enum why_kind kind;
	char *device;          /* the device responsible (the bridge, the port, function 0), or NULL */
	struct strv members;   /* the group's devices it ties together */
	uint16_t missing;      /* ACS controls required but off (WHY_ACS_DISABLED) */
	char *message;
};

struct why {
	const struct ka *ka;
	const struct group *group;
	struct why_device *devices;
	size_t ndevices;
	struct why_reason *reasons;
	size_t nreasons, cap;
	struct strv split;     /* what would split the group */
	bool acs_override;     /* the kernel was booted with pcie_acs_override */
};

/* Required ACS controls for isolation (the kernel's REQ_ACS_FLAGS). */
#define WHY_REQ_ACS 0x001d /* SV | RR | CR | UF */
/* "SV RR CR UF" for the bits set in acs; the caller frees it. */
char *why_acs_bits(uint16_t acs);
/* "root-port", "endpoint", ... for a PCI Express device/port type, or "pci" without one. */
const char *why_port_type(const struct pci_facts *f);

/* Explain group g (pcidb_use_sysroot() done; cmdline from the model, may be NULL). */
int why_explain(const struct ka *ka, struct pcidb *db, const struct system *sys, const struct group *g,
		struct why *out);
/* The reasons in one line, for the audit's shared-group finding; the caller frees it. */
char *why_one_line(const struct why *w);
void why_free(struct why *w);
