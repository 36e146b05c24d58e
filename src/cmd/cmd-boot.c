// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * iommu-own boot: the boot step of the declarations (core/boot.c), run by
 * the initramfs (initramfs-tools' init-top, dracut's pre-trigger hook or
 * unit), by iommu-own-boot.service before udev's coldplug trigger, and by
 * the udev rule for each PCI device that appears (--device).
 */
#include "config.h"

#include <argp.h>
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/globals.h"
#include "cmd/output.h"
#include "core/boot.h"
#include "os/pcidb.h"
#include "os/layout.h"
#include "os/state.h"
#include "shared/escape.h"

struct boot_args {
	const char *device;
	bool udev;
};

enum { OPT_DEVICE = 0x800, OPT_UDEV };

static const struct argp_option boot_options[] = {
	{ "device", OPT_DEVICE, "ADDRESS", 0, "Only this device, which just appeared (the udev rule's call)", 0 },
	{ "udev", OPT_UDEV, NULL, 0,
	  "Print IOMMU_OWN_DECLARED=1 when the device belongs to a declared group, for udev's IMPORT{program}", 0 },
	{ 0 }
};

static error_t boot_parse(int key, char *arg, struct argp_state *state)
{
	struct boot_args *a = state->input;
	switch (key) {
	case OPT_DEVICE:
		a->device = arg;
		break;
	case OPT_UDEV:
		a->udev = true;
		break;
	case ARGP_KEY_ARG:
		argp_error(state, "boot takes no arguments ('%s')", arg);
		break;
	case ARGP_KEY_END:
		if (a->udev && !a->device)
			argp_error(state, "--udev goes with --device");
		if (a->udev && globals_json())
			argp_error(state, "--udev prints udev's KEY=value lines: not with --json");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp boot_argp = {
	boot_options, boot_parse, NULL,
	"The boot step of the declarations (iommu-own.conf(5)): before udev's coldplug trigger, give every "
	"device of every declared group its declared VFIO driver as driver_override, so that no host driver "
	"binds it; record what was done in the kernel's state directory (boot.json, kept from the first run of "
	"the boot, the initramfs's), for check. Loads, "
	"unbinds and binds nothing: iommu-own apply does. A declaration whose device drifted is left alone, and "
	"so is the boot display unless its entry forces boot-vga. With iommu_own=off on the kernel command "
	"line it does nothing.\v"
	"Exit status: 0 every declaration enforced (or nothing declared), 2 usage or runtime error (a "
	"declaration that does not parse), 6 a declaration left alone (drift, the boot display).",
	NULL, NULL, NULL
};

/*
 * iommu_own=off on the kernel command line turns every boot step off, for a
 * rescue boot. Parameters are separated by any white space, as the kernel
 * (and systemd's ConditionKernelCommandLine=) split them.
 */
static bool turned_off(const struct system *sys)
{
	const char *c = sys->cmdline;
	for (const char *p = c ? strstr(c, "iommu_own=off") : NULL; p; p = strstr(p + 1, "iommu_own=off"))
		if ((p == c || isspace((unsigned char)p[-1])) && (p[13] == '\0' || isspace((unsigned char)p[13])))
			return true;
	return false;
}

static void say(const struct boot_result *b, bool quiet)
{
	for (size_t i = 0; i < b->n; i++) {
		const struct boot_entry *x = &b->v[i];
		if (x->skipped) {
			esc_fprintf(stderr, "%s: boot: %s:%u: [device %s] left alone (%s): %s\n", program_name, x->decl->file,
				    x->decl->line, x->decl->address, x->skipped, x->why ? x->why : "");
		} else if (!quiet) {
			_cleanup_free_ char *devs = strv_join(&x->devices, " ");
			esc_fprintf(stderr, "%s: boot: %s:%u: [device %s] driver_override %s: %s\n", program_name,
				    x->decl->file, x->decl->line, x->decl->address, x->decl->driver,
				    *devs ? devs : "already set");
		}
	}
}

static int write_record(struct context *ctx, const struct boot_result *b, bool off)
{
	struct state st;
	if (state_open_kernel(&st, ctx->ka, true) < 0)
		return -EIO;
	/*
	 * The first boot step of this boot (the initramfs's) keeps its record:
	 * the root's own run must not hide that the image enforced older
	 * declarations (check's boot-stale). /run starts empty at every boot.
	 */
	if (state_exists(&st, "boot.json")) {
		state_close(&st);
		return 0;
	}
	_cleanup_(json_object_putp) struct json_object *doc = boot_record(b, off);
	int r = state_write(&st, "boot.json", doc);
	if (r < 0)
		log_error("%s/boot.json: %s", st.path, strerror(-r));
	state_close(&st);
	return r;
}

/* -J: what boot.json records, with the writes made and the exit status's meaning. */
static int report_json(const struct boot_result *b, bool off, int status)
{
	_cleanup_(json_object_putp) struct json_object *doc = boot_record(b, off);
	json_object_object_add(doc, "operation", json_str("boot"));
	json_object_object_add(doc, "writes", json_object_new_uint64(b->writes));
	json_object_object_add(doc, "failed", json_object_new_uint64(b->failed));
	json_object_object_add(doc, "result", json_str(status == EXIT_OK ? "enforced" : status == EXIT_PARTIAL ? "partial" : "failed"));
	return output_json(doc);
}

static int run_boot(struct context *ctx, const struct boot_args *a)
{
	if (context_open(ctx) < 0)
		return EXIT_USAGE;
	_cleanup_(model_freep) struct system *sys = NULL;
	unsigned flags = MODEL_IDS | MODEL_OVERRIDE | MODEL_BOOT_VGA | MODEL_PARAMS;
	int r = a->device ? model_load_group(ctx->ka, flags, a->device, &sys) : model_load(ctx->ka, flags, &sys);
	if (r == -ENXIO)
		return EXIT_OK; /* in no IOMMU group: nothing declared can be about it */
	if (r < 0)
		return EXIT_USAGE;
	/* Even a boot step with nothing to do records it: declarations added later are then seen as stale. */
	bool may_record = !a->device && !(ka_is_live(ctx->ka) && geteuid() != 0);
	struct boot_result none = { 0 };
	if (turned_off(sys)) {
		if (!a->device)
			log_warning("boot: iommu_own=off on the kernel command line: the declarations are not enforced");
		if (may_record)
			write_record(ctx, &none, true);
		return globals_json() && report_json(&none, true, EXIT_OK) < 0 ? EXIT_USAGE : EXIT_OK;
	}
	struct decls ds;
	if (decls_load(ctx->ka, NULL, &ds) < 0) {
		globals_error_code("declarations");
		return EXIT_USAGE;
	}
	if (decls_active(&ds) == 0) {
		if (may_record)
			write_record(ctx, &none, false);
		decls_free(&ds);
		return globals_json() && report_json(&none, false, EXIT_OK) < 0 ? EXIT_USAGE : EXIT_OK;
	}
	int status = EXIT_OK;
	if (ka_is_live(ctx->ka) && geteuid() != 0) {
		log_error("boot sets the running kernel's driver overrides and needs root");
		status = EXIT_USAGE;
	} else if (ka_writer_open(ctx->ka) < 0) {
		status = EXIT_USAGE;
	}
	struct boot_result b = { 0 };
	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	if (status == EXIT_OK && decls_pin_serial(&ds) && context_open_config(ctx, &db) < 0)
		status = EXIT_USAGE;
	if (status == EXIT_OK) {
		r = boot_enforce(ctx->ka, sys, db, &ds, a->device, &b);
		say(&b, a->udev);
		bool enforced = false;
		for (size_t i = 0; i < b.n; i++) {
			enforced |= !b.v[i].skipped;
			if (b.v[i].skipped && status == EXIT_OK)
				status = EXIT_PARTIAL;
		}
		if (r < 0)
			status = EXIT_USAGE;
		/*
		 * udev's IMPORT{program} drops the output of a program that fails:
		 * an entry left alone is said on stderr, and the event goes on.
		 */
		if (a->udev && status == EXIT_PARTIAL)
			status = EXIT_OK;
		if (a->udev && enforced)
			printf("IOMMU_OWN_DECLARED=1\n");
		if (!a->device && write_record(ctx, &b, false) < 0 && status == EXIT_OK)
			status = EXIT_USAGE;
	}
	if (globals_json() && report_json(&b, false, status) < 0)
		status = EXIT_USAGE;
	boot_result_free(&b);
	decls_free(&ds);
	return status;
}

int cmd_boot(struct context *ctx, int argc, char **argv)
{
	struct boot_args a = { 0 };
	command_parse(&boot_argp, argc, argv, &a);
	return run_boot(ctx, &a);
}
