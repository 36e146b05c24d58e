// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * floor: the syscall floor of reading who owns each IOMMU group's DMA.
 *
 *   floor [--same-info] [--checked] SYSROOT
 *
 * Does only the system calls the information needs: list
 * sys/kernel/iommu_groups, list each group's devices, and for each device
 * read its driver link and four attributes (vendor, device, class,
 * driver_override): one getdents64 per directory (64 KiB buffer), an O_PATH
 * fd per device directory, readlinkat for the driver, then openat + one read
 * + close per attribute, all relative to directory fds. Prints counts so
 * that none of it can be optimised away. Names starting with '.' are
 * skipped, as the fixture trees keep empty directories with a .keep file.
 * No libc buffering, no allocation per device: the lower bound that
 * bench/run.sh compares iommu-own with.
 *
 * --same-info reads what `list --json` prints, the way iommu-own reads it:
 * the IDs and class from one read of uevent instead of three attributes,
 * and beyond the four: each group's type, each device's reset_method, and for a device on
 * vfio-pci its consumer's nodes (its vfio-dev/ entries listed, the group's
 * dev/vfio/N and dev/vfio/vfio looked at). --checked looks at each
 * attribute with fstatat before opening it, as iommu-own does in a tree
 * that is not sysfs (a captured tree may hold FIFOs and device nodes).
 * Neither resolves beneath the root (openat2) nor prints names: the
 * difference from iommu-own is then the tool's own work.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

struct linux_dirent64 {
	uint64_t d_ino;
	int64_t d_off;
	unsigned short d_reclen;
	unsigned char d_type;
	char d_name[];
};

static char groupbuf[64 * 1024], devbuf[64 * 1024];
static int same_info, checked, vfiofd = -1;

struct counts {
	unsigned long groups, devices, bound, vfio, overrides, errors;
	unsigned long types, resets, nodes; /* --same-info */
	unsigned long idsum; /* vendor + device + class of all: keeps the parsing */
};

static int read_attr(int dfd, const char *name, char *buf, size_t size)
{
	struct stat st;
	if (checked && (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISREG(st.st_mode)))
		return -1;
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return (int)n;
}

static void ids_from_uevent(int dfd, struct counts *c)
{
	char u[1024];
	if (read_attr(dfd, "uevent", u, sizeof(u)) < 0) {
		c->errors++;
		return;
	}
	const char *id = strstr(u, "PCI_ID="), *cl = strstr(u, "PCI_CLASS=");
	if (!id || !cl) {
		c->errors++;
		return;
	}
	char *end;
	c->idsum += strtoul(id + 7, &end, 16);
	c->idsum += *end == ':' ? strtoul(end + 1, NULL, 16) : 0;
	c->idsum += strtoul(cl + 10, NULL, 16);
}

/* The consumer's nodes of a device on vfio-pci: its cdev names, the group's node and the container's. */
static void consumer(int dfd, const char *group, struct counts *c)
{
	int vfd = openat(dfd, "vfio-dev", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (vfd >= 0) {
		while (syscall(SYS_getdents64, vfd, devbuf + 32768, 32768) > 0)
			c->nodes++;
		close(vfd);
	}
	struct stat st;
	c->nodes += vfiofd >= 0 && fstatat(vfiofd, group, &st, AT_SYMLINK_NOFOLLOW) == 0;
	c->nodes += vfiofd >= 0 && fstatat(vfiofd, "vfio", &st, AT_SYMLINK_NOFOLLOW) == 0;
}

static void device(int devsfd, const char *name, const char *group, struct counts *c)
{
	int dfd = openat(devsfd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0) {
		c->errors++;
		return;
	}
	c->devices++;
	char link[4096];
	ssize_t n = readlinkat(dfd, "driver", link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		const char *base = strrchr(link, '/');
		base = base ? base + 1 : link;
		c->bound++;
		c->vfio += strcmp(base, "vfio-pci") == 0;
	}
	static const char *const ids[] = { "vendor", "device", "class" };
	char v[256];
	for (size_t i = 0; i < 3 && !same_info; i++) {
		if (read_attr(dfd, ids[i], v, sizeof(v)) < 0)
			c->errors++;
		else
			c->idsum += strtoul(v, NULL, 16);
	}
	if (same_info) /* the IDs and class of one read, as iommu-own reads them */
		ids_from_uevent(dfd, c);
	if (read_attr(dfd, "driver_override", v, sizeof(v)) >= 0 && v[0] && strcmp(v, "(null)") != 0)
		c->overrides++;
	if (same_info) {
		c->resets += read_attr(dfd, "reset_method", v, sizeof(v)) > 0;
		if (n > 0 && strcmp(strrchr(link, '/') ? strrchr(link, '/') + 1 : link, "vfio-pci") == 0)
			consumer(dfd, group, c);
	}
	close(dfd);
}

static void group(int groupsfd, const char *name, struct counts *c)
{
	char rel[300];
	snprintf(rel, sizeof(rel), "%s/devices", name);
	int devsfd = openat(groupsfd, rel, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (devsfd < 0) {
		c->errors++;
		return;
	}
	c->groups++;
	for (;;) {
		long n = syscall(SYS_getdents64, devsfd, devbuf, sizeof(devbuf));
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(devbuf + off);
			off += de->d_reclen;
			if (de->d_name[0] != '.')
				device(devsfd, de->d_name, name, c);
		}
	}
	close(devsfd);
	if (same_info) {
		char v[64];
		snprintf(rel, sizeof(rel), "%s/type", name);
		c->types += read_attr(groupsfd, rel, v, sizeof(v)) > 0;
	}
}

int main(int argc, char **argv)
{
	for (; argc > 2 && argv[1][0] == '-'; argc--, argv++) {
		if (strcmp(argv[1], "--same-info") == 0)
			same_info = 1;
		else if (strcmp(argv[1], "--checked") == 0)
			checked = 1;
		else
			break;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: floor [--same-info] [--checked] SYSROOT\n");
		return 2;
	}
	int root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		perror(argv[1]);
		return 2;
	}
	if (same_info)
		vfiofd = openat(root, "dev/vfio", O_PATH | O_DIRECTORY | O_CLOEXEC);
	int groupsfd = openat(root, "sys/kernel/iommu_groups", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (groupsfd < 0) {
		perror("sys/kernel/iommu_groups");
		return 2;
	}
	struct counts c = { 0 };
	/*
	 * Groups are listed with one getdents64 and walked from the buffer: the
	 * group loop reuses only devbuf, so groupbuf stays intact.
	 */
	for (;;) {
		long n = syscall(SYS_getdents64, groupsfd, groupbuf, sizeof(groupbuf));
		if (n < 0) {
			perror("getdents64");
			return 2;
		}
		if (n == 0)
			break;
		for (long off = 0; off < n;) {
			struct linux_dirent64 *de = (struct linux_dirent64 *)(groupbuf + off);
			off += de->d_reclen;
			if (de->d_name[0] != '.')
				group(groupsfd, de->d_name, &c);
		}
	}
	char out[256];
	int len = snprintf(out, sizeof(out),
			   "groups %lu devices %lu bound %lu vfio-pci %lu overrides %lu idsum %lu types %lu resets %lu "
			   "nodes %lu errors %lu\n",
			   c.groups, c.devices, c.bound, c.vfio, c.overrides, c.idsum, c.types, c.resets, c.nodes,
			   c.errors);
	if (write(1, out, (size_t)len) != len)
		return 2;
	return c.errors ? 1 : 0;
}
