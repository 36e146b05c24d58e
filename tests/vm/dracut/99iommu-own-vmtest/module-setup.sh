#!/bin/bash
# dracut module of make check-vm (tests/vm/bootimg.sh lays it beside the
# installed 90iommu-own, in a private mount namespace; never installed): the
# boot run's results (guest/boot-results), printed on the console once the
# coldplug settled, by vmtest-results.service (systemd in the image) or an
# initqueue/settled hook (dracut's shell init), whichever comes first.
# files/ is filled by bootimg.sh.

check() {
    return 255
}

depends() {
    return 0
}

install() {
    inst_simple "$moddir/files/vmtest-results" /usr/bin/vmtest-results
    inst_simple "$moddir/files/vfio-viable" /usr/bin/vfio-viable
    inst_simple "$moddir/files/lib.sh" /vmtest/lib.sh
    inst_simple "$moddir/files/boot.sh" /vmtest/boot.sh
    chmod 755 "$initdir/usr/bin/vmtest-results" "$initdir/usr/bin/vfio-viable"
    inst_multiple -o dmesg cut cat grep sed readlink basename sort head tail tr awk ls dd od date stat sleep uname sync \
        find mkdir pidof
    inst_hook initqueue/settled 99 "$moddir/results-hook.sh"
    if dracut_module_included "systemd"; then
        inst_simple "$moddir/vmtest-results.service" "$systemdsystemunitdir/vmtest-results.service"
        mkdir -p "$initdir$systemdsystemunitdir/initrd.target.wants"
        ln_r "$systemdsystemunitdir/vmtest-results.service" \
            "$systemdsystemunitdir/initrd.target.wants/vmtest-results.service"
    fi
}
