// SPDX-License-Identifier: GPL-2.0-or-later
/* The dispatcher: writes and module loads go to the backend chosen for the tree. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "os/kaccess-internal.h"
#include "os/layout.h"
#include "os/modindex.h"

static const char *const op_names[_KA_OP_MAX] = {
	[KA_OVERRIDE] = "override",
	[KA_UNBIND] = "unbind",
	[KA_BIND] = "bind",
	[KA_PROBE] = "probe",
	[KA_NUMVFS] = "numvfs",
	[KA_AUTOPROBE] = "autoprobe",
	[KA_OWNER] = "owner",
	[KA_MODE] = "mode",
};

const char *ka_op_name(enum ka_op op)
{
	return op < _KA_OP_MAX ? op_names[op] : "unknown";
}

char *ka_write_path(const struct ka_write *w)
{
	switch (w->op) {
	case KA_OVERRIDE:
		return lay_pci_device_attr(w->device, "driver_override");
	case KA_UNBIND:
		return lay_pci_driver_attr(w->driver, "unbind");
	case KA_BIND:
		return lay_pci_driver_attr(w->driver, "bind");
	case KA_NUMVFS:
		return lay_pci_device_attr(w->device, LAY_SRIOV_NUMVFS);
	case KA_AUTOPROBE:
		return lay_pci_device_attr(w->device, LAY_SRIOV_AUTOPROBE);
	case KA_OWNER:
	case KA_MODE:
		return lay_vfio_node_rel(w->device) ? xstrdup(lay_vfio_node_rel(w->device)) : NULL;
	case KA_PROBE:
	default:
		return xstrdup(LAY_PCI_PROBE);
	}
}

const char *ka_write_value(const struct ka_write *w)
{
	switch (w->op) {
	case KA_OVERRIDE:
		return lay_override_encode(w->value);
	case KA_NUMVFS:
	case KA_AUTOPROBE:
	case KA_OWNER:
	case KA_MODE:
		return w->value ? w->value : "";
	default:
		return w->device;
	}
}

unsigned ka_writes_attempted(const struct ka *ka)
{
	return ka->writes;
}

void ka_set_timeout(struct ka *ka, int timeout_ms)
{
	ka->timeout_ms = timeout_ms;
}

static bool live_forbidden(void)
{
	const char *e = getenv("IOMMU_OWN_FORBID_LIVE");
	return e && *e && strcmp(e, "0") != 0;
}

void backend_free(struct ka_backend *b)
{
	while (b) {
		struct ka_backend *inner = b->inner;
		b->ops->free(b);
		b = inner;
	}
}

int ka_writer_open(struct ka *ka)
{
	if (ka->backend)
		return 0;
	if (ka->live) {
		if (live_forbidden()) {
			log_error("%s: live sysfs writes are forbidden (IOMMU_OWN_FORBID_LIVE is set)", ka->root);
			return -EPERM;
		}
		ka->backend = backend_live_new();
		return 0;
	}
	return backend_faults_wrap(ka, backend_replay_new(), &ka->backend);
}

int ka_apply(struct ka *ka, const struct ka_write *w)
{
	int r = ka_writer_open(ka);
	if (r < 0)
		return r;
	ka->writes++;
	/* The tree's kind chose the backend at open: make sure it has not changed under us. */
	if (ka->live != ka_sys_is_sysfs(ka))
		return -EXDEV;
	r = ka->backend->ops->write(ka->backend, ka, w, ka->writes, ka->timeout_ms);
	/* A write adds and removes directories (dev/vfio/devices): those looked at while it ran too. */
	ka_forget_dirs(ka);
	return r;
}

int ka_load_driver(struct ka *ka, const char *driver, const char *module)
{
	int r = ka_writer_open(ka);
	if (r < 0)
		return r;
	if (ka->live != ka_sys_is_sysfs(ka))
		return -EXDEV;
	_cleanup_free_ char *mod = module ? xstrdup(module) : module_for_driver(driver);
	r = ka->backend->ops->load_driver(ka->backend, ka, driver, mod);
	ka_forget_dirs(ka);
	return r;
}
