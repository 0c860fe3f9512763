// SPDX-License-Identifier: GPL-2.0-only
/*
 * The attack matrix from inside veil's own containers: veil-init is the real
 * PID 1 of a test-bed guest (BPF LSM active), gets two keys from a real
 * veil-kbs on the host (sample evidence, HTTPS through run-in-guest --net),
 * and starts three containers that run tests/security/attacker:
 *
 *   root  root in a user namespace (uid 0 -> 100000) with CAP_NET_RAW and
 *         CAP_SYS_ADMIN and an allow-all linux.seccomp of its own, so the BPF
 *         LSM is the only wall left: raw sockets and mounts are its to deny.
 *         Granted key a.
 *   user  uid 1000 (-> 101000), no capabilities, veil's default seccomp
 *         profile. Granted key b.
 *   net   like root, but the manifest grants it raw sockets: the positive
 *         control of the LSM's socket rule.
 *
 * One boot. It asserts each container's exact answers, that each reads its
 * own key and not the other's, that the LSM's denials reach veil-init's log
 * with the container's name, and that the isolation event veil-init records
 * is the one `veil measure --pcr --events` predicts on the host.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/launcher/util.h"
#include "tests/vm/vm.h"

#define KEY_A "key-a:0123456789"		/* 16 bytes */
#define KEY_B "key-b:0123456789abcdefgh"	/* 24 bytes */

/* The allow-all filter of 'root' and 'net' (one rule, so the profile is not empty). */
#define ALLOW_ALL_SECCOMP                                                                       \
	"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"acct\"]," \
	"\"action\":\"SCMP_ACT_ERRNO\"}]},"
#define IDMAP                                                                                    \
	"\"uidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"                \
	"\"gidMappings\":[{\"containerID\":0,\"hostID\":100000,\"size\":65536}],"
#define NAMESPACES                                                                               \
	"\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"          \
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"cgroup\"}]"
#define CAPS(c) \
	"\"capabilities\":{\"bounding\":[" c "],\"effective\":[" c "],\"permitted\":[" c "]}"

/* Attacks every container runs; 'root' and 'user' add the key reads. */
#define ATTACKS                                                                                  \
	"\"raw_socket\",\"packet_socket\",\"raw6_socket\",\"mount_tmpfs\",\"umount\","           \
	"\"move_mount\",\"bpf\",\"io_uring\",\"userfaultfd\",\"perf_event_open\","               \
	"\"open_by_handle_at\",\"add_key\",\"key_join\",\"kexec_load\",\"init_module\""

static const char root_cfg[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"/bin/attacker\"," ATTACKS ",\"veilkey=kbs:///veil/keys/a\","
	"\"veilkey=kbs:///veil/keys/b\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\"") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"root\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	"\"linux\":{" ALLOW_ALL_SECCOMP IDMAP NAMESPACES "}}";

static const char user_cfg[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":1000,\"gid\":1000},"
	"\"args\":[\"/bin/attacker\"," ATTACKS ",\"veilkey=kbs:///veil/keys/b\","
	"\"veilkey=kbs:///veil/keys/a\"],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"user\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	"\"linux\":{" IDMAP NAMESPACES "}}";

static const char net_cfg[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"/bin/attacker\",\"raw_socket\",\"packet_socket\",\"raw6_socket\"],"
	"\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("\"CAP_NET_RAW\"") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"net\","
	"\"linux\":{" ALLOW_ALL_SECCOMP IDMAP NAMESPACES "}}";

static const char manifest_fmt[] =
	"{\"version\":1,\"containers\":["
	"{\"name\":\"root\",\"bundle\":\"%s/root\",\"keys\":[\"a\"],\"order\":1},"
	"{\"name\":\"user\",\"bundle\":\"%s/user\",\"keys\":[\"b\"],\"order\":2},"
	"{\"name\":\"net\",\"bundle\":\"%s/net\",\"raw_sockets\":true,\"order\":3}],"
	"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"sample\",\"deadline_ms\":60000,"
	"\"resources\":[{\"name\":\"a\",\"uri\":\"kbs:///veil/keys/a\"},"
	"{\"name\":\"b\",\"uri\":\"kbs:///veil/keys/b\"}]},"
	"\"policy\":{\"lsm\":\"required\"},\"shutdown\":\"last-exit\",\"grace_ms\":1000}\n";

/* The guest's /init: the network the test init would set up, then veil-init as PID 1. */
static const char init_sh[] =
	"#!/bin/sh\n"
	"mount -t proc proc /proc\n"
	"while read -r m; do insmod \"$m\" || echo \"init.sh: insmod $m failed\"; done < /etc/veil/modules\n"
	"ifconfig lo 127.0.0.1 up\n"
	"ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up\n"
	"umount /proc\n"
	"exec /sbin/veil-init\n";

struct kbs {
	pid_t pid;
	char dir[300], url[128], ca[340], key[340];
};

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	if (st != 0)
		TH_LOG("command failed (%d): %s", st, cmd);
	return st;
}

/* veil-kbs on 127.0.0.1, its certificate also naming 10.0.2.100, where the guest meets it. */
static int kbs_start(struct kbs *k, const char *dir)
{
	char cfg[4096], path[1024], *port = NULL;
	size_t n;

	snprintf(k->dir, sizeof(k->dir), "%s/kbs", dir);
	snprintf(k->ca, sizeof(k->ca), "%s/tls.crt", k->dir);
	snprintf(k->key, sizeof(k->key), "%s/admin.key", k->dir);
	if (sh("mkdir -p '%s' && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
	       "-keyout '%s/tls.key' -out '%s' -days 1 -nodes -subj /CN=veil-kbs-test "
	       "-addext subjectAltName=IP:10.0.2.100,IP:127.0.0.1 >/dev/null 2>&1",
	       k->dir, k->dir, k->ca) ||
	    sh("'%s' kbs-admin keygen --private '%s' --public '%s/admin.pub'", lt_prog("veil"), k->key,
	       k->dir))
		return -1;
	snprintf(cfg, sizeof(cfg),
		 "{\"listen\":\"127.0.0.1:0\",\"state_dir\":\"%s/state\",\"threads\":2,"
		 "\"tls\":{\"certificate\":\"%s\",\"private_key\":\"%s/tls.key\"},"
		 "\"admin\":{\"public_key\":\"%s/admin.pub\"}}",
		 k->dir, k->ca, k->dir, k->dir);
	snprintf(path, sizeof(path), "%s/kbs.json", k->dir);
	if (lt_write(path, cfg) < 0)
		return -1;
	k->pid = fork();
	if (k->pid < 0)
		return -1;
	if (k->pid == 0) {
		char pf[1024], logf[1024];
		int fd;

		snprintf(pf, sizeof(pf), "%s/port", k->dir);
		snprintf(logf, sizeof(logf), "%s/kbs.log", k->dir);
		fd = open(logf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd >= 0)
			dup2(fd, 2);
		execl(lt_prog("veil-kbs"), "veil-kbs", "--config", path, "--port-file", pf, NULL);
		_exit(127);
	}
	snprintf(path, sizeof(path), "%s/port", k->dir);
	for (int i = 0; i < 1000 && !port; i++) {
		if (fd_read_file(path, 64, &port, &n) == 0)
			break;
		usleep(10000);
	}
	if (!port)
		return -1;
	snprintf(k->url, sizeof(k->url), "https://127.0.0.1:%d", atoi(port));
	free(port);
	return 0;
}

static void kbs_stop(struct kbs *k)
{
	if (k->pid > 0) {
		kill(k->pid, SIGTERM);
		waitpid(k->pid, NULL, 0);
		k->pid = 0;
	}
}

static int kbs_admin(struct kbs *k, const char *verb, const char *args)
{
	return sh("'%s' kbs-admin %s --url %s --cacert '%s' --key '%s' %s 2>>'%s/admin.log'",
		  lt_prog("veil"), verb, k->url, k->ca, k->key, args, k->dir);
}

/* A bundle: config.json, and a rootfs holding the attacker and the libraries it needs. */
static int bundle(const char *dir, const char *name, const char *cfg)
{
	char p[1024];

	snprintf(p, sizeof(p), "%s/bundles/%s/config.json", dir, name);
	if (sh("mkdir -p '%s/bundles/%s/rootfs/bin' '%s/bundles/%s/rootfs/proc' "
	       "'%s/bundles/%s/rootfs/tmp' '%s/bundles/%s/rootfs/dev'",
	       dir, name, dir, name, dir, name, dir, name) || lt_write(p, cfg) < 0)
		return -1;
	return sh("set -e; cd '%s/bundles/%s/rootfs'; cp '%s' bin/attacker; "
		  "for f in $(ldd bin/attacker | grep -o '/[^ ]*'); do "
		  "mkdir -p .$(dirname $f); cp -L $f .$f; chmod 0755 .$f; done",
		  dir, name, lt_prog("tests/security/attacker"));
}

static bool has(const char *out, const char *s)
{
	if (out && strstr(out, s))
		return true;
	TH_LOG("veil-init's console lacks '%s'", s);
	return false;
}

/* The isolation event content veil-init logged, up to its end of line. */
static char *logged_event(const char *out)
{
	const char *tag = "recorded the isolation policy: ", *p = out ? strstr(out, tag) : NULL;

	if (!p)
		return NULL;
	p += strlen(tag);
	return strndup(p, strcspn(p, "\r\n"));
}

TEST_TIMEOUT(veil_init_as_pid_1_confines_its_containers_with_the_bpf_lsm, 900)
{
	struct kbs k = { 0 };
	char dir[256], path[1024], list[400], init[400], port[16], file[1400], ca[400], *out = NULL;
	char *predicted, *event;
	int st, rc;

	if (geteuid() != 0)
		SKIP("needs root (initrd ownership, user namespaces)");
	if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
		SKIP("qemu-system-x86_64 is not installed");
	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	snprintf(dir, sizeof(dir), "%s/vm/lsm-pod", harness_builddir());
	ASSERT_EQ(0, sh("rm -rf '%s' && mkdir -p '%s'", dir, dir));
	ASSERT_EQ(0, kbs_start(&k, dir));
	snprintf(path, sizeof(path), "%s/a.key", k.dir);
	ASSERT_EQ(0, lt_write(path, KEY_A));
	snprintf(file, sizeof(file), "veil/keys/a '%s'", path);
	ASSERT_EQ(0, kbs_admin(&k, "put-resource", file));
	snprintf(path, sizeof(path), "%s/b.key", k.dir);
	ASSERT_EQ(0, lt_write(path, KEY_B));
	snprintf(file, sizeof(file), "veil/keys/b '%s'", path);
	ASSERT_EQ(0, kbs_admin(&k, "put-resource", file));
	snprintf(path, sizeof(path), "%s/policy.json", k.dir);
	ASSERT_EQ(0, lt_write(path, "{\"version\":1,\"rules\":[{\"name\":\"dev\",\"resources\":"
				    "[\"veil/keys/*\"],\"tee\":[\"sample\"]}]}"));
	snprintf(file, sizeof(file), "'%s'", path);
	ASSERT_EQ(0, kbs_admin(&k, "set-policy", file));

	ASSERT_EQ(0, bundle(dir, "root", root_cfg));
	ASSERT_EQ(0, bundle(dir, "user", user_cfg));
	ASSERT_EQ(0, bundle(dir, "net", net_cfg));
	/* The guest's manifest, and the same pod as the host sees it, for veil measure. */
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	{
		char m[4096];

		snprintf(m, sizeof(m), manifest_fmt, "/bundles", "/bundles", "/bundles",
			 "https://10.0.2.100:8080", "/etc/veil/kbs-ca.pem");
		ASSERT_EQ(0, lt_write(path, m));
		snprintf(path, sizeof(path), "%s/host-manifest.json", dir);
		snprintf(ca, sizeof(ca), "%s/bundles", dir);
		snprintf(m, sizeof(m), manifest_fmt, ca, ca, ca, k.url, k.ca);
		ASSERT_EQ(0, lt_write(path, m));
	}
	predicted = lt_sh(&st, "'%s' measure --pcr --events '%s' | sed -n 's/^isolation //p'",
			  lt_prog("veil"), path);
	ASSERT_NONNULL(predicted);
	predicted[strcspn(predicted, "\n")] = '\0';
	ASSERT_NE(0, (int)strlen(predicted));

	snprintf(list, sizeof(list), "%s/list", dir);
	ASSERT_EQ(0, sh("set -e; cd '%s'; { "
			"find bundles -type d -printf 'dir /%%p %%#m 0 0\\n'; "
			"find bundles -type f -printf 'file /%%p %s/%%p %%#m 0 0\\n'; "
			"echo 'file /etc/veil/manifest.json %s/manifest.json 0644 0 0'; "
			"echo 'file /etc/veil/kbs-ca.pem %s 0644 0 0'; } > '%s'",
			dir, dir, dir, k.ca, list));
	snprintf(init, sizeof(init), "%s/init.sh", dir);
	ASSERT_EQ(0, lt_write(init, init_sh));
	ASSERT_EQ(0, chmod(init, 0755));
	snprintf(port, sizeof(port), "%d", atoi(strrchr(k.url, ':') + 1));
	snprintf(file, sizeof(file), "%s:/sbin/veil-init", lt_prog("veil-init"));
	rc = vm_run(&out, "--init", init, "--net", port, "--list", list, "--file", file, "--marker",
		    "veil-init: powering off", "--name", "lsm-pod", "--timeout", "600", NULL);
	kbs_stop(&k);
	if (rc == 6) {
		free(out);
		SKIP("the test bed cannot boot a guest here (see the log above)");
	}
	EXPECT_EQ(0, rc);
	ASSERT_NONNULL(out);

	/* The policy went in first and its event is the one predicted offline. */
	EXPECT_TRUE(has(out, "BPF LSM policy loaded and attached"));
	EXPECT_NULL(strstr(out, "degraded"));
	event = logged_event(out);
	ASSERT_NONNULL(event);
	EXPECT_STREQ(predicted, event);
	EXPECT_NONNULL(strstr(event, "\"bpf\":\"sha256:"));
	free(event);
	free(predicted);
	EXPECT_TRUE(has(out, "attested in"));

	/* root in its user namespace, with only the LSM in the way */
	EXPECT_TRUE(has(out, "root: attacker: uid 0 euid 0"));
	EXPECT_TRUE(has(out, "root: attack raw_socket: EPERM"));
	EXPECT_TRUE(has(out, "root: attack packet_socket: EPERM"));
	EXPECT_TRUE(has(out, "root: attack raw6_socket: EPERM"));
	EXPECT_TRUE(has(out, "root: attack mount_tmpfs: EPERM"));
	EXPECT_TRUE(has(out, "root: attack umount: EPERM"));
	EXPECT_TRUE(has(out, "root: attack move_mount: EPERM"));
	EXPECT_TRUE(has(out, "root: attack bpf: EPERM"));
	EXPECT_TRUE(has(out, "root: attack kexec_load: EPERM"));
	EXPECT_TRUE(has(out, "root: attack init_module: EPERM"));
	EXPECT_TRUE(has(out, "root: attack veilkey kbs:///veil/keys/a: OK length 16"));
	EXPECT_TRUE(has(out, "root: attack veilkey kbs:///veil/keys/b: ENOKEY"));
	EXPECT_TRUE(has(out, "root: attacker: done"));
	/* the LSM said so, naming the container */
	EXPECT_TRUE(has(out, "LSM denied socket_create (family 2, type 3) to container 'root'"));
	EXPECT_TRUE(has(out, "LSM denied socket_create (family 17, type 3) to container 'root'"));
	EXPECT_TRUE(has(out, "LSM denied socket_create (family 10, type 3) to container 'root'"));
	EXPECT_TRUE(has(out, "LSM denied sb_mount (0x0) to container 'root'"));
	EXPECT_TRUE(has(out, "LSM denied sb_umount (0x2) to container 'root'"));
	EXPECT_TRUE(has(out, "LSM denied move_mount (0x0) to container 'root'"));

	/* uid 1000 under veil's default seccomp profile */
	EXPECT_TRUE(has(out, "user: attacker: uid 1000 euid 1000"));
	EXPECT_TRUE(has(out, "user: attack raw_socket: EPERM"));
	EXPECT_TRUE(has(out, "user: attack mount_tmpfs: EPERM"));
	EXPECT_TRUE(has(out, "user: attack bpf: EPERM"));
	EXPECT_TRUE(has(out, "user: attack io_uring: EPERM"));
	EXPECT_TRUE(has(out, "user: attack userfaultfd: EPERM"));
	EXPECT_TRUE(has(out, "user: attack add_key: EPERM"));
	EXPECT_TRUE(has(out, "user: attack key_join: EPERM"));
	EXPECT_TRUE(has(out, "user: attack kexec_load: SIGSYS"));
	EXPECT_TRUE(has(out, "user: attack veilkey kbs:///veil/keys/b: OK length 24"));
	EXPECT_TRUE(has(out, "user: attack veilkey kbs:///veil/keys/a: ENOKEY"));
	EXPECT_TRUE(has(out, "user: attacker: done"));
	EXPECT_NULL(strstr(out, "to container 'user'"));	/* seccomp stopped all of it first */

	/* the positive control: the grant the manifest gives 'net' */
	EXPECT_TRUE(has(out, "net: attack raw_socket: OK"));
	EXPECT_TRUE(has(out, "net: attack packet_socket: OK"));
	EXPECT_TRUE(has(out, "net: attack raw6_socket: OK"));
	EXPECT_NULL(strstr(out, "to container 'net'"));

	/* no attack worked anywhere else, and the keys never reached the log */
	EXPECT_NULL(strstr(out, "root: attack raw_socket: OK"));
	EXPECT_NULL(strstr(out, KEY_A));
	EXPECT_NULL(strstr(out, KEY_B));
	EXPECT_TRUE(has(out, "revoked 2 key(s)"));
	EXPECT_TRUE(has(out, "pod finished with status 0"));
	EXPECT_NULL(strstr(out, "emergency"));
	free(out);
	if (!getenv("VEIL_KEEP_TMP"))
		sh("rm -rf '%s'", dir);
}
