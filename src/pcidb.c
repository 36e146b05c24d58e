// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include <pci/pci.h>

#include "pcidb.h"
#include "util.h"

struct pcidb {
	struct pci_access *pacc;
	char buf[256];
};

static void _printf_(1, 2) __attribute__((noreturn)) pci_error_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "%s: libpci: ", program_name);
	vfprintf(stderr, msg, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_USAGE);
}

static void _printf_(1, 2) pci_warning_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "%s: warning: libpci: ", program_name);
	vfprintf(stderr, msg, ap);
	fputc('\n', stderr);
	va_end(ap);
}

static void _printf_(1, 2) pci_debug_cb(char *msg _unused_, ...)
{
}

int pcidb_new(const char *ids_file, struct pcidb **ret)
{
	if (ids_file && access(ids_file, R_OK) < 0)
		return -errno;
	struct pcidb *db = xcalloc(1, sizeof(*db));
	db->pacc = pci_alloc();
	if (!db->pacc) {
		free(db);
		return -ENOMEM;
	}
	db->pacc->error = pci_error_cb;
	db->pacc->warning = pci_warning_cb;
	db->pacc->debug = pci_debug_cb;
	if (ids_file)
		pci_set_name_list_path(db->pacc, (char *)ids_file, 0);
	*ret = db;
	return 0;
}

void pcidb_free(struct pcidb *db)
{
	if (!db)
		return;
	pci_cleanup(db->pacc);
	free(db);
}

/* Only the local pci.ids: never udev's hwdb or the network, so output is reproducible. */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_HWDB)

char *pcidb_device_name(struct pcidb *db, uint16_t vendor, uint16_t device)
{
	const char *s = pci_lookup_name(db->pacc, db->buf, sizeof(db->buf),
					PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | LOOKUP_FLAGS, vendor, device);
	return xstrdup(s ? s : "");
}

char *pcidb_class_name(struct pcidb *db, uint32_t class)
{
	const char *s = pci_lookup_name(db->pacc, db->buf, sizeof(db->buf), PCI_LOOKUP_CLASS | LOOKUP_FLAGS,
					(int)(class >> 8));
	return xstrdup(s ? s : "");
}
