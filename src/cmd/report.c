// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <string.h>

#include "cmd/output.h"
#include "cmd/report.h"
#include "cmd/consumer.h"
#include "shared/escape.h"

static const char *const result_names[_RESULT_MAX] = {
	[RESULT_DONE] = "done",
	[RESULT_NOTHING] = "nothing-to-do",
	[RESULT_DRY_RUN] = "dry-run",
	[RESULT_REFUSED] = "refused",
	[RESULT_FAILED] = "failed",
	[RESULT_ROLLED_BACK] = "rolled-back",
	[RESULT_INCOMPLETE] = "incomplete",
	[RESULT_RECOVERED] = "rolled-back",
	[RESULT_FINISHED] = "finished",
	[RESULT_INTERRUPTED] = "interrupted",
	[RESULT_BLOCKED] = "blocked",
};

static const char *binding_text(const struct binding *b)
{
	return b->driver ? b->driver : "(no driver)";
}

/* The group numbers of the transaction, "3" or "3, 5". */
static char *groups_text(const struct txn *t)
{
	struct strv g = { 0 };
	for (size_t i = 0; i < t->n; i++)
		strv_push(&g, xasprintf("%lu", t->plans[i].group));
	char *s = strv_join(&g, ", ");
	strv_free(&g);
	return s;
}

static const char *txn_driver(const struct txn *t)
{
	return t->n ? t->plans[0].driver : t->nsteps ? t->steps[0].claim : NULL;
}

static enum move_kind txn_kind(const struct txn *t)
{
	return t->n ? t->plans[0].kind : MOVE_CLAIM;
}

static char *write_text(const struct ka *ka, const struct pwrite *w)
{
	struct ka_write kw = { w->op, w->device, w->driver, w->value };
	_cleanup_free_ char *rel = ka_write_path(&kw);
	_cleanup_free_ char *path = ka_path(ka, rel ? rel : "?");
	const char *v = ka_write_value(&kw);
	return streq(v, "\n") ? xasprintf("%s \"\\n\"", path) : xasprintf("%s \"%s\"", path, v);
}

static struct json_object *binding_json(const struct binding *b)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "driver", json_str(b->driver));
	json_object_object_add(o, "driver_override", json_str(b->override));
	return o;
}

static bool result_has_after(enum result res, bool dry_run)
{
	return !dry_run && res != RESULT_REFUSED && res != RESULT_NOTHING && res != RESULT_FAILED;
}

/* The refusals of the transaction: its steps' (index -1), then each plan's. */
static const struct refusals *refusals_of(const struct txn *t, size_t g)
{
	return g == 0 ? &t->refusals : &t->plans[g - 1].refusals;
}

static struct json_object *refusals_json(const struct txn *t)
{
	struct json_object *refs = json_object_new_array();
	for (size_t g = 0; g <= t->n; g++)
		for (size_t i = 0; i < refusals_of(t, g)->n; i++) {
			const struct refusal *r = &refusals_of(t, g)->v[i];
			struct json_object *x = json_object_new_object();
			json_object_object_add(x, "code", json_str(r->code));
			json_object_object_add(x, "device", json_str(r->device));
			json_object_object_add(x, "message", json_str(r->message));
			json_object_object_add(x, "forceable", json_object_new_boolean(r->forceable));
			json_object_object_add(x, "forced", json_object_new_boolean(r->forced));
			json_object_object_add(x, "unverified", json_object_new_boolean(r->unverified));
			json_object_array_add(refs, x);
		}
	return refs;
}

static struct json_object *writes_json(const struct ka *ka, const struct txn *t, bool dry_run)
{
	struct json_object *writes = json_object_new_array();
	for (size_t i = 0; i < t->nw; i++) {
		const struct pwrite *w = &t->w[i];
		if (!dry_run && !w->attempted)
			continue;
		struct ka_write kw = { w->op, w->device, w->driver, w->value };
		_cleanup_free_ char *rel = ka_write_path(&kw);
		_cleanup_free_ char *path = ka_path(ka, rel ? rel : "?");
		const char *ename = w->err ? errno_name(w->err) : NULL;
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "path", json_str(path));
		json_object_object_add(x, "value", json_str(ka_write_value(&kw)));
		json_object_object_add(x, "rollback", json_object_new_boolean(w->rollback));
		json_object_object_add(x, "error", w->err ? json_str(ename ? ename : strerror(-w->err)) : NULL);
		json_object_array_add(writes, x);
	}
	return writes;
}

static struct json_object *devices_json(const struct txn *t, enum result res, bool dry_run)
{
	struct json_object *devs = json_object_new_array();
	bool have_after = result_has_after(res, dry_run);
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			const struct mdev *m = &t->plans[g].devs[i];
			struct json_object *x = json_object_new_object();
			json_object_object_add(x, "address", json_str(m->address));
			json_object_object_add(x, "moves", json_object_new_boolean(m->moves));
			json_object_object_add(x, "skip", json_str(skip_name(m->gone ? SKIP_REMOVED : m->skip)));
			json_object_object_add(x, "before", binding_json(&m->before));
			json_object_object_add(x, "want", m->kernel_choice ? NULL : binding_json(&m->want));
			bool after = have_after && !m->gone;
			json_object_object_add(x, "after", after ? binding_json(&m->after) : NULL);
			json_object_object_add(x, "ok", after ? json_object_new_boolean(m->ok) : NULL);
			json_object_array_add(devs, x);
		}
	return devs;
}

static struct json_object *attr_json(const struct node_attr *a)
{
	struct json_object *o = json_object_new_object();
	json_object_object_add(o, "uid", json_object_new_uint64(a->uid));
	json_object_object_add(o, "gid", json_object_new_uint64(a->gid));
	_cleanup_free_ char *m = node_mode_value(a->mode);
	json_object_object_add(o, "mode", json_str(m));
	return o;
}

static struct json_object *nodes_json(const struct txn *t, enum result res, bool dry_run)
{
	struct json_object *arr = json_object_new_array();
	bool after = result_has_after(res, dry_run);
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct node_step *n = &t->nodes[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "group", json_object_new_uint64(n->group));
		json_object_object_add(x, "path", json_str(n->path));
		json_object_object_add(x, "before", attr_json(&n->before));
		json_object_object_add(x, "want", attr_json(&n->want));
		json_object_object_add(x, "ok", after ? json_object_new_boolean(n->ok) : NULL);
		json_object_array_add(arr, x);
	}
	return arr;
}

/* What a consumer of each group of the move is given, as the system is now. */
static struct json_object *consumers_json(const struct ka *ka, const struct txn *t)
{
	struct holders h;
	const struct holders *all = t->n && ka_holders(ka, &h) == 0 ? &h : NULL;
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < t->n; i++) {
		struct consumer c;
		consumer_read_plan(ka, &t->plans[i], &c);
		consumer_users(&c, all);
		json_object_array_add(arr, consumer_json(ka, t->plans[i].now, &c));
		consumer_clear(&c);
	}
	if (all)
		holders_free(&h);
	return arr;
}

static struct json_object *steps_json(const struct txn *t, enum result res, bool dry_run)
{
	struct json_object *arr = json_object_new_array();
	bool after = result_has_after(res, dry_run);
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct sriov_step *s = &t->steps[i];
		struct json_object *x = json_object_new_object(), *vfs = json_object_new_array();
		json_object_object_add(x, "pf", json_str(s->pf));
		json_object_object_add(x, "numvfs_before", json_object_new_uint64(s->before));
		json_object_object_add(x, "numvfs", json_object_new_uint64(s->want));
		json_object_object_add(x, "autoprobe_before", s->autoprobe < 0 ? NULL : json_object_new_int(s->autoprobe));
		json_object_object_add(x, "claim", json_str(s->claim));
		for (size_t k = 0; k < s->vfs.n; k++)
			json_object_array_add(vfs, json_str(s->vfs.v[k]));
		json_object_object_add(x, "vfs", vfs);
		json_object_object_add(x, "numvfs_after", after && !s->gone ? json_object_new_uint64(s->now) : NULL);
		json_object_object_add(x, "ok", after ? json_object_new_boolean(s->ok) : NULL);
		json_object_array_add(arr, x);
	}
	return arr;
}

/* Whether the system is not as it was before the command: its report must not be lost silently. */
static bool changed(enum result res)
{
	return res == RESULT_DONE || res == RESULT_FINISHED || res == RESULT_RECOVERED;
}

static const char *const entry_names[_ENTRY_RESULT_MAX] = {
	[ENTRY_CONVERGED] = "converged",
	[ENTRY_MOVES] = "moves",
	[ENTRY_REFUSED] = "refused",
};

/* What became of an entry that was to move: it moved, would move (dry run), or stayed (the move failed). */
static const char *entry_result(const struct entry_report *e, enum result res, bool dry_run)
{
	if (e->result != ENTRY_MOVES)
		return entry_names[e->result];
	if (dry_run)
		return "would-move";
	return res == RESULT_DONE ? "moved" : "not-moved";
}

static struct json_object *entries_json(const struct apply_report *a, enum result res, bool dry_run)
{
	struct json_object *arr = json_object_new_array();
	for (size_t i = 0; i < a->n; i++) {
		const struct entry_report *e = &a->v[i];
		struct json_object *x = json_object_new_object();
		json_object_object_add(x, "file", json_str(e->decl->file));
		json_object_object_add(x, "line", json_object_new_int((int)e->decl->line));
		json_object_object_add(x, "device", json_str(e->decl->address));
		json_object_object_add(x, "group", e->has_group ? json_object_new_uint64(e->group) : NULL);
		json_object_object_add(x, "driver", json_str(e->decl->driver));
		json_object_object_add(x, "result", json_str(entry_result(e, res, dry_run)));
		json_object_object_add(x, "code", json_str(e->code));
		json_object_object_add(x, "message", json_str(e->message));
		json_object_array_add(arr, x);
	}
	return arr;
}

static struct json_object *report_json(const struct ka *ka, const struct txn *t, enum result res,
				       const struct report_options *o)
{
	struct json_object *x = json_object_new_object();
	bool named = o->apply || streq(o->operation, "vfs");
	json_object_object_add(x, "operation", json_str(t->n && !named ? move_kind_name(txn_kind(t)) : o->operation));
	json_object_object_add(x, "group", t->n == 1 ? json_object_new_uint64(t->plans[0].group) : NULL);
	struct json_object *groups = json_object_new_array();
	for (size_t i = 0; i < t->n; i++)
		json_object_array_add(groups, json_object_new_uint64(t->plans[i].group));
	json_object_object_add(x, "groups", groups);
	json_object_object_add(x, "changed", json_object_new_boolean(changed(res) || o->files_changed));
	if (o->apply)
		json_object_object_add(x, "entries", entries_json(o->apply, res, o->dry_run));
	json_object_object_add(x, "driver", json_str(txn_driver(t)));
	json_object_object_add(x, "dry_run", json_object_new_boolean(o->dry_run));
	json_object_object_add(x, "result", json_str(result_names[res]));
	json_object_object_add(x, "message", json_str(t->error));
	json_object_object_add(x, "refusals", refusals_json(t));
	struct json_object *mods = json_object_new_array();
	for (size_t i = 0; i < t->modules.n; i++)
		json_object_array_add(mods, json_str(t->modules.v[i]));
	json_object_object_add(x, "modules", mods);
	json_object_object_add(x, "writes", writes_json(ka, t, o->dry_run));
	json_object_object_add(x, "devices", devices_json(t, res, o->dry_run));
	if (t->nsteps)
		json_object_object_add(x, "sriov", steps_json(t, res, o->dry_run));
	if (t->nnodes)
		json_object_object_add(x, "nodes", nodes_json(t, res, o->dry_run));
	if (!o->dry_run && (res == RESULT_DONE || res == RESULT_NOTHING || res == RESULT_FINISHED))
		json_object_object_add(x, "consumers", consumers_json(ka, t));
	return x;
}

static void text_refusals(const struct txn *t)
{
	for (size_t g = 0; g <= t->n; g++)
		for (size_t i = 0; i < refusals_of(t, g)->n; i++) {
			const struct refusal *r = &refusals_of(t, g)->v[i];
			if (r->unverified)
				esc_fprintf(stderr, "%s: not verified: %s (%s; a real run checks it and refuses if it still "
					    "cannot)\n", program_name, r->message, r->code);
			else if (r->forced)
				esc_fprintf(stderr, "%s: warning: %s (%s, overridden by --force)\n", program_name, r->message,
					    r->code);
			else if (r->forceable)
				esc_fprintf(stderr, "%s: refused: %s (%s; --force=%s overrides)\n", program_name,
					    r->message, r->code, r->code);
			else if (r->why_not)
				esc_fprintf(stderr, "%s: refused: %s (%s; cannot be forced: %s)\n", program_name,
					    r->message, r->code, r->why_not);
			else
				esc_fprintf(stderr, "%s: refused: %s (%s; cannot be forced)\n", program_name, r->message,
					    r->code);
		}
}

static void text_devices(FILE *out, const struct txn *t, enum result res)
{
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			const struct mdev *m = &t->plans[g].devs[i];
			const char *ov = m->after.override ? m->after.override : "unset";
			if (m->gone && m->created)
				esc_fprintf(out, "  %s  a new VF, gone again with the VF count\n", m->address);
			else if (m->gone)
				esc_fprintf(out, "  %s  removed from the system: nothing to do for it\n", m->address);
			else if (!m->moves)
				esc_fprintf(out, "  %s  left alone (%s)\n", m->address,
					    m->skip != SKIP_NONE ? skip_name(m->skip) : "unchanged");
			else if (res == RESULT_DONE || res == RESULT_FINISHED)
				esc_fprintf(out, "  %s  %s -> %s (override %s)%s\n", m->address, binding_text(&m->before),
					    binding_text(&m->after), ov,
					    !m->kernel_choice || m->after.driver ? ""
					    : m->no_autoprobe ? ": a VF whose PF has sriov_drivers_autoprobe 0 is not probed"
							      : ": no kernel driver matches it");
			else if (res == RESULT_BLOCKED)
				esc_fprintf(out, "  %s  was on %s (override %s)\n", m->address, binding_text(&m->before),
					    m->before.override ? m->before.override : "unset");
			else if (m->ok)
				esc_fprintf(out, "  %s  back on %s (override %s)\n", m->address, binding_text(&m->after), ov);
			else
				esc_fprintf(out, "  %s  NOW ON %s (override %s), was on %s (override %s)\n", m->address,
					    binding_text(&m->after), ov, binding_text(&m->before),
					    m->before.override ? m->before.override : "unset");
		}
}

/* apply: one line for each declaration that did not simply converge. */
static void text_entries(const struct apply_report *a, enum result res, bool dry_run)
{
	for (size_t i = 0; i < a->n; i++) {
		const struct entry_report *e = &a->v[i];
		if (e->result == ENTRY_REFUSED)
			esc_fprintf(stderr, "%s: %s:%u: [device %s] refused: %s (%s)\n", program_name, e->decl->file,
				    e->decl->line, e->decl->address, e->message, e->code);
		else if (e->result == ENTRY_MOVES && e->decl->vfs && (dry_run || res != RESULT_DONE))
			esc_fprintf(stderr, "%s: %s:%u: [device %s]: its %lu VFs' groups %s\n", program_name, e->decl->file,
				    e->decl->line, e->decl->address, e->decl->vfs, dry_run ? "would move" : "did not move");
		else if (e->result == ENTRY_MOVES && (dry_run || res != RESULT_DONE))
			esc_fprintf(stderr, "%s: %s:%u: [device %s]: group %lu %s\n", program_name, e->decl->file,
				    e->decl->line, e->decl->address, e->group, dry_run ? "would move" : "did not move");
	}
}

/* What a move is about: "group 3", "groups 3, 5", the PF of a vfs without groups. */
static char *subject(const struct txn *t, const char *groups)
{
	if (t->n)
		return xasprintf("%s %s", t->n > 1 ? "groups" : "group", groups);
	if (t->nsteps)
		return xasprintf("%s", t->steps[0].pf);
	return xstrdup("");
}

/* Each PF whose VF count the move changed (or, rolled back, put back). */
static void text_steps(FILE *out, const struct txn *t, bool back)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct sriov_step *s = &t->steps[i];
		_cleanup_free_ char *vfs = strv_join(&s->vfs, " ");
		if (back)
			esc_fprintf(out, "  %s  %s to %lu VFs (sriov_numvfs %lu)\n", s->pf, s->ok ? "back" : "NOT BACK", s->before,
				    s->now);
		else if (s->want > 0 && s->vfs.n)
			esc_fprintf(out, "%s: sriov_numvfs %lu -> %lu%s: %s\n", s->pf, s->before, s->want,
				    s->autoprobe_off && s->autoprobe > 0 ? " (sriov_drivers_autoprobe 0 while they appeared, "
									   "then 1 again)"
									 : "",
				    vfs);
		else
			esc_fprintf(out, "%s: sriov_numvfs %lu -> %lu\n", s->pf, s->before, s->want);
	}
}

/* A node's owner and mode as people read them: "libvirt-qemu:kvm 0660". */
static char *attr_text(const struct ka *ka, const struct node_attr *a)
{
	_cleanup_free_ char *u = ka_user_name(ka, a->uid), *g = ka_group_name(ka, a->gid);
	return xasprintf("%s:%s %04o", u, g, (unsigned)a->mode);
}

/* The nodes a hand-off changed (or, rolled back, gave back). */
static void text_nodes(FILE *out, const struct ka *ka, const struct txn *t, bool back)
{
	for (size_t i = 0; i < t->nnodes; i++) {
		const struct node_step *n = &t->nodes[i];
		_cleanup_free_ char *b = attr_text(ka, &n->before), *w = attr_text(ka, &n->want);
		if (back)
			esc_fprintf(out, "  %s  %s %s\n", n->path, n->ok ? "back to" : "NOT BACK to", b);
		else
			esc_fprintf(out, "  %s  %s -> %s\n", n->path, b, w);
	}
}

/* A dry run of a hand-off to groups not on VFIO yet: their nodes exist only once bound. */
static void text_handoffs(FILE *out, const struct ka *ka, const struct txn *t)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct plan *p = &t->plans[i];
		if (p->kind != MOVE_CLAIM || !p->owner.set || p->nodes_planned)
			continue;
		_cleanup_free_ char *u = p->owner.uid_set ? ka_user_name(ka, p->owner.uid) : xstrdup("(as it is)");
		_cleanup_free_ char *g = p->owner.gid_set ? ka_group_name(ka, p->owner.gid) : xstrdup("(as it is)");
		_cleanup_free_ char *m = p->owner.mode_set ? node_mode_value(p->owner.mode) : xstrdup("(as it is)");
		esc_fprintf(out, "# then, once bound, the nodes of group %lu (its file, its devices' cdevs) get owner %s, "
			    "group %s, mode %s\n", p->group, u, g, m);
	}
}

/* A dry run of vfs --claim: the VFs to come, whose groups exist only once they do. */
static void text_predicted(FILE *out, const struct txn *t)
{
	for (size_t i = 0; i < t->nsteps; i++) {
		const struct sriov_step *s = &t->steps[i];
		if (!s->claim || s->expanded || !s->vfs.n)
			continue;
		_cleanup_free_ char *vfs = strv_join(&s->vfs, " ");
		esc_fprintf(out, "# then, once they exist, the groups of the new VFs %s are claimed for %s (override, "
			    "bind), before sriov_drivers_autoprobe is set back\n", vfs, s->claim);
	}
}

static void report_text(const struct ka *ka, const struct txn *t, enum result res, const struct report_options *o)
{
	if (o->apply)
		text_entries(o->apply, res, o->dry_run);
	const char *what = t->n && !streq(o->operation, "vfs") ? move_kind_name(txn_kind(t)) : o->operation;
	_cleanup_free_ char *groups = groups_text(t);
	_cleanup_free_ char *subj = subject(t, groups);
	bool ok = res == RESULT_DONE || res == RESULT_NOTHING || res == RESULT_DRY_RUN || res == RESULT_FINISHED ||
		  res == RESULT_RECOVERED;
	FILE *out = ok ? stdout : stderr;
	text_refusals(t);
	switch (res) {
	case RESULT_REFUSED:
		if (o->recovering)
			esc_fprintf(stderr, "%s: rollback of the interrupted %s of %s refused: nothing was changed, "
				    "the journal is kept\n", program_name, what, subj);
		else
			esc_fprintf(stderr, "%s: %s of %s refused: nothing was changed\n", program_name, what, subj);
		return;
	case RESULT_FAILED:
		esc_fprintf(stderr, "%s: %s of %s failed: %s; nothing was changed\n", program_name, what, subj, t->error);
		return;
	case RESULT_NOTHING:
		if (t->n || t->nsteps)
			esc_fprintf(out, "%s: nothing to do (%s)\n", subj, t->error ? t->error : "already in place");
		else
			esc_fprintf(out, "nothing to do (%s)\n", t->error ? t->error : "already in place");
		return;
	case RESULT_DRY_RUN:
		esc_fprintf(out, "# %s of %s: the writes it would make, in order\n", what, subj);
		for (size_t i = 0; i < t->modules.n; i++)
			esc_fprintf(out, "# load module %s\n", t->modules.v[i]);
		for (size_t i = 0; i < t->nw; i++) {
			_cleanup_free_ char *w = write_text(ka, &t->w[i]);
			esc_fprintf(out, "%s\n", w);
		}
		text_predicted(out, t);
		text_handoffs(out, ka, t);
		return;
	case RESULT_DONE:
		text_steps(out, t, false);
		if (t->n)
			esc_fprintf(out, "%s %s%s%s:\n", txn_kind(t) == MOVE_CLAIM ? "claimed" : "released", subj,
				    txn_driver(t) ? " for " : "", txn_driver(t) ? txn_driver(t) : "");
		break;
	case RESULT_FINISHED:
		esc_fprintf(out, "finished the interrupted %s of %s:\n", what, subj);
		text_steps(out, t, false);
		break;
	case RESULT_RECOVERED:
		esc_fprintf(out, "rolled back the interrupted %s of %s:\n", what, subj);
		text_steps(out, t, true);
		break;
	case RESULT_ROLLED_BACK:
		esc_fprintf(out, "%s: %s of %s failed: %s; rolled back:\n", program_name, what, subj, t->error);
		text_steps(out, t, true);
		break;
	case RESULT_INTERRUPTED:
		esc_fprintf(out, "%s: %s of %s interrupted by SIG%s; rolled back:\n", program_name, what, subj,
			    sigabbrev_np(o->signal) ? sigabbrev_np(o->signal) : "?");
		text_steps(out, t, true);
		break;
	case RESULT_BLOCKED:
		esc_fprintf(out, "%s: %s of %s: %s; the journal is kept:\n", program_name, what, subj, t->error);
		break;
	case RESULT_INCOMPLETE:
	default:
		esc_fprintf(out, "%s: %s of %s failed: %s; the ROLLBACK IS INCOMPLETE:\n", program_name, what, subj,
			    t->error ? t->error : "the devices did not reach a consistent state");
		text_steps(out, t, true);
		break;
	}
	text_devices(out, t, res);
	text_nodes(out, ka, t, res != RESULT_DONE && res != RESULT_FINISHED);
	for (size_t i = 0; i < o->notes.n; i++)
		esc_fprintf(stderr, "%s: %s\n", program_name, o->notes.v[i]);
	if (res == RESULT_BLOCKED) {
		esc_fprintf(stderr, "%s: once it lets go, run '%s' to finish or roll back the move\n", program_name,
			    o->recover_cmd);
		return;
	}
	if (res != RESULT_INCOMPLETE)
		return;
	for (size_t i = 0; i < t->nw; i++) {
		const struct pwrite *w = &t->w[i];
		if (!w->rollback || !w->err)
			continue;
		_cleanup_free_ char *text = write_text(ka, w);
		const char *name = errno_name(w->err);
		esc_fprintf(out, "%s: the rollback's write %s failed: %s (%s)\n", program_name, text, strerror(-w->err),
			    name ? name : "?");
	}
	esc_fprintf(out, "%s: run '%s' to finish the rollback (the journal is kept)\n", program_name, o->recover_cmd);
}

static int status_of(enum result res, const struct report_options *o)
{
	switch (res) {
	case RESULT_DONE:
	case RESULT_NOTHING:
	case RESULT_DRY_RUN:
	case RESULT_FINISHED:
	case RESULT_RECOVERED:
		return EXIT_OK;
	case RESULT_INCOMPLETE:
		return EXIT_INCOMPLETE;
	case RESULT_BLOCKED:
		return EXIT_BLOCKED;
	case RESULT_INTERRUPTED:
		return EXIT_SIGNAL + o->signal;
	default:
		return EXIT_FINDINGS;
	}
}

int report(const struct ka *ka, const struct txn *t, enum result res, const struct report_options *o)
{
	if (o->json) {
		_cleanup_(json_object_putp) struct json_object *doc = report_json(ka, t, res, o);
		output_json(doc);
	} else {
		report_text(ka, t, res, o);
	}
	int status = status_of(res, o);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		int err = errno;
		if (changed(res)) {
			log_error("the %s was done, but its report could not be written to standard output: %s",
				  o->operation, strerror(err));
			return EXIT_REPORT_LOST;
		}
		log_error("write error on standard output: %s", strerror(err));
		return status == EXIT_OK || status == EXIT_FINDINGS ? EXIT_USAGE : status;
	}
	return status;
}
