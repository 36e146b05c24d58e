// SPDX-License-Identifier: GPL-2.0-or-later
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/execute.h"
#include "core/handoff.h"
#include "core/sriov.h"
#include "os/drivers.h"

static int do_write(struct ka *ka, struct pwrite *w)
{
	struct ka_write kw = { w->op, w->device, w->driver, w->value };
	w->attempted = true;
	w->err = ka_apply(ka, &kw);
	return w->err;
}

/* EBUSY from a bind is ambiguous: the device may already be on the wanted driver. */
static bool already_bound(const struct ka *ka, const struct pwrite *w)
{
	struct binding now;
	if (model_read_binding(ka, w->device, &now) < 0)
		return false;
	bool there = now.driver && streq(now.driver, w->driver);
	binding_clear(&now);
	return there;
}

enum exec_result txn_execute(struct ka *ka, struct txn *t)
{
	size_t planned = t->nw;
	for (size_t i = t->next; i < planned; i++) {
		if (t->stop && *t->stop)
			return EXEC_INTERRUPTED;
		t->next = i + 1;
		struct pwrite *w = &t->w[i];
		int r = do_write(ka, w);
		if (r == -EBUSY && w->op == KA_BIND && already_bound(ka, w)) {
			w->err = 0;
			continue;
		}
		if (r < 0) {
			t->failed_write = i + 1;
			return r == -ETIMEDOUT ? EXEC_BLOCKED : EXEC_FAILED;
		}
	}
	return EXEC_DONE;
}

/* Whether a device's binding now is the end state the plan wants. */
static bool reached(const struct mdev *m, const struct binding *now)
{
	if (m->kernel_choice)
		return !now->override && (!now->driver || driver_role(now->driver, false) != ROLE_USER) &&
		       (!m->expect_driver || now->driver);
	return binding_eq(now, &m->want);
}

bool txn_verify(const struct ka *ka, struct txn *t)
{
	bool all = true;
	for (size_t g = 0; g < t->n; g++) {
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			binding_clear(&m->after);
			if (m->gone) {
				m->ok = true; /* nothing is left to finish or undo */
				continue;
			}
			if (model_read_binding(ka, m->address, &m->after) < 0) {
				/* A device the move left alone promises nothing (a VMD domain goes with its controller). */
				m->ok = !m->moves;
				all &= m->ok;
				continue;
			}
			m->ok = m->moves ? reached(m, &m->after) : true;
			all &= m->ok;
		}
	}
	all &= handoff_verify(ka, t) && !handoff_pending(t);
	return sriov_verify(ka, t) && all;
}

/* Bring one device back to its binding before the move, in the kernel's order. */
static bool converge(struct ka *ka, struct txn *t, struct mdev *m)
{
	const struct binding *want = &m->before;
	const char *stage = staging_override(m, want);
	struct binding cur;
	if (model_read_binding(ka, m->address, &cur) < 0)
		return false;
	if (cur.driver && !str_eq_null(cur.driver, want->driver))
		do_write(ka, txn_add_write(t, KA_UNBIND, m->address, cur.driver, NULL, true));
	if (!str_eq_null(cur.override, stage))
		do_write(ka, txn_add_write(t, KA_OVERRIDE, m->address, NULL, stage ? stage : "\n", true));
	binding_clear(&cur);
	if (model_read_binding(ka, m->address, &cur) < 0)
		return false;
	if (want->driver && !cur.driver) {
		if (do_write(ka, txn_add_write(t, KA_BIND, m->address, want->driver, NULL, true)) < 0)
			do_write(ka, txn_add_write(t, KA_PROBE, m->address, NULL, NULL, true));
	}
	if (!str_eq_null(stage, want->override))
		do_write(ka, txn_add_write(t, KA_OVERRIDE, m->address, NULL, want->override ? want->override : "\n", true));
	binding_clear(&cur);
	binding_clear(&m->after);
	if (model_read_binding(ka, m->address, &m->after) < 0)
		return false;
	return binding_eq(&m->after, want);
}

static void add_value(struct ka *ka, struct txn *t, enum ka_op op, const char *pf, unsigned long v)
{
	char buf[32];
	snprintf(buf, sizeof(buf), "%lu", v);
	do_write(ka, txn_add_write(t, op, pf, NULL, buf, true));
}

/*
 * Bring a PF back to its VF count and autoprobe before the move: the
 * autoprobe first, so that VFs made again probe as they did; a count of
 * other VFs goes through 0 (sriov_numvfs_store() refuses otherwise).
 */
static bool converge_step(struct ka *ka, struct txn *t, struct sriov_step *s)
{
	unsigned long now;
	int ap;
	if (s->gone)
		return true;
	if (sriov_read_now(ka, s->pf, &now, &ap) < 0)
		return false;
	if (s->autoprobe_off && s->autoprobe >= 0 && ap != s->autoprobe)
		add_value(ka, t, KA_AUTOPROBE, s->pf, (unsigned long)s->autoprobe);
	if (now != s->before && now && s->before)
		add_value(ka, t, KA_NUMVFS, s->pf, 0);
	if (now != s->before)
		add_value(ka, t, KA_NUMVFS, s->pf, s->before);
	if (sriov_read_now(ka, s->pf, &s->now, &ap) < 0)
		return false;
	return s->now == s->before && (!s->autoprobe_off || s->autoprobe < 0 || ap == s->autoprobe);
}

static bool rollback_steps(struct ka *ka, struct txn *t, bool after)
{
	bool all = true;
	for (size_t i = t->nsteps; i-- > 0;)
		if (t->steps[i].after == after) {
			t->steps[i].ok = converge_step(ka, t, &t->steps[i]);
			all &= t->steps[i].ok;
		}
	return all;
}

static int rollback_write(struct ka *ka, struct txn *t, enum ka_op op, const char *node, const char *value)
{
	return do_write(ka, txn_add_write(t, op, node, NULL, value, true));
}

static bool device_exists(const struct ka *ka, const char *address)
{
	struct binding b;
	if (model_read_binding(ka, address, &b) < 0)
		return false;
	binding_clear(&b);
	return true;
}

/*
 * In reverse: the steps that followed the devices' writes, the devices, the
 * steps before them. VFs a step made go with its count: they are not moved
 * back one by one.
 */
bool txn_rollback(struct ka *ka, struct txn *t)
{
	bool all = rollback_steps(ka, t, true);
	for (size_t g = t->n; g-- > 0;) {
		for (size_t i = t->plans[g].n; i-- > 0;) {
			struct mdev *m = &t->plans[g].devs[i];
			if (!m->moves || m->gone || m->created) {
				m->ok = true;
				continue;
			}
			m->ok = converge(ka, t, m);
			all &= m->ok;
		}
	}
	/* A release's nodes made afresh by the binds back get the hand-off back; a claim's went with their devices. */
	all &= handoff_rollback(ka, t, rollback_write);
	all &= rollback_steps(ka, t, false);
	for (size_t g = 0; g < t->n; g++)
		for (size_t i = 0; i < t->plans[g].n; i++) {
			struct mdev *m = &t->plans[g].devs[i];
			if (!m->created || m->gone)
				continue;
			/* Gone, or made again by the count restored (--replace): the step says whether that worked. */
			m->gone = !device_exists(ka, m->address);
			m->ok = true;
		}
	return all;
}

void txn_set_write_error(struct txn *t)
{
	if (!t->failed_write)
		return;
	const struct pwrite *w = &t->w[t->failed_write - 1];
	const char *name = errno_name(w->err);
	free(t->error);
	if (w->err == -ETIMEDOUT)
		t->error = xasprintf("%s of %s is stuck in the kernel", ka_op_name(w->op), w->device);
	else if (w->op == KA_OVERRIDE)
		t->error = xasprintf("setting driver_override of %s failed: %s (%s)", w->device, strerror(-w->err),
				     name ? name : "?");
	else if (w->op == KA_OWNER || w->op == KA_MODE)
		t->error = xasprintf("setting the %s of %s to %s failed: %s (%s)", w->op == KA_OWNER ? "owner" : "mode",
				     w->device, w->value, strerror(-w->err), name ? name : "?");
	else if (w->op == KA_NUMVFS || w->op == KA_AUTOPROBE)
		t->error = xasprintf("setting %s of %s to %s failed: %s (%s)",
				     w->op == KA_NUMVFS ? "sriov_numvfs" : "sriov_drivers_autoprobe", w->device, w->value,
				     strerror(-w->err), name ? name : "?");
	else if (w->op == KA_PROBE)
		t->error = xasprintf("drivers_probe of %s failed: %s (%s)", w->device, strerror(-w->err), name ? name : "?");
	else
		t->error = xasprintf("%s of %s %s %s failed: %s (%s)", ka_op_name(w->op), w->device,
				     w->op == KA_BIND ? "to" : "from", w->driver, strerror(-w->err), name ? name : "?");
}
