/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Build small sysfs-shaped trees in a temporary directory for the unit tests.
 * Include after <cmocka.h>: failures end the running test. Paths given to the
 * tree_* helpers are relative to a root; symlinks are relative, as in sysfs.
 * Nothing here ever touches the host's /sys.
 */
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A fresh directory under $TMPDIR (or /tmp); the caller frees the string. */
static inline char *tree_new(void)
{
	const char *tmp = getenv("TMPDIR");
	char *p;
	if (asprintf(&p, "%s/iommu-own-unit.XXXXXX", tmp && *tmp ? tmp : "/tmp") < 0)
		fail_msg("out of memory");
	if (!mkdtemp(p))
		fail_msg("mkdtemp %s: %s", p, strerror(errno));
	return p;
}

static inline char *tree_join(const char *root, const char *rel)
{
	char *p;
	if (asprintf(&p, "%s/%s", root, rel) < 0)
		fail_msg("out of memory");
	return p;
}

/* mkdir -p <root>/<rel> (the root too). */
static inline void tree_dir(const char *root, const char *rel)
{
	char *p = tree_join(root, rel);
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, 0755) < 0 && errno != EEXIST)
			fail_msg("mkdir %s: %s", p, strerror(errno));
		*s = c;
		if (!c)
			break;
	}
	free(p);
}

/* mkdir -p of the directory part of rel. */
static inline void tree_parent(const char *root, const char *rel)
{
	const char *slash = strrchr(rel, '/');
	if (!slash)
		return;
	char *dir = strndup(rel, (size_t)(slash - rel));
	tree_dir(root, dir);
	free(dir);
}

/* Write len bytes to <root>/<rel>, creating its parents. */
static inline void tree_write_n(const char *root, const char *rel, const void *buf, size_t len)
{
	tree_parent(root, rel);
	char *p = tree_join(root, rel);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("open %s: %s", p, strerror(errno));
	if (write(fd, buf, len) != (ssize_t)len)
		fail_msg("write %s: %s", p, strerror(errno));
	close(fd);
	free(p);
}

/* Write a text attribute; sysfs ends values with a newline, so pass it in text. */
static inline void tree_write(const char *root, const char *rel, const char *text)
{
	tree_write_n(root, rel, text, strlen(text));
}

/* <root>/<rel> -> target, exactly as given. */
static inline void tree_symlink(const char *root, const char *rel, const char *target)
{
	tree_parent(root, rel);
	char *p = tree_join(root, rel);
	if (symlink(target, p) < 0)
		fail_msg("symlink %s -> %s: %s", p, target, strerror(errno));
	free(p);
}

/* <root>/<rel> -> <root>/<to>, written as a relative link ("../../devices/..."). */
static inline void tree_link(const char *root, const char *rel, const char *to)
{
	size_t up = 0;
	for (const char *s = rel; *s; s++)
		up += *s == '/';
	char *target = calloc(1, up * 3 + strlen(to) + 1);
	for (size_t i = 0; i < up; i++)
		strcat(target, "../");
	strcat(target, to);
	tree_symlink(root, rel, target);
	free(target);
}

static inline int tree_rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path) < 0 ? -1 : 0;
	return unlink(path) < 0 ? -1 : 0;
}

/* rm -rf dir (never follows a symlink); frees nothing. */
static inline int tree_remove(const char *dir)
{
	if (!dir)
		return 0;
	if (nftw(dir, tree_rm_one, 32, FTW_DEPTH | FTW_PHYS) < 0) {
		fprintf(stderr, "# could not remove %s: %s\n", dir, strerror(errno));
		return -1;
	}
	return 0;
}
