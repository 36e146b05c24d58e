// SPDX-License-Identifier: GPL-2.0-or-later
/* state.c: files put in place in two steps, and never over someone's. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "os/state.h"
#include "shared/util.h"
#include "tree.h"

struct fx {
	char *base, *dir;
	struct state st;
};

static int setup(void **state)
{
	struct fx *fx = calloc(1, sizeof(*fx));
	fx->base = tree_new();
	fx->dir = tree_join(fx->base, "conf.d");
	*state = fx;
	return state_open(&fx->st, fx->dir, true) < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	struct fx *fx = *state;
	state_close(&fx->st);
	int r = tree_remove(fx->base);
	free(fx->dir);
	free(fx->base);
	free(fx);
	return r;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The directory's names, sorted, joined by spaces ("" when empty). */
static char *names(const struct fx *fx)
{
	static char buf[512];
	struct strv v = { 0 };
	buf[0] = '\0';
	DIR *d = opendir(fx->dir);
	for (struct dirent *e; d && (e = readdir(d));)
		if (e->d_name[0] != '.')
			strv_push(&v, xstrdup(e->d_name));
	if (d)
		closedir(d);
	if (v.n)
		qsort(v.v, v.n, sizeof(*v.v), by_name);
	for (size_t i = 0; i < v.n; i++)
		snprintf(buf + strlen(buf), sizeof(buf) - strlen(buf), "%s%s", i ? " " : "", v.v[i]);
	strv_free(&v);
	return buf;
}

static char *content(const struct fx *fx, const char *name)
{
	static char buf[256];
	char *p = tree_join(fx->dir, name);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	free(p);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, sizeof(buf) - 1);
	if (fd >= 0)
		close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static void test_commit_new_puts_in_place(void **state)
{
	struct fx *fx = *state;
	assert_int_equal(state_prepare_text(&fx->st, "50-a.conf", "new\n", 0644), 0);
	assert_int_equal(state_commit_new(&fx->st, "50-a.conf"), 0);
	assert_string_equal(names(fx), "50-a.conf");
	assert_string_equal(content(fx, "50-a.conf"), "new\n");
}

static void test_commit_new_never_replaces(void **state)
{
	struct fx *fx = *state;
	tree_write(fx->dir, "50-a.conf", "mine\n");
	assert_int_equal(state_prepare_text(&fx->st, "50-a.conf", "new\n", 0644), 0);
	assert_int_equal(state_commit_new(&fx->st, "50-a.conf"), -EEXIST);
	/* someone's file as it was, and nothing of the new one left beside it */
	assert_string_equal(content(fx, "50-a.conf"), "mine\n");
	assert_string_equal(names(fx), "50-a.conf");
}

static void test_commit_replaces(void **state)
{
	struct fx *fx = *state;
	tree_write(fx->dir, "record.json", "old\n");
	assert_int_equal(state_prepare_text(&fx->st, "record.json", "new\n", 0644), 0);
	assert_int_equal(state_commit(&fx->st, "record.json"), 0);
	assert_string_equal(content(fx, "record.json"), "new\n");
	assert_string_equal(names(fx), "record.json");
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	cmocka_set_message_output(CM_OUTPUT_TAP);
	const struct CMUnitTest tests[] = {
		T(test_commit_new_puts_in_place),
		T(test_commit_new_never_replaces),
		T(test_commit_replaces),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
