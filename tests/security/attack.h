/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The attacker of tests/security and tests/ebpf: one attack by name, whose
 * result is the errno it got (0: the attack worked). ctr_attack() runs it in
 * a container by re-executing the test program itself with VEIL_ATTACK set,
 * so the test programs need no helper file in the guest.
 */
#ifndef VEIL_TESTS_SECURITY_ATTACK_H
#define VEIL_TESTS_SECURITY_ATTACK_H

#define ATTACK_SETUP_FAILED 200

/* NAME as in attack.c's table; ARG a key serial, a path or a pid (NULL: none). */
int attack_run(const char *name, const char *arg);

#endif
