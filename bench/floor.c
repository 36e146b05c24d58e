// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * floor: the syscall floor of reading who owns each IOMMU group's DMA.
 *
 *   floor SYSROOT
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

struct counts {
	unsigned long groups, devices, bound, vfio, overrides, errors;
	unsigned long idsum; /* vendor + device + class of all: keeps the parsing */
};

static int read_attr(int dfd, const char *name, char *buf, size_t size)
{
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

static void device(int devsfd, const char *name, struct counts *c)
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
	for (size_t i = 0; i < 3; i++) {
		if (read_attr(dfd, ids[i], v, sizeof(v)) < 0)
			c->errors++;
		else
			c->idsum += strtoul(v, NULL, 16);
	}
	if (read_attr(dfd, "driver_override", v, sizeof(v)) >= 0 && v[0] && strcmp(v, "(null)") != 0)
		c->overrides++;
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
				device(devsfd, de->d_name, c);
		}
	}
	close(devsfd);
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: floor SYSROOT\n");
		return 2;
	}
	int root = open(argv[1], O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		perror(argv[1]);
		return 2;
	}
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
			   "groups %lu devices %lu bound %lu vfio-pci %lu overrides %lu idsum %lu errors %lu\n",
			   c.groups, c.devices, c.bound, c.vfio, c.overrides, c.idsum, c.errors);
	if (write(1, out, (size_t)len) != len)
		return 2;
	return c.errors ? 1 : 0;
}
