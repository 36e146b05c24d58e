// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ctype.h>
#include <strings.h>

#include "shared/escape.h"
#include "shared/util.h"

const char *program_name = "iommu-own";

/* Messages name files and drivers from the tree: the whole line is escaped. */
static void (*error_sink)(const char *message);

void log_set_error_sink(void (*sink)(const char *message))
{
	error_sink = sink;
}

static void vlog(const char *kind, const char *fmt, va_list ap)
{
	fflush(stdout);
	fprintf(stderr, "%s: %s", program_name, kind);
	esc_vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	if (error_sink) {
		va_list copy;
		va_copy(copy, ap);
		char *msg = NULL;
		if (vasprintf(&msg, fmt, copy) >= 0) {
			error_sink(msg);
			free(msg);
		}
		va_end(copy);
	}
	vlog("", fmt, ap);
	va_end(ap);
}

void log_warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vlog("warning: ", fmt, ap);
	va_end(ap);
}

static void oom(void)
{
	fprintf(stderr, "%s: out of memory\n", program_name);
	exit(EXIT_USAGE);
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		oom();
	return p;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

void *xreallocarray(void *p, size_t n, size_t size)
{
	p = reallocarray(p, n ? n : 1, size ? size : 1);
	if (!p)
		oom();
	return p;
}

char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		oom();
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = strndup(s, n);
	if (!p)
		oom();
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	va_start(ap, fmt);
	if (vasprintf(&p, fmt, ap) < 0)
		oom();
	va_end(ap);
	return p;
}

void *grow_array(void *arr, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return arr;
	size_t n = *cap ? *cap : 8;
	while (n < need)
		n *= 2;
	arr = xreallocarray(arr, n, elem);
	*cap = n;
	return arr;
}

char *strip(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && isspace((unsigned char)s[n - 1]))
		s[--n] = '\0';
	return s;
}

int parse_ulong(const char *s, int base, unsigned long *ret)
{
	char *end;
	if (!s || !*s || isspace((unsigned char)*s) || *s == '-' || *s == '+')
		return -EINVAL;
	errno = 0;
	unsigned long v = strtoul(s, &end, base);
	if (errno || *end)
		return -EINVAL;
	*ret = v;
	return 0;
}

int parse_hex_n(const char *s, size_t len, unsigned long max, unsigned long *ret)
{
	if (len == 0 || len > 8)
		return -EINVAL;
	unsigned long v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isxdigit((unsigned char)s[i]))
			return -EINVAL;
		v = v * 16 + (unsigned long)(isdigit((unsigned char)s[i]) ? s[i] - '0' : (tolower((unsigned char)s[i]) - 'a' + 10));
	}
	if (v > max)
		return -EINVAL;
	*ret = v;
	return 0;
}

int pci_addr_parse(const char *s, struct pci_addr *ret)
{
	/* Split from the right: [domain:]bus:dev.fn */
	const char *dot = strrchr(s, '.');
	if (!dot)
		return -EINVAL;
	const char *c2 = NULL, *c1 = NULL;
	for (const char *p = s; p < dot; p++)
		if (*p == ':') {
			c1 = c2;
			c2 = p;
		}
	if (!c2)
		return -EINVAL;
	unsigned long dom = 0, bus, dev, fn;
	const char *bus_start = c1 ? c1 + 1 : s;
	if (c1) {
		/* only two colons allowed */
		for (const char *p = s; p < c1; p++)
			if (*p == ':')
				return -EINVAL;
		if (parse_hex_n(s, (size_t)(c1 - s), 0xffffffffUL, &dom) < 0)
			return -EINVAL;
	}
	if (parse_hex_n(bus_start, (size_t)(c2 - bus_start), 0xff, &bus) < 0 ||
	    parse_hex_n(c2 + 1, (size_t)(dot - c2 - 1), 0x1f, &dev) < 0 ||
	    parse_hex_n(dot + 1, strlen(dot + 1), 7, &fn) < 0)
		return -EINVAL;
	ret->domain = (uint32_t)dom;
	ret->bus = (uint8_t)bus;
	ret->dev = (uint8_t)dev;
	ret->fn = (uint8_t)fn;
	return 0;
}

void pci_addr_format(const struct pci_addr *a, char *buf, size_t size)
{
	snprintf(buf, size, "%04x:%02x:%02x.%x", a->domain, a->bus, a->dev, a->fn);
}

int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b)
{
	if (a->domain != b->domain)
		return a->domain < b->domain ? -1 : 1;
	if (a->bus != b->bus)
		return a->bus < b->bus ? -1 : 1;
	if (a->dev != b->dev)
		return a->dev < b->dev ? -1 : 1;
	if (a->fn != b->fn)
		return a->fn < b->fn ? -1 : 1;
	return 0;
}

void strv_push(struct strv *s, char *owned)
{
	s->v = grow_array(s->v, &s->cap, s->n + 1, sizeof(*s->v));
	s->v[s->n++] = owned;
}

void strv_free(struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	s->v = NULL;
	s->n = s->cap = 0;
}

char *strv_join(const struct strv *s, const char *sep)
{
	size_t len = 1, seplen = strlen(sep);
	for (size_t i = 0; i < s->n; i++)
		len += strlen(s->v[i]) + (i ? seplen : 0);
	char *out = xmalloc(len), *p = out;
	for (size_t i = 0; i < s->n; i++) {
		if (i)
			p = stpcpy(p, sep);
		p = stpcpy(p, s->v[i]);
	}
	*p = '\0';
	return out;
}

bool strv_contains(const struct strv *s, const char *str)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], str) == 0)
			return true;
	return false;
}

char *path_resolve_rel(const char *dir, const char *target)
{
	if (!target || target[0] == '/')
		return NULL;
	_cleanup_free_ char *all = xasprintf("%s/%s", dir, target);
	struct strv parts = { 0 };
	char *save = NULL;
	for (char *c = strtok_r(all, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		if (streq(c, "."))
			continue;
		if (streq(c, "..")) {
			if (parts.n == 0) {
				strv_free(&parts);
				return NULL;
			}
			free(parts.v[--parts.n]);
			continue;
		}
		strv_push(&parts, xstrdup(c));
	}
	char *out = xstrdup("");
	for (size_t i = 0; i < parts.n; i++) {
		char *next = xasprintf("%s%s%s", out, i ? "/" : "", parts.v[i]);
		free(out);
		out = next;
	}
	strv_free(&parts);
	return out;
}

char *path_relative(const char *from_dir, const char *to)
{
	/* Skip the common leading components. */
	const char *a = from_dir, *b = to;
	const char *last_a = a, *last_b = b;
	while (*a && *a == *b) {
		if (*a == '/') {
			last_a = a + 1;
			last_b = b + 1;
		}
		a++;
		b++;
	}
	if (!*a && (*b == '/' || !*b)) {
		last_a = a;
		last_b = *b ? b + 1 : b;
	}
	size_t ups = 0;
	if (*last_a) {
		ups = 1;
		for (const char *p = last_a; *p; p++)
			ups += *p == '/';
	}
	char *out = xstrdup("");
	for (size_t i = 0; i < ups; i++) {
		char *next = xasprintf("%s../", out);
		free(out);
		out = next;
	}
	char *res = xasprintf("%s%s", out, last_b);
	free(out);
	size_t n = strlen(res);
	if (n > 0 && res[n - 1] == '/')
		res[n - 1] = '\0';
	return res;
}

const char *errno_name(int err)
{
	if (err < 0)
		err = -err;
	/* glibc's table: every errno the kernel can return, EROFS and EDQUOT included. */
	return err > 0 ? strerrorname_np(err) : NULL;
}

int errno_from_name(const char *name)
{
	for (int e = 1; e < 4096; e++) {
		const char *n = strerrorname_np(e);
		if (n && strcasecmp(n, name) == 0)
			return e;
	}
	unsigned long v;
	if (parse_ulong(name, 10, &v) == 0 && v > 0 && v < 4096)
		return (int)v;
	return -1;
}

bool path_component_ok(const char *name)
{
	return name && *name && !streq(name, ".") && !streq(name, "..") && !strchr(name, '/') &&
	       strlen(name) <= 255;
}

bool str_eq_null(const char *a, const char *b)
{
	return (!a && !b) || (a && b && streq(a, b));
}

int strv_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}
