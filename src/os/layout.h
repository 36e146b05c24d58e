/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Where the kernel keeps what the tool reads and writes, relative to a
 * sysroot: every sysfs, procfs and /dev path is spelled here and nowhere
 * else (tests/layers.sh checks that). The builders return NULL when a name
 * they are given cannot be one path component (empty, ".", "..", a slash):
 * a name from a tree, a journal or a module index never climbs anywhere.
 */
#pragma once

#include <stdbool.h>

#define LAY_SYS "sys"
#define LAY_PCI_BUS "sys/bus/pci"
#define LAY_PCI_DEVICES "sys/bus/pci/devices"
#define LAY_PCI_DRIVERS "sys/bus/pci/drivers"
#define LAY_PCI_PROBE "sys/bus/pci/drivers_probe"
#define LAY_DEVICES "sys/devices"
#define LAY_IOMMU_GROUPS "sys/kernel/iommu_groups"
#define LAY_MODULES "sys/module"
#define LAY_VFIO_DEV_CLASS "sys/class/vfio-dev"
#define LAY_NVME_SUBSYSTEMS "sys/devices/virtual/nvme-subsystem"
#define LAY_PARAM_NOIOMMU "sys/module/vfio/parameters/enable_unsafe_noiommu_mode"
#define LAY_PARAM_UNSAFE_INTERRUPTS "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"

#define LAY_VTCONSOLES "sys/class/vtconsole"
#define LAY_PLATFORM_DRIVERS "sys/bus/platform/drivers"

#define LAY_PROC "proc"
#define LAY_NVIDIA_GPUS "proc/driver/nvidia/gpus"
#define LAY_CMDLINE "proc/cmdline"
#define LAY_OSRELEASE "proc/sys/kernel/osrelease"
#define LAY_BOOT_ID "proc/sys/kernel/random/boot_id"
#define LAY_MOUNTINFO "proc/self/mountinfo"
#define LAY_SWAPS "proc/swaps"
#define LAY_ROUTE "proc/net/route"
#define LAY_IF_INET6 "proc/net/if_inet6"

#define LAY_DEV_NULL "/dev/null"
#define LAY_DEV_VFIO "dev/vfio"
#define LAY_DEV_VFIO_CONTAINER "dev/vfio/vfio"
#define LAY_DEV_VFIO_CDEVS "dev/vfio/devices"
#define LAY_DEV_IOMMU "dev/iommu"
/* Accounts, for the names of a hand-off's owner: the root's own files, never the host's for a tree. */
#define LAY_PASSWD "etc/passwd"
#define LAY_GROUP_FILE "etc/group"
/*
 * The declarations: /etc/iommu-own under the root, whatever the prefix, as
 * modprobe.d and driverctl.d are: the boot step and the initramfs hooks find
 * them there on every installation, and a captured tree carries them.
 */
#define LAY_CONF_DIR "etc/iommu-own"
#define LAY_CONF_FILE "iommu-own.conf"
#define LAY_CONF_DROPINS "conf.d"
/* Other ways of binding devices to VFIO at boot, which check reports beside the declarations. */
#define LAY_DRIVERCTL_DIR "etc/driverctl.d"
extern const char *const lay_modprobe_dirs[]; /* NULL-terminated: etc, run, usr/lib and lib modprobe.d */
/* The state directory of a kernel: the lock and the journal of its moves. */
#define LAY_STATE_DIR "run/iommu-own"
#define LAY_STATE_DIR_LIVE "/run/iommu-own"

/*
 * A PF's SR-IOV attributes (drivers/pci/iov.c; sysfs shows them on physical
 * functions only): the VFs enabled and supported, whether new VFs are
 * probed, where their routing IDs start and how far apart they are, their
 * device ID. A VF links to its PF as physfn, the PF to each VF as virtfnN.
 */
#define LAY_SRIOV_NUMVFS "sriov_numvfs"
#define LAY_SRIOV_TOTALVFS "sriov_totalvfs"
#define LAY_SRIOV_AUTOPROBE "sriov_drivers_autoprobe"
#define LAY_SRIOV_OFFSET "sriov_offset"
#define LAY_SRIOV_STRIDE "sriov_stride"
#define LAY_SRIOV_VF_DEVICE "sriov_vf_device"
#define LAY_PHYSFN "physfn"
#define LAY_VIRTFN_PREFIX "virtfn"

/* sys/bus/pci/devices/<addr>, and an attribute below it. */
char *lay_pci_device(const char *addr);
/* sys/class/<subsystem>/<name> (net, block); NULL when name is not one path component. */
char *lay_class_device(const char *subsystem, const char *name);
char *lay_pci_device_attr(const char *addr, const char *attr);
/* sys/bus/pci/drivers/<driver>, and a file below it (bind, unbind, module). */
char *lay_pci_driver(const char *driver);
char *lay_pci_driver_attr(const char *driver, const char *attr);
/* sys/kernel/iommu_groups/<n>, and an attribute below it (type, name, reserved_regions, devices). */
char *lay_group(unsigned long n);
char *lay_group_attr(unsigned long n, const char *attr);
/* The group's file in the tree, dev/vfio/<n> (dev/vfio/noiommu-<n> in VFIO's no-IOMMU mode). */
char *lay_vfio_group_node(unsigned long n, bool noiommu);
/* The same file as a process that holds it sees it: /dev/vfio/<n>, /dev/vfio/noiommu-<n>. */
char *lay_vfio_group_path(unsigned long n, bool noiommu);
/* The name of a device's VFIO cdev in a process's /dev/vfio/devices/<name> path; NULL when path is none. */
const char *lay_vfio_cdev_name(const char *path);
/* A VFIO device file of the tree, dev/vfio/devices/<name>, and as a process sees it; NULL for a bad name. */
char *lay_vfio_cdev_node(const char *name);
char *lay_vfio_cdev_path(const char *name);
/*
 * The tree's file of a VFIO group or device file a process opens
 * ("/dev/vfio/12" gives "dev/vfio/12"): NULL for anything else, the nodes
 * every consumer shares (/dev/vfio/vfio, /dev/iommu) included.
 */
const char *lay_vfio_node_rel(const char *path);
/* Whether a process's open file path is a VFIO group or device file (not the container /dev/vfio/vfio). */
bool lay_is_vfio_file(const char *path);
/* sys/module/<module>, and a file below it. */
char *lay_module(const char *module);
char *lay_module_attr(const char *module, const char *attr);
/* lib/modules/<release>, where the module index lives. */
char *lay_modules_dir(const char *release);
/* A disk named as a user may name it, "/dev/sdb" or "sdb": the name under /dev. */
const char *lay_dev_name(const char *name);
/* "/dev/<name>", a device node as /proc/swaps, mount tables and fd links name it ("dri/card0" too). */
char *lay_dev_path(const char *name);
/* Whether a path (an fd link's target) is a device node under /dev. */
bool lay_is_dev_path(const char *path);
/* The NVIDIA driver's nodes: "/dev/nvidia<minor>", and the control node every GPU shares. */
char *lay_nvidia_node(unsigned minor);
#define LAY_NVIDIA_CTL "/dev/nvidiactl"
/* The platform drivers of firmware framebuffers (efifb, simplefb and simpledrm, vesafb), NULL-terminated. */
extern const char *const lay_firmware_fb_drivers[];
/* proc/<pid>/<what> (fd, comm). */
char *lay_proc_pid(const char *pid, const char *what);

/*
 * The driver_override a device's attribute text means: NULL when unset (the
 * kernel shows "(null)", older ones an empty line), else the driver name.
 */
char *lay_override_decode(const char *text);
/*
 * What the kernel shows in driver_override after the bytes written were
 * stored (driver_override_show): the text up to the first newline and a
 * newline, or "(null)\n" when that is empty. The caller frees it.
 */
char *lay_override_show(const char *written);
/*
 * The bytes to write to driver_override for override (NULL or "" clears it):
 * the kernel stores a write up to its first newline and clears on "\n".
 */
const char *lay_override_encode(const char *override);
