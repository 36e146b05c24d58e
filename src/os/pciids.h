/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * pci.ids read for the names asked, not loaded whole: one streaming pass
 * finds where each vendor's and class's block starts (checking every
 * top-level line as libpci parses it); a block is read, checked line by
 * line and indexed only when one of its names is asked. libpci parses the
 * whole file into a hash table on its first lookup, several times the work
 * of listing a small host. A line libpci would refuse is an error when the
 * pass or a block read meets it (libpci refuses the file whatever line it
 * is on). The file is the host's (or --pci-ids), never the sysroot's.
 */
#pragma once

#include <stdint.h>

struct pciids;

/*
 * Open and check path. -EPROTONOSUPPORT: a gzip-compressed file (left to
 * libpci); -EBADMSG: a line libpci would refuse, described by
 * pciids_error(); -EMEDIUMTYPE: not a regular file; else -errno.
 * On -EBADMSG *ret is still set, for pciids_error(); free it.
 */
int pciids_open(const char *path, struct pciids **ret);
void pciids_free(struct pciids *ids);
/*
 * Why pciids_open() refused the file, or a lookup (which then gave NULL)
 * refused the block it read: a message and its 1-based line. NULL: neither.
 */
const char *pciids_error(const struct pciids *ids, unsigned *line);

/* Names, NULL when the file has none (or a block read later is broken). */
const char *pciids_vendor(struct pciids *ids, uint16_t vendor);
const char *pciids_device(struct pciids *ids, uint16_t vendor, uint16_t device);
const char *pciids_class(struct pciids *ids, uint8_t base);
const char *pciids_subclass(struct pciids *ids, uint8_t base, uint8_t sub);
