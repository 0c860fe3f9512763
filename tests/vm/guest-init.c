// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test bed's /init: PID 1 of the guest until veil-init can run tests
 * itself. It mounts the basics, loads /etc/veil/modules, brings lo (and eth0
 * when there is one) up, runs every line of /etc/veil/vm-tests as a test
 * program, prints one KTAP document whose subtests are the programs' own KTAP,
 * ends with the marker the host runner waits for and powers off.
 *
 *   VEIL-VM-BEGIN
 *   KTAP version 1
 *   1..N
 *       KTAP version 1          (the program's output, indented)
 *       ...
 *   ok 1 NAME
 *   # Totals: pass:P fail:F xfail:0 xpass:0 skip:S error:0
 *   VEIL-VM-END pass=P fail=F skip=S
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <net/if.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TESTS_FILE "/etc/veil/vm-tests"
#define MODULES_FILE "/etc/veil/modules"
#define MAX_LINE 4096
#define MAX_ARGS 32
#ifndef MODULE_INIT_COMPRESSED_FILE
#define MODULE_INIT_COMPRESSED_FILE 4
#endif

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fflush(stdout);
}

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void __attribute__((noreturn)) power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	/* Only reached when reboot failed: PID 1 exiting panics, which pvpanic reports. */
	_exit(1);
}

static void mount_one(const char *src, const char *dst, const char *type, unsigned long flags,
		      const char *data)
{
	mkdir(dst, 0755);
	if (mount(src, dst, type, flags, data) < 0 && errno != EBUSY)
		say("# guest-init: mount %s on %s: %m\n", type, dst);
}

static void setup_console(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	close(fd);
}

static int modules_loaded, modules_failed;
static double modules_ms;

static void load_modules(void)
{
	char line[MAX_LINE];
	FILE *f = fopen(MODULES_FILE, "re");
	double t0 = now_ms();

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		size_t len = strcspn(line, "\n");
		int fd, flags = 0;

		line[len] = '\0';
		if (!len)
			continue;
		if (len > 3 && (strcmp(line + len - 3, ".xz") == 0 ||
				strcmp(line + len - 3, ".gz") == 0 ||
				strcmp(line + len - 4, ".zst") == 0))
			flags = MODULE_INIT_COMPRESSED_FILE;
		fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			say("# guest-init: open %s: %m\n", line);
			modules_failed++;
			continue;
		}
		if (syscall(SYS_finit_module, fd, "", flags) < 0 && errno != EEXIST) {
			say("# guest-init: finit_module %s: %m\n", line);
			modules_failed++;
		} else {
			modules_loaded++;
		}
		close(fd);
	}
	fclose(f);
	modules_ms = now_ms() - t0;
}

static int if_up(int s, const char *name, const char *addr, const char *mask)
{
	struct ifreq ifr = {};
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (addr) {
		sin->sin_family = AF_INET;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			return -errno;
		inet_pton(AF_INET, mask, &sin->sin_addr);
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			return -errno;
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return -errno;
	ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return -errno;
	return 0;
}

static void setup_network(void)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int r;

	if (s < 0)
		return;
	r = if_up(s, "lo", NULL, NULL);
	if (r < 0)
		say("# guest-init: lo up: %s\n", strerror(-r));
	/* QEMU's user network: the guest is 10.0.2.15, the host forward 10.0.2.100. */
	if (if_nametoindex("eth0")) {
		r = if_up(s, "eth0", "10.0.2.15", "255.255.255.0");
		if (r < 0)
			say("# guest-init: eth0 up: %s\n", strerror(-r));
		else
			say("# guest-init: eth0 up as 10.0.2.15/24\n");
	}
	close(s);
}

/* Splits a line into argv (whitespace, no quoting). */
static int split(char *line, char **argv)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " \t\n", &save); t && n < MAX_ARGS - 1;
	     t = strtok_r(NULL, " \t\n", &save))
		argv[n++] = t;
	argv[n] = NULL;
	return n;
}

/* Copies the program's output indented by four spaces (a KTAP subtest). */
static void relay(int fd)
{
	char buf[4096];
	bool bol = true;
	ssize_t n;

	while ((n = read(fd, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (ssize_t i = 0; i < n; i++) {
			if (bol)
				fputs("    ", stdout);
			putchar(buf[i]);
			bol = buf[i] == '\n';
		}
		fflush(stdout);
	}
	if (!bol)
		putchar('\n');
}

static int run_test(char **argv)
{
	int p[2], status;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		dup2(p[1], 1);
		dup2(p[1], 2);
		setsid();
		execv(argv[0], argv);
		printf("# guest-init: exec %s: %m\n", argv[0]);
		_exit(127);
	}
	close(p[1]);
	relay(p[0]);
	close(p[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* Reaps orphans the tests leave behind (we are PID 1). */
static void reap(int sig)
{
	(void)sig;
}

int main(void)
{
	char lines[64][MAX_LINE];
	unsigned int n = 0, pass = 0, fail = 0, skip = 0;
	FILE *f;

	mount_one("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_one("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	setup_console();
	say("# guest-init: PID 1 at %.1f ms after boot\n", now_ms());
	mount_one("securityfs", "/sys/kernel/security", "securityfs", 0, NULL);
	mount_one("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC,
		  "nsdelegate");
	mount_one("bpf", "/sys/fs/bpf", "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700");
	mount_one("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL);
	mount_one("tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755");
	mount_one("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777");
	signal(SIGCHLD, reap);
	setenv("PATH", "/bin:/sbin:/usr/bin:/usr/sbin", 1);
	setenv("VEIL_VM", "1", 1);
	setenv("VEIL_VM_HTTP", "10.0.2.100:8080", 1);
	load_modules();
	setup_network();

	f = fopen(TESTS_FILE, "re");
	if (f) {
		while (n < 64 && fgets(lines[n], MAX_LINE, f))
			if (lines[n][strspn(lines[n], " \t\n")] != '\0' && lines[n][0] != '#')
				n++;
		fclose(f);
	} else {
		say("# guest-init: no %s: %m\n", TESTS_FILE);
	}
	say("VEIL-VM-BEGIN\nKTAP version 1\n1..%u\n", n);
	say("# guest-init: %d modules loaded, %d failed, in %.1f ms; tests start at %.1f ms\n",
	    modules_loaded, modules_failed, modules_ms, now_ms());
	for (unsigned int i = 0; i < n; i++) {
		char *argv[MAX_ARGS], *name;
		double t0 = now_ms();
		int rc;

		if (split(lines[i], argv) == 0)
			continue;
		name = strrchr(argv[0], '/');
		name = name ? name + 1 : argv[0];
		rc = run_test(argv);
		if (rc == 0) {
			pass++;
			say("ok %u %s # %.0f ms\n", i + 1, name, now_ms() - t0);
		} else if (rc == 4) {
			skip++;
			say("ok %u %s # SKIP all its tests skipped\n", i + 1, name);
		} else {
			fail++;
			say("# %s: exit status %d\nnot ok %u %s\n", name, rc, i + 1, name);
		}
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	say("# Totals: pass:%u fail:%u xfail:0 xpass:0 skip:%u error:0\n", pass, fail, skip);
	say("VEIL-VM-END pass=%u fail=%u skip=%u at %.1f ms\n", pass, fail, skip, now_ms());
	power_off();
}
