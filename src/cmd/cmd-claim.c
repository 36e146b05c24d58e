// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own claim: move a whole group to a VFIO driver, all devices or none. */
#include "config.h"

#include <argp.h>
#include <string.h>

#include "cmd/move.h"

enum { OPT_DRIVER = 0x400, OPT_DRY_RUN, OPT_FORCE, OPT_PERSIST, OPT_REMOVE_VFS, OPT_OWNER, OPT_MODE };

static const struct argp_option claim_options[] = {
	{ "driver", OPT_DRIVER, "NAME", 0, "The VFIO driver to use (default vfio-pci; or a variant driver)", 0 },
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Print the writes in order and change nothing", 0 },
	{ "persist", OPT_PERSIST, NULL, 0,
	  "Also declare the group (a drop-in in conf.d), so that it comes up on VFIO at every boot", 0 },
	{ "owner", OPT_OWNER, "USER[:GROUP]", 0,
	  "Hand the groups' own VFIO nodes (the group's file, its devices' cdevs) to USER (and GROUP): names of the "
	  "system root's accounts, or numbers", 0 },
	{ "mode", OPT_MODE, "MODE", 0, "The permission bits of those nodes, octal (0660)", 0 },
	{ "remove-vfs", OPT_REMOVE_VFS, NULL, 0,
	  "A PF with VFs: record their count and remove them first (vfio-pci refuses a PF with VFs); release "
	  "makes them again", 0 },
	{ "force", OPT_FORCE, "CHECK[,CHECK]", 0,
	  "Override refusals: boot-vga, mounted, netdev-active, sriov-pf, chipset, vmd, host-in-use, vfs-bound, "
	  "cannot-verify (where the kernel would not block)", 0 },
	{ 0 }
};

static error_t claim_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		state->child_inputs[1] = &o->sel;
		break;
	case OPT_DRIVER:
		o->driver = arg;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_PERSIST:
		o->persist = true;
		break;
	case OPT_REMOVE_VFS:
		o->remove_vfs = true;
		break;
	case OPT_OWNER:
		if (!*arg)
			argp_error(state, "--owner: empty USER[:GROUP]");
		o->owner = arg;
		break;
	case OPT_MODE:
		o->mode = arg;
		break;
	case OPT_FORCE:
		for (char *save = NULL, *c = strtok_r(arg, ",", &save); c; c = strtok_r(NULL, ",", &save))
			strv_push(&o->force, xstrdup(c));
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		move_targets_parse(state, key, arg, o, "to claim");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child claim_children[] = { { &move_common_argp, 0, NULL, 0 },
						     { &selectors_argp, 0, "Selectors:", 2 },
						     { 0 } };
static const struct argp claim_argp = {
	claim_options, claim_parse, "[GROUP|DEVICE...]",
	"Move every device of an IOMMU group to vfio-pci (a DEVICE selects its group), all or none: "
	"overrides first, then unbinds, then binds, verified by re-reading; any failure rolls every "
	"device back. Bridges and devices on pcieport or pci-stub are left alone. Several groups "
	"(a GPU and its audio function in two groups) move as one transaction. With --persist, the "
	"group is also declared, so that it comes up on VFIO at every boot.\v"
	"Exit status: 0 done or nothing to do, 1 refused or failed and rolled back, 2 usage or runtime "
	"error, 3 failed and the rollback is incomplete (run recover), 4 an interrupted move is pending "
	"(run recover), 5 a write is stuck in the kernel, 7 done but the report was lost, 128+N "
	"interrupted by signal N and rolled back.",
	claim_children, NULL, NULL
};

int cmd_claim(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_CLAIM, .driver = "vfio-pci" };
	command_parse(&claim_argp, argc, argv, &o);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
