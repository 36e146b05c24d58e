// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * timeit: run a command once and print "WALL_S MAXRSS_KIB STATUS CPU_S".
 *
 *   timeit COMMAND [ARG...]
 *
 * The command's standard output goes to /dev/null, its standard error is
 * inherited. Wall time is CLOCK_MONOTONIC from just before posix_spawn to
 * the return of wait4 (so it includes exec and dynamic linking, as a user
 * sees it); the peak resident set size is the child's ru_maxrss; CPU_S its
 * user + system time (less sensitive than wall time to other load on the
 * machine). STATUS is the exit status, or 128 + the signal number. GNU time prints wall time in
 * hundredths of a second only, too coarse for runs of a few milliseconds.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: timeit COMMAND [ARG...]\n");
		return 2;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pid_t pid;
	int r = posix_spawnp(&pid, argv[1], &fa, NULL, argv + 1, environ);
	if (r != 0) {
		fprintf(stderr, "timeit: %s: %s\n", argv[1], strerror(r));
		return 2;
	}
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) < 0) {
		perror("timeit: wait4");
		return 2;
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
		     (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
	printf("%.6f %ld %d %.6f\n", wall, ru.ru_maxrss, code, cpu);
	return 0;
}
