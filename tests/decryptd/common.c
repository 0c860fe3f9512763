// SPDX-License-Identifier: GPL-2.0-only
#include "tests/decryptd/common.h"

#include <dirent.h>
#include <errno.h>
#include <keyutils.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fhe/seal.h"
#include "lib/fd.h"
#include "lib/secmem.h"
#include "lib/frame.h"
#include "tests/harness.h"

const char *dd_my_cgroup(void)
{
	static char cg[4097];

	if (decryptd_pid_cgroup(getpid(), cg, sizeof(cg)) < 0)
		SKIP("no cgroup v2 hierarchy: peers cannot be identified");
	return cg;
}

static void subst(char *out, size_t cap, const char *fmt, const char *sock, const char *dir)
{
	size_t o = 0;

	while (*fmt && o + 1 < cap) {
		if (strncmp(fmt, "@SOCK@", 6) == 0 || strncmp(fmt, "@DIR@", 5) == 0) {
			const char *v = fmt[1] == 'S' ? sock : dir;

			o += (size_t)snprintf(out + o, cap - o, "%s", v);
			fmt += fmt[1] == 'S' ? 6 : 5;
		} else {
			out[o++] = *fmt++;
		}
	}
	out[o < cap ? o : cap - 1] = '\0';
}

void dd_make_model(const char *dir, const char *name, struct dd_model *m)
{
	const unsigned int dims[] = { 6, 5, 3 };
	const char *names[] = { "fc1", "fc2" };
	struct fhe_params *p;
	struct fhe_secret_key *sk;
	struct fhe_public_key *pk;
	struct fhe_sealed *s;
	struct fhe_mlp *mlp;
	struct vjson_err e;
	char path[256], man[300];
	float scratch[18], x[6], y[3];

	memset(m, 0, sizeof(*m));
	if (fhe_params_preset(FHE_PRESET_DENSE_8192, &p) < 0 || fhe_keygen_random(p, &sk) < 0 ||
	    fhe_public_key_new(sk, &pk) < 0 || fhe_secret_key_serialize(sk, &m->sk, &m->sk_len) < 0)
		harness_fail(__FILE__, __LINE__, true, "keygen: %s", fhe_last_error());
	if (fhe_mlp_new(dims, 3, names, &mlp) < 0)
		harness_fail(__FILE__, __LINE__, true, "fhe_mlp_new");
	for (unsigned int i = 0; i < 30; i++)
		mlp->layers[0].wt[i] = (float)((int)(i * 7 % 11) - 5) / 4.0f;
	for (unsigned int i = 0; i < 15; i++)
		mlp->layers[2].wt[i] = (float)((int)(i * 5 % 9) - 4) / 3.0f;
	mlp->layers[2].b[1] = 0.5f;
	snprintf(path, sizeof(path), "%s/%s.sealed", dir, name);
	snprintf(man, sizeof(man), "%s.manifest.json", path);
	if (fhe_seal_model(mlp, "fc2", pk, "kbs:///test/fhe/m", path, man, NULL, NULL, &e) < 0 ||
	    fhe_sealed_load(path, &s, &e) < 0)
		harness_fail(__FILE__, __LINE__, true, "seal: %s", e.msg);
	m->n = 16;
	m->bound = fhe_flood_bound(NULL, s->out_scale);
	for (unsigned int i = 0; i < m->n; i++) {
		struct fhe_ciphertext **cts;
		unsigned int n;

		for (unsigned int k = 0; k < 6; k++)
			x[k] = (float)((int)((i + 1) * (k + 3) % 7) - 3) / 2.0f;
		fhe_mlp_predict(mlp, x, y, scratch);
		for (unsigned int k = 0; k < 3; k++)
			m->exp[i * 3 + k] = y[k];
		if (fhe_sealed_infer(s, x, scratch, &cts, &n) < 0 || n != 1 ||
		    fhe_ciphertext_serialize(cts[0], &m->ct[i], &m->ct_len[i]) < 0)
			harness_fail(__FILE__, __LINE__, true, "infer: %s", fhe_last_error());
		fhe_ciphertexts_free(cts, n);
	}
	fhe_sealed_free(s);
	fhe_mlp_free(mlp);
	fhe_public_key_free(pk);
	fhe_secret_key_free(sk);
	fhe_params_free(p);
}

void dd_model_done(struct dd_model *m)
{
	secmem_free(m->sk);
	for (unsigned int i = 0; i < m->n; i++)
		free(m->ct[i]);
}

void dd_start(struct dd *d, const char *config_fmt, const struct dd_key *keys, size_t n_keys)
{
	char bin[4200], text[65536];
	FILE *f;

	if (access("/proc/sys/kernel/io_uring_disabled", R_OK) == 0) {
		f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
		if (f && fgetc(f) == '2')
			SKIP("io_uring is disabled (kernel.io_uring_disabled = 2)");
		if (f)
			fclose(f);
	}
	if (!d->dir[0])
		dd_mkdir(d);
	snprintf(d->sock, sizeof(d->sock), "%s/dd.sock", d->dir);
	snprintf(d->cfg, sizeof(d->cfg), "%s/config.json", d->dir);
	subst(text, sizeof(text), config_fmt, d->sock, d->dir);
	f = fopen(d->cfg, "w");
	fputs(text, f);
	fclose(f);
	snprintf(bin, sizeof(bin), "%s/veil-decryptd", harness_builddir());

	/* a session keyring of our own, inherited by the service */
	if (keyctl_join_session_keyring(NULL) < 0)
		SKIP("cannot create a session keyring: %m");
	for (size_t i = 0; i < n_keys; i++)
		if (add_key("user", keys[i].desc, keys[i].data, keys[i].len,
			    KEY_SPEC_SESSION_KEYRING) < 0)
			harness_fail(__FILE__, __LINE__, true, "add_key '%s': %m", keys[i].desc);

	d->pid = fork();
	if (d->pid == 0) {
		execl(bin, bin, "--config", d->cfg, (char *)NULL);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		int fd = dd_connect(d), st;

		if (fd >= 0) {
			uint8_t buf[256];
			struct decryptd_reply r;
			int ret = dd_ping(fd, 0, "", &r, buf, sizeof(buf));

			close(fd);
			/* any reply: the event loop runs, so the seccomp filter is on */
			if (ret == 0)
				return;
		}
		if (waitpid(d->pid, &st, WNOHANG) == d->pid) {
			d->pid = 0;
			harness_fail(__FILE__, __LINE__, true, "veil-decryptd exited early (status %d)",
				     st);
		}
		usleep(10000);
	}
	harness_fail(__FILE__, __LINE__, true, "veil-decryptd did not listen on '%s'", d->sock);
}

void dd_mkdir(struct dd *d)
{
	snprintf(d->dir, sizeof(d->dir), "/tmp/veil-dd-XXXXXX");
	if (!mkdtemp(d->dir))
		harness_fail(__FILE__, __LINE__, true, "mkdtemp: %m");
}

void dd_stop(struct dd *d)
{
	char cmd[128];
	int st = 0;

	if (d->pid > 0) {
		kill(d->pid, SIGTERM);
		waitpid(d->pid, &st, 0);
		if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
			harness_fail(__FILE__, __LINE__, false,
				     "veil-decryptd did not exit cleanly: status 0x%x", st);
		d->pid = 0;
	}
	if (d->dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", d->dir);
		if (system(cmd) != 0)
			TH_LOG("could not remove %s", d->dir);
	}
}

int dd_connect(const struct dd *d)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { 30, 0 };	/* a loaded machine is slow, not wrong */
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return -errno;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", d->sock);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	return fd;
}

int dd_read_reply(int fd, uint8_t *buf, size_t cap, struct decryptd_reply *r)
{
	size_t len;
	int ret = frame_read(fd, buf, cap, &len);

	if (ret < 0)
		return ret;
	return decryptd_parse_reply(buf, len, r);
}

int dd_wait_eof(int fd)
{
	char c;
	ssize_t n = read(fd, &c, 1);

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

int dd_ping(int fd, uint32_t id, const char *echo, struct decryptd_reply *r, uint8_t *buf,
	    size_t cap)
{
	uint8_t *req;
	size_t len;
	int ret;

	ret = decryptd_build_ping(id, echo, strlen(echo), &req, &len);
	if (ret < 0)
		return ret;
	ret = fd_write_full(fd, req, len);
	free(req);
	if (ret < 0)
		return ret;
	return dd_read_reply(fd, buf, cap, r);
}

size_t dd_count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	size_t n = 0;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			n++;
	closedir(dir);
	return n;
}

long dd_rss_kb(pid_t pid)
{
	char path[64], line[256];
	long kb = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}
