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
#include "cmd/globals.h"
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

struct main_args {
	int cmd_index; /* argv index of the command, or -1 */
};

static error_t main_parse(int key, char *arg _unused_, struct argp_state *state)
{
	struct main_args *g = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = NULL;
		break;
	case ARGP_KEY_ARG:
		/* The command: stop here, it parses the rest itself (the global options too). */
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

static const struct argp_child main_children[] = { { &globals_argp, 0, NULL, 0 }, { 0 } };
static const struct argp main_argp = { NULL, main_parse, "[COMMAND [OPTIONS] [GROUP|DEVICE...]]",
				       doc, main_children, global_help_filter, NULL };

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

/* Edit distance of two short words (a command name and what was typed). */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 32 || lb > 32)
		return SIZE_MAX;
	size_t d[33][33];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++)
		for (size_t j = 1; j <= lb; j++) {
			size_t sub = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			size_t del = d[i - 1][j] + 1, ins = d[i][j - 1] + 1;
			d[i][j] = sub < del ? (sub < ins ? sub : ins) : (del < ins ? del : ins);
		}
	return d[la][lb];
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++)
		if (streq(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* The command nearest to a mistyped one ("lsit", "claime"), or NULL when none is close. */
static const char *nearest_command(const char *name)
{
	const char *best = NULL;
	size_t bestd = 3;
	for (size_t i = 0; i < ARRAY_SIZE(commands); i++) {
		size_t d = distance(commands[i].name, name);
		if (d < bestd || (strncmp(commands[i].name, name, strlen(name)) == 0 && strlen(name) >= 2 && d < 99)) {
			bestd = d;
			best = commands[i].name;
		}
	}
	return best;
}

static int unknown_command(const char *name)
{
	const char *near = nearest_command(name);
	globals_error_code("usage");
	if (near)
		log_error("unknown command '%s': did you mean '%s'? (see '%s --help')", name, near, program_name);
	else
		log_error("unknown command '%s' (see '%s --help')", name, program_name);
	return EXIT_USAGE;
}

/* help [COMMAND]: the tool's help, or the command's (its --help). */
static int run_help(struct context *ctx, int argc, char **argv)
{
	if (argc < 2) {
		char *args[] = { (char *)program_name, (char *)"--help", NULL };
		globals_parse_begin();
		argp_parse(&main_argp, 2, args, ARGP_IN_ORDER, NULL, &(struct main_args){ -1 });
		globals_parse_end();
		return EXIT_OK;
	}
	const struct command *cmd = find_command(argv[1]);
	if (!cmd)
		return unknown_command(argv[1]);
	char *args[] = { argv[1], (char *)"--help", NULL };
	return cmd->run(ctx, 2, args);
}

static int run_command(struct context *ctx, int argc, char **argv, const struct main_args *g)
{
	if (g->cmd_index < 0) {
		char *args[] = { (char *)"list", NULL };
		return cmd_list(ctx, 1, args);
	}
	const char *name = argv[g->cmd_index];
	if (streq(name, "help"))
		return run_help(ctx, argc - g->cmd_index, argv + g->cmd_index);
	const struct command *cmd = find_command(name);
	if (!cmd)
		return unknown_command(name);
	return cmd->run(ctx, argc - g->cmd_index, argv + g->cmd_index);
}

int main(int argc, char **argv)
{
	guard_std_fds();
	setlocale(LC_ALL, "");
	argp_err_exit_status = EXIT_USAGE;
	struct context ctx = { 0 };
	const char *env = getenv("IOMMU_OWN_SYSROOT");
	ctx.sysroot = env && *env ? env : "/";
	globals_init(&ctx, argc, argv);

	struct main_args g = { -1 };
	globals_parse_begin();
	argp_parse(&main_argp, argc, argv, ARGP_IN_ORDER, NULL, &g);
	globals_parse_end();

	int r = run_command(&ctx, argc, argv, &g);
	ka_free(ctx.ka);
	drivers_reset_extra();
	/* A command that printed its report checked it already (a move's EXIT_REPORT_LOST). */
	if ((fflush(stdout) != 0 || ferror(stdout)) && (r == EXIT_OK || r == EXIT_FINDINGS)) {
		log_error("write error on standard output");
		return EXIT_USAGE;
	}
	return globals_finish(r);
}
