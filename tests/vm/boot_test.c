// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test bed's own tests: each boots Debian's kernel under QEMU with
 * tests/vm/run-in-guest and checks what the guest reports, or that a broken
 * guest makes the run fail.
 */
#include "tests/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/vm/pcr.h"
#include "tests/vm/vm.h"

#define BOOT_TIMEOUT 900

/*
 * Every program in Kbuild's vm-tests-y, in one guest with a vTPM. The list
 * starts with the test bed's own BPF LSM test (the skeleton denies socket
 * creation in one cgroup v2 and not in another), so it is never empty.
 */
/* Reads a space-separated list of build-tree paths written by the Makefile. */
static int read_list(const char *name, char paths[][4096], size_t max, size_t *ret_n)
{
	char p[4096], *list, *save = NULL;
	size_t len, n = 0;
	int r;

	r = fd_read_file(vm_path(p, sizeof(p), name), 65536, &list, &len);
	if (r < 0)
		return r;
	for (char *t = strtok_r(list, " \t\n", &save); t; t = strtok_r(NULL, " \t\n", &save)) {
		if (n >= max) {
			free(list);
			return -E2BIG;
		}
		vm_path(paths[n], sizeof(paths[n]), t);
		if (access(paths[n], X_OK) < 0)
			vm_src_path(paths[n], sizeof(paths[n]), t);
		n++;
	}
	free(list);
	*ret_n = n;
	return 0;
}

/*
 * Every program in Kbuild's vm-tests-y, in one minimal guest (no vTPM, no
 * network: tests that need them boot their own with vm_run), with the
 * vm-files-y helpers beside them. The list starts with the test bed's own
 * BPF LSM test (the skeleton denies socket creation in one cgroup v2 and not
 * in another), so it is never empty.
 */
TEST_TIMEOUT(vm_tests_listed_in_kbuild_pass_in_one_guest, BOOT_TIMEOUT)
{
	static char tests[24][4096], files[16][4096], file_args[16][4200];
	const char *argv[VM_MAX_ARGS + 1];
	size_t nt = 0, nf = 0, n = 0;

	ASSERT_EQ(0, read_list("tests/vm/vm-tests.list", tests, 24, &nt));
	ASSERT_EQ(0, read_list("tests/vm/vm-files.list", files, 16, &nf));
	ASSERT_GT(nt, 0);
	argv[n++] = "--name";
	argv[n++] = "vm-tests";
	/* Every area's guest tests in one boot: 32 s of CPU, 160 s at load 20. */
	argv[n++] = "--timeout";
	argv[n++] = "840";
	for (size_t i = 0; i < nf; i++) {
		const char *base = strrchr(files[i], '/') + 1;

		snprintf(file_args[i], sizeof(file_args[i]), "%.3900s:/tests/%.255s", files[i], base);
		argv[n++] = "--file";
		argv[n++] = file_args[i];
	}
	argv[n++] = "--";
	for (size_t i = 0; i < nt; i++)
		argv[n++] = tests[i];
	argv[n] = NULL;
	ASSERT_EQ(0, vm_runv(NULL, argv));
}

TEST_TIMEOUT(bpf_lsm_skeleton_works_on_the_6_12_cloud_kernel, BOOT_TIMEOUT)
{
	char p[4096];

	char *out = NULL;

	/* virtio_net and its dependencies are .ko.xz there: they must load too. */
	ASSERT_EQ(0, vm_run(&out, "--kernel", "6.12", "--module", "virtio_net", "--name",
			    "lsm-6.12", "--", vm_path(p, sizeof(p), "tests/vm/guest/lsm_test"),
			    NULL));
	EXPECT_NONNULL(strstr(out, "modules loaded, 0 failed"));
	EXPECT_NULL(strstr(out, "# guest-init: 0 modules loaded"));
	free(out);
}

TEST_TIMEOUT(custom_init_and_extra_files_replace_the_test_init, BOOT_TIMEOUT)
{
	char init[4096], extra[4096], file[4200], *out = NULL;

	vm_src_path(init, sizeof(init), "tests/vm/guest/custom-init.sh");
	vm_src_path(extra, sizeof(extra), "tests/vm/guest/extra.txt");
	snprintf(file, sizeof(file), "%s:/etc/veil/extra.txt", extra);
	ASSERT_EQ(0, vm_run(&out, "--init", init, "--file", file, "--marker", "CUSTOM-INIT-DONE",
			    "--name", "custom-init", NULL));
	EXPECT_NONNULL(strstr(out, "custom init read: extra file for the test bed"));
	free(out);
}

TEST_TIMEOUT(pcr23_extend_in_guest_equals_host_computation, BOOT_TIMEOUT)
{
	uint8_t buf[64], want[32];
	char p[4096], hex[65], *out = NULL, *at;
	unsigned int n;

	memset(buf, 0, 32);
	memcpy(buf + 32, PCR_TEST_DIGEST, 32);
	ASSERT_EQ(1, EVP_Digest(buf, sizeof(buf), want, &n, EVP_sha256(), NULL));
	for (int i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", want[i]);
	ASSERT_EQ(0, vm_run(&out, "--tpm", "--name", "tpm", "--",
			    vm_path(p, sizeof(p), "tests/vm/guest/tpm_test"), NULL));
	at = strstr(out, "# pcr23=");
	ASSERT_NONNULL(at);
	EXPECT_EQ(0, strncmp(at + 8, hex, 64));
	TH_LOG("host computed %s", hex);
	free(out);
}

/* A loopback HTTP server in a child: answers every request with body. */
static pid_t serve(const char *body, int *ret_port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	pid_t pid;

	if (ls < 0 || bind(ls, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(ls, 8) < 0 ||
	    getsockname(ls, (struct sockaddr *)&sa, &sl) < 0)
		return -1;
	*ret_port = ntohs(sa.sin_port);
	pid = fork();
	if (pid != 0) {
		close(ls);
		return pid;
	}
	for (;;) {
		char req[4096], rsp[512];
		size_t have = 0;
		int c = accept4(ls, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		while (have < sizeof(req) - 1) {
			ssize_t r = read(c, req + have, sizeof(req) - 1 - have);

			if (r <= 0)
				break;
			have += r;
			req[have] = '\0';
			if (strstr(req, "\r\n\r\n"))
				break;
		}
		snprintf(rsp, sizeof(rsp),
			 "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			 "Connection: close\r\n\r\n%s", strlen(body), body);
		fd_write_full(c, rsp, strlen(rsp));
		close(c);
	}
}

TEST_TIMEOUT(guest_reads_host_loopback_http_by_content_length, BOOT_TIMEOUT)
{
	char p[4096], port_s[16], token[40], want[64], *out = NULL;
	uint8_t rnd[16];
	int port = 0, rc;
	pid_t srv;

	ASSERT_EQ(16, getrandom(rnd, sizeof(rnd), 0));
	for (int i = 0; i < 16; i++)
		sprintf(token + 2 * i, "%02x", rnd[i]);
	srv = serve(token, &port);
	ASSERT_GT(srv, 0);
	snprintf(port_s, sizeof(port_s), "%d", port);
	rc = vm_run(&out, "--net", port_s, "--name", "http", "--",
		    vm_path(p, sizeof(p), "tests/vm/guest/http_test"), NULL);
	kill(srv, SIGKILL);
	waitpid(srv, NULL, 0);
	ASSERT_EQ(0, rc);
	snprintf(want, sizeof(want), "# body=%s\n", token);
	EXPECT_NONNULL(strstr(out, want));
	free(out);
}

TEST_TIMEOUT(guest_kernel_panic_fails_the_run, BOOT_TIMEOUT)
{
	char p[4096], *out = NULL;

	EXPECT_EQ(2, vm_run(&out, "--name", "panic", "--",
			    vm_src_path(p, sizeof(p), "tests/vm/guest/panic.sh"), NULL));
	EXPECT_NONNULL(strstr(out, "panicked"));
	free(out);
}

TEST_TIMEOUT(failing_guest_program_fails_the_run, BOOT_TIMEOUT)
{
	char p[4096], *out = NULL;

	EXPECT_EQ(1, vm_run(&out, "--name", "fail", "--",
			    vm_src_path(p, sizeof(p), "tests/vm/guest/fail.sh"), NULL));
	EXPECT_NONNULL(strstr(out, "not ok 1 fail.sh"));
	free(out);
}

TEST_TIMEOUT(hung_guest_is_stopped_at_the_timeout, BOOT_TIMEOUT)
{
	/* busybox sleep as the test program outlives a 3 s limit. */
	EXPECT_EQ(3, vm_run(NULL, "--name", "timeout", "--timeout", "3", "--",
			    "/bin/busybox sleep 600", NULL));
}

static int slurp(const char *path, char **buf, size_t *len)
{
	return fd_read_file(path, 64u << 20, buf, len);
}

TEST_TIMEOUT(initrd_builds_of_one_list_are_byte_identical, BOOT_TIMEOUT)
{
	char a[4096], b[4096], p[4096], cmd[8300], *x, *y;
	size_t xl, yl;

	for (int gz = 0; gz < 2; gz++) {
		vm_path(a, sizeof(a), gz ? "vm/repro-a.cpio.gz" : "vm/repro-a.cpio");
		vm_path(b, sizeof(b), gz ? "vm/repro-b.cpio.gz" : "vm/repro-b.cpio");
		vm_path(p, sizeof(p), "tests/vm/guest/lsm_test");
		if (gz) {
			ASSERT_EQ(0, vm_run(NULL, "--initrd-only", a, "--gzip", "--", p, NULL));
			ASSERT_EQ(0, vm_run(NULL, "--initrd-only", b, "--gzip", "--", p, NULL));
		} else {
			ASSERT_EQ(0, vm_run(NULL, "--initrd-only", a, "--", p, NULL));
			ASSERT_EQ(0, vm_run(NULL, "--initrd-only", b, "--", p, NULL));
		}
		ASSERT_EQ(0, slurp(a, &x, &xl));
		ASSERT_EQ(0, slurp(b, &y, &yl));
		ASSERT_EQ(xl, yl);
		EXPECT_MEMEQ(x, y, xl);
		free(x);
		free(y);
	}
	/* GNU cpio, a peer reader, lists what the list asked for. */
	snprintf(cmd, sizeof(cmd), "zcat '%s' | cpio -it --quiet | grep -qx tests/lsm_test", b);
	EXPECT_EQ(0, system(cmd));
	unlink(a);
	unlink(b);
}
