# fish completion for iommu-own
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Column names come from 'iommu-own CMD --list-columns', group numbers and
# device addresses from 'iommu-own list', so they follow the tool. The --force
# codes and the --driver names are copied from src/preflight.c (the
# overridable refusal codes) and src/drivers.c (the VFIO PCI drivers): change
# them together. A new command: add it to the command list at the end (and to
# $commands, for help COMMAND), with its options; a long option with a value
# goes in __iommu_own_scan too. The global options go before or after the
# command. claim and release take several groups or devices (one
# transaction), or none with selectors; apply and boot take none.

# The words before the cursor: the command, the sysroot (global options go
# before or after the command) and how many arguments the command has so far.
# Every option with a value is listed here, so that its value is taken for
# neither the command nor an argument.
function __iommu_own_scan --description 'Print the command, the sysroot and the argument count so far'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmd
    set -l sysroot
    set -l need
    set -l dashdash
    set -l n 0
    for t in $tokens
        if test -n "$need"
            test "$need" = s; and set sysroot $t
            set need
            continue
        end
        if test -z "$dashdash"
            switch $t
                case --
                    test -n "$cmd"; and set dashdash 1
                    continue
                case --sysroot
                    set need s
                    continue
                case --pci-ids --dma-safe-driver --output --state --state-dir --conf --format --slot --id --class \
                    --netdev --blockdev --driver --force --timeout --wait --device
                    set need x
                    continue
                case '--sysroot=*'
                    set sysroot (string replace -- --sysroot= '' $t)
                    continue
                case '--*'
                    continue
                case '-?*'
                    # A cluster of short options: -s, -i, -D, -o and -d take
                    # the rest of the word, or the next word.
                    set -l m (string match -r -- '^-[^siDod]*([siDod])(.*)$' $t)
                    if test (count $m) -gt 0
                        if test -n "$m[3]"
                            test "$m[2]" = s; and set sysroot $m[3]
                        else
                            test "$m[2]" = s; and set need s; or set need x
                        end
                    end
                    continue
            end
        end
        if test -z "$cmd"
            set cmd $t
        else
            set n (math $n + 1)
        end
    end
    test -n "$cmd"; and echo cmd=$cmd
    echo sysroot=$sysroot
    echo nargs=$n
    return 0
end

function __iommu_own_cmd --description 'Print the command on the line'
    string replace -rf -- '^cmd=' '' (__iommu_own_scan)
end

# The sysroot the tool will read: --sysroot on the line, else
# $IOMMU_OWN_SYSROOT; empty for /.
function __iommu_own_root --description 'Print the sysroot given so far'
    set -l sysroot (string replace -rf -- '^sysroot=' '' (__iommu_own_scan))
    test -n "$sysroot"; or set sysroot "$IOMMU_OWN_SYSROOT"
    string replace -r -- '^~(?=/|$)' $HOME "$sysroot"
end

function __iommu_own_needs_command
    set -l cmd (__iommu_own_cmd)
    test -z "$cmd"
end

function __iommu_own_using_command
    set -l cmd (__iommu_own_cmd)
    test -n "$cmd"; and contains -- $cmd $argv
end

# The tool as typed if it is a path that runs, otherwise iommu-own; false
# when neither runs.
function __iommu_own_tool
    set -l t (commandline -opc)[1]
    if string match -q -- '*/*' $t; and test -x "$t"; and not test -d "$t"
        echo $t
    else if command -q iommu-own
        echo iommu-own
    else
        return 1
    end
end

function __iommu_own_columns --description 'Complete a comma-separated column list'
    set -l cmd (__iommu_own_cmd)
    set -l tok (string replace -r -- '^--output=' '' (commandline -ct))
    set -l head (string match -r -- '^.*,' $tok)
    if test -z "$head"
        string match -q -- '+*' $tok; and set head +
    end
    set -l chosen (string split , -- (string trim -l -c + -- "$head"))
    set -l tool (__iommu_own_tool); or return
    for line in ($tool $cmd --list-columns 2>/dev/null)
        set -l f (string trim -- $line | string split -m 1 ' ')
        contains -- $f[1] $chosen; and continue
        printf '%s%s\t%s\n' "$head" $f[1] (string trim -- "$f[2]")
    end
end

# How many arguments the command has already: why, snapshot and help take one.
function __iommu_own_args_given --description 'Count the arguments after the command'
    string replace -rf -- '^nargs=' '' (__iommu_own_scan)
end

function __iommu_own_needs_target --description 'why, snapshot or help without its argument yet'
    test (__iommu_own_args_given) -eq 0
end

function __iommu_own_force_codes --description 'Complete a comma-separated list of refusal codes'
    set -l tok (string replace -r -- '^--force=' '' (commandline -ct))
    set -l head (string match -r -- '^.*,' $tok)
    set -l chosen (string split , -- "$head")
    set -l codes boot-vga mounted netdev-active sriov-pf chipset vmd host-in-use vfs-bound cannot-verify
    set -l descs 'The device drives the boot console' \
        'A block device under it is mounted, used as swap, or held' \
        'A network interface under it is up with addresses or routes' \
        'A physical function with VFs enabled' \
        'The group holds a host bridge or an ISA/LPC bridge' \
        'The group holds a VMD controller (its domain goes with it)' \
        'A process or the console uses the device (DRM, framebuffer)' \
        'A check could not read its input'
    for i in (seq (count $codes))
        contains -- $codes[$i] $chosen; and continue
        printf '%s%s\t%s\n' "$head" $codes[$i] $descs[$i]
    end
end

function __iommu_own_devices --description 'Complete PCI device addresses'
    set -l sysroot (__iommu_own_root)
    set -l root
    test -n "$sysroot"; and set root --sysroot $sysroot
    set -l tool (__iommu_own_tool); or return
    for d in ($tool $root list -r -n -o DEVICE 2>/dev/null)
        printf '%s\tPCI device\n' $d
    end
end

function __iommu_own_targets --description 'Complete IOMMU group numbers and PCI device addresses'
    set -l sysroot (__iommu_own_root)
    set -l root
    test -n "$sysroot"; and set root --sysroot $sysroot
    set -l tool (__iommu_own_tool); or return
    for g in ($tool $root list -r -n -o GROUP 2>/dev/null | string match -v -- - | sort -un)
        printf '%s\tIOMMU group\n' $g
    end
    for d in ($tool $root list -r -n -o DEVICE 2>/dev/null)
        printf '%s\tPCI device\n' $d
    end
end

# Network interfaces (net) or block devices (block) under the sysroot.
function __iommu_own_class_devices --argument-names class desc --description 'Complete the names in <sysroot>/sys/class/CLASS'
    set -l root (__iommu_own_root)
    set -l dir "$root/sys/class/$class"
    for f in $dir/*
        printf '%s\t%s\n' (string replace -r -- '.*/' '' $f) $desc
    end
end

# The names --class takes (src/core/select.c); a class code (0300) works too.
function __iommu_own_classes --description 'Complete device class names'
    printf '%s\t%s\n' \
        gpu 'Display controller (class 03)' \
        display 'Display controller (class 03)' \
        nic 'Network controller (class 02)' \
        network 'Network controller (class 02)' \
        storage 'Mass storage controller (class 01)' \
        nvme 'NVMe controller (class 0108)' \
        sata 'SATA controller (class 0106)' \
        usb 'USB controller (class 0c03)' \
        audio 'Audio device (class 0403 or 0401)' \
        multimedia 'Multimedia controller (class 04)' \
        bridge 'Bridge (class 06)'
end

function __iommu_own_states --description 'Complete group states'
    printf '%s\t%s\n' \
        kernel 'Kernel drivers, no VFIO device' \
        user 'VFIO devices, no kernel driver' \
        free 'Devices unbound or neutral' \
        mixed 'Kernel drivers and VFIO devices' \
        noiommu "VFIO's unsafe no-IOMMU mode"
end

complete -c iommu-own -f

# Global options, before or after the command
complete -c iommu-own -s s -l sysroot -x -a '(__fish_complete_directories (commandline -ct))' -d 'Read the system under DIR (holds sys/)'
complete -c iommu-own -s i -l pci-ids -r -F -d "Read device names from FILE instead of libpci's pci.ids"
complete -c iommu-own -s D -l dma-safe-driver -x -d 'Treat driver NAME as one that manages no kernel DMA'
# The commands below with their own -J say what it prints.
complete -c iommu-own -n 'not __iommu_own_using_command list check why claim release recover apply' -s J -l json -d 'Print JSON; on failure an error document'
# --color takes its value only as --color=WHEN: a bare --color means always.
complete -c iommu-own -l color -d 'Colour on a terminal (--color=auto|always|never)'
complete -c iommu-own -n 'string match -q -- "--color=*" (commandline -ct)' -a '--color=auto --color=always --color=never'
complete -c iommu-own -s h -s '?' -l help -d 'Give this help list'
complete -c iommu-own -l usage -d 'Give a short usage message'
complete -c iommu-own -s V -l version -d 'Print program version'

# Commands
complete -c iommu-own -n __iommu_own_needs_command -a list -d 'Show every IOMMU group, its owner and its devices (default)'
complete -c iommu-own -n __iommu_own_needs_command -a check -d 'Audit the groups: mixed ownership, missing IOMMU, unsafe settings'
complete -c iommu-own -n __iommu_own_needs_command -a why -d 'Explain why devices share a group, and what would split it'
complete -c iommu-own -n __iommu_own_needs_command -a claim -d 'Move a whole group to vfio-pci, all devices or none'
complete -c iommu-own -n __iommu_own_needs_command -a release -d 'Move a group back to its kernel drivers, all devices or none'
complete -c iommu-own -n __iommu_own_needs_command -a recover -d 'Finish or roll back an interrupted claim, release or apply'
complete -c iommu-own -n __iommu_own_needs_command -a vfs -d "Create or remove a PF's VFs, kept from host drivers"
complete -c iommu-own -n __iommu_own_needs_command -a apply -d 'Bring the declared groups (iommu-own.conf) to VFIO, all or none'
complete -c iommu-own -n __iommu_own_needs_command -a boot -d 'The boot step: declared groups kept from host drivers'
complete -c iommu-own -n __iommu_own_needs_command -a snapshot -d 'Capture the PCI and IOMMU state as a replayable sysroot'
complete -c iommu-own -n __iommu_own_needs_command -a help -d "Describe a command's options (as COMMAND --help)"

# help COMMAND
set -l commands list check why claim release recover apply boot snapshot
complete -c iommu-own -n '__iommu_own_using_command help; and __iommu_own_needs_target' -a "$commands"

# Output options (list, check)
set -l out '__iommu_own_using_command list check'
complete -c iommu-own -n $out -s J -l json -d 'Print JSON (a stable format)'
complete -c iommu-own -n $out -s r -l raw -d 'Raw output: one line per row, no tree, no alignment'
complete -c iommu-own -n $out -s P -l pairs -d 'KEY="value" pairs, one line per row'
complete -c iommu-own -n $out -s n -l noheadings -d 'Do not print a header line'
complete -c iommu-own -n $out -s o -l output -x -a '(__iommu_own_columns)' -d 'Columns to print, comma-separated (+COLS adds to the defaults)'
complete -c iommu-own -n $out -l list-columns -d 'List the available columns and exit'
complete -c iommu-own -n $out -a '(__iommu_own_targets)'

# Selectors (list, check, why, claim, release), each repeatable
set -l sel '__iommu_own_using_command list check why claim release'
complete -c iommu-own -n $sel -l slot -x -d 'Devices in these slots, as lspci -s ([[DOMAIN:]BUS:][SLOT][.FUNC])'
complete -c iommu-own -n $sel -s d -l id -x -d 'Devices with these IDs, as lspci -d ([VENDOR]:[DEVICE][:CLASS])'
complete -c iommu-own -n $sel -l class -x -a '(__iommu_own_classes)' -d 'Devices of a class (or a class code, 0300)'
complete -c iommu-own -n $sel -l netdev -x -a '(__iommu_own_class_devices net "Network interface")' -d 'The device of a network interface'
complete -c iommu-own -n $sel -l blockdev -x -a '(__iommu_own_class_devices block "Block device")' -d 'The device of a disk'

# list
complete -c iommu-own -n '__iommu_own_using_command list' -l state -x -a '(__iommu_own_states)' -d 'Only groups in this state (repeatable)'

# check
complete -c iommu-own -n '__iommu_own_using_command check' -l all -d 'Also show findings of severity info (shared-group)'
complete -c iommu-own -n '__iommu_own_using_command check' -l strict -d 'Exit with status 1 on warnings too'
complete -c iommu-own -n '__iommu_own_using_command check' -l state-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Where the records of claims are kept'
complete -c iommu-own -n '__iommu_own_using_command check' -l conf -r -F -d "Judge the declarations of FILE instead of the system's"
complete -c iommu-own -n '__iommu_own_using_command check' -l syntax -d 'Only parse the declarations and exit (0 valid, 2 not)'
complete -c iommu-own -n '__iommu_own_using_command check' -l format -x -a "table\t'Findings as a table (default)' prometheus\t'The Prometheus text format, for node_exporter'" -d 'Output format'

# why
complete -c iommu-own -n '__iommu_own_using_command why' -s J -l json -d 'Print JSON (a stable format)'

# Options of claim, release, recover and apply
set -l move '__iommu_own_using_command claim release recover apply vfs'
complete -c iommu-own -n $move -s J -l json -d 'Report in JSON (a stable format)'
complete -c iommu-own -n $move -l state-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Keep the records of claims in DIR'
complete -c iommu-own -n $move -l timeout -x -a '10 30 60 120' -d 'Seconds one write may block in the kernel'
complete -c iommu-own -n $move -l wait -x -a '0 10 60' -d "Seconds to wait for another operation's lock, then exit 2"
complete -c iommu-own -n $move -l no-wait -d 'Exit 2 at once when another operation holds the lock'
complete -c iommu-own -n '__iommu_own_using_command claim release apply vfs' -l dry-run -d 'Print the writes in order and change nothing'
complete -c iommu-own -n '__iommu_own_using_command why; and __iommu_own_needs_target' -a '(__iommu_own_targets)'
complete -c iommu-own -n '__iommu_own_using_command claim release' -a '(__iommu_own_targets)'
complete -c iommu-own -n '__iommu_own_using_command claim' -l persist -d 'Also declare the groups (a drop-in in conf.d), so that they come up on VFIO at every boot'
complete -c iommu-own -n '__iommu_own_using_command release' -l persist -d 'Also remove the declarations claim --persist wrote'

# claim
set -l vfio_drivers vfio-pci mlx5_vfio_pci hisi_acc_vfio_pci pds_vfio_pci virtio_vfio_pci nvgrace_gpu_vfio_pci qat_vfio_pci xe-vfio-pci ism_vfio_pci
complete -c iommu-own -n '__iommu_own_using_command claim' -l driver -x -a "$vfio_drivers" -d 'The VFIO driver to use (default vfio-pci)'
complete -c iommu-own -n '__iommu_own_using_command claim' -l force -x -a '(__iommu_own_force_codes)' -d 'Override refusals (comma-separated codes)'
complete -c iommu-own -n '__iommu_own_using_command claim' -l remove-vfs -d 'Remove the VFs of a PF first (release makes them again)'
complete -c iommu-own -n '__iommu_own_using_command claim vfs' -l owner -x -a '(__fish_complete_users)' -d "Hand the groups' own VFIO nodes to USER[:GROUP]"
complete -c iommu-own -n '__iommu_own_using_command claim vfs' -l mode -x -a '0600 0660 0666' -d 'Permission bits of those nodes, octal'

# vfs PF COUNT
complete -c iommu-own -n '__iommu_own_using_command vfs' -l claim -d "Give every new VF's group to VFIO in the same transaction"
complete -c iommu-own -n '__iommu_own_using_command vfs' -l driver -x -a "$vfio_drivers" -d 'With --claim: the VFIO driver (default vfio-pci)'
complete -c iommu-own -n '__iommu_own_using_command vfs' -l replace -d 'Allow another count on a PF that has VFs (through 0)'
complete -c iommu-own -n '__iommu_own_using_command vfs' -l force -x -a '(__iommu_own_force_codes)' -d 'Override refusals (comma-separated codes)'
complete -c iommu-own -n '__iommu_own_using_command vfs; and __iommu_own_needs_target' -x -a '(__iommu_own_devices)'

# recover
complete -c iommu-own -n '__iommu_own_using_command recover' -l dry-run -d 'Say whether it would finish or roll back; change nothing'

# apply
complete -c iommu-own -n '__iommu_own_using_command apply' -l conf -r -F -d "Apply the declarations of FILE instead of the system's"

# boot
complete -c iommu-own -n '__iommu_own_using_command boot' -l device -x -a '(__iommu_own_devices)' -d "Only this device, which just appeared (the udev rule's call)"
complete -c iommu-own -n '__iommu_own_using_command boot' -l udev -d 'Print IOMMU_OWN_DECLARED=1 for a device of a declared group (with --device)'

# snapshot
complete -c iommu-own -n '__iommu_own_using_command snapshot' -l no-config -d 'Leave out config space (why then has less to go on)'
complete -c iommu-own -n '__iommu_own_using_command snapshot' -l no-serial -d 'Leave out serial numbers (DSN zeroed, MAC addresses not copied)'
complete -c iommu-own -n '__iommu_own_using_command snapshot; and __iommu_own_needs_target' -x -a '(__fish_complete_directories (commandline -ct))'
