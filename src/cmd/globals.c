// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The global options, accepted before or after the command, and -J's
 * promise to scripts: one JSON document on standard output whatever
 * happens. A failure that printed no report (a usage error, a sysroot that
 * cannot be opened, declarations that do not parse) still gives
 * {"error": {"code": ..., "message": ...}}, with the exit status unchanged.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/globals.h"
#include "cmd/output.h"
#include "cmd/terminal.h"
#include "os/drivers.h"

static struct context *gctx;
static bool json_mode;
static char *first_error;      /* the first error message, for the error document */
static const char *error_code; /* set where a failure knows its stable code */

/* While argp parses in JSON mode its messages are kept, to become the error document if it exits. */
static bool parsing;
static FILE *real_stderr, *capture;
static char *capture_buf;
static size_t capture_len;

bool globals_json(void)
{
	return json_mode;
}

void globals_set_json(void)
{
	json_mode = true;
}

void globals_error_code(const char *code)
{
	if (!error_code)
		error_code = code;
}

static void keep_first_error(const char *message)
{
	if (!first_error)
		first_error = xstrdup(message);
}

/*
 * Whether the command line asks for JSON, looked at before argp parses it:
 * an error in an option before -J must already be reported as JSON. A short
 * option that takes an argument ends its cluster ("-oJ" is -o J).
 */
static bool asks_json(int argc, char **argv)
{
	static const char with_arg[] = "osiD";
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (streq(a, "--"))
			break;
		if (streq(a, "--json"))
			return true;
		if (a[0] != '-' || a[1] == '-' || a[1] == '\0')
			continue;
		for (const char *c = a + 1; *c; c++) {
			if (*c == 'J')
				return true;
			if (strchr(with_arg, *c)) {
				i += c[1] == '\0'; /* its argument is the next word */
				break;
			}
		}
	}
	return false;
}

static void end_capture(void)
{
	if (!capture)
		return;
	fclose(capture);
	capture = NULL;
	stderr = real_stderr;
	if (capture_len)
		fwrite(capture_buf, 1, capture_len, stderr);
}

/* "iommu-own list: unknown column" -> "unknown column": the first line, without the program's name. */
static char *usage_message(void)
{
	if (!capture_buf || !capture_len)
		return NULL;
	const char *start = capture_buf;
	const char *nl = strchrnul(start, '\n');
	const char *colon = memmem(start, (size_t)(nl - start), ": ", 2);
	if (colon)
		start = colon + 2;
	return xstrndup(start, (size_t)(nl - start));
}

/* argp exits on a usage error (and after --help, which printed to stdout and said nothing on stderr). */
static void at_exit(void)
{
	if (!parsing)
		return;
	parsing = false;
	end_capture();
	_cleanup_free_ char *msg = usage_message();
	if (msg && !output_json_written())
		output_error_json("usage", msg);
	fflush(stdout);
	free(capture_buf);
}

void globals_init(struct context *ctx, int argc, char **argv)
{
	gctx = ctx;
	log_set_error_sink(keep_first_error);
	if (asks_json(argc, argv))
		json_mode = true;
	atexit(at_exit);
}

void globals_parse_begin(void)
{
	parsing = true;
	if (!json_mode || capture)
		return;
	free(capture_buf);
	capture_buf = NULL;
	capture_len = 0;
	FILE *m = open_memstream(&capture_buf, &capture_len);
	if (!m)
		return;
	real_stderr = stderr;
	capture = m;
	stderr = m;
}

void globals_parse_end(void)
{
	parsing = false;
	end_capture();
	free(capture_buf);
	capture_buf = NULL;
	capture_len = 0;
}

/* The code of a failure that knows none, from its exit status (the man page's list). */
static const char *code_of_status(int status)
{
	switch (status) {
	case EXIT_FINDINGS:
		return "refused";
	case EXIT_INCOMPLETE:
		return "rollback-incomplete";
	case EXIT_PENDING:
		return "pending-journal";
	case EXIT_BLOCKED:
		return "stuck-write";
	case EXIT_PARTIAL:
		return "not-applied";
	case EXIT_REPORT_LOST:
		return "report-lost";
	default:
		return status > 128 ? "interrupted" : "error";
	}
}

int globals_finish(int status)
{
	if (json_mode && status != EXIT_OK && !output_json_written())
		output_error_json(error_code ? error_code : code_of_status(status), first_error ? first_error : "failed");
	free(first_error);
	first_error = NULL;
	return status;
}

/* ---- the options ---- */

enum { OPT_COLOR = 0x1000 };

static const struct argp_option global_options[] = {
	{ "sysroot", 's', "DIR", 0, "Read the system under DIR (holds sys/; default /, or $IOMMU_OWN_SYSROOT)", 0 },
	{ "pci-ids", 'i', "FILE", 0, "Read device names from FILE instead of libpci's pci.ids", 0 },
	{ "dma-safe-driver", 'D', "NAME", 0, "Treat driver NAME as one that manages no kernel DMA (repeatable)", 0 },
	{ "json", 'J', NULL, 0, "Print JSON; on failure an error document (see the man page)", 0 },
	{ "color", OPT_COLOR, "WHEN", OPTION_ARG_OPTIONAL,
	  "Colour on a terminal: auto (default; not with NO_COLOR set), always, never", 0 },
	{ NULL, 'h', NULL, OPTION_HIDDEN, NULL, 0 },
	{ 0 }
};

static error_t global_parse(int key, char *arg, struct argp_state *state)
{
	switch (key) {
	case 's':
		if (!*arg)
			argp_error(state, "--sysroot: empty directory name");
		gctx->sysroot = arg;
		break;
	case 'i':
		if (!*arg)
			argp_error(state, "--pci-ids: empty file name");
		gctx->pci_ids = arg;
		break;
	case 'D':
		if (!*arg || strchr(arg, '/'))
			argp_error(state, "--dma-safe-driver: '%s' is not a driver name", arg);
		drivers_add_dma_safe(arg);
		break;
	case 'J':
		json_mode = true;
		break;
	case 'h':
		argp_state_help(state, stdout, ARGP_HELP_STD_HELP);
		break;
	case OPT_COLOR:
		if (!arg || streq(arg, "always"))
			term_set_color_mode(COLOR_ALWAYS);
		else if (streq(arg, "auto"))
			term_set_color_mode(COLOR_AUTO);
		else if (streq(arg, "never"))
			term_set_color_mode(COLOR_NEVER);
		else
			argp_error(state, "--color: '%s' is none of auto, always, never", arg);
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp globals_argp = { global_options, global_parse, NULL, NULL, NULL, NULL, NULL };
