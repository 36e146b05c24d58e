/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * SR-IOV: a PF's virtual functions, as the kernel shows them
 * (drivers/pci/iov.c), and the steps of a transaction that change their
 * number (struct sriov_step in plan.h): their writes, checks, verification
 * and journal entries.
 */
#pragma once

#include <json-c/json.h>

#include "core/plan.h"
#include "core/preflight.h"

/* A PF's SR-IOV state. */
struct sriov_pf {
	char *address;
	char *driver;           /* NULL: unbound */
	bool is_pf;             /* it has sriov_totalvfs and sriov_numvfs */
	unsigned long total, numvfs;
	unsigned long offset, stride; /* the first VF's routing ID offset and the step between VFs */
	int autoprobe;          /* sriov_drivers_autoprobe: 0, 1, -1 when absent */
	bool numvfs_writable;
	struct strv vfs;        /* its VFs now (virtfn0, virtfn1...) */
};
/*
 * Read it: -ENODEV (printed) when there is no such device; an attribute
 * that exists and cannot be read is an error (printed, naming it).
 */
int sriov_pf_read(const struct ka *ka, const char *address, struct sriov_pf *ret);
void sriov_pf_clear(struct sriov_pf *pf);
/* The addresses its first n VFs get (pci_iov_virtfn_bus() and _devfn()). */
void sriov_vf_addresses(const struct sriov_pf *pf, unsigned long n, struct strv *ret);

/* vfs PF COUNT: what the kernel would refuse, and what the host would lose. */
struct vfs_request {
	unsigned long count;
	bool claim;   /* the new VFs' groups are claimed (they must not land in the PF's group) */
	bool replace; /* a PF with VFs may go through 0 to another count */
};
void preflight_vfs(const struct ka *ka, const struct sriov_pf *pf, const struct vfs_request *req,
		   const struct strv *force, struct preflight_inputs *in, struct refusals *out);
/*
 * The PF's VFs are about to go (a count of 0, --replace, claim --remove-vfs):
 * vfs-in-use for each one a process holds through VFIO (the kernel would
 * block), vfs-bound for each one on a driver.
 */
void preflight_vfs_removal(const struct ka *ka, const struct sriov_pf *pf, const struct strv *force,
			   struct preflight_inputs *in, struct refusals *out);
/* Whether the PF can change its count at all (sriov-unsupported otherwise). */
void preflight_sriov_capable(const struct sriov_pf *pf, struct refusals *out);

/*
 * The groups of the VFs vfs, each planned as a claim for driver and checked
 * as a claim is (force, in); created: the transaction made them. A group
 * that holds anything but these VFs is refused (vf-group-shared): claiming
 * it would take that too. -ENXIO (t->error set) for a VF in no group.
 */
int sriov_claim_vf_groups(const struct ka *ka, struct txn *t, const struct strv *vfs, const char *driver, bool created,
			  const struct strv *force, struct preflight_inputs *in);
/* Whether every one of vfs is on driver with its override naming it. */
bool sriov_vfs_owned(const struct ka *ka, const struct strv *vfs, const char *driver);
/* The PF of a VF (its physfn link), NULL when it is none. */
char *sriov_pf_of(const struct ka *ka, const char *vf);

/* The steps' writes before the devices' (autoprobe off, the count), and after them (autoprobe back). */
void sriov_plan_first(struct txn *t);
void sriov_plan_last(struct txn *t);
/* Whether a step claims VFs that it has not planned yet (they exist once its count is written). */
bool sriov_needs_expansion(const struct txn *t);
/* Re-read each step: whether its PF has the count and the autoprobe it should have at the end. */
bool sriov_verify(const struct ka *ka, struct txn *t);
/* Read a PF's count and autoprobe now: -errno when the PF or its count cannot be read. */
int sriov_read_now(const struct ka *ka, const char *pf, unsigned long *numvfs, int *autoprobe);

/* The journal's "sriov" array, and back. -EBADMSG (printed) for a damaged one. */
struct json_object *sriov_steps_json(const struct txn *t);
int sriov_steps_parse(struct json_object *arr, const char *where, struct txn *t);
