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

/* A nest-1 line of a loaded block: its ID; its name is cut from its text when asked. */
struct entry {
	uint16_t id;
	unsigned line;
	char *text;
	const char *name; /* NULL until asked */
};

/* A vendor's or class's lines, from its top-level line to the next one. */
struct block {
	uint16_t id;
	unsigned line; /* of the top-level line */
	off_t start, end;
	bool loaded, broken;
	char *text;       /* the block, each name NUL-terminated in place */
	const char *name; /* of the top-level line */
	struct entry *entries; /* the nest-1 lines, in file order */
	size_t nentries;
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
 * The complete lines of chunk[s, last] (last: its last newline): a nested
 * line is skipped, unread, once a block is open (nine lines in ten: vendors
 * no host has); the others are checked.
 */
static int check_lines(struct pciids *ids, struct pass *ps, char *chunk, size_t s, char *last, off_t base)
{
	for (char *q = chunk + s; q <= last;) {
		if (q[0] == '\t' && ps->cat != CAT_NONE) {
			q = next_start(q, last, WANT_TOP, &ps->line);
			continue;
		}
		char *e = memchr(q, '\n', (size_t)(last + 1 - q));
		int r = check_line(ids, ps, q, (size_t)(e - q), base + (q - chunk));
		if (r < 0)
			return r;
		q = e + 1;
	}
	return 0;
}

/* The checking pass: the file through a fixed buffer, never all in memory. */
static int check_file(struct pciids *ids)
{
	/* + 2: next_start() reads two bytes past the last newline, check_line() writes a NUL */
	static char chunk[64 * 1024 + 2];
	const size_t room = sizeof(chunk) - 2;
	struct pass ps = { 0 };
	size_t have = 0;
	off_t base = 0; /* file offset of chunk[0] */
	for (bool eof = false; !eof;) {
		ssize_t n = read(ids->fd, chunk + have, room - have);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		eof = n == 0;
		have += (size_t)n;
		chunk[have] = chunk[have + 1] = '\0';
		char *last = memrchr(chunk, '\n', have);
		size_t done = last ? (size_t)(last + 1 - chunk) : 0;
		int r = last ? check_lines(ids, &ps, chunk, 0, last, base) : 0;
		/* the last line, without a newline */
		if (r == 0 && eof && done < have && (chunk[done] != '\t' || ps.cat == CAT_NONE))
			r = check_line(ids, &ps, chunk + done, have - done, base + (off_t)done);
		if (r < 0)
			return r;
		if (!eof && done == 0 && have == room)
			return fail(ids, ps.line + 1, "Line too long");
		if (eof)
			done = have;
		memmove(chunk, chunk + done, have - done);
		base += (off_t)done;
		have -= done;
	}
	if (ps.open)
		ps.open->end = base;
	ids->size = base;
	return 0;
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
	r = check_file(ids);
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
		free(b->v[i].text);
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

/*
 * Index a block's nest-1 lines (devices or subclasses) by ID, in file
 * order: each is checked when its name is asked (find_entry()), an ID given
 * twice is an error (libpci's hash refuses it). Its own line is checked
 * again: the file may have changed since the pass. Subsystem lines (nest 2)
 * name nothing the tool prints: they are not even read.
 */
static int parse_block(struct pciids *ids, struct block *b, enum cat cat, char *last)
{
	size_t cap = 0;
	int digits = cat == CAT_VENDOR ? 4 : 2, r;
	char *e = memchr(b->text, '\n', (size_t)(last + 1 - b->text));
	const char *p = line_text(ids, b->text, (size_t)(e - b->text), b->line, &r);
	if (!p)
		return r ? r : fail(ids, b->line, "Parse error");
	/* "vvvv  name" or "C cc  name": four characters, then blanks */
	b->name = skip_white(p + 4);
	if (!*b->name || (cat == CAT_VENDOR ? hexn(p, 4) : hexn(p + 2, 2)) != b->id)
		return fail(ids, b->line, "Parse error");
	_cleanup_free_ uint8_t *seen = xcalloc(65536 / 8, 1);
	unsigned nls = 1; /* newlines before q: q is on line b->line + nls */
	for (char *q = e + 1; q <= last;) {
		unsigned line = b->line + nls;
		int id = wanted(q, WANT_NEST1) ? hexn(q + 1, digits) : -1;
		if (id >= 0 && white(q[1 + digits])) {
			if (seen[id / 8] & (1u << (id % 8)))
				return fail(ids, line, "Duplicate entry");
			seen[id / 8] |= (uint8_t)(1u << (id % 8));
			b->entries = grow_array(b->entries, &cap, b->nentries + 1, sizeof(*b->entries));
			b->entries[b->nentries++] = (struct entry){ (uint16_t)id, line, q, NULL };
		} else if (q[0] != '\t' || q[1] != '\t') {
			/* a comment or a blank line; anything else: the file changed since the pass */
			char *nl = memchr(q, '\n', (size_t)(last + 1 - q));
			if (line_text(ids, q, (size_t)(nl - q), line, &r) || r < 0)
				return r < 0 ? r : fail(ids, line, "Parse error");
			nls++;
			q = nl + 1;
			continue;
		}
		q = next_start(q, last, WANT_NEST1, &nls);
	}
	return 0;
}

/* Read and parse a block once; false when it has no names (after an error: ids->error says it). */
static bool load_block(struct pciids *ids, struct block *b, enum cat cat)
{
	if (b->loaded)
		return !b->broken;
	b->loaded = true;
	b->broken = true;
	if (ids->error)
		return false;
	size_t size = (size_t)(b->end - b->start), got = 0;
	/* + 3: a newline if the file's last line has none, two bytes next_start() may read */
	b->text = xmalloc(size + 3);
	while (got < size) {
		ssize_t n = pread(ids->fd, b->text + got, size - got, b->start + (off_t)got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	if (got < size || size == 0) {
		fail(ids, b->line, "I/O error (the file changed)");
		return false;
	}
	if (b->text[size - 1] != '\n')
		b->text[size++] = '\n';
	b->text[size] = b->text[size + 1] = '\0';
	b->broken = parse_block(ids, b, cat, b->text + size - 1) < 0;
	return !b->broken;
}

/* The name on the nest-1 line with this ID, checked now (NULL and ids->error when it does not parse). */
static const char *find_entry(struct pciids *ids, struct block *b, uint16_t id, int digits)
{
	for (size_t i = 0; i < b->nentries; i++) {
		struct entry *e = &b->entries[i];
		if (e->id != id)
			continue;
		if (!e->name) {
			int r;
			char *nl = strchr(e->text, '\n');
			const char *p = line_text(ids, e->text, nl ? (size_t)(nl - e->text) : strlen(e->text), e->line, &r);
			const char *name = p ? skip_white(p + 1 + digits) : "";
			if (!p || !*name)
				fail(ids, e->line, "Parse error");
			e->name = name;
		}
		return *e->name ? e->name : NULL;
	}
	return NULL;
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
