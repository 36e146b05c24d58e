// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own list: every group, its owner, and its devices. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <string.h>

#include "shared/escape.h"
#include "cmd/commands.h"
#include "cmd/consumer.h"
#include "cmd/output.h"
#include "os/pcidb.h"

/* The tree of this run, for the consumer's nodes of a group (OWNER, MODE, JSON "consumer"). */
static const struct ka *list_ka;

enum {
	COL_GROUP,
	COL_STATE,
	COL_VIABLE,
	COL_TYPE,
	COL_DEVICE,
	COL_CLASS,
	COL_ID,
	COL_NAME,
	COL_DRIVER,
	COL_OVERRIDE,
	COL_ROLE,
	COL_RESET,
	COL_OWNER,
	COL_MODE,
};

/* The one column table: --output, --list-columns, the man page and completions follow it. */
static const struct colinfo columns[] = {
	[COL_GROUP] = { "GROUP", 5, SCOLS_FL_RIGHT, "IOMMU group number" },
	[COL_STATE] = { "STATE", 7, 0, "group owner: kernel, user, free, mixed or noiommu" },
	[COL_VIABLE] = { "VIABLE", 6, 0, "whether VFIO can use the group (no kernel-DMA device)" },
	[COL_TYPE] = { "TYPE", 7, 0, "group default domain type (DMA, DMA-FQ, identity, ...)" },
	[COL_DEVICE] = { "DEVICE", 14, SCOLS_FL_TREE, "PCI address with domain" },
	[COL_CLASS] = { "CLASS", 0.2, SCOLS_FL_TRUNC, "device class name" },
	[COL_ID] = { "ID", 9, 0, "vendor:device ID" },
	[COL_NAME] = { "NAME", 0.3, SCOLS_FL_TRUNC, "vendor and device name from pci.ids" },
	[COL_DRIVER] = { "DRIVER", 0.1, 0, "bound driver" },
	[COL_OVERRIDE] = { "OVERRIDE", 0.1, 0, "driver_override (empty when unset)" },
	[COL_ROLE] = { "ROLE", 7, 0, "what the binding means: kernel, user, neutral or none" },
	[COL_RESET] = { "RESET", 0.1, 0, "reset methods (reset_method; empty: the device cannot be reset)" },
	[COL_OWNER] = { "OWNER", 0.1, 0, "user:group owning the group's VFIO node (its file, else a cdev)" },
	[COL_MODE] = { "MODE", 4, 0, "permission bits of the group's VFIO node" },
};

static const int default_columns[] = { COL_GROUP, COL_STATE, COL_DEVICE, COL_CLASS, COL_ID,
				       COL_NAME, COL_DRIVER, COL_OVERRIDE, COL_ROLE };

struct list_args {
	struct outopts out;
	struct strv targets;
};

static error_t list_parse(int key, char *arg, struct argp_state *state)
{
	struct list_args *a = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->out;
		break;
	case ARGP_KEY_ARG:
		strv_push(&a->targets, xstrdup(arg));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child list_children[] = { { &output_argp, 0, "Output:", 0 }, { 0 } };
static const struct argp list_argp = {
	NULL, list_parse, "[GROUP|DEVICE...]",
	"Show every IOMMU group as a tree: the group's owner on its line, its devices below it. "
	"GROUP is a group number, DEVICE a PCI address (0000:01:00.0 or 01:00.0); "
	"they restrict the output.",
	list_children, NULL, NULL
};

/* What each column needs read from the tree. */
static unsigned needed_flags(const struct outopts *o)
{
	if (o->json)
		return MODEL_IDS | MODEL_OVERRIDE | MODEL_TYPE | MODEL_RESET;
	unsigned f = 0;
	for (size_t i = 0; i < o->ncols; i++) {
		switch (o->cols[i]) {
		case COL_CLASS:
		case COL_ID:
		case COL_NAME:
			f |= MODEL_IDS;
			break;
		case COL_OVERRIDE:
			f |= MODEL_OVERRIDE;
			break;
		case COL_TYPE:
			f |= MODEL_TYPE;
			break;
		case COL_RESET:
			f |= MODEL_RESET;
			break;
		}
	}
	return f;
}

static void set_cell(struct libscols_line *ln, size_t i, const char *s)
{
	if (s && scols_line_set_data(ln, i, s) < 0) {
		log_error("out of memory");
		exit(EXIT_USAGE);
	}
}

/* Every process's open nodes, read once, and only when a group has a VFIO node. */
static const struct holders *list_users(void)
{
	static struct holders h;
	static bool read;
	if (!read)
		ka_holders(list_ka, &h);
	read = true;
	return &h;
}

static void set_consumer_cell(struct libscols_line *ln, size_t i, int col, const struct group *g)
{
	struct consumer c = { 0 };
	if (g)
		consumer_read(list_ka, g, &c);
	_cleanup_free_ char *s = col == COL_OWNER ? consumer_owner_text(list_ka, &c) : consumer_mode_text(&c);
	set_cell(ln, i, s);
	consumer_clear(&c);
}

static void fill_group_cells(struct libscols_line *ln, const struct outopts *o, const struct group *g)
{
	for (size_t i = 0; i < o->ncols; i++) {
		_cleanup_free_ char *num = NULL;
		switch (o->cols[i]) {
		case COL_GROUP:
			if (g)
				num = xasprintf("%lu", g->number);
			set_cell(ln, i, g ? num : "-");
			break;
		case COL_STATE:
			set_cell(ln, i, g ? group_state_to_string(g->state) : "-");
			break;
		case COL_VIABLE:
			set_cell(ln, i, g ? (g->viable ? "yes" : "no") : "-");
			break;
		case COL_TYPE:
			set_cell(ln, i, g ? g->type : NULL);
			break;
		case COL_OWNER:
		case COL_MODE:
			set_consumer_cell(ln, i, o->cols[i], g);
			break;
		}
	}
}

static void fill_device_cells(struct libscols_line *ln, const struct outopts *o, struct pcidb *db,
			      const struct device *d)
{
	for (size_t i = 0; i < o->ncols; i++) {
		_cleanup_free_ char *s = NULL;
		switch (o->cols[i]) {
		case COL_DEVICE:
			set_cell(ln, i, d->name);
			break;
		case COL_CLASS:
			if (d->has_ids)
				s = pcidb_class_name(db, d->class);
			set_cell(ln, i, s);
			break;
		case COL_ID:
			if (d->has_ids)
				s = xasprintf("%04x:%04x", d->vendor, d->device);
			set_cell(ln, i, s);
			break;
		case COL_NAME:
			if (d->has_ids)
				s = pcidb_device_name(db, d->vendor, d->device);
			set_cell(ln, i, s);
			break;
		case COL_DRIVER:
			set_cell(ln, i, d->driver);
			break;
		case COL_OVERRIDE:
			set_cell(ln, i, d->driver_override);
			break;
		case COL_ROLE:
			set_cell(ln, i, role_to_string(d->role));
			break;
		case COL_RESET:
			set_cell(ln, i, d->reset_method);
			break;
		}
	}
}

static struct libscols_line *new_line(struct libscols_table *t, struct libscols_line *parent)
{
	struct libscols_line *ln = scols_table_new_line(t, parent);
	if (!ln) {
		log_error("out of memory");
		exit(EXIT_USAGE);
	}
	return ln;
}

/* One group (g NULL: the devices in no group) as a parent line and its devices. */
static void table_add_group(struct libscols_table *t, const struct outopts *o, struct pcidb *db,
			    const struct group *g, struct device **devs, size_t ndevs)
{
	struct libscols_line *parent = NULL;
	if (!o->raw) {
		parent = new_line(t, NULL);
		fill_group_cells(parent, o, g);
	}
	for (size_t i = 0; i < ndevs; i++) {
		if (!devs[i]->selected)
			continue;
		struct libscols_line *ln = new_line(t, parent);
		if (o->raw)
			fill_group_cells(ln, o, g);
		fill_device_cells(ln, o, db, devs[i]);
	}
}

/* "%04x" of a 16-bit value. */
static struct json_object *json_hex4(unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[5] = { digits[v >> 12 & 15], digits[v >> 8 & 15], digits[v >> 4 & 15], digits[v & 15], '\0' };
	return json_str(buf);
}

static struct json_object *device_json(struct pcidb *db, const struct device *d)
{
	struct json_object *o = json_object_new_object();
	json_add(o, "address", json_str(d->name));
	if (d->has_ids) {
		json_add(o, "vendor_id", json_hex4(d->vendor));
		json_add(o, "device_id", json_hex4(d->device));
		json_add(o, "class", json_hex4(d->class >> 8));
		_cleanup_free_ char *cn = pcidb_class_name(db, d->class);
		_cleanup_free_ char *nm = pcidb_device_name(db, d->vendor, d->device);
		json_add(o, "class_name", json_str(cn));
		json_add(o, "name", json_str(nm));
	} else {
		/* A device that is not on the PCI bus has no IDs. */
		json_add(o, "vendor_id", NULL);
		json_add(o, "device_id", NULL);
		json_add(o, "class", NULL);
		json_add(o, "class_name", NULL);
		json_add(o, "name", NULL);
	}
	json_add(o, "driver", json_str(d->driver));
	json_add(o, "driver_override", json_str(d->driver_override));
	json_add(o, "role", json_str(role_to_string(d->role)));
	json_add(o, "reset_method", json_str(d->reset_method));
	return o;
}

static int print_json(const struct system *sys, struct pcidb *db)
{
	/* Streamed group by group: memory stays flat however many groups there are. */
	struct json_stream js;
	json_stream_begin(&js);
	json_stream_array_begin(&js, "groups");
	for (size_t i = 0; i < sys->ngroups; i++) {
		const struct group *g = sys->groups[i];
		if (!g->selected)
			continue;
		struct json_object *o = json_object_new_object();
		json_add(o, "group", json_object_new_uint64(g->number));
		json_add(o, "state", json_str(group_state_to_string(g->state)));
		json_add(o, "viable", json_object_new_boolean(g->viable));
		json_add(o, "type", json_str(g->type));
		struct consumer c;
		consumer_read(list_ka, g, &c);
		if (c.group_if || c.cdev_if)
			consumer_users(&c, list_users());
		json_add(o, "consumer", c.group_if || c.cdev_if ? consumer_json(list_ka, -1, &c) : NULL);
		consumer_clear(&c);
		struct json_object *devs = json_object_new_array();
		for (size_t j = 0; j < g->ndevices; j++)
			if (g->devices[j]->selected)
				json_object_array_add(devs, device_json(db, g->devices[j]));
		json_add(o, "devices", devs);
		json_stream_element(&js, o);
	}
	json_stream_array_end(&js);
	json_stream_array_begin(&js, "ungrouped_devices");
	for (size_t i = 0; i < sys->ndevices; i++)
		if (sys->devices[i]->selected && !sys->devices[i]->group)
			json_stream_element(&js, device_json(db, sys->devices[i]));
	json_stream_array_end(&js);
	return json_stream_end(&js);
}

static int print_table(const struct system *sys, struct outopts *o, struct pcidb *db)
{
	/* Group lines only make sense with a group column; otherwise one line per device. */
	bool tree = false;
	for (size_t i = 0; i < o->ncols; i++)
		tree |= o->cols[i] == COL_GROUP || o->cols[i] == COL_STATE || o->cols[i] == COL_VIABLE ||
			o->cols[i] == COL_TYPE || o->cols[i] == COL_OWNER || o->cols[i] == COL_MODE;
	bool raw = o->raw;
	o->raw = raw || !tree;
	_cleanup_(scols_unref_tablep) struct libscols_table *t = output_table(o, columns, true);
	scols_table_enable_raw(t, raw);
	for (size_t i = 0; i < sys->ngroups; i++)
		if (sys->groups[i]->selected)
			table_add_group(t, o, db, sys->groups[i], sys->groups[i]->devices, sys->groups[i]->ndevices);

	/* Devices in no group at all (no IOMMU): shown under a "-" parent. */
	size_t ungrouped = 0;
	for (size_t i = 0; i < sys->ndevices; i++)
		ungrouped += sys->devices[i]->selected && !sys->devices[i]->group;
	if (ungrouped) {
		_cleanup_free_ struct device **devs = xcalloc(ungrouped, sizeof(*devs));
		size_t n = 0;
		for (size_t i = 0; i < sys->ndevices; i++)
			if (sys->devices[i]->selected && !sys->devices[i]->group)
				devs[n++] = sys->devices[i];
		table_add_group(t, o, db, NULL, devs, n);
	}
	o->raw = raw;
	return scols_print_table(t) < 0 ? -EIO : 0;
}

static int run_list(struct context *ctx, struct list_args *a)
{
	if (a->out.list_columns) {
		output_list_columns(columns, ARRAY_SIZE(columns));
		return EXIT_OK;
	}
	if (output_columns(&a->out, columns, ARRAY_SIZE(columns), default_columns, ARRAY_SIZE(default_columns)) < 0)
		return EXIT_USAGE;

	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	int r = pcidb_new(ctx->pci_ids, &db);
	if (r < 0) {
		log_error("--pci-ids %s: %s", ctx->pci_ids, strerror(-r));
		return EXIT_USAGE;
	}

	_cleanup_(model_freep) struct system *sys = NULL;
	if (context_load(ctx, needed_flags(&a->out), (int)a->targets.n, a->targets.v, &sys) < 0)
		return EXIT_USAGE;

	list_ka = ctx->ka;
	r = a->out.json ? print_json(sys, db) : print_table(sys, &a->out, db);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

int cmd_list(struct context *ctx, int argc, char **argv)
{
	struct list_args a = { 0 };
	command_parse(&list_argp, argc, argv, &a);
	int status = run_list(ctx, &a);
	output_free(&a.out);
	strv_free(&a.targets);
	return status;
}
