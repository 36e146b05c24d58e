/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command table's view of a run: global options, and each command's entry point. */
#pragma once

#include <argp.h>

#include "os/kaccess.h"
#include "core/model.h"
#include "core/select.h"
#include "shared/util.h"

struct context {
	const char *sysroot;
	const char *pci_ids;
	struct ka *ka; /* opened by context_open() */
};

/* Open the sysroot; prints a message naming it on failure. */
int context_open(struct context *ctx);

struct pcidb;
/*
 * Names and config space (serial numbers, headers) of the sysroot's devices;
 * prints a message naming the sysroot on failure (negative errno).
 */
int context_open_config(struct context *ctx, struct pcidb **ret);

/* Open the sysroot, read the model with flags (MODEL_*), select what the
 * arguments name. Messages are printed; returns a negative errno. */
int context_load(struct context *ctx, unsigned flags, int argc, char **argv, struct system **ret);

/*
 * For commands that take exactly one operand, called from their argp parser
 * with ARGP_KEY_ARG and ARGP_KEY_END: stores it in *slot, or stops with a
 * usage error naming the extra or missing operand ("GROUP or DEVICE", "to claim").
 */
void command_one_operand(struct argp_state *state, int key, const char **slot, const char *arg, const char *what,
			 const char *purpose);

/*
 * The start of a command line to paste as it is into a shell: "iommu-own",
 * or "iommu-own --sysroot DIR" when the tool runs on another root. The
 * caller frees it.
 */
char *context_command(const struct context *ctx);
/* " --state-dir DIR" (shell-quoted) when dir is set, else "". The caller frees it. */
char *state_dir_option(const char *dir);

/* The selector options (--slot, -d, --class, --netdev, --blockdev): an argp child whose input is a struct selectors. */
extern const struct argp selectors_argp;
/*
 * context_load, with the devices the selectors pick added to argv's: the
 * selection is their union. state_dir: where claim records are (NULL: the
 * kernel's), for interfaces and disks gone with their host driver.
 */
int context_load_selected(struct context *ctx, unsigned flags, int argc, char **argv, const struct selectors *sel,
			  const char *state_dir, struct system **ret);
/* The addresses the selectors pick in sys, added to targets (messages printed). */
int context_pick(struct context *ctx, const struct selectors *sel, const struct system *sys, const char *state_dir,
		 struct strv *targets);

/* Parse a command's own arguments with argv[0] as "iommu-own CMD". */
int command_parse(const struct argp *argp, int argc, char **argv, void *input);

struct command {
	const char *name;
	int (*run)(struct context *ctx, int argc, char **argv);
	const char *help;
};

/* Each returns an exit status (EXIT_*). argv[0] is the command name. */
int cmd_list(struct context *ctx, int argc, char **argv);
int cmd_check(struct context *ctx, int argc, char **argv);
int cmd_claim(struct context *ctx, int argc, char **argv);
int cmd_release(struct context *ctx, int argc, char **argv);
int cmd_recover(struct context *ctx, int argc, char **argv);
int cmd_apply(struct context *ctx, int argc, char **argv);
int cmd_vfs(struct context *ctx, int argc, char **argv);
int cmd_boot(struct context *ctx, int argc, char **argv);
int cmd_snapshot(struct context *ctx, int argc, char **argv);
int cmd_why(struct context *ctx, int argc, char **argv);
