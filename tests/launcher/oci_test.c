// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <sys/mount.h>
#include <sys/resource.h>

#include "launcher/oci.h"
#include "tests/launcher/util.h"

static struct oci_config *parse_patch(const char *patch, struct vjson_err *e, int *ret)
{
	char *doc = lt_config(patch);
	struct oci_config *c = NULL;

	if (!doc) {
		*ret = -999;
		return NULL;
	}
	*ret = launcher_oci_parse(doc, strlen(doc), "/bundle", &c, e);
	free(doc);
	return c;
}

TEST(parses_the_fields_veil_honours)
{
	struct vjson_err e;
	struct oci_config *c;
	int r;

	c = parse_patch("{\"process\":{\"args\":[\"/bin/sh\",\"-c\",\"x\"],\"env\":[\"A=1\"],"
			"\"cwd\":\"/tmp\",\"user\":{\"uid\":5,\"gid\":6,\"umask\":18,\"additionalGids\":[7]},"
			"\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":10,\"hard\":20}],"
			"\"oomScoreAdj\":100},"
			"\"mounts\":[{\"destination\":\"/data\",\"type\":\"bind\",\"source\":\"/srv\","
			"\"options\":[\"rbind\",\"ro\",\"nosuid\"]},"
			"{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\","
			"\"options\":[\"nosuid\",\"size=65536k\",\"mode=1777\"]}],"
			"\"linux\":{\"resources\":{\"memory\":{\"limit\":1048576},\"pids\":{\"limit\":10},"
			"\"cpu\":{\"quota\":50000,\"period\":100000},\"devices\":[{\"allow\":false,\"access\":\"rwm\"}]},"
			"\"sysctl\":{\"net.ipv4.ip_forward\":\"1\"},\"maskedPaths\":[\"/proc/kcore\"],"
			"\"readonlyPaths\":[\"/proc/sys\"],"
			"\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_X86_64\"],"
			"\"syscalls\":[{\"names\":[\"mkdir\",\"no_such_syscall\"],\"action\":\"SCMP_ACT_ERRNO\",\"errnoRet\":1},"
			"{\"names\":[\"personality\"],\"action\":\"SCMP_ACT_ERRNO\","
			"\"args\":[{\"index\":0,\"value\":8,\"op\":\"SCMP_CMP_NE\"}]}]}}}", &e, &r);
	ASSERT_EQ(0, r);
	EXPECT_EQ(3, c->n_args);
	EXPECT_STREQ("/tmp", c->cwd);
	EXPECT_EQ(5, c->uid);
	EXPECT_EQ(6, c->gid);
	EXPECT_EQ(18, c->umask);
	EXPECT_EQ(1, c->n_groups);
	EXPECT_EQ(RLIMIT_NOFILE, c->rlimits[0].resource);
	EXPECT_EQ(20, c->rlimits[0].hard);
	EXPECT_STREQ("/bundle/rootfs", c->root_path);
	EXPECT_TRUE(c->root_readonly);
	ASSERT_EQ(2, c->n_mounts);
	EXPECT_STREQ("bind", c->mounts[0].type);
	EXPECT_TRUE(c->mounts[0].bind_ro);
	EXPECT_EQ(MS_BIND | MS_REC | MS_RDONLY | MS_NOSUID, c->mounts[0].flags);
	EXPECT_STREQ("size=65536k,mode=1777", c->mounts[1].data);
	EXPECT_EQ(1048576, c->memory_limit);
	EXPECT_EQ(10, c->pids_limit);
	EXPECT_EQ(50000, c->cpu_quota);
	EXPECT_EQ(1, c->n_sysctl);
	EXPECT_EQ(1ull << 5, c->caps[OCI_CAP_EFFECTIVE]);	/* CAP_KILL */
	EXPECT_NONNULL(c->seccomp);
	launcher_oci_free(c);
}

static const struct {
	const char *patch;
	const char *err;
} bad[] = {
	{ "{\"ociVersion\":\"2.0.0\"}", "ociVersion" },
	{ "{\"hooks\":{\"prestart\":[{\"path\":\"/bin/x\"}]}}", "'hooks'" },
	{ "{\"unknownTop\":1}", "unknownTop" },
	{ "{\"process\":{\"args\":[]}}", "process.args" },
	{ "{\"process\":{\"args\":[1]}}", "process.args[0]" },
	{ "{\"process\":{\"cwd\":\"relative\"}}", "process.cwd" },
	{ "{\"process\":{\"env\":[\"NOEQUALS\"]}}", "process.env[0]" },
	{ "{\"process\":{\"terminal\":true}}", "process.terminal" },
	{ "{\"process\":{\"apparmorProfile\":\"p\"}}", "apparmorProfile" },
	{ "{\"process\":{\"selinuxLabel\":\"l\"}}", "selinuxLabel" },
	{ "{\"process\":{\"user\":{\"uid\":-1,\"gid\":0}}}", "process.user.uid" },
	{ "{\"process\":{\"capabilities\":{\"effective\":[\"CAP_FLY\"]}}}", "process.capabilities.effective[0]" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_BOGUS\",\"soft\":1,\"hard\":1}]}}", "rlimits[0].type" },
	{ "{\"process\":{\"rlimits\":[{\"type\":\"RLIMIT_NOFILE\",\"soft\":9,\"hard\":1}]}}", "rlimits[0].soft" },
	{ "{\"root\":{\"path\":\"\"}}", "root.path" },
	{ "{\"mounts\":[{\"destination\":\"/x\",\"type\":\"nfs\",\"source\":\"s\"}]}", "mounts[0].type" },
	{ "{\"mounts\":[{\"destination\":\"rel\",\"type\":\"tmpfs\"}]}", "mounts[0].destination" },
	{ "{\"mounts\":[{\"destination\":\"/a/../b\",\"type\":\"tmpfs\"}]}", "mounts[0].destination" },
	{ "{\"mounts\":[{\"destination\":\"/x\",\"type\":\"bind\",\"source\":\"rel\"}]}", "mounts[0].source" },
	{ "{\"mounts\":[{\"destination\":\"/x\",\"type\":\"tmpfs\",\"options\":[\"weird\"]}]}", "mounts[0].options[0]" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"time\"}]}}", "linux.namespaces[0].type" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"net\",\"path\":\"/proc/1/ns/net\"}]}}", "linux.namespaces[0]" },
	{ "{\"linux\":{\"namespaces\":[{\"type\":\"network\",\"path\":\"/proc/1/ns/net\"}]}}", "linux.namespaces[0].path" },
	{ "{\"linux\":{\"devices\":[{\"path\":\"/dev/sda\",\"type\":\"b\",\"major\":8,\"minor\":0}]}}", "linux.devices" },
	{ "{\"linux\":{\"resources\":{\"devices\":[{\"allow\":true,\"access\":\"rwm\"}]}}}", "linux.resources.devices[0]" },
	{ "{\"linux\":{\"resources\":{\"blockIO\":{\"weight\":10}}}}", "linux.resources.blockIO" },
	{ "{\"linux\":{\"resources\":{\"pids\":{\"limit\":\"ten\"}}}}", "linux.resources.pids.limit" },
	{ "{\"linux\":{\"sysctl\":{\"kernel.modprobe\":\"/x\"}}}", "linux.sysctl.kernel.modprobe" },
	{ "{\"linux\":{\"uidMappings\":[{\"containerID\":0,\"hostID\":0,\"size\":0}]}}", "linux.uidMappings[0].size" },
	{ "{\"linux\":{\"maskedPaths\":[\"rel\"]}}", "linux.maskedPaths[0]" },
	{ "{\"linux\":{\"mountLabel\":\"x\"}}", "linux.mountLabel" },
	{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_NOTIFY\"}}}", "linux.seccomp.defaultAction" },
	{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"listenerPath\":\"/s\"}}}", "listenerPath" },
	{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"architectures\":[\"SCMP_ARCH_Z80\"]}}}", "architectures[0]" },
	{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_BOOM\"}]}}}", "syscalls[0].action" },
	{ "{\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],\"action\":\"SCMP_ACT_ERRNO\",\"args\":[{\"index\":9,\"value\":1,\"op\":\"SCMP_CMP_EQ\"}]}]}}}", "args[0].index" },
	{ "{\"process\":{\"noNewPrivileges\":false},\"linux\":{\"seccomp\":{\"defaultAction\":\"SCMP_ACT_ALLOW\"}}}", "noNewPrivileges" },
};

TEST(rejects_malformed_and_unsupported_configs_naming_the_field)
{
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct vjson_err e = { { 0 } };
		struct oci_config *c;
		int r;

		c = parse_patch(bad[i].patch, &e, &r);
		EXPECT_NULL(c);
		EXPECT_LT(r, 0);
		EXPECT_NE(-999, r);
		if (!strstr(e.msg, bad[i].err))
			harness_fail(__FILE__, __LINE__, false, "case %zu: '%s' does not name '%s'", i,
				     e.msg, bad[i].err);
		launcher_oci_free(c);
	}
}

TEST(rejects_non_json_and_missing_sections)
{
	static const char *const docs[] = { "", "{", "[]", "{\"ociVersion\":\"1.0.0\"}",
					     "{\"ociVersion\":\"1.0.0\",\"process\":{}}" };
	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		struct vjson_err e = { { 0 } };
		struct oci_config *c = NULL;

		EXPECT_LT(launcher_oci_parse(docs[i], strlen(docs[i]), "/b", &c, &e), 0);
		EXPECT_NULL(c);
		EXPECT_NE(0, e.msg[0]);
	}
}
