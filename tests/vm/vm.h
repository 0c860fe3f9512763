/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * For host tests that boot the test bed: runs tests/vm/run-in-guest with the
 * given arguments (NULL-terminated), e.g.
 *
 *   ASSERT_EQ(0, vm_run(NULL, "--tpm", "--", vm_path(p, sizeof(p), "tests/x/guest_y"), NULL));
 *
 * The runner's output (the guest's KTAP, or the failure and the console log
 * tail) is echoed, so the harness shows it as comments of the host test, and
 * returned in *ret_out when ret_out is not NULL. Returns the runner's exit
 * status (0 pass, 1 guest test failed, 2 panic, 3 timeout, 4 all skipped,
 * 5 QEMU error or no end marker, 6 setup error) or -errno.
 */
#ifndef VEIL_TESTS_VM_VM_H
#define VEIL_TESTS_VM_VM_H

#include <stddef.h>

#define VM_OUTPUT_MAX (4u << 20)
#define VM_MAX_ARGS 64

int vm_run(char **ret_out, const char *arg, ...) __attribute__((sentinel));
/* The same with a NULL-terminated array of at most VM_MAX_ARGS arguments. */
int vm_runv(char **ret_out, const char *const *args);
/* O/rel (a built program), or with src set, the source tree's rel. */
const char *vm_path(char *buf, size_t len, const char *rel);
const char *vm_src_path(char *buf, size_t len, const char *rel);

#endif
