/* SPDX-License-Identifier: GPL-2.0-only */
/* Helpers for the launcher tests: busybox bundles, manifests, running veil-init --sandbox. */
#ifndef VEIL_TESTS_LAUNCHER_UTIL_H
#define VEIL_TESTS_LAUNCHER_UTIL_H

#include <stdbool.h>
#include <sys/types.h>

struct lt_run {
	pid_t pid;
	int out_fd;
	char *out;	/* everything veil-init wrote (stdout + stderr) */
	int status;	/* exit status, 128+signal, or -1 on timeout */
};

/* A scratch directory under /tmp; removed by lt_rm_rf. */
int lt_tmpdir(char dir[64]);
void lt_rm_rf(const char *dir);
/* DIR/NAME: a bundle with a busybox-static rootfs and config.json = base merged with patch. */
int lt_bundle(const char *dir, const char *name, const char *patch_json);
/* The base config.json merged with patch (a JSON object, recursively merged). malloc'd. */
char *lt_config(const char *patch_json);
int lt_write(const char *path, const char *data);
/* DIR/manifest.json holding the text given (printf-style). */
int lt_manifest(const char *dir, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Starts veil-init with args (NULL-terminated); output collected by lt_wait. */
int lt_start(struct lt_run *r, const char *const *args);
/* Waits at most timeout_s; kills on timeout. */
int lt_wait(struct lt_run *r, int timeout_s);
/* lt_start + lt_wait of `veil-init --sandbox DIR/manifest.json [extra...]`. */
int lt_sandbox(struct lt_run *r, const char *dir, int timeout_s, const char *const *extra);
void lt_run_done(struct lt_run *r);
/* What a running veil-init has printed so far (lt_wait_for appends to it). */
struct lt_tail {
	char *buf;
	size_t len, cap;
};
/* Reads r's output into t until t holds needle after offset from, or timeout_s passes. */
bool lt_wait_for(struct lt_run *r, struct lt_tail *t, size_t from, const char *needle, int timeout_s);
bool lt_have_busybox(void);
/* Path of a built program (veil-init, veil). */
const char *lt_prog(const char *name);
/* Runs a shell command, returns its stdout (malloc'd) and status. */
char *lt_sh(int *status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
