#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-only
# Guest program that fails (test bed self-test: a failure must reach the host).
echo "KTAP version 1"
echo "1..1"
echo "not ok 1 fails_on_purpose"
exit 1
