// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "os/pciids.h"
#include "shared/macro.h"
#include "shared/util.h"

/* libpci reads a line into 1024 bytes: 1022 characters, the newline and a NUL. */
#define IDS_LINE_MAX 1022

/* What the last top-level line opened: what its nested lines may be. */
enum cat {
	CAT_NONE,
	CAT_VENDOR,    /* nest 1: devices, nest 2: their subsystems */
	CAT_GEN_SUBSYS, /* "S vvvv": nest 1 only */
	CAT_CLASS,     /* "C cc": nest 1 subclasses, nest 2 programming interfaces */
	CAT_UNKNOWN,   /* another "X " block: nested lines are skipped */
};

/* A nest-1 line of a loaded block: its ID and where it is; its name is read when asked. */
struct entry {
	uint16_t id;
	unsigned line;
	off_t off;  /* of its line in the file */
	char *name; /* NULL until asked */
};

/* A vendor's or class's lines, from its top-level line to the next one. */
struct block {
	uint16_t id;
	unsigned line; /* of the top-level line */
	off_t start, end;
	bool loaded, broken;
	char *name; /* of the top-level line */
	struct entry *entries; /* the nest-1 lines, in file order */
	size_t nentries, cap;
};

struct blocks {
	struct block *v;
	size_t n, cap;
};

struct pciids {
	int fd;
	off_t size;
	struct blocks vendors, classes;
	struct blocks gen_subsys; /* only to check that their vendors exist */
	const char *error;
	unsigned error_line;
};

/* The state of the checking pass. */
struct pass {
	enum cat cat;
	bool nest1; /* a nest-1 line since the top-level one (a subsystem needs its device) */
	struct block *open; /* the block the next top-level line closes */
	unsigned line;
};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at p (the line is NUL-terminated, so a short one stops at a non-digit); -1 if not. */
static int hexn(const char *p, int n)
{
	int x = 0;
	for (int i = 0; i < n; i++) {
		int d = hexval(p[i]);
		if (d < 0)
			return -1;
		x = x << 4 | d;
	}
	return x;
}

static bool white(char c)
{
	return c == ' ' || c == '\t';
}

/* Which line starts next_start() looks for. */
enum want {
	WANT_TOP,   /* not a tab: a block's line, a comment, a blank line */
	WANT_NEST1, /* a tab, then no tab: a device or a subclass */
};

/* Bits set in a 16-bit mask (no popcnt instruction in baseline x86-64: this beats libgcc's call). */
static unsigned bits16(unsigned m)
{
	m = m - ((m >> 1) & 0x5555);
	m = (m & 0x3333) + ((m >> 2) & 0x3333);
	m = (m + (m >> 4)) & 0x0f0f;
	return (m + (m >> 8)) & 0x1f;
}

static bool wanted(const char *q, enum want w)
{
	return w == WANT_TOP ? q[0] != '\t' : q[0] == '\t' && q[1] != '\t';
}

/*
 * The start of the next line after p (p is inside a line) that w wants, or
 * last + 1; *lines counts the newlines passed. last is a newline, and two
 * bytes after it can be read. pci.ids has 36,000 lines of 36 bytes on
 * average, nine in ten nested: sixteen bytes at a time (SSE2, in every
 * x86-64), a line start is one bit of a mask, not a call to memchr().
 */
static char *next_start(char *p, char *last, enum want w, unsigned *lines)
{
#ifdef __SSE2__
	const __m128i nl = _mm_set1_epi8('\n'), tab = _mm_set1_epi8('\t');
	for (; last + 1 - p >= 16; p += 16) {
		unsigned m = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)p), nl));
		if (!m)
			continue;
		/* bit k: the byte after (and the one after that) newline k is a tab */
		unsigned t1 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 1)), tab));
		unsigned t2 = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(p + 2)), tab));
		unsigned hit = m & (w == WANT_TOP ? ~t1 : t1 & ~t2);
		if (hit) {
			unsigned k = (unsigned)__builtin_ctz(hit);
			*lines += bits16(m & ((2u << k) - 1));
			return p + k + 1;
		}
		*lines += bits16(m);
	}
#endif
	for (; p <= last; p++) {
		if (*p != '\n')
			continue;
		(*lines)++;
		if (wanted(p + 1, w))
			return p + 1;
	}
	return last + 1;
}

static int fail(struct pciids *ids, unsigned line, const char *why)
{
	ids->error = why;
	ids->error_line = line;
	return -EBADMSG;
}

static struct block *add_block(struct blocks *b, uint16_t id, unsigned line, off_t start)
{
	b->v = grow_array(b->v, &b->cap, b->n + 1, sizeof(*b->v));
	struct block *k = &b->v[b->n++];
	*k = (struct block){ .id = id, .line = line, .start = start, .end = start };
	return k;
}

/*
 * A line's text as libpci sees it, cut in place (s[len] is writable): up to
 * the first CR or LF, one trailing blank removed. NULL for a line that says
 * nothing (blank or a comment), or an error in *r.
 */
static char *line_text(struct pciids *ids, char *s, size_t len, unsigned lineno, int *r)
{
	*r = 0;
	s[len] = '\0';
	/* one scan finds a CR and a NUL byte alike */
	char *end = strchrnul(s, '\r');
	if ((size_t)(end - s) < len && !*end) {
		*r = fail(ids, lineno, "NUL byte in a line");
		return NULL;
	}
	if ((size_t)(end - s) > IDS_LINE_MAX) {
		*r = fail(ids, lineno, "Line too long");
		return NULL;
	}
	if (end > s && white(end[-1]))
		end--;
	*end = '\0';
	const char *p = s;
	while (white(*p))
		p++;
	return (!*p || *p == '#') ? NULL : s;
}

/* After an ID: blanks, then a name that is not empty. */
static bool has_name(const char *p)
{
	while (white(*p))
		p++;
	return *p != '\0';
}

static const char *skip_white(const char *p)
{
	while (white(*p))
		p++;
	return p;
}

/* A top-level line: a vendor, "C cc" a class, "S vvvv" a generic subsystem block, "X " anything else. */
static int top_line(struct pciids *ids, struct pass *ps, const char *p, off_t off)
{
	if (ps->open)
		ps->open->end = off;
	ps->open = NULL;
	ps->nest1 = false;
	int id;
	if (p[0] == 'C' && p[1] == ' ') {
		if ((id = hexn(p + 2, 2)) < 0 || !white(p[4]) || !has_name(p + 5))
			return fail(ids, ps->line, "Parse error");
		ps->cat = CAT_CLASS;
		ps->open = add_block(&ids->classes, (uint16_t)id, ps->line, off);
	} else if (p[0] == 'S' && p[1] == ' ') {
		if ((id = hexn(p + 2, 4)) < 0 || p[6])
			return fail(ids, ps->line, "Parse error");
		ps->cat = CAT_GEN_SUBSYS;
		add_block(&ids->gen_subsys, (uint16_t)id, ps->line, off);
	} else if (p[0] >= 'A' && p[0] <= 'Z' && p[1] == ' ') {
		ps->cat = CAT_UNKNOWN;
	} else {
		if ((id = hexn(p, 4)) < 0 || !white(p[4]) || !has_name(p + 5))
			return fail(ids, ps->line, "Parse error");
		ps->cat = CAT_VENDOR;
		ps->open = add_block(&ids->vendors, (uint16_t)id, ps->line, off);
	}
	return 0;
}

/* A nested line: its ID digits, as its depth and its block's kind want them. */
static int nested_line(struct pciids *ids, struct pass *ps, const char *p, int nest)
{
	bool ok;
	if (ps->cat == CAT_UNKNOWN)
		return 0;
	if (nest == 1 && (ps->cat == CAT_VENDOR || ps->cat == CAT_GEN_SUBSYS))
		ok = hexn(p, 4) >= 0 && white(p[4]) && has_name(p + 5);
	else if (nest == 1 && ps->cat == CAT_CLASS)
		ok = hexn(p, 2) >= 0 && white(p[2]) && has_name(p + 3);
	else if (nest == 2 && ps->cat == CAT_VENDOR && ps->nest1)
		ok = hexn(p, 4) >= 0 && white(p[4]) && hexn(p + 5, 4) >= 0 && white(p[9]) && has_name(p + 10);
	else if (nest == 2 && ps->cat == CAT_CLASS) /* libpci takes one right after the class line too */
		ok = hexn(p, 2) >= 0 && white(p[2]) && has_name(p + 3);
	else
		ok = false;
	if (!ok)
		return fail(ids, ps->line, "Parse error");
	if (nest == 1)
		ps->nest1 = true;
	return 0;
}

/* One line of the pass, not a nested one (those are checked when their block is read). */
static int check_line(struct pciids *ids, struct pass *ps, char *s, size_t len, off_t off)
{
	int r;
	ps->line++;
	const char *p = line_text(ids, s, len, ps->line, &r);
	if (!p)
		return r;
	int nest = 0;
	while (p[nest] == '\t')
		nest++;
	if (nest == 0)
		return top_line(ids, ps, p, off);
	if (nest > 2 || ps->cat == CAT_NONE)
		return ps->cat == CAT_UNKNOWN ? 0 : fail(ids, ps->line, "Parse error");
	return nested_line(ids, ps, p + nest, nest);
}

/*
 * The complete lines of buf..last (last: a newline): a nested line is
 * skipped, unread, once a block is open (nine lines in ten: vendors no host
 * has); the others are checked.
 */
static int check_lines(struct pciids *ids, void *ctx, char *buf, char *last, off_t base)
{
	struct pass *ps = ctx;
	for (char *q = buf; q <= last;) {
		if (q[0] == '\t' && ps->cat != CAT_NONE) {
			q = next_start(q, last, WANT_TOP, &ps->line);
			continue;
		}
		char *e = memchr(q, '\n', (size_t)(last + 1 - q));
		int r = check_line(ids, ps, q, (size_t)(e - q), base + (q - buf));
		if (r < 0)
			return r;
		q = e + 1;
	}
	return 0;
}

/*
 * The one buffer files are read through: the pass touches it first, the
 * blocks read later reuse it (a block of 400 KB, Intel's, read into memory
 * of its own cost a page fault every 4 KB). + 3: a newline added to a last
 * line without one, two bytes next_start() may read past the last newline.
 */
static char chunk[64 * 1024 + 3];
#define CHUNK_ROOM (sizeof(chunk) - 3)

/* lines(ids, ctx, buf, last, base): complete lines buf..last, last a newline, base buf's offset in the file */
typedef int lines_fn(struct pciids *ids, void *ctx, char *buf, char *last, off_t base);

/*
 * Bytes [start, end) of the file through chunk, complete lines at a time
 * (a last line without a newline gets one). A line longer than the buffer
 * is libpci's "Line too long" (line: the number of the line being read).
 */
static int stream(struct pciids *ids, off_t start, off_t end, lines_fn *fn, void *ctx, const unsigned *line)
{
	size_t have = 0;
	off_t base = start; /* file offset of chunk[0] */
	for (bool at_end = false; !at_end;) {
		size_t want = CHUNK_ROOM - have;
		if ((off_t)want > end - base - (off_t)have)
			want = (size_t)(end - base - (off_t)have);
		ssize_t n = want ? pread(ids->fd, chunk + have, want, base + (off_t)have) : 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		have += (size_t)n;
		at_end = n == 0 || base + (off_t)have >= end; /* the end asked, or the file shrank */
		if (at_end && have > 0 && chunk[have - 1] != '\n')
			chunk[have++] = '\n';
		chunk[have] = chunk[have + 1] = '\0';
		char *last = have ? memrchr(chunk, '\n', have) : NULL;
		if (!last) {
			if (have == CHUNK_ROOM)
				return fail(ids, *line + 1, "Line too long");
			continue;
		}
		int r = fn(ids, ctx, chunk, last, base);
		if (r < 0)
			return r;
		size_t done = (size_t)(last + 1 - chunk);
		memmove(chunk, chunk + done, have - done);
		base += (off_t)done;
		have -= done;
	}
	return 0;
}

/* The checking pass: the file through the buffer, never all in memory. */
static int check_file(struct pciids *ids, off_t size)
{
	struct pass ps = { 0 };
	int r = stream(ids, 0, size, check_lines, &ps, &ps.line);
	if (r == 0 && ps.open)
		ps.open->end = size;
	ids->size = size;
	return r;
}

static int block_cmp(const void *a, const void *b)
{
	const struct block *x = a, *y = b;
	return x->id != y->id ? (x->id < y->id ? -1 : 1) : (x->line < y->line ? -1 : x->line > y->line);
}

/* Sorted by ID; an ID given twice is an error, as libpci's hash refuses it. */
static int sort_blocks(struct pciids *ids, struct blocks *b)
{
	sort_array(b->v, b->n, sizeof(*b->v), block_cmp);
	for (size_t i = 1; i < b->n; i++)
		if (b->v[i].id == b->v[i - 1].id)
			return fail(ids, b->v[i].line, "Duplicate entry");
	return 0;
}

static struct block *find_block(const struct blocks *b, uint16_t id)
{
	size_t lo = 0, hi = b->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (b->v[mid].id == id)
			return &b->v[mid];
		if (b->v[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

int pciids_open(const char *path, struct pciids **ret)
{
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct stat st;
	unsigned char magic[2];
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISREG(st.st_mode))
		r = S_ISDIR(st.st_mode) ? -EISDIR : -EMEDIUMTYPE;
	if (r == 0 && pread(fd, magic, 2, 0) == 2 && magic[0] == 0x1f && magic[1] == 0x8b)
		r = -EPROTONOSUPPORT;
	if (r < 0) {
		close(fd);
		return r;
	}
	struct pciids *ids = xcalloc(1, sizeof(*ids));
	ids->fd = fd;
	*ret = ids;
	r = check_file(ids, st.st_size);
	if (r == 0)
		r = sort_blocks(ids, &ids->vendors);
	if (r == 0)
		r = sort_blocks(ids, &ids->classes);
	for (size_t i = 0; r == 0 && i < ids->gen_subsys.n; i++)
		if (!find_block(&ids->vendors, ids->gen_subsys.v[i].id))
			r = fail(ids, ids->gen_subsys.v[i].line, "Vendor does not exist");
	if (r < 0 && r != -EBADMSG) {
		pciids_free(ids);
		*ret = NULL;
	}
	return r;
}

static void blocks_free(struct blocks *b)
{
	for (size_t i = 0; i < b->n; i++) {
		free(b->v[i].name);
		for (size_t j = 0; j < b->v[i].nentries; j++)
			free(b->v[i].entries[j].name);
		free(b->v[i].entries);
	}
	free(b->v);
}

void pciids_free(struct pciids *ids)
{
	if (!ids)
		return;
	if (ids->fd >= 0)
		close(ids->fd);
	blocks_free(&ids->vendors);
	blocks_free(&ids->classes);
	blocks_free(&ids->gen_subsys);
	free(ids);
}

const char *pciids_error(const struct pciids *ids, unsigned *line)
{
	*line = ids->error_line;
	return ids->error;
}

/* A block being indexed. */
struct index {
	struct block *b;
	enum cat cat;
	unsigned line;  /* of the line being read */
	uint8_t *seen;  /* IDs met, 65,536 bits: one given twice is libpci's "Duplicate entry" */
};

/* Its own line, "vvvv  name" or "C cc  name", checked again: the file may have changed since the pass. */
static int block_line(struct pciids *ids, struct index *x, char *q, char *e)
{
	int r;
	const char *p = line_text(ids, q, (size_t)(e - q), x->line, &r);
	if (!p)
		return r ? r : fail(ids, x->line, "Parse error");
	const char *name = skip_white(p + 4); /* four characters, then blanks */
	if (!*name || (x->cat == CAT_VENDOR ? hexn(p, 4) : hexn(p + 2, 2)) != x->b->id)
		return fail(ids, x->line, "Parse error");
	x->b->name = xstrdup(name);
	return 0;
}

/*
 * Index the nest-1 lines (devices or subclasses) of buf..last by ID, with
 * where each is in the file: a name is read and checked when it is asked
 * (find_entry()). Subsystem lines (nest 2) name nothing the tool prints:
 * they are not even read. A comment or blank line is checked.
 */
static int index_lines(struct pciids *ids, void *ctx, char *buf, char *last, off_t base)
{
	struct index *x = ctx;
	struct block *b = x->b;
	int digits = x->cat == CAT_VENDOR ? 4 : 2, r;
	for (char *q = buf; q <= last;) {
		x->line++;
		int id = wanted(q, WANT_NEST1) ? hexn(q + 1, digits) : -1;
		char *nl;
		if (!b->name) {
			nl = memchr(q, '\n', (size_t)(last + 1 - q));
			if ((r = block_line(ids, x, q, nl)) < 0)
				return r;
			q = nl + 1;
			continue;
		}
		if (id >= 0 && white(q[1 + digits])) {
			if (x->seen[id / 8] & (1u << (id % 8)))
				return fail(ids, x->line, "Duplicate entry");
			x->seen[id / 8] |= (uint8_t)(1u << (id % 8));
			b->entries = grow_array(b->entries, &b->cap, b->nentries + 1, sizeof(*b->entries));
			b->entries[b->nentries++] = (struct entry){ (uint16_t)id, x->line, base + (q - buf), NULL };
		} else if (q[0] != '\t' || q[1] != '\t') {
			/* a comment or a blank line; anything else: the file changed since the pass */
			nl = memchr(q, '\n', (size_t)(last + 1 - q));
			if (line_text(ids, q, (size_t)(nl - q), x->line, &r) || r < 0)
				return r < 0 ? r : fail(ids, x->line, "Parse error");
			q = nl + 1;
			continue;
		}
		x->line--; /* next_start() counts the newline that ends this line */
		q = next_start(q, last, WANT_NEST1, &x->line);
	}
	return 0;
}

/* Index a block once; false when it has no names (after an error: ids->error says it). */
static bool load_block(struct pciids *ids, struct block *b, enum cat cat)
{
	if (b->loaded)
		return !b->broken;
	b->loaded = true;
	b->broken = true;
	if (ids->error)
		return false;
	_cleanup_free_ uint8_t *seen = xcalloc(65536 / 8, 1);
	struct index x = { b, cat, b->line - 1, seen };
	if (stream(ids, b->start, b->end, index_lines, &x, &x.line) < 0)
		return false;
	if (!b->name) {
		fail(ids, b->line, "I/O error (the file changed)");
		return false;
	}
	b->broken = false;
	return true;
}

/* The name on the nest-1 line with this ID, read and checked now (NULL and ids->error when it does not parse). */
static const char *find_entry(struct pciids *ids, struct block *b, uint16_t id, int digits)
{
	struct entry *e = NULL;
	for (size_t i = 0; i < b->nentries && !e; i++)
		if (b->entries[i].id == id)
			e = &b->entries[i];
	if (!e || e->name)
		return e && *e->name ? e->name : NULL;
	char line[IDS_LINE_MAX + 3];
	ssize_t n;
	do
		n = pread(ids->fd, line, sizeof(line) - 1, e->off);
	while (n < 0 && errno == EINTR);
	char *nl = n > 0 ? memchr(line, '\n', (size_t)n) : NULL;
	int r;
	const char *p = NULL;
	if (n > 0)
		p = line_text(ids, line, nl ? (size_t)(nl - line) : (size_t)n, e->line, &r);
	const char *name = p && wanted(p, WANT_NEST1) && hexn(p + 1, digits) == id ? skip_white(p + 1 + digits) : "";
	if (!*name)
		fail(ids, e->line, "Parse error");
	e->name = xstrdup(name);
	return *e->name ? e->name : NULL;
}

const char *pciids_vendor(struct pciids *ids, uint16_t vendor)
{
	struct block *b = find_block(&ids->vendors, vendor);
	return b && load_block(ids, b, CAT_VENDOR) ? b->name : NULL;
}

const char *pciids_device(struct pciids *ids, uint16_t vendor, uint16_t device)
{
	struct block *b = find_block(&ids->vendors, vendor);
	return b && load_block(ids, b, CAT_VENDOR) ? find_entry(ids, b, device, 4) : NULL;
}

const char *pciids_class(struct pciids *ids, uint8_t base)
{
	struct block *b = find_block(&ids->classes, base);
	return b && load_block(ids, b, CAT_CLASS) ? b->name : NULL;
}

const char *pciids_subclass(struct pciids *ids, uint8_t base, uint8_t sub)
{
	struct block *b = find_block(&ids->classes, base);
	return b && load_block(ids, b, CAT_CLASS) ? find_entry(ids, b, sub, 2) : NULL;
}
