// SPDX-License-Identifier: GPL-2.0-only
/* The log line of a BPF LSM denial (no BPF needed). */
#include "tests/harness.h"

#include "ebpf/isolation.h"

static const struct {
	struct ebpf_denial d;
	const char *name;
	const char *line;
} cases[] = {
	{ { 7, (2ULL << 32) | (10u << 20 | 224), EBPF_HOOK_FILE_OPEN, 42, "cat" }, "web",
	  "LSM denied file_open (char device 10:224) to container 'web': pid 42 comm 'cat'" },
	{ { 7, (1ULL << 32) | (7u << 20), EBPF_HOOK_FILE_OPEN, 42, "dd" }, "web",
	  "LSM denied file_open (block device 7:0) to container 'web': pid 42 comm 'dd'" },
	{ { 7, (2ULL << 32) | 1234, EBPF_HOOK_KEY_PERMISSION, 9, "keyctl" }, "web",
	  "LSM denied key_permission (key 1234, perm 2) to container 'web': pid 9 comm 'keyctl'" },
	{ { 7, (9ULL << 32) | 1, EBPF_HOOK_TASK_KILL, 9, "sh" }, NULL,
	  "LSM denied task_kill (signal 9, target pid 1) to cgroup 7: pid 9 comm 'sh'" },
	{ { 7, 0, EBPF_HOOK_BPF, 9, "x\n'y" }, "a",
	  "LSM denied bpf (0x0) to container 'a': pid 9 comm 'x??y'" },
	{ { 7, 0, 999, 9, "x" }, "a", "LSM denied unknown (0x0) to container 'a': pid 9 comm 'x'" },
};

TEST(formats_denials_for_veil_inits_log)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char line[256];
		int n = ebpf_denial_format(&cases[i].d, cases[i].name, line, sizeof(line));

		EXPECT_EQ((int)strlen(cases[i].line), n);
		EXPECT_STREQ(cases[i].line, line);
	}
}

TEST(names_every_hook)
{
	for (uint32_t h = 1; h < EBPF_HOOK_MAX; h++)
		EXPECT_STRNE("unknown", ebpf_hook_name(h));
	EXPECT_STREQ("unknown", ebpf_hook_name(0));
	EXPECT_STREQ("unknown", ebpf_hook_name(EBPF_HOOK_MAX));
}

TEST(refuses_null)
{
	EXPECT_EQ(-EINVAL, ebpf_denial_format(NULL, "x", NULL, 0));
}
