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
 * and veil-decryptd serving a sealed model to a fourth container:
 *
 *   client  like 'user', granted model m: decrypts through the service's
 *           socket until served, until the service is gone, until it is
 *           served again, until it is gone again, and checks that it stays
 *           gone (attacker decrypt_restart). veil-decryptd's FHE key is the
 *           third key from the KBS.
 *
 * The guest's /sbin/veil-decryptd is a wrapper (dd_wrapper below) that runs
 * in the service's cgroup with its credentials, before the service installs
 * its own seccomp filter: it attacks from there (the LSM must deny by the
 * name veil-decryptd), and on the first start it kills the service after
 * its first decryption, so that veil-init restarts it under the policy that
 * sealed its cgroup at the first exec (docs/threat-model.md). Once the
 * client has been served again, the test changes the KBS policy: the next
 * re-attestation fails, veil-init kills the service and never restarts it.
 *
 * One boot. 'root' and 'user' run the matrix below (every attack of
 * attack.c that applies from inside a container, plus its controls); the
 * test asserts each exact answer, that each reads its own key and not the
 * other's, that every LSM denial the matrix expects reaches veil-init's log
 * with the container's name and that the LSM logs no other, and that the
 * isolation event veil-init records is the one `veil measure --pcr --events`
 * predicts on the host. The bundles carry device nodes under /devices (a
 * TPM, a loop block device, /dev/mem, /dev/kmsg), since veil gives each
 * container a /dev of its own.
 */
#include "tests/harness.h"

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lib/fd.h"
#include "tests/decryptd/common.h"
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

/*
 * The matrix. One row per attack: the attacker's spec ("@own"/"@other" stand
 * for the container's own key and the other container's), the exact answer
 * in 'root' and in 'user' (NULL: not run there, see the comment), the layer
 * that answers, and for 'root' the hook whose denial veil-init must log with
 * "to container 'root'" (NULL: no LSM denial, another layer answered first).
 *
 * Not here, because they cannot apply from inside a veil-init container:
 * kill, kill_pid1, sigcont, tgkill_pid1, pidfd_signal, ptrace_pid1,
 * ptrace_traceme, proc_mem, proc_environ, proc1_mem, proc1_environ and
 * process_vm_readv aim at a pid, and a container has its own pid namespace:
 * veil-init and veil-decryptd have no pid in it (pid 1 there is the
 * attacker itself), so the pid namespace is the wall and the LSM's
 * task_kill/ptrace rules are asserted by attack_test and isolation_test,
 * whose test process plays veil's part. kill and ptrace of the attacker's
 * own parent stay as controls: the LSM allows them within one cgroup. The
 * reads of the other container's key by serial (key_read, key_describe)
 * need a serial the attacker cannot learn: ENOKEY from libveilkey and
 * key_search is what it gets.
 */
static const struct row {
	const char *spec;
	const char *root, *user;
	const char *layer;
	const char *lsm;
} matrix[] = {
	/* the kernel */
	{ "bpf", "EPERM", "EPERM", "sysctl unprivileged_bpf_disabled/seccomp (+LSM)", NULL },
	{ "perf_event_open", "EACCES", "EPERM", "sysctl perf_event_paranoid/seccomp (+LSM)", NULL },
	{ "init_module", "EPERM", "SIGSYS", "capability/seccomp", NULL },
	{ "finit_module", "EPERM", "SIGSYS", "capability/seccomp", NULL },
	{ "kexec_load", "EPERM", "SIGSYS", "capability/seccomp", NULL },
	{ "kexec_file_load", "EPERM", "SIGSYS", "capability/seccomp", NULL },
	{ "io_uring", "OK", "EPERM", "seccomp (root: own filter allows it)", NULL },
	{ "userfaultfd", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "open_by_handle_at", "EPERM", "EPERM", "capability/seccomp", NULL },
	/* mounts and namespaces */
	{ "mount_private", "EPERM", "EPERM", "seccomp+LSM", "LSM denied sb_mount" },
	{ "mount_tmpfs", "EPERM", "EPERM", "seccomp+LSM", "LSM denied sb_mount" },
	{ "umount", "EPERM", "EPERM", "seccomp+LSM", "LSM denied sb_umount" },
	{ "pivot_root", "EPERM", "EPERM", "seccomp+LSM", "LSM denied sb_pivotroot" },
	{ "move_mount", "EPERM", "EPERM", "seccomp+LSM", "LSM denied move_mount" },
	{ "chroot_escape", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "userns", "EPERM", "EPERM", "seccomp+LSM", "LSM denied userns_create" },
	{ "setns_pid1", "EPERM", "EPERM", "capability (no CAP_SYS_CHROOT)/seccomp", NULL },
	/* network */
	{ "raw_socket", "EPERM", "EPERM", "seccomp+LSM", "LSM denied socket_create (family 2, type 3)" },
	{ "raw6_socket", "EPERM", "EPERM", "seccomp+LSM", "LSM denied socket_create (family 10, type 3)" },
	{ "packet_socket", "EPERM", "EPERM", "seccomp+LSM",
	  "LSM denied socket_create (family 17, type 3)" },
	/* devices and kernel files (nodes the bundle carries under /devices) */
	{ "open=/devices/tpm0", "EPERM", "EPERM", "LSM", "LSM denied file_open (char device 10:224)" },
	{ "open=/devices/loop0", "EPERM", "EPERM", "LSM", "LSM denied file_open (block device 7:0)" },
	{ "open=/devices/mem", "EACCES", "EACCES", "userns+LSM", NULL },
	{ "open_write=/devices/kmsg", "EACCES", "EACCES", "userns+LSM", NULL },
	{ "kcore", "EACCES", "EACCES", "userns+LSM", NULL },
	{ "securityfs", "ENOENT", "ENOENT", "mount ns+LSM", NULL },
	/* /sys/fs/bpf is sysfs's empty mount point: no bpffs in the container */
	{ "bpffs", "OK", "OK", "mount ns", NULL },
	{ "sysfs_write", "EACCES", "EACCES", "userns", NULL },
	{ "cgroup_write", "ENOENT", "ENOENT", "mount ns (veil mounts no cgroupfs)", NULL },
	{ "sysrq", "EACCES", "EACCES", "userns", NULL },
	{ "sysctl_write", "EACCES", "EACCES", "userns", NULL },
	{ "open_write=/proc/sys/kernel/core_pattern", "EACCES", "EACCES", "userns", NULL },
	{ "open_write=/proc/sys/kernel/modprobe", "EACCES", "EACCES", "userns", NULL },
	{ "open=/devices/kmsg", "EPERM", "EPERM", "LSM", "LSM denied file_open (char device 1:11)" },
	/* privileges of the initial user namespace */
	{ "reboot", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "clock_settime", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "swapon", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "ioperm", "EPERM", "SIGSYS", "capability/seccomp", NULL },
	{ "syslog", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "mknod", "EPERM", "EPERM", "capability/seccomp", NULL },
	{ "acct", "EPERM", "EPERM", "seccomp", NULL },
	{ "setuid0", "OK", "EPERM", "capability (root: it is uid 0 already)", NULL },
	{ "capset", "EPERM", "EPERM", "capability", NULL },
	/* keys */
	{ "key_search=veil:veil/keys/@other", "ENOKEY", "ENOKEY", "keyring", NULL },
	{ "key_setperm=kbs:///veil/keys/@own", "EACCES", "EPERM", "keyring/seccomp (+LSM)", NULL },
	{ "key_setperm=-3", "EACCES", "EPERM", "keyring/seccomp (+LSM)", NULL },
	{ "key_link=kbs:///veil/keys/@own", "EPERM", "EPERM", "seccomp+LSM", "LSM denied key_permission" },
	{ "key_revoke=kbs:///veil/keys/@own", "EACCES", "EPERM", "keyring/seccomp (+LSM)", NULL },
	/* the LSM cannot tell invalidate from search (threat-model.md): only seccomp stops it */
	{ "key_invalidate=kbs:///veil/keys/@own", NULL, "EPERM", "seccomp", NULL },
	{ "key_join", "OK", "EPERM", "seccomp (root: a fresh session drops its grants)", NULL },
	{ "add_key", "OK", "EPERM", "seccomp (root: its own session only)", NULL },
	/* positive controls: allowed to both */
	{ "open=/bin/attacker", "OK", "OK", "-", NULL },
	{ "key_read=kbs:///veil/keys/@own", "OK", "OK", "-", NULL },
	{ "key_describe=kbs:///veil/keys/@own", "OK", "OK", "-", NULL },
	{ "key_search=veil:veil/keys/@own", "OK", "OK", "-", NULL },
	{ "kill", "OK", "OK", "- (own parent, same cgroup)", NULL },
	{ "ptrace", "OK", "EPERM", "seccomp (root: own parent, same cgroup)", NULL },
};

#define N_MATRIX (sizeof(matrix) / sizeof(matrix[0]))

/* spec with @own/@other replaced by the container's key and the other's */
static void expand(const char *spec, char own, char other, char *buf, size_t len)
{
	size_t o = 0;

	for (const char *p = spec; *p && o + 1 < len; p++) {
		if (!strncmp(p, "@own", 4)) {
			buf[o++] = own;
			p += 3;
		} else if (!strncmp(p, "@other", 6)) {
			buf[o++] = other;
			p += 5;
		} else {
			buf[o++] = *p;
		}
	}
	buf[o] = '\0';
}

/* the JSON args of a container: its attacks, then the two veilkey reads */
static void args_of(bool root, char *buf, size_t len)
{
	char own = root ? 'a' : 'b', other = root ? 'b' : 'a', spec[128];
	size_t o = 0;

	for (size_t i = 0; i < N_MATRIX; i++) {
		if (!(root ? matrix[i].root : matrix[i].user))
			continue;
		expand(matrix[i].spec, own, other, spec, sizeof(spec));
		o += (size_t)snprintf(buf + o, len - o, "\"%s\",", spec);
	}
	snprintf(buf + o, len - o, "\"veilkey=kbs:///veil/keys/%c\",\"veilkey=kbs:///veil/keys/%c\"",
		 own, other);
}

#define MOUNTS                                                                                   \
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"         \
	"{\"destination\":\"/tmp\",\"type\":\"tmpfs\",\"source\":\"tmpfs\"},"                    \
	"{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\"}],"

/* %s: the attacker's arguments (args_of) */
static const char root_fmt[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"/bin/attacker\",%s],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("\"CAP_NET_RAW\",\"CAP_SYS_ADMIN\"") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"root\"," MOUNTS
	"\"linux\":{" ALLOW_ALL_SECCOMP IDMAP NAMESPACES "}}";

static const char user_fmt[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":1000,\"gid\":1000},"
	"\"args\":[\"/bin/attacker\",%s],\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"user\"," MOUNTS
	"\"linux\":{" IDMAP NAMESPACES "}}";

static const char net_cfg[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"/bin/attacker\",\"raw_socket\",\"packet_socket\",\"raw6_socket\"],"
	"\"env\":[\"PATH=/bin\"],\"cwd\":\"/\","
	"\"noNewPrivileges\":true," CAPS("\"CAP_NET_RAW\"") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"net\","
	"\"linux\":{" ALLOW_ALL_SECCOMP IDMAP NAMESPACES "}}";

static const char client_cfg[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":1000,\"gid\":1000},"
	"\"args\":[\"/bin/attacker\",\"decrypt_restart=m:/data/0.vct\"],\"env\":[\"PATH=/bin\"],"
	"\"cwd\":\"/\",\"noNewPrivileges\":true," CAPS("") "},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"client\","
	"\"linux\":{" IDMAP NAMESPACES "}}";

/*
 * %s: bundles x4, KBS url, its CA, the sealed model. veil-decryptd restarts
 * after 3 s, so that the client sees it gone. Re-attestation every 4 s: the
 * test withdraws the FHE key's policy once the client was served again.
 */
static const char manifest_fmt[] =
	"{\"version\":1,\"containers\":["
	"{\"name\":\"root\",\"bundle\":\"%s/root\",\"keys\":[\"a\"],\"order\":1},"
	"{\"name\":\"user\",\"bundle\":\"%s/user\",\"keys\":[\"b\"],\"order\":2},"
	"{\"name\":\"net\",\"bundle\":\"%s/net\",\"raw_sockets\":true,\"order\":3},"
	"{\"name\":\"client\",\"bundle\":\"%s/client\",\"order\":4}],"
	"\"kbs\":{\"url\":\"%s\",\"ca\":\"%s\",\"tee\":\"sample\",\"deadline_ms\":60000,"
	"\"reattest_s\":4,"
	"\"resources\":[{\"name\":\"a\",\"uri\":\"kbs:///veil/keys/a\"},"
	"{\"name\":\"b\",\"uri\":\"kbs:///veil/keys/b\"},"
	"{\"name\":\"fhe\",\"uri\":\"kbs:///veil/fhe/m\"}]},"
	"\"decryptd\":{\"enabled\":true,\"key\":\"fhe\",\"workers\":1,\"receipts\":true,"
	"\"restart\":\"on-failure\",\"backoff_ms\":3000,"
	"\"models\":[{\"name\":\"m\",\"sealed\":\"%s\",\"grant\":[\"client\"]}]},"
	"\"policy\":{\"lsm\":\"required\"},\"shutdown\":\"last-exit\",\"grace_ms\":1000}\n";

/*
 * The guest's /sbin/veil-decryptd: veil-init starts it as it starts the
 * service (its cgroup, namespaces, read-only file system, CAP_IPC_LOCK only,
 * no_new_privs, its key ring), so what it tries here the LSM judges as
 * veil-decryptd. Then the real service; on the first start a helper in the
 * same cgroup kills it a second after its first receipt (decryption). Not a
 * background job of the shell: everything is nodev there, and ash would give
 * one /dev/null as stdin.
 */
#define DD_ATTACKS                                                                              \
	"raw_socket userns kill_pid1 mount_tmpfs key_search=veil:veil/keys/a "                  \
	"key_read=kbs:///veil/fhe/m key_link=kbs:///veil/fhe/m"
static const char dd_wrapper[] =
	"#!/bin/sh\n"
	"s=/run/veil-decryptd/starts\n"
	"n=0; [ -e $s ] && n=$(cat $s)\n"
	"n=$((n + 1))\n"
	"echo $n > $s\n"
	"/sbin/dd-attacker " DD_ATTACKS " 2>&1 | while read -r l; do echo \"veil-decryptd[$n]: $l\"; done\n"
	"[ $n = 1 ] && /sbin/dd-attacker kill_after_receipt=$$:/run/veil-decryptd/receipts\n"
	"exec /sbin/veil-decryptd.bin \"$@\"\n";

/* What the wrapper's attacks get: exact answer, and the LSM denial logged (NULL: none). */
static const struct {
	const char *spec, *want, *lsm;
} dd_matrix[] = {
	{ "raw_socket", "EPERM", "LSM denied socket_create (family 2, type 3)" },
	{ "userns", "EPERM", "LSM denied userns_create" },
	{ "kill_pid1", "EPERM", "LSM denied task_kill" },
	{ "key_link=kbs:///veil/fhe/m", "EPERM", "LSM denied key_permission" },
	/* no CAP_SYS_ADMIN: refused before the LSM is asked */
	{ "mount_tmpfs", "EPERM", NULL },
	/* another container's key is not in its keyring at all */
	{ "key_search=veil:veil/keys/a", "ENOKEY", NULL },
	/* the positive control: its own key, granted */
	{ "key_read=kbs:///veil/fhe/m", "OK", NULL },
};

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
	       "'%s/bundles/%s/rootfs/tmp' '%s/bundles/%s/rootfs/dev' '%s/bundles/%s/rootfs/sys' "
	       "'%s/bundles/%s/rootfs/devices'",
	       dir, name, dir, name, dir, name, dir, name, dir, name, dir, name) || lt_write(p, cfg) < 0)
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

/* A line of veil-init's log with both "HOOK..." and "to container 'NAME'". */
static bool lsm_logged(const char *out, const char *hook, const char *name)
{
	char who[64];

	snprintf(who, sizeof(who), "to container '%s'", name);
	for (const char *p = out; p && (p = strstr(p, hook)); p++) {
		size_t n = strcspn(p, "\r\n");
		const char *w = strstr(p, who);

		if (w && (size_t)(w - p) < n)
			return true;
	}
	TH_LOG("veil-init's log lacks '%s ... %s'", hook, who);
	return false;
}

/*
 * LSM denials logged for container NAME that no matrix row expects (for
 * 'user', only the rows the LSM alone answers: seccomp stops the rest first).
 */
static int unexpected_denials(const char *out, const char *name, bool only_lsm_rows)
{
	char who[64];
	int bad = 0;

	snprintf(who, sizeof(who), "to container '%s'", name);
	for (const char *p = out; p && (p = strstr(p, "LSM denied ")); p++) {
		size_t n = strcspn(p, "\r\n");
		const char *w = strstr(p, who);
		bool ok = false;

		if (!w || (size_t)(w - p) >= n)
			continue;
		for (size_t i = 0; i < N_MATRIX && !ok && strcmp(name, "veil-decryptd"); i++)
			if (matrix[i].lsm && (!only_lsm_rows || !strcmp(matrix[i].layer, "LSM")) &&
			    !strncmp(p, matrix[i].lsm, strlen(matrix[i].lsm)))
				ok = true;
		for (size_t i = 0; i < sizeof(dd_matrix) / sizeof(dd_matrix[0]) && !ok &&
				   !strcmp(name, "veil-decryptd"); i++)
			if (dd_matrix[i].lsm && !strncmp(p, dd_matrix[i].lsm, strlen(dd_matrix[i].lsm)))
				ok = true;
		if (!ok) {
			TH_LOG("unexpected: %.*s", (int)n, p);
			bad++;
		}
	}
	return bad;
}

/* How many lines of the log hold both s and t. */
static int count_lines(const char *out, const char *s, const char *t)
{
	int n = 0;

	for (const char *p = out; p && (p = strstr(p, s)); p++) {
		const char *bol = p, *eol = p + strcspn(p, "\r\n");

		while (bol > out && bol[-1] != '\n')
			bol--;
		for (const char *q = bol; q && (q = strstr(q, t)) && q < eol; q++) {
			n++;
			break;
		}
		p = eol;
		if (!*p)
			break;
	}
	return n;
}

/* The outputs on the client's line "client: decrypt m: WHAT (y0 y1 y2)", within the bound. */
static bool client_served(const char *out, const char *what, const struct dd_model *m)
{
	char pat[96];
	const char *p;
	double y[3];

	snprintf(pat, sizeof(pat), "client: decrypt m: %s (", what);
	p = out ? strstr(out, pat) : NULL;
	if (!p || sscanf(p + strlen(pat), "%lf %lf %lf", &y[0], &y[1], &y[2]) != 3) {
		TH_LOG("veil-init's console lacks '%s...'", pat);
		return false;
	}
	for (int k = 0; k < 3; k++)
		if (fabs(y[k] - m->exp[k]) > 5e-5 + m->bound) {
			TH_LOG("%s: output %d is %.6f, expected %.6f", what, k, y[k], m->exp[k]);
			return false;
		}
	return true;
}

/* The first output ciphertext as a .vct file (u32 big-endian length, bytes). */
static int write_vct(const char *path, const struct dd_model *m)
{
	size_t n = m->ct_len[0];
	uint8_t *buf = malloc(4 + n);
	int r;

	if (!buf)
		return -ENOMEM;
	buf[0] = (uint8_t)(n >> 24);
	buf[1] = (uint8_t)(n >> 16);
	buf[2] = (uint8_t)(n >> 8);
	buf[3] = (uint8_t)n;
	memcpy(buf + 4, m->ct[0], n);
	r = fd_write_file_atomic(path, buf, 4 + n, 0644);
	free(buf);
	return r;
}

/*
 * A helper that watches the guest's console log and, once the client has
 * been served by the restarted service and 'root' and 'user' are done,
 * withdraws the FHE key from the KBS policy (the next re-attestation fails).
 * Exits 0 when it did, 2 when it never saw the moment.
 */
static pid_t deny_fhe_later(struct kbs *k, const char *log, const char *policy)
{
	pid_t pid = fork();

	if (pid != 0)
		return pid;
	for (int i = 0; i < 9000; i++) {
		char *buf = NULL;
		size_t n;
		bool now = fd_read_file(log, VM_OUTPUT_MAX, &buf, &n) == 0 &&
			   strstr(buf, "client: decrypt m: served again (") &&
			   strstr(buf, "root: attacker: done") && strstr(buf, "user: attacker: done");

		free(buf);
		if (now)
			_exit(kbs_admin(k, "set-policy", policy) ? 1 : 0);
		usleep(100000);
	}
	_exit(2);
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
	struct dd_model model;
	char dir[256], path[1024], list[400], init[400], port[16], file[1400], ca[400], *out = NULL;
	char *predicted, *event, args[4096], cfg[8192], ddbin[1100], ddatt[1100], sealed[400];
	char deny[1100], log[400];
	pid_t watcher;
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
	/* The sealed model veil-decryptd serves; its secret key goes to the KBS only. */
	dd_make_model(dir, "m", &model);
	snprintf(sealed, sizeof(sealed), "%s/m.sealed", dir);
	snprintf(path, sizeof(path), "%s/sk", k.dir);
	ASSERT_EQ(0, fd_write_file_atomic(path, model.sk, model.sk_len, 0600));
	snprintf(file, sizeof(file), "veil/fhe/m '%s'", path);
	ASSERT_EQ(0, kbs_admin(&k, "put-resource", file));
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.json", k.dir);
	ASSERT_EQ(0, lt_write(path, "{\"version\":1,\"rules\":[{\"name\":\"dev\",\"resources\":"
				    "[\"veil/keys/*\",\"veil/fhe/*\"],\"tee\":[\"sample\"]}]}"));
	snprintf(file, sizeof(file), "'%s'", path);
	ASSERT_EQ(0, kbs_admin(&k, "set-policy", file));
	/* what the owner sets later: the keys, and no longer the FHE key */
	snprintf(path, sizeof(path), "%s/deny-fhe.json", k.dir);
	ASSERT_EQ(0, lt_write(path, "{\"version\":1,\"rules\":[{\"name\":\"dev\",\"resources\":"
				    "[\"veil/keys/*\"],\"tee\":[\"sample\"]}]}"));
	snprintf(deny, sizeof(deny), "'%s'", path);

	args_of(true, args, sizeof(args));
	snprintf(cfg, sizeof(cfg), root_fmt, args);
	ASSERT_EQ(0, bundle(dir, "root", cfg));
	args_of(false, args, sizeof(args));
	snprintf(cfg, sizeof(cfg), user_fmt, args);
	ASSERT_EQ(0, bundle(dir, "user", cfg));
	ASSERT_EQ(0, bundle(dir, "net", net_cfg));
	ASSERT_EQ(0, bundle(dir, "client", client_cfg));
	ASSERT_EQ(0, sh("mkdir -p '%s/bundles/client/rootfs/run/veil' '%s/bundles/client/rootfs/data'",
			dir, dir));
	snprintf(path, sizeof(path), "%s/bundles/client/rootfs/data/0.vct", dir);
	ASSERT_EQ(0, write_vct(path, &model));
	snprintf(path, sizeof(path), "%s/dd-wrapper", dir);
	ASSERT_EQ(0, lt_write(path, dd_wrapper));
	/* The guest's manifest, and the same pod as the host sees it, for veil measure. */
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	{
		char m[4096];

		snprintf(m, sizeof(m), manifest_fmt, "/bundles", "/bundles", "/bundles", "/bundles",
			 "https://10.0.2.100:8080", "/etc/veil/kbs-ca.pem", "/models/m.sealed");
		ASSERT_EQ(0, lt_write(path, m));
		snprintf(path, sizeof(path), "%s/host-manifest.json", dir);
		snprintf(ca, sizeof(ca), "%s/bundles", dir);
		snprintf(m, sizeof(m), manifest_fmt, ca, ca, ca, ca, k.url, k.ca, sealed);
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
			"echo 'file /etc/veil/kbs-ca.pem %s 0644 0 0'; "
			"echo 'file /sbin/veil-decryptd %s/dd-wrapper 0755 0 0'; "
			"echo 'file /models/m.sealed %s/m.sealed 0644 0 0'; "
			"for c in root user; do d=/bundles/$c/rootfs/devices; "
			"echo \"nod $d/tpm0 0666 0 0 c 10 224\"; echo \"nod $d/loop0 0666 0 0 b 7 0\"; "
			"echo \"nod $d/mem 0640 0 0 c 1 1\"; echo \"nod $d/kmsg 0644 0 0 c 1 11\"; "
			"done; } > '%s'",
			dir, dir, dir, k.ca, dir, dir, list));
	snprintf(init, sizeof(init), "%s/init.sh", dir);
	ASSERT_EQ(0, lt_write(init, init_sh));
	ASSERT_EQ(0, chmod(init, 0755));
	snprintf(port, sizeof(port), "%d", atoi(strrchr(k.url, ':') + 1));
	snprintf(file, sizeof(file), "%s:/sbin/veil-init", lt_prog("veil-init"));
	snprintf(ddbin, sizeof(ddbin), "%s:/sbin/veil-decryptd.bin", lt_prog("veil-decryptd"));
	snprintf(ddatt, sizeof(ddatt), "%s:/sbin/dd-attacker", lt_prog("tests/security/attacker"));
	/* the runner's console log (tests/vm/run-in-guest), not one of an earlier run */
	snprintf(log, sizeof(log), "%s/vm/logs/lsm-pod.log", harness_builddir());
	unlink(log);
	watcher = deny_fhe_later(&k, log, deny);
	ASSERT_GT(watcher, 0);
	rc = vm_run(&out, "--init", init, "--net", port, "--list", list, "--file", file, "--file",
		    ddbin, "--file", ddatt, "--marker", "veil-init: powering off", "--name", "lsm-pod",
		    "--timeout", "600", NULL);
	kill(watcher, SIGKILL);
	waitpid(watcher, &st, 0);
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
	EXPECT_NONNULL(strstr(event, "\"decryptd\":{\"keys\":[\"kbs:///veil/fhe/m\"],"
				     "\"name\":\"veil-decryptd\",\"raw_sockets\":false,"));
	free(event);
	free(predicted);
	EXPECT_TRUE(has(out, "attested in"));

	/* the matrix: each answer exact, and each LSM denial logged under the container's name */
	{
		int n_root = 0, n_user = 0, d_root = 0, d_user = 0, n_lsm = 0;

		EXPECT_TRUE(has(out, "root: attacker: uid 0 euid 0"));
		EXPECT_TRUE(has(out, "user: attacker: uid 1000 euid 1000"));
		for (size_t i = 0; i < N_MATRIX; i++) {
			const struct row *r = &matrix[i];
			char spec[128], line[256];

			if (r->root) {
				expand(r->spec, 'a', 'b', spec, sizeof(spec));
				snprintf(line, sizeof(line), "root: attack %s: %s", spec, r->root);
				EXPECT_TRUE(has(out, line));
				n_root++;
				d_root += strcmp(r->root, "OK") != 0;
			}
			if (r->user) {
				expand(r->spec, 'b', 'a', spec, sizeof(spec));
				snprintf(line, sizeof(line), "user: attack %s: %s", spec, r->user);
				EXPECT_TRUE(has(out, line));
				n_user++;
				d_user += strcmp(r->user, "OK") != 0;
			}
			if (r->lsm) {
				EXPECT_TRUE(lsm_logged(out, r->lsm, "root"));
				n_lsm++;
			}
			if (r->lsm && !strcmp(r->layer, "LSM"))
				EXPECT_TRUE(lsm_logged(out, r->lsm, "user"));
		}
		/* and the LSM denied nothing the matrix does not expect */
		EXPECT_EQ(0, unexpected_denials(out, "root", false));
		EXPECT_EQ(0, unexpected_denials(out, "user", true));
		TH_LOG("userns root: %d attacks, %d denied; uid 1000: %d attacks, %d denied; "
		       "%d LSM denials logged", n_root, d_root, n_user, d_user, n_lsm);
		EXPECT_GE(d_root, 40);
		EXPECT_GE(d_user, 40);
	}
	EXPECT_TRUE(has(out, "root: attack veilkey kbs:///veil/keys/a: OK length 16"));
	EXPECT_TRUE(has(out, "root: attack veilkey kbs:///veil/keys/b: ENOKEY"));
	EXPECT_TRUE(has(out, "root: attacker: done"));
	EXPECT_TRUE(has(out, "user: attack veilkey kbs:///veil/keys/b: OK length 24"));
	EXPECT_TRUE(has(out, "user: attack veilkey kbs:///veil/keys/a: ENOKEY"));
	EXPECT_TRUE(has(out, "user: attacker: done"));
	EXPECT_NULL(strstr(out, "setup failed"));

	/* the positive control: the grant the manifest gives 'net' */
	EXPECT_TRUE(has(out, "net: attack raw_socket: OK"));
	EXPECT_TRUE(has(out, "net: attack packet_socket: OK"));
	EXPECT_TRUE(has(out, "net: attack raw6_socket: OK"));
	EXPECT_NULL(strstr(out, "to container 'net'"));

	/* no attack worked anywhere else, and the keys never reached the log */
	EXPECT_NULL(strstr(out, "root: attack raw_socket: OK"));
	EXPECT_NULL(strstr(out, KEY_A));
	EXPECT_NULL(strstr(out, KEY_B));

	/*
	 * veil-decryptd under the LSM: it serves the granted client (a); what
	 * its cgroup tries that the policy denies is denied and logged by its
	 * name, on the first start and after the restart (b); killed, it is
	 * restarted into its sealed cgroup, reads its key again and serves (c).
	 */
	EXPECT_TRUE(has(out, "veil-decryptd listens: 1 model(s)"));
	EXPECT_TRUE(client_served(out, "served", &model));
	EXPECT_TRUE(has(out, "dd-killer: killing pid"));
	EXPECT_TRUE(has(out, "client: decrypt m: down ("));
	EXPECT_TRUE(has(out, "veil-decryptd: restart 1/"));
	EXPECT_TRUE(client_served(out, "served again", &model));
	/*
	 * The confined re-attestation helper (no caps, Landlock, seccomp
	 * denylist) quotes the vTPM and gets every key again; then the policy
	 * is withdrawn: the re-attestation fails, the service is killed for good.
	 */
	EXPECT_TRUE(has(out, "re-attestation 1 succeeded: 3 key(s) released again"));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	EXPECT_TRUE(has(out, "re-attestation failed: revoked 3 key(s)"));
	EXPECT_TRUE(has(out, "stopping veil-decryptd (SIGKILL)"));
	EXPECT_TRUE(has(out, "client: decrypt m: down again ("));
	EXPECT_TRUE(has(out, "client: decrypt m: stays down"));
	EXPECT_NULL(strstr(out, "veil-decryptd: restart 2/"));
	EXPECT_GE(count_lines(out, "Model 'm': key 'veil:veil/fhe/m'", "locked memory"), 2);
	EXPECT_NULL(strstr(out, "Failed to join its keyring"));
	for (int n = 1; n <= 2; n++) {
		for (size_t i = 0; i < sizeof(dd_matrix) / sizeof(dd_matrix[0]); i++) {
			char line[160];

			snprintf(line, sizeof(line), "veil-decryptd[%d]: attack %s: %s", n,
				 dd_matrix[i].spec, dd_matrix[i].want);
			EXPECT_TRUE(has(out, line));
		}
	}
	for (size_t i = 0; i < sizeof(dd_matrix) / sizeof(dd_matrix[0]); i++)
		if (dd_matrix[i].lsm)
			EXPECT_GE(count_lines(out, dd_matrix[i].lsm, "to container 'veil-decryptd'"), 2);
	/* and the service itself, serving, ran into no rule */
	EXPECT_EQ(0, unexpected_denials(out, "veil-decryptd", false));
	EXPECT_NULL(strstr(out, "gave up"));
	dd_model_done(&model);

	EXPECT_TRUE(has(out, "revoked 3 key(s)"));
	EXPECT_TRUE(has(out, "pod finished with status 0"));
	EXPECT_NULL(strstr(out, "emergency"));
	free(out);
	if (!getenv("VEIL_KEEP_TMP"))
		sh("rm -rf '%s'", dir);
}
