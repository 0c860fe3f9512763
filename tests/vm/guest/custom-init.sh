#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# A replacement /init (run-in-guest --init), as veil-init will be: proves the
# runner boots another PID 1 with extra files and waits for its own marker.
echo "custom init read: $(cat /etc/veil/extra.txt)"
echo CUSTOM-INIT-DONE
exec /bin/busybox poweroff -f
