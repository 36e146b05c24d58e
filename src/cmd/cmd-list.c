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
#include "core/record.h"
#include "core/uses.h"
#include "os/state.h"

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
	COL_USES,
	COL_RECORD,
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
	[COL_CLASS] = { "CLASS", 0.2, 0, "device class name", FIT_TRUNCATE, 0.35 },
	[COL_ID] = { "ID", 9, 0, "vendor:device ID" },
	[COL_NAME] = { "NAME", 0.3, 0, "vendor and device name from pci.ids", FIT_TRUNCATE, 0.65 },
	[COL_DRIVER] = { "DRIVER", 0.1, 0, "bound driver" },
	[COL_OVERRIDE] = { "OVERRIDE", 0.1, 0, "driver_override (empty when unset)" },
	[COL_ROLE] = { "ROLE", 7, 0, "what the binding means: kernel, user, neutral or none" },
	[COL_RESET] = { "RESET", 0.1, 0, "reset methods (reset_method; empty: the device cannot be reset)" },
	[COL_USES] = { "USES", 0.3, 0,
		       "what sits behind the device: network interfaces, disks, DRM and sound nodes, USB devices "
		       "(read only when asked for)",
		       FIT_WRAP, 0.5 },
	[COL_RECORD] = { "RECORD", 0.1, 0,
			 "the driver release restores, from the record of the group's claim (empty: no record)" },
	[COL_OWNER] = { "OWNER", 0.1, 0, "user:group owning the group's VFIO node (its file, else a cdev)" },
	[COL_MODE] = { "MODE", 4, 0, "permission bits of the group's VFIO node" },
};

static const int default_columns[] = { COL_GROUP, COL_STATE, COL_DEVICE, COL_CLASS, COL_ID,
				       COL_NAME, COL_DRIVER, COL_OVERRIDE, COL_ROLE };

struct list_args {
	struct outopts out;
	struct selectors sel;
	struct strv targets;
	struct strv states; /* --state */
};

enum { OPT_STATE = 0x300 };

static const struct argp_option list_options[] = {
	{ "state", OPT_STATE, "STATE", 0, "Only groups in this state: kernel, user, free, mixed, noiommu (repeatable)", 0 },
	{ 0 }
};

static error_t list_parse(int key, char *arg, struct argp_state *state)
{
	struct list_args *a = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->out;
		state->child_inputs[1] = &a->sel;
		break;
	case ARGP_KEY_ARG:
		strv_push(&a->targets, xstrdup(arg));
		break;
	case OPT_STATE: {
		bool known = false;
		for (int st = 0; st <= GROUP_NOIOMMU; st++)
			known |= streq(arg, group_state_to_string((enum group_state)st));
		if (!known)
			argp_error(state, "--state %s: expected kernel, user, free, mixed or noiommu", arg);
		strv_push(&a->states, xstrdup(arg));
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child list_children[] = { { &output_argp, 0, "Output:", 1 },
						    { &selectors_argp, 0, "Selectors:", 2 },
						    { 0 } };
static const struct argp list_argp = {
	list_options, list_parse, "[GROUP|DEVICE...]",
	"Show every IOMMU group as a tree: the group's owner on its line, its devices below it. "
	"GROUP is a group number, DEVICE a PCI address (0000:01:00.0 or 01:00.0); "
	"they restrict the output.",
	list_children, NULL, NULL
};

/* What each column needs read from the tree. */
static unsigned needed_flags(const struct outopts *o)
{
	if (o->json)
		return MODEL_IDS | MODEL_OVERRIDE | MODEL_TYPE | MODEL_RESET | MODEL_CDEVS;
	unsigned f = 0;
	for (size_t i = 0; i < o->ncols; i++) {
		switch (o->cols[i]) {
		case COL_CLASS:
		case COL_ID:
		case COL_NAME:
		case COL_USES: /* bridges show no uses: the class says which they are */
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
		case COL_OWNER:
		case COL_MODE:
			f |= MODEL_CDEVS;
			break;
		}
	}
	return f;
}

static void set_cell(struct libscols_line *ln, const struct outopts *o, size_t i, const char *s)
{
	if (output_cell(ln, i, s, o) < 0) {
		log_error("out of memory");
		exit(EXIT_USAGE);
	}
}

static bool is_group_column(int col)
{
	return col == COL_GROUP || col == COL_STATE || col == COL_VIABLE || col == COL_TYPE || col == COL_OWNER ||
	       col == COL_MODE;
}

/* Colour on a terminal: mixed is the state to notice, user is what VFIO owns. */
static const char *state_color(enum group_state st)
{
	switch (st) {
	case GROUP_MIXED:
		return "red";
	case GROUP_USER:
		return "green";
	case GROUP_NOIOMMU:
		return "yellow";
	default:
		return NULL;
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

static void set_consumer_cell(struct libscols_line *ln, const struct outopts *o, size_t i, int col,
			      const struct group *g)
{
	struct consumer c = { 0 };
	if (g)
		consumer_read(list_ka, g, &c);
	_cleanup_free_ char *s = col == COL_OWNER ? consumer_owner_text(list_ka, &c) : consumer_mode_text(&c);
	set_cell(ln, o, i, s);
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
			set_cell(ln, o, i, g ? num : "-");
			break;
		case COL_STATE:
			set_cell(ln, o, i, g ? group_state_to_string(g->state) : "-");
			if (g)
				output_color(ln, i, state_color(g->state));
			break;
		case COL_VIABLE:
			set_cell(ln, o, i, g ? (g->viable ? "yes" : "no") : "-");
			break;
		case COL_TYPE:
			set_cell(ln, o, i, g ? g->type : NULL);
			break;
		case COL_OWNER:
		case COL_MODE:
			set_consumer_cell(ln, o, i, o->cols[i], g);
			break;
		}
	}
}

/* What USES and RECORD read, once per run (and the record of the last group asked). */
struct uses_ctx {
	const struct ka *ka;
	struct preflight_inputs in;
	struct state records;
	bool records_open;
	unsigned long record_group;
	struct json_object *record;
	bool want_uses, want_record; /* -J: the keys asked for with -o */
};

/* The record of d's group's claim, read once per group (NULL: none). */
static struct json_object *group_record(struct uses_ctx *uc, const struct device *d)
{
	if (!d->group)
		return NULL;
	if (!uc->records_open) {
		uc->records_open = true;
		if (state_open_kernel(&uc->records, uc->ka, false) < 0)
			uc->records.dirfd = -1;
		uc->record_group = (unsigned long)-1;
	}
	if (uc->records.dirfd < 0)
		return NULL;
	if (uc->record_group != d->group->number) {
		json_object_put(uc->record);
		uc->record = record_read(&uc->records, d->group->number, "RECORD is left empty");
		uc->record_group = d->group->number;
	}
	return uc->record;
}

/* The entry of d in its group's record, or NULL. */
static struct json_object *device_record(struct uses_ctx *uc, const struct device *d)
{
	struct json_object *r = group_record(uc, d), *devs;
	if (!r || !json_object_object_get_ex(r, "devices", &devs) || !json_object_is_type(devs, json_type_array))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(devs); i++) {
		struct json_object *x = json_object_array_get_idx(devs, i);
		const char *addr = json_member_str(x, "address");
		if (addr && streq(addr, d->name))
			return x;
	}
	return NULL;
}

static void uses_ctx_free(struct uses_ctx *uc)
{
	preflight_inputs_free(&uc->in);
	json_object_put(uc->record);
	if (uc->records_open && uc->records.dirfd >= 0)
		state_close(&uc->records);
}

static char *device_uses_text(struct uses_ctx *uc, const struct device *d)
{
	struct uses u;
	uses_read(uc->ka, d, &uc->in, &u);
	char *s = uses_text(&u);
	uses_free(&u);
	return s;
}

static void fill_device_cells(struct libscols_line *ln, const struct outopts *o, struct pcidb *db,
			      struct uses_ctx *uc, const struct device *d)
{
	for (size_t i = 0; i < o->ncols; i++) {
		_cleanup_free_ char *s = NULL;
		switch (o->cols[i]) {
		case COL_DEVICE:
			set_cell(ln, o, i, d->name);
			break;
		case COL_CLASS:
			if (d->has_ids)
				s = pcidb_class_name(db, d->class);
			set_cell(ln, o, i, s);
			break;
		case COL_ID:
			if (d->has_ids)
				s = xasprintf("%04x:%04x", d->vendor, d->device);
			set_cell(ln, o, i, s);
			break;
		case COL_NAME:
			if (d->has_ids)
				s = pcidb_device_name(db, d->vendor, d->device);
			set_cell(ln, o, i, s);
			break;
		case COL_DRIVER:
			set_cell(ln, o, i, d->driver);
			break;
		case COL_OVERRIDE:
			set_cell(ln, o, i, d->driver_override);
			break;
		case COL_ROLE:
			set_cell(ln, o, i, role_to_string(d->role));
			break;
		case COL_RESET:
			set_cell(ln, o, i, d->reset_method);
			break;
		case COL_USES:
			s = device_uses_text(uc, d);
			set_cell(ln, o, i, s);
			break;
		case COL_RECORD: {
			struct json_object *rec = device_record(uc, d);
			const char *drv = json_member_str(rec, "driver");
			set_cell(ln, o, i, rec ? (drv ? drv : "(no driver)") : NULL);
			break;
		}
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

/* How list lays out its rows. */
enum layout {
	LAYOUT_TREE,   /* a group line, its devices below it */
	LAYOUT_FLAT,   /* one line per device, the group's cells repeated (-r, -P, no group column) */
	LAYOUT_GROUPS, /* one line per group: only group columns were asked for */
};

/* One group (g NULL: the devices in no group) as its lines. */
static void table_add_group(struct libscols_table *t, const struct outopts *o, enum layout lay, struct pcidb *db,
			    struct uses_ctx *uc, const struct group *g, struct device **devs, size_t ndevs)
{
	struct libscols_line *parent = NULL;
	if (lay != LAYOUT_FLAT) {
		parent = new_line(t, NULL);
		fill_group_cells(parent, o, g);
	}
	if (lay == LAYOUT_GROUPS)
		return;
	for (size_t i = 0; i < ndevs; i++) {
		if (!devs[i]->selected)
			continue;
		struct libscols_line *ln = new_line(t, parent);
		if (lay == LAYOUT_FLAT)
			fill_group_cells(ln, o, g);
		fill_device_cells(ln, o, db, uc, devs[i]);
	}
}

/* "%04x" of a 16-bit value. */
static struct json_object *json_hex4(unsigned v)
{
	static const char digits[] = "0123456789abcdef";
	char buf[5] = { digits[v >> 12 & 15], digits[v >> 8 & 15], digits[v >> 4 & 15], digits[v & 15], '\0' };
	return json_str(buf);
}

static struct json_object *strv_json(const struct strv *v)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_str(v->v[i]));
	return a;
}

static struct json_object *uses_json(struct uses_ctx *uc, const struct device *d)
{
	struct uses u;
	uses_read(uc->ka, d, &uc->in, &u);
	struct json_object *o = json_object_new_object(), *nets = json_object_new_array(),
			   *blocks = json_object_new_array(), *usb = json_object_new_array();
	for (size_t i = 0; i < u.nnets; i++) {
		struct json_object *n = json_object_new_object();
		json_add(n, "name", json_str(u.nets[i].name));
		json_add(n, "operstate", json_str(u.nets[i].operstate));
		json_add(n, "up", json_object_new_boolean(u.nets[i].up));
		json_add(n, "addresses", json_object_new_boolean(u.nets[i].addresses));
		json_object_array_add(nets, n);
	}
	for (size_t i = 0; i < u.nblocks; i++) {
		struct json_object *b = json_object_new_object();
		json_add(b, "name", json_str(u.blocks[i].name));
		json_add(b, "in_use", json_str(u.blocks[i].use));
		json_object_array_add(blocks, b);
	}
	for (size_t i = 0; i < u.nusb; i++) {
		struct json_object *x = json_object_new_object();
		json_add(x, "name", json_str(u.usb[i].name));
		json_add(x, "id", json_str(u.usb[i].id));
		json_add(x, "product", json_str(u.usb[i].product));
		json_object_array_add(usb, x);
	}
	json_add(o, "net", nets);
	json_add(o, "block", blocks);
	json_add(o, "drm", strv_json(&u.drm));
	json_add(o, "sound", strv_json(&u.sound));
	json_add(o, "usb", usb);
	json_add(o, "unreadable", json_str(u.unreadable));
	uses_free(&u);
	return o;
}

static struct json_object *device_json(struct pcidb *db, struct uses_ctx *uc, const struct device *d)
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
	if (uc && uc->want_uses)
		json_add(o, "uses", uses_json(uc, d));
	if (uc && uc->want_record) {
		struct json_object *rec = device_record(uc, d);
		json_add(o, "record", rec ? json_object_get(rec) : NULL);
	}
	return o;
}

static int print_json(const struct system *sys, struct pcidb *db, struct uses_ctx *uc)
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
				json_object_array_add(devs, device_json(db, uc, g->devices[j]));
		json_add(o, "devices", devs);
		json_stream_element(&js, o);
	}
	json_stream_array_end(&js);
	json_stream_array_begin(&js, "ungrouped_devices");
	for (size_t i = 0; i < sys->ndevices; i++)
		if (sys->devices[i]->selected && !sys->devices[i]->group)
			json_stream_element(&js, device_json(db, uc, sys->devices[i]));
	json_stream_array_end(&js);
	return json_stream_end(&js);
}

static enum layout choose_layout(const struct outopts *o)
{
	bool group_cols = false, device_cols = false;
	for (size_t i = 0; i < o->ncols; i++) {
		group_cols |= is_group_column(o->cols[i]);
		device_cols |= !is_group_column(o->cols[i]);
	}
	if (!device_cols)
		return LAYOUT_GROUPS;
	return output_flat(o) || !group_cols ? LAYOUT_FLAT : LAYOUT_TREE;
}

static int print_table(const struct system *sys, struct outopts *o, struct pcidb *db, struct uses_ctx *uc)
{
	enum layout lay = choose_layout(o);
	_cleanup_(scols_unref_tablep) struct libscols_table *t = output_table(o, columns, lay == LAYOUT_TREE);
	for (size_t i = 0; i < sys->ngroups; i++)
		if (sys->groups[i]->selected)
			table_add_group(t, o, lay, db, uc, sys->groups[i], sys->groups[i]->devices, sys->groups[i]->ndevices);

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
		table_add_group(t, o, lay, db, uc, NULL, devs, n);
	}
	output_fit(t, o, columns);
	return output_print(t);
}

/* --state: the groups in none of the states asked for are left out, with their devices. */
static void filter_states(struct system *sys, const struct strv *states)
{
	if (!states->n)
		return;
	for (size_t i = 0; i < sys->ngroups; i++) {
		struct group *g = sys->groups[i];
		if (strv_contains(states, group_state_to_string(g->state)))
			continue;
		g->selected = false;
		for (size_t j = 0; j < g->ndevices; j++)
			g->devices[j]->selected = false;
	}
	for (size_t i = 0; i < sys->ndevices; i++)
		if (!sys->devices[i]->group)
			sys->devices[i]->selected = false;
}

/* A tree with PCI devices and no group, or no PCI device at all: say what that usually means. */
static void hint_empty(const struct system *sys)
{
	size_t pci = 0;
	for (size_t i = 0; i < sys->ndevices; i++)
		pci += sys->devices[i]->is_pci;
	if (pci == 0)
		log_warning("no PCI device at all: is sysfs mounted (or is this a tree of a machine without PCI)?");
	else if (sys->ngroups == 0)
		log_warning("%zu PCI devices and no IOMMU group: the IOMMU is off or missing (see 'iommu-own check')", pci);
}

static int run_list(struct context *ctx, struct list_args *a)
{
	if (a->out.list_columns) {
		output_list_columns(columns, ARRAY_SIZE(columns));
		return EXIT_OK;
	}
	if (output_columns(&a->out, columns, ARRAY_SIZE(columns), default_columns, ARRAY_SIZE(default_columns)) < 0)
		return EXIT_USAGE;

	/* pci.ids only where names are printed: a listing of addresses and drivers never fails on it. */
	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	int r = 0;
	if (a->out.json || output_has_column(&a->out, COL_NAME) || output_has_column(&a->out, COL_CLASS))
		r = pcidb_new(ctx->pci_ids, &db);
	if (r < 0) {
		log_error("--pci-ids %s: %s", ctx->pci_ids, strerror(-r));
		return EXIT_USAGE;
	}

	_cleanup_(model_freep) struct system *sys = NULL;
	if (context_load_selected(ctx, needed_flags(&a->out), (int)a->targets.n, a->targets.v, &a->sel, NULL, &sys) < 0)
		return EXIT_USAGE;
	filter_states(sys, &a->states);
	hint_empty(sys);

	list_ka = ctx->ka;
	struct uses_ctx uc = { .ka = ctx->ka, .want_uses = output_has_column(&a->out, COL_USES),
			       .want_record = output_has_column(&a->out, COL_RECORD) };
	r = a->out.json ? print_json(sys, db, &uc) : print_table(sys, &a->out, db, &uc);
	uses_ctx_free(&uc);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

int cmd_list(struct context *ctx, int argc, char **argv)
{
	struct list_args a = { 0 };
	command_parse(&list_argp, argc, argv, &a);
	int status = run_list(ctx, &a);
	output_free(&a.out);
	strv_free(&a.targets);
	strv_free(&a.states);
	selectors_free(&a.sel);
	return status;
}
