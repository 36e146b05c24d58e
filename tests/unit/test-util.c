// SPDX-License-Identifier: GPL-2.0-or-later
/* util.c: PCI addresses, number parsing, strip, string lists. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "shared/util.h"

/* Parse s, which must succeed, and check every field. */
static void expect_addr(const char *s, uint32_t domain, uint8_t bus, uint8_t dev, uint8_t fn)
{
	struct pci_addr a;
	memset(&a, 0xaa, sizeof(a));
	int r = pci_addr_parse(s, &a);
	if (r != 0)
		fail_msg("pci_addr_parse(\"%s\") = %d, expected 0", s, r);
	assert_int_equal(a.domain, domain);
	assert_int_equal(a.bus, bus);
	assert_int_equal(a.dev, dev);
	assert_int_equal(a.fn, fn);
}

static void expect_bad_addr(const char *s)
{
	struct pci_addr a = { 1, 2, 3, 4 };
	int r = pci_addr_parse(s, &a);
	if (r != -EINVAL)
		fail_msg("pci_addr_parse(\"%s\") = %d, expected -EINVAL", s, r);
	/* A refused address leaves the result alone. */
	assert_int_equal(a.domain, 1);
	assert_int_equal(a.bus, 2);
	assert_int_equal(a.dev, 3);
	assert_int_equal(a.fn, 4);
}

static void test_addr_parse_full(void **state)
{
	(void)state;
	expect_addr("0000:01:00.0", 0, 1, 0, 0);
	expect_addr("0000:00:1f.7", 0, 0, 0x1f, 7);
	expect_addr("0001:ff:03.2", 1, 0xff, 3, 2);
	expect_addr("ffffffff:ff:1f.7", 0xffffffffu, 0xff, 0x1f, 7);
}

static void test_addr_parse_short(void **state)
{
	(void)state;
	expect_addr("01:00.0", 0, 1, 0, 0);
	expect_addr("3a:1c.5", 0, 0x3a, 0x1c, 5);
}

static void test_addr_parse_vmd_domain(void **state)
{
	(void)state;
	expect_addr("10000:01:00.0", 0x10000, 1, 0, 0);
	expect_addr("10001:e1:00.3", 0x10001, 0xe1, 0, 3);
}

static void test_addr_parse_upper_case(void **state)
{
	(void)state;
	expect_addr("0000:0A:1F.7", 0, 0x0a, 0x1f, 7);
	expect_addr("ABCD:EF:1E.0", 0xabcd, 0xef, 0x1e, 0);
}

static void test_addr_parse_rejects(void **state)
{
	(void)state;
	expect_bad_addr("1:2");
	expect_bad_addr("0000:01:00");     /* no function */
	expect_bad_addr("00:20.0");        /* device > 0x1f */
	expect_bad_addr("0000:00:20.0");
	expect_bad_addr("00:00.8");        /* function > 7 */
	expect_bad_addr("0000:100:00.0");  /* bus > 0xff */
	expect_bad_addr("100000000:00:00.0"); /* domain > 32 bits */
	expect_bad_addr("");
	expect_bad_addr("zz:00.0");
	expect_bad_addr("0000:0g:00.0");
	expect_bad_addr("0000:01:00.0x");  /* trailing garbage */
	expect_bad_addr("0000:01:00.0 ");
	expect_bad_addr("0000:01:00.0\n");
	expect_bad_addr("0000:01:00.0.1");
	expect_bad_addr("0:0000:01:00.0"); /* three colons */
	expect_bad_addr("0000:01::00.0");
	expect_bad_addr(":01:00.0");       /* empty domain */
	expect_bad_addr("0000::00.0");     /* empty bus */
	expect_bad_addr("0000:01:.0");     /* empty device */
	expect_bad_addr("0000:01:00.");    /* empty function */
	expect_bad_addr("-1:00.0");
	expect_bad_addr("+1:00.0");
	expect_bad_addr(" 01:00.0");
	expect_bad_addr("pci0000:00");
	expect_bad_addr("00.0");
}

static void expect_format(uint32_t domain, uint8_t bus, uint8_t dev, uint8_t fn, const char *want)
{
	struct pci_addr a = { domain, bus, dev, fn };
	char buf[32];
	memset(buf, 'x', sizeof(buf));
	pci_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, want);
}

static void test_addr_format(void **state)
{
	(void)state;
	expect_format(0, 1, 0, 0, "0000:01:00.0");
	expect_format(0, 0xab, 0x1f, 7, "0000:ab:1f.7");
	expect_format(0x10000, 1, 0, 0, "10000:01:00.0");
	expect_format(0xffffffffu, 0xff, 0x1f, 7, "ffffffff:ff:1f.7");
}

static void test_addr_format_truncates(void **state)
{
	(void)state;
	struct pci_addr a = { 0, 1, 2, 3 };
	char buf[8];
	memset(buf, 'x', sizeof(buf));
	pci_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "0000:01"); /* cut short, still terminated */
}

static void test_addr_roundtrip(void **state)
{
	(void)state;
	const char *names[] = { "0000:00:00.0", "0000:3a:1c.5", "10000:e1:00.3", "00ab:cd:1f.7" };
	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		struct pci_addr a;
		char buf[32];
		assert_int_equal(pci_addr_parse(names[i], &a), 0);
		pci_addr_format(&a, buf, sizeof(buf));
		assert_string_equal(buf, names[i]);
	}
	/* Short and upper-case forms come back canonical. */
	struct pci_addr a;
	char buf[32];
	assert_int_equal(pci_addr_parse("0A:1F.7", &a), 0);
	pci_addr_format(&a, buf, sizeof(buf));
	assert_string_equal(buf, "0000:0a:1f.7");
}

static int cmp(const char *x, const char *y)
{
	struct pci_addr a, b;
	assert_int_equal(pci_addr_parse(x, &a), 0);
	assert_int_equal(pci_addr_parse(y, &b), 0);
	return pci_addr_cmp(&a, &b);
}

static void test_addr_cmp(void **state)
{
	(void)state;
	assert_int_equal(cmp("0000:01:00.0", "0000:01:00.0"), 0);
	assert_int_equal(cmp("01:00.0", "0000:01:00.0"), 0);
	/* Domain first: bus ff of domain 0 sorts before bus 00 of domain 1. */
	assert_true(cmp("0000:ff:1f.7", "0001:00:00.0") < 0);
	assert_true(cmp("10000:00:00.0", "0000:ff:1f.7") > 0);
	/* Then bus, device, function. */
	assert_true(cmp("0000:01:1f.7", "0000:02:00.0") < 0);
	assert_true(cmp("0000:02:00.0", "0000:01:1f.7") > 0);
	assert_true(cmp("0000:01:01.0", "0000:01:00.7") > 0);
	assert_true(cmp("0000:01:00.1", "0000:01:00.2") < 0);
	assert_true(cmp("0000:01:00.2", "0000:01:00.1") > 0);
	/* Numeric, not textual: 0x10000 > 0x2000. */
	assert_true(cmp("10000:00:00.0", "2000:00:00.0") > 0);
}

static void expect_ulong(const char *s, int base, unsigned long want)
{
	unsigned long v = 12345;
	int r = parse_ulong(s, base, &v);
	if (r != 0)
		fail_msg("parse_ulong(\"%s\", %d) = %d, expected 0", s, base, r);
	assert_int_equal(v, want);
}

static void expect_bad_ulong(const char *s, int base)
{
	unsigned long v = 12345;
	int r = parse_ulong(s, base, &v);
	if (r != -EINVAL)
		fail_msg("parse_ulong(\"%s\", %d) = %d, expected -EINVAL", s ? s : "(null)", base, r);
	assert_int_equal(v, 12345);
}

static void test_parse_ulong(void **state)
{
	(void)state;
	expect_ulong("0", 10, 0);
	expect_ulong("42", 10, 42);
	expect_ulong("1000", 10, 1000);
	expect_ulong("0x8086", 16, 0x8086);
	expect_ulong("8086", 16, 0x8086);
	expect_ulong("FFFF", 16, 0xffff);
	expect_ulong("0x020000", 16, 0x020000);
	expect_ulong("4294967295", 10, 4294967295ul);

	expect_bad_ulong(NULL, 10);
	expect_bad_ulong("", 10);
	expect_bad_ulong(" 1", 10);
	expect_bad_ulong("1 ", 10);
	expect_bad_ulong("1\n", 10);
	expect_bad_ulong("-1", 10);
	expect_bad_ulong("+1", 10);
	expect_bad_ulong("12a", 10);
	expect_bad_ulong("0x10", 10);
	expect_bad_ulong("0x", 16);
	expect_bad_ulong("xyz", 16);
	expect_bad_ulong("99999999999999999999999999", 10); /* overflow */
}

static void expect_strip(const char *in, const char *want)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", in);
	char *r = strip(buf);
	assert_ptr_equal(r, buf);
	assert_string_equal(buf, want);
}

static void test_strip(void **state)
{
	(void)state;
	expect_strip("vfio-pci\n", "vfio-pci");
	expect_strip("DMA-FQ \t\r\n\n", "DMA-FQ");
	expect_strip("  lead", "  lead"); /* only trailing space goes */
	expect_strip("a b\n", "a b");
	expect_strip("\n", "");
	expect_strip("   ", "");
	expect_strip("", "");
	expect_strip("x", "x");
}

static void test_strv(void **state)
{
	(void)state;
	struct strv s = { 0 };
	assert_false(strv_contains(&s, "a"));
	/* Push enough to make the array grow several times. */
	for (int i = 0; i < 100; i++)
		strv_push(&s, xasprintf("item%d", i));
	assert_int_equal(s.n, 100);
	assert_true(s.cap >= 100);
	assert_string_equal(s.v[0], "item0");
	assert_string_equal(s.v[57], "item57");
	assert_string_equal(s.v[99], "item99");
	assert_true(strv_contains(&s, "item0"));
	assert_true(strv_contains(&s, "item99"));
	assert_false(strv_contains(&s, "item100"));
	assert_false(strv_contains(&s, "item"));
	assert_false(strv_contains(&s, "ITEM1"));
	strv_free(&s);
	assert_null(s.v);
	assert_int_equal(s.n, 0);
	assert_int_equal(s.cap, 0);
	assert_false(strv_contains(&s, "item0"));
	/* Reusable after free; freeing an empty list is fine. */
	strv_push(&s, xstrdup("vfio-pci"));
	assert_true(strv_contains(&s, "vfio-pci"));
	assert_false(strv_contains(&s, "vfio_pci")); /* exact match, no folding */
	strv_free(&s);
	strv_free(&s);
}

static void test_grow_array(void **state)
{
	(void)state;
	int *v = NULL;
	size_t cap = 0;
	for (size_t i = 0; i < 1000; i++) {
		v = grow_array(v, &cap, i + 1, sizeof(*v));
		assert_true(cap >= i + 1);
		v[i] = (int)i;
	}
	for (size_t i = 0; i < 1000; i++)
		assert_int_equal(v[i], (int)i);
	size_t before = cap;
	int *same = grow_array(v, &cap, 10, sizeof(*v));
	assert_ptr_equal(same, v);
	assert_int_equal(cap, before);
	free(v);
}

int main(void)
{
	/* The tests speak TAP (CMOCKA_MESSAGE_OUTPUT still overrides). */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addr_parse_full),
		cmocka_unit_test(test_addr_parse_short),
		cmocka_unit_test(test_addr_parse_vmd_domain),
		cmocka_unit_test(test_addr_parse_upper_case),
		cmocka_unit_test(test_addr_parse_rejects),
		cmocka_unit_test(test_addr_format),
		cmocka_unit_test(test_addr_format_truncates),
		cmocka_unit_test(test_addr_roundtrip),
		cmocka_unit_test(test_addr_cmp),
		cmocka_unit_test(test_parse_ulong),
		cmocka_unit_test(test_strip),
		cmocka_unit_test(test_strv),
		cmocka_unit_test(test_grow_array),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
