/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * veil-decryptd: the key holder of sealed models. This header is its wire
 * protocol (shared with the `veil decrypt` client), its configuration and the
 * pieces the program is built from.
 *
 * Wire: lib/frame.h frames (4-byte big-endian length, then the payload).
 *
 *   request  u8 version(1) | u8 op | u16 reserved(0) | u32 id | body
 *     PING     body: 0..DECRYPTD_PING_MAX bytes, echoed back
 *     DECRYPT  body: u8 name_len | model name | u8 n_ct | n_ct x (u32 len | ciphertext)
 *   reply    u8 version(1) | u8 status | u16 0 | u32 id | body
 *     OK       PING: the echo; DECRYPT: u32 count | count x f64 (little endian)
 *     other    a short message (never secret data)
 *
 * Integers are big-endian on the wire except the f64 outputs. One request is
 * served at a time per connection. A protocol violation gets a reply with its
 * status and the connection is closed; the service stays up.
 */
#ifndef VEIL_FHE_DECRYPTD_H
#define VEIL_FHE_DECRYPTD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "lib/json.h"

#define DECRYPTD_VERSION 1
#define DECRYPTD_HDR_LEN 8
#define DECRYPTD_REQ_MAX (4u << 20)	/* a few output ciphertexts at N = 32768 */
#define DECRYPTD_REPLY_MAX (64u << 10)
#define DECRYPTD_PING_MAX 64
#define DECRYPTD_NAME_MAX 64
#define DECRYPTD_CT_MAX 16		/* output ciphertexts per request */
#define DECRYPTD_OUT_MAX 4096		/* outputs per reply */
#define DECRYPTD_MSG_MAX 200
#define DECRYPTD_SOCKET_DEFAULT "/run/veil/decryptd.sock"

enum decryptd_op {
	DECRYPTD_OP_PING = 1,
	DECRYPTD_OP_DECRYPT = 2,
};

enum decryptd_status {
	DECRYPTD_OK = 0,
	DECRYPTD_BUSY = 1,		/* queue full: retry later; connection stays */
	DECRYPTD_DENIED = 2,		/* caller not authorized; connection closed */
	DECRYPTD_BAD_REQUEST = 3,	/* protocol violation; connection closed */
	DECRYPTD_UNKNOWN_MODEL = 4,
	DECRYPTD_BAD_CIPHERTEXT = 5,	/* not a well-formed output of the model; closed */
	DECRYPTD_INTERNAL = 6,
};

const char *decryptd_status_name(enum decryptd_status s);

struct decryptd_request {
	uint8_t op;
	uint32_t id;
	const uint8_t *body;		/* PING: echo bytes */
	size_t body_len;
	char name[DECRYPTD_NAME_MAX + 1];	/* DECRYPT */
	unsigned int n_ct;
	const uint8_t *ct[DECRYPTD_CT_MAX];
	size_t ct_len[DECRYPTD_CT_MAX];
};

/*
 * Parses one request payload (the frame's body). Returns 0, or a negative
 * errno with a message in msg (at most DECRYPTD_MSG_MAX) and *ret_id set to
 * the request id when the header was long enough to hold one.
 */
int decryptd_parse_request(const uint8_t *p, size_t len, struct decryptd_request *ret,
			   char msg[DECRYPTD_MSG_MAX + 1]);
/* Client side: a whole frame (header included) for a request, malloc'd. */
int decryptd_build_ping(uint32_t id, const void *echo, size_t len, uint8_t **ret,
			size_t *ret_len);
int decryptd_build_decrypt(uint32_t id, const char *model, const uint8_t *const *ct,
			   const size_t *ct_len, unsigned int n_ct, uint8_t **ret, size_t *ret_len);
/* Server side: a whole reply frame into out (cap >= DECRYPTD_REPLY_MAX + 4); returns its length. */
int decryptd_build_reply(uint32_t id, enum decryptd_status st, const void *body, size_t len,
			 uint8_t *out, size_t cap);
int decryptd_build_outputs(uint32_t id, const double *y, size_t n, uint8_t *out, size_t cap);
/* Client side: parses a reply payload. Outputs (DECRYPT OK) are copied into y. */
struct decryptd_reply {
	uint8_t status;
	uint32_t id;
	const uint8_t *body;
	size_t body_len;
};
int decryptd_parse_reply(const uint8_t *p, size_t len, struct decryptd_reply *ret);
int decryptd_reply_outputs(const struct decryptd_reply *r, double *y, size_t cap,
			   size_t *ret_n);

/* ---- client ------------------------------------------------------------------ */

int decryptd_client_connect(const char *path);
/*
 * One DECRYPT round trip. Returns 0 with the outputs in y, or -EPROTO with
 * *ret_status and msg set when the service answered with an error status,
 * or another -errno.
 */
int decryptd_client_decrypt(int fd, uint32_t id, const char *model, const uint8_t *const *ct,
			    const size_t *ct_len, unsigned int n_ct, double *y, size_t cap,
			    size_t *ret_n, int *ret_status, char *msg, size_t msg_len);
/* A .vct file: n_ct x (u32 big-endian length | serialized ciphertext). */
int decryptd_vct_parse(const uint8_t *buf, size_t len, const uint8_t **ct, size_t *ct_len,
		       unsigned int *ret_n);

/* ---- configuration ----------------------------------------------------------- */

/*
 * JSON, written by veil-init (or a test):
 *   {"socket": PATH, "workers": N (0 = one per core), "queue": N,
 *    "max_connections": N, "io": "auto" | "basic", "receipts": PATH,
 *    "containers": {"/cgroup/v2/path": "container-name", ...},
 *    "models": {"NAME": {"sealed": PATH, "key": "veil:repo/type/tag",
 *                        "grant": ["container-name", ...]}}}
 * "receipts" (optional) appends one AAEL record per decryption to PATH:
 * "veil-decryptd decrypt model=NAME ct=SHA256 caller=CONTAINER time=UNIX".
 * "basic" forces the io_uring paths every kernel since 5.6 has (single-shot
 * accept and recv into connection buffers) instead of multishot accept and
 * a provided-buffer ring.
 */
#define DECRYPTD_CONFIG_MAX (1u << 20)
#define DECRYPTD_CONTAINERS_MAX 1024
#define DECRYPTD_MODELS_MAX 64
#define DECRYPTD_GRANTS_MAX 64
#define DECRYPTD_QUEUE_MAX 4096
#define DECRYPTD_WORKERS_MAX 256
#define DECRYPTD_CONN_MAX 65536

struct decryptd_container {
	char *cgroup;
	char *name;
};

struct decryptd_model {
	char *name;
	char *sealed;		/* path of the sealed model */
	char *key_desc;		/* keyring description of its secret key */
	char **grant;
	size_t n_grant;
	void *state;		/* backend: parameters, geometry, secret key */
};

struct decryptd_config {
	char *socket;
	char *receipts;		/* NULL: none */
	unsigned int workers;
	unsigned int queue;
	unsigned int max_conn;
	bool io_basic;
	struct decryptd_container *containers;
	size_t n_containers;
	struct decryptd_model *models;
	size_t n_models;
};

int decryptd_config_parse(const char *buf, size_t len, struct decryptd_config *ret,
			  struct vjson_err *e);
int decryptd_config_load(const char *path, struct decryptd_config *ret, struct vjson_err *e);
void decryptd_config_done(struct decryptd_config *c);
const struct decryptd_model *decryptd_config_model(const struct decryptd_config *c,
						   const char *name);
bool decryptd_model_granted(const struct decryptd_model *m, const char *container);

/* ---- authorization ------------------------------------------------------------- */

/*
 * The container a connected unix socket's peer belongs to: SO_PEERCRED's pid,
 * its cgroup v2 path from /proc, the config's container of that path. The
 * peer's pidfd (SO_PEERPIDFD, where the kernel has it) is checked alive after
 * /proc was read, so a recycled pid cannot borrow another's cgroup.
 * Returns the container (borrowed from c), -EACCES when its cgroup is not
 * mapped, or another -errno. ret_cgroup (may be NULL) gets the path.
 */
int decryptd_peer_container(int fd, const struct decryptd_config *c,
			    const struct decryptd_container **ret, char *ret_cgroup, size_t cg_len);
/* The cgroup v2 path of pid ("0::PATH" in /proc/PID/cgroup). */
int decryptd_pid_cgroup(pid_t pid, char *buf, size_t len);

/* ---- the decrypt operation ------------------------------------------------------- */

/*
 * The model's backend state from its sealed model and secret key (key bytes
 * are only read; the caller wipes them). decrypt writes the model's outputs,
 * noise-flooded, for the request's ciphertexts; -EBADMSG when they are not
 * well-formed output ciphertexts of that model (msg says why).
 */
int decryptd_model_load(struct decryptd_model *m, const uint8_t *key, size_t key_len,
			char msg[DECRYPTD_MSG_MAX + 1]);
void decryptd_model_unload(struct decryptd_model *m);
int decryptd_model_decrypt(const struct decryptd_model *m, const struct decryptd_request *req,
			   double *y, size_t cap, size_t *ret_n, char msg[DECRYPTD_MSG_MAX + 1]);

/* ---- process ------------------------------------------------------------------ */

/* No dumps, no core, all memory locked (mlock failure is reported, not fatal: tests). */
int decryptd_harden(bool *ret_locked);
/* no_new_privs and the syscall allowlist, on every thread (TSYNC). */
int decryptd_seccomp(void);
/* That allowlist, built (a scmp_filter_ctx; seccomp_release it), not loaded. */
int decryptd_seccomp_build(void **ret);
/* Reads key DESC (a "user" or "logon"-readable key in the session keyring) into secmem. */
int decryptd_key_read(const char *desc, uint8_t **ret, size_t *ret_len);

struct decryptd_server;
int decryptd_server_new(const struct decryptd_config *c, struct decryptd_server **ret);
/* Runs until SIGTERM/SIGINT; the seccomp filter is installed first (unless disabled). */
int decryptd_server_run(struct decryptd_server *s, bool seccomp);
void decryptd_server_free(struct decryptd_server *s);

#endif
