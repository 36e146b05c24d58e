// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own why: why the kernel put these devices in one group, and what would split it. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <string.h>

#include "cmd/commands.h"
#include "cmd/globals.h"
#include "cmd/terminal.h"
#include "cmd/output.h"
#include "core/why.h"
#include "os/pcidb.h"
#include "shared/escape.h"

struct why_args {
	const char *target;
	bool json;
	struct selectors sel;
};

static error_t why_parse(int key, char *arg, struct argp_state *state)
{
	struct why_args *a = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		a->json = globals_json(); /* -J before the command */
		state->child_inputs[0] = &a->sel;
		break;
	case ARGP_KEY_ARG:
		command_one_operand(state, key, &a->target, arg, "GROUP or DEVICE", "to explain");
		break;
	case ARGP_KEY_END:
		a->json = globals_json(); /* -J is a global option: before or after the command */
		if (!selectors_any(&a->sel))
			command_one_operand(state, key, &a->target, arg, "GROUP or DEVICE", "to explain");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child why_children[] = { { &selectors_argp, 0, "Selectors:", 2 }, { 0 } };
static const struct argp why_argp = {
	/* No options of its own (-J is global): NULL, as glibc's argp leaks an empty table's help. */
	NULL, why_parse, "[GROUP|DEVICE]",
	"Explain from config space why the kernel put devices in one IOMMU group (a bridge that aliases "
	"them, a port without ACS, a multifunction device without ACS, or a DMA alias quirk config space "
	"does not show), show each device's path from its root port, and say what would split the group.\v"
	"Exit status: 0 explained, 2 usage or runtime error.",
	why_children, NULL, NULL
};

static const char *const override_note =
	"pcie_acs_override only hides the risk: devices it puts in separate groups can still reach each "
	"other by peer-to-peer DMA, so those groups are not isolation boundaries.";
static const char *const booted_override =
	"This kernel was booted with pcie_acs_override: its IOMMU groups are not real isolation boundaries.";

static char *acs_text(const struct pci_facts *f)
{
	if (!f->readable)
		return xstrdup("config space not readable");
	if (!f->has_acs)
		return xstrdup("no ACS");
	_cleanup_free_ char *on = why_acs_bits(f->acs_ctrl & f->acs_cap);
	return xasprintf("ACS %s", *on ? on : "(none enabled)");
}

static struct json_object *strv_json(const struct strv *v)
{
	struct json_object *a = json_object_new_array();
	for (size_t i = 0; i < v->n; i++)
		json_object_array_add(a, json_str(v->v[i]));
	return a;
}

static struct json_object *bits_json(uint16_t bits)
{
	_cleanup_free_ char *s = why_acs_bits(bits);
	struct json_object *a = json_object_new_array();
	char *save = NULL;
	for (char *c = strtok_r(s, " ", &save); c; c = strtok_r(NULL, " ", &save))
		json_object_array_add(a, json_str(c));
	return a;
}

static int print_json(const struct why *w, struct pcidb *db)
{
	_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
	json_object_object_add(doc, "group", json_object_new_uint64(w->group->number));
	json_object_object_add(doc, "acs_override", json_object_new_boolean(w->acs_override));
	struct json_object *devs = json_object_new_array();
	for (size_t i = 0; i < w->ndevices; i++) {
		const struct why_device *wd = &w->devices[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "address", json_str(wd->dev->name));
		json_object_object_add(o, "path", strv_json(&wd->path));
		_cleanup_free_ char *cls = wd->dev->has_class ? pcidb_class_name(db, wd->dev->class) : NULL;
		json_object_object_add(o, "class_name", json_str(cls));
		json_object_object_add(o, "port_type", json_str(why_port_type(&wd->facts)));
		json_object_object_add(o, "multifunction", json_object_new_boolean(wd->facts.multifunction));
		if (wd->facts.has_acs) {
			struct json_object *acs = json_object_new_object();
			json_object_object_add(acs, "capability", bits_json(wd->facts.acs_cap));
			json_object_object_add(acs, "enabled", bits_json(wd->facts.acs_ctrl & wd->facts.acs_cap));
			json_object_object_add(o, "acs", acs);
		} else {
			json_object_object_add(o, "acs", NULL);
		}
		json_object_array_add(devs, o);
	}
	json_object_object_add(doc, "devices", devs);
	struct json_object *reasons = json_object_new_array();
	for (size_t i = 0; i < w->nreasons; i++) {
		const struct why_reason *r = &w->reasons[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "kind", json_str(why_kind_to_string(r->kind)));
		json_object_object_add(o, "device", json_str(r->device));
		json_object_object_add(o, "devices", strv_json(&r->members));
		json_object_object_add(o, "missing_acs", bits_json(r->kind == WHY_ACS_DISABLED || r->kind == WHY_ACS_MISSING ? r->missing : 0));
		json_object_object_add(o, "message", json_str(r->message));
		json_object_array_add(reasons, o);
	}
	json_object_object_add(doc, "reasons", reasons);
	json_object_object_add(doc, "split", strv_json(&w->split));
	struct json_object *notes = json_object_new_array();
	if (w->acs_override)
		json_object_array_add(notes, json_str(booted_override));
	if (w->ndevices > 1)
		json_object_array_add(notes, json_str(override_note));
	json_object_object_add(doc, "notes", notes);
	return output_json(doc);
}

/* A line of text: wrapped at words to a terminal's width, as it is for a pipe. */
static void say(const char *first, const char *rest, const char *text)
{
	if (term_is_tty())
		term_print_wrapped(stdout, first, rest, text, term_width());
	else
		esc_fprintf(stdout, "%s%s\n", first, text);
}

static void print_text(const struct why *w, struct pcidb *db)
{
	esc_fprintf(stdout, "group %lu: %zu device%s\n", w->group->number, w->ndevices, w->ndevices == 1 ? "" : "s");
	for (size_t i = 0; i < w->ndevices; i++) {
		const struct why_device *wd = &w->devices[i];
		_cleanup_free_ char *path = strv_join(&wd->path, " > ");
		_cleanup_free_ char *cls = wd->dev->has_class ? pcidb_class_name(db, wd->dev->class) : xstrdup("device");
		_cleanup_free_ char *acs = acs_text(&wd->facts);
		esc_fprintf(stdout, "  %s\n", path);
		_cleanup_free_ char *facts = xasprintf("%s, %s%s, %s", cls, why_port_type(&wd->facts),
						       wd->facts.multifunction ? " (multifunction)" : "", acs);
		say("      ", "      ", facts);
	}
	if (w->ndevices < 2) {
		esc_fprintf(stdout, "It holds one device: it shares nothing.\n");
	} else {
		esc_fprintf(stdout, "Why they share a group:\n");
		for (size_t i = 0; i < w->nreasons; i++)
			say("  - ", "    ", w->reasons[i].message);
		esc_fprintf(stdout, "What would split it:\n");
		for (size_t i = 0; i < w->split.n; i++)
			say("  - ", "    ", w->split.v[i]);
		say("Note: ", "      ", override_note);
	}
	if (w->acs_override)
		say("Warning: ", "         ", booted_override);
}

int cmd_why(struct context *ctx, int argc, char **argv)
{
	struct why_args a = { 0 };
	command_parse(&why_argp, argc, argv, &a);
	char *targets[] = { (char *)a.target };
	_cleanup_(model_freep) struct system *sys = NULL;
	int status = context_load_selected(ctx, MODEL_IDS | MODEL_PARAMS, a.target ? 1 : 0, targets, &a.sel, NULL, &sys);
	selectors_free(&a.sel);
	if (status < 0)
		return EXIT_USAGE;
	const struct group *g = NULL;
	struct strv picked = { 0 };
	for (size_t i = 0; i < sys->ngroups; i++)
		if (sys->groups[i]->selected) {
			g = g ? g : sys->groups[i];
			strv_push(&picked, xasprintf("%lu", sys->groups[i]->number));
		}
	if (picked.n > 1) {
		_cleanup_free_ char *list = strv_join(&picked, ", ");
		strv_free(&picked);
		globals_error_code("usage");
		log_error("the selection spans %s groups (%s): why explains one at a time", "several", list);
		return EXIT_USAGE;
	}
	strv_free(&picked);
	if (!g) {
		log_error("%s is in no IOMMU group: there is nothing to explain (is the IOMMU on?)",
			  a.target ? a.target : "the selection");
		return EXIT_USAGE;
	}
	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	if (context_open_config(ctx, &db) < 0)
		return EXIT_USAGE;
	struct why w;
	why_explain(ctx->ka, db, sys, g, &w);
	int r = 0;
	if (a.json)
		r = print_json(&w, db);
	else
		print_text(&w, db);
	why_free(&w);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}
