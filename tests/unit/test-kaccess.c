// SPDX-License-Identifier: GPL-2.0-or-later
/* kaccess.c: reads under a sysroot that never leave it. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/kaccess.h"
#include "tree.h"

/* base/ holds root/ (the sysroot) and outside/ (what links must not reach). */
struct fx {
	char *base;
	char *root;
	struct ka *ka;
	int dirfd; /* root/sys/dev, O_PATH */
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->base = tree_new();
	fx->root = tree_join(fx->base, "root");
	tree_dir(fx->root, "sys/dev");
	tree_write(fx->base, "outside/secret", "secret\n");
	int r = ka_open(fx->root, &fx->ka);
	if (r < 0) {
		fprintf(stderr, "# ka_open %s: %d\n", fx->root, r);
		return -1;
	}
	char *dev = tree_join(fx->root, "sys/dev");
	fx->dirfd = open(dev, O_PATH | O_DIRECTORY | O_CLOEXEC);
	free(dev);
	*state = fx;
	return fx->dirfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	if (!fx)
		return 0;
	if (fx->dirfd >= 0)
		close(fx->dirfd);
	ka_free(fx->ka);
	int r = tree_remove(fx->base);
	free(fx->root);
	free(fx->base);
	free(fx);
	return r;
}

/* Read sys/dev/<name> through ka_read_at. */
static int read_dev(struct fx *fx, const char *name, char **ret)
{
	*ret = NULL;
	return ka_read_at(fx->dirfd, name, ret);
}

static void test_read_trims_newline(void **state)
{
	struct fx *fx = *state;
	char *v;
	tree_write(fx->root, "sys/dev/vendor", "0x8086\n");
	tree_write(fx->root, "sys/dev/type", "DMA-FQ  \n\n");
	tree_write(fx->root, "sys/dev/nonl", "(null)");
	tree_write(fx->root, "sys/dev/empty", "");
	tree_write(fx->root, "sys/dev/lines", "0x1 0x2 msi\n0x3 0x4 direct\n");

	assert_int_equal(read_dev(fx, "vendor", &v), 0);
	assert_string_equal(v, "0x8086");
	free(v);
	assert_int_equal(read_dev(fx, "type", &v), 0);
	assert_string_equal(v, "DMA-FQ");
	free(v);
	assert_int_equal(read_dev(fx, "nonl", &v), 0);
	assert_string_equal(v, "(null)");
	free(v);
	assert_int_equal(read_dev(fx, "empty", &v), 0);
	assert_string_equal(v, "");
	free(v);
	/* Inner newlines stay: multi-line attributes (reserved_regions). */
	assert_int_equal(read_dev(fx, "lines", &v), 0);
	assert_string_equal(v, "0x1 0x2 msi\n0x3 0x4 direct");
	free(v);
}

static void test_read_absent(void **state)
{
	struct fx *fx = *state;
	char *v;
	assert_int_equal(read_dev(fx, "driver_override", &v), -ENOENT);
	assert_null(v);
}

static void test_read_refuses_binary(void **state)
{
	struct fx *fx = *state;
	char *v;
	tree_write_n(fx->root, "sys/dev/config", "\x86\x80\x00\x10", 4);
	assert_int_equal(read_dev(fx, "config", &v), -EBADMSG);
	assert_null(v);
	tree_write_n(fx->root, "sys/dev/nul-at-end", "abc\n\0", 5);
	assert_int_equal(read_dev(fx, "nul-at-end", &v), -EBADMSG);
	assert_null(v);
}

/* A file of size bytes of 'a' (with a final newline). */
static void write_big(struct fx *fx, const char *name, size_t size)
{
	char *buf = malloc(size);
	memset(buf, 'a', size);
	buf[size - 1] = '\n';
	char rel[256];
	snprintf(rel, sizeof(rel), "sys/dev/%s", name);
	tree_write_n(fx->root, rel, buf, size);
	free(buf);
}

static void test_read_sizes(void **state)
{
	struct fx *fx = *state;
	char *v;
	/* More than a page is read whole. */
	write_big(fx, "page-plus", 5000);
	assert_int_equal(read_dev(fx, "page-plus", &v), 0);
	assert_int_equal(strlen(v), 4999);
	free(v);
	write_big(fx, "page", 4096);
	assert_int_equal(read_dev(fx, "page", &v), 0);
	assert_int_equal(strlen(v), 4095);
	free(v);
	write_big(fx, "just-under", 64 * 1024 - 1);
	assert_int_equal(read_dev(fx, "just-under", &v), 0);
	assert_int_equal(strlen(v), 64 * 1024 - 2);
	free(v);
	/* Over 64 KiB is no sysfs attribute. */
	write_big(fx, "over", 64 * 1024 + 1);
	assert_int_equal(read_dev(fx, "over", &v), -EFBIG);
	assert_null(v);
	write_big(fx, "huge", 1024 * 1024);
	assert_int_equal(read_dev(fx, "huge", &v), -EFBIG);
	assert_null(v);
}

static void test_read_refuses_final_symlink(void **state)
{
	struct fx *fx = *state;
	char *v;
	tree_write(fx->root, "sys/dev/real", "1\n");
	tree_symlink(fx->root, "sys/dev/link", "real");
	assert_int_equal(read_dev(fx, "link", &v), -ELOOP);
	assert_null(v);
	/* Even through ka_read. */
	assert_int_equal(ka_read(fx->ka, "sys/dev/link", &v), -ELOOP);
	/* A dangling link too: it is never followed. */
	tree_symlink(fx->root, "sys/dev/dangling", "nowhere");
	assert_int_equal(read_dev(fx, "dangling", &v), -ELOOP);
}

static void on_alarm(int sig)
{
	(void)sig;
	static const char msg[] = "# ka_read_at blocked on a FIFO\n";
	(void)!write(2, msg, sizeof(msg) - 1);
	_exit(1);
}

static void test_read_fifo_does_not_block(void **state)
{
	struct fx *fx = *state;
	char *path = tree_join(fx->root, "sys/dev/fifo");
	assert_int_equal(mkfifo(path, 0644), 0);
	free(path);

	signal(SIGALRM, on_alarm);
	alarm(10);
	char *v;
	int r = read_dev(fx, "fifo", &v);
	alarm(0);
	signal(SIGALRM, SIG_DFL);
	/* No writer: either nothing was read, or the FIFO was refused. */
	if (r == 0) {
		assert_string_equal(v, "");
		free(v);
	} else {
		assert_true(r < 0);
	}
}

static void test_read_directory_fails(void **state)
{
	struct fx *fx = *state;
	char *v;
	tree_dir(fx->root, "sys/dev/power");
	assert_int_equal(read_dev(fx, "power", &v), -EISDIR);
	assert_null(v);
}

static void test_read_binary(void **state)
{
	struct fx *fx = *state;
	tree_write_n(fx->root, "sys/dev/config", "\x86\x80\x00\x10\x07", 5);
	unsigned char buf[64];
	memset(buf, 0xee, sizeof(buf));
	assert_int_equal(ka_read_binary_at(fx->dirfd, "config", buf, sizeof(buf)), 5);
	assert_int_equal(buf[0], 0x86);
	assert_int_equal(buf[1], 0x80);
	assert_int_equal(buf[2], 0x00);
	assert_int_equal(buf[3], 0x10);
	assert_int_equal(buf[4], 0x07);
	assert_int_equal(buf[5], 0xee);
	/* At most size bytes. */
	assert_int_equal(ka_read_binary_at(fx->dirfd, "config", buf, 2), 2);
	assert_int_equal(ka_read_binary_at(fx->dirfd, "nothing", buf, 2), -ENOENT);
}

static void test_link_base(void **state)
{
	struct fx *fx = *state;
	char *v = NULL;
	tree_symlink(fx->root, "sys/dev/driver", "../../../bus/pci/drivers/vfio-pci");
	assert_int_equal(ka_link_base_at(fx->dirfd, "driver", &v), 0);
	assert_string_equal(v, "vfio-pci");
	free(v);
	tree_symlink(fx->root, "sys/dev/iommu_group", "../../../kernel/iommu_groups/1000");
	assert_int_equal(ka_link_base_at(fx->dirfd, "iommu_group", &v), 0);
	assert_string_equal(v, "1000");
	free(v);
	/* A trailing slash, and a bare name. */
	tree_symlink(fx->root, "sys/dev/slash", "../drivers/e1000e/");
	assert_int_equal(ka_link_base_at(fx->dirfd, "slash", &v), 0);
	assert_string_equal(v, "e1000e");
	free(v);
	tree_symlink(fx->root, "sys/dev/bare", "pcieport");
	assert_int_equal(ka_link_base_at(fx->dirfd, "bare", &v), 0);
	assert_string_equal(v, "pcieport");
	free(v);
	/* The target need not exist: only the link is read. */
	tree_symlink(fx->root, "sys/dev/gone", "../../drivers/unloaded");
	assert_int_equal(ka_link_base_at(fx->dirfd, "gone", &v), 0);
	assert_string_equal(v, "unloaded");
	free(v);
	/* A long target. */
	char target[600];
	memset(target, 0, sizeof(target));
	for (int i = 0; i < 100; i++)
		strcat(target, "../..");
	strcat(target, "/x/last-one");
	tree_symlink(fx->root, "sys/dev/long", target);
	assert_int_equal(ka_link_base_at(fx->dirfd, "long", &v), 0);
	assert_string_equal(v, "last-one");
	free(v);

	v = NULL;
	assert_int_equal(ka_link_base_at(fx->dirfd, "absent", &v), -ENOENT);
	assert_null(v);
	/* A plain file is not a link. */
	tree_write(fx->root, "sys/dev/file", "x\n");
	int r = ka_link_base_at(fx->dirfd, "file", &v);
	assert_true(r < 0);
	assert_int_not_equal(r, -ENOENT);
	assert_null(v);
	/* A link to ".." names nothing. */
	tree_symlink(fx->root, "sys/dev/dotdot", "..");
	assert_true(ka_link_base_at(fx->dirfd, "dotdot", &v) < 0);
	assert_null(v);
}

static void test_exists_at(void **state)
{
	struct fx *fx = *state;
	tree_dir(fx->root, "sys/dev/vfio-dev/vfio0");
	tree_symlink(fx->root, "sys/dev/dangling", "nowhere");
	assert_true(ka_exists_at(fx->dirfd, "vfio-dev"));
	assert_true(ka_exists_at(fx->dirfd, "dangling"));
	assert_false(ka_exists_at(fx->dirfd, "nothing"));
}

static void test_open_without_sys(void **state)
{
	struct fx *fx = *state;
	struct ka *ka = NULL;
	tree_dir(fx->base, "empty");
	char *p = tree_join(fx->base, "empty");
	assert_int_equal(ka_open(p, &ka), -ENOENT);
	assert_null(ka);
	free(p);

	p = tree_join(fx->base, "does-not-exist");
	assert_int_equal(ka_open(p, &ka), -ENOENT);
	assert_null(ka);
	free(p);

	/* sys/ as a plain file. */
	tree_write(fx->base, "filesys/sys", "");
	p = tree_join(fx->base, "filesys");
	assert_true(ka_open(p, &ka) < 0);
	assert_null(ka);
	free(p);

	/* sys/ as a link out of the sysroot does not count. */
	tree_dir(fx->base, "outside/sys");
	tree_symlink(fx->base, "escaping/sys", "../outside/sys");
	p = tree_join(fx->base, "escaping");
	assert_true(ka_open(p, &ka) < 0);
	assert_null(ka);
	free(p);

	assert_int_equal(ka_open("", &ka), -EINVAL);
	assert_null(ka);
}

static void test_not_live(void **state)
{
	struct fx *fx = *state;
	assert_false(ka_is_live(fx->ka));
}

static void test_root_and_path(void **state)
{
	struct fx *fx = *state;
	assert_string_equal(ka_root(fx->ka), fx->root);
	char *p = ka_path(fx->ka, "sys/bus/pci");
	char *want = tree_join(fx->root, "sys/bus/pci");
	assert_string_equal(p, want);
	free(p);
	free(want);

	/* Trailing slashes are dropped. */
	char *slashes = tree_join(fx->root, "//");
	struct ka *ka = NULL;
	assert_int_equal(ka_open(slashes, &ka), 0);
	assert_string_equal(ka_root(ka), fx->root);
	ka_free(ka);
	free(slashes);
}

static void test_read_inside_links(void **state)
{
	struct fx *fx = *state;
	char *v = NULL;
	tree_write(fx->root, "sys/devices/pci0000:00/0000:00:02.0/vendor", "0x8086\n");
	tree_link(fx->root, "sys/bus/pci/devices/0000:00:02.0", "sys/devices/pci0000:00/0000:00:02.0");
	assert_int_equal(ka_read(fx->ka, "sys/bus/pci/devices/0000:00:02.0/vendor", &v), 0);
	assert_string_equal(v, "0x8086");
	free(v);
	/* A top-level file, and an absent one. */
	tree_write(fx->root, "version", "1\n");
	assert_int_equal(ka_read(fx->ka, "version", &v), 0);
	assert_string_equal(v, "1");
	free(v);
	v = NULL;
	assert_int_equal(ka_read(fx->ka, "sys/module/vfio/parameters/enable_unsafe_noiommu_mode", &v), -ENOENT);
	assert_null(v);
}

static void test_read_escaping_link(void **state)
{
	struct fx *fx = *state;
	char *v = NULL;
	/* root/sys/escape -> ../../outside: a real directory, outside the sysroot. */
	tree_symlink(fx->root, "sys/escape", "../../outside");
	assert_int_equal(ka_read(fx->ka, "sys/escape/secret", &v), -EXDEV);
	assert_null(v);
	/* An absolute link is outside by definition. */
	char *abs = tree_join(fx->base, "outside");
	tree_symlink(fx->root, "sys/absolute", abs);
	free(abs);
	assert_int_equal(ka_read(fx->ka, "sys/absolute/secret", &v), -EXDEV);
	assert_null(v);
	/* ".." in the path itself. */
	assert_int_equal(ka_read(fx->ka, "sys/../../outside/secret", &v), -EXDEV);
	assert_null(v);
	/* The same for directories. */
	int fd = -1;
	assert_int_equal(ka_open_dir(fx->ka, "sys/escape", &fd), -EXDEV);
	assert_int_equal(fd, -1);
	struct strv names = { 0 };
	assert_int_equal(ka_list_dir(fx->ka, "sys/escape", &names), -EXDEV);
	assert_int_equal(names.n, 0);
}

static void test_list_dir(void **state)
{
	struct fx *fx = *state;
	struct strv names = { 0 };
	tree_dir(fx->root, "sys/kernel/iommu_groups/0");
	tree_dir(fx->root, "sys/kernel/iommu_groups/5");
	tree_dir(fx->root, "sys/kernel/iommu_groups/1000");
	assert_int_equal(ka_list_dir(fx->ka, "sys/kernel/iommu_groups", &names), 0);
	assert_int_equal(names.n, 3);
	assert_true(strv_contains(&names, "0"));
	assert_true(strv_contains(&names, "5"));
	assert_true(strv_contains(&names, "1000"));
	assert_false(strv_contains(&names, "."));
	assert_false(strv_contains(&names, ".."));
	strv_free(&names);

	tree_dir(fx->root, "sys/bus/pci/devices");
	assert_int_equal(ka_list_dir(fx->ka, "sys/bus/pci/devices", &names), 0);
	assert_int_equal(names.n, 0);
	strv_free(&names);

	assert_int_equal(ka_list_dir(fx->ka, "sys/bus/platform/devices", &names), -ENOENT);
	assert_int_equal(names.n, 0);
}

static void test_strerror(void **state)
{
	(void)state;
	assert_string_equal(ka_strerror(-EXDEV), "a symlink leads outside the sysroot");
	assert_string_equal(ka_strerror(-ENOENT), strerror(ENOENT));
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	/* The tests speak TAP (CMOCKA_MESSAGE_OUTPUT still overrides). */
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		T(test_read_trims_newline),
		T(test_read_absent),
		T(test_read_refuses_binary),
		T(test_read_sizes),
		T(test_read_refuses_final_symlink),
		T(test_read_fifo_does_not_block),
		T(test_read_directory_fails),
		T(test_read_binary),
		T(test_link_base),
		T(test_exists_at),
		T(test_open_without_sys),
		T(test_not_live),
		T(test_root_and_path),
		T(test_read_inside_links),
		T(test_read_escaping_link),
		T(test_list_dir),
		T(test_strerror),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
