// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own vfs: set a PF's VF count, no host driver binding the new VFs; with --claim, give their groups to VFIO. */
#include "config.h"

#include <argp.h>
#include <string.h>

#include "cmd/move.h"

enum { OPT_CLAIM = 0x600, OPT_REPLACE };

static const struct argp_option vfs_options[] = {
	{ "claim", OPT_CLAIM, NULL, 0, "Give every new VF's group to vfio-pci in the same transaction", 0 },
	{ "driver", MOVE_OPT_DRIVER, "NAME", 0, "With --claim: the VFIO driver (default vfio-pci; or a variant driver)", 0 },
	{ "owner", MOVE_OPT_OWNER, "USER[:GROUP]", 0, "With --claim: hand the VF groups' nodes to USER (and GROUP)", 0 },
	{ "mode", MOVE_OPT_MODE, "MODE", 0, "With --claim: the permission bits of those nodes, octal (0660)", 0 },
	{ "replace", OPT_REPLACE, NULL, 0,
	  "Allow changing the count of a PF that has VFs (the kernel goes through 0, destroying them)", 0 },
	{ "dry-run", MOVE_OPT_DRY_RUN, NULL, 0, "Print the writes in order and change nothing", 0 },
	{ "force", MOVE_OPT_FORCE, "CHECK[,CHECK]", 0,
	  "Override refusals: vfs-bound (VFs on host drivers), and those of --claim's claims", 0 },
	{ 0 }
};

struct vfs_args {
	struct move_options *o;
	unsigned operands;
};

static void count_operand(struct argp_state *state, struct move_options *o, const char *arg)
{
	unsigned long v;
	if (parse_ulong(arg, 10, &v) < 0 || v > 65535)
		argp_error(state, "COUNT: '%s' is not a number of VFs from 0 to 65535", arg);
	o->count = v;
}

static error_t vfs_parse(int key, char *arg, struct argp_state *state)
{
	struct vfs_args *a = state->input;
	struct move_options *o = a->o;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		break;
	case OPT_CLAIM:
		o->claim_vfs = true;
		break;
	case OPT_REPLACE:
		o->replace = true;
		break;
	case ARGP_KEY_ARG:
		if (a->operands == 0)
			strv_push(&o->targets, xstrdup(arg));
		else if (a->operands == 1)
			count_operand(state, o, arg);
		else
			argp_error(state, "one PF and one COUNT ('%s' is one too many)", arg);
		a->operands++;
		break;
	case ARGP_KEY_END:
		if (a->operands < 2)
			argp_error(state, "name the PF and the COUNT of VFs it should have");
		if ((o->owner || o->mode) && !o->claim_vfs)
			argp_error(state, "--owner and --mode hand off the VF groups' nodes: they go with --claim");
		break;
	default:
		return move_option(state, key, arg, o);
	}
	return 0;
}

static const struct argp_child vfs_children[] = { { &move_common_argp, 0, NULL, 0 }, { 0 } };
static const struct argp vfs_argp = {
	vfs_options, vfs_parse, "PF COUNT",
	"Give the SR-IOV physical function PF (a PCI address) COUNT virtual functions (0 removes them), with "
	"sriov_drivers_autoprobe off while they appear, so that no host driver binds them, and back as it was "
	"after. With --claim, every new VF's group is claimed for vfio-pci in the same transaction: all VFs "
	"on VFIO, or the PF back to its old count. Refused when the kernel would refuse it (a count above "
	"sriov_totalvfs, a PF without a driver that configures SR-IOV, VFs held through VFIO), when VFs that "
	"would go are bound to a driver, and, for a PF with VFs, without --replace.\v"
	"Exit status: 0 done or nothing to do, 1 refused or failed and rolled back, 2 usage or runtime "
	"error, 3 failed and the rollback is incomplete (run recover), 4 an interrupted move is pending "
	"(run recover), 5 a write is stuck in the kernel, 7 done but the report was lost, 128+N "
	"interrupted by signal N and rolled back.",
	vfs_children, NULL, NULL
};

int cmd_vfs(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_VFS, .driver = "vfio-pci" };
	struct vfs_args a = { &o, 0 };
	command_parse(&vfs_argp, argc, argv, &a);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
