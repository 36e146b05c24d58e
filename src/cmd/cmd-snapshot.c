// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own snapshot DIR: the command; the capture itself is os/capture.c. */
#include "config.h"

#include <argp.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "cmd/commands.h"
#include "cmd/globals.h"
#include "cmd/output.h"
#include "os/capture.h"
#include "shared/escape.h"

struct snapshot_args {
	const char *dir;
	struct capture_options o;
};

enum { OPT_NO_CONFIG = 0x600, OPT_NO_SERIAL };

static const struct argp_option snapshot_options[] = {
	{ "no-config", OPT_NO_CONFIG, NULL, 0, "Leave out config space (then 'why' and bridge detection by header type have less to go on)", 0 },
	{ "no-serial", OPT_NO_SERIAL, NULL, 0, "Leave out serial numbers: the Device Serial Number capability is zeroed, MAC addresses are not copied", 0 },
	{ 0 }
};

static error_t snapshot_parse(int key, char *arg, struct argp_state *state)
{
	struct snapshot_args *a = state->input;
	switch (key) {
	case OPT_NO_CONFIG:
		a->o.no_config = true;
		break;
	case OPT_NO_SERIAL:
		a->o.no_serial = true;
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		command_one_operand(state, key, &a->dir, arg, "DIR", "to write the snapshot to");
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp snapshot_argp = {
	snapshot_options, snapshot_parse, "DIR",
	"Capture the PCI devices, drivers, IOMMU groups, VFIO parameters and module index of the system "
	"(or of --sysroot) into DIR, a new or empty directory, as a sysroot that --sysroot replays: "
	"'iommu-own --sysroot DIR list --json' prints what the system printed. Write-only attributes "
	"become empty files; resource files, rom and vpd are left out (they can hang or are large).\v"
	"Exit status: 0 written, 2 usage or runtime error.",
	NULL, NULL, NULL
};

static int open_output(const char *dir)
{
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		log_error("snapshot: cannot create %s: %s", dir, strerror(errno));
		return -errno;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		log_error("snapshot: %s: %s", dir, strerror(errno));
		return -errno;
	}
	struct statfs sfs;
	DIR *d = fdopendir(dup(fd));
	bool empty = true;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (!streq(de->d_name, ".") && !streq(de->d_name, ".."))
				empty = false;
		closedir(d);
	}
	if (!empty || (fstatfs(fd, &sfs) == 0 && (sfs.f_type == SYSFS_MAGIC || sfs.f_type == PROC_SUPER_MAGIC))) {
		log_error("snapshot: %s is not a new or empty directory", dir);
		close(fd);
		return -EEXIST;
	}
	return fd;
}

int cmd_snapshot(struct context *ctx, int argc, char **argv)
{
	struct snapshot_args a = { 0 };
	command_parse(&snapshot_argp, argc, argv, &a);
	if (context_open(ctx) < 0)
		return EXIT_USAGE;
	int outfd = open_output(a.dir);
	if (outfd < 0)
		return EXIT_USAGE;
	struct capture_stats s;
	int r = capture_run(ctx->ka, outfd, &a.o, &s);
	close(outfd);
	if (r < 0) {
		log_error("snapshot of %s into %s failed: %s", ka_root(ctx->ka), a.dir, ka_strerror(r));
		return EXIT_USAGE;
	}
	esc_fprintf(stderr, "%s: snapshot of %s in %s: %u files, %u links%s\n", program_name, ka_root(ctx->ka), a.dir,
		s.files, s.links, s.skipped ? " (some unreadable attributes written empty)" : "");
	if (globals_json()) {
		_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
		json_object_object_add(doc, "operation", json_str("snapshot"));
		json_object_object_add(doc, "root", json_str(ka_root(ctx->ka)));
		json_object_object_add(doc, "directory", json_str(a.dir));
		json_object_object_add(doc, "files", json_object_new_uint64(s.files));
		json_object_object_add(doc, "links", json_object_new_uint64(s.links));
		json_object_object_add(doc, "unreadable_written_empty", json_object_new_boolean(s.skipped));
		if (output_json(doc) < 0)
			return EXIT_USAGE;
	}
	return EXIT_OK;
}
