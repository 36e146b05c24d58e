// SPDX-License-Identifier: GPL-2.0-or-later
/* audit.c: each finding appears exactly when it should, and nothing else does. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/audit.h"

/* ------------------------------------------------------------------------ */
/* Builders: a struct system by hand, freed by model_free(). */

static struct system *sys_new(void)
{
	struct system *sys = calloc(1, sizeof(*sys));
	sys->loaded = AUDIT_MODEL_FLAGS;
	sys->has_groups_dir = true;
	sys->noiommu_mode = PARAM_OFF;
	sys->unsafe_interrupts = PARAM_OFF;
	return sys;
}

/* Drivers present in sys/bus/pci/drivers. */
static void loaded(struct system *sys, const char *driver)
{
	strv_push(&sys->pci_drivers, strdup(driver));
}

/* A selected group; add groups in increasing number. */
static struct group *group(struct system *sys, unsigned long number)
{
	struct group *g = calloc(1, sizeof(*g));
	g->number = number;
	g->type = strdup("DMA");
	g->selected = true;
	sys->groups = grow_array(sys->groups, &sys->groupcap, sys->ngroups + 1, sizeof(*sys->groups));
	sys->groups[sys->ngroups++] = g;
	return g;
}

/* A selected PCI device bound to driver (NULL: unbound) in g (NULL: none); add in address order. */
static struct device *device(struct system *sys, struct group *g, const char *name, const char *driver)
{
	struct device *d = calloc(1, sizeof(*d));
	d->name = strdup(name);
	d->is_pci = true;
	assert_int_equal(pci_addr_parse(name, &d->addr), 0);
	d->has_ids = true;
	d->has_class = true;
	d->vendor = 0x8086;
	d->class = 0x020000;
	d->driver = driver ? strdup(driver) : NULL;
	d->has_override_attr = true;
	d->boot_vga = -1;
	d->header_type = 0;
	d->reset_method = strdup("flr bus"); /* resettable unless a test says otherwise */
	d->selected = true;
	sys->devices = grow_array(sys->devices, &sys->devcap, sys->ndevices + 1, sizeof(*sys->devices));
	sys->devices[sys->ndevices++] = d;
	if (g) {
		g->devices = grow_array(g->devices, &g->cap, g->ndevices + 1, sizeof(*g->devices));
		g->devices[g->ndevices++] = d;
		d->group = g;
	}
	return d;
}

static void override(struct device *d, const char *driver)
{
	free(d->driver_override);
	d->driver_override = strdup(driver);
}

static void region(struct group *g, uint64_t start, uint64_t end, const char *type)
{
	g->regions = realloc(g->regions, (g->nregions + 1) * sizeof(*g->regions));
	g->regions[g->nregions++] = (struct region){ start, end, strdup(type) };
}

static void unselect_group(struct group *g)
{
	g->selected = false;
	for (size_t i = 0; i < g->ndevices; i++)
		g->devices[i]->selected = false;
}

/* Judge the roles and states as model_load would, then audit. */
static void audit(struct system *sys, struct findings *f)
{
	memset(f, 0, sizeof(*f));
	model_judge(sys);
	audit_run(sys, f);
}

static size_t count_code(const struct findings *f, const char *code)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n; i++)
		n += strcmp(f->v[i].code, code) == 0;
	return n;
}

/* The one finding with that code (and group, unless any_group). */
static const struct finding *find_one(const struct findings *f, const char *code, const struct group *g,
				      bool any_group)
{
	const struct finding *found = NULL;
	for (size_t i = 0; i < f->n; i++) {
		if (strcmp(f->v[i].code, code) != 0 || (!any_group && f->v[i].group != g))
			continue;
		if (found)
			fail_msg("more than one %s finding", code);
		found = &f->v[i];
	}
	if (!found)
		fail_msg("no %s finding (group %ld)", code, g ? (long)g->number : -1L);
	assert_non_null(found->message);
	assert_non_null(found->hint);
	assert_true(*found->message);
	assert_true(*found->hint);
	return found;
}

static const struct finding *expect_finding(const struct findings *f, const char *code, enum severity sev,
					    const struct group *g)
{
	const struct finding *x = find_one(f, code, g, false);
	assert_ptr_equal(x->group, g);
	if (x->severity != sev)
		fail_msg("%s: severity %s, expected %s", code, severity_to_string(x->severity), severity_to_string(sev));
	return x;
}

/* The finding's device list, exactly and in order (NULL-terminated). */
static void expect_devices(const struct finding *x, ...)
{
	va_list ap;
	size_t n = 0;
	va_start(ap, x);
	for (const char *name; (name = va_arg(ap, const char *)); n++) {
		if (n >= x->devices.n)
			fail_msg("%s: only %zu device(s), expected %s too", x->code, x->devices.n, name);
		assert_string_equal(x->devices.v[n], name);
	}
	va_end(ap);
	assert_int_equal(x->devices.n, n);
}

static void expect_message_has(const struct finding *x, const char *text)
{
	if (!strstr(x->message, text))
		fail_msg("%s: message \"%s\" lacks \"%s\"", x->code, x->message, text);
}

static void expect_counts(const struct findings *f, size_t errors, size_t warnings, size_t infos)
{
	if (f->count[SEV_ERROR] != errors || f->count[SEV_WARNING] != warnings || f->count[SEV_INFO] != infos) {
		for (size_t i = 0; i < f->n; i++)
			fprintf(stderr, "# finding: %s: %s\n", f->v[i].code, f->v[i].message);
		fail_msg("counts error=%zu warning=%zu info=%zu, expected %zu %zu %zu", f->count[SEV_ERROR],
			 f->count[SEV_WARNING], f->count[SEV_INFO], errors, warnings, infos);
	}
	assert_int_equal(f->n, errors + warnings + infos);
}

/*
 * A clean, busy machine: kernel, user, free and neutral+user groups, VFIO
 * loaded, overrides matching the bound drivers. Tests add one fault to it.
 */
struct clean {
	struct system *sys;
	struct group *kernel, *user, *free_, *port;
	struct device *nic, *gpu, *gpu_audio, *stub, *idle, *bridge, *vf;
};

static struct clean clean_system(void)
{
	struct clean c = { .sys = sys_new() };
	struct system *sys = c.sys;
	loaded(sys, "e1000e");
	loaded(sys, "vfio-pci");
	loaded(sys, "pci-stub");
	loaded(sys, "pcieport");
	c.kernel = group(sys, 1);
	c.user = group(sys, 2);
	c.free_ = group(sys, 3);
	c.port = group(sys, 4);
	c.nic = device(sys, c.kernel, "0000:00:1f.6", "e1000e");
	c.gpu = device(sys, c.user, "0000:01:00.0", "vfio-pci");
	c.gpu_audio = device(sys, c.user, "0000:01:00.1", "vfio-pci");
	c.stub = device(sys, c.free_, "0000:02:00.0", "pci-stub");
	c.idle = device(sys, c.free_, "0000:02:00.1", NULL);
	c.bridge = device(sys, c.port, "0000:03:00.0", "pcieport");
	c.vf = device(sys, c.port, "0000:04:00.0", "vfio-pci");
	c.gpu->class = 0x030000;
	c.gpu->boot_vga = 0;
	override(c.gpu, "vfio_pci"); /* same driver, module spelling */
	override(c.stub, "pci-stub");
	region(c.kernel, 0xfee00000, 0xfeefffff, "msi");
	region(c.user, 0xa0000, 0xbffff, "direct-relaxable");
	return c;
}

/* ------------------------------------------------------------------------ */

static void test_clean_system(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	assert_int_equal(c.kernel->state, GROUP_KERNEL);
	assert_int_equal(c.user->state, GROUP_USER);
	assert_int_equal(c.free_->state, GROUP_FREE);
	assert_int_equal(c.port->state, GROUP_USER);
	findings_free(&f);

	/* Modules not loaded: parameters absent, still clean. */
	c.sys->noiommu_mode = PARAM_ABSENT;
	c.sys->unsafe_interrupts = PARAM_ABSENT;
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_empty_system(void **state)
{
	(void)state;
	struct system *sys = sys_new();
	struct findings f;
	audit(sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(sys);
}

static void test_mixed_group(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct group *g = group(c.sys, 9);
	device(c.sys, g, "0000:05:00.0", "pcieport");
	device(c.sys, g, "0000:06:00.0", "vfio-pci");
	device(c.sys, g, "0000:06:00.1", "snd_hda_intel");
	device(c.sys, g, "0000:06:00.2", NULL);
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 1, 0, 0);
	const struct finding *x = expect_finding(&f, "mixed-group", SEV_ERROR, g);
	/* VFIO devices, then kernel ones; neutral and unbound ones are not to blame. */
	expect_devices(x, "0000:06:00.0", "0000:06:00.1", NULL);
	expect_message_has(x, "group 9");
	expect_message_has(x, "snd_hda_intel");
	findings_free(&f);

	/* Unselected: nothing. */
	unselect_group(g);
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_no_iommu(void **state)
{
	(void)state;
	struct system *sys = sys_new();
	sys->has_groups_dir = false;
	loaded(sys, "e1000e");
	device(sys, NULL, "0000:00:1f.6", "e1000e");
	device(sys, NULL, "0000:01:00.0", NULL);
	struct findings f;
	audit(sys, &f);
	expect_counts(&f, 1, 0, 0);
	const struct finding *x = expect_finding(&f, "no-iommu", SEV_ERROR, NULL);
	expect_message_has(x, "2 PCI device");
	findings_free(&f);

	/* Global: reported whatever is selected. */
	sys->devices[0]->selected = sys->devices[1]->selected = false;
	audit(sys, &f);
	expect_counts(&f, 1, 0, 0);
	expect_finding(&f, "no-iommu", SEV_ERROR, NULL);
	findings_free(&f);
	model_free(sys);

	/* Groups present: no finding (the clean system). */
	struct clean c = clean_system();
	audit(c.sys, &f);
	assert_int_equal(count_code(&f, "no-iommu"), 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_no_iommu_needs_pci(void **state)
{
	(void)state;
	/* A machine without PCI (or with only platform devices) and no IOMMU. */
	struct system *sys = sys_new();
	struct device *d = device(sys, NULL, "0000:00:00.0", NULL);
	d->is_pci = false;
	free(d->name);
	d->name = strdup("ff000000.serial");
	struct findings f;
	audit(sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(sys);
}

static void test_noiommu_mode_param(void **state)
{
	(void)state;
	struct clean c = clean_system();
	c.sys->noiommu_mode = PARAM_ON;
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 1, 0, 0);
	const struct finding *x = expect_finding(&f, "noiommu-mode", SEV_ERROR, NULL);
	assert_int_equal(x->devices.n, 0);
	findings_free(&f);

	/* Global: also with every group unselected. */
	for (size_t i = 0; i < c.sys->ngroups; i++)
		unselect_group(c.sys->groups[i]);
	audit(c.sys, &f);
	expect_counts(&f, 1, 0, 0);
	expect_finding(&f, "noiommu-mode", SEV_ERROR, NULL);
	findings_free(&f);
	model_free(c.sys);
}

static void test_noiommu_group(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct group *g = group(c.sys, 10);
	g->name = strdup("vfio-noiommu");
	device(c.sys, g, "0000:07:00.0", "vfio-pci");
	device(c.sys, g, "0000:07:00.1", "pcieport");
	struct findings f;
	audit(c.sys, &f);
	assert_int_equal(g->state, GROUP_NOIOMMU);
	expect_counts(&f, 1, 0, 0);
	const struct finding *x = expect_finding(&f, "noiommu-mode", SEV_ERROR, g);
	expect_devices(x, "0000:07:00.0", "0000:07:00.1", NULL);
	expect_message_has(x, "group 10");
	findings_free(&f);

	/* With the parameter on as well: one global and one group finding. */
	c.sys->noiommu_mode = PARAM_ON;
	audit(c.sys, &f);
	expect_counts(&f, 2, 0, 0);
	assert_int_equal(count_code(&f, "noiommu-mode"), 2);
	expect_finding(&f, "noiommu-mode", SEV_ERROR, NULL);
	expect_finding(&f, "noiommu-mode", SEV_ERROR, g);
	findings_free(&f);

	/* A noiommu group with a kernel device is still reported as noiommu, not mixed. */
	c.sys->noiommu_mode = PARAM_OFF;
	device(c.sys, g, "0000:07:00.2", "e1000e");
	audit(c.sys, &f);
	expect_counts(&f, 1, 0, 0);
	expect_finding(&f, "noiommu-mode", SEV_ERROR, g);
	findings_free(&f);

	unselect_group(g);
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_pending_bound(void **state)
{
	(void)state;
	struct clean c = clean_system();
	override(c.nic, "vfio-pci");
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, c.kernel);
	expect_devices(x, "0000:00:1f.6", NULL);
	expect_message_has(x, "is bound to e1000e");
	expect_message_has(x, "binds vfio-pci");
	findings_free(&f);

	/* Unselected device: nothing. */
	c.nic->selected = false;
	c.kernel->selected = false;
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_pending_unbound(void **state)
{
	(void)state;
	struct clean c = clean_system();
	/* 02:00.1 is unbound, its sibling on pci-stub: the group would be user. */
	override(c.idle, "vfio-pci");
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, c.free_);
	expect_devices(x, "0000:02:00.1", NULL);
	expect_message_has(x, "has no driver");
	expect_message_has(x, "binds vfio-pci");
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_pending_would_mix(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct device *sibling = device(c.sys, c.kernel, "0000:00:1f.7", NULL);
	override(sibling, "vfio-pci");
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, c.kernel);
	expect_devices(x, "0000:00:1f.7", NULL);
	expect_message_has(x, "mixed");
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_pending_not_loaded(void **state)
{
	(void)state;
	struct clean c = clean_system();
	override(c.idle, "mlx5_vfio_pci"); /* not in sys->pci_drivers */
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, c.free_);
	expect_devices(x, "0000:02:00.1", NULL);
	expect_message_has(x, "not loaded");
	findings_free(&f);

	/* Loaded under its module spelling: no longer "not loaded". */
	loaded(c.sys, "mlx5-vfio-pci");
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	x = expect_finding(&f, "override-pending", SEV_WARNING, c.free_);
	assert_null(strstr(x->message, "not loaded"));
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_kernel_into_user_group(void **state)
{
	(void)state;
	struct clean c = clean_system();
	loaded(c.sys, "snd_hda_intel");
	override(c.gpu_audio, "snd_hda_intel");
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, c.user);
	expect_devices(x, "0000:01:00.1", NULL);
	expect_message_has(x, "EBUSY");
	findings_free(&f);
	model_free(c.sys);
}

static void test_override_no_group(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct device *d = device(c.sys, NULL, "0000:08:00.0", NULL);
	override(d, "vfio-pci");
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "override-pending", SEV_WARNING, NULL);
	expect_devices(x, "0000:08:00.0", NULL);
	findings_free(&f);
	model_free(c.sys);
}

static void test_unsafe_interrupts(void **state)
{
	(void)state;
	struct clean c = clean_system();
	c.sys->unsafe_interrupts = PARAM_ON;
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "unsafe-interrupts", SEV_WARNING, NULL);
	assert_int_equal(x->devices.n, 0);
	findings_free(&f);

	for (size_t i = 0; i < c.sys->ngroups; i++)
		unselect_group(c.sys->groups[i]);
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_direct_mapped(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct group *g = group(c.sys, 11);
	device(c.sys, g, "0000:00:14.0", "xhci_hcd");
	device(c.sys, g, "0000:00:14.2", NULL);
	region(g, 0xfee00000, 0xfeefffff, "msi");
	region(g, 0x3c000000, 0x3fffffff, "direct");
	region(g, 0x40000000, 0x4fffffff, "direct");
	struct findings f;
	audit(c.sys, &f);
	/* One finding per group, however many direct regions. */
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "direct-mapped", SEV_WARNING, g);
	expect_devices(x, "0000:00:14.0", "0000:00:14.2", NULL);
	expect_message_has(x, "0x3c000000-0x3fffffff");
	expect_message_has(x, "group 11");
	findings_free(&f);

	unselect_group(g);
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_boot_vga_user(void **state)
{
	(void)state;
	struct clean c = clean_system();
	c.gpu->boot_vga = 1;
	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	const struct finding *x = expect_finding(&f, "boot-vga-user", SEV_WARNING, c.user);
	expect_devices(x, "0000:01:00.0", NULL);
	expect_message_has(x, "vfio-pci");
	findings_free(&f);

	/* The boot GPU on its kernel driver is the normal case. */
	free(c.gpu->driver);
	c.gpu->driver = strdup("i915");
	free(c.gpu->driver_override);
	c.gpu->driver_override = NULL;
	audit(c.sys, &f);
	assert_int_equal(count_code(&f, "boot-vga-user"), 0);
	findings_free(&f);

	/* Unselected: nothing. */
	free(c.gpu->driver);
	c.gpu->driver = strdup("vfio-pci");
	unselect_group(c.user);
	audit(c.sys, &f);
	expect_counts(&f, 0, 0, 0);
	findings_free(&f);
	model_free(c.sys);
}

static void test_unselected_groups(void **state)
{
	(void)state;
	/* Every group fault at once, nothing selected: only global findings remain. */
	struct clean c = clean_system();
	struct group *mixed = group(c.sys, 20);
	device(c.sys, mixed, "0000:10:00.0", "vfio-pci");
	device(c.sys, mixed, "0000:10:00.1", "e1000e");
	struct group *noiommu = group(c.sys, 21);
	noiommu->name = strdup("vfio-noiommu");
	device(c.sys, noiommu, "0000:11:00.0", "vfio-pci");
	struct group *direct = group(c.sys, 22);
	device(c.sys, direct, "0000:12:00.0", "ahci");
	region(direct, 0x1000, 0x1fff, "direct");
	c.gpu->boot_vga = 1;
	override(c.nic, "vfio-pci");
	for (size_t i = 0; i < c.sys->ngroups; i++)
		unselect_group(c.sys->groups[i]);
	c.sys->unsafe_interrupts = PARAM_ON;

	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 0, 1, 0);
	expect_finding(&f, "unsafe-interrupts", SEV_WARNING, NULL);
	findings_free(&f);

	/* Select only the mixed group: its finding and the global one. */
	mixed->selected = true;
	for (size_t i = 0; i < mixed->ndevices; i++)
		mixed->devices[i]->selected = true;
	audit(c.sys, &f);
	expect_counts(&f, 1, 1, 0);
	expect_finding(&f, "mixed-group", SEV_ERROR, mixed);
	findings_free(&f);
	model_free(c.sys);
}

static void test_summary_counts(void **state)
{
	(void)state;
	struct clean c = clean_system();
	struct group *mixed = group(c.sys, 20);
	device(c.sys, mixed, "0000:10:00.0", "vfio-pci");
	device(c.sys, mixed, "0000:10:00.1", "e1000e");
	struct group *direct = group(c.sys, 22);
	device(c.sys, direct, "0000:12:00.0", "ahci");
	region(direct, 0x1000, 0x1fff, "direct");
	c.gpu->boot_vga = 1;
	override(c.nic, "vfio-pci");
	c.sys->noiommu_mode = PARAM_ON;
	c.sys->unsafe_interrupts = PARAM_ON;

	struct findings f;
	audit(c.sys, &f);
	expect_counts(&f, 2, 4, 0);
	assert_int_equal(count_code(&f, "mixed-group"), 1);
	assert_int_equal(count_code(&f, "noiommu-mode"), 1);
	assert_int_equal(count_code(&f, "unsafe-interrupts"), 1);
	assert_int_equal(count_code(&f, "direct-mapped"), 1);
	assert_int_equal(count_code(&f, "override-pending"), 1);
	assert_int_equal(count_code(&f, "boot-vga-user"), 1);
	/* Every finding carries the severity its code has in the table. */
	for (size_t i = 0; i < f.n; i++) {
		bool found = false;
		for (size_t j = 0; j < n_finding_codes; j++)
			if (strcmp(finding_codes[j].code, f.v[i].code) == 0) {
				assert_int_equal(f.v[i].severity, finding_codes[j].severity);
				found = true;
			}
		assert_true(found);
	}
	findings_free(&f);
	assert_int_equal(f.n, 0);
	assert_null(f.v);
	assert_int_equal(f.count[SEV_ERROR], 0);

	/* Running twice into one list accumulates. */
	memset(&f, 0, sizeof(f));
	audit_run(c.sys, &f);
	audit_run(c.sys, &f);
	assert_int_equal(f.count[SEV_ERROR], 4);
	assert_int_equal(f.count[SEV_WARNING], 8);
	assert_int_equal(f.n, 12);
	findings_free(&f);
	model_free(c.sys);
}

static void test_code_table(void **state)
{
	(void)state;
	static const struct {
		const char *code;
		enum severity sev;
	} want[] = {
		{ "mixed-group", SEV_ERROR },	     { "no-iommu", SEV_ERROR },
		{ "noiommu-mode", SEV_ERROR },	     { "override-pending", SEV_WARNING },
		{ "unsafe-interrupts", SEV_WARNING }, { "direct-mapped", SEV_WARNING },
		{ "boot-vga-user", SEV_WARNING },
	};
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		size_t n = 0;
		for (size_t j = 0; j < n_finding_codes; j++)
			if (strcmp(finding_codes[j].code, want[i].code) == 0) {
				n++;
				assert_int_equal(finding_codes[j].severity, want[i].sev);
				assert_non_null(finding_codes[j].description);
				assert_true(*finding_codes[j].description);
			}
		if (n != 1)
			fail_msg("code %s appears %zu times in finding_codes", want[i].code, n);
	}
	/* No code twice. */
	for (size_t i = 0; i < n_finding_codes; i++)
		for (size_t j = i + 1; j < n_finding_codes; j++)
			assert_string_not_equal(finding_codes[i].code, finding_codes[j].code);
}

static void test_severity_names(void **state)
{
	(void)state;
	assert_string_equal(severity_to_string(SEV_INFO), "info");
	assert_string_equal(severity_to_string(SEV_WARNING), "warning");
	assert_string_equal(severity_to_string(SEV_ERROR), "error");
	assert_string_equal(severity_to_string(_SEV_MAX), "unknown");
}

/* no-reset: a device on VFIO without reset_method (5.15+ hides it when there is none). */
static void test_no_reset(void **state)
{
	(void)state;
	struct system *sys = sys_new();
	loaded(sys, "vfio-pci");
	sys->kernel_major = 6;
	sys->kernel_minor = 1;
	struct group *g = group(sys, 3);
	struct device *d = device(sys, g, "0000:05:00.0", "vfio-pci");
	struct device *k = device(sys, group(sys, 4), "0000:06:00.0", "e1000e");
	free(d->reset_method);
	d->reset_method = NULL;
	free(k->reset_method);
	k->reset_method = NULL; /* on a kernel driver: no finding */
	struct findings f;
	audit(sys, &f);
	const struct finding *x = find_one(&f, "no-reset", g, false);
	assert_int_equal(x->severity, SEV_WARNING);
	assert_int_equal(x->devices.n, 1);
	assert_string_equal(x->devices.v[0], "0000:05:00.0");
	assert_int_equal(count_code(&f, "no-reset"), 1);
	findings_free(&f);
	/* Before 5.15 there is no reset_method at all: nothing can be said. */
	sys->kernel_major = 5;
	sys->kernel_minor = 10;
	audit(sys, &f);
	assert_int_equal(count_code(&f, "no-reset"), 0);
	findings_free(&f);
	model_free(sys);
}

/* acs-override: the command line has pcie_acs_override. */
static void test_acs_override(void **state)
{
	(void)state;
	struct system *sys = sys_new();
	device(sys, group(sys, 1), "0000:01:00.0", "e1000e");
	sys->cmdline = strdup("ro quiet intel_iommu=on pcie_acs_override=downstream,multifunction");
	struct findings f;
	audit(sys, &f);
	const struct finding *x = find_one(&f, "acs-override", NULL, false);
	assert_int_equal(x->severity, SEV_ERROR);
	assert_int_equal(f.count[SEV_ERROR], 1);
	findings_free(&f);
	free(sys->cmdline);
	sys->cmdline = strdup("ro quiet intel_iommu=on");
	audit(sys, &f);
	assert_int_equal(count_code(&f, "acs-override"), 0);
	findings_free(&f);
	model_free(sys);
}

static char *fake_why(void *ctx, const struct group *g)
{
	(void)g;
	return strdup(ctx);
}

/* shared-group: endpoints of different slots in one group, only with --all; bridges and functions of one slot do not count. */
static void test_shared_group(void **state)
{
	(void)state;
	struct system *sys = sys_new();
	struct group *gpu = group(sys, 1);
	device(sys, gpu, "0000:01:00.0", "nouveau");
	device(sys, gpu, "0000:01:00.1", "snd_hda_intel");
	struct group *shared = group(sys, 2);
	struct device *port = device(sys, shared, "0000:00:1c.0", "pcieport");
	port->class = 0x060400;
	port->header_type = 1;
	device(sys, shared, "0000:02:00.0", "nouveau");
	device(sys, shared, "0000:03:00.0", "xhci_hcd");
	struct findings f;
	memset(&f, 0, sizeof(f));
	model_judge(sys);
	struct audit_options o = { .all = true, .why_line = fake_why, .why_ctx = (void *)"port 0000:00:1c.0 has no ACS" };
	audit_run_with(sys, &o, &f);
	const struct finding *x = find_one(&f, "shared-group", shared, false);
	assert_int_equal(x->severity, SEV_INFO);
	assert_int_equal(x->devices.n, 2);
	assert_non_null(strstr(x->message, "port 0000:00:1c.0 has no ACS"));
	assert_int_equal(count_code(&f, "shared-group"), 1); /* not the GPU and its audio */
	assert_int_equal(f.count[SEV_INFO], 1);
	findings_free(&f);
	/* without --all: not shown */
	audit(sys, &f);
	assert_int_equal(count_code(&f, "shared-group"), 0);
	findings_free(&f);
	model_free(sys);
}

int main(void)
{
	/* The tests speak TAP (CMOCKA_MESSAGE_OUTPUT still overrides). */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_system),
		cmocka_unit_test(test_empty_system),
		cmocka_unit_test(test_mixed_group),
		cmocka_unit_test(test_no_iommu),
		cmocka_unit_test(test_no_iommu_needs_pci),
		cmocka_unit_test(test_noiommu_mode_param),
		cmocka_unit_test(test_noiommu_group),
		cmocka_unit_test(test_override_pending_bound),
		cmocka_unit_test(test_override_pending_unbound),
		cmocka_unit_test(test_override_pending_would_mix),
		cmocka_unit_test(test_override_pending_not_loaded),
		cmocka_unit_test(test_override_kernel_into_user_group),
		cmocka_unit_test(test_override_no_group),
		cmocka_unit_test(test_unsafe_interrupts),
		cmocka_unit_test(test_direct_mapped),
		cmocka_unit_test(test_boot_vga_user),
		cmocka_unit_test(test_unselected_groups),
		cmocka_unit_test(test_summary_counts),
		cmocka_unit_test(test_no_reset),
		cmocka_unit_test(test_acs_override),
		cmocka_unit_test(test_shared_group),
		cmocka_unit_test(test_code_table),
		cmocka_unit_test(test_severity_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
