/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The output layer: column tables (libsmartcols) and JSON (json-c). A
 * command's static column table drives --output, --list-columns, --help and
 * (through the same names) the man page and the completions.
 */
#pragma once

#include <argp.h>
#include <stdbool.h>
#include <stdio.h>

#include <json-c/json.h>
#include <libsmartcols.h>

/* How a column gives way when a table is wider than the terminal. */
enum fit { FIT_KEEP, FIT_TRUNCATE, FIT_WRAP };

struct colinfo {
	const char *name;
	double whint;
	int flags; /* SCOLS_FL_* */
	const char *help;
	enum fit fit;  /* FIT_KEEP: always whole (identifying columns) */
	double share;  /* of the width left to the columns that give way */
};

/* The options every reporting command shares (an argp child). */
struct outopts {
	bool json, raw, pairs, noheadings, list_columns;
	const char *columns; /* -o: "A,B" replaces the defaults, "+A,B" appends */
	/* chosen columns, indexes into the command's colinfo table */
	int *cols;
	size_t ncols;
};

extern const struct argp output_argp;

/*
 * Resolve o->columns against the table (names case-insensitive). Prints a
 * message naming an unknown column and returns -EINVAL.
 */
int output_columns(struct outopts *o, const struct colinfo *tab, size_t ntab, const int *defaults,
		   size_t ndefaults);
bool output_has_column(const struct outopts *o, int col);
/* Whether rows are flat, one per line (-r, -P): no tree, group cells repeated. */
static inline bool output_flat(const struct outopts *o)
{
	return o->raw || o->pairs;
}
/*
 * Set a cell (s NULL or empty: an empty cell). With -r an empty cell is
 * printed as "-", so that the shell's read keeps every field in its place.
 */
int output_cell(struct libscols_line *ln, size_t i, const char *s, const struct outopts *o);
void output_free(struct outopts *o);

/* Print "NAME  help" for each column (--list-columns). */
void output_list_columns(const struct colinfo *tab, size_t ntab);

/* A table with the chosen columns; tree is honoured unless raw. */
struct libscols_table *output_table(const struct outopts *o, const struct colinfo *tab, bool tree);
static inline void scols_unref_tablep(struct libscols_table **t)
{
	scols_unref_table(*t);
}

/*
 * On a terminal, make t fit its width: the columns that give way (colinfo
 * fit) share what the others leave, truncated with a mark or wrapped at
 * words. Returns false when even that cannot fit (check prints blocks then).
 * Does nothing for pipes, -r, -P and -J.
 */
bool output_fit(struct libscols_table *t, const struct outopts *o, const struct colinfo *tab);
/* Colour a cell when colours are on (--color, NO_COLOR); color is a libsmartcols colour name. */
void output_color(struct libscols_line *ln, size_t i, const char *color);
/* Print the table (colours enabled when wanted); -EIO on a write error. */
int output_print(struct libscols_table *t);

/* Write a JSON document to stdout, pretty-printed, with a final newline. */
int output_json(struct json_object *doc);
/* Whether a JSON document was started on stdout (-J: at most one, and one at least). */
bool output_json_written(void);

/*
 * A top-level JSON object written member by member, its arrays element by
 * element, so that a document about thousands of devices never sits in
 * memory whole. The text is the same as output_json() would print.
 */
struct json_stream {
	FILE *f;
	bool first_member, first_element;
	char *buf; /* an element's indented text, reused */
	size_t cap;
};
void json_stream_begin(struct json_stream *js);
/* A member "key": value (value is consumed). */
void json_stream_member(struct json_stream *js, const char *key, struct json_object *value);
void json_stream_array_begin(struct json_stream *js, const char *key);
/* An element of the open array (consumed). */
void json_stream_element(struct json_stream *js, struct json_object *value);
void json_stream_array_end(struct json_stream *js);
int json_stream_end(struct json_stream *js);
static inline void json_object_putp(struct json_object **o)
{
	json_object_put(*o);
}
/* Add a member whose key is a string literal not yet in o (no copy, no lookup). */
static inline void json_add(struct json_object *o, const char *literal_key, struct json_object *value)
{
	json_object_object_add_ex(o, literal_key, value, JSON_C_OBJECT_ADD_KEY_IS_NEW | JSON_C_OBJECT_KEY_IS_CONSTANT);
}
/*
 * With -J, a failure still prints one JSON document on stdout:
 * {"error": {"code": CODE, "message": MESSAGE}}; the exit status is the caller's.
 */
void output_error_json(const char *code, const char *message);
