# fish completion for iommu-own
# SPDX-License-Identifier: GPL-2.0-or-later
#
# Column names come from 'iommu-own CMD --list-columns', group numbers and
# device addresses from 'iommu-own list', so they follow the tool. The --force
# codes and the --driver names are copied from src/preflight.c (the
# overridable refusal codes) and src/drivers.c (the VFIO PCI drivers): change
# them together. A new command: add it to the command list at the end, with
# its options; a long option with a value goes in __iommu_own_args_given too.
# claim and release take several groups or devices (one transaction); apply
# and boot take none.

# The words before the cursor, less the global options: the command first.
# Global options with a value: -s --sysroot, -i --pci-ids, -D --dma-safe-driver.
function __iommu_own_scan --description 'Print the command and the sysroot given so far'
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l sysroot
    set -l need
    for t in $tokens
        if test -n "$need"
            test "$need" = s; and set sysroot $t
            set need
            continue
        end
        switch $t
            case --sysroot
                set need s
            case --pci-ids --dma-safe-driver
                set need x
            case '--sysroot=*'
                set sysroot (string replace -- --sysroot= '' $t)
            case '--*'
            case '-*'
                # A cluster of short options: -s, -i and -D take the rest of
                # the word, or the next word.
                set -l m (string match -r -- '^-[^siD]*([siD])(.*)$' $t)
                if test (count $m) -gt 0
                    if test -n "$m[3]"
                        test "$m[2]" = s; and set sysroot $m[3]
                    else
                        test "$m[2]" = s; and set need s; or set need x
                    end
                end
            case '*'
                echo cmd=$t
                echo sysroot=$sysroot
                return 0
        end
    end
    echo sysroot=$sysroot
    return 0
end

function __iommu_own_cmd --description 'Print the command on the line'
    string replace -f -- cmd= '' (__iommu_own_scan)
end

function __iommu_own_needs_command
    set -l cmd (__iommu_own_cmd)
    test -z "$cmd"
end

function __iommu_own_using_command
    set -l cmd (__iommu_own_cmd)
    test -n "$cmd"; and contains -- $cmd $argv
end

# The tool as typed if it is a path that runs, otherwise iommu-own.
function __iommu_own_tool
    set -l t (commandline -opc)[1]
    if string match -q -- '*/*' $t; and test -x "$t"
        echo $t
    else
        echo iommu-own
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
    set -l tool (__iommu_own_tool)
    for line in ($tool $cmd --list-columns 2>/dev/null)
        set -l f (string trim -- $line | string split -m 1 ' ')
        contains -- $f[1] $chosen; and continue
        printf '%s%s\t%s\n' "$head" $f[1] (string trim -- "$f[2]")
    end
end

# How many arguments the command has already: why and snapshot take one.
function __iommu_own_args_given --description 'Count the arguments after the command'
    set -l tokens (commandline -opc)
    set -l cmd (__iommu_own_cmd)
    set -l seen
    set -l need
    set -l n 0
    set -l dashdash
    for t in $tokens[2..-1]
        if test -z "$seen"
            test "$t" = "$cmd"; and set seen 1
            continue
        end
        if test -n "$need"
            set need
            continue
        end
        if test -n "$dashdash"
            set n (math $n + 1)
            continue
        end
        switch $t
            case --
                set dashdash 1
            case --driver --force --state-dir --timeout --conf --device
                set need 1
            case '-*'
            case '*'
                set n (math $n + 1)
        end
    end
    echo $n
end

function __iommu_own_needs_target --description 'why or snapshot without its argument yet'
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
    set -l sysroot (string replace -f -- sysroot= '' (__iommu_own_scan))
    set sysroot (string replace -r -- '^~(?=/|$)' $HOME "$sysroot")
    set -l root
    test -n "$sysroot"; and set root --sysroot $sysroot
    set -l tool (__iommu_own_tool)
    for d in ($tool $root list -r -n -o DEVICE 2>/dev/null)
        printf '%s\tPCI device\n' $d
    end
end

function __iommu_own_targets --description 'Complete IOMMU group numbers and PCI device addresses'
    set -l sysroot (string replace -f -- sysroot= '' (__iommu_own_scan))
    set sysroot (string replace -r -- '^~(?=/|$)' $HOME "$sysroot")
    set -l root
    test -n "$sysroot"; and set root --sysroot $sysroot
    set -l tool (__iommu_own_tool)
    for g in ($tool $root list -r -n -o GROUP 2>/dev/null | string match -v -- - | sort -un)
        printf '%s\tIOMMU group\n' $g
    end
    for d in ($tool $root list -r -n -o DEVICE 2>/dev/null)
        printf '%s\tPCI device\n' $d
    end
end

complete -c iommu-own -f

# Global options, before the command
complete -c iommu-own -n __iommu_own_needs_command -s s -l sysroot -x -a '(__fish_complete_directories (commandline -ct))' -d 'Read the system under DIR (holds sys/)'
complete -c iommu-own -n __iommu_own_needs_command -s i -l pci-ids -r -F -d "Read device names from FILE instead of libpci's pci.ids"
complete -c iommu-own -n __iommu_own_needs_command -s D -l dma-safe-driver -x -d 'Treat driver NAME as one that manages no kernel DMA'
complete -c iommu-own -s '?' -l help -d 'Give this help list'
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

# Output options (list, check)
set -l out '__iommu_own_using_command list check'
complete -c iommu-own -n $out -s J -l json -d 'Print JSON (a stable format)'
complete -c iommu-own -n $out -s r -l raw -d 'Raw output: one line per row, no tree, no alignment'
complete -c iommu-own -n $out -s n -l noheadings -d 'Do not print a header line'
complete -c iommu-own -n $out -s o -l output -x -a '(__iommu_own_columns)' -d 'Columns to print, comma-separated (+COLS adds to the defaults)'
complete -c iommu-own -n $out -l list-columns -d 'List the available columns and exit'
complete -c iommu-own -n $out -a '(__iommu_own_targets)'

# check
complete -c iommu-own -n '__iommu_own_using_command check' -l all -d 'Also show findings of severity info (shared-group)'
complete -c iommu-own -n '__iommu_own_using_command check' -l strict -d 'Exit with status 1 on warnings too'
complete -c iommu-own -n '__iommu_own_using_command check' -l state-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Where the records of claims are kept'
complete -c iommu-own -n '__iommu_own_using_command check' -l conf -r -F -d "Judge the declarations of FILE instead of the system's"
complete -c iommu-own -n '__iommu_own_using_command check' -l syntax -d 'Only parse the declarations and exit (0 valid, 2 not)'

# why
complete -c iommu-own -n '__iommu_own_using_command why' -s J -l json -d 'Print JSON (a stable format)'

# Options of claim, release, recover and apply
set -l move '__iommu_own_using_command claim release recover apply vfs'
complete -c iommu-own -n $move -s J -l json -d 'Report in JSON (a stable format)'
complete -c iommu-own -n $move -l state-dir -x -a '(__fish_complete_directories (commandline -ct))' -d 'Keep the records of claims in DIR'
complete -c iommu-own -n $move -l timeout -x -a '10 30 60 120' -d 'Seconds one write may block in the kernel'
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

# apply
complete -c iommu-own -n '__iommu_own_using_command apply' -l conf -r -F -d "Apply the declarations of FILE instead of the system's"

# boot
complete -c iommu-own -n '__iommu_own_using_command boot' -l device -x -a '(__iommu_own_devices)' -d "Only this device, which just appeared (the udev rule's call)"
complete -c iommu-own -n '__iommu_own_using_command boot' -l udev -d 'Print IOMMU_OWN_DECLARED=1 for a device of a declared group (with --device)'

# snapshot
complete -c iommu-own -n '__iommu_own_using_command snapshot' -l no-config -d 'Leave out config space (why then has less to go on)'
complete -c iommu-own -n '__iommu_own_using_command snapshot' -l no-serial -d 'Leave out serial numbers (DSN zeroed, MAC addresses not copied)'
complete -c iommu-own -n '__iommu_own_using_command snapshot; and __iommu_own_needs_target' -x -a '(__fish_complete_directories (commandline -ct))'
