// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>

#include "core/decl.h"
#include "core/preflight.h"
#include "os/drivers.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "os/resolve.h"

#define CONF_MAX (1 << 20)

static void decl_clear(struct decl *e)
{
	free(e->file);
	free(e->address);
	free(e->driver);
	strv_free(&e->members);
	strv_free(&e->force);
	free(e->owner);
	free(e->mode);
	memset(e, 0, sizeof(*e));
}

void decls_free(struct decls *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		decl_clear(&ds->v[i]);
	free(ds->v);
	strv_free(&ds->files);
	memset(ds, 0, sizeof(*ds));
}

struct decl *decls_find(const struct decls *ds, const char *address)
{
	for (size_t i = 0; i < ds->n; i++)
		if (streq(ds->v[i].address, address))
			return &ds->v[i];
	return NULL;
}

bool decls_pin_serial(const struct decls *ds)
{
	for (size_t i = 0; i < ds->n; i++)
		if (ds->v[i].has_serial && !ds->v[i].masked)
			return true;
	return false;
}

size_t decls_active(const struct decls *ds)
{
	size_t n = 0;
	for (size_t i = 0; i < ds->n; i++)
		n += !ds->v[i].masked;
	return n;
}

/* ---- parsing ---- */

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return strip(s);
}

/* "VVVV:DDDD", four hex digits each. */
static int parse_id(const char *v, uint16_t *a, uint16_t *b)
{
	unsigned long x, y;
	const char *colon = strchr(v, ':');
	if (!colon || colon - v != 4 || strlen(colon + 1) != 4 || parse_hex_n(v, 4, 0xffff, &x) < 0 ||
	    parse_hex_n(colon + 1, 4, 0xffff, &y) < 0)
		return -EINVAL;
	*a = (uint16_t)x;
	*b = (uint16_t)y;
	return 0;
}

/* "00-11-22-33-44-55-66-77", as lspci prints a Device Serial Number (most significant byte first). */
static int parse_serial(const char *v, uint64_t *ret)
{
	uint64_t s = 0;
	if (strlen(v) != 23)
		return -EINVAL;
	for (int i = 0; i < 8; i++) {
		unsigned long b;
		if ((i < 7 && v[i * 3 + 2] != '-') || parse_hex_n(v + i * 3, 2, 0xff, &b) < 0)
			return -EINVAL;
		s = s << 8 | b;
	}
	*ret = s;
	return 0;
}

static int parse_bool(const char *v, bool *ret)
{
	if (streq(v, "yes") || streq(v, "true") || streq(v, "1"))
		*ret = true;
	else if (streq(v, "no") || streq(v, "false") || streq(v, "0"))
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* A list of words separated by spaces or commas, each checked by ok. */
static int parse_list(char *v, struct strv *out, bool (*ok)(const char *, char **))
{
	char *save = NULL;
	for (char *w = strtok_r(v, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		char *canon = NULL;
		if (!ok(w, &canon))
			return -EINVAL;
		if (!strv_contains(out, canon))
			strv_push(out, canon);
		else
			free(canon);
	}
	return out->n ? 0 : -EINVAL;
}

static bool address_ok(const char *w, char **canon)
{
	struct pci_addr a;
	char buf[32];
	if (pci_addr_parse(w, &a) < 0)
		return false;
	pci_addr_format(&a, buf, sizeof(buf));
	*canon = xstrdup(buf);
	return true;
}

static bool force_ok(const char *w, char **canon)
{
	const struct refusal_code *rc = refusal_code_find(w);
	if (!rc || !rc->overridable)
		return false;
	*canon = xstrdup(w);
	return true;
}

/* USER[:GROUP] or :GROUP: account names (letters, digits, '.', '_', '-', a '$' last) or numbers. */
static bool account_ok(const char *s, size_t len)
{
	if (len == 0 || len > 32 || s[0] == '-')
		return false;
	for (size_t i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && !strchr("._-", s[i]) && !(s[i] == '$' && i == len - 1))
			return false;
	return true;
}

static bool owner_ok(const char *v)
{
	const char *colon = strchr(v, ':');
	size_t ulen = colon ? (size_t)(colon - v) : strlen(v);
	if (ulen && !account_ok(v, ulen))
		return false;
	if (!colon)
		return ulen > 0;
	return (colon[1] == '\0' && ulen) || account_ok(colon + 1, strlen(colon + 1));
}

struct parse {
	const char *file;
	unsigned lineno;
	struct decl cur;
	bool in_entry, has_id;
	struct strv seen;   /* keys of the current entry */
	struct strv here;   /* addresses declared in this file */
};

static int perr(const struct parse *p, const char *fmt, ...) _printf_(2, 3);
static int perr(const struct parse *p, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	_cleanup_free_ char *what = NULL;
	if (vasprintf(&what, fmt, ap) < 0)
		abort();
	va_end(ap);
	log_error("%s:%u: %s", p->file, p->lineno, what);
	return -EINVAL;
}

static int set_key(struct parse *p, const char *key, char *val)
{
	struct decl *e = &p->cur;
	if (strv_contains(&p->seen, key))
		return perr(p, "'%s' given twice in one entry", key);
	strv_push(&p->seen, xstrdup(key));
	if (streq(key, "id")) {
		if (parse_id(val, &e->vendor, &e->device) < 0)
			return perr(p, "id = %s: expected vendor:device, four hexadecimal digits each (10de:1b80)", val);
		p->has_id = true;
	} else if (streq(key, "subsystem")) {
		if (parse_id(val, &e->svendor, &e->sdevice) < 0)
			return perr(p, "subsystem = %s: expected vendor:device, four hexadecimal digits each", val);
		e->has_subsystem = true;
	} else if (streq(key, "serial")) {
		if (parse_serial(val, &e->serial) < 0)
			return perr(p, "serial = %s: expected 8 hexadecimal bytes as lspci prints a Device Serial Number "
				       "(00-11-22-33-44-55-66-77)", val);
		e->has_serial = e->serial != 0; /* zeroed, as snapshot --no-serial writes it: unknown */
	} else if (streq(key, "driver")) {
		const char *name = driver_vfio_pci_name(val);
		if (!name)
			return perr(p, "driver = %s: not a VFIO PCI driver (vfio-pci or a variant such as mlx5_vfio_pci)", val);
		free(e->driver);
		e->driver = xstrdup(name);
	} else if (streq(key, "members")) {
		if (parse_list(val, &e->members, address_ok) < 0)
			return perr(p, "members = %s: expected the PCI addresses of the group, separated by spaces", val);
	} else if (streq(key, "force")) {
		if (parse_list(val, &e->force, force_ok) < 0)
			return perr(p, "force = %s: expected refusal codes that can be overridden (boot-vga, mounted, "
				       "netdev-active, sriov-pf, chipset, vmd, host-in-use, vfs-bound, cannot-verify)", val);
	} else if (streq(key, "owner")) {
		if (!owner_ok(val))
			return perr(p, "owner = %s: expected USER, USER:GROUP or :GROUP (names or numbers)", val);
		e->owner = xstrdup(val);
	} else if (streq(key, "mode")) {
		unsigned long m;
		if (parse_ulong(val, 8, &m) < 0 || m > 0777)
			return perr(p, "mode = %s: expected octal permission bits (0660)", val);
		e->mode = xstrdup(val);
	} else if (streq(key, "vfs")) {
		if (parse_ulong(val, 10, &e->vfs) < 0 || e->vfs == 0 || e->vfs > 65535)
			return perr(p, "vfs = %s: expected the number of VFs the PF has, 1 to 65535", val);
	} else if (streq(key, "masked")) {
		if (parse_bool(val, &e->masked) < 0)
			return perr(p, "masked = %s: expected yes or no", val);
	} else {
		return perr(p, "unknown key '%s' (id, subsystem, serial, driver, members, force, vfs, owner, mode, masked)",
			    key);
	}
	return 0;
}

/* The entry ends: checked, then it replaces any earlier one for its address. */
static int finish_entry(struct parse *p, struct decls *out)
{
	if (!p->in_entry)
		return 0;
	struct decl *e = &p->cur;
	unsigned save = p->lineno;
	p->lineno = e->line;
	if (!p->has_id && !e->masked) {
		int r = perr(p, "[device %s] has no 'id = vendor:device': an entry pins what must be at the address",
			     e->address);
		p->lineno = save;
		return r;
	}
	p->lineno = save;
	if (!e->driver)
		e->driver = xstrdup("vfio-pci");
	if (e->members.n && !strv_contains(&e->members, e->address))
		strv_push(&e->members, xstrdup(e->address));
	struct decl *old = decls_find(out, e->address);
	if (old) {
		decl_clear(old);
		*old = *e;
	} else {
		out->v = grow_array(out->v, &out->cap, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = *e;
	}
	memset(e, 0, sizeof(*e));
	p->in_entry = p->has_id = false;
	strv_free(&p->seen);
	return 0;
}

static int parse_line(struct parse *p, char *line, struct decls *out)
{
	char *hash = strchr(line, '#');
	if (hash)
		*hash = '\0';
	line = trim(line);
	if (!*line)
		return 0;
	if (*line == '[') {
		int r = finish_entry(p, out);
		if (r < 0)
			return r;
		size_t len = strlen(line);
		char addr[64];
		if (line[len - 1] != ']' || sscanf(line, "[device %63[^] \t]]", addr) != 1)
			return perr(p, "%s: expected a section [device ADDRESS]", line);
		char *canon = NULL;
		if (!address_ok(addr, &canon))
			return perr(p, "[device %s]: not a PCI address (0000:01:00.0 or 01:00.0)", addr);
		if (strv_contains(&p->here, canon)) {
			free(canon);
			return perr(p, "[device %s] appears twice in this file", addr);
		}
		strv_push(&p->here, xstrdup(canon));
		p->cur = (struct decl){ .file = xstrdup(p->file), .line = p->lineno, .address = canon };
		p->in_entry = true;
		return 0;
	}
	char *eq = strchr(line, '=');
	if (!eq)
		return perr(p, "%s: expected 'key = value' or a section [device ADDRESS]", line);
	if (!p->in_entry)
		return perr(p, "%s: a key before any [device ADDRESS] section", line);
	*eq = '\0';
	char *key = trim(line), *val = trim(eq + 1);
	if (!*val)
		return perr(p, "'%s' has no value", key);
	return set_key(p, key, val);
}

/* Entries of a later file replace those of an earlier one, address by address. */
static void merge(struct decls *ds, struct decls *file)
{
	for (size_t i = 0; i < file->n; i++) {
		struct decl *old = decls_find(ds, file->v[i].address);
		if (old) {
			decl_clear(old);
			*old = file->v[i];
		} else {
			ds->v = grow_array(ds->v, &ds->cap, ds->n + 1, sizeof(*ds->v));
			ds->v[ds->n++] = file->v[i];
		}
	}
	free(file->v);
	memset(file, 0, sizeof(*file));
}

int decls_parse(struct decls *ds, const char *file, const char *text)
{
	/* Parsed on its own first: a file with an error changes nothing. */
	struct decls mine = { 0 };
	struct parse p = { .file = file };
	_cleanup_free_ char *buf = xstrdup(text);
	int r = 0;
	for (char *next = buf, *line; r == 0 && (line = strsep(&next, "\n"));) {
		p.lineno++;
		r = parse_line(&p, line, &mine);
	}
	if (r == 0)
		r = finish_entry(&p, &mine);
	if (p.in_entry)
		decl_clear(&p.cur);
	strv_free(&p.seen);
	strv_free(&p.here);
	if (r < 0) {
		decls_free(&mine);
		return r;
	}
	bool persisted = strncmp(text, DECL_PERSIST_HEADER, strlen(DECL_PERSIST_HEADER)) == 0;
	for (size_t i = 0; i < mine.n; i++)
		mine.v[i].persisted = persisted;
	merge(ds, &mine);
	strv_push(&ds->files, xstrdup(file));
	return 0;
}

/* ---- reading the files ---- */

static int load_one(const struct ka *ka, const char *rel, struct decls *ds, bool optional)
{
	_cleanup_free_ char *path = ka_path(ka, rel);
	_cleanup_free_ char *text = NULL;
	int r = ka_read_etc(ka, rel, CONF_MAX, &text);
	_cleanup_free_ char *target = NULL;
	if (r == -ENOENT && ka_readlink(ka, rel, &target) == 0) {
		/* A link to nothing is a mistake to name, not a file that is not there. */
		log_error("%s: a link to %s, which does not exist%s", path, target,
			  target[0] == '/' && !streq(ka_root(ka), "/") ? " beneath the root" : "");
		return -EINVAL;
	}
	if (r == -ENOENT && optional)
		return 0;
	if (r < 0) {
		log_error("%s: %s", path, ka_strerror(r));
		return -EINVAL;
	}
	return decls_parse(ds, path, text);
}

/* The drop-in an overlay adds, parsed where its name sorts (dir/name: for messages). */
static int load_added(const struct ka *ka, const char *dir, const struct decls_overlay *ov, struct decls *ds)
{
	_cleanup_free_ char *rel = xasprintf("%s/%s", dir, ov->add_name);
	_cleanup_free_ char *path = ka_path(ka, rel);
	return decls_parse(ds, path, ov->add_text);
}

int decls_load(const struct ka *ka, const char *conf_file, struct decls *ret)
{
	return conf_file ? decls_load_file(conf_file, ret) : decls_load_overlay(ka, NULL, ret);
}

int decls_load_file(const char *conf_file, struct decls *ret)
{
	memset(ret, 0, sizeof(*ret));
	_cleanup_free_ char *text = NULL;
	int r = res_read_user_file(conf_file, CONF_MAX, &text);
	if (r < 0) {
		log_error("%s: %s", conf_file, res_strerror(r));
		return -EINVAL;
	}
	return decls_parse(ret, conf_file, text);
}

int decls_load_overlay(const struct ka *ka, const struct decls_overlay *ov, struct decls *ret)
{
	memset(ret, 0, sizeof(*ret));
	bool added = !ov || !ov->add_name;
	_cleanup_free_ char *main_rel = xasprintf("%s/" LAY_CONF_FILE, LAY_CONF_DIR);
	int r = load_one(ka, main_rel, ret, true);
	if (r < 0)
		return r;
	_cleanup_free_ char *dir = xasprintf("%s/" LAY_CONF_DROPINS, LAY_CONF_DIR);
	struct ka_entry *e = NULL;
	size_t n = 0;
	r = ka_scan_etc(ka, dir, &e, &n); /* sorted by name, in byte order */
	_cleanup_free_ char *target = NULL;
	if (r == -ENOENT && ka_readlink(ka, dir, &target) == 0) {
		_cleanup_free_ char *p = ka_path(ka, dir);
		log_error("%s: a link to %s, which does not exist%s", p, target,
			  target[0] == '/' && !streq(ka_root(ka), "/") ? " beneath the root" : "");
		return -EINVAL;
	}
	if (r == -ENOENT)
		return added ? 0 : load_added(ka, dir, ov, ret);
	if (r < 0) {
		_cleanup_free_ char *p = ka_path(ka, dir);
		log_error("%s: %s", p, ka_strerror(r));
		return -EINVAL;
	}
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t len = strlen(e[i].name);
		if (len < 6 || !streq(e[i].name + len - 5, ".conf"))
			continue;
		int order = added ? -1 : strcmp(e[i].name, ov->add_name);
		if (order >= 0) { /* the added one comes here, in byte order; it replaces one of its name */
			added = true;
			if ((r = load_added(ka, dir, ov, ret)) < 0 || order == 0)
				continue;
		}
		if (ov && ov->skip && strv_contains(ov->skip, e[i].name))
			continue;
		_cleanup_free_ char *rel = xasprintf("%s/%s", dir, e[i].name);
		r = load_one(ka, rel, ret, false);
	}
	ka_entries_free(e, n);
	if (r == 0 && !added)
		r = load_added(ka, dir, ov, ret);
	return r;
}

/* ---- drop-ins of claim --persist ---- */

char *decl_persist_name(const char *address)
{
	return xasprintf("50-iommu-own-%s.conf", address);
}

char *decl_persist_text(const struct group *g, const char *driver, const struct device *named)
{
	struct strv members = { 0 };
	for (size_t i = 0; i < g->ndevices; i++)
		strv_push(&members, xstrdup(g->devices[i]->name));
	_cleanup_free_ char *list = strv_join(&members, " ");
	strv_free(&members);
	return xasprintf(DECL_PERSIST_HEADER "\n"
			 "# Group %lu as it was claimed; the whole group belongs to %s.\n"
			 "[device %s]\n"
			 "id = %04x:%04x\n"
			 "driver = %s\n"
			 "members = %s\n",
			 g->number, driver, named->name, named->vendor, named->device, driver, list);
}

/* ---- judging ---- */

static bool same_set(const struct strv *a, const struct group *g)
{
	if (a->n != g->ndevices)
		return false;
	for (size_t i = 0; i < g->ndevices; i++)
		if (!strv_contains(a, g->devices[i]->name))
			return false;
	return true;
}

static int read_id_attr(const struct ka *ka, const char *address, const char *attr, uint16_t *ret)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(address, attr);
	_cleanup_free_ char *v = NULL;
	unsigned long x;
	int r = rel ? ka_read(ka, rel, &v) : -EINVAL;
	if (r < 0)
		return r;
	if (parse_ulong(v, 16, &x) < 0 || x > 0xffff)
		return -EBADMSG;
	*ret = (uint16_t)x;
	return 0;
}

enum decl_state decl_judge(const struct ka *ka, const struct system *sys, struct pcidb *db, const struct decl *e,
			   char **why)
{
	struct pci_addr a;
	*why = NULL;
	const struct device *d = pci_addr_parse(e->address, &a) == 0 ? model_find_device(sys, &a) : NULL;
	if (!d) {
		*why = xasprintf("no device at %s (declared in %s:%u)", e->address, e->file, e->line);
		return DECL_MISSING;
	}
	if (!d->has_ids || d->vendor != e->vendor || d->device != e->device) {
		*why = xasprintf("%s is %04x:%04x, not %04x:%04x as declared in %s:%u: another card in the slot?",
				 e->address, d->vendor, d->device, e->vendor, e->device, e->file, e->line);
		return DECL_DRIFT;
	}
	if (e->has_subsystem) {
		uint16_t sv = 0, sd = 0;
		if (read_id_attr(ka, e->address, "subsystem_vendor", &sv) < 0 ||
		    read_id_attr(ka, e->address, "subsystem_device", &sd) < 0 || sv != e->svendor || sd != e->sdevice) {
			*why = xasprintf("%s has subsystem %04x:%04x, not %04x:%04x as declared in %s:%u", e->address, sv, sd,
					 e->svendor, e->sdevice, e->file, e->line);
			return DECL_DRIFT;
		}
	}
	if (e->has_serial && db) {
		uint64_t serial;
		/* A serial that cannot be read, or reads zero (a --no-serial snapshot), is unknown: not drift. */
		if (pcidb_serial(db, &d->addr, &serial) == 0 && serial != e->serial) {
			*why = xasprintf("%s has serial number %016llx, not %016llx as declared in %s:%u: another card "
					 "of the same model?",
					 e->address, (unsigned long long)serial, (unsigned long long)e->serial, e->file, e->line);
			return DECL_DRIFT;
		}
	}
	if (!d->group) {
		*why = xasprintf("%s is in no IOMMU group (is the IOMMU on?)", e->address);
		return DECL_DRIFT;
	}
	if (e->members.n && !same_set(&e->members, d->group)) {
		struct strv now = { 0 };
		for (size_t i = 0; i < d->group->ndevices; i++)
			strv_push(&now, xstrdup(d->group->devices[i]->name));
		_cleanup_free_ char *was = strv_join(&e->members, " "), *is = strv_join(&now, " ");
		strv_free(&now);
		*why = xasprintf("the group of %s is %s now, not %s as declared in %s:%u (a kernel or firmware update "
				 "changed the groups?)",
				 e->address, is, was, e->file, e->line);
		return DECL_DRIFT;
	}
	return DECL_OK;
}

/* ---- other mechanisms ---- */

static bool sets_vfio_ids(const char *text)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchrnul(p, '\n');
		_cleanup_free_ char *line = xstrndup(p, (size_t)(eol - p));
		char mod[64];
		int used = 0;
		/* options vfio-pci ids=... (modprobe.d(5); '-' and '_' are one in module names) */
		if (sscanf(line, " options %63s %n", mod, &used) == 1 && driver_name_eq(mod, "vfio_pci") &&
		    strstr(line + used, "ids="))
			return true;
		p = *eol ? eol + 1 : eol;
	}
	return false;
}

char *decl_vfio_ids_source(const struct ka *ka, const struct system *sys)
{
	if (sys->cmdline && (strstr(sys->cmdline, "vfio-pci.ids=") || strstr(sys->cmdline, "vfio_pci.ids=")))
		return xstrdup("the kernel command line");
	for (size_t d = 0; lay_modprobe_dirs[d]; d++) {
		struct ka_entry *e = NULL;
		size_t n = 0;
		if (ka_scan_etc(ka, lay_modprobe_dirs[d], &e, &n) < 0)
			continue;
		char *found = NULL;
		for (size_t i = 0; i < n && !found; i++) {
			_cleanup_free_ char *rel = xasprintf("%s/%s", lay_modprobe_dirs[d], e[i].name);
			_cleanup_free_ char *text = NULL;
			size_t len = strlen(e[i].name);
			if (len > 5 && streq(e[i].name + len - 5, ".conf") && ka_read_etc(ka, rel, CONF_MAX, &text) == 0 &&
			    sets_vfio_ids(text))
				found = ka_path(ka, rel);
		}
		ka_entries_free(e, n);
		if (found)
			return found;
	}
	return NULL;
}

char *decl_driverctl_override(const struct ka *ka, const char *address)
{
	_cleanup_free_ char *rel = xasprintf(LAY_DRIVERCTL_DIR "/pci-%s", address);
	char *driver = NULL;
	if (!path_component_ok(address) || ka_read_etc(ka, rel, 4096, &driver) < 0)
		return NULL;
	return driver;
}

char *decl_builtin_driver(struct ka *ka, const char *address)
{
	_cleanup_free_ char *rel = lay_pci_device_attr(address, "modalias");
	_cleanup_free_ char *alias = NULL;
	struct strv mods = { 0 };
	char *found = NULL;
	if (rel && ka_read(ka, rel, &alias) == 0 && ka_modalias_modules(ka, alias, &mods) == 0)
		for (size_t i = 0; i < mods.n && !found; i++)
			if (driver_role(mods.v[i], false) != ROLE_USER && ka_module_builtin(ka, mods.v[i]))
				found = xstrdup(mods.v[i]);
	strv_free(&mods);
	return found;
}
