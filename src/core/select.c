// SPDX-License-Identifier: GPL-2.0-or-later
/* Selectors (core/select.h). */
#include "config.h"

#include <errno.h>
#include <string.h>

#include "core/record.h"
#include "core/select.h"
#include "os/layout.h"

bool selectors_any(const struct selectors *s)
{
	return s->slots.n || s->ids.n || s->classes.n || s->netdevs.n || s->blockdevs.n;
}

bool selectors_need_ids(const struct selectors *s)
{
	return s->ids.n || s->classes.n;
}

void selectors_free(struct selectors *s)
{
	strv_free(&s->slots);
	strv_free(&s->ids);
	strv_free(&s->classes);
	strv_free(&s->netdevs);
	strv_free(&s->blockdevs);
}

/* ---- --slot [[domain:]bus:][slot][.func], as lspci -s: an empty or "*" field matches any ---- */

struct slot {
	long domain, bus, dev, fn; /* -1: any */
};

static int field(const char *s, size_t len, unsigned long max, long *out)
{
	if (len == 0 || (len == 1 && s[0] == '*')) {
		*out = -1;
		return 0;
	}
	char buf[16];
	if (len >= sizeof(buf) || strspn(s, "0123456789abcdefABCDEF") < len)
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	unsigned long v;
	if (parse_ulong(buf, 16, &v) < 0 || v > max)
		return -EINVAL;
	*out = (long)v;
	return 0;
}

static int parse_slot(const char *text, struct slot *sl)
{
	*sl = (struct slot){ -1, -1, -1, -1 };
	const char *dot = strchr(text, '.');
	size_t left = dot ? (size_t)(dot - text) : strlen(text), colons = 0;
	for (size_t i = 0; i < left; i++)
		colons += text[i] == ':';
	if (colons > 2)
		return -EINVAL;
	if (dot && field(dot + 1, strlen(dot + 1), 7, &sl->fn) < 0)
		return -EINVAL;
	/* the part before the dot: up to two colons, read from the right */
	const char *parts[3] = { NULL };
	size_t lens[3] = { 0 }, np = 0;
	for (const char *p = text, *end = text + left; np < 3;) {
		const char *c = memchr(p, ':', (size_t)(end - p));
		parts[np] = p;
		lens[np++] = c ? (size_t)(c - p) : (size_t)(end - p);
		if (!c)
			break;
		p = c + 1;
	}
	if (np == 3 && memchr(parts[2], ':', lens[2]))
		return -EINVAL;
	long *dest[3][3] = { { &sl->dev }, { &sl->bus, &sl->dev }, { &sl->domain, &sl->bus, &sl->dev } };
	unsigned long max[3][3] = { { 0x1f }, { 0xff, 0x1f }, { 0xfffff, 0xff, 0x1f } };
	for (size_t i = 0; i < np; i++)
		if (field(parts[i], lens[i], max[np - 1][i], dest[np - 1][i]) < 0)
			return -EINVAL;
	return 0;
}

static bool slot_matches(const struct slot *sl, const struct pci_addr *a)
{
	return (sl->domain < 0 || (uint32_t)sl->domain == a->domain) && (sl->bus < 0 || sl->bus == a->bus) &&
	       (sl->dev < 0 || sl->dev == a->dev) && (sl->fn < 0 || sl->fn == a->fn);
}

/* ---- -d [vendor]:[device][:class], as lspci -d ---- */

struct idsel {
	long vendor, device, class; /* -1: any; class: base and subclass (16 bits) */
};

static int parse_id(const char *text, struct idsel *id)
{
	*id = (struct idsel){ -1, -1, -1 };
	const char *c1 = strchr(text, ':');
	if (!c1)
		return -EINVAL;
	const char *c2 = strchr(c1 + 1, ':');
	size_t dlen = c2 ? (size_t)(c2 - c1 - 1) : strlen(c1 + 1);
	if (field(text, (size_t)(c1 - text), 0xffff, &id->vendor) < 0 || field(c1 + 1, dlen, 0xffff, &id->device) < 0)
		return -EINVAL;
	if (c2 && field(c2 + 1, strlen(c2 + 1), 0xffff, &id->class) < 0)
		return -EINVAL;
	return 0;
}

static bool id_matches(const struct idsel *id, const struct device *d)
{
	return d->has_ids && (id->vendor < 0 || id->vendor == d->vendor) && (id->device < 0 || id->device == d->device) &&
	       (id->class < 0 || (uint32_t)id->class == d->class >> 8);
}

/* ---- --class NAME or a class code (base, base and subclass, or with prog-if) ---- */

static const struct {
	const char *name;
	uint32_t code; /* 0xBBSS (base, subclass), or 0xBB when the subclass is 0xff-masked */
	bool base_only;
} class_names[] = {
	{ "gpu", 0x03, true },  { "display", 0x03, true }, { "nic", 0x02, true },    { "network", 0x02, true },
	{ "storage", 0x01, true }, { "nvme", 0x0108, false }, { "sata", 0x0106, false }, { "usb", 0x0c03, false },
	{ "audio", 0x0403, false }, { "multimedia", 0x04, true }, { "bridge", 0x06, true },
};

struct classsel {
	uint32_t code, shift; /* device class >> shift == code */
	uint32_t alt;         /* audio: 0x0401 too (multimedia audio) */
};

static int parse_class(const char *text, struct classsel *c)
{
	*c = (struct classsel){ 0 };
	for (size_t i = 0; i < ARRAY_SIZE(class_names); i++)
		if (streq(text, class_names[i].name)) {
			c->code = class_names[i].code;
			c->shift = class_names[i].base_only ? 16 : 8;
			if (streq(text, "audio"))
				c->alt = 0x0401;
			return 0;
		}
	size_t len = strlen(text);
	unsigned long v;
	if ((len != 2 && len != 4 && len != 6) || strspn(text, "0123456789abcdefABCDEF") != len ||
	    parse_ulong(text, 16, &v) < 0)
		return -EINVAL;
	c->code = (uint32_t)v;
	c->shift = len == 2 ? 16 : len == 4 ? 8 : 0;
	return 0;
}

static bool class_matches(const struct classsel *c, const struct device *d)
{
	if (!d->has_class && !d->has_ids)
		return false;
	uint32_t v = d->class >> c->shift;
	return v == c->code || (c->alt && v == c->alt);
}

int selector_check(const char *kind, const char *value, char **why)
{
	union {
		struct slot s;
		struct idsel i;
		struct classsel c;
	} u;
	*why = NULL;
	if (streq(kind, "slot") && parse_slot(value, &u.s) < 0)
		*why = xasprintf("--slot %s: expected [[domain:]bus:][slot][.func] in hexadecimal (01:00, 00:1f.3, .1)",
				 value);
	else if (streq(kind, "id") && parse_id(value, &u.i) < 0)
		*why = xasprintf("-d %s: expected [vendor]:[device][:class] in hexadecimal (10de:, 8086:1533, :1533)", value);
	else if (streq(kind, "class") && parse_class(value, &u.c) < 0)
		*why = xasprintf("--class %s: expected gpu, nic, nvme, sata, storage, usb, audio, multimedia, bridge, or a "
				 "class code (03, 0108, 0c0330)",
				 value);
	else if ((streq(kind, "netdev") || streq(kind, "blockdev")) && !path_component_ok(value))
		*why = xasprintf("--%s %s: not an interface or disk name", kind, value);
	return *why ? -EINVAL : 0;
}

/* ---- interfaces and disks: their class device's path names the PCI device above it ---- */

/* The last PCI address in a sysfs path ("../../devices/pci0000:00/0000:00:1c.0/0000:02:00.0/nvme/nvme0/nvme0n1"). */
static bool last_pci_address(const char *path, struct pci_addr *a)
{
	bool found = false;
	_cleanup_free_ char *copy = xstrdup(path);
	for (char *next = copy, *part; (part = strsep(&next, "/"));) {
		struct pci_addr x;
		char canon[32];
		if (pci_addr_parse(part, &x) == 0 && strlen(part) >= 12 && (pci_addr_format(&x, canon, sizeof(canon)), true) &&
		    streq(canon, part)) {
			*a = x;
			found = true;
		}
	}
	return found;
}

/* The device an interface or disk belongs to: its class link, else a claim record naming it. */
static const struct device *owner_of(const struct system *sys, const struct ka *ka, struct state *records,
				     const char *subsystem, const char *key, const char *name)
{
	const char *n = lay_dev_name(name);
	_cleanup_free_ char *rel = lay_class_device(subsystem, n), *target = NULL;
	struct pci_addr a;
	if (rel && ka_readlink(ka, rel, &target) == 0 && last_pci_address(target, &a))
		return model_find_device(sys, &a);
	_cleanup_free_ char *addr = record_find_name(records, key, n);
	return addr && pci_addr_parse(addr, &a) == 0 ? model_find_device(sys, &a) : NULL;
}

/* ---- picking ---- */

static bool kind_matches(const char *kind, const char *value, const struct device *d, const struct system *sys,
			 const struct ka *ka, struct state *records)
{
	if (streq(kind, "slot")) {
		struct slot s;
		return parse_slot(value, &s) == 0 && slot_matches(&s, &d->addr);
	}
	if (streq(kind, "id")) {
		struct idsel i;
		return parse_id(value, &i) == 0 && id_matches(&i, d);
	}
	if (streq(kind, "class")) {
		struct classsel c;
		return parse_class(value, &c) == 0 && class_matches(&c, d);
	}
	bool net = streq(kind, "netdev");
	return owner_of(sys, ka, records, net ? "net" : "block", net ? "netdevs" : "blockdevs", value) == d;
}

struct kind {
	const char *name;
	const struct strv *values;
};

/* Whether d matches any value of the kind (a kind with no values matches everything). */
static bool any_of(const struct kind *k, const struct device *d, const struct system *sys, const struct ka *ka,
		   struct state *records)
{
	if (k->values->n == 0)
		return true;
	for (size_t i = 0; i < k->values->n; i++)
		if (kind_matches(k->name, k->values->v[i], d, sys, ka, records))
			return true;
	return false;
}

int selectors_pick(const struct selectors *s, const struct system *sys, const struct ka *ka, struct state *records,
		   struct strv *out)
{
	const struct kind kinds[] = { { "slot", &s->slots }, { "id", &s->ids }, { "class", &s->classes },
				      { "netdev", &s->netdevs }, { "blockdev", &s->blockdevs } };
	/* Each value must name something on its own: a typo is not an empty selection. */
	for (size_t k = 0; k < ARRAY_SIZE(kinds); k++)
		for (size_t i = 0; i < kinds[k].values->n; i++) {
			bool hit = false;
			for (size_t j = 0; j < sys->ndevices && !hit; j++)
				hit = sys->devices[j]->is_pci &&
				      kind_matches(kinds[k].name, kinds[k].values->v[i], sys->devices[j], sys, ka, records);
			if (!hit) {
				log_error("--%s %s: no PCI device matches", streq(kinds[k].name, "id") ? "id" : kinds[k].name,
					  kinds[k].values->v[i]);
				return -ENOENT;
			}
		}
	size_t before = out->n;
	for (size_t j = 0; j < sys->ndevices; j++) {
		const struct device *d = sys->devices[j];
		bool all = d->is_pci;
		for (size_t k = 0; k < ARRAY_SIZE(kinds) && all; k++)
			all = any_of(&kinds[k], d, sys, ka, records);
		if (all && !strv_contains(out, d->name))
			strv_push(out, xstrdup(d->name));
	}
	if (out->n == before) {
		log_error("no PCI device matches all the selectors given");
		return -ENOENT;
	}
	return 0;
}
