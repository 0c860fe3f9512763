// SPDX-License-Identifier: GPL-2.0-only
/*
 * veil-init as the real PID 1 of a QEMU guest (tests/vm/run-in-guest, TCG on
 * these machines): stage 1, the move off the initial rootfs (a bind mount of it as /),
 * pure cgroup2 with controllers (a fork bomb stays inside pids.max), the
 * TPM measurement, and the power-off at the end.
 */
#include "tests/harness.h"

#include <sys/stat.h>
#include <unistd.h>

#include "tests/launcher/util.h"

static const char config[] =
	"{\"ociVersion\":\"1.0.2\",\"process\":{\"user\":{\"uid\":0,\"gid\":0},"
	"\"args\":[\"/bin/sh\",\"-c\",\"(i=0; while [ $i -lt 100 ]; do sleep 30 & i=$((i+1)); done) 2>/dev/null; "
	"set -- /proc/[0-9]*; echo procs=$#; echo bomb-contained\"],"
	"\"env\":[\"PATH=/bin\"],\"cwd\":\"/\",\"noNewPrivileges\":true,"
	"\"capabilities\":{\"bounding\":[\"CAP_KILL\"],\"effective\":[\"CAP_KILL\"],\"permitted\":[\"CAP_KILL\"]}},"
	"\"root\":{\"path\":\"rootfs\",\"readonly\":true},\"hostname\":\"guest\","
	"\"mounts\":[{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"}],"
	"\"linux\":{\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},"
	"{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"user\"},{\"type\":\"cgroup\"}],"
	"\"resources\":{\"pids\":{\"limit\":24},\"memory\":{\"limit\":33554432}}}}";

static bool has(const char *out, const char *s)
{
	if (out && strstr(out, s))
		return true;
	TH_LOG("console lacks '%s'", s);
	return false;
}

TEST_TIMEOUT(veil_init_boots_as_pid_1_contains_a_fork_bomb_and_powers_off, 600)
{
	char dir[512], path[600], list[4096], *out, *p;
	int st;

	if (geteuid() != 0)
		SKIP("needs root (swtpm, initrd ownership)");
	if (access("/usr/bin/qemu-system-x86_64", X_OK) != 0)
		SKIP("qemu-system-x86_64 is not installed");
	if (!lt_have_busybox())
		SKIP("busybox-static is not installed");
	snprintf(dir, sizeof(dir), "%s/vm/launcher-guest", harness_builddir());
	free(lt_sh(NULL, "rm -rf '%s' && mkdir -p '%s'", dir, dir));
	snprintf(path, sizeof(path), "%s/config.json", dir);
	ASSERT_EQ(0, lt_write(path, config));
	snprintf(path, sizeof(path), "%s/manifest.json", dir);
	ASSERT_EQ(0, lt_write(path, "{\"version\":1,\"containers\":[{\"name\":\"bomb\",\"bundle\":\"/bundle\"}],"
				    "\"grace_ms\":1000}\n"));
	snprintf(list, sizeof(list),
		 "dir /bundle 0755 0 0\n"
		 "file /bundle/config.json %s/config.json 0644 0 0\n"
		 "dir /bundle/rootfs/bin 0755 0 0\n"
		 "dir /bundle/rootfs/proc 0755 0 0\n"
		 "dir /bundle/rootfs/dev 0755 0 0\n"
		 "dir /bundle/rootfs/tmp 0755 0 0\n"
		 "file /bundle/rootfs/bin/busybox /bin/busybox 0755 0 0\n"
		 "slink /bundle/rootfs/bin/sh busybox 0777 0 0\n"
		 "slink /bundle/rootfs/bin/sleep busybox 0777 0 0\n"
		 "file /etc/veil/manifest.json %s/manifest.json 0644 0 0\n"
		 "lib libtss2-tcti-device.so.0\n", dir, dir);
	snprintf(path, sizeof(path), "%s/list", dir);
	ASSERT_EQ(0, lt_write(path, list));
	out = lt_sh(&st, "VEIL_SRCDIR='%s' VEIL_BUILDDIR='%s' '%s/tests/vm/run-in-guest' --init '%s' "
			 "--list '%s/list' --tpm --marker 'veil-init: powering off' --name launcher-guest "
			 "--timeout 400 2>&1",
		    harness_srcdir(), harness_builddir(), harness_srcdir(), lt_prog("veil-init"), dir);
	ASSERT_NONNULL(out);
	if (st == 6) {
		TH_LOG("%s", out);
		free(out);
		SKIP("the test bed cannot boot a guest here (see the log above)");
	}
	if (st != 0)
		TH_LOG("run-in-guest exited %d:\n%s", st, out);
	EXPECT_EQ(0, st);
	EXPECT_TRUE(has(out, "veil-init: veil-init starting as PID 1"));
	EXPECT_TRUE(has(out, "moved the initramfs onto a bind mount of itself as /"));
	EXPECT_TRUE(has(out, "measurements go to TPM PCR 23"));
	EXPECT_TRUE(has(out, "container 'bomb': cgroup limits enforced (memory.max 33554432, pids.max 24"));
	EXPECT_NULL(strstr(out, "NOT enforced"));
	EXPECT_TRUE(has(out, "cgroup '/sys/fs/cgroup/veil/bomb'"));
	EXPECT_TRUE(has(out, "bomb: bomb-contained"));
	p = strstr(out, "bomb: procs=");
	ASSERT_NONNULL(p);
	EXPECT_LE(atoi(p + 12), 24);
	EXPECT_GE(atoi(p + 12), 2);
	EXPECT_TRUE(has(out, "pod finished with status 0"));
	EXPECT_TRUE(has(out, "veil-init: powering off"));
	EXPECT_NULL(strstr(out, "emergency"));
	free(out);
	free(lt_sh(NULL, "rm -rf '%s'", dir));
}
