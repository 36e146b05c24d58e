// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own release: move a group back from VFIO to its kernel drivers. */
#include "config.h"

#include <argp.h>

#include "cmd/move.h"

static const struct argp_option release_options[] = {
	{ "dry-run", MOVE_OPT_DRY_RUN, NULL, 0, "Print the writes in order and change nothing", 0 },
	{ "persist", MOVE_OPT_PERSIST, NULL, 0, "Also remove the group's declaration that claim --persist wrote", 0 },
	{ 0 }
};

static const struct argp release_argp = {
	release_options, move_groups_parse, "[GROUP|DEVICE...]",
	"Move the VFIO devices of an IOMMU group back to the drivers they had before 'iommu-own claim', as "
	"recorded; without a record, clear their overrides and let the kernel choose, loading the module "
	"that matches each device first. All devices or none; several groups as one transaction. Refused "
	"while a process holds the group open. With --persist, the declaration claim --persist wrote is "
	"removed too.\v"
	MOVE_EXIT_STATUS,
	move_groups_children, NULL, NULL
};

int cmd_release(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_RELEASE };
	command_parse(&release_argp, argc, argv, &o);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
