// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * pciids.c and pcidb's names: the same text as libpci's pci_lookup_name()
 * for every ID (compared on the fixture's pci.ids and the host's), the
 * lines libpci refuses refused, and only the blocks asked read.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pci/pci.h>

#include "os/pcidb.h"
#include "os/pciids.h"
#include "shared/util.h"

static char *write_ids(const char *text)
{
	char *path = xstrdup("/tmp/test-pciids.XXXXXX");
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static _Noreturn void libpci_error(char *msg, ...)
{
	fail_msg("libpci refused the file: %s", msg);
	abort();
}

static void libpci_quiet(char *msg, ...)
{
	(void)msg;
}

/* Every device of some vendors (and unknown ones), every class: our text is libpci's. */
static void compare_with_libpci(const char *ids_path)
{
	struct pcidb *db;
	assert_int_equal(pcidb_new(ids_path, &db), 0);
	struct pci_access *a = pci_alloc();
	a->error = libpci_error;
	a->warning = a->debug = libpci_quiet;
	pci_set_name_list_path(a, (char *)ids_path, 0);
	char buf[256];
	static const uint16_t vendors[] = { 0x0000, 0x1002, 0x1022, 0x10de, 0x144d, 0x14e4, 0x15b3, 0x1af4, 0x8086, 0xffff };
	for (size_t i = 0; i < sizeof(vendors) / sizeof(*vendors); i++) {
		for (unsigned d = 0; d < 0x10000; d++) {
			char *ours = pcidb_device_name(db, vendors[i], (uint16_t)d);
			const char *theirs = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE |
							     PCI_LOOKUP_NO_HWDB, vendors[i], d);
			if (strcmp(ours, theirs) != 0)
				fail_msg("%s: %04x:%04x: '%s', libpci '%s'", ids_path, vendors[i], d, ours, theirs);
			free(ours);
		}
	}
	for (unsigned c = 0; c < 0x10000; c++) {
		char *ours = pcidb_class_name(db, c << 8 | 0x01);
		const char *theirs = pci_lookup_name(a, buf, sizeof(buf), PCI_LOOKUP_CLASS | PCI_LOOKUP_NO_HWDB, c);
		if (strcmp(ours, theirs) != 0)
			fail_msg("%s: class %04x: '%s', libpci '%s'", ids_path, c, ours, theirs);
		free(ours);
	}
	pci_cleanup(a);
	pcidb_free(db);
}

static void test_same_as_libpci_fixture(void **state)
{
	(void)state;
	const char *top = getenv("TOP_SRCDIR");
	_cleanup_free_ char *path = xasprintf("%s/tests/fixtures/pci.ids", top ? top : ".");
	compare_with_libpci(path);
}

static void test_same_as_libpci_host(void **state)
{
	(void)state;
	/* the host's own pci.ids, when it has an uncompressed one (Debian's pci.ids package) */
	if (access("/usr/share/misc/pci.ids", R_OK) != 0)
		skip();
	compare_with_libpci("/usr/share/misc/pci.ids");
}

/* CRLF lines, comments, blanks, one trailing blank, a last line without a newline, unknown blocks. */
static void test_syntax(void **state)
{
	(void)state;
	_cleanup_free_ char *path = write_ids("# comment\r\n"
					      "\n"
					      "1234  Acme \r\n"
					      "\t0001  Widget\t\n"
					      "\t\t1234 0001  Widget subsystem\n"
					      "\t# indented comment\n"
					      "\t0002  Gadget\n"
					      "X 12  an unknown block\n"
					      "\tanything  at all\n"
					      "S 1234\n"
					      "\t0001  a generic subsystem\n"
					      "C 02  Network controller\n"
					      "\t\t00  a prog-if right after its class\n"
					      "\t00  Ethernet controller\n"
					      "\t\t00  Ethernet prog-if\n"
					      "C 0c  Serial bus controller");
	struct pciids *ids;
	assert_int_equal(pciids_open(path, &ids), 0);
	assert_string_equal(pciids_vendor(ids, 0x1234), "Acme");
	assert_string_equal(pciids_device(ids, 0x1234, 1), "Widget");
	assert_string_equal(pciids_device(ids, 0x1234, 2), "Gadget");
	assert_null(pciids_device(ids, 0x1234, 3));
	assert_null(pciids_vendor(ids, 0x5678));
	assert_string_equal(pciids_subclass(ids, 2, 0), "Ethernet controller");
	assert_string_equal(pciids_class(ids, 0x0c), "Serial bus controller");
	assert_null(pciids_subclass(ids, 0x0c, 3));
	unsigned line;
	assert_null(pciids_error(ids, &line));
	pciids_free(ids);
	unlink(path);
}

/* Each of these files libpci refuses, at the line given. */
static void expect_refused(const char *text, unsigned want_line, const char *want)
{
	_cleanup_free_ char *path = write_ids(text);
	struct pciids *ids = NULL;
	int r = pciids_open(path, &ids);
	if (r == 0) {
		/* a nested line is checked when its block is read */
		pciids_device(ids, 0x1234, 1);
		pciids_subclass(ids, 2, 0);
	}
	unsigned line = 0;
	const char *why = ids ? pciids_error(ids, &line) : NULL;
	if (!why || line != want_line || strcmp(why, want) != 0)
		fail_msg("%s: '%s' at line %u, expected '%s' at %u", text, why ? why : "(accepted)", line, want, want_line);
	pciids_free(ids);
	unlink(path);
}

static void test_refused(void **state)
{
	(void)state;
	expect_refused("12x4  Acme\n", 1, "Parse error");
	expect_refused("1234\n", 1, "Parse error");
	expect_refused("1234  \n", 1, "Parse error");
	expect_refused("\t0001  before any vendor\n", 1, "Parse error");
	expect_refused("1234  Acme\n5678  Other\n1234  Acme again\n", 3, "Duplicate entry");
	expect_refused("1234  Acme\n\t0001  Widget\n\t0001  Widget again\n", 3, "Duplicate entry");
	expect_refused("1234  Acme\n\t000x  Widget\n", 2, "Parse error");
	expect_refused("1234  Acme\n\t0001\n", 2, "Parse error");
	expect_refused("C 2  Network\n", 1, "Parse error");
	expect_refused("C 02  Network controller\n\t0  Ethernet\n", 2, "Parse error");
	expect_refused("S 1234\n", 1, "Vendor does not exist");
	expect_refused("1234  Acme\nS 1234 x\n", 2, "Parse error");
	char long_line[1100];
	memset(long_line, 'a', sizeof(long_line));
	memcpy(long_line, "1234  ", 6);
	long_line[1023] = '\n';
	long_line[1024] = '\0';
	expect_refused(long_line, 1, "Line too long");
}

/* What libpci leaves alone stays fine: a line of 1022 characters, a name with a tab in it. */
static void test_limits(void **state)
{
	(void)state;
	char text[1100];
	memset(text, 'a', sizeof(text));
	memcpy(text, "1234  ", 6);
	text[1022] = '\n';
	text[1023] = '\0';
	_cleanup_free_ char *path = write_ids(text);
	struct pciids *ids;
	assert_int_equal(pciids_open(path, &ids), 0);
	assert_int_equal(strlen(pciids_vendor(ids, 0x1234)), 1022 - 6);
	pciids_free(ids);
	unlink(path);
	/* a name longer than libpci's buffer ends in "..." as libpci's does */
	struct pcidb *db;
	_cleanup_free_ char *path2 = write_ids(text);
	assert_int_equal(pcidb_new(path2, &db), 0);
	_cleanup_free_ char *name = pcidb_device_name(db, 0x1234, 1);
	assert_int_equal(strlen(name), 255);
	assert_string_equal(name + 252, "...");
	pcidb_free(db);
	unlink(path2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_as_libpci_fixture),
		cmocka_unit_test(test_same_as_libpci_host),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_limits),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
