// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * jsonc: what json-c alone takes to make a `list --json` document.
 *
 *   jsonc FILE [ROUNDS]
 *
 * FILE is the output of `iommu-own list --json`. Each of its groups is
 * made again through json-c's API (objects, arrays, strings, booleans and
 * numbers, keys added as iommu-own adds them: constant and new) and
 * printed with iommu-own's flags (pretty, spaced, no slash escapes), then
 * freed, one group at a time as list streams them. Prints the best of
 * ROUNDS (default 7) in milliseconds, for building and printing and for
 * building alone, and the bytes printed: the part of list --json's time
 * that is json-c's, whatever the tool around it does.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define FLAGS (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A deep copy through the API: the objects a command makes. */
static struct json_object *make(struct json_object *o)
{
	switch (json_object_get_type(o)) {
	case json_type_object: {
		struct json_object *n = json_object_new_object();
		json_object_object_foreach(o, k, v)
			json_object_object_add_ex(n, k, make(v),
						  JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
		return n;
	}
	case json_type_array: {
		struct json_object *n = json_object_new_array();
		for (size_t i = 0; i < json_object_array_length(o); i++)
			json_object_array_add(n, make(json_object_array_get_idx(o, i)));
		return n;
	}
	case json_type_string:
		return json_object_new_string(json_object_get_string(o));
	case json_type_boolean:
		return json_object_new_boolean(json_object_get_boolean(o));
	case json_type_int:
		return json_object_new_uint64(json_object_get_uint64(o));
	case json_type_null:
		return NULL;
	default:
		return json_object_get(o);
	}
}

static double round_of(struct json_object *groups, int print, size_t *bytes)
{
	double t0 = now();
	*bytes = 0;
	for (size_t i = 0; i < json_object_array_length(groups); i++) {
		struct json_object *g = make(json_object_array_get_idx(groups, i));
		if (print) {
			size_t len;
			json_object_to_json_string_length(g, FLAGS, &len);
			*bytes += len;
		}
		json_object_put(g);
	}
	return now() - t0;
}

int main(int argc, char **argv)
{
	if (argc < 2 || argc > 3) {
		fprintf(stderr, "usage: jsonc FILE [ROUNDS]\n");
		return 2;
	}
	int rounds = argc == 3 ? atoi(argv[2]) : 7;
	struct json_object *doc = json_object_from_file(argv[1]), *groups;
	if (!doc || !json_object_object_get_ex(doc, "groups", &groups) || rounds < 1) {
		fprintf(stderr, "jsonc: %s: not a list --json document\n", argv[1]);
		return 2;
	}
	double both = 1e9, build = 1e9;
	size_t bytes = 0, none;
	for (int r = 0; r < rounds; r++) {
		double t = round_of(groups, 1, &bytes);
		both = t < both ? t : both;
		t = round_of(groups, 0, &none);
		build = t < build ? t : build;
	}
	printf("groups %zu build+print_ms %.2f build_ms %.2f bytes %zu\n", json_object_array_length(groups),
	       both * 1e3, build * 1e3, bytes);
	json_object_put(doc);
	return 0;
}
