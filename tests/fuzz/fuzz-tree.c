// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz-tree: a libFuzzer target for everything iommu-own reads from a tree.
 * Not a test: tests/fuzz/run.sh builds it with clang (-fsanitize=fuzzer,
 * address,undefined) and runs it for a while ("make fuzz").
 *
 * FUZZ_TREE names a copy of a fixture sysroot (run.sh makes it on a tmpfs).
 * At start the target lists the tree's files that the model, the audit and
 * why parse: uevent, class, vendor, device, driver_override, reset_method,
 * boot_vga, config, sriov_* of the devices; type, name and reserved_regions of
 * the groups; the VFIO module parameters; proc/cmdline and osrelease. An input
 * is a sequence of records, each [file index (1 byte)][length (1 byte)][bytes]:
 * each record replaces that file's content. Then the tree is read as the
 * commands read it (model_load with every flag, config space, the audit, why
 * for every group), and every file is put back as it was. The raw input also
 * goes through the text parsers (uevent, PCI address).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/audit.h"
#include "os/kaccess.h"
#include "core/model.h"
#include "os/pcidb.h"
#include "shared/util.h"
#include "core/why.h"

struct target {
	char *path;
	char *orig;
	size_t len;
	bool dirty;
};

static struct target *targets;
static size_t ntargets, tcap;
static const char *root;
static struct pcidb *db;

static const char *const names[] = {
	"uevent", "class", "vendor", "device", "driver_override", "reset_method", "boot_vga", "config",
	"sriov_numvfs", "sriov_drivers_autoprobe", "type", "name", "reserved_regions", "cmdline", "osrelease",
	"enable_unsafe_noiommu_mode", "allow_unsafe_interrupts",
};

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t cap = 0, n = 0, r;
	do {
		buf = grow_array(buf, &cap, n + 4096, 1);
		r = fread(buf + n, 1, 4096, f);
		n += r;
	} while (r == 4096);
	fclose(f);
	*len = n;
	return buf;
}

static int collect(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	if (type != FTW_F)
		return 0;
	const char *base = path + ftw->base;
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (streq(base, names[i])) {
			targets = grow_array(targets, &tcap, ntargets + 1, sizeof(*targets));
			struct target *t = &targets[ntargets++];
			t->path = xstrdup(path);
			t->orig = slurp(path, &t->len);
			t->dirty = false;
			break;
		}
	return 0;
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_TRUNC | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, len) < 0) {
		/* a short tree: the next input starts from whatever is there */
	}
	close(fd);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	root = getenv("FUZZ_TREE");
	if (!root || !*root || streq(root, "/")) {
		fprintf(stderr, "fuzz-tree: set FUZZ_TREE to a copy of a fixture sysroot (never /)\n");
		exit(2);
	}
	if (nftw(root, collect, 32, FTW_PHYS) < 0 || ntargets == 0 || ntargets > 256) {
		fprintf(stderr, "fuzz-tree: %s: no files to fuzz (or over 256)\n", root);
		exit(2);
	}
	if (pcidb_new(getenv("FUZZ_PCI_IDS"), &db) < 0 || pcidb_use_sysroot(db, root) < 0) {
		fprintf(stderr, "fuzz-tree: cannot open libpci on %s\n", root);
		exit(2);
	}
	fprintf(stderr, "fuzz-tree: %zu files of %s\n", ntargets, root);
	return 0;
}

static void parse_text(const uint8_t *data, size_t size)
{
	char *s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	uint16_t v, d;
	uint32_t c;
	struct pci_addr a;
	model_parse_pci_uevent(s, &v, &d, &c);
	pci_addr_parse(s, &a);
	free(s);
}

static void read_tree(void)
{
	struct ka *ka = NULL;
	if (ka_open(root, &ka) < 0)
		return;
	struct system *sys = NULL;
	if (model_load(ka, MODEL_ALL, &sys) == 0) {
		model_read_config(sys, ka, db);
		struct findings f = { 0 };
		audit_run(sys, &f);
		findings_free(&f);
		for (size_t i = 0; i < sys->ngroups; i++) {
			struct why w;
			if (why_explain(ka, db, sys, sys->groups[i], &w) == 0) {
				free(why_one_line(&w));
				why_free(&w);
			}
		}
		model_free(sys);
	}
	ka_free(ka);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	parse_text(data, size);
	for (size_t i = 0; i + 2 <= size;) {
		struct target *t = &targets[data[i] % ntargets];
		size_t len = data[i + 1];
		i += 2;
		if (len > size - i)
			len = size - i;
		put(t->path, data + i, len);
		t->dirty = true;
		i += len;
	}
	read_tree();
	for (size_t i = 0; i < ntargets; i++)
		if (targets[i].dirty) {
			put(targets[i].path, targets[i].orig, targets[i].len);
			targets[i].dirty = false;
		}
	return 0;
}
