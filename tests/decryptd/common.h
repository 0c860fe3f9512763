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

struct dd_key {
	const char *desc;
	const void *data;
	size_t len;
};

/*
 * Starts veil-decryptd from the build tree in a fresh session keyring holding
 * the given keys (n of them), with the config text ("@SOCK@" and "@DIR@" are
 * replaced by the socket path and the test directory). Waits until the
 * socket answers. SKIPs when io_uring is unavailable.
 */
void dd_start(struct dd *d, const char *config_fmt, const struct dd_key *keys, size_t n);

/*
 * A small sealed model for the service: 6 -> 5 -> 3 with a fresh key pair,
 * written to DIR/NAME.sealed; the serialized secret key is returned
 * (malloc'd copy). Also fills the plaintext model and outputs of `n_inputs`
 * fixed inputs: exp[i*3 + k], and their output ciphertexts in vct[i].
 */
struct dd_model {
	uint8_t *sk;
	size_t sk_len;
	unsigned int n;
	double exp[16 * 3];
	uint8_t *ct[16];
	size_t ct_len[16];
	double bound;		/* documented flooding bound */
};
void dd_make_model(const char *dir, const char *name, struct dd_model *m);
void dd_model_done(struct dd_model *m);
/* The test directory (dd_start makes one if this was not called). */
void dd_mkdir(struct dd *d);
/* SIGTERM; the service must exit 0 (a seccomp kill would show here). */
void dd_stop(struct dd *d);
/* Our own cgroup v2 path (for the config's "containers"). */
const char *dd_my_cgroup(void);

int dd_connect(const struct dd *d);
/* Reads one reply frame (30 s timeout); 0, -ENODATA on EOF, or -errno. */
int dd_read_reply(int fd, uint8_t *buf, size_t cap, struct decryptd_reply *r);
/* True when the peer has closed (EOF within 5 s). */
int dd_wait_eof(int fd);
int dd_ping(int fd, uint32_t id, const char *echo, struct decryptd_reply *r, uint8_t *buf,
	    size_t cap);
size_t dd_count_fds(pid_t pid);
long dd_rss_kb(pid_t pid);

#endif
