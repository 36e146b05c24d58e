// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own: the global options and the command table. */
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/commands.h"
#include "os/layout.h"
#include "os/drivers.h"

static const struct command commands[] = {
	{ "list", cmd_list, "Show every IOMMU group, its owner and its devices (default)" },
	{ "check", cmd_check, "Audit the groups: mixed ownership, missing IOMMU, unsafe settings" },
	{ "why", cmd_why, "Explain why devices share a group, and what would split it" },
	{ "claim", cmd_claim, "Move a whole group to vfio-pci, all devices or none" },
	{ "release", cmd_release, "Move a group back to its kernel drivers, all devices or none" },
	{ "recover", cmd_recover, "Finish or roll back an interrupted claim or release" },
	{ "vfs", cmd_vfs, "Create or remove a PF's VFs, kept from host drivers" },
	{ "apply", cmd_apply, "Bring the declared groups (iommu-own.conf) to VFIO, all or none" },
	{ "boot", cmd_boot, "The boot step: declared groups kept from host drivers" },
	{ "snapshot", cmd_snapshot, "Capture the system's PCI and IOMMU state as a replayable sysroot" },
};

const char *argp_program_version = PACKAGE_NAME " " PACKAGE_VERSION;

static const struct argp_option global_options[] = {
	{ "sysroot", 's', "DIR", 0, "Read the system under DIR (holds sys/; default /, or $IOMMU_OWN_SYSROOT)", 0 },
	{ "pci-ids", 'i', "FILE", 0, "Read device names from FILE instead of libpci's pci.ids", 0 },
	{ "dma-safe-driver", 'D', "NAME", 0,
	  "Treat driver NAME as one that manages no kernel DMA (repeatable)", 0 },
	{ 0 }
};

struct global_args {
	struct context *ctx;
	int cmd_index; /* argv index of the command, or -1 */
};

static error_t global_parse(int key, char *arg, struct argp_state *state)
{
	struct global_args *g = state->input;
	switch (key) {
	case 's':
		if (!*arg)
			argp_error(state, "--sysroot: empty directory name");
		g->ctx->sysroot = arg;
		break;
	case 'i':
		g->ctx->pci_ids = arg;
		break;
	case 'D':
		if (!*arg || strchr(arg, '/'))
			argp_error(state, "--dma-safe-driver: '%s' is not a driver name", arg);
		drivers_add_dma_safe(arg);
		break;
	case ARGP_KEY_ARG:
		/* The command: stop here, it parses the rest itself. */
		g->cmd_index = state->next - 1;
		state->next = state->argc;
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static char doc[] =
	"Report and change who owns the DMA of each IOMMU group: kernel drivers, "
	"user space (VFIO), nobody, or both at once (mixed).\v"
	"'iommu-own COMMAND --help' describes a command. Exit status: 0 success, "
	"1 findings or refusal, 2 usage or runtime error, 3 incomplete rollback, 4 an interrupted move "
	"is pending, 5 a write is stuck in the kernel, 6 some declarations were not applied (apply, boot), 7 done but "
	"the report was lost, 128+N interrupted "
	"by signal N (see the man page, EXIT STATUS).";

/* The command list in --help comes from the command table. */
static char *global_help_filter(int key, const char *text, void *input _unused_)
{
	if (key != ARGP_KEY_HELP_POST_DOC || !text)
		return (char *)text;
	char *out = xstrdup("Commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		char *next = xasprintf("%s  %-9s %s\n", out, commands[i].name, commands[i].help);
		free(out);
		out = next;
	}
	char *all = xasprintf("%s\n%s", out, text);
	free(out);
	return all;
}

static const struct argp global_argp = { global_options, global_parse, "[COMMAND [OPTIONS] [GROUP|DEVICE...]]",
					 doc, NULL, global_help_filter, NULL };

/*
 * A standard descriptor that is closed gets /dev/null opened the wrong way
 * round: what the tool opens later (a journal, a lock) can then never become
 * its stdout, and a report written there fails as a write should.
 */
static void guard_std_fds(void)
{
	for (int fd = 0; fd < 3; fd++)
		if (fcntl(fd, F_GETFD) < 0 && errno == EBADF) {
			int n = open(LAY_DEV_NULL, (fd == 0 ? O_WRONLY : O_RDONLY) | O_CLOEXEC);
			if (n >= 0 && n != fd) {
				dup2(n, fd);
				close(n);
			}
		}
}

int main(int argc, char **argv)
{
	guard_std_fds();
	setlocale(LC_ALL, "");
	argp_err_exit_status = EXIT_USAGE;
	struct context ctx = { 0 };
	const char *env = getenv("IOMMU_OWN_SYSROOT");
	ctx.sysroot = env && *env ? env : "/";

	struct global_args g = { &ctx, -1 };
	argp_parse(&global_argp, argc, argv, ARGP_IN_ORDER, NULL, &g);

	int r;
	if (g.cmd_index < 0) {
		char *args[] = { (char *)"list", NULL };
		r = cmd_list(&ctx, 1, args);
	} else {
		const char *name = argv[g.cmd_index];
		const struct command *cmd = NULL;
		for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
			if (streq(commands[i].name, name))
				cmd = &commands[i];
		if (!cmd) {
			log_error("unknown command '%s' (see '%s --help')", name, program_name);
			return EXIT_USAGE;
		}
		r = cmd->run(&ctx, argc - g.cmd_index, argv + g.cmd_index);
	}
	ka_free(ctx.ka);
	drivers_reset_extra();
	/* A command that printed its report checked it already (a move's EXIT_REPORT_LOST). */
	if ((fflush(stdout) != 0 || ferror(stdout)) && (r == EXIT_OK || r == EXIT_FINDINGS)) {
		log_error("write error on standard output");
		return EXIT_USAGE;
	}
	return r;
}
