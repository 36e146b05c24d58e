/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Names from pci.ids (os/pciids.c, in libpci's words), config space through libpci. The ID file is the host's, not the sysroot's. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

struct pcidb;

/* ids_file NULL: libpci's default pci.ids. A named file must be readable. */
int pcidb_new(const char *ids_file, struct pcidb **ret);
void pcidb_free(struct pcidb *db);
static inline void pcidb_freep(struct pcidb **db)
{
	pcidb_free(*db);
}

/* "Intel Corporation 82574L Gigabit Network Connection"; caller frees. */
char *pcidb_device_name(struct pcidb *db, uint16_t vendor, uint16_t device);
/* "Ethernet controller" for class 0x0200xx; caller frees. */
char *pcidb_class_name(struct pcidb *db, uint32_t class);

struct pci_addr;
/*
 * Point libpci's config-space access at <sysroot>/sys/bus/pci (its
 * sysfs.path parameter). -ENAMETOOLONG when the path does not fit libpci's
 * 1024-byte buffers.
 */
int pcidb_use_sysroot(struct pcidb *db, const char *sysroot);
/* Read len bytes of config space at pos; -EIO when the device has none readable. */
int pcidb_read_config(struct pcidb *db, const struct pci_addr *a, unsigned pos, void *buf, unsigned len);

/* What config space says about a device's place in the topology. */
struct pci_facts {
	bool readable;      /* config space could be read */
	int header_type;    /* 0 endpoint, 1 PCI-to-PCI bridge, 2 CardBus */
	bool multifunction; /* header type bit 7 */
	int pcie_type;      /* PCI Express device/port type, -1 without a PCIe capability */
	bool has_acs;
	uint16_t acs_cap, acs_ctrl;
};
/* Read through libpci's capability lists (pci_find_cap); config space only. */
int pcidb_facts(struct pcidb *db, const struct pci_addr *a, struct pci_facts *f);
/*
 * The PCIe Device Serial Number (extended capability 3): -ENODATA when the
 * device has none, or when it reads all zeros (as snapshot --no-serial
 * writes it): unknown, not a serial.
 */
int pcidb_serial(struct pcidb *db, const struct pci_addr *a, uint64_t *ret);
