// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * vfio-viable: ask the kernel itself whether VFIO can use an IOMMU group.
 * A helper of the real-kernel suite (tests/vm), run inside the QEMU guest;
 * it is not part of iommu-own.
 *
 *   vfio-viable N          print "viable" or "not-viable" (VFIO_GROUP_GET_STATUS
 *                          on /dev/vfio/N), or "absent" when the group has no
 *                          VFIO file (no device of it is on a VFIO driver);
 *                          exit 0, or 2 on any other error
 *   vfio-viable --hold N   open /dev/vfio/N, print "holding N PID", keep it open
 *                          until killed
 *   vfio-viable --as UID PROG ARGS...
 *                          run PROG as user and group UID with no other groups
 *                          (busybox's setpriv cannot change users)
 *   vfio-viable --enosys-openat2 PROG ARGS...
 *                          run PROG (and all it starts) where openat2 fails
 *                          with ENOSYS, as under systemd's seccomp filter of
 *                          RestrictSUIDSGID=, which systemd-udevd.service sets
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <linux/vfio.h>

/* A seccomp filter: openat2 (x86-64) answers ENOSYS, everything else runs. */
static int enosys_openat2(void)
{
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_openat2, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (ENOSYS & SECCOMP_RET_DATA)),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { .len = sizeof(f) / sizeof(f[0]), .filter = f };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) < 0)
		return -1;
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: vfio-viable [--hold] GROUP\n");
	return 2;
}

int main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[1], "--as") == 0) {
		unsigned long id = strtoul(argv[2], NULL, 10);
		if (setgroups(0, NULL) < 0 || setgid((gid_t)id) < 0 || setuid((uid_t)id) < 0) {
			fprintf(stderr, "vfio-viable: cannot become %lu: %s\n", id, strerror(errno));
			return 2;
		}
		execvp(argv[3], argv + 3);
		fprintf(stderr, "vfio-viable: %s: %s\n", argv[3], strerror(errno));
		return 2;
	}
	if (argc >= 3 && strcmp(argv[1], "--enosys-openat2") == 0) {
		if (enosys_openat2() < 0) {
			fprintf(stderr, "vfio-viable: cannot install the seccomp filter: %s\n", strerror(errno));
			return 2;
		}
		execvp(argv[2], argv + 2);
		fprintf(stderr, "vfio-viable: %s: %s\n", argv[2], strerror(errno));
		return 2;
	}
	int hold = 0;
	if (argc == 3 && strcmp(argv[1], "--hold") == 0)
		hold = 1;
	else if (argc != 2)
		return usage();
	const char *num = argv[argc - 1];
	char *end;
	errno = 0;
	unsigned long n = strtoul(num, &end, 10);
	if (errno || end == num || *end)
		return usage();

	char path[64];
	snprintf(path, sizeof(path), "/dev/vfio/%lu", n);
	int g = open(path, O_RDWR | O_CLOEXEC);
	if (g < 0) {
		if (errno == ENOENT && !hold) {
			puts("absent");
			return 0;
		}
		fprintf(stderr, "vfio-viable: %s: %s\n", path, strerror(errno));
		return 2;
	}
	/* The container is not needed for the status, but opening it proves the
	 * VFIO core answers and checks its API version. */
	int c = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC);
	if (c < 0) {
		fprintf(stderr, "vfio-viable: /dev/vfio/vfio: %s\n", strerror(errno));
		return 2;
	}
	if (ioctl(c, VFIO_GET_API_VERSION) != VFIO_API_VERSION) {
		fprintf(stderr, "vfio-viable: unexpected VFIO API version\n");
		return 2;
	}
	struct vfio_group_status st = { .argsz = sizeof(st) };
	if (ioctl(g, VFIO_GROUP_GET_STATUS, &st) < 0) {
		fprintf(stderr, "vfio-viable: VFIO_GROUP_GET_STATUS on %s: %s\n", path, strerror(errno));
		return 2;
	}
	if (hold) {
		printf("holding %lu %ld\n", n, (long)getpid());
		fflush(stdout);
		for (;;)
			pause();
	}
	puts(st.flags & VFIO_GROUP_FLAGS_VIABLE ? "viable" : "not-viable");
	return 0;
}
