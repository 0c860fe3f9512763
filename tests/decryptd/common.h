/* SPDX-License-Identifier: GPL-2.0-only */
#ifndef VEIL_TESTS_DECRYPTD_COMMON_H
#define VEIL_TESTS_DECRYPTD_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fhe/decryptd.h"

struct dd {
	pid_t pid;
	char dir[64];
	char sock[96];
	char cfg[128];
};

/*
 * Starts veil-decryptd from the build tree in a fresh session keyring holding
 * the given keys (desc/value pairs, NULL-terminated), with the config text
 * (its "socket" is filled in: write "@SOCK@" where it goes). Waits until the
 * socket answers. SKIPs when io_uring is unavailable.
 */
void dd_start(struct dd *d, const char *config_fmt, const char *const *keys);
/* SIGTERM; the service must exit 0 (a seccomp kill would show here). */
void dd_stop(struct dd *d);
/* Our own cgroup v2 path (for the config's "containers"). */
const char *dd_my_cgroup(void);

int dd_connect(const struct dd *d);
/* Reads one reply frame (5 s timeout); 0, -ENODATA on EOF, or -errno. */
int dd_read_reply(int fd, uint8_t *buf, size_t cap, struct decryptd_reply *r);
/* True when the peer has closed (EOF within 5 s). */
int dd_wait_eof(int fd);
int dd_ping(int fd, uint32_t id, const char *echo, struct decryptd_reply *r, uint8_t *buf,
	    size_t cap);
size_t dd_count_fds(pid_t pid);
long dd_rss_kb(pid_t pid);

#endif
