/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Messages, allocation and parsing helpers with no knowledge of sysfs. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "shared/macro.h"

/* Exit statuses: the only place they are defined (the man page's EXIT STATUS table lists them). */
enum {
	EXIT_OK = 0,
	EXIT_FINDINGS = 1,    /* check: error findings; moves: refused, or failed and rolled back */
	EXIT_USAGE = 2,       /* usage error, or runtime error before anything changed */
	EXIT_INCOMPLETE = 3,  /* a move failed and the rollback is incomplete: run recover */
	EXIT_PENDING = 4,     /* an interrupted move's journal is pending: run recover first */
	EXIT_BLOCKED = 5,     /* a write is stuck in the kernel (a holder): recover once it lets go */
	EXIT_PARTIAL = 6,     /* apply: an entry was refused (drift, a conflict, a check); the others applied */
	EXIT_REPORT_LOST = 7, /* the move was done, but its report could not be written */
	EXIT_SIGNAL = 128,    /* + the signal's number: interrupted, and rolled back */
};

extern const char *program_name;

void log_error(const char *fmt, ...) _printf_(1, 2);
/* Also hand every error message (unescaped) to sink, e.g. to put it in a JSON document; NULL: none. */
void log_set_error_sink(void (*sink)(const char *message));
void log_warning(const char *fmt, ...) _printf_(1, 2);

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) _printf_(1, 2);

/* qsort() that takes an empty array as it is (qsort's base must not be NULL, even for 0 elements). */
static inline void sort_array(void *base, size_t n, size_t size, int (*cmp)(const void *, const void *))
{
	if (n > 1)
		qsort(base, n, size, cmp);
}

/* Append an element to a growing array: *arr has *n used slots of *cap. */
void *grow_array(void *arr, size_t *cap, size_t need, size_t elem);

/* Strip trailing newline and white space in place. */
char *strip(char *s);

/* Parse an unsigned number in the given base; the whole string must be used. */
int parse_ulong(const char *s, int base, unsigned long *ret);

/* The len characters at s as 1 to 8 hexadecimal digits (either case, nothing else) of a value up to max. */
int parse_hex_n(const char *s, size_t len, unsigned long max, unsigned long *ret);

/* A PCI address: domain (up to 0xffffffff, VMD uses 10000), bus, device, function. */
struct pci_addr {
	uint32_t domain;
	uint8_t bus, dev, fn;
};

/* "0000:01:00.0" or "01:00.0" (domain 0). Returns 0 or -EINVAL. */
int pci_addr_parse(const char *s, struct pci_addr *ret);
/* Canonical form: at least 4 hex digits of domain, as sysfs names devices. */
void pci_addr_format(const struct pci_addr *a, char *buf, size_t size);
int pci_addr_cmp(const struct pci_addr *a, const struct pci_addr *b);

/* A string list that grows. */
struct strv {
	char **v;
	size_t n, cap;
};
void strv_push(struct strv *s, char *owned);
void strv_free(struct strv *s);
bool strv_contains(const struct strv *s, const char *str);
/* The strings joined with sep; the caller frees it. */
char *strv_join(const struct strv *s, const char *sep);

/*
 * Join a relative symlink target to the directory holding the link and
 * resolve "." and ".." lexically ("sys/bus/pci/devices" + "../../../devices/x"
 * = "sys/devices/x"). NULL when the result would climb above the start or the
 * target is absolute.
 */
char *path_resolve_rel(const char *dir, const char *target);
/* The relative path from directory from_dir to to (both root-relative, normalized). */
char *path_relative(const char *from_dir, const char *to);

/* errno names for messages and fault files: "EBUSY" <-> EBUSY (every name glibc knows). */
const char *errno_name(int err);
int errno_from_name(const char *name);
/*
 * Whether name can be one component of a path the tool builds (a driver,
 * module or device name from a tree, a journal or a module index): not
 * empty, not "." or "..", no slash, at most NAME_MAX bytes.
 */
bool path_component_ok(const char *name);
/* Two strings, either of which may be NULL, are equal (NULL only equals NULL). */
bool str_eq_null(const char *a, const char *b);
/* qsort comparator for an array of strings. */
int strv_cmp(const void *a, const void *b);
