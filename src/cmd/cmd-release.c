// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own release: move a group back from VFIO to its kernel drivers. */
#include "config.h"

#include <argp.h>

#include "cmd/move.h"

enum { OPT_DRY_RUN = 0x500, OPT_PERSIST };

static const struct argp_option release_options[] = {
	{ "dry-run", OPT_DRY_RUN, NULL, 0, "Print the writes in order and change nothing", 0 },
	{ "persist", OPT_PERSIST, NULL, 0, "Also remove the group's declaration that claim --persist wrote", 0 },
	{ 0 }
};

static error_t release_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		state->child_inputs[1] = &o->sel;
		break;
	case OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case OPT_PERSIST:
		o->persist = true;
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		move_targets_parse(state, key, arg, o, "to release");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child release_children[] = { { &move_common_argp, 0, NULL, 0 },
						     { &selectors_argp, 0, "Selectors:", 2 },
						     { 0 } };
static const struct argp release_argp = {
	release_options, release_parse, "[GROUP|DEVICE...]",
	"Move the VFIO devices of an IOMMU group back to the drivers they had before 'iommu-own claim', as "
	"recorded; without a record, clear their overrides and let the kernel choose, loading the module "
	"that matches each device first. All devices or none; several groups as one transaction. Refused "
	"while a process holds the group open. With --persist, the declaration claim --persist wrote is "
	"removed too.\v"
	"Exit status: 0 done or nothing to do, 1 refused or failed and rolled back, 2 usage or runtime "
	"error, 3 failed and the rollback is incomplete (run recover), 4 an interrupted move is pending "
	"(run recover), 5 a write is stuck in the kernel, 7 done but the report was lost, 128+N "
	"interrupted by signal N and rolled back.",
	release_children, NULL, NULL
};

int cmd_release(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_RELEASE };
	command_parse(&release_argp, argc, argv, &o);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
