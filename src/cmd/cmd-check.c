// SPDX-License-Identifier: GPL-2.0-or-later
/* iommu-own check: the audit, one line per finding. */
#include "config.h"

#include <argp.h>
#include <errno.h>

#include <string.h>

#include "shared/escape.h"
#include "core/audit.h"
#include "os/state.h"
#include "cmd/commands.h"
#include "cmd/globals.h"
#include "cmd/output.h"
#include "cmd/terminal.h"
#include "os/pcidb.h"
#include "core/why.h"

enum { COL_SEVERITY, COL_CODE, COL_GROUP, COL_DEVICES, COL_MESSAGE, COL_HINT };

static const struct colinfo columns[] = {
	[COL_SEVERITY] = { "SEVERITY", 7, 0, "error, warning or info" },
	[COL_CODE] = { "CODE", 12, 0, "stable finding code" },
	[COL_GROUP] = { "GROUP", 5, SCOLS_FL_RIGHT, "IOMMU group number (- for the whole system)" },
	[COL_DEVICES] = { "DEVICES", 14, 0, "PCI addresses concerned, comma-separated" },
	[COL_MESSAGE] = { "MESSAGE", 0.6, 0, "what is wrong", FIT_WRAP, 0.6 },
	[COL_HINT] = { "HINT", 0.4, 0, "what to do about it", FIT_WRAP, 0.4 },
};
static const int default_columns[] = { COL_SEVERITY, COL_CODE, COL_GROUP, COL_DEVICES, COL_MESSAGE, COL_HINT };

enum { OPT_STRICT = 0x200, OPT_ALL, OPT_STATE_DIR, OPT_CONF, OPT_SYNTAX, OPT_FORMAT };

struct check_args {
	struct outopts out;
	struct selectors sel;
	struct strv targets;
	bool strict;
	bool all;
	const char *state_dir;
	const char *conf;
	bool syntax;
	bool prometheus; /* --format=prometheus */
};

static const struct argp_option check_options[] = {
	{ "strict", OPT_STRICT, NULL, 0, "Exit with status 1 on warnings too", 0 },
	{ "all", OPT_ALL, NULL, 0, "Also show findings of severity info (shared-group)", 0 },
	{ "state-dir", OPT_STATE_DIR, "DIR", 0, "Where the records of claims are kept, as given to claim", 0 },
	{ "conf", OPT_CONF, "FILE", 0, "Judge the declarations of FILE instead of the system's", 0 },
	{ "format", OPT_FORMAT, "FORMAT", 0,
	  "prometheus: the Prometheus text format, for node_exporter's textfile collector (every finding code "
	  "counted, zeros included; group states)",
	  0 },
	{ "syntax", OPT_SYNTAX, NULL, 0,
	  "Only parse the declarations (the system's, or --conf FILE) and exit: 0 valid, 2 not (each error as "
	  "FILE:LINE)",
	  0 },
	{ 0 }
};

static error_t check_parse(int key, char *arg, struct argp_state *state)
{
	struct check_args *a = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = &a->out;
		state->child_inputs[1] = &a->sel;
		break;
	case OPT_STRICT:
		a->strict = true;
		break;
	case OPT_ALL:
		a->all = true;
		break;
	case OPT_STATE_DIR:
		if (!*arg)
			argp_error(state, "--state-dir: empty directory name");
		a->state_dir = arg;
		break;
	case OPT_CONF:
		if (!*arg)
			argp_error(state, "--conf: empty file name");
		a->conf = arg;
		break;
	case OPT_SYNTAX:
		a->syntax = true;
		break;
	case OPT_FORMAT:
		if (streq(arg, "prometheus") && globals_json())
			argp_error(state, "--format prometheus and --json: one format at a time");
		if (streq(arg, "prometheus"))
			a->prometheus = true;
		else if (!streq(arg, "table"))
			argp_error(state, "--format %s: expected table or prometheus", arg);
		break;
	case ARGP_KEY_ARG:
		strv_push(&a->targets, xstrdup(arg));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

static const struct argp_child check_children[] = { { &output_argp, 0, "Output:", 1 },
						     { &selectors_argp, 0, "Selectors:", 2 },
						     { 0 } };
static const struct argp check_argp = {
	check_options, check_parse, "[GROUP|DEVICE...]",
	"Audit the IOMMU groups and report each finding with a stable code (findings of severity info "
	"only with --all). Exit status: 0 when there is no finding of severity error, 1 when there is one "
	"(with --strict, warnings count too), 2 on a usage or runtime error (a declaration that does not parse).",
	check_children, NULL, NULL
};

/*
 * The DEVICES cell: every address in raw output (-r, for scripts); in the
 * aligned table the first few and a count, since every line is padded to
 * the widest cell and one group of thousands would pad them all.
 */
#define TABLE_DEVICES 4
static char *devices_cell(const struct strv *devices, bool raw)
{
	if (devices->n == 0)
		return xstrdup("-");
	if (raw || devices->n <= TABLE_DEVICES)
		return strv_join(devices, ",");
	struct strv first = { .v = devices->v, .n = TABLE_DEVICES };
	_cleanup_free_ char *head = strv_join(&first, ",");
	return xasprintf("%s,... (%zu in all)", head, devices->n);
}

static const char *severity_color(enum severity s)
{
	return s == SEV_ERROR ? "red" : s == SEV_WARNING ? "yellow" : "blue";
}

/* Below this many cells for MESSAGE, the default table is too narrow to read: blocks instead. */
#define BLOCK_BELOW 30

/*
 * A finding as a block for a narrow terminal: its severity, code, group and
 * devices on one line, then the message and the hint wrapped at words.
 */
static void print_block(const struct finding *x, size_t width, bool first)
{
	_cleanup_free_ char *devs = devices_cell(&x->devices, false);
	_cleanup_free_ char *group = x->group ? xasprintf("group %lu", x->group->number) : xstrdup("system");
	const char *sev = severity_to_string(x->severity);
	bool color = term_colors();
	if (!first)
		putchar('\n');
	if (color)
		printf("\033[%sm%s\033[0m", x->severity == SEV_ERROR ? "31" : x->severity == SEV_WARNING ? "33" : "34", sev);
	else
		fputs(sev, stdout);
	esc_fprintf(stdout, " %s, %s%s%s\n", x->code, group, x->devices.n ? ": " : "", x->devices.n ? devs : "");
	term_print_wrapped(stdout, "  ", "  ", x->message, width);
	if (x->hint && *x->hint)
		term_print_wrapped(stdout, "  hint: ", "        ", x->hint, width);
}

static int print_blocks(const struct findings *f)
{
	size_t width = term_width();
	for (size_t i = 0; i < f->n; i++)
		print_block(&f->v[i], width, i == 0);
	return ferror(stdout) ? -EIO : 0;
}

/* The MESSAGE column's width once fitted (its widest line). */
static size_t message_width(struct libscols_table *t, const struct outopts *o)
{
	size_t w = 0;
	for (size_t c = 0; c < o->ncols; c++) {
		if (o->cols[c] != COL_MESSAGE)
			continue;
		struct libscols_iter *it = scols_new_iter(SCOLS_ITER_FORWARD);
		struct libscols_line *ln;
		while (it && scols_table_next_line(t, it, &ln) == 0) {
			const char *d = scols_cell_get_data(scols_line_get_cell(ln, c));
			for (const char *p = d; p && *p;) {
				size_t n = strcspn(p, "\n");
				_cleanup_free_ char *line = xstrndup(p, n);
				size_t lw = term_text_width(line);
				w = lw > w ? lw : w;
				p += n + (p[n] == '\n');
			}
		}
		scols_free_iter(it);
		return w;
	}
	return SIZE_MAX;
}

static int print_table(const struct findings *f, const struct outopts *o)
{
	_cleanup_(scols_unref_tablep) struct libscols_table *t = output_table(o, columns, false);
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];
		struct libscols_line *ln = scols_table_new_line(t, NULL);
		if (!ln)
			return -ENOMEM;
		for (size_t c = 0; c < o->ncols; c++) {
			_cleanup_free_ char *s = NULL;
			switch (o->cols[c]) {
			case COL_SEVERITY:
				s = xstrdup(severity_to_string(x->severity));
				break;
			case COL_CODE:
				s = xstrdup(x->code);
				break;
			case COL_GROUP:
				s = x->group ? xasprintf("%lu", x->group->number) : xstrdup("-");
				break;
			case COL_DEVICES:
				s = devices_cell(&x->devices, output_flat(o));
				break;
			case COL_MESSAGE:
				s = xstrdup(x->message);
				break;
			case COL_HINT:
				s = xstrdup(x->hint);
				break;
			}
			if (output_cell(ln, c, s, o) < 0)
				return -ENOMEM;
			if (o->cols[c] == COL_SEVERITY)
				output_color(ln, c, severity_color(x->severity));
		}
	}
	if (f->n == 0 && !output_flat(o)) {
		printf("No findings.\n");
		return 0;
	}
	bool fits = output_fit(t, o, columns);
	if (!o->columns && term_is_tty() && !output_flat(o) && (!fits || message_width(t, o) < BLOCK_BELOW))
		return print_blocks(f);
	return output_print(t);
}

static int print_json(const struct findings *f)
{
	_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
	struct json_object *arr = json_object_new_array();
	json_object_object_add(doc, "findings", arr);
	for (size_t i = 0; i < f->n; i++) {
		const struct finding *x = &f->v[i];
		struct json_object *o = json_object_new_object();
		json_object_object_add(o, "code", json_str(x->code));
		json_object_object_add(o, "severity", json_str(severity_to_string(x->severity)));
		json_object_object_add(o, "group", x->group ? json_object_new_uint64(x->group->number) : NULL);
		struct json_object *devs = json_object_new_array();
		for (size_t j = 0; j < x->devices.n; j++)
			json_object_array_add(devs, json_str(x->devices.v[j]));
		json_object_object_add(o, "devices", devs);
		json_object_object_add(o, "message", json_str(x->message));
		json_object_object_add(o, "hint", json_str(x->hint));
		json_object_array_add(arr, o);
	}
	struct json_object *sum = json_object_new_object();
	json_object_object_add(sum, "errors", json_object_new_uint64(f->count[SEV_ERROR]));
	json_object_object_add(sum, "warnings", json_object_new_uint64(f->count[SEV_WARNING]));
	json_object_object_add(sum, "info", json_object_new_uint64(f->count[SEV_INFO]));
	json_object_object_add(doc, "summary", sum);
	return output_json(doc);
}

/*
 * The Prometheus text exposition format (version 0.0.4): metric names
 * iommu_own_*, every finding code with its severity (zeros included, so
 * that an alert sees a finding go away), the groups by state, and one
 * series per group for its state.
 */
static int print_prometheus(const struct findings *f, const struct system *sys)
{
	printf("# HELP iommu_own_findings Findings of iommu-own check, by stable code and severity.\n"
	       "# TYPE iommu_own_findings gauge\n");
	for (size_t c = 0; c < n_finding_codes; c++) {
		size_t n = 0;
		for (size_t i = 0; i < f->n; i++)
			n += streq(f->v[i].code, finding_codes[c].code);
		printf("iommu_own_findings{code=\"%s\",severity=\"%s\"} %zu\n", finding_codes[c].code,
		       severity_to_string(finding_codes[c].severity), n);
	}
	printf("# HELP iommu_own_groups IOMMU groups by owner state.\n# TYPE iommu_own_groups gauge\n");
	for (int st = 0; st <= GROUP_NOIOMMU; st++) {
		size_t n = 0;
		for (size_t i = 0; i < sys->ngroups; i++)
			n += sys->groups[i]->state == (enum group_state)st;
		printf("iommu_own_groups{state=\"%s\"} %zu\n", group_state_to_string((enum group_state)st), n);
	}
	printf("# HELP iommu_own_group_state The owner state of each IOMMU group (1 for its state).\n"
	       "# TYPE iommu_own_group_state gauge\n");
	for (size_t i = 0; i < sys->ngroups; i++)
		if (sys->groups[i]->selected)
			printf("iommu_own_group_state{group=\"%lu\",state=\"%s\"} 1\n", sys->groups[i]->number,
			       group_state_to_string(sys->groups[i]->state));
	printf("# HELP iommu_own_devices PCI devices by what their binding means.\n# TYPE iommu_own_devices gauge\n");
	for (int role = 0; role < _ROLE_MAX; role++) {
		size_t n = 0;
		for (size_t i = 0; i < sys->ndevices; i++)
			n += sys->devices[i]->is_pci && sys->devices[i]->role == (enum role)role;
		printf("iommu_own_devices{role=\"%s\"} %zu\n", role_to_string((enum role)role), n);
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : -EIO;
}

struct why_ctx {
	const struct ka *ka;
	struct pcidb *db;
	const struct system *sys;
};

static char *why_line(void *ctx, const struct group *g)
{
	struct why_ctx *wc = ctx;
	struct why w;
	why_explain(wc->ka, wc->db, wc->sys, g, &w);
	char *line = why_one_line(&w);
	why_free(&w);
	return line;
}

/*
 * What the state directories say about moves, read without creating or
 * locking anything, and what the boot step recorded (boot.json); returns the
 * directory that could not be read, if any.
 */
static char *read_move_status(struct context *ctx, const char *state_dir, struct move_status *ms,
			       struct json_object **boot)
{
	struct state kernel, records;
	char *unreadable = NULL;
	int r = state_open_kernel(&kernel, ctx->ka, false);
	if (r < 0) {
		if (r != -ENOENT)
			unreadable = state_kernel_path(ctx->ka);
		kernel.dirfd = -1;
	} else if (state_exists(&kernel, "boot.json") && state_read(&kernel, "boot.json", boot) < 0) {
		*boot = NULL; /* unreadable: compared as if the boot step had not run, which check reports */
	}
	bool own = false;
	if (state_dir) {
		r = state_open(&records, state_dir, false);
		own = r == 0;
		if (r < 0 && r != -ENOENT && !unreadable)
			unreadable = xstrdup(state_dir);
	}
	move_status_read(&kernel, own ? &records : NULL, ms);
	if (own)
		state_close(&records);
	state_close(&kernel);
	return unreadable;
}

/* The declarations check judges: --conf FILE, else the system's. Errors are printed (FILE:LINE). */
static int load_declarations(struct context *ctx, const struct check_args *a, struct decls *ds)
{
	if (!a->conf && context_open(ctx) < 0)
		return -EINVAL;
	int r = decls_load(ctx->ka, a->conf, ds);
	if (r < 0)
		globals_error_code("declarations");
	return r;
}

/* --syntax: parse, say how many entries, and stop; the tree is not read. */
static int run_syntax(struct context *ctx, const struct check_args *a)
{
	struct decls ds;
	if (load_declarations(ctx, a, &ds) < 0)
		return EXIT_USAGE;
	if (!a->out.json) {
		esc_fprintf(stdout, "%zu declaration%s in %zu file%s: valid\n", decls_active(&ds),
			   decls_active(&ds) == 1 ? "" : "s", ds.files.n, ds.files.n == 1 ? "" : "s");
	} else {
		_cleanup_(json_object_putp) struct json_object *o = json_object_new_object();
		struct json_object *files = json_object_new_array();
		for (size_t i = 0; i < ds.files.n; i++)
			json_object_array_add(files, json_str(ds.files.v[i]));
		json_object_object_add(o, "files", files);
		json_object_object_add(o, "declarations", json_object_new_int64((int64_t)decls_active(&ds)));
		json_object_object_add(o, "valid", json_object_new_boolean(true));
		if (output_json(o) < 0) {
			decls_free(&ds);
			return EXIT_USAGE;
		}
	}
	decls_free(&ds);
	return EXIT_OK;
}

static int run_check(struct context *ctx, struct check_args *a)
{
	if (a->out.list_columns) {
		output_list_columns(columns, ARRAY_SIZE(columns));
		return EXIT_OK;
	}
	if (a->syntax)
		return run_syntax(ctx, a);
	if (output_columns(&a->out, columns, ARRAY_SIZE(columns), default_columns, ARRAY_SIZE(default_columns)) < 0)
		return EXIT_USAGE;

	struct decls ds;
	if (load_declarations(ctx, a, &ds) < 0)
		return EXIT_USAGE;
	/* IDs only when something is declared: they are judged against the entries. */
	unsigned flags = AUDIT_MODEL_FLAGS | (decls_active(&ds) ? MODEL_IDS : 0);
	_cleanup_(model_freep) struct system *sys = NULL;
	if (context_load_selected(ctx, flags, (int)a->targets.n, a->targets.v, &a->sel, a->state_dir, &sys) < 0) {
		decls_free(&ds);
		return EXIT_USAGE;
	}

	struct why_ctx wc = { ctx->ka, NULL, sys };
	bool all = a->all || a->prometheus; /* the metrics count every code, info ones too */
	if (all || decls_pin_serial(&ds)) {
		if (context_open_config(ctx, &wc.db) < 0) {
			pcidb_free(wc.db);
			decls_free(&ds);
			return EXIT_USAGE;
		}
		if (all)
			model_read_config(sys, ctx->ka, wc.db);
	}
	_cleanup_free_ char *prog = context_command(ctx);
	_cleanup_free_ char *state_opt = state_dir_option(a->state_dir);
	struct move_status ms;
	_cleanup_(json_object_putp) struct json_object *boot = NULL;
	_cleanup_free_ char *unreadable = read_move_status(ctx, a->state_dir, &ms, &boot);
	struct audit_options ao = { .all = all, .why_line = why_line, .why_ctx = &wc, .prog = prog,
				    .state_opt = state_opt, .moves = &ms, .state_unreadable = unreadable,
				    .decls = &ds, .ka = ctx->ka, .db = wc.db, .boot = boot };
	struct findings f = { 0 };
	audit_run_with(sys, &ao, &f);
	move_status_free(&ms);
	pcidb_free(wc.db);
	decls_free(&ds);
	int r = a->prometheus ? print_prometheus(&f, sys) : a->out.json ? print_json(&f) : print_table(&f, &a->out);
	int status = r < 0                                              ? EXIT_USAGE
		     : f.count[SEV_ERROR] || (a->strict && f.count[SEV_WARNING]) ? EXIT_FINDINGS
										   : EXIT_OK;
	findings_free(&f);
	return status;
}

int cmd_check(struct context *ctx, int argc, char **argv)
{
	struct check_args a = { 0 };
	command_parse(&check_argp, argc, argv, &a);
	int status = run_check(ctx, &a);
	output_free(&a.out);
	strv_free(&a.targets);
	selectors_free(&a.sel);
	return status;
}
