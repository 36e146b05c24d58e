// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>

#include "core/model.h"
#include "os/layout.h"
#include "os/pcidb.h"

static const char *const state_names[_GROUP_STATE_MAX] = {
	[GROUP_FREE] = "free",
	[GROUP_KERNEL] = "kernel",
	[GROUP_USER] = "user",
	[GROUP_MIXED] = "mixed",
	[GROUP_NOIOMMU] = "noiommu",
};

const char *group_state_to_string(enum group_state s)
{
	return s < _GROUP_STATE_MAX ? state_names[s] : "unknown";
}

/* Print "iommu-own: <sysroot>/<dir>/<name>: <why>" and pass the error on. */
static int read_error(const struct ka *ka, const char *dir, const char *name, int err, const char *why)
{
	_cleanup_free_ char *rel = name ? xasprintf("%s/%s", dir, name) : xstrdup(dir);
	_cleanup_free_ char *path = ka_path(ka, rel);
	log_error("%s: %s", path, why ? why : ka_strerror(err));
	return err;
}

static void device_free(struct device *d)
{
	if (!d)
		return;
	free(d->name);
	free(d->driver);
	free(d->driver_override);
	free(d->reset_method);
	strv_free(&d->cdevs);
	free(d);
}

static void group_free(struct group *g)
{
	if (!g)
		return;
	for (size_t i = 0; i < g->nregions; i++)
		free(g->regions[i].type);
	free(g->regions);
	free(g->devices);
	free(g->type);
	free(g->name);
	free(g);
}

void model_free(struct system *sys)
{
	if (!sys)
		return;
	for (size_t i = 0; i < sys->ndevices; i++)
		device_free(sys->devices[i]);
	free(sys->devices);
	for (size_t i = 0; i < sys->ngroups; i++)
		group_free(sys->groups[i]);
	free(sys->groups);
	free(sys->cmdline);
	strv_free(&sys->pci_drivers);
	free(sys);
}

static int device_cmp(const void *a, const void *b)
{
	const struct device *x = *(const struct device *const *)a, *y = *(const struct device *const *)b;
	if (x->is_pci != y->is_pci)
		return x->is_pci ? -1 : 1;
	if (x->is_pci)
		return pci_addr_cmp(&x->addr, &y->addr);
	return strcmp(x->name, y->name);
}

static int group_cmp(const void *a, const void *b)
{
	const struct group *x = *(const struct group *const *)a, *y = *(const struct group *const *)b;
	return x->number < y->number ? -1 : x->number > y->number;
}

/* Binary search in the first n devices, which are sorted (PCI devices first). */
static struct device *find_device_in(struct device *const *devices, size_t n, const struct pci_addr *addr)
{
	size_t lo = 0, hi = n;
	/* PCI devices come first and are sorted; non-PCI ones compare greater. */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		struct device *d = devices[mid];
		int c = d->is_pci ? pci_addr_cmp(&d->addr, addr) : 1;
		if (c == 0)
			return d;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static struct device *add_device(struct system *sys, const char *name)
{
	struct device *d = xcalloc(1, sizeof(*d));
	d->name = xstrdup(name);
	d->boot_vga = -1;
	d->header_type = -1;
	sys->devices = grow_array(sys->devices, &sys->devcap, sys->ndevices + 1, sizeof(*sys->devices));
	sys->devices[sys->ndevices++] = d;
	return d;
}

static void group_add_device(struct group *g, struct device *d)
{
	g->devices = grow_array(g->devices, &g->cap, g->ndevices + 1, sizeof(*g->devices));
	g->devices[g->ndevices++] = d;
	d->group = g;
}

/* Parse "0x8086" style attributes: at most max. */
static int read_hex_attr(const struct ka *ka, int dfd, const char *dir, const char *name,
			 unsigned long max, unsigned long *ret)
{
	_cleanup_free_ char *v = NULL;
	int r = ka_read_at(dfd, name, &v);
	if (r < 0)
		return read_error(ka, dir, name, r, NULL);
	if (parse_ulong(v, 16, ret) < 0 || *ret > max)
		return read_error(ka, dir, name, -EBADMSG, "garbage: expected a hexadecimal number");
	return 0;
}

int model_parse_pci_uevent(const char *text, uint16_t *vendor, uint16_t *device, uint32_t *class)
{
	bool have_id = false, have_class = false;
	unsigned long ven = 0, dev = 0, cls = 0;
	for (const char *line = text; *line;) {
		const char *end = strchrnul(line, '\n');
		size_t len = (size_t)(end - line);
		if (len > 7 && strncmp(line, "PCI_ID=", 7) == 0) {
			const char *v = line + 7, *colon = memchr(v, ':', (size_t)(end - v));
			if (have_id || !colon || parse_hex_n(v, (size_t)(colon - v), 0xffff, &ven) < 0 ||
			    parse_hex_n(colon + 1, (size_t)(end - colon - 1), 0xffff, &dev) < 0)
				return -EBADMSG;
			have_id = true;
		} else if (len >= 10 && strncmp(line, "PCI_CLASS=", 10) == 0) {
			if (have_class || parse_hex_n(line + 10, len - 10, 0xffffff, &cls) < 0)
				return -EBADMSG;
			have_class = true;
		} else if (len == 7 && strncmp(line, "PCI_ID=", 7) == 0) {
			return -EBADMSG;
		}
		line = *end ? end + 1 : end;
	}
	if (!have_id && !have_class)
		return -ENODATA;
	if (!have_id || !have_class)
		return -EBADMSG;
	*vendor = (uint16_t)ven;
	*device = (uint16_t)dev;
	*class = (uint32_t)cls;
	return 0;
}

/*
 * A PCI device's vendor, device and class from its uevent (what pci_uevent()
 * prints: PCI_ID=VVVV:DDDD, PCI_CLASS=CCCCCC): one file read instead of three.
 * 1 when the tree has no such uevent (a capture without it): read the
 * attributes instead.
 */
static int read_uevent_ids(const struct ka *ka, int dfd, const char *dir, struct device *d)
{
	_cleanup_free_ char *v = NULL;
	int r = ka_read_at(dfd, "uevent", &v);
	if (r == -ENOENT)
		return 1;
	if (r < 0)
		return read_error(ka, dir, "uevent", r, NULL);
	r = model_parse_pci_uevent(v, &d->vendor, &d->device, &d->class);
	if (r == -ENODATA)
		return 1;
	if (r < 0)
		return read_error(ka, dir, "uevent", r,
				  "garbage: expected PCI_ID=VVVV:DDDD and PCI_CLASS=CCCCCC lines");
	d->has_ids = d->has_class = true;
	return 0;
}

/* Y/N (or 1/0) module parameters; absent when the module is not loaded. */
static int read_param(const struct ka *ka, const char *rel, enum param *ret)
{
	_cleanup_free_ char *v = NULL;
	int r = ka_read(ka, rel, &v);
	if (r == -ENOENT) {
		*ret = PARAM_ABSENT;
		return 0;
	}
	if (r < 0)
		return read_error(ka, rel, NULL, r, NULL);
	if (streq(v, "Y") || streq(v, "1"))
		*ret = PARAM_ON;
	else if (streq(v, "N") || streq(v, "0"))
		*ret = PARAM_OFF;
	else
		return read_error(ka, rel, NULL, -EBADMSG, "garbage: expected Y or N");
	return 0;
}


static int load_params(const struct ka *ka, struct system *sys)
{
	int r = read_param(ka, LAY_PARAM_NOIOMMU, &sys->noiommu_mode);
	if (r < 0)
		return r;
	r = read_param(ka, LAY_PARAM_UNSAFE_INTERRUPTS, &sys->unsafe_interrupts);
	if (r < 0)
		return r;
	r = ka_read(ka, LAY_CMDLINE, &sys->cmdline);
	if (r < 0 && r != -ENOENT)
		return read_error(ka, LAY_CMDLINE, NULL, r, NULL);
	_cleanup_free_ char *release = NULL;
	r = ka_read(ka, LAY_OSRELEASE, &release);
	if (r < 0 && r != -ENOENT)
		return read_error(ka, LAY_OSRELEASE, NULL, r, NULL);
	if (release && sscanf(release, "%u.%u", &sys->kernel_major, &sys->kernel_minor) != 2)
		sys->kernel_major = sys->kernel_minor = 0;
	r = ka_list_dir(ka, LAY_PCI_DRIVERS, &sys->pci_drivers);
	if (r < 0 && r != -ENOENT)
		return read_error(ka, LAY_PCI_DRIVERS, NULL, r, NULL);
	return 0;
}

/* What one model_load() learns as it goes: which drivers create vfio-dev/. */
struct load_ctx {
	struct strv vfio_drivers, plain_drivers;
};

static void load_ctx_free(struct load_ctx *lc)
{
	strv_free(&lc->vfio_drivers);
	strv_free(&lc->plain_drivers);
}

static int load_device(const struct ka *ka, struct load_ctx *lc, struct device *d, const char *dir, unsigned flags)
{
	_cleanup_close_ int dfd = -1;
	int r = ka_open_dir(ka, dir, &dfd);
	if (r < 0)
		return read_error(ka, dir, NULL, r, NULL);

	r = ka_link_base_at(dfd, "driver", &d->driver);
	if (r < 0 && r != -ENOENT)
		return read_error(ka, dir, "driver", r, NULL);

	/* vfio-dev/ comes from the driver's VFIO core: one look per driver name is enough. */
	if (d->driver && !driver_known(d->driver)) {
		if (strv_contains(&lc->vfio_drivers, d->driver))
			d->vfio_dev = true;
		else if (!strv_contains(&lc->plain_drivers, d->driver)) {
			d->vfio_dev = ka_exists_at(dfd, "vfio-dev");
			strv_push(d->vfio_dev ? &lc->vfio_drivers : &lc->plain_drivers, xstrdup(d->driver));
		}
	}

	if ((flags & MODEL_IDS) && d->is_pci && (r = read_uevent_ids(ka, dfd, dir, d)) != 0) {
		if (r < 0)
			return r;
		unsigned long v;
		if ((r = read_hex_attr(ka, dfd, dir, "vendor", 0xffff, &v)) < 0)
			return r;
		d->vendor = (uint16_t)v;
		if ((r = read_hex_attr(ka, dfd, dir, "device", 0xffff, &v)) < 0)
			return r;
		d->device = (uint16_t)v;
		d->has_ids = true;
	}
	/* The class alone is one small attribute: cheaper than the uevent. */
	if ((flags & (MODEL_IDS | MODEL_CLASS)) && d->is_pci && !d->has_class) {
		unsigned long v;
		if ((r = read_hex_attr(ka, dfd, dir, "class", 0xffffff, &v)) < 0)
			return r;
		d->class = (uint32_t)v;
		d->has_class = true;
	}

	if ((flags & MODEL_OVERRIDE) && d->is_pci) {
		_cleanup_free_ char *v = NULL;
		r = ka_read_at(dfd, "driver_override", &v);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "driver_override", r, NULL);
		d->has_override_attr = r == 0;
		d->driver_override = lay_override_decode(v);
	}

	if ((flags & MODEL_BOOT_VGA) && d->has_class && (d->class >> 8) == 0x0300) {
		_cleanup_free_ char *v = NULL;
		r = ka_read_at(dfd, "boot_vga", &v);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "boot_vga", r, NULL);
		if (v) {
			if (!streq(v, "0") && !streq(v, "1"))
				return read_error(ka, dir, "boot_vga", -EBADMSG, "garbage: expected 0 or 1");
			d->boot_vga = v[0] == '1';
		}
	}

	/*
	 * Through the open directory: the consumer's nodes, without walking the
	 * device's path again per group. A vfio-dev that is not a plain directory
	 * is left to consumer_read(), which looks at it as it always did.
	 */
	if ((flags & MODEL_CDEVS) && d->is_pci && driver_role(d->driver, d->vfio_dev) == ROLE_USER) {
		_cleanup_close_ int vfd = ka_open_subdir(dfd, "vfio-dev", O_RDONLY);
		r = vfd < 0 ? vfd : ka_list_fd(vfd, &d->cdevs);
		d->has_cdevs = r == 0 || r == -ENOENT;
		if (!d->has_cdevs)
			strv_free(&d->cdevs);
	}

	bool want_reset = (flags & MODEL_RESET) ||
			  ((flags & MODEL_RESET_USER) && driver_role(d->driver, d->vfio_dev) == ROLE_USER);
	if (want_reset && d->is_pci) {
		_cleanup_free_ char *v = NULL;
		r = ka_read_at(dfd, "reset_method", &v);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "reset_method", r, NULL);
		if (v && *v)
			d->reset_method = TAKE_PTR(v);
	}
	return 0;
}

static int parse_regions(const struct ka *ka, const char *dir, char *text, struct group *g)
{
	size_t cap = 0;
	char *save = NULL;
	for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char type[32];
		uint64_t start, end;
		int used = 0;
		if (sscanf(line, "%" SCNx64 " %" SCNx64 " %31s %n", &start, &end, type, &used) != 3 ||
		    line[used] != '\0' || end < start)
			return read_error(ka, dir, "reserved_regions", -EBADMSG,
					  "garbage: expected lines '0xSTART 0xEND TYPE'");
		g->regions = grow_array(g->regions, &cap, g->nregions + 1, sizeof(*g->regions));
		g->regions[g->nregions++] = (struct region){ start, end, xstrdup(type) };
	}
	return 0;
}

static bool is_group_number(const char *s, unsigned long *n)
{
	for (const char *p = s; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return parse_ulong(s, 10, n) == 0;
}

static int load_pci_devices(const struct ka *ka, struct system *sys)
{
	struct strv names = { 0 };
	int r = ka_list_dir(ka, LAY_PCI_DEVICES, &names);
	if (r == -ENOENT)
		return 0; /* no PCI bus at all */
	if (r < 0) {
		strv_free(&names);
		return read_error(ka, LAY_PCI_DEVICES, NULL, r, NULL);
	}
	for (size_t i = 0; i < names.n; i++) {
		struct pci_addr a;
		if (pci_addr_parse(names.v[i], &a) < 0) {
			_cleanup_free_ char *p = ka_path(ka, LAY_PCI_DEVICES);
			log_error("%s: '%s' is not a PCI address", p, names.v[i]);
			strv_free(&names);
			return -EBADMSG;
		}
		struct device *d = add_device(sys, names.v[i]);
		d->is_pci = true;
		d->addr = a;
	}
	strv_free(&names);
	sort_array(sys->devices, sys->ndevices, sizeof(*sys->devices), device_cmp);
	return 0;
}

static int load_group(const struct ka *ka, struct system *sys, struct load_ctx *lc, size_t npci, int groupsfd,
		      struct group *g, unsigned flags)
{
	_cleanup_free_ char *dir = lay_group(g->number);
	_cleanup_free_ char *devdir = lay_group_attr(g->number, "devices");
	/* Paths below the groups directory hold no links: no need to open each level. */
	const char *devrel = devdir + strlen(LAY_IOMMU_GROUPS) + 1;
	char attr[64];
	struct strv names = { 0 };
	int r = ka_list_under(groupsfd, devrel, &names);
	if (r < 0 && r != -ENOENT) {
		strv_free(&names);
		return read_error(ka, devdir, NULL, r, NULL);
	}
	r = 0;
	for (size_t i = 0; i < names.n && r >= 0; i++) {
		struct pci_addr a;
		struct device *d = NULL;
		if (pci_addr_parse(names.v[i], &a) == 0)
			d = find_device_in(sys->devices, npci, &a);
		if (!d) {
			/* Not on the PCI bus, or missing from a partial capture's bus/pci/devices: it counts too. */
			d = add_device(sys, names.v[i]);
			d->is_pci = pci_addr_parse(names.v[i], &d->addr) == 0;
			_cleanup_free_ char *path = xasprintf("%s/%s", devdir, names.v[i]);
			r = load_device(ka, lc, d, path, flags);
		}
		if (r >= 0 && d->group) {
			_cleanup_free_ char *p = ka_path(ka, devdir);
			log_error("%s: device %s is also in group %lu", p, d->name, d->group->number);
			r = -EINVAL;
		}
		if (r >= 0)
			group_add_device(g, d);
	}
	strv_free(&names);
	if (r < 0)
		return r;

	/* Only VFIO's no-IOMMU mode names groups (vfio-noiommu): look only when it is on. */
	if (sys->noiommu_mode == PARAM_ON) {
		snprintf(attr, sizeof(attr), "%lu/name", g->number);
		r = ka_read_under(groupsfd, attr, &g->name);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "name", r, NULL);
		if (g->name && !*g->name) {
			free(g->name);
			g->name = NULL;
		}
	}

	if (flags & MODEL_TYPE) {
		snprintf(attr, sizeof(attr), "%lu/type", g->number);
		r = ka_read_under(groupsfd, attr, &g->type);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "type", r, NULL);
	}

	if (flags & MODEL_REGIONS) {
		_cleanup_free_ char *text = NULL;
		snprintf(attr, sizeof(attr), "%lu/reserved_regions", g->number);
		r = ka_read_under(groupsfd, attr, &text);
		if (r < 0 && r != -ENOENT)
			return read_error(ka, dir, "reserved_regions", r, NULL);
		if (text && (r = parse_regions(ka, dir, text, g)) < 0)
			return r;
	}
	return 0;
}

static int load_groups(const struct ka *ka, struct system *sys, struct load_ctx *lc, unsigned flags)
{
	size_t npci = sys->ndevices; /* sorted; devices found only through groups are appended */
	static const char groups_dir[] = LAY_IOMMU_GROUPS;
	_cleanup_close_ int gsfd = -1;
	int r = ka_open_dir(ka, groups_dir, &gsfd);
	if (r == -ENOENT)
		return 0;
	struct strv names = { 0 };
	if (r >= 0) {
		_cleanup_close_ int lfd = ka_open_subdir(gsfd, ".", O_RDONLY);
		r = lfd < 0 ? lfd : ka_list_fd(lfd, &names);
	}
	if (r < 0) {
		strv_free(&names);
		return read_error(ka, groups_dir, NULL, r, NULL);
	}
	sys->has_groups_dir = true;
	for (size_t i = 0; i < names.n; i++) {
		unsigned long n;
		if (!is_group_number(names.v[i], &n)) {
			_cleanup_free_ char *p = ka_path(ka, groups_dir);
			log_error("%s: '%s' is not a group number", p, names.v[i]);
			strv_free(&names);
			return -EBADMSG;
		}
		struct group *g = xcalloc(1, sizeof(*g));
		g->number = n;
		sys->groups = grow_array(sys->groups, &sys->groupcap, sys->ngroups + 1, sizeof(*sys->groups));
		sys->groups[sys->ngroups++] = g;
	}
	strv_free(&names);
	sort_array(sys->groups, sys->ngroups, sizeof(*sys->groups), group_cmp);
	for (size_t i = 0; i < sys->ngroups; i++)
		if ((r = load_group(ka, sys, lc, npci, gsfd, sys->groups[i], flags)) < 0)
			return r;
	return 0;
}

int model_load(const struct ka *ka, unsigned flags, struct system **ret)
{
	_cleanup_(model_freep) struct system *sys = xcalloc(1, sizeof(*sys));
	sys->loaded = flags;
	sys->noiommu_mode = sys->unsafe_interrupts = PARAM_ABSENT;
	int r;

	_cleanup_(load_ctx_free) struct load_ctx lc = { 0 };
	if (flags & MODEL_PARAMS)
		r = load_params(ka, sys);
	else /* always: it says whether groups can have names (vfio-noiommu) */
		r = read_param(ka, LAY_PARAM_NOIOMMU, &sys->noiommu_mode);
	if (r < 0)
		return r;
	if ((r = load_pci_devices(ka, sys)) < 0)
		return r;
	size_t npci = sys->ndevices;
	if ((r = load_groups(ka, sys, &lc, flags)) < 0)
		return r;

	for (size_t i = 0; i < npci; i++) {
		struct device *d = sys->devices[i];
		_cleanup_free_ char *dir = lay_pci_device(d->name);
		if ((r = load_device(ka, &lc, d, dir, flags)) < 0)
			return r;
	}
	/* Group members found only through their group were appended: sort again (PCI first). */
	if (sys->ndevices > npci)
		sort_array(sys->devices, sys->ndevices, sizeof(*sys->devices), device_cmp);
	for (size_t i = 0; i < sys->ngroups; i++) {
		struct group *g = sys->groups[i];
		sort_array(g->devices, g->ndevices, sizeof(*g->devices), device_cmp);
	}

	model_judge(sys);
	*ret = TAKE_PTR(sys);
	return 0;
}

void group_judge(struct group *g)
{
	size_t kernel = 0, user = 0;
	for (size_t i = 0; i < g->ndevices; i++) {
		struct device *d = g->devices[i];
		d->role = driver_role(d->driver, d->vfio_dev);
		kernel += d->role == ROLE_KERNEL;
		user += d->role == ROLE_USER;
	}
	/* VFIO_GROUP_GET_STATUS (5.19+): viable when no device uses the kernel DMA API. */
	g->viable = kernel == 0;
	if (g->name && streq(g->name, "vfio-noiommu"))
		g->state = GROUP_NOIOMMU;
	else if (kernel && user)
		g->state = GROUP_MIXED;
	else if (kernel)
		g->state = GROUP_KERNEL;
	else if (user)
		g->state = GROUP_USER;
	else
		g->state = GROUP_FREE;
}

void model_judge(struct system *sys)
{
	for (size_t i = 0; i < sys->ndevices; i++) {
		struct device *d = sys->devices[i];
		d->role = driver_role(d->driver, d->vfio_dev);
	}
	for (size_t i = 0; i < sys->ngroups; i++)
		group_judge(sys->groups[i]);
}

struct group *model_find_group(const struct system *sys, unsigned long number)
{
	size_t lo = 0, hi = sys->ngroups;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		unsigned long n = sys->groups[mid]->number;
		if (n == number)
			return sys->groups[mid];
		if (n < number)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

struct device *model_find_device(const struct system *sys, const struct pci_addr *addr)
{
	return find_device_in(sys->devices, sys->ndevices, addr);
}

int model_select(struct system *sys, int argc, char **argv)
{
	bool all = argc == 0;
	for (size_t i = 0; i < sys->ndevices; i++)
		sys->devices[i]->selected = all;
	for (size_t i = 0; i < sys->ngroups; i++)
		sys->groups[i]->selected = all;

	for (int i = 0; i < argc; i++) {
		unsigned long n;
		struct pci_addr a;
		if (is_group_number(argv[i], &n)) {
			struct group *g = model_find_group(sys, n);
			if (!g) {
				log_error("no IOMMU group %s", argv[i]);
				return -ENOENT;
			}
			g->selected = true;
			for (size_t j = 0; j < g->ndevices; j++)
				g->devices[j]->selected = true;
		} else if (pci_addr_parse(argv[i], &a) == 0) {
			struct device *d = model_find_device(sys, &a);
			if (!d) {
				char buf[32];
				pci_addr_format(&a, buf, sizeof(buf));
				log_error("no PCI device %s", buf);
				return -ENOENT;
			}
			d->selected = true;
			if (d->group)
				d->group->selected = true;
		} else {
			log_error("'%s' is neither an IOMMU group number nor a PCI address "
				  "(expected N, DDDD:BB:DD.F or BB:DD.F)", argv[i]);
			return -EINVAL;
		}
	}
	return 0;
}

bool group_direct_mapped(const struct group *g)
{
	for (size_t i = 0; i < g->nregions; i++)
		if (streq(g->regions[i].type, "direct"))
			return true;
	return false;
}

int model_read_config(struct system *sys, const struct ka *ka, struct pcidb *db)
{
	for (size_t i = 0; i < sys->ndevices; i++) {
		struct device *d = sys->devices[i];
		if (!d->selected || !d->is_pci)
			continue;
		_cleanup_free_ char *dir = lay_pci_device(d->name);
		_cleanup_close_ int dfd = -1;
		int r = ka_open_dir(ka, dir, &dfd);
		if (r < 0)
			return read_error(ka, dir, NULL, r, NULL);
		/* libpci follows links: only hand it a plain file inside the sysroot. */
		if (!ka_is_regular_at(dfd, "config"))
			continue;
		unsigned char hdr[64];
		if (pcidb_read_config(db, &d->addr, 0, hdr, sizeof(hdr)) < 0)
			continue;
		d->header_type = hdr[0x0e] & 0x7f;
	}
	return 0;
}

int model_read_binding(const struct ka *ka, const char *address, struct binding *ret)
{
	memset(ret, 0, sizeof(*ret));
	_cleanup_free_ char *dir = lay_pci_device(address);
	_cleanup_close_ int dfd = -1;
	int r = dir ? ka_open_dir(ka, dir, &dfd) : -EINVAL;
	if (r < 0)
		return r;
	r = ka_link_base_at(dfd, "driver", &ret->driver);
	if (r < 0 && r != -ENOENT)
		return r;
	_cleanup_free_ char *v = NULL;
	r = ka_read_at(dfd, "driver_override", &v);
	if (r < 0 && r != -ENOENT) {
		binding_clear(ret);
		return r;
	}
	ret->override = lay_override_decode(v);
	return 0;
}

void binding_clear(struct binding *b)
{
	free(b->driver);
	free(b->override);
	b->driver = b->override = NULL;
}

bool binding_eq(const struct binding *a, const struct binding *b)
{
	return str_eq_null(a->driver, b->driver) && str_eq_null(a->override, b->override);
}

int model_load_group(const struct ka *ka, unsigned flags, const char *target, struct system **ret)
{
	_cleanup_(model_freep) struct system *sys = xcalloc(1, sizeof(*sys));
	_cleanup_(load_ctx_free) struct load_ctx lc = { 0 };
	sys->loaded = flags;
	sys->noiommu_mode = sys->unsafe_interrupts = PARAM_ABSENT;
	int r = (flags & MODEL_PARAMS) ? load_params(ka, sys) : read_param(ka, LAY_PARAM_NOIOMMU, &sys->noiommu_mode);
	if (r < 0)
		return r;

	unsigned long number;
	struct pci_addr a;
	if (is_group_number(target, &number)) {
		/* number set */
	} else if (pci_addr_parse(target, &a) == 0) {
		char name[32];
		pci_addr_format(&a, name, sizeof(name));
		_cleanup_free_ char *dir = lay_pci_device(name);
		_cleanup_close_ int dfd = -1;
		_cleanup_free_ char *group = NULL;
		if ((r = ka_open_dir(ka, dir, &dfd)) < 0) {
			if (r == -ENOENT) {
				log_error("no PCI device %s", name);
				return -ENOENT;
			}
			return read_error(ka, dir, NULL, r, NULL);
		}
		r = ka_link_base_at(dfd, "iommu_group", &group);
		if (r == -ENOENT) {
			log_error("%s is in no IOMMU group (is the IOMMU on?): it cannot be given to VFIO safely", name);
			return -ENXIO;
		}
		if (r < 0 || !is_group_number(group, &number))
			return read_error(ka, dir, "iommu_group", r < 0 ? r : -EBADMSG, NULL);
	} else {
		log_error("'%s' is neither an IOMMU group number nor a PCI address "
			  "(expected N, DDDD:BB:DD.F or BB:DD.F)", target);
		return -EINVAL;
	}

	_cleanup_close_ int gsfd = -1;
	r = ka_open_dir(ka, LAY_IOMMU_GROUPS, &gsfd);
	char num[32];
	snprintf(num, sizeof(num), "%lu", number);
	_cleanup_close_ int gfd = r < 0 ? r : ka_open_subdir(gsfd, num, O_PATH);
	if (gfd < 0) {
		if (gfd == -ENOENT || gfd == -ENOTDIR) {
			log_error("no IOMMU group %s", num);
			return -ENOENT;
		}
		return read_error(ka, LAY_IOMMU_GROUPS, num, gfd, NULL);
	}
	sys->has_groups_dir = true;
	struct group *g = xcalloc(1, sizeof(*g));
	g->number = number;
	g->selected = true;
	sys->groups = grow_array(sys->groups, &sys->groupcap, 1, sizeof(*sys->groups));
	sys->groups[sys->ngroups++] = g;
	if ((r = load_group(ka, sys, &lc, 0, gsfd, g, flags)) < 0)
		return r;
	sort_array(sys->devices, sys->ndevices, sizeof(*sys->devices), device_cmp);
	sort_array(g->devices, g->ndevices, sizeof(*g->devices), device_cmp);
	for (size_t i = 0; i < sys->ndevices; i++)
		sys->devices[i]->selected = true;
	model_judge(sys);
	*ret = TAKE_PTR(sys);
	return 0;
}

bool device_is_bridge(const struct device *d)
{
	if (d->header_type >= 0)
		return d->header_type != 0;
	if (!d->has_class)
		return false;
	uint32_t sub = d->class >> 8;
	return sub == 0x0604 || sub == 0x0609 || sub == 0x0607;
}
