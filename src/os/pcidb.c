// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <stdbool.h>
#include <unistd.h>

#include <pci/pci.h>

#include "os/layout.h"
#include "shared/escape.h"
#include "os/pcidb.h"
#include "os/pciids.h"
#include "shared/util.h"

/* The size of libpci's own path buffers (OBJNAMELEN in its lib/sysfs.c). */
#define LIBPCI_PATH_MAX 1024

/* Names already looked up: a machine has thousands of identical VFs. */
struct name_cache {
	uint32_t *keys;
	char **names;
	size_t cap, used;
};

/* The size of libpci's name buffer: names that do not fit end in "...". */
#define NAME_MAX_LEN 256

struct pcidb {
	struct pci_access *pacc;
	bool config_ready;
	const char *ids_path; /* --pci-ids, else libpci's default */
	char *plain_path;     /* ids_path without ".gz", when only that exists */
	bool names_tried;
	struct pciids *ids;   /* NULL: no names (or libpci's, for a compressed file) */
	bool names_by_libpci;
	struct name_cache devices, classes;
	char buf[NAME_MAX_LEN];
};

static char **cache_slot(struct name_cache *c, uint32_t key)
{
	if ((c->used + 1) * 2 > c->cap) {
		struct name_cache bigger = { 0 };
		bigger.cap = c->cap ? c->cap * 2 : 64;
		bigger.keys = xcalloc(bigger.cap, sizeof(*bigger.keys));
		bigger.names = xcalloc(bigger.cap, sizeof(*bigger.names));
		for (size_t i = 0; i < c->cap; i++) {
			if (!c->names[i])
				continue;
			size_t j = (c->keys[i] * 2654435761u) & (bigger.cap - 1);
			while (bigger.names[j])
				j = (j + 1) & (bigger.cap - 1);
			bigger.keys[j] = c->keys[i];
			bigger.names[j] = c->names[i];
		}
		bigger.used = c->used;
		free(c->keys);
		free(c->names);
		*c = bigger;
	}
	size_t j = (key * 2654435761u) & (c->cap - 1);
	while (c->names[j] && c->keys[j] != key)
		j = (j + 1) & (c->cap - 1);
	c->keys[j] = key;
	return &c->names[j];
}

static void cache_free(struct name_cache *c)
{
	for (size_t i = 0; i < c->cap; i++)
		free(c->names[i]);
	free(c->keys);
	free(c->names);
}

static void _printf_(1, 2) __attribute__((noreturn)) pci_error_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "%s: libpci: ", program_name);
	esc_vfprintf(stderr, msg, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(EXIT_USAGE);
}

static void _printf_(1, 2) pci_warning_cb(char *msg, ...)
{
	va_list ap;
	va_start(ap, msg);
	fprintf(stderr, "%s: warning: libpci: ", program_name);
	esc_vfprintf(stderr, msg, ap);
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
	db->ids_path = db->pacc->id_file_name;
	*ret = db;
	return 0;
}

void pcidb_free(struct pcidb *db)
{
	if (!db)
		return;
	pci_cleanup(db->pacc);
	pciids_free(db->ids);
	free(db->plain_path);
	cache_free(&db->devices);
	cache_free(&db->classes);
	free(db);
}

/* Only the local pci.ids: never udev's hwdb or the network, so output is reproducible. */
#define LOOKUP_FLAGS (PCI_LOOKUP_NO_HWDB)

/*
 * The names, on the first name asked: pci.ids checked in one pass, its
 * blocks read as names are asked (os/pciids.c). A compressed file is left
 * to libpci. A file that cannot be read gives no names, as with libpci; one
 * libpci would refuse stops the run, as libpci's error did.
 */
/* pci.ids has a line libpci would refuse: stop, as libpci's error did (its message, our words). */
static void names_refused(struct pcidb *db)
{
	unsigned line;
	const char *why = db->ids ? pciids_error(db->ids, &line) : NULL;
	if (!why)
		return;
	log_error("%s, line %u: %s", db->plain_path ? db->plain_path : db->ids_path, line, why);
	exit(EXIT_USAGE);
}

static void names_open(struct pcidb *db)
{
	db->names_tried = true;
	int r = pciids_open(db->ids_path, &db->ids);
	/* libpci's default is "pci.ids.gz", read as "pci.ids" when it is not there */
	size_t n = strlen(db->ids_path);
	if (r == -ENOENT && n > 3 && streq(db->ids_path + n - 3, ".gz")) {
		db->plain_path = xstrndup(db->ids_path, n - 3);
		r = pciids_open(db->plain_path, &db->ids);
	}
	if (r == -EPROTONOSUPPORT)
		db->names_by_libpci = true;
	else if (r == -EBADMSG)
		names_refused(db);
}

/* As libpci fits a name into its buffer: one too long ends in "...". */
static char *fit_name(char *s)
{
	if (strlen(s) >= NAME_MAX_LEN) {
		s[NAME_MAX_LEN - 1] = '\0';
		s[NAME_MAX_LEN - 2] = s[NAME_MAX_LEN - 3] = s[NAME_MAX_LEN - 4] = '.';
	}
	return s;
}

/* libpci's words for what pci.ids does not name (its PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE). */
static char *device_text(struct pcidb *db, uint16_t vendor, uint16_t device)
{
	if (db->names_by_libpci) {
		const char *s = pci_lookup_name(db->pacc, db->buf, sizeof(db->buf),
						PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | LOOKUP_FLAGS, vendor, device);
		return xstrdup(s ? s : "");
	}
	const char *v = db->ids ? pciids_vendor(db->ids, vendor) : NULL;
	const char *d = v ? pciids_device(db->ids, vendor, device) : NULL;
	names_refused(db);
	if (!v)
		return xasprintf("Device %04x:%04x", vendor, device);
	return fit_name(d ? xasprintf("%s %s", v, d) : xasprintf("%s Device %04x", v, device));
}

/* libpci's PCI_LOOKUP_CLASS: the subclass's name, else the base class's with the number. */
static char *class_text(struct pcidb *db, uint16_t class)
{
	if (db->names_by_libpci) {
		const char *s = pci_lookup_name(db->pacc, db->buf, sizeof(db->buf), PCI_LOOKUP_CLASS | LOOKUP_FLAGS,
						(int)class);
		return xstrdup(s ? s : "");
	}
	const char *sub = db->ids ? pciids_subclass(db->ids, class >> 8, class & 0xff) : NULL;
	const char *base = db->ids && !sub ? pciids_class(db->ids, class >> 8) : NULL;
	names_refused(db);
	if (sub)
		return fit_name(xstrdup(sub));
	return base ? fit_name(xasprintf("%s [%04x]", base, class)) : xasprintf("Class %04x", class);
}

char *pcidb_device_name(struct pcidb *db, uint16_t vendor, uint16_t device)
{
	char **slot = cache_slot(&db->devices, (uint32_t)vendor << 16 | device);
	if (!*slot) {
		if (!db->names_tried)
			names_open(db);
		*slot = device_text(db, vendor, device);
		db->devices.used++;
	}
	return xstrdup(*slot);
}

char *pcidb_class_name(struct pcidb *db, uint32_t class)
{
	char **slot = cache_slot(&db->classes, class >> 8);
	if (!*slot) {
		if (!db->names_tried)
			names_open(db);
		*slot = class_text(db, (uint16_t)(class >> 8));
		db->classes.used++;
	}
	return xstrdup(*slot);
}

int pcidb_use_sysroot(struct pcidb *db, const char *sysroot)
{
	_cleanup_free_ char *path = strcmp(sysroot, "/") == 0 ? xstrdup("/" LAY_PCI_BUS)
								: xasprintf("%s/" LAY_PCI_BUS, sysroot);
	/* the longest name libpci builds: <path>/devices/DDDDD:BB:DD.F/config */
	if (strlen(path) + 64 >= LIBPCI_PATH_MAX)
		return -ENAMETOOLONG;
	if (pci_set_param(db->pacc, (char *)"sysfs.path", path) < 0)
		return -EINVAL;
	db->pacc->method = PCI_ACCESS_SYS_BUS_PCI;
	pci_init(db->pacc);
	db->config_ready = true;
	return 0;
}

int pcidb_read_config(struct pcidb *db, const struct pci_addr *a, unsigned pos, void *buf, unsigned len)
{
	if (!db->config_ready)
		return -EINVAL;
	struct pci_dev *dev = pci_get_dev(db->pacc, (int)a->domain, a->bus, a->dev, a->fn);
	if (!dev)
		return -ENOMEM;
	int ok = pci_read_block(dev, (int)pos, buf, (int)len);
	pci_free_dev(dev);
	return ok ? 0 : -EIO;
}

int pcidb_facts(struct pcidb *db, const struct pci_addr *a, struct pci_facts *f)
{
	memset(f, 0, sizeof(*f));
	f->pcie_type = -1;
	if (!db->config_ready)
		return -EINVAL;
	struct pci_dev *dev = pci_get_dev(db->pacc, (int)a->domain, a->bus, a->dev, a->fn);
	if (!dev)
		return -ENOMEM;
	u8 hdr[64];
	if (!pci_read_block(dev, 0, hdr, sizeof(hdr)) || (hdr[0] == 0xff && hdr[1] == 0xff)) {
		pci_free_dev(dev);
		return -EIO;
	}
	f->readable = true;
	f->header_type = hdr[PCI_HEADER_TYPE] & 0x7f;
	f->multifunction = hdr[PCI_HEADER_TYPE] & 0x80;
	struct pci_cap *exp = pci_find_cap(dev, PCI_CAP_ID_EXP, PCI_CAP_NORMAL);
	if (exp)
		f->pcie_type = (pci_read_word(dev, exp->addr + PCI_EXP_FLAGS) & PCI_EXP_FLAGS_TYPE) >> 4;
	struct pci_cap *acs = pci_find_cap(dev, PCI_EXT_CAP_ID_ACS, PCI_CAP_EXTENDED);
	if (acs) {
		f->has_acs = true;
		f->acs_cap = pci_read_word(dev, acs->addr + PCI_ACS_CAP);
		f->acs_ctrl = pci_read_word(dev, acs->addr + PCI_ACS_CTRL);
	}
	pci_free_dev(dev);
	return 0;
}

int pcidb_serial(struct pcidb *db, const struct pci_addr *a, uint64_t *ret)
{
	if (!db->config_ready)
		return -EINVAL;
	struct pci_dev *dev = pci_get_dev(db->pacc, (int)a->domain, a->bus, a->dev, a->fn);
	if (!dev)
		return -ENOMEM;
	int r = -ENODATA;
	struct pci_cap *dsn = pci_find_cap(dev, PCI_EXT_CAP_ID_DSN, PCI_CAP_EXTENDED);
	if (dsn) {
		uint64_t lo = pci_read_long(dev, dsn->addr + 4), hi = pci_read_long(dev, dsn->addr + 8);
		*ret = hi << 32 | lo;
		r = *ret ? 0 : -ENODATA;
	}
	pci_free_dev(dev);
	return r;
}
