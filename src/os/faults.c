// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fault injection around a backend, for tests and pipelines that replay a
 * captured tree: <sysroot>/replay-faults holds one rule a line, each firing
 * at most once per run, in order ('#' starts a comment):
 *   OP DEVICE|* ERRNO    fail the next OP (override, unbind, bind, probe,
 *                        numvfs, autoprobe, owner, mode, load) on DEVICE
 *                        (for load: the driver; for numvfs and autoprobe:
 *                        the PF; for owner and mode: the node, /dev/vfio/N)
 *                        with ERRNO, the write not applied
 *   write N ERRNO        fail the N-th write of this run
 *   kill N               SIGKILL this process right after the N-th write
 *   signal N SIG         send SIG (TERM, INT or HUP) to this process right
 *                        after the N-th write
 *   delay N MS           sleep MS milliseconds after the N-th write (a
 *                        signal ends the sleep)
 *   block OP DEVICE|* FILE  the next OP on DEVICE blocks, as the kernel
 *                        blocks an unbind of a held device, while FILE
 *                        (relative to the sysroot) exists
 * A rule this does not know is an error: a fault that silently never fires
 * would let a test pass that should fail.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <time.h>

#include "os/backend.h"
#include "os/resolve.h"

#define FAULT_FILE "replay-faults"
#define BLOCK_POLL_MS 10

enum fault_kind { F_FAIL, F_WRITE, F_KILL, F_SIGNAL, F_DELAY, F_BLOCK };

struct fault {
	enum fault_kind kind;
	char *op;     /* F_FAIL, F_BLOCK */
	char *device; /* F_FAIL, F_BLOCK: "*" for any */
	char *file;   /* F_BLOCK */
	int err;      /* F_FAIL, F_WRITE */
	unsigned long n, ms;
	int sig;
	bool fired;
};

struct faults {
	struct ka_backend b;
	struct fault *v;
	size_t n, cap;
};

static bool known_op(const char *op)
{
	static const char *const ops[] = { "override", "unbind", "bind", "probe", "numvfs", "autoprobe", "owner", "mode", "load" };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++)
		if (streq(ops[i], op))
			return true;
	return false;
}

static int signal_from_name(const char *s)
{
	if (strncmp(s, "SIG", 3) == 0)
		s += 3;
	return streq(s, "TERM") ? SIGTERM : streq(s, "INT") ? SIGINT : streq(s, "HUP") ? SIGHUP : -1;
}

/* One rule's words into f; false when they are no rule. */
static bool parse_rule(char **w, size_t nw, struct fault *f)
{
	unsigned long v;
	if (nw == 2 && streq(w[0], "kill") && parse_ulong(w[1], 10, &v) == 0) {
		*f = (struct fault){ .kind = F_KILL, .n = v };
		return true;
	}
	if (nw != 3 && !(nw == 4 && streq(w[0], "block")))
		return false;
	if (streq(w[0], "write") && parse_ulong(w[1], 10, &v) == 0) {
		*f = (struct fault){ .kind = F_WRITE, .n = v, .err = errno_from_name(w[2]) };
		return f->err > 0;
	}
	if (streq(w[0], "delay") && parse_ulong(w[1], 10, &v) == 0) {
		*f = (struct fault){ .kind = F_DELAY, .n = v };
		return parse_ulong(w[2], 10, &f->ms) == 0;
	}
	if (streq(w[0], "signal") && parse_ulong(w[1], 10, &v) == 0) {
		*f = (struct fault){ .kind = F_SIGNAL, .n = v, .sig = signal_from_name(w[2]) };
		return f->sig > 0;
	}
	if (streq(w[0], "block") && nw == 4 && known_op(w[1])) {
		*f = (struct fault){ .kind = F_BLOCK, .op = xstrdup(w[1]), .device = xstrdup(w[2]), .file = xstrdup(w[3]) };
		return true;
	}
	if (known_op(w[0])) {
		*f = (struct fault){ .kind = F_FAIL, .op = xstrdup(w[0]), .device = xstrdup(w[1]), .err = errno_from_name(w[2]) };
		return f->err > 0;
	}
	return false;
}

static void fault_clear(struct fault *f)
{
	free(f->op);
	free(f->device);
	free(f->file);
}

static void faults_free(struct ka_backend *b)
{
	struct faults *fs = (struct faults *)b;
	for (size_t i = 0; i < fs->n; i++)
		fault_clear(&fs->v[i]);
	free(fs->v);
	free(fs);
}

static bool hits(const struct fault *f, const char *op, const char *device)
{
	return f->op && streq(f->op, op) && (streq(f->device, "*") || (device && streq(f->device, device)));
}

/* The first rule of kind that fires for this op, device or write number; marked fired. */
static struct fault *take(struct faults *fs, enum fault_kind kind, const char *op, const char *device, unsigned nth)
{
	for (size_t i = 0; i < fs->n; i++) {
		struct fault *f = &fs->v[i];
		if (f->fired || f->kind != kind)
			continue;
		bool hit = (kind == F_FAIL || kind == F_BLOCK) ? hits(f, op, device) : f->n == nth;
		if (hit) {
			f->fired = true;
			return f;
		}
	}
	return NULL;
}

static void sleep_ms(unsigned long ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL); /* a signal ends it: the caller looks at what it asked for */
}

/* A blocked write: it waits while the file exists, at most timeout_ms (0: for ever). */
static int block_while(struct ka *ka, const struct fault *f, int timeout_ms)
{
	for (long waited = 0;; waited += BLOCK_POLL_MS) {
		int fd = res_open(ka_rootfd(ka), f->file, RES_PATH, 0);
		if (fd == -ENOENT)
			return 0;
		if (fd >= 0)
			close(fd);
		if (timeout_ms > 0 && waited >= timeout_ms)
			return -ETIMEDOUT;
		sleep_ms(BLOCK_POLL_MS);
	}
}

static void after_write(struct faults *fs, unsigned nth)
{
	struct fault *f;
	if ((f = take(fs, F_DELAY, NULL, NULL, nth)))
		sleep_ms(f->ms);
	if ((f = take(fs, F_SIGNAL, NULL, NULL, nth)))
		raise(f->sig);
	if (take(fs, F_KILL, NULL, NULL, nth)) {
		fflush(NULL);
		raise(SIGKILL);
	}
}

static int faults_write(struct ka_backend *b, struct ka *ka, const struct ka_write *w, unsigned nth, int timeout_ms)
{
	struct faults *fs = (struct faults *)b;
	const char *op = ka_op_name(w->op);
	struct fault *f = take(fs, F_WRITE, NULL, NULL, nth);
	if (!f)
		f = take(fs, F_FAIL, op, w->device, nth);
	int r;
	if (f) {
		r = -f->err;
	} else {
		r = 0;
		if ((f = take(fs, F_BLOCK, op, w->device, nth)))
			r = block_while(ka, f, timeout_ms);
		if (r == 0)
			r = b->inner->ops->write(b->inner, ka, w, nth, timeout_ms);
	}
	after_write(fs, nth);
	return r;
}

static int faults_load(struct ka_backend *b, struct ka *ka, const char *driver, const char *module)
{
	struct faults *fs = (struct faults *)b;
	struct fault *f = take(fs, F_FAIL, "load", driver ? driver : module, 0);
	if (f)
		return -f->err;
	return b->inner->ops->load_driver(b->inner, ka, driver, module);
}

static const struct ka_backend_ops faults_ops = {
	.name = "faults",
	.write = faults_write,
	.load_driver = faults_load,
	.free = faults_free,
};

/* Split a line into at most 8 words at white space; returns the count. */
static size_t words(char *line, char **w)
{
	size_t n = 0;
	char *save = NULL;
	for (char *t = strtok_r(line, " \t", &save); t && n < 8; t = strtok_r(NULL, " \t", &save))
		w[n++] = t;
	return n;
}

int backend_faults_wrap(struct ka *ka, struct ka_backend *inner, struct ka_backend **ret)
{
	_cleanup_free_ char *text = NULL;
	int r = ka_read(ka, FAULT_FILE, &text);
	if (r == -ENOENT) {
		*ret = inner;
		return 0;
	}
	_cleanup_free_ char *path = ka_path(ka, FAULT_FILE);
	if (r < 0) {
		log_error("%s: %s", path, ka_strerror(r));
		backend_free(inner);
		return r;
	}
	struct faults *fs = xcalloc(1, sizeof(*fs));
	fs->b.ops = &faults_ops;
	fs->b.inner = inner;
	unsigned lineno = 0;
	for (char *next = text, *line; (line = strsep(&next, "\n"));) {
		lineno++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = '\0';
		_cleanup_free_ char *copy = xstrdup(line);
		char *w[8];
		size_t nw = words(line, w);
		if (nw == 0)
			continue;
		struct fault f = { 0 };
		if (!parse_rule(w, nw, &f)) {
			fault_clear(&f);
			log_error("%s:%u: not a fault rule: '%s' (see the man page, REPLAY)", path, lineno, copy);
			backend_free(&fs->b);
			return -EINVAL;
		}
		fs->v = grow_array(fs->v, &fs->cap, fs->n + 1, sizeof(*fs->v));
		fs->v[fs->n++] = f;
	}
	*ret = &fs->b;
	return 0;
}
