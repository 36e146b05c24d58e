// SPDX-License-Identifier: GPL-2.0-or-later
/* model.c: judging groups, loading trees, selecting what the arguments name. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/model.h"
#include "tree.h"

/* ------------------------------------------------------------------------ */
/* group_judge on hand-built groups */

/*
 * A group of devices "0000:00:<n>" bound to the given drivers (NULL: unbound;
 * a trailing '+' says the device has vfio-dev/). Free with free_group().
 */
static struct group *mkgroup(const char *name, const char *const *drivers, size_t n)
{
	struct group *g = calloc(1, sizeof(*g));
	g->number = 7;
	g->name = name ? strdup(name) : NULL;
	g->devices = calloc(n ? n : 1, sizeof(*g->devices));
	g->ndevices = g->cap = n;
	for (size_t i = 0; i < n; i++) {
		struct device *d = calloc(1, sizeof(*d));
		d->is_pci = true;
		d->addr = (struct pci_addr){ 0, (uint8_t)(i / 256), (uint8_t)(i / 8 % 32), (uint8_t)(i % 8) };
		char buf[32];
		pci_addr_format(&d->addr, buf, sizeof(buf));
		d->name = strdup(buf);
		if (drivers[i]) {
			size_t len = strlen(drivers[i]);
			d->vfio_dev = len > 0 && drivers[i][len - 1] == '+';
			d->driver = strndup(drivers[i], len - d->vfio_dev);
		}
		d->role = _ROLE_MAX; /* must be recomputed */
		d->boot_vga = -1;
		d->group = g;
		g->devices[i] = d;
	}
	g->state = _GROUP_STATE_MAX;
	return g;
}

static void free_group(struct group *g)
{
	for (size_t i = 0; i < g->ndevices; i++) {
		free(g->devices[i]->name);
		free(g->devices[i]->driver);
		free(g->devices[i]);
	}
	free(g->devices);
	free(g->name);
	free(g);
}

/* Judge a group of the given drivers: state and viability must match. */
static void expect_judge(const char *name, const char *const *drivers, size_t n, enum group_state state,
			 bool viable)
{
	struct group *g = mkgroup(name, drivers, n);
	group_judge(g);
	if (g->state != state)
		fail_msg("state %s, expected %s", group_state_to_string(g->state), group_state_to_string(state));
	assert_int_equal(g->viable, viable);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(g->devices[i]->role, driver_role(g->devices[i]->driver, g->devices[i]->vfio_dev));
	free_group(g);
}

#define DRVS(...) ((const char *const[]){ __VA_ARGS__ })
#define JUDGE(name, state, viable, ...) \
	expect_judge(name, DRVS(__VA_ARGS__), ARRAY_SIZE(DRVS(__VA_ARGS__)), state, viable)

static void test_judge_kernel(void **state)
{
	(void)state;
	JUDGE(NULL, GROUP_KERNEL, false, "e1000e");
	JUDGE(NULL, GROUP_KERNEL, false, "nvidia", "snd_hda_intel");
	JUDGE(NULL, GROUP_KERNEL, false, "pcieport", "e1000e", NULL);
	/* pci-pf-stub, pciback and shpchp use the kernel DMA API. */
	JUDGE(NULL, GROUP_KERNEL, false, "pci-pf-stub");
	JUDGE(NULL, GROUP_KERNEL, false, "pciback");
	JUDGE(NULL, GROUP_KERNEL, false, "shpchp");
}

static void test_judge_user(void **state)
{
	(void)state;
	JUDGE(NULL, GROUP_USER, true, "vfio-pci");
	JUDGE(NULL, GROUP_USER, true, "vfio-pci", "vfio-pci");
	JUDGE(NULL, GROUP_USER, true, "mlx5_vfio_pci", NULL);
	JUDGE(NULL, GROUP_USER, true, "acme_vfio_pci+");
	JUDGE(NULL, GROUP_KERNEL, false, "acme_vfio_pci"); /* without vfio-dev/: unknown, kernel */
	/* Neutral plus user is user. */
	JUDGE(NULL, GROUP_USER, true, "pcieport", "vfio-pci");
	JUDGE(NULL, GROUP_USER, true, "pci-stub", "vfio-pci", NULL);
}

static void test_judge_free(void **state)
{
	(void)state;
	JUDGE(NULL, GROUP_FREE, true, NULL);
	JUDGE(NULL, GROUP_FREE, true, "pci-stub");
	JUDGE(NULL, GROUP_FREE, true, "pcieport");
	JUDGE(NULL, GROUP_FREE, true, NULL, "pci-stub", "pcieport");
	/* No devices at all. */
	struct group *g = mkgroup(NULL, NULL, 0);
	group_judge(g);
	assert_int_equal(g->state, GROUP_FREE);
	assert_true(g->viable);
	free_group(g);
}

static void test_judge_mixed(void **state)
{
	(void)state;
	JUDGE(NULL, GROUP_MIXED, false, "vfio-pci", "e1000e");
	JUDGE(NULL, GROUP_MIXED, false, "e1000e", "vfio-pci");
	JUDGE(NULL, GROUP_MIXED, false, "pcieport", "vfio_pci", "snd_hda_intel", NULL);
	JUDGE(NULL, GROUP_MIXED, false, "acme_vfio_pci+", "pci-pf-stub");
}

static void test_judge_noiommu(void **state)
{
	(void)state;
	JUDGE("vfio-noiommu", GROUP_NOIOMMU, true, "vfio-pci");
	JUDGE("vfio-noiommu", GROUP_NOIOMMU, true, NULL);
	/* Viability still follows the kernel-DMA rule. */
	JUDGE("vfio-noiommu", GROUP_NOIOMMU, false, "vfio-pci", "e1000e");
	/* Any other name is an ordinary group. */
	JUDGE("vfio-noiommu-x", GROUP_USER, true, "vfio-pci");
	JUDGE("something", GROUP_KERNEL, false, "e1000e");
}

static void test_judge_rejudge(void **state)
{
	(void)state;
	/* A group judged again after a bind change gets the new state. */
	struct group *g = mkgroup(NULL, DRVS("vfio-pci", "e1000e"), 2);
	group_judge(g);
	assert_int_equal(g->state, GROUP_MIXED);
	free(g->devices[1]->driver);
	g->devices[1]->driver = strdup("vfio-pci");
	group_judge(g);
	assert_int_equal(g->state, GROUP_USER);
	assert_true(g->viable);
	assert_int_equal(g->devices[1]->role, ROLE_USER);
	free_group(g);
}

static void test_judge_300_devices(void **state)
{
	(void)state;
	const char *drivers[300];
	for (size_t i = 0; i < 300; i++)
		drivers[i] = i % 3 == 0 ? "pcieport" : "vfio-pci";
	struct group *g = mkgroup(NULL, drivers, 300);
	group_judge(g);
	assert_int_equal(g->state, GROUP_USER);
	assert_true(g->viable);
	assert_int_equal(g->devices[0]->role, ROLE_NEUTRAL);
	assert_int_equal(g->devices[299]->role, ROLE_USER);
	free_group(g);

	/* One kernel device at the very end spoils the whole group. */
	drivers[299] = "ixgbevf";
	g = mkgroup(NULL, drivers, 300);
	group_judge(g);
	assert_int_equal(g->state, GROUP_MIXED);
	assert_false(g->viable);
	assert_int_equal(g->devices[299]->role, ROLE_KERNEL);
	free_group(g);
}

static void test_state_names(void **state)
{
	(void)state;
	assert_string_equal(group_state_to_string(GROUP_FREE), "free");
	assert_string_equal(group_state_to_string(GROUP_KERNEL), "kernel");
	assert_string_equal(group_state_to_string(GROUP_USER), "user");
	assert_string_equal(group_state_to_string(GROUP_MIXED), "mixed");
	assert_string_equal(group_state_to_string(GROUP_NOIOMMU), "noiommu");
}

/* ------------------------------------------------------------------------ */
/* model_load on trees built in a temporary directory */

struct fx {
	char *base; /* the temporary directory */
	char *root; /* the sysroot: base/root */
	struct ka *ka;
	struct system *sys;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->base = tree_new();
	fx->root = tree_join(fx->base, "root");
	tree_dir(fx->root, "sys");
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	model_free(fx->sys);
	ka_free(fx->ka);
	drivers_reset_extra();
	int r = tree_remove(fx->base);
	free(fx->root);
	free(fx->base);
	free(fx);
	return r;
}

/* A PCI device as sysfs shows it. */
struct fakedev {
	const char *name;     /* "0000:01:00.0" */
	const char *driver;   /* NULL: unbound */
	const char *group;    /* NULL: in no group */
	const char *vendor;   /* NULL: "0x8086" */
	const char *class;    /* NULL: "0x020000" */
	const char *override; /* NULL: no driver_override file (kernel < 3.16) */
	const char *boot_vga; /* NULL: no boot_vga file */
	bool vfio_dev;        /* has vfio-dev/vfio0 */
	const char *bus;      /* NULL: "pci" */
};

static char *xfmt(const char *fmt, ...) _printf_(1, 2);
static char *xfmt(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		fail_msg("out of memory");
	va_end(ap);
	return p;
}

/* The device's real directory: sys/devices/pci<domain>:<bus>/<name>. */
static char *dev_dir(const char *name)
{
	const char *colon = strrchr(name, ':');
	return xfmt("sys/devices/pci%.*s/%s", (int)(colon - name), name, name);
}

static void add_pci(struct fx *fx, struct fakedev d)
{
	const char *root = fx->root;
	char *dir = dev_dir(d.name);
	char *p;

	tree_dir(root, dir);
	p = xfmt("%s/vendor", dir);
	tree_write(root, p, d.vendor ? d.vendor : "0x8086\n");
	free(p);
	p = xfmt("%s/device", dir);
	tree_write(root, p, "0x10d3\n");
	free(p);
	p = xfmt("%s/class", dir);
	tree_write(root, p, d.class ? d.class : "0x020000\n");
	free(p);
	if (d.override) {
		p = xfmt("%s/driver_override", dir);
		tree_write(root, p, d.override);
		free(p);
	}
	if (d.boot_vga) {
		p = xfmt("%s/boot_vga", dir);
		tree_write(root, p, d.boot_vga);
		free(p);
	}
	if (d.vfio_dev) {
		p = xfmt("%s/vfio-dev/vfio0", dir);
		tree_dir(root, p);
		free(p);
	}
	p = xfmt("sys/bus/pci/devices/%s", d.name);
	tree_link(root, p, dir);
	free(p);
	if (d.driver) {
		char *drv = xfmt("sys/bus/pci/drivers/%s", d.driver);
		tree_dir(root, drv);
		p = xfmt("%s/driver", dir);
		tree_link(root, p, drv);
		free(p);
		p = xfmt("%s/%s", drv, d.name);
		tree_link(root, p, dir);
		free(p);
		free(drv);
	}
	if (d.group) {
		char *g = xfmt("sys/kernel/iommu_groups/%s", d.group);
		p = xfmt("%s/devices/%s", g, d.name);
		tree_link(root, p, dir);
		free(p);
		p = xfmt("%s/iommu_group", dir);
		tree_link(root, p, g);
		free(p);
		free(g);
	}
	free(dir);
}

/* An IOMMU group directory with optional attributes (text as in sysfs). */
static void add_group(struct fx *fx, const char *number, const char *type, const char *name, const char *regions)
{
	char *g = xfmt("sys/kernel/iommu_groups/%s", number);
	char *p = xfmt("%s/devices", g);
	tree_dir(fx->root, p);
	free(p);
	if (type) {
		p = xfmt("%s/type", g);
		tree_write(fx->root, p, type);
		free(p);
	}
	if (name) {
		p = xfmt("%s/name", g);
		tree_write(fx->root, p, name);
		free(p);
	}
	if (regions) {
		p = xfmt("%s/reserved_regions", g);
		tree_write(fx->root, p, regions);
		free(p);
	}
	free(g);
}

static int load(struct fx *fx, unsigned flags)
{
	/* Open the sysroot afresh: a test may have rebuilt it. */
	ka_free(fx->ka);
	fx->ka = NULL;
	int r = ka_open(fx->root, &fx->ka);
	if (r < 0)
		fail_msg("ka_open %s: %d", fx->root, r);
	model_free(fx->sys);
	fx->sys = NULL;
	return model_load(fx->ka, flags, &fx->sys);
}

static void load_ok(struct fx *fx, unsigned flags)
{
	int r = load(fx, flags);
	if (r < 0)
		fail_msg("model_load = %d, expected 0", r);
	assert_non_null(fx->sys);
}

static struct device *dev(struct fx *fx, const char *name)
{
	struct pci_addr a;
	assert_int_equal(pci_addr_parse(name, &a), 0);
	struct device *d = model_find_device(fx->sys, &a);
	if (!d)
		fail_msg("no device %s in the model", name);
	return d;
}

static struct group *grp(struct fx *fx, unsigned long n)
{
	struct group *g = model_find_group(fx->sys, n);
	if (!g)
		fail_msg("no group %lu in the model", n);
	return g;
}

/* Groups 0, 5 and 1000 and a device in no group. */
static void build_gaps(struct fx *fx)
{
	add_group(fx, "0", "DMA\n", NULL, NULL);
	add_group(fx, "5", "DMA-FQ\n", NULL, NULL);
	add_group(fx, "1000", "DMA\n", NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:00:00.0", .group = "0", .class = "0x060000\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:00:1f.6", .driver = "e1000e", .group = "5" });
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.1", .driver = "snd_hda_intel", .group = "1000",
				      .vendor = "0x10de\n", .class = "0x040300\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "vfio-pci", .group = "1000",
				      .vendor = "0x10de\n", .class = "0x030000\n", .boot_vga = "0\n",
				      .vfio_dev = true });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .driver = "nvme", .class = "0x010802\n" });
}

static void test_load_groups_with_gaps(void **state)
{
	struct fx *fx = *state;
	build_gaps(fx);
	load_ok(fx, MODEL_ALL);
	struct system *sys = fx->sys;

	assert_true(sys->has_groups_dir);
	assert_int_equal(sys->ngroups, 3);
	/* Sorted by number, not by name ("1000" < "5" as text). */
	assert_int_equal(sys->groups[0]->number, 0);
	assert_int_equal(sys->groups[1]->number, 5);
	assert_int_equal(sys->groups[2]->number, 1000);
	assert_null(model_find_group(sys, 1));
	assert_null(model_find_group(sys, 999));
	assert_ptr_equal(grp(fx, 1000), sys->groups[2]);

	/* Devices sorted by address. */
	assert_int_equal(sys->ndevices, 5);
	const char *order[] = { "0000:00:00.0", "0000:00:1f.6", "0000:01:00.0", "0000:01:00.1", "0000:02:00.0" };
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(sys->devices[i]->name, order[i]);
		assert_true(sys->devices[i]->is_pci);
	}

	struct group *g0 = grp(fx, 0), *g5 = grp(fx, 5), *g1000 = grp(fx, 1000);
	assert_int_equal(g0->ndevices, 1);
	assert_ptr_equal(g0->devices[0], dev(fx, "0000:00:00.0"));
	assert_int_equal(g0->state, GROUP_FREE);
	assert_true(g0->viable);
	assert_int_equal(g5->state, GROUP_KERNEL);
	assert_false(g5->viable);
	assert_string_equal(g5->type, "DMA-FQ");
	assert_int_equal(g1000->ndevices, 2);
	assert_string_equal(g1000->devices[0]->name, "0000:01:00.0");
	assert_string_equal(g1000->devices[1]->name, "0000:01:00.1");
	assert_int_equal(g1000->state, GROUP_MIXED);
	assert_false(g1000->viable);
	assert_null(g1000->name);

	struct device *gpu = dev(fx, "0000:01:00.0");
	assert_ptr_equal(gpu->group, g1000);
	assert_string_equal(gpu->driver, "vfio-pci");
	assert_int_equal(gpu->role, ROLE_USER);
	assert_true(gpu->has_ids);
	assert_int_equal(gpu->vendor, 0x10de);
	assert_int_equal(gpu->device, 0x10d3);
	assert_int_equal(gpu->class, 0x030000);
	assert_int_equal(gpu->boot_vga, 0);

	struct device *host = dev(fx, "0000:00:00.0");
	assert_null(host->driver);
	assert_int_equal(host->role, ROLE_NONE);
	assert_int_equal(host->boot_vga, -1); /* not VGA class */

	/* The device in no group. */
	struct device *nvme = dev(fx, "0000:02:00.0");
	assert_null(nvme->group);
	assert_string_equal(nvme->driver, "nvme");
	assert_int_equal(nvme->role, ROLE_KERNEL);
	assert_int_equal(nvme->class, 0x010802);
}

static void test_load_minimal_flags(void **state)
{
	struct fx *fx = *state;
	build_gaps(fx);
	load_ok(fx, 0);
	/* Names, groups and drivers only. */
	assert_int_equal(fx->sys->ngroups, 3);
	assert_int_equal(grp(fx, 1000)->state, GROUP_MIXED);
	struct device *gpu = dev(fx, "0000:01:00.0");
	assert_false(gpu->has_ids);
	assert_int_equal(gpu->vendor, 0);
	assert_int_equal(gpu->boot_vga, -1);
	assert_null(grp(fx, 5)->type);
	assert_int_equal(fx->sys->noiommu_mode, PARAM_ABSENT);
}

static void test_load_driver_override(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e", .group = "1" });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .driver = "e1000e", .group = "1", .override = "(null)\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:03:00.0", .group = "1", .override = "vfio-pci\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:04:00.0", .group = "1", .override = "\n" });
	load_ok(fx, MODEL_ALL);

	struct device *old = dev(fx, "0000:01:00.0");
	assert_false(old->has_override_attr); /* kernel without driver_override */
	assert_null(old->driver_override);
	struct device *unset = dev(fx, "0000:02:00.0");
	assert_true(unset->has_override_attr);
	assert_null(unset->driver_override); /* "(null)" means unset */
	struct device *set = dev(fx, "0000:03:00.0");
	assert_true(set->has_override_attr);
	assert_string_equal(set->driver_override, "vfio-pci");
	struct device *empty = dev(fx, "0000:04:00.0");
	assert_true(empty->has_override_attr);
	assert_null(empty->driver_override);

	/* Not asked for: not read. */
	load_ok(fx, MODEL_ALL & ~MODEL_OVERRIDE);
	assert_false(dev(fx, "0000:03:00.0")->has_override_attr);
	assert_null(dev(fx, "0000:03:00.0")->driver_override);
}

static void test_load_group_type_and_name(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL); /* kernel without the type attribute */
	add_group(fx, "2", "identity\n", NULL, NULL);
	add_group(fx, "3", "DMA\n", "vfio-noiommu\n", NULL);
	add_group(fx, "4", "DMA\n", "\n", NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e", .group = "1" });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .driver = "e1000e", .group = "2" });
	add_pci(fx, (struct fakedev){ .name = "0000:03:00.0", .driver = "vfio-pci", .group = "3" });
	add_pci(fx, (struct fakedev){ .name = "0000:04:00.0", .driver = "vfio-pci", .group = "4" });
	/* Group names are only read when VFIO's no-IOMMU mode is on, the only thing that names groups. */
	tree_write(fx->root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "N\n");
	load_ok(fx, MODEL_ALL);
	assert_null(grp(fx, 3)->name);
	assert_int_equal(grp(fx, 3)->state, GROUP_USER);
	tree_write(fx->root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	load_ok(fx, MODEL_ALL);

	assert_null(grp(fx, 1)->type);
	assert_string_equal(grp(fx, 2)->type, "identity");
	assert_string_equal(grp(fx, 3)->type, "DMA");
	assert_string_equal(grp(fx, 3)->name, "vfio-noiommu");
	assert_int_equal(grp(fx, 3)->state, GROUP_NOIOMMU);
	assert_null(grp(fx, 4)->name); /* an empty name is no name */
	assert_int_equal(grp(fx, 4)->state, GROUP_USER);

	load_ok(fx, MODEL_ALL & ~MODEL_TYPE);
	assert_null(grp(fx, 2)->type);
	/* The name is essential: read anyway. */
	assert_int_equal(grp(fx, 3)->state, GROUP_NOIOMMU);
}

static void test_load_reserved_regions(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", "DMA\n", NULL,
		  "0x00000000fee00000 0x00000000feefffff msi\n"
		  "0x000000003c000000 0x000000003fffffff direct\n");
	add_group(fx, "2", "DMA\n", NULL,
		  "0x00000000000a0000 0x00000000000bffff direct-relaxable\n"
		  "0x00000000fee00000 0x00000000feefffff msi\n");
	add_group(fx, "3", "DMA\n", NULL, "");
	add_group(fx, "4", "DMA\n", NULL, NULL);
	add_group(fx, "5", "DMA\n", NULL, "0xfffffffff0000000 0xffffffffffffffff reserved\n");
	load_ok(fx, MODEL_ALL);

	struct group *g = grp(fx, 1);
	assert_int_equal(g->nregions, 2);
	assert_int_equal(g->regions[0].start, 0xfee00000);
	assert_int_equal(g->regions[0].end, 0xfeefffff);
	assert_string_equal(g->regions[0].type, "msi");
	assert_int_equal(g->regions[1].start, 0x3c000000);
	assert_int_equal(g->regions[1].end, 0x3fffffff);
	assert_string_equal(g->regions[1].type, "direct");
	assert_true(group_direct_mapped(g));

	g = grp(fx, 2);
	assert_int_equal(g->nregions, 2);
	assert_string_equal(g->regions[0].type, "direct-relaxable");
	assert_false(group_direct_mapped(g)); /* relaxable is not direct */

	assert_int_equal(grp(fx, 3)->nregions, 0);
	assert_false(group_direct_mapped(grp(fx, 3)));
	assert_int_equal(grp(fx, 4)->nregions, 0);

	g = grp(fx, 5);
	assert_int_equal(g->nregions, 1);
	assert_true(g->regions[0].start == UINT64_C(0xfffffffff0000000));
	assert_true(g->regions[0].end == UINT64_MAX);

	/* Not asked for: not read. */
	load_ok(fx, MODEL_ALL & ~MODEL_REGIONS);
	assert_int_equal(grp(fx, 1)->nregions, 0);
	assert_false(group_direct_mapped(grp(fx, 1)));
}

static void test_load_garbage_regions(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", "DMA\n", NULL, "0x1000 0x2000 msi\nthis is not a region\n");
	assert_true(load(fx, MODEL_ALL) < 0);
	assert_null(fx->sys);

	add_group(fx, "1", "DMA\n", NULL, "0x2000 0x1000 msi\n"); /* end before start */
	assert_true(load(fx, MODEL_ALL) < 0);
	add_group(fx, "1", "DMA\n", NULL, "0x1000 0x2000 msi extra\n");
	assert_true(load(fx, MODEL_ALL) < 0);
}

static void test_load_garbage_vendor(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .group = "1", .vendor = "0xzzzz\n" });
	assert_int_equal(load(fx, MODEL_ALL), -EBADMSG);
	assert_null(fx->sys);
	/* Not asked for: no reason to fail. */
	load_ok(fx, MODEL_ALL & ~MODEL_IDS);
	assert_int_equal(grp(fx, 1)->ndevices, 1);
}

/* pci_uevent()'s lines: PCI_CLASS=%04X, PCI_ID=%04X:%04X. */
static void test_parse_pci_uevent(void **state)
{
	(void)state;
	uint16_t v = 0, d = 0;
	uint32_t c = 0;
	assert_int_equal(model_parse_pci_uevent("DRIVER=ahci\nPCI_CLASS=10601\nPCI_ID=8086:A1D2\n"
						"PCI_SUBSYS_ID=1043:8694\nPCI_SLOT_NAME=0000:00:17.0\n",
						&v, &d, &c),
			 0);
	assert_int_equal(v, 0x8086);
	assert_int_equal(d, 0xa1d2);
	assert_int_equal(c, 0x010601);
	/* Any order, lower case, no final newline, a 24-bit class. */
	assert_int_equal(model_parse_pci_uevent("PCI_ID=10de:1b80\nPCI_CLASS=ff0000", &v, &d, &c), 0);
	assert_int_equal(v, 0x10de);
	assert_int_equal(d, 0x1b80);
	assert_int_equal(c, 0xff0000);
	/* Neither line (an empty capture, a non-PCI device): read the attributes. */
	assert_int_equal(model_parse_pci_uevent("", &v, &d, &c), -ENODATA);
	assert_int_equal(model_parse_pci_uevent("DRIVER=e1000e\nMODALIAS=pci:v00008086\n", &v, &d, &c), -ENODATA);
	/* One of them, repeated, or malformed: garbage. */
	static const char *const bad[] = {
		"PCI_ID=8086:10d3\n",
		"PCI_CLASS=20000\n",
		"PCI_ID=8086:10d3\nPCI_CLASS=20000\nPCI_ID=8086:10d3\n",
		"PCI_ID=\nPCI_CLASS=20000\n",
		"PCI_ID=8086\nPCI_CLASS=20000\n",
		"PCI_ID=18086:10d3\nPCI_CLASS=20000\n",
		"PCI_ID=8086:10d3 \nPCI_CLASS=20000\n",
		"PCI_ID=8086:\nPCI_CLASS=20000\n",
		"PCI_ID=8086:10d3\nPCI_CLASS=\n",
		"PCI_ID=8086:10d3\nPCI_CLASS=1000000\n",
		"PCI_ID=8086:10d3\nPCI_CLASS=0x20000\n",
		"PCI_ID=808g:10d3\nPCI_CLASS=20000\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (model_parse_pci_uevent(bad[i], &v, &d, &c) != -EBADMSG)
			fail_msg("accepted: %s", bad[i]);
}

/* The IDs come from uevent when it has them (one read), else from the attributes. */
static void test_load_ids_from_uevent(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .group = "1", .vendor = "0xzzzz\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .group = "1" });
	const char *d1 = "sys/devices/pci0000:01/0000:01:00.0", *d2 = "sys/devices/pci0000:02/0000:02:00.0";
	char *p = xfmt("%s/uevent", d1);
	tree_write(fx->root, p, "PCI_CLASS=30000\nPCI_ID=10DE:1B80\nPCI_SLOT_NAME=0000:01:00.0\n");
	free(p);
	/* A capture with an empty uevent: the attributes it has are read. */
	p = xfmt("%s/uevent", d2);
	tree_write(fx->root, p, "");
	free(p);
	load_ok(fx, MODEL_IDS);
	struct device *a = dev(fx, "0000:01:00.0"), *b = dev(fx, "0000:02:00.0");
	assert_true(a->has_ids && a->has_class);
	assert_int_equal(a->vendor, 0x10de);
	assert_int_equal(a->device, 0x1b80);
	assert_int_equal(a->class, 0x030000);
	assert_true(b->has_ids && b->has_class);
	assert_int_equal(b->vendor, 0x8086);
	assert_int_equal(b->device, 0x10d3);
	assert_int_equal(b->class, 0x020000);

	/* The class alone is still read from class. */
	p = xfmt("%s/class", d1);
	tree_write(fx->root, p, "0x040300\n");
	free(p);
	load_ok(fx, MODEL_CLASS);
	a = dev(fx, "0000:01:00.0");
	assert_false(a->has_ids);
	assert_int_equal(a->class, 0x040300);

	/* Garbage in uevent is named, never silently replaced by the attributes. */
	p = xfmt("%s/uevent", d2);
	tree_write(fx->root, p, "PCI_CLASS=20000\nPCI_ID=8086\n");
	free(p);
	assert_int_equal(load(fx, MODEL_IDS), -EBADMSG);
	assert_null(fx->sys);
}

static void test_load_vendor_out_of_range(void **state)
{
	struct fx *fx = *state;
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .vendor = "0x18086\n" });
	assert_true(load(fx, MODEL_ALL) < 0);
	assert_null(fx->sys);
}

static void test_load_binary_vendor(void **state)
{
	struct fx *fx = *state;
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0" });
	tree_write_n(fx->root, "sys/devices/pci0000:01/0000:01:00.0/vendor", "\x86\x80\0\0", 4);
	assert_int_equal(load(fx, MODEL_ALL), -EBADMSG);
	assert_null(fx->sys);
}

static void test_load_link_escapes(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e", .group = "1" });
	/* A device directory outside the sysroot, reached by a relative link. */
	tree_write(fx->base, "outside/0000:00:05.0/vendor", "0x8086\n");
	tree_write(fx->base, "outside/0000:00:05.0/device", "0x1234\n");
	tree_write(fx->base, "outside/0000:00:05.0/class", "0x020000\n");
	tree_symlink(fx->root, "sys/bus/pci/devices/0000:00:05.0", "../../../../../outside/0000:00:05.0");
	assert_int_equal(load(fx, MODEL_ALL), -EXDEV);
	assert_null(fx->sys);
}

static void test_load_group_link_escapes(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	tree_write(fx->base, "outside/ff000000.dma/uevent", "\n");
	tree_symlink(fx->root, "sys/kernel/iommu_groups/1/devices/ff000000.dma",
		     "../../../../../../outside/ff000000.dma");
	assert_int_equal(load(fx, MODEL_ALL), -EXDEV);
	assert_null(fx->sys);
}

static void test_load_long_sysroot(void **state)
{
	struct fx *fx = *state;
	/* Move the sysroot 300+ bytes deep. */
	char *deep = strdup(fx->base);
	for (int i = 0; i < 4; i++) {
		char *next = xfmt("%s/%s-%d", deep,
				  "a-rather-long-directory-name-to-push-the-sysroot-path-well-beyond-three-hundred-bytes", i);
		free(deep);
		deep = next;
	}
	char *root = xfmt("%s/root", deep);
	free(deep);
	assert_true(strlen(root) > 300);
	tree_dir(root, "sys");
	free(fx->root);
	fx->root = root;

	add_group(fx, "3", "DMA\n", NULL, "0x1000 0x1fff direct\n");
	add_pci(fx, (struct fakedev){ .name = "0000:03:00.0", .driver = "vfio-pci", .group = "3",
				      .override = "vfio-pci\n" });
	load_ok(fx, MODEL_ALL);
	assert_string_equal(ka_root(fx->ka), root);
	assert_int_equal(fx->sys->ngroups, 1);
	assert_int_equal(grp(fx, 3)->state, GROUP_USER);
	assert_true(group_direct_mapped(grp(fx, 3)));
	assert_string_equal(dev(fx, "0000:03:00.0")->driver_override, "vfio-pci");
}

static void test_load_vmd_domain(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "2", "DMA\n", NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:00:0e.0", .driver = "vmd", .group = "2", .class = "0x010400\n" });
	add_pci(fx, (struct fakedev){ .name = "10000:00:02.0", .driver = "pcieport", .group = "2", .class = "0x060400\n" });
	add_pci(fx, (struct fakedev){ .name = "10000:01:00.0", .driver = "nvme", .group = "2", .class = "0x010802\n" });
	add_pci(fx, (struct fakedev){ .name = "0000:ff:00.0" });
	load_ok(fx, MODEL_ALL);

	struct system *sys = fx->sys;
	assert_int_equal(sys->ndevices, 4);
	assert_string_equal(sys->devices[0]->name, "0000:00:0e.0");
	assert_string_equal(sys->devices[1]->name, "0000:ff:00.0");
	assert_string_equal(sys->devices[2]->name, "10000:00:02.0");
	assert_string_equal(sys->devices[3]->name, "10000:01:00.0");
	struct device *nvme = dev(fx, "10000:01:00.0");
	assert_int_equal(nvme->addr.domain, 0x10000);
	assert_int_equal(nvme->addr.bus, 1);
	assert_ptr_equal(nvme->group, grp(fx, 2));
	assert_int_equal(grp(fx, 2)->ndevices, 3);
	assert_int_equal(grp(fx, 2)->state, GROUP_KERNEL);
	assert_string_equal(grp(fx, 2)->devices[2]->name, "10000:01:00.0");
	/* Short form means domain 0, not the VMD domain. */
	struct pci_addr a;
	assert_int_equal(pci_addr_parse("01:00.0", &a), 0);
	assert_null(model_find_device(sys, &a));
}

static void test_load_non_pci_member(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "7", "DMA\n", NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e" });
	tree_write(fx->root, "sys/devices/platform/ff000000.dma/uevent", "\n");
	tree_dir(fx->root, "sys/bus/platform/drivers/vfio-platform");
	tree_link(fx->root, "sys/devices/platform/ff000000.dma/driver", "sys/bus/platform/drivers/vfio-platform");
	tree_link(fx->root, "sys/kernel/iommu_groups/7/devices/ff000000.dma", "sys/devices/platform/ff000000.dma");
	load_ok(fx, MODEL_ALL);

	struct system *sys = fx->sys;
	assert_int_equal(sys->ndevices, 2);
	assert_string_equal(sys->devices[0]->name, "0000:01:00.0"); /* PCI first */
	struct device *p = sys->devices[1];
	assert_string_equal(p->name, "ff000000.dma");
	assert_false(p->is_pci);
	assert_string_equal(p->driver, "vfio-platform");
	assert_int_equal(p->role, ROLE_USER);
	assert_ptr_equal(p->group, grp(fx, 7));
	assert_int_equal(grp(fx, 7)->state, GROUP_USER);
}

static void test_load_vfio_dev_unknown_variant(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", "DMA\n", NULL, NULL);
	add_group(fx, "2", "DMA\n", NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "acme_vfio_pci", .group = "1", .vfio_dev = true });
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.1", .driver = "acme_net", .group = "1" });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .driver = "acme_vfio_pci", .group = "2", .vfio_dev = true });
	load_ok(fx, MODEL_ALL);
	assert_true(dev(fx, "0000:01:00.0")->vfio_dev);
	assert_int_equal(dev(fx, "0000:01:00.0")->role, ROLE_USER);
	assert_false(dev(fx, "0000:01:00.1")->vfio_dev);
	assert_int_equal(grp(fx, 1)->state, GROUP_MIXED);
	assert_int_equal(grp(fx, 2)->state, GROUP_USER);
}

/*
 * drivers.h: a --dma-safe-driver is "treated as neutral (or user with
 * vfio-dev/)". Naming a new VFIO variant that way must not hide that it is VFIO.
 */
static void test_load_vfio_dev_dma_safe_driver(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", "DMA\n", NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "acme_vfio_pci", .group = "1", .vfio_dev = true });
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.1", .driver = "acme_net", .group = "1" });
	add_pci(fx, (struct fakedev){ .name = "0000:02:00.0", .driver = "acme_holder", .group = "1" });
	drivers_add_dma_safe("acme_vfio_pci");
	drivers_add_dma_safe("acme_holder");
	load_ok(fx, MODEL_ALL);
	assert_int_equal(dev(fx, "0000:02:00.0")->role, ROLE_NEUTRAL);
	assert_true(dev(fx, "0000:01:00.0")->vfio_dev);
	assert_int_equal(dev(fx, "0000:01:00.0")->role, ROLE_USER);
	assert_int_equal(grp(fx, 1)->state, GROUP_MIXED);
}

static void test_load_device_in_two_groups(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_group(fx, "2", NULL, NULL, NULL);
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .group = "1" });
	tree_link(fx->root, "sys/kernel/iommu_groups/2/devices/0000:01:00.0", "sys/devices/pci0000:01/0000:01:00.0");
	assert_true(load(fx, MODEL_ALL) < 0);
	assert_null(fx->sys);
}

static void test_load_bad_names(void **state)
{
	struct fx *fx = *state;
	add_group(fx, "1", NULL, NULL, NULL);
	add_group(fx, "x1", NULL, NULL, NULL);
	assert_true(load(fx, MODEL_ALL) < 0);
	tree_remove(fx->root);
	tree_dir(fx->root, "sys/bus/pci/devices/not-an-address");
	assert_true(load(fx, MODEL_ALL) < 0);
}

static void test_load_empty(void **state)
{
	struct fx *fx = *state;
	/* No PCI bus, no IOMMU: a valid, empty system. */
	load_ok(fx, MODEL_ALL);
	assert_int_equal(fx->sys->ndevices, 0);
	assert_int_equal(fx->sys->ngroups, 0);
	assert_false(fx->sys->has_groups_dir);
	assert_int_equal(fx->sys->noiommu_mode, PARAM_ABSENT);
	assert_int_equal(fx->sys->unsafe_interrupts, PARAM_ABSENT);
	assert_null(fx->sys->cmdline);
	assert_int_equal(fx->sys->pci_drivers.n, 0);

	/* An IOMMU with no groups yet. */
	tree_dir(fx->root, "sys/kernel/iommu_groups");
	load_ok(fx, MODEL_ALL);
	assert_true(fx->sys->has_groups_dir);
	assert_int_equal(fx->sys->ngroups, 0);
}

/*
 * tests/fixtures/lib.sh keeps empty directories in git with a `.keep` file and
 * says "Readers of the tree must skip names starting with '.', as libpci does".
 */
static void test_load_skips_dot_files(void **state)
{
	struct fx *fx = *state;
	tree_write(fx->root, "sys/kernel/iommu_groups/.keep", "");
	tree_write(fx->root, "sys/bus/pci/drivers/.keep", "");
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e" });
	tree_write(fx->root, "sys/bus/pci/devices/.keep", "");
	load_ok(fx, MODEL_ALL);
	assert_int_equal(fx->sys->ngroups, 0);
	assert_int_equal(fx->sys->ndevices, 1);
}

static void test_load_params(void **state)
{
	struct fx *fx = *state;
	tree_write(fx->root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "Y\n");
	tree_write(fx->root, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "N\n");
	tree_write(fx->root, "proc/cmdline", "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt\n");
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .driver = "e1000e" });
	tree_dir(fx->root, "sys/bus/pci/drivers/vfio-pci");
	load_ok(fx, MODEL_ALL);
	struct system *sys = fx->sys;
	assert_int_equal(sys->noiommu_mode, PARAM_ON);
	assert_int_equal(sys->unsafe_interrupts, PARAM_OFF);
	assert_string_equal(sys->cmdline, "BOOT_IMAGE=/vmlinuz intel_iommu=on iommu=pt");
	assert_int_equal(sys->pci_drivers.n, 2);
	assert_true(strv_contains(&sys->pci_drivers, "vfio-pci"));
	assert_true(strv_contains(&sys->pci_drivers, "e1000e"));
	assert_true(sys->loaded & MODEL_PARAMS);

	/* 1/0 work as well as Y/N; a module that is not loaded is absent. */
	tree_write(fx->root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "0\n");
	tree_write(fx->root, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "1\n");
	load_ok(fx, MODEL_ALL);
	assert_int_equal(fx->sys->noiommu_mode, PARAM_OFF);
	assert_int_equal(fx->sys->unsafe_interrupts, PARAM_ON);

	/* Not asked for: not read. */
	load_ok(fx, MODEL_ALL & ~MODEL_PARAMS);
	assert_int_equal(fx->sys->unsafe_interrupts, PARAM_ABSENT);
	assert_null(fx->sys->cmdline);
	assert_int_equal(fx->sys->pci_drivers.n, 0);

	tree_write(fx->root, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", "maybe\n");
	assert_int_equal(load(fx, MODEL_ALL), -EBADMSG);
	assert_null(fx->sys);
}

static void test_load_boot_vga_garbage(void **state)
{
	struct fx *fx = *state;
	add_pci(fx, (struct fakedev){ .name = "0000:01:00.0", .class = "0x030000\n", .boot_vga = "1\n" });
	load_ok(fx, MODEL_ALL);
	assert_int_equal(dev(fx, "0000:01:00.0")->boot_vga, 1);
	tree_write(fx->root, "sys/devices/pci0000:01/0000:01:00.0/boot_vga", "yes\n");
	assert_true(load(fx, MODEL_ALL) < 0);
}

/* ------------------------------------------------------------------------ */
/* model_select */

static int select_args(struct fx *fx, int argc, const char *const *argv)
{
	return model_select(fx->sys, argc, (char **)argv);
}

#define SELECT(fx, ...) \
	select_args(fx, (int)ARRAY_SIZE(((const char *const[]){ __VA_ARGS__ })), (const char *const[]){ __VA_ARGS__ })

static void expect_selected(struct fx *fx, unsigned long g0, unsigned long g5, unsigned long g1000,
			    const char *devices_selected)
{
	assert_int_equal(grp(fx, 0)->selected, g0);
	assert_int_equal(grp(fx, 5)->selected, g5);
	assert_int_equal(grp(fx, 1000)->selected, g1000);
	/* One character per device in address order: 1 selected, 0 not. */
	for (size_t i = 0; i < fx->sys->ndevices; i++)
		if (fx->sys->devices[i]->selected != (devices_selected[i] == '1'))
			fail_msg("device %s: selected=%d, expected %c", fx->sys->devices[i]->name,
				 fx->sys->devices[i]->selected, devices_selected[i]);
}

static void test_select(void **state)
{
	struct fx *fx = *state;
	build_gaps(fx);
	load_ok(fx, MODEL_ALL);
	/* Devices: 00:00.0 (g0), 00:1f.6 (g5), 01:00.0 + 01:00.1 (g1000), 02:00.0 (none). */

	assert_int_equal(model_select(fx->sys, 0, NULL), 0);
	expect_selected(fx, 1, 1, 1, "11111");

	assert_int_equal(SELECT(fx, "5"), 0);
	expect_selected(fx, 0, 1, 0, "01000");

	assert_int_equal(SELECT(fx, "1000"), 0);
	expect_selected(fx, 0, 0, 1, "00110");

	assert_int_equal(SELECT(fx, "0", "1000"), 0);
	expect_selected(fx, 1, 0, 1, "10110");

	/* A short address: that device and its group. */
	assert_int_equal(SELECT(fx, "01:00.0"), 0);
	expect_selected(fx, 0, 0, 1, "00100");

	assert_int_equal(SELECT(fx, "0000:00:1F.6"), 0);
	expect_selected(fx, 0, 1, 0, "01000");

	/* A device in no group. */
	assert_int_equal(SELECT(fx, "0000:02:00.0"), 0);
	expect_selected(fx, 0, 0, 0, "00001");
}

static void test_select_errors(void **state)
{
	struct fx *fx = *state;
	build_gaps(fx);
	load_ok(fx, MODEL_ALL);
	assert_int_equal(SELECT(fx, "42"), -ENOENT);
	assert_int_equal(SELECT(fx, "1"), -ENOENT);
	assert_int_equal(SELECT(fx, "5", "999"), -ENOENT);
	assert_int_equal(SELECT(fx, "0000:09:00.0"), -ENOENT);
	assert_int_equal(SELECT(fx, "10000:01:00.0"), -ENOENT);
	assert_int_equal(SELECT(fx, "garbage"), -EINVAL);
	assert_int_equal(SELECT(fx, "-1"), -EINVAL);
	assert_int_equal(SELECT(fx, ""), -EINVAL);
	assert_int_equal(SELECT(fx, "00:20.0"), -EINVAL);
	assert_int_equal(SELECT(fx, "5x"), -EINVAL);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* The tests speak TAP (CMOCKA_MESSAGE_OUTPUT still overrides). */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_judge_kernel),
		cmocka_unit_test(test_judge_user),
		cmocka_unit_test(test_judge_free),
		cmocka_unit_test(test_judge_mixed),
		cmocka_unit_test(test_judge_noiommu),
		cmocka_unit_test(test_judge_rejudge),
		cmocka_unit_test(test_judge_300_devices),
		cmocka_unit_test(test_state_names),
		T(test_load_groups_with_gaps),
		T(test_load_minimal_flags),
		T(test_load_driver_override),
		T(test_load_group_type_and_name),
		T(test_load_reserved_regions),
		T(test_load_garbage_regions),
		T(test_load_garbage_vendor),
		cmocka_unit_test(test_parse_pci_uevent),
		T(test_load_ids_from_uevent),
		T(test_load_vendor_out_of_range),
		T(test_load_binary_vendor),
		T(test_load_link_escapes),
		T(test_load_group_link_escapes),
		T(test_load_long_sysroot),
		T(test_load_vmd_domain),
		T(test_load_non_pci_member),
		T(test_load_vfio_dev_unknown_variant),
		T(test_load_vfio_dev_dma_safe_driver),
		T(test_load_device_in_two_groups),
		T(test_load_bad_names),
		T(test_load_empty),
		T(test_load_skips_dot_files),
		T(test_load_params),
		T(test_load_boot_vga_garbage),
		T(test_select),
		T(test_select_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
