#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Guest program that crashes the guest kernel on purpose (test bed self-test).
echo "# panicking the guest on purpose"
echo c > /proc/sysrq-trigger
sleep 30
