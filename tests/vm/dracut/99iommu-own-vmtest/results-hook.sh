#!/bin/sh
# initqueue/settled hook (sourced by dracut's init at every pass of its
# loop): the results, once (the script itself makes sure).
[ -e /run/vmtest/lock ] || /bin/sh /usr/bin/vmtest-results hook >/dev/console 2>&1
