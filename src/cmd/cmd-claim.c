// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own claim: move a whole group to a VFIO driver, all devices or none. */
#include "config.h"

#include <argp.h>

#include "cmd/move.h"

static const struct argp_option claim_options[] = {
	{ "driver", MOVE_OPT_DRIVER, "NAME", 0, "The VFIO driver to use (default vfio-pci; or a variant driver)", 0 },
	{ "dry-run", MOVE_OPT_DRY_RUN, NULL, 0, "Print the writes in order and change nothing", 0 },
	{ "persist", MOVE_OPT_PERSIST, NULL, 0,
	  "Also declare the group (a drop-in in conf.d), so that it comes up on VFIO at every boot", 0 },
	{ "owner", MOVE_OPT_OWNER, "USER[:GROUP]", 0,
	  "Hand the groups' own VFIO nodes (the group's file, its devices' cdevs) to USER (and GROUP): names of the "
	  "system root's accounts, or numbers", 0 },
	{ "mode", MOVE_OPT_MODE, "MODE", 0, "The permission bits of those nodes, octal (0660)", 0 },
	{ "remove-vfs", MOVE_OPT_REMOVE_VFS, NULL, 0,
	  "A PF with VFs: record their count and remove them first (vfio-pci refuses a PF with VFs); release "
	  "makes them again", 0 },
	{ "force", MOVE_OPT_FORCE, "CHECK[,CHECK]", 0,
	  "Override refusals: boot-vga, mounted, netdev-active, sriov-pf, chipset, vmd, host-in-use, vfs-bound, "
	  "cannot-verify (where the kernel would not block)", 0 },
	{ 0 }
};

static const struct argp claim_argp = {
	claim_options, move_groups_parse, "[GROUP|DEVICE...]",
	"Move every device of an IOMMU group to vfio-pci (a DEVICE selects its group), all or none: "
	"overrides first, then unbinds, then binds, verified by re-reading; any failure rolls every "
	"device back. Bridges and devices on pcieport or pci-stub are left alone. Several groups "
	"(a GPU and its audio function in two groups) move as one transaction. With --persist, the "
	"group is also declared, so that it comes up on VFIO at every boot.\v"
	MOVE_EXIT_STATUS,
	move_groups_children, NULL, NULL
};

int cmd_claim(struct context *ctx, int argc, char **argv)
{
	struct move_options o = { .cmd = CMD_CLAIM, .driver = "vfio-pci" };
	command_parse(&claim_argp, argc, argv, &o);
	int status = move_run(ctx, &o);
	move_options_free(&o);
	return status;
}
