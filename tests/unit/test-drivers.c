// SPDX-License-Identifier: GPL-2.0-or-later
/* drivers.c: which binding means kernel DMA, VFIO, or neither. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "os/drivers.h"

static void expect_role(const char *driver, bool vfio_dev, enum role want)
{
	enum role r = driver_role(driver, vfio_dev);
	if (r != want)
		fail_msg("driver_role(%s, %s) = %s, expected %s", driver ? driver : "NULL",
			 vfio_dev ? "true" : "false", role_to_string(r), role_to_string(want));
}

static int reset_extra(void **state)
{
	(void)state;
	drivers_reset_extra();
	return 0;
}

static void test_role_unbound(void **state)
{
	(void)state;
	expect_role(NULL, false, ROLE_NONE);
	/* No driver, no DMA owner, whatever the directory says. */
	expect_role(NULL, true, ROLE_NONE);
}

static void test_role_vfio(void **state)
{
	(void)state;
	expect_role("vfio-pci", false, ROLE_USER);
	expect_role("vfio_pci", false, ROLE_USER); /* module-name spelling */
	expect_role("mlx5_vfio_pci", false, ROLE_USER);
	expect_role("mlx5-vfio-pci", false, ROLE_USER);
	expect_role("hisi_acc_vfio_pci", false, ROLE_USER);
	expect_role("pds_vfio_pci", false, ROLE_USER);
	expect_role("virtio_vfio_pci", false, ROLE_USER);
	expect_role("nvgrace_gpu_vfio_pci", false, ROLE_USER);
	expect_role("qat_vfio_pci", false, ROLE_USER);
	expect_role("xe-vfio-pci", false, ROLE_USER);
	expect_role("xe_vfio_pci", false, ROLE_USER);
	expect_role("ism_vfio_pci", false, ROLE_USER);
	expect_role("vfio-platform", false, ROLE_USER);
	expect_role("vfio-amba", false, ROLE_USER);
	expect_role("vfio-fsl-mc", false, ROLE_USER);
	expect_role("vfio-cdx", false, ROLE_USER);
	/* Known VFIO drivers are user with or without vfio-dev/ (pre-6.1 kernels). */
	expect_role("vfio-pci", true, ROLE_USER);
}

static void test_role_neutral(void **state)
{
	(void)state;
	expect_role("pci-stub", false, ROLE_NEUTRAL);
	expect_role("pci_stub", false, ROLE_NEUTRAL);
	expect_role("pcieport", false, ROLE_NEUTRAL);
}

static void test_role_kernel(void **state)
{
	(void)state;
	expect_role("pci-pf-stub", false, ROLE_KERNEL);
	expect_role("pci_pf_stub", false, ROLE_KERNEL);
	expect_role("pciback", false, ROLE_KERNEL);
	expect_role("xen-pciback", false, ROLE_KERNEL);
	expect_role("shpchp", false, ROLE_KERNEL);
	expect_role("e1000e", false, ROLE_KERNEL);
	expect_role("nvme", false, ROLE_KERNEL);
	expect_role("snd_hda_intel", false, ROLE_KERNEL);
	/* No prefix or substring matches. */
	expect_role("vfio", false, ROLE_KERNEL);
	expect_role("vfio-pc", false, ROLE_KERNEL);
	expect_role("vfio-pci-core", false, ROLE_KERNEL);
	expect_role("pci", false, ROLE_KERNEL);
	expect_role("pcieport2", false, ROLE_KERNEL);
	expect_role("VFIO-PCI", false, ROLE_KERNEL); /* names are case-sensitive */
	expect_role("", false, ROLE_KERNEL);
}

static void test_role_unknown_with_vfio_dev(void **state)
{
	(void)state;
	/* A variant driver newer than the table: vfio-dev/ gives it away. */
	expect_role("acme_vfio_pci", true, ROLE_USER);
	expect_role("acme_vfio_pci", false, ROLE_KERNEL);
}

static void test_dma_safe_extra(void **state)
{
	(void)state;
	expect_role("acme-dma-safe", false, ROLE_KERNEL);
	assert_false(driver_known("acme-dma-safe"));

	drivers_add_dma_safe("acme-dma-safe");
	expect_role("acme-dma-safe", false, ROLE_NEUTRAL);
	expect_role("acme_dma_safe", false, ROLE_NEUTRAL); /* folded too */
	expect_role("acme-dma-safe", true, ROLE_USER);
	/* driver_known() is the built-in table only: extras still get the vfio-dev/ check. */
	assert_false(driver_known("acme-dma-safe"));
	assert_false(driver_known("acme_dma_safe"));
	/* Only that driver changes. */
	expect_role("e1000e", false, ROLE_KERNEL);
	expect_role("vfio-pci", false, ROLE_USER);
	/* A neutral extra is no VFIO driver. */
	assert_null(driver_vfio_pci_name("acme-dma-safe"));

	/* Adding twice (either spelling) and resetting once undoes it. */
	drivers_add_dma_safe("acme_dma_safe");
	drivers_add_dma_safe("e1000e");
	expect_role("e1000e", false, ROLE_NEUTRAL);
	drivers_reset_extra();
	expect_role("acme-dma-safe", false, ROLE_KERNEL);
	expect_role("e1000e", false, ROLE_KERNEL);
	assert_false(driver_known("acme-dma-safe"));
	/* The built-in table survives a reset. */
	expect_role("pci-stub", false, ROLE_NEUTRAL);
	expect_role("vfio-pci", false, ROLE_USER);
	/* Resetting an empty list is harmless. */
	drivers_reset_extra();
}

static void test_driver_known(void **state)
{
	(void)state;
	assert_true(driver_known("vfio-pci"));
	assert_true(driver_known("vfio_pci"));
	assert_true(driver_known("pci-stub"));
	assert_true(driver_known("pcieport"));
	assert_true(driver_known("xe_vfio_pci"));
	assert_false(driver_known("e1000e"));
	assert_false(driver_known("pci-pf-stub"));
}

static void test_is_vfio_pci(void **state)
{
	(void)state;
	assert_string_equal(driver_vfio_pci_name("vfio-pci"), "vfio-pci");
	assert_string_equal(driver_vfio_pci_name("vfio_pci"), "vfio-pci");
	assert_string_equal(driver_vfio_pci_name("mlx5_vfio_pci"), "mlx5_vfio_pci");
	assert_string_equal(driver_vfio_pci_name("hisi_acc_vfio_pci"), "hisi_acc_vfio_pci");
	assert_string_equal(driver_vfio_pci_name("nvgrace_gpu_vfio_pci"), "nvgrace_gpu_vfio_pci");
	assert_string_equal(driver_vfio_pci_name("xe-vfio-pci"), "xe-vfio-pci");
	assert_string_equal(driver_vfio_pci_name("xe_vfio_pci"), "xe-vfio-pci");
	assert_string_equal(driver_vfio_pci_name("ism_vfio_pci"), "ism_vfio_pci");

	assert_null(driver_vfio_pci_name("pci-stub"));
	assert_null(driver_vfio_pci_name("pcieport"));
	assert_null(driver_vfio_pci_name("vfio-platform"));
	assert_null(driver_vfio_pci_name("vfio-amba"));
	assert_null(driver_vfio_pci_name("vfio-fsl-mc"));
	assert_null(driver_vfio_pci_name("vfio-cdx"));
	assert_null(driver_vfio_pci_name("e1000e"));
	assert_null(driver_vfio_pci_name("vfio"));
	assert_null(driver_vfio_pci_name(""));
}

static void test_name_eq(void **state)
{
	(void)state;
	assert_true(driver_name_eq("vfio-pci", "vfio_pci"));
	assert_true(driver_name_eq("vfio_pci", "vfio-pci"));
	assert_true(driver_name_eq("xe-vfio-pci", "xe_vfio-pci"));
	assert_true(driver_name_eq("", ""));
	assert_false(driver_name_eq("vfio-pci", "vfio-pc"));
	assert_false(driver_name_eq("vfio-pc", "vfio-pci"));
	assert_false(driver_name_eq("vfio-pci", "vfio.pci"));
	assert_false(driver_name_eq("vfio-pci", "VFIO-PCI"));
	assert_false(driver_name_eq("", "a"));
}

static void test_role_to_string(void **state)
{
	(void)state;
	assert_string_equal(role_to_string(ROLE_NONE), "none");
	assert_string_equal(role_to_string(ROLE_NEUTRAL), "neutral");
	assert_string_equal(role_to_string(ROLE_KERNEL), "kernel");
	assert_string_equal(role_to_string(ROLE_USER), "user");
	assert_string_equal(role_to_string(_ROLE_MAX), "unknown");
}

int main(void)
{
	/* The tests speak TAP (CMOCKA_MESSAGE_OUTPUT still overrides). */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_unbound),
		cmocka_unit_test(test_role_vfio),
		cmocka_unit_test(test_role_neutral),
		cmocka_unit_test(test_role_kernel),
		cmocka_unit_test(test_role_unknown_with_vfio_dev),
		cmocka_unit_test_teardown(test_dma_safe_extra, reset_extra),
		cmocka_unit_test(test_driver_known),
		cmocka_unit_test(test_is_vfio_pci),
		cmocka_unit_test(test_name_eq),
		cmocka_unit_test(test_role_to_string),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
