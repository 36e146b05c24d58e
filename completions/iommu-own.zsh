#compdef iommu-own
# SPDX-License-Identifier: GPL-2.0-or-later
#
# zsh completion for iommu-own. Install it as _iommu-own (or _iommu_own) in a
# directory of $fpath. Column names come from 'iommu-own CMD --list-columns',
# group numbers and device addresses from 'iommu-own list', so they follow the
# tool. The --force codes and the --driver names are copied from src/preflight.c
# (the overridable refusal codes) and src/drivers.c (the VFIO PCI drivers):
# change them together. A new command: add it to _iommu_own_commands and give
# it a branch in the case below. The global options go before or after the
# command (the globals array is in every branch). claim and release take
# several groups or devices (one transaction), or none with selectors; apply
# and boot take none.

# The sysroot to ask the tool about, as arguments for it, in
# _iommu_own_root: --sysroot given after the command (opt_args of the
# command's _arguments) wins, as it does in the tool, over one given before
# it (_iommu_own_pre). IOMMU_OWN_SYSROOT needs nothing: the tool reads it.
(( $+functions[_iommu_own_sysroot_args] )) ||
_iommu_own_sysroot_args() {
  local root=${opt_args[-s]:-${opt_args[--sysroot]}}
  if [[ -n $root ]]; then
    root=${(Q)root}
    root=${root/#\~/$HOME}
    _iommu_own_root=(--sysroot "$root")
  else
    _iommu_own_root=($_iommu_own_pre)
  fi
}

(( $+functions[_iommu_own_commands] )) ||
_iommu_own_commands() {
  local -a commands
  commands=(
    'list:show every IOMMU group, its owner and its devices (default)'
    'check:audit the groups\: mixed ownership, missing IOMMU, unsafe settings'
    'why:explain why devices share a group, and what would split it'
    'claim:move a whole group to vfio-pci, all devices or none'
    'release:move a group back to its kernel drivers, all devices or none'
    'recover:finish or roll back an interrupted claim, release or apply'
    'vfs:create or remove a PF'"'"'s VFs, kept from host drivers'
    'apply:bring the declared groups (iommu-own.conf) to VFIO, all or none'
    'boot:the boot step\: declared groups kept from host drivers'
    'snapshot:capture the PCI and IOMMU state as a replayable sysroot'
  )
  # help COMMAND describes the others
  [[ $_iommu_own_cmd == help ]] || commands+=("help:describe a command's options (as COMMAND --help)")
  _describe -t commands 'iommu-own command' commands
}

(( $+functions[_iommu_own_columns] )) ||
_iommu_own_columns() {
  local -a lines cols
  local line name
  lines=(${(f)"$(_call_program columns ${(q)_iommu_own_tool} $_iommu_own_cmd --list-columns 2>/dev/null)"})
  for line in $lines; do
    line=${line##[[:space:]]#}
    name=${line%%[[:space:]]*}
    [[ -n $name ]] || continue
    line=${line#$name}
    line=${line##[[:space:]]#}
    cols+=("${name}:${line//:/\\:}")
  done
  compset -P '+'
  _sequence -s , _describe -t columns column cols
}

(( $+functions[_iommu_own_force_codes] )) ||
_iommu_own_force_codes() {
  local -a codes
  codes=(
    'boot-vga:the device drives the boot console'
    'mounted:a block device under it is mounted, used as swap, or held'
    'netdev-active:a network interface under it is up with addresses or routes'
    'sriov-pf:a physical function with VFs enabled'
    'chipset:the group holds a host bridge or an ISA/LPC bridge'
    'vmd:the group holds a VMD controller (its domain goes with it)'
    'host-in-use:a process or the console uses the device (DRM, framebuffer)'
    'vfs-bound:a VF that would go is on a host driver'
    'cannot-verify:a check could not read its input'
  )
  _sequence -s , _describe -t codes 'refusal code' codes
}

(( $+functions[_iommu_own_vfio_drivers] )) ||
_iommu_own_vfio_drivers() {
  local -a drivers
  drivers=(vfio-pci mlx5_vfio_pci hisi_acc_vfio_pci pds_vfio_pci virtio_vfio_pci
    nvgrace_gpu_vfio_pci qat_vfio_pci xe-vfio-pci ism_vfio_pci)
  _wanted drivers expl 'VFIO driver' compadd -a drivers
}

(( $+functions[_iommu_own_devices] )) ||
_iommu_own_devices() {
  local -a devices
  _iommu_own_sysroot_args
  devices=(${(f)"$(_call_program devices ${(q)_iommu_own_tool} ${(q)_iommu_own_root} list -r -n -o DEVICE 2>/dev/null)"})
  _wanted devices expl 'PCI device' compadd -a devices
}

(( $+functions[_iommu_own_targets] )) ||
_iommu_own_targets() {
  local -a groups devices
  _iommu_own_sysroot_args
  groups=(${(u)${(f)"$(_call_program groups ${(q)_iommu_own_tool} ${(q)_iommu_own_root} list -r -n -o GROUP 2>/dev/null)"}:#-})
  devices=(${(f)"$(_call_program devices ${(q)_iommu_own_tool} ${(q)_iommu_own_root} list -r -n -o DEVICE 2>/dev/null)"})
  local ret=1
  _wanted groups expl 'IOMMU group' compadd -a groups && ret=0
  _wanted devices expl 'PCI device' compadd -a devices && ret=0
  return ret
}

# The names in <sysroot>/sys/class/CLASS (net, block), the sysroot as given on
# the line or in IOMMU_OWN_SYSROOT.
(( $+functions[_iommu_own_class_devices] )) ||
_iommu_own_class_devices() {
  local class=$1 tag=$2 descr=$3
  local -a names
  _iommu_own_sysroot_args
  names=(${${_iommu_own_root[2]:-$IOMMU_OWN_SYSROOT}%/}/sys/class/$class/*(N:t))
  _wanted $tag expl $descr compadd -a names
}

(( $+functions[_iommu_own_netdevs] )) ||
_iommu_own_netdevs() {
  _iommu_own_class_devices net interfaces 'network interface'
}

(( $+functions[_iommu_own_blockdevs] )) ||
_iommu_own_blockdevs() {
  _iommu_own_class_devices block disks 'block device'
}

# The names --class takes (src/core/select.c); a class code (0300) works too.
(( $+functions[_iommu_own_classes] )) ||
_iommu_own_classes() {
  local -a classes
  classes=(
    'gpu:display controller (class 03)'
    'display:display controller (class 03)'
    'nic:network controller (class 02)'
    'network:network controller (class 02)'
    'storage:mass storage controller (class 01)'
    'nvme:NVMe controller (class 0108)'
    'sata:SATA controller (class 0106)'
    'usb:USB controller (class 0c03)'
    'audio:audio device (class 0403 or 0401)'
    'multimedia:multimedia controller (class 04)'
    'bridge:bridge (class 06)'
  )
  _describe -t classes 'device class (or a class code, 0300)' classes
}

(( $+functions[_iommu_own_states] )) ||
_iommu_own_states() {
  local -a states
  states=(
    'kernel:kernel drivers, no VFIO device'
    'user:VFIO devices, no kernel driver'
    'free:devices unbound or neutral'
    'mixed:kernel drivers and VFIO devices'
    "noiommu:VFIO's unsafe no-IOMMU mode"
  )
  _describe -t states 'group state' states
}

_iommu_own() {
  local curcontext=$curcontext state state_descr line ret=1
  local -A opt_args
  local -a globals json help output selectors move _iommu_own_root _iommu_own_pre
  local _iommu_own_tool=${(Q)words[1]} _iommu_own_cmd

  # Before or after the command.
  globals=(
    '(-s --sysroot)'{-s+,--sysroot=}'[read the system under DIR (holds sys/)]:system root:_directories'
    '(-i --pci-ids)'{-i+,--pci-ids=}"[read device names from FILE instead of libpci's pci.ids]:pci.ids file:_files"
    '*'{-D+,--dma-safe-driver=}'[treat driver NAME as one that manages no kernel DMA]:driver name: '
    '--color=-[colour on a terminal (a bare --color\: always)]::when:(auto always never)'
  )
  json=(
    '(-J --json)'{-J,--json}'[print JSON; on failure an error document]'
  )
  help=(
    '(- *)'{-h,-\?,--help}'[give this help list]'
    '(- *)--usage[give a short usage message]'
    '(- *)'{-V,--version}'[print program version]'
  )

  # (-): the options after the command are the command's _arguments'.
  _arguments -C $globals $json $help \
    '(-): :->command' \
    '(-)*:: :->args' && ret=0

  case $state in
  command)
    _iommu_own_commands && ret=0
    ;;
  args)
    _iommu_own_cmd=$words[1]
    # The command's own _arguments resets opt_args: keep the sysroot now.
    _iommu_own_sysroot_args
    _iommu_own_pre=($_iommu_own_root)
    curcontext=${curcontext%:*:*}:iommu-own-$_iommu_own_cmd:
    output=(
      '(-J --json)'{-J,--json}'[print JSON (a stable format)]'
      '(-r --raw)'{-r,--raw}'[raw output: one line per row, no tree, no alignment]'
      '(-P --pairs)'{-P,--pairs}'[KEY="value" pairs, one line per row (escaped as lsblk -P does)]'
      '(-n --noheadings)'{-n,--noheadings}'[do not print a header line]'
      '(-o --output)'{-o+,--output=}'[columns to print, comma-separated (+COLS adds to the defaults)]:columns:_iommu_own_columns'
      '--list-columns[list the available columns and exit]'
    )
    # Each repeatable; they pick devices (so their groups) as the operands do.
    selectors=(
      '*--slot=[devices in these slots, as lspci -s]:slot ([[domain\:]bus\:][slot][.func]): '
      '*'{-d+,--id=}'[devices with these IDs, as lspci -d]:IDs ([vendor]\:[device][\:class]): '
      '*--class=[devices of a class]:device class:_iommu_own_classes'
      '*--netdev=[the device of a network interface]:network interface:_iommu_own_netdevs'
      '*--blockdev=[the device of a disk]:block device:_iommu_own_blockdevs'
    )
    move=(
      '(-J --json)'{-J,--json}'[report in JSON (a stable format)]'
      '--state-dir=[keep the records of claims in DIR]:state directory:_directories'
      '--timeout=[seconds one write may block in the kernel]:seconds:(10 30 60 120)'
      "(--no-wait)--wait=[wait at most SECONDS for another operation's lock, then exit 2]:seconds:(0 10 60)"
      '(--wait)--no-wait[exit 2 at once when another operation holds the lock]'
    )
    case $_iommu_own_cmd in
    list)
      _arguments -s $globals $output $selectors $help \
        '*--state=[only groups in this state (repeatable)]:group state:_iommu_own_states' \
        '*:group or device:_iommu_own_targets' && ret=0
      ;;
    check)
      _arguments -s $globals $output $selectors $help \
        '--all[also show findings of severity info (shared-group)]' \
        '--strict[exit with status 1 on warnings too]' \
        '--state-dir=[where the records of claims are kept]:state directory:_directories' \
        "--conf=[judge the declarations of FILE instead of the system's]:declaration file:_files" \
        '--syntax[only parse the declarations and exit (0 valid, 2 not)]' \
        '--format=[table (default), or prometheus for node_exporter'"'"'s textfile collector]:format:(table prometheus)' \
        '*:group or device:_iommu_own_targets' && ret=0
      ;;
    why)
      _arguments -s $globals $selectors $help \
        '(-J --json)'{-J,--json}'[print JSON (a stable format)]' \
        '1::group or device:_iommu_own_targets' && ret=0
      ;;
    claim)
      _arguments -s $globals $move $selectors $help \
        '--driver=[the VFIO driver to use (default vfio-pci)]:VFIO driver:_iommu_own_vfio_drivers' \
        '--dry-run[print the writes in order and change nothing]' \
        '*--force=[override refusals]:refusal codes:_iommu_own_force_codes' \
        '--persist[also declare the groups (a drop-in in conf.d), so that they come up on VFIO at every boot]' \
        '--remove-vfs[remove the VFs of a PF first (release makes them again)]' \
        '--owner=[hand the groups'"'"' own VFIO nodes to USER (and GROUP)]:user:_users' \
        '--mode=[permission bits of those nodes, octal]:mode:(0600 0660 0666)' \
        '*:group or device:_iommu_own_targets' && ret=0
      ;;
    vfs)
      _arguments -s $globals $move $help \
        '--claim[give every new VF'"'"'s group to VFIO in the same transaction]' \
        '--driver=[with --claim: the VFIO driver (default vfio-pci)]:VFIO driver:_iommu_own_vfio_drivers' \
        '--replace[allow another count on a PF that has VFs (through 0)]' \
        '--owner=[with --claim: hand the VF groups'"'"' nodes to USER (and GROUP)]:user:_users' \
        '--mode=[with --claim: permission bits of those nodes, octal]:mode:(0600 0660 0666)' \
        '--dry-run[print the writes in order and change nothing]' \
        '*--force=[override refusals]:refusal codes:_iommu_own_force_codes' \
        '1:SR-IOV physical function:_iommu_own_devices' \
        '2:number of VFs: ' && ret=0
      ;;
    release)
      _arguments -s $globals $move $selectors $help \
        '--dry-run[print the writes in order and change nothing]' \
        '--persist[also remove the declarations claim --persist wrote]' \
        '*:group or device:_iommu_own_targets' && ret=0
      ;;
    recover)
      _arguments -s $globals $move $help \
        "--dry-run[say whether it would finish or roll back, and each device's driver now and after; change nothing]" && ret=0
      ;;
    apply)
      _arguments -s $globals $move $help \
        '--dry-run[print what each entry needs and the writes in order; change nothing]' \
        "--conf=[apply the declarations of FILE instead of the system's]:declaration file:_files" && ret=0
      ;;
    boot)
      _arguments -s $globals $json $help \
        "--device=[only this device, which just appeared (the udev rule's call)]:PCI device:_iommu_own_devices" \
        '--udev[print IOMMU_OWN_DECLARED=1 for a device of a declared group (with --device)]' && ret=0
      ;;
    snapshot)
      _arguments -s $globals $json $help \
        '--no-config[leave out config space (why then has less to go on)]' \
        '--no-serial[leave out serial numbers (DSN zeroed, MAC addresses not copied)]' \
        '1:snapshot directory (new or empty):_directories' && ret=0
      ;;
    help)
      _arguments '1:command:_iommu_own_commands' && ret=0
      ;;
    *)
      _message "unknown command: $_iommu_own_cmd"
      ;;
    esac
    ;;
  esac
  return ret
}

_iommu_own "$@"
