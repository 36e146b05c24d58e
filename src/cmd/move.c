// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <argp.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "shared/escape.h"
#include "cmd/interrupt.h"
#include "cmd/globals.h"
#include "cmd/move-internal.h"
#include "cmd/output.h"
#include "cmd/report.h"
#include "core/apply.h"
#include "core/audit.h"
#include "core/decl.h"
#include "core/execute.h"
#include "core/journal.h"
#include "core/record.h"
#include "core/handoff.h"
#include "core/sriov.h"
#include "os/drivers.h"
#include "os/holders.h"
#include "os/layout.h"
#include "os/modindex.h"
#include "os/pcidb.h"
#include "os/state.h"

/* Long enough for a slow GPU or NVMe teardown; a write the kernel blocks longer is stuck. */
#define DEFAULT_TIMEOUT_S 30

struct state *move_records(struct run *r)
{
	return r->own_records ? &r->records : &r->kernel;
}

/* The recover command for this system, to paste as is: with --sysroot and --state-dir when given. */
static char *recover_command(const struct context *ctx, const struct move_options *o)
{
	_cleanup_free_ char *prog = context_command(ctx);
	_cleanup_free_ char *sd = state_dir_option(o->state_dir);
	return xasprintf("%s recover%s", prog, sd);
}

int move_done(struct run *r, enum result res)
{
	return report(r->ctx->ka, &r->t, res, &r->ro);
}

/* ---- the state directories ---- */

/*
 * A dry run of a user who is not root cannot read root's state directory
 * (mode 0700): it says what it cannot see instead of failing.
 */
static bool state_hidden_from_dry_run(struct run *r)
{
	if (!r->o->dry_run || geteuid() == 0)
		return false;
	_cleanup_free_ char *p = state_kernel_path(r->ctx->ka);
	if (access(p, R_OK | X_OK) == 0 || errno != EACCES)
		return false;
	log_warning("not verified: %s cannot be read by this user: an interrupted move there would not be seen (a real "
		    "run, as root, refuses while one is pending)", p);
	return true;
}

static int open_states(struct run *r, bool create)
{
	int e = state_hidden_from_dry_run(r) ? -ENOENT : state_open_kernel(&r->kernel, r->ctx->ka, create);
	if (e == -ENOENT && !create)
		r->kernel.dirfd = -1;
	else if (e == -ENOENT) {
		_cleanup_free_ char *p = state_kernel_path(r->ctx->ka);
		log_error("state directory %s: %s", p, strerror(-e));
		return e;
	} else if (e < 0)
		return e;
	if (!r->o->state_dir)
		return 0;
	e = state_open(&r->records, r->o->state_dir, create);
	if (e == -ENOENT && !create) {
		r->records.dirfd = -1;
		e = 0;
	} else if (e == -ENOENT) {
		log_error("state directory %s: %s", r->o->state_dir, strerror(-e));
	}
	r->own_records = e == 0;
	return e;
}

/*
 * Where an interrupted move's journal is: the kernel's state directory
 * (every version 2 journal), or the --state-dir given (where version 1 wrote
 * it). NULL when there is none.
 */
static struct state *pending_journal(struct run *r)
{
	if (state_exists(&r->kernel, JOURNAL_NAME))
		return &r->kernel;
	if (r->own_records && state_exists(&r->records, JOURNAL_NAME))
		return &r->records;
	return NULL;
}

/* A move while another is pending would stack moves the journal does not know: refused, naming the fix. */
static int refuse_pending(struct run *r, struct state *st)
{
	struct json_object *j = NULL;
	int e = state_read(st, JOURNAL_NAME, &j);
	if (e == 0) {
		const char *op = json_member_str(j, "operation");
		log_error("an interrupted %s was found (%s/%s): run '%s' first", op ? op : "move", st->path, JOURNAL_NAME,
			  r->recover_cmd);
	} else {
		log_error("a journal that cannot be read is pending (%s/%s): inspect it, then run '%s'", st->path,
			  JOURNAL_NAME, r->recover_cmd);
	}
	json_object_put(j);
	if (r->o->json)
		output_error_json("pending-journal", "an interrupted move must be recovered first");
	return EXIT_PENDING;
}

/* ---- claim and release ---- */

/* The claim driver a module provides, or NULL for a module a release loads by modalias. */
static const char *driver_of_module(const struct txn *t, const char *module)
{
	for (size_t i = 0; i < t->n; i++) {
		if (t->plans[i].kind != MOVE_CLAIM)
			continue;
		_cleanup_free_ char *m = module_for_driver(t->plans[i].driver);
		if (streq(m, module))
			return t->plans[i].driver;
	}
	return NULL;
}

static int load_modules(struct run *r)
{
	struct txn *t = &r->t;
	for (size_t i = 0; i < t->modules.n; i++) {
		int e = ka_load_driver(r->ctx->ka, driver_of_module(t, t->modules.v[i]), t->modules.v[i]);
		if (e == -ENOPKG)
			t->error = xasprintf("loading module %s failed: the tree has no module index (the module "
					     "directory named by " LAY_OSRELEASE ")", t->modules.v[i]);
		else if (e < 0)
			t->error = xasprintf("loading module %s failed: %s", t->modules.v[i], strerror(-e));
		if (e < 0)
			return e;
	}
	return 0;
}

/* The claim's new records, written beside their place before any write: a full disk shows now. */
int move_prepare_records(struct run *r, size_t first)
{
	for (size_t i = first; i < r->t.n; i++) {
		struct plan *p = &r->t.plans[i];
		if (p->kind != MOVE_CLAIM)
			continue;
		_cleanup_(json_object_putp) struct json_object *prev =
			record_read(move_records(r), p->group, "this claim's record replaces it");
		_cleanup_(json_object_putp) struct json_object *rec = record_build(prev, p);
		_cleanup_free_ char *name = record_name(p->group);
		int e = state_prepare(move_records(r), name, rec);
		if (e < 0) {
			r->t.error = xasprintf("writing the record of group %lu in %s failed: %s", p->group,
					       move_records(r)->path, strerror(-e));
			return e;
		}
	}
	return 0;
}

/*
 * claim --persist: the group's drop-in, written beside its place in conf.d
 * before any write; release --persist needs nothing written. Committed with
 * the records, once every device is where it should be.
 */
/* The transaction's error for a drop-in that could not be written, put in place or removed. */
static int persist_failed(struct run *r, const char *what, const char *name, int e)
{
	free(r->t.error);
	r->t.error = xasprintf("%s the declaration %s/%s failed: %s", what, r->conf.path, name, strerror(-e));
	return e;
}

static int prepare_persist(struct run *r)
{
	if (!r->persist_add.n && !r->persist_remove.n)
		return 0;
	if (r->conf.dirfd < 0 && state_open_conf(&r->conf, r->ctx->ka, true) < 0) {
		r->t.error = xstrdup("the declarations' directory cannot be used");
		return -EIO;
	}
	for (size_t i = 0; i < r->persist_add.n; i++) {
		int e = state_prepare_text(&r->conf, r->persist_add.v[i], r->persist_text.v[i], 0644);
		if (e < 0)
			return persist_failed(r, "writing", r->persist_add.v[i], e);
	}
	return 0;
}

static void unprepare_records(struct run *r)
{
	for (size_t i = 0; r->conf.dirfd >= 0 && i < r->persist_add.n; i++)
		state_unprepare(&r->conf, r->persist_add.v[i]);
	for (size_t i = 0; i < r->t.n; i++) {
		_cleanup_free_ char *name = record_name(r->t.plans[i].group);
		if (r->t.plans[i].kind == MOVE_CLAIM)
			state_unprepare(move_records(r), name);
	}
}

/*
 * The records once the devices are where they should be: a claim's put in
 * place, a release's removed. A record that cannot be is a move that is not
 * done: release would later bind drivers to devices that had none.
 */
static int commit_records(struct run *r, struct state *st)
{
	for (size_t i = 0; i < r->t.n; i++) {
		struct plan *p = &r->t.plans[i];
		_cleanup_free_ char *name = record_name(p->now);
		int e;
		if (p->kind == MOVE_CLAIM) {
			if (st) { /* recover: the record is made now */
				_cleanup_(json_object_putp) struct json_object *prev = record_read(st, p->now, "replaced");
				_cleanup_(json_object_putp) struct json_object *rec = record_build(prev, p);
				e = state_write(st, name, rec);
			} else {
				e = state_commit(move_records(r), name);
			}
		} else {
			e = state_remove(st ? st : move_records(r), name);
		}
		if (e < 0) {
			free(r->t.error);
			r->t.error = xasprintf("%s the record of group %lu in %s failed: %s",
					       p->kind == MOVE_CLAIM ? "writing" : "removing", p->now,
					       (st ? st : move_records(r))->path, strerror(-e));
			return e;
		}
	}
	return 0;
}

/* The processes that hold the device whose write is stuck (its VFIO files, its nodes), for the report. */
static void note_holders(struct run *r)
{
	if (!r->t.failed_write)
		return;
	const struct pwrite *w = &r->t.w[r->t.failed_write - 1];
	struct holders h;
	struct device_nodes nodes;
	ka_holders(r->ctx->ka, &h);
	if (ka_device_nodes(r->ctx->ka, w->device, w->driver, &nodes) < 0)
		memset(&nodes, 0, sizeof(nodes));
	size_t named = 0;
	for (size_t i = 0; i < h.n; i++) {
		bool mine = lay_is_vfio_file(h.v[i].path);
		for (size_t k = 0; k < nodes.n && !mine; k++)
			mine = streq(nodes.v[k].path, h.v[i].path);
		if (!mine)
			continue;
		strv_push(&r->ro.notes, xasprintf("process %ld (%s) holds %s open", h.v[i].pid,
						  *h.v[i].comm ? h.v[i].comm : "?", h.v[i].path));
		named++;
	}
	if (!named)
		strv_push(&r->ro.notes, xasprintf("%s is held by something the kernel waits for%s%s", w->device,
						  h.unreadable ? "; not all processes could be looked at: " : "",
						  h.unreadable ? h.unreadable : ""));
	device_nodes_free(&nodes);
	holders_free(&h);
}

/*
 * After a failure or a signal: every device back, the journal gone when that
 * worked; else it says the rollback is incomplete, for check and recover.
 */
static int roll_back(struct run *r, enum result ok_result)
{
	if (txn_rollback(r->ctx->ka, &r->t)) {
		state_remove(r->journal_st, JOURNAL_NAME);
		return move_done(r, ok_result);
	}
	journal_set_state(r->journal, "rollback-incomplete");
	state_write(r->journal_st, JOURNAL_NAME, r->journal);
	return move_done(r, RESULT_INCOMPLETE);
}

/* A claim's drop-ins in place, once the move is done; on failure none of them is. */
static int persist_put(struct run *r)
{
	for (size_t i = 0; i < r->persist_add.n; i++) {
		int e = state_commit_new(&r->conf, r->persist_add.v[i]);
		if (e < 0) {
			for (size_t k = 0; k < i; k++) /* this run's: they go with the rollback */
				state_remove(&r->conf, r->persist_add.v[k]);
			return persist_failed(r, "putting in place", r->persist_add.v[i], e);
		}
	}
	return 0;
}

/* The rollback of a move whose drop-ins were put in place: they were this run's. */
static void persist_take_back(struct run *r)
{
	for (size_t i = 0; i < r->persist_add.n; i++)
		state_remove(&r->conf, r->persist_add.v[i]);
}

/* A release's drop-ins removed, once the move is done. */
static int persist_unlink(struct run *r)
{
	for (size_t i = 0; i < r->persist_remove.n; i++) {
		int e = state_remove(&r->conf, r->persist_remove.v[i]);
		if (e < 0)
			return persist_failed(r, "removing", r->persist_remove.v[i], e);
	}
	return 0;
}

/* The groups' nodes are there once bound: their hand-off is planned and journaled, then written. */
static int plan_nodes(struct run *r)
{
	struct txn *t = &r->t;
	handoff_plan_claims(r->ctx->ka, t, false);
	/* The records say what the nodes were, for release. */
	if (move_prepare_records(r, 0) < 0)
		return -EIO;
	return move_rewrite_journal(r);
}

int move_rewrite_journal(struct run *r)
{
	struct json_object *j = journal_build(r->ctx->ka, &r->t, r->ro.operation);
	int e = state_write(r->journal_st, JOURNAL_NAME, j);
	if (e < 0) {
		json_object_put(j);
		r->t.error = xasprintf("writing the journal in %s failed: %s", r->journal_st->path, strerror(-e));
		return e;
	}
	json_object_put(r->journal);
	r->journal = j;
	return 0;
}

static int execute_move(struct run *r)
{
	struct ka *ka = r->ctx->ka;
	struct txn *t = &r->t;
	if (move_prepare_records(r, 0) < 0 || prepare_persist(r) < 0) {
		unprepare_records(r);
		return move_done(r, RESULT_FAILED);
	}
	if (load_modules(r) < 0) {
		unprepare_records(r);
		return move_done(r, RESULT_FAILED);
	}
	struct json_object *j = r->journal = journal_build(ka, t, r->ro.operation);
	r->journal_st = &r->kernel;
	int e = state_write(&r->kernel, JOURNAL_NAME, j);
	if (e < 0) {
		unprepare_records(r);
		t->error = xasprintf("writing the journal in %s failed: %s", r->kernel.path, strerror(-e));
		return move_done(r, RESULT_FAILED);
	}
	if (interrupt_signal) {
		r->ro.signal = interrupt_signal;
		state_remove(&r->kernel, JOURNAL_NAME);
		unprepare_records(r);
		t->error = xstrdup("interrupted before the first write");
		return move_done(r, RESULT_INTERRUPTED);
	}

	enum exec_result x = txn_execute(ka, t);
	/* VFs a step made exist now: their groups are planned, checked and journaled, then moved. */
	while (x == EXEC_DONE && (sriov_needs_expansion(t) || handoff_pending(t))) {
		if ((sriov_needs_expansion(t) ? vfs_expand(r) : plan_nodes(r)) < 0) {
			unprepare_records(r);
			return roll_back(r, RESULT_ROLLED_BACK);
		}
		x = txn_execute(ka, t);
	}
	if (x == EXEC_BLOCKED) {
		/* Nothing more can be written: the stuck write would hold every other. The journal says where. */
		txn_set_write_error(t);
		journal_set_blocked(j, ka, t);
		state_write(&r->kernel, JOURNAL_NAME, j);
		unprepare_records(r);
		note_holders(r);
		return move_done(r, RESULT_BLOCKED);
	}
	if (x == EXEC_INTERRUPTED) {
		r->ro.signal = interrupt_signal;
		unprepare_records(r);
		t->error = xstrdup("interrupted");
		return roll_back(r, RESULT_INTERRUPTED);
	}
	/* A signal after the last write: only the verification is left, so the move is finished. */
	if (x == EXEC_DONE && txn_verify(ka, t)) {
		/*
		 * The drop-ins first: putting one in place fails when someone's file took
		 * its name meanwhile, and a claim's records are not taken back once in place.
		 */
		int kept = persist_put(r);
		if (kept == 0 && (commit_records(r, NULL) < 0 || persist_unlink(r) < 0)) {
			persist_take_back(r);
			kept = -EIO;
		}
		if (kept < 0) {
			unprepare_records(r);
			return roll_back(r, RESULT_ROLLED_BACK);
		}
		if (state_remove(&r->kernel, JOURNAL_NAME) < 0)
			log_warning("removing %s/%s failed: recover will find the move done", r->kernel.path, JOURNAL_NAME);
		if (interrupt_signal)
			log_warning("SIG%s came after the last write: the %s was finished", sigabbrev_np(interrupt_signal),
				    r->ro.operation);
		return move_done(r, RESULT_DONE);
	}
	unprepare_records(r);
	if (t->failed_write)
		txn_set_write_error(t);
	for (size_t k = 0; k < t->nsteps && !t->error; k++)
		if (!t->steps[k].ok)
			t->error = xasprintf("%s has %lu VFs after the writes, not %lu", t->steps[k].pf, t->steps[k].now,
					     t->steps[k].want);
	if (!t->error)
		for (size_t g = 0; g < t->n && !t->error; g++)
			for (size_t i = 0; i < t->plans[g].n && !t->error; i++)
				if (!t->plans[g].devs[i].ok)
					t->error = xasprintf("%s is on %s after the writes, not where it should be",
							     t->plans[g].devs[i].address,
							     t->plans[g].devs[i].after.driver ? t->plans[g].devs[i].after.driver
											       : "(no driver)");
	return roll_back(r, RESULT_ROLLED_BACK);
}

/* The group that target names, read with what the checks need: printed errors give -EINVAL. */
static int load_target(struct run *r, const char *target, struct system **sys)
{
	if (model_load_group(r->ctx->ka, AUDIT_MODEL_FLAGS | MODEL_IDS, target, sys) < 0)
		return -EINVAL;
	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	int e = context_open_config(r->ctx, &db);
	if (e < 0)
		return e;
	return model_read_config(*sys, r->ctx->ka, db);
}

/* The declarations, read once (a move that does not need them never parses them). */
static int need_decls(struct run *r)
{
	if (r->decls_read)
		return 0;
	r->decls_read = true;
	int e = decls_load(r->ctx->ka, r->o->conf_file, &r->decls);
	if (e < 0)
		globals_error_code("declarations");
	return e;
}

/* The device a persisted declaration names: the one the user named, else the group's first that moves. */
static const struct device *persist_device(const struct group *g, const char *target)
{
	struct pci_addr a;
	if (pci_addr_parse(target, &a) == 0)
		for (size_t i = 0; i < g->ndevices; i++)
			if (pci_addr_cmp(&g->devices[i]->addr, &a) == 0)
				return g->devices[i];
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i]->is_pci && move_skip_reason(g->devices[i]) == SKIP_NONE)
			return g->devices[i];
	return g->ndevices ? g->devices[0] : NULL;
}

/*
 * The declarations that name a device of g. claim --persist declares a
 * group no declaration covers yet; release --persist removes the drop-ins
 * claim --persist wrote, and refuses a group that a file it did not write
 * declares (it never edits those); a plain release says the group comes
 * back at the next boot.
 */
static bool decl_names_group(struct run *r, const struct decl *d, const struct group *g)
{
	for (size_t k = 0; k < g->ndevices; k++) {
		_cleanup_free_ char *pf = d->vfs ? sriov_pf_of(r->ctx->ka, g->devices[k]->name) : NULL;
		/* An entry with vfs declares its PF's VFs, not the PF's group. */
		if (d->vfs ? pf && streq(pf, d->address) : streq(g->devices[k]->name, d->address))
			return true;
	}
	return false;
}

/* The entry of ds that declares g (masked ones do not), or NULL. */
static const struct decl *decl_of_group(struct run *r, const struct decls *ds, const struct group *g)
{
	for (size_t i = 0; i < ds->n; i++)
		if (!ds->v[i].masked && decl_names_group(r, &ds->v[i], g))
			return &ds->v[i];
	return NULL;
}

/*
 * What the files will say once the drop-ins are written or removed: a
 * drop-in of claim --persist that a later file masks declares nothing, and
 * a group whose drop-in goes may still be declared by an earlier file. Both
 * are refused (declared-elsewhere) before anything moves. Declarations that
 * cannot be read here were read a moment ago: -EINVAL, printed.
 */
static int persist_check_after(struct run *r, const struct group *g, const struct decls_overlay *ov, struct plan *p)
{
	if (r->o->conf_file) /* one file named by hand: conf.d is not what is read */
		return 0;
	struct decls after;
	int e = decls_load_overlay(r->ctx->ka, ov, &after);
	if (e < 0) {
		decls_free(&after);
		return e;
	}
	const struct decl *by = decl_of_group(r, &after, g);
	if (r->o->cmd == CMD_RELEASE && by)
		refusals_add(&p->refusals, "declared-elsewhere", NULL,
			     "group %lu is still declared in %s:%u once its drop-in is removed, a file iommu-own did not "
			     "write and never edits: remove the entry there, then release",
			     g->number, by->file, by->line);
	if (r->o->cmd == CMD_CLAIM && !by) {
		_cleanup_free_ char *where = xstrdup("a later file");
		for (size_t i = 0; i < after.n; i++)
			if (after.v[i].masked && decl_names_group(r, &after.v[i], g)) {
				free(where);
				where = xasprintf("%s:%u", after.v[i].file, after.v[i].line);
			}
		refusals_add(&p->refusals, "declared-elsewhere", NULL,
			     "group %lu would not be declared by the drop-in %s: %s masks it, and is read after it; "
			     "remove the mask there, then claim --persist",
			     g->number, ov->add_name, where);
	}
	decls_free(&after);
	return 0;
}

static int persist_plan(struct run *r, const struct group *g, const char *target, struct plan *p)
{
	const struct move_options *o = r->o;
	if (!o->persist && o->cmd != CMD_RELEASE)
		return 0;
	int e = need_decls(r);
	if (e < 0 && !o->persist) {
		/* A plain release moves devices, whatever the files say: it only loses its warning. */
		log_warning("the declarations cannot be read (above): whether group %lu is declared is not known",
			    g->number);
		return 0;
	}
	if (e < 0)
		return e;
	bool declared = false, elsewhere = false;
	struct strv removed = { 0 };
	for (size_t i = 0; i < r->decls.n; i++) {
		const struct decl *d = &r->decls.v[i];
		if (d->masked || !decl_names_group(r, d, g))
			continue;
		declared = true;
		if (o->cmd == CMD_CLAIM)
			continue;
		if (!o->persist) {
			log_warning("group %lu is declared in %s:%u: the next boot or apply claims it again (release --persist "
				    "removes a declaration claim --persist wrote)", g->number, d->file, d->line);
		} else if (d->persisted) {
			strv_push(&r->persist_remove, xstrdup(strrchr(d->file, '/') + 1));
			strv_push(&removed, xstrdup(strrchr(d->file, '/') + 1));
		} else {
			elsewhere = true;
			refusals_add(&p->refusals, "declared-elsewhere", NULL,
				     "group %lu is declared in %s:%u, a file iommu-own did not write and never edits: remove "
				     "the entry there, then release",
				     g->number, d->file, d->line);
		}
	}
	if (removed.n && !elsewhere)
		e = persist_check_after(r, g, &(struct decls_overlay){ .skip = &removed }, p);
	strv_free(&removed);
	if (e < 0)
		return e;
	if (o->cmd == CMD_CLAIM && o->persist && !declared) {
		const struct device *named = persist_device(g, target);
		/* A group with a device off the PCI bus is refused (non-pci): no drop-in, which could not name it. */
		for (size_t k = 0; named && k < g->ndevices; k++)
			if (!g->devices[k]->is_pci)
				named = NULL;
		if (named) {
			_cleanup_free_ char *name = decl_persist_name(named->name);
			_cleanup_free_ char *text = decl_persist_text(g, o->driver, named);
			/* A file of that name that declares nothing here (a mask, an empty file) is someone's: never replaced. */
			for (size_t i = 0; i < r->decls.files.n; i++) {
				const char *f = r->decls.files.v[i], *base = strrchr(f, '/');
				if (streq(base ? base + 1 : f, name))
					refusals_add(&p->refusals, "declared-elsewhere", NULL,
						     "group %lu: %s is already there and does not declare the group; "
						     "iommu-own never replaces a file: remove or rename it, then claim --persist",
						     g->number, f);
			}
			e = persist_check_after(r, g, &(struct decls_overlay){ .add_name = name, .add_text = text }, p);
			if (e < 0)
				return e;
			strv_push(&r->persist_add, TAKE_PTR(name));
			strv_push(&r->persist_text, TAKE_PTR(text));
		}
	}
	return 0;
}

/* Plan and check every target's group; a group named twice (two of its devices) is planned once. */
static bool group_has_vfio(const struct group *g)
{
	for (size_t i = 0; i < g->ndevices; i++)
		if (g->devices[i]->role == ROLE_USER)
			return true;
	return false;
}

/* The selectors' devices join the operands; when they span several groups, the move says so. */
static int expand_selectors(struct run *r)
{
	struct move_options *o = r->o;
	if (!selectors_any(&o->sel))
		return 0;
	_cleanup_(model_freep) struct system *sys = NULL;
	if (model_load(r->ctx->ka, MODEL_IDS, &sys) < 0)
		return -EINVAL;
	struct strv picked = { 0 };
	int e = context_pick(r->ctx, &o->sel, sys, o->state_dir, &picked);
	struct strv groups = { 0 };
	for (size_t i = 0; e == 0 && i < picked.n; i++) {
		struct pci_addr a;
		const struct device *d = pci_addr_parse(picked.v[i], &a) == 0 ? model_find_device(sys, &a) : NULL;
		_cleanup_free_ char *num = d && d->group ? xasprintf("%lu", d->group->number) : NULL;
		if (num && !strv_contains(&groups, num))
			strv_push(&groups, TAKE_PTR(num));
		strv_push(&o->targets, xstrdup(picked.v[i]));
	}
	if (e == 0 && groups.n > 1 && !o->json) {
		_cleanup_free_ char *list = strv_join(&groups, ", ");
		log_warning("the selectors pick %zu groups (%s): they move as one transaction, all or none", groups.n,
			    list);
	}
	strv_free(&groups);
	strv_free(&picked);
	return e < 0 ? -EINVAL : 0;
}

static int plan_targets(struct run *r)
{
	struct move_options *o = r->o;
	struct txn *t = &r->t;
	if (expand_selectors(r) < 0)
		return -EINVAL;
	for (size_t k = 0; k < o->targets.n; k++) {
		_cleanup_(model_freep) struct system *sys = NULL;
		if (load_target(r, o->targets.v[k], &sys) < 0)
			return -EINVAL;
		const struct group *g = sys->groups[0];
		bool seen = false;
		for (size_t i = 0; i < t->n; i++)
			seen |= t->plans[i].group == g->number;
		if (seen)
			continue;
		int e;
		struct plan *p;
		if (o->cmd == CMD_CLAIM) {
			p = txn_add_plan(t, MOVE_CLAIM, g->number, o->driver);
			plan_claim(r->ctx->ka, g, o->driver, p);
			e = preflight_claim(r->ctx->ka, g, o->driver, &o->force, &r->in, &p->refusals);
			if (e == 0 && o->remove_vfs)
				vfs_claim_steps(r, g, p);
			p->owner = o->owner_spec;
		} else {
			p = txn_add_plan(t, MOVE_RELEASE, g->number, NULL);
			struct json_object *record = record_read(move_records(r), g->number, "the kernel will choose the drivers");
			if (!record && !o->json && group_has_vfio(g))
				log_warning("group %lu has no record of its claim (not claimed by iommu-own, or another "
					    "--state-dir): the kernel chooses each device's driver, loading the modules "
					    "its modalias matches",
					    g->number);
			plan_release(r->ctx->ka, g, record, p, t);
			handoff_plan_release(r->ctx->ka, t, p, record);
			json_object_put(record);
			vfs_release_steps(r, p);
			e = preflight_release(r->ctx->ka, g, &o->force, &r->in, &p->refusals);
		}
		if (e == 0)
			e = persist_plan(r, g, o->targets.v[k], p);
		if (e < 0) {
			if (e != -EINVAL)
				log_error("checking group %lu failed: %s", g->number, strerror(-e));
			return -EINVAL;
		}
		if (o->dry_run)
			refusals_unverified(&p->refusals);
	}
	return 0;
}

/* A release of groups with nothing on VFIO: their records, which nothing reflects any more, go. */
static void drop_stale_records(struct run *r)
{
	for (size_t i = 0; i < r->t.n; i++) {
		const struct plan *p = &r->t.plans[i];
		if (!p->from_record)
			continue;
		_cleanup_free_ char *name = record_name(p->group);
		int e = state_remove(move_records(r), name);
		free(r->t.error);
		r->t.error = e < 0 ? xasprintf("no device of the group is on VFIO; removing its stale record failed: %s",
					       strerror(-e))
				   : xstrdup("no device of the group is on VFIO; its stale record was removed");
	}
}

/* The plans are made: refuse, report nothing to do, show the plan, or execute it. */
int move_run_plans(struct run *r)
{
	struct move_options *o = r->o;
	struct txn *t = &r->t;
	if (txn_blocking(t))
		return move_done(r, RESULT_REFUSED);
	/* A hand-off to groups already on VFIO: their nodes are there, and their writes go first. */
	handoff_plan_claims(r->ctx->ka, t, true);
	if (txn_moving(t) == 0 && t->nsteps == 0 && t->nnodes == 0) {
		bool all_skipped = t->n > 0;
		for (size_t g = 0; g < t->n; g++)
			for (size_t i = 0; i < t->plans[g].n; i++)
				all_skipped &= t->plans[g].devs[i].skip != SKIP_NONE && t->plans[g].devs[i].skip != SKIP_ALREADY;
		if (o->cmd == CMD_CLAIM && all_skipped && t->n) {
			t->error = xasprintf("group %lu holds only bridges and devices on pcieport or pci-stub, which "
					     "moves leave alone: nothing to claim", t->plans[0].group);
			return move_done(r, RESULT_FAILED);
		}
		size_t refused = o->cmd == CMD_APPLY ? apply_refused(&r->apply) : 0;
		if (refused)
			t->error = xasprintf("the declared groups that pass are owned as declared; %zu "
					     "entr%s refused",
					     refused, refused == 1 ? "y is" : "ies are");
		else
			t->error = xstrdup(o->cmd == CMD_CLAIM	 ? "every device is already on the driver"
					   : o->cmd == CMD_APPLY ? "every declared group is owned as declared"
					   : o->cmd == CMD_VFS	 ? "the PF has that many VFs, and their groups are as asked"
								 : "no device of the group is on VFIO");
		if (o->cmd == CMD_RELEASE && !o->dry_run)
			drop_stale_records(r);
		/* The devices are where --persist wants them: the declarations still follow. */
		if (!o->dry_run && (r->persist_add.n || r->persist_remove.n)) {
			if (prepare_persist(r) < 0 || persist_put(r) < 0 || persist_unlink(r) < 0) {
				unprepare_records(r);
				return move_done(r, RESULT_FAILED);
			}
			r->ro.files_changed = true;
		}
		return move_done(r, RESULT_NOTHING);
	}
	/* The claim drivers, the VF claims' of SR-IOV steps (planned later) included. */
	for (size_t i = 0; i < t->n + t->nsteps; i++) {
		const char *driver = i < t->n ? (t->plans[i].kind == MOVE_CLAIM ? t->plans[i].driver : NULL)
					      : t->steps[i - t->n].claim;
		if (!driver)
			continue;
		_cleanup_free_ char *rel = lay_pci_driver(driver);
		_cleanup_close_ int fd = -1;
		_cleanup_free_ char *mod = module_for_driver(driver);
		if (ka_open_dir(r->ctx->ka, rel, &fd) < 0 && !strv_contains(&t->modules, mod))
			strv_push(&t->modules, TAKE_PTR(mod));
	}
	txn_plan_writes(t);
	if (o->dry_run)
		return move_done(r, RESULT_DRY_RUN);
	return execute_move(r);
}

static int run_move(struct run *r)
{
	if (plan_targets(r) < 0)
		return EXIT_USAGE;
	return move_run_plans(r);
}

/* apply: the declarations against the whole system, the groups that need it as one transaction. */
static int run_apply(struct run *r)
{
	if (need_decls(r) < 0)
		return EXIT_USAGE;
	_cleanup_(model_freep) struct system *sys = NULL;
	if (model_load(r->ctx->ka, AUDIT_MODEL_FLAGS | MODEL_IDS, &sys) < 0 || model_select(sys, 0, NULL) < 0)
		return EXIT_USAGE;
	_cleanup_(pcidb_freep) struct pcidb *db = NULL;
	if (context_open_config(r->ctx, &db) < 0)
		return EXIT_USAGE;
	if (model_read_config(sys, r->ctx->ka, db) < 0 ||
	    apply_plan(r->ctx->ka, sys, db, &r->decls, &r->in, &r->t, &r->apply) < 0)
		return EXIT_USAGE;
	if (r->o->dry_run)
		for (size_t i = 0; i < r->t.n; i++)
			refusals_unverified(&r->t.plans[i].refusals);
	r->ro.apply = &r->apply;
	return move_run_plans(r);
}

/* ---- recover ---- */

/* Whether every device the journal moves is gone (hot-removed): nothing is left to finish or undo. */
static bool all_gone(const struct txn *t)
{
	size_t moving = 0, gone = 0;
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			const struct mdev *m = &t->plans[g].devs[i];
			moving += m->moves;
			gone += m->moves && m->gone;
		}
	return moving > 0 && gone == moving;
}

/*
 * Before a rollback by recover: the devices it takes off VFIO (on a VFIO
 * driver now, not before the move) must not be held by a process, as the
 * kernel would block in their unbind. Refusals go to each plan.
 */
static int recover_preflight(struct run *r)
{
	for (size_t k = 0; k < r->t.n; k++) {
		struct plan *p = &r->t.plans[k];
		char target[32];
		snprintf(target, sizeof(target), "%lu", p->now);
		_cleanup_(model_freep) struct system *sys = NULL;
		if (model_load_group(r->ctx->ka, AUDIT_MODEL_FLAGS, target, &sys) < 0)
			return -EIO;
		const struct group *g = sys->groups[0];
		size_t nd = g->ndevices ? g->ndevices : 1;
		_cleanup_free_ bool *leaving_vfio = xcalloc(nd, sizeof(bool)), *leaving_host = xcalloc(nd, sizeof(bool));
		for (size_t j = 0; j < g->ndevices; j++) {
			const struct device *d = g->devices[j];
			for (size_t i = 0; i < p->n; i++) {
				const struct mdev *m = &p->devs[i];
				if (!m->moves || m->gone || !streq(m->address, d->name) ||
				    str_eq_null(m->before.driver, d->driver))
					continue;
				/* The rollback unbinds it from the driver it is on now. */
				leaving_vfio[j] = d->role == ROLE_USER;
				leaving_host[j] = d->role == ROLE_KERNEL;
			}
		}
		if (preflight_recover(r->ctx->ka, g, leaving_vfio, leaving_host, &r->in, &p->refusals) < 0)
			return -EIO;
	}
	return 0;
}

/* One device a recover --dry-run names: JSON, or a line of text. */
static void would_device(struct run *r, const struct mdev *m, bool back, struct json_object *devs)
{
	struct binding now = { 0 };
	model_read_binding(r->ctx->ka, m->address, &now);
	if (devs) {
		struct json_object *d = json_object_new_object();
		json_object_object_add(d, "address", json_str(m->address));
		json_object_object_add(d, "driver_now", json_str(now.driver));
		json_object_object_add(d, "driver_before", json_str(m->before.driver));
		json_object_object_add(d, "driver_wanted", json_str(m->want.driver));
		json_object_array_add(devs, d);
	} else {
		const char *target = back ? m->before.driver : m->want.driver;
		esc_fprintf(stdout, "  %s  now %s, %s %s\n", m->address, now.driver ? now.driver : "(no driver)",
			    back ? "back to" : "at", target ? target : "(no driver)");
	}
	binding_clear(&now);
}

/* recover --dry-run: what it would do, and to which devices; nothing is written or removed. */
static int recover_would(struct run *r, const char *result, const char *why)
{
	const struct txn *t = &r->t;
	bool back = streq(result, "would-roll-back");
	_cleanup_(json_object_putp) struct json_object *doc = r->o->json ? json_object_new_object() : NULL;
	struct json_object *devs = doc ? json_object_new_array() : NULL;
	if (doc) {
		json_object_object_add(doc, "operation", json_str("recover"));
		json_object_object_add(doc, "dry_run", json_object_new_boolean(true));
		json_object_object_add(doc, "result", json_str(result));
		json_object_object_add(doc, "message", json_str(why));
		json_object_object_add(doc, "devices", devs);
	} else {
		const char *what = back ? "roll back" : streq(result, "would-finish") ? "finish the move" : "discard the journal";
		esc_fprintf(stdout, "recover would %s: %s\n", what, why);
	}
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++)
			if (t->plans[g].devs[i].moves)
				would_device(r, &t->plans[g].devs[i], back, devs);
	if (doc)
		return output_json(doc) < 0 ? EXIT_USAGE : EXIT_OK;
	return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_USAGE;
}

static int run_recover(struct run *r)
{
	struct txn *t = &r->t;
	struct state *st = pending_journal(r);
	if (!st) {
		if (r->o->json) {
			_cleanup_(json_object_putp) struct json_object *doc = json_object_new_object();
			json_object_object_add(doc, "operation", json_str("recover"));
			json_object_object_add(doc, "result", json_str("nothing-to-do"));
			output_json(doc);
		} else {
			printf("nothing to recover: no interrupted operation\n");
		}
		return fflush(stdout) == 0 && !ferror(stdout) ? EXIT_OK : EXIT_USAGE;
	}
	_cleanup_free_ char *where = xasprintf("%s/%s", st->path, JOURNAL_NAME);
	struct json_object *j = NULL;
	if (state_read(st, JOURNAL_NAME, &j) < 0)
		return EXIT_USAGE;
	r->journal = json_object_get(j);
	r->journal_st = st;
	struct journal_info ji;
	int e = journal_identify(r->ctx->ka, j, where, &ji);
	if (e == 0 && !ji.ours) {
		_cleanup_free_ char *mine = journal_root(r->ctx->ka);
		log_error("%s: the journal belongs to sysroot %s, not %s: run 'iommu-own --sysroot %s recover "
			  "--state-dir %s', or inspect the devices and remove it",
			  where, ji.root ? ji.root : "(none)", mine, ji.root ? ji.root : "DIR", st->path);
		e = -EBADMSG;
	}
	if (e == 0)
		e = journal_parse(j, where, t);
	bool stale = ji.stale;
	/* A vfs is reported as one, its groups or none: its journal says so. */
	if (ji.operation && streq(ji.operation, "vfs"))
		r->ro.operation = "vfs";
	journal_info_clear(&ji);
	json_object_put(j);
	if (e < 0)
		return EXIT_USAGE;
	if (r->o->dry_run) {
		if (stale)
			return recover_would(r, "would-discard", "the journal is from an earlier boot");
		if (journal_check_tree(r->ctx->ka, t, where) < 0)
			return EXIT_USAGE;
		if (all_gone(t))
			return recover_would(r, "would-discard", "none of the journal's devices exists any more");
		if (txn_verify(r->ctx->ka, t))
			return recover_would(r, "would-finish", "every device is at its end state");
		t->error = xstrdup("interrupted");
		if (recover_preflight(r) < 0)
			return EXIT_USAGE;
		if (txn_blocking(t))
			return move_done(r, RESULT_REFUSED);
		return recover_would(r, "would-roll-back", "every device goes back to its state before the move");
	}
	/* After a reboot the kernel probed every device afresh: the journal describes nothing real. */
	if (stale) {
		state_remove(st, JOURNAL_NAME);
		t->error = xstrdup("the journal is from an earlier boot; the devices were probed afresh at boot");
		return move_done(r, RESULT_NOTHING);
	}
	if (journal_check_tree(r->ctx->ka, t, where) < 0)
		return EXIT_USAGE;
	if (all_gone(t)) {
		state_remove(st, JOURNAL_NAME);
		t->error = xstrdup("none of the journal's devices exists any more (removed); the journal is discarded");
		return move_done(r, RESULT_NOTHING);
	}
	if (txn_verify(r->ctx->ka, t)) {
		if (commit_records(r, move_records(r)) < 0)
			log_warning("%s", t->error);
		state_remove(st, JOURNAL_NAME);
		return move_done(r, RESULT_FINISHED);
	}
	t->error = xstrdup("interrupted");
	if (recover_preflight(r) < 0)
		return EXIT_USAGE;
	if (txn_blocking(t))
		return move_done(r, RESULT_REFUSED);
	return roll_back(r, RESULT_RECOVERED);
}

/* ---- the entry point ---- */

static int check_options(struct move_options *o)
{
	for (size_t i = 0; i < o->force.n; i++) {
		const struct refusal_code *rc = refusal_code_find(o->force.v[i]);
		if (!rc) {
			log_error("--force: unknown check '%s' (boot-vga, mounted, netdev-active, sriov-pf, chipset, vmd, "
				  "host-in-use, vfs-bound, cannot-verify)",
				  o->force.v[i]);
			return -EINVAL;
		}
		if (!rc->overridable) {
			log_error("--force: '%s' cannot be overridden", o->force.v[i]);
			return -EINVAL;
		}
	}
	if (o->cmd == CMD_CLAIM || (o->cmd == CMD_VFS && o->claim_vfs)) {
		/* The name the kernel knows: driver_override must match it exactly. */
		const char *name = driver_vfio_pci_name(o->driver);
		if (!name) {
			log_error("--driver: '%s' is not a VFIO PCI driver (vfio-pci or a variant such as mlx5_vfio_pci)",
				  o->driver);
			return -EINVAL;
		}
		o->driver = name;
	}
	return 0;
}

/* A move of the running kernel needs root; a dry run, or a move of a captured tree, does not. */
static int check_privileges(struct run *r)
{
	if (r->o->dry_run || !ka_is_live(r->ctx->ka) || geteuid() == 0)
		return 0;
	log_error("%s changes the running kernel's drivers and needs root (run it with sudo); --dry-run shows what "
		  "it would do without root", r->ro.operation);
	if (r->o->json)
		output_error_json("needs-root", "changing the running kernel's drivers needs root");
	return -EPERM;
}

static int run(struct run *r)
{
	struct move_options *o = r->o;
	if (context_open(r->ctx) < 0 || check_options(o) < 0 || check_privileges(r) < 0)
		return EXIT_USAGE;
	if ((o->owner || o->mode) && owner_spec_parse(r->ctx->ka, o->owner, o->mode, &o->owner_spec) < 0)
		return EXIT_USAGE;
	r->recover_cmd = recover_command(r->ctx, o);
	r->ro.recover_cmd = r->recover_cmd;
	/* The writer first: a tree whose writes cannot be made says so before anything is planned. */
	if (!o->dry_run && ka_writer_open(r->ctx->ka) < 0)
		return EXIT_USAGE;
	ka_set_timeout(r->ctx->ka, (int)(o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S) * 1000);
	/* A dry run creates nothing; nor does recover, as no state directory means no journal. */
	if (open_states(r, !o->dry_run && o->cmd != CMD_RECOVER) < 0)
		return EXIT_USAGE;
	if (!o->dry_run && r->kernel.dirfd >= 0) {
		int e = state_lock(&r->kernel, &interrupt_signal, o->wait_s);
		if (e == -EINTR)
			return EXIT_SIGNAL + interrupt_signal;
		if (e == -EWOULDBLOCK) {
			globals_error_code("locked");
			log_error("another iommu-own operation holds %s/lock%s", r->kernel.path,
				  o->wait_s > 0 ? " still" : " (--no-wait)");
			return EXIT_USAGE;
		}
		if (e < 0) {
			log_error("locking %s: %s", r->kernel.path, strerror(-e));
			return EXIT_USAGE;
		}
	}
	if (o->cmd == CMD_RECOVER)
		return run_recover(r);
	struct state *pending = pending_journal(r);
	if (pending)
		return refuse_pending(r, pending);
	if (o->cmd == CMD_VFS)
		return vfs_plan(r) < 0 ? EXIT_USAGE : move_run_plans(r);
	if (o->cmd == CMD_APPLY) {
		int status = run_apply(r);
		/* An entry left as it was is no success: the others applied, and the status says so. */
		return status == EXIT_OK && apply_refused(&r->apply) ? EXIT_PARTIAL : status;
	}
	return run_move(r);
}

int move_run(struct context *ctx, struct move_options *o)
{
	static const char *const names[] = { [CMD_CLAIM] = "claim", [CMD_RELEASE] = "release", [CMD_RECOVER] = "recover",
					     [CMD_APPLY] = "apply", [CMD_VFS] = "vfs" };
	interrupt_catch();
	struct run r = { .ctx = ctx, .o = o };
	r.ro = (struct report_options){ .operation = names[o->cmd], .recovering = o->cmd == CMD_RECOVER,
					.json = o->json, .dry_run = o->dry_run };
	r.t.stop = &interrupt_signal;
	r.kernel.dirfd = r.kernel.lockfd = r.records.dirfd = r.records.lockfd = r.conf.dirfd = r.conf.lockfd = -1;
	int status = run(&r);
	txn_free(&r.t);
	decls_free(&r.decls);
	apply_report_free(&r.apply);
	strv_free(&r.persist_add);
	strv_free(&r.persist_text);
	strv_free(&r.persist_remove);
	state_close(&r.conf);
	json_object_put(r.journal);
	preflight_inputs_free(&r.in);
	strv_free(&r.ro.notes);
	free(r.recover_cmd);
	state_close(&r.records);
	state_close(&r.kernel);
	return status;
}

/* ---- options shared by claim, release and recover ---- */

enum { OPT_STATE_DIR = 0x300, OPT_TIMEOUT, OPT_WAIT, OPT_NO_WAIT };

static const struct argp_option move_common_options[] = {
	{ "state-dir", OPT_STATE_DIR, "DIR", 0,
	  "Keep the records of claims in DIR (default " LAY_STATE_DIR_LIVE ", or <sysroot>/" LAY_STATE_DIR
	  "); the lock and the journal stay in the kernel's own",
	  0 },
	{ "timeout", OPT_TIMEOUT, "SECONDS", 0,
	  "How long one write may block in the kernel before it is reported stuck (default 30)", 0 },
	{ "wait", OPT_WAIT, "SECONDS", 0,
	  "Wait at most SECONDS for another operation's lock (default: as long as it takes), then exit 2", 0 },
	{ "no-wait", OPT_NO_WAIT, NULL, 0, "Exit 2 at once when another operation holds the lock", 0 },
	{ 0 }
};

static error_t move_common_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		o->json = globals_json(); /* -J before the command */
		o->wait_s = -1;
		break;
	case ARGP_KEY_END: /* -J is a global option: before or after the command */
		o->json = globals_json();
		return ARGP_ERR_UNKNOWN;
	case OPT_STATE_DIR:
		if (!*arg)
			argp_error(state, "--state-dir: empty directory name");
		o->state_dir = arg;
		break;
	case OPT_WAIT: {
		unsigned long v;
		if (parse_ulong(arg, 10, &v) < 0 || v > 86400)
			argp_error(state, "--wait: '%s' is not a number of seconds from 0 to 86400", arg);
		o->wait_s = (int)v;
		break;
	}
	case OPT_NO_WAIT:
		o->wait_s = 0;
		break;
	case OPT_TIMEOUT: {
		unsigned long v;
		if (parse_ulong(arg, 10, &v) < 0 || v == 0 || v > 86400)
			argp_error(state, "--timeout: '%s' is not a number of seconds from 1 to 86400", arg);
		o->timeout_s = (unsigned)v;
		break;
	}
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

const struct argp move_common_argp = { move_common_options, move_common_parse, NULL, NULL, NULL, NULL, NULL };

error_t move_option(struct argp_state *state, int key, char *arg, struct move_options *o)
{
	switch (key) {
	case MOVE_OPT_DRIVER:
		o->driver = arg;
		break;
	case MOVE_OPT_DRY_RUN:
		o->dry_run = true;
		break;
	case MOVE_OPT_PERSIST:
		o->persist = true;
		break;
	case MOVE_OPT_REMOVE_VFS:
		o->remove_vfs = true;
		break;
	case MOVE_OPT_OWNER:
		if (!*arg)
			argp_error(state, "--owner: empty USER[:GROUP]");
		o->owner = arg;
		break;
	case MOVE_OPT_MODE:
		o->mode = arg;
		break;
	case MOVE_OPT_FORCE:
		for (char *save = NULL, *c = strtok_r(arg, ",", &save); c; c = strtok_r(NULL, ",", &save))
			strv_push(&o->force, xstrdup(c));
		break;
	default:
		return ARGP_ERR_UNKNOWN;
	}
	return 0;
}

error_t move_groups_parse(int key, char *arg, struct argp_state *state)
{
	struct move_options *o = state->input;
	switch (key) {
	case ARGP_KEY_INIT:
		state->child_inputs[0] = o;
		state->child_inputs[1] = &o->sel;
		break;
	case ARGP_KEY_ARG:
	case ARGP_KEY_END:
		move_targets_parse(state, key, arg, o, o->cmd == CMD_CLAIM ? "to claim" : "to release");
		break;
	default:
		return move_option(state, key, arg, o);
	}
	return 0;
}

const struct argp_child move_groups_children[] = { { &move_common_argp, 0, NULL, 0 },
						   { &selectors_argp, 0, "Selectors:", 2 },
						   { 0 } };

void move_targets_parse(struct argp_state *state, int key, char *arg, struct move_options *o, const char *purpose)
{
	if (key == ARGP_KEY_ARG)
		strv_push(&o->targets, xstrdup(arg));
	else if (key == ARGP_KEY_END && o->targets.n == 0 && !selectors_any(&o->sel))
		argp_error(state, "name the GROUP or DEVICE %s (or select devices: --slot, -d, --class, --netdev, "
				  "--blockdev)",
			   purpose);
}

void move_options_free(struct move_options *o)
{
	strv_free(&o->targets);
	strv_free(&o->force);
	selectors_free(&o->sel);
}
