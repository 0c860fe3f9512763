// SPDX-License-Identifier: GPL-2.0-only
/*
 * The pod VM's bring-up pieces that can run on any host: the veil.net spec
 * parser (table-driven), the module list's errors, lo in a new netns.
 */
#include "tests/harness.h"

#include <arpa/inet.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>

#include "launcher/netup.h"
#include "lib/log.h"

TEST(parses_good_veil_net_specs)
{
	static const struct {
		const char *spec, *ifname, *addr;
		unsigned int prefix;
	} good[] = {
		{ "eth0:10.0.2.15/24", "eth0", "10.0.2.15", 24 },
		{ "enp0s3:192.168.1.2/32", "enp0s3", "192.168.1.2", 32 },
		{ "e:0.0.0.0/0", "e", "0.0.0.0", 0 },
		{ "abcdefghijklmno:1.2.3.4/8", "abcdefghijklmno", "1.2.3.4", 8 },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		char ifname[IF_NAMESIZE], a[INET_ADDRSTRLEN];
		struct in_addr addr;
		unsigned int prefix = 99;

		ASSERT_EQ(0, launcher_netup_parse(good[i].spec, ifname, &addr, &prefix));
		EXPECT_STREQ(good[i].ifname, ifname);
		EXPECT_STREQ(good[i].addr, inet_ntop(AF_INET, &addr, a, sizeof(a)));
		EXPECT_EQ(good[i].prefix, prefix);
	}
}

TEST(rejects_malformed_veil_net_specs)
{
	static const char *const bad[] = {
		"", "eth0", "eth0:", "eth0:10.0.2.15", "eth0:10.0.2.15/", "eth0:10.0.2.15/33",
		":10.0.2.15/24", "eth0:10.0.2/24", "eth0:10.0.2.15/2x", "eth0:10.0.2.15/-1",
		"eth0:::1/64", "eth/0:10.0.2.15/24", "abcdefghijklmnop:1.2.3.4/8",
		"eth0:10.0.2.15/24/1", "eth0:10.0.2.15/ 24", "eth0:10.0.2.256/24",
	};
	char ifname[IF_NAMESIZE];
	struct in_addr addr;
	unsigned int prefix;
	char big[NETUP_SPEC_MAX + 8];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int r = launcher_netup_parse(bad[i], ifname, &addr, &prefix);

		if (r != -EINVAL)
			TH_LOG("'%s' gave %d", bad[i], r);
		EXPECT_EQ(-EINVAL, r);
	}
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_EQ(-E2BIG, launcher_netup_parse(big, ifname, &addr, &prefix));
}

TEST(module_list_missing_is_none_and_relative_paths_are_refused)
{
	char p[512];
	FILE *f;

	log_set_level(LOG_EMERG);	/* the errors are expected */
	snprintf(p, sizeof(p), "%s/netup_test.modules", harness_builddir());
	unlink(p);
	EXPECT_EQ(0, launcher_netup_modules(p));
	f = fopen(p, "w");
	ASSERT_NONNULL(f);
	fputs("lib/modules/x.ko\n", f);
	fclose(f);
	EXPECT_EQ(-EINVAL, launcher_netup_modules(p));
	f = fopen(p, "w");
	ASSERT_NONNULL(f);
	fputs("/nonexistent/veil/x.ko\n", f);
	fclose(f);
	EXPECT_EQ(-ENOENT, launcher_netup_modules(p));
	unlink(p);
}

TEST(brings_lo_up_and_refuses_a_missing_interface)
{
	struct ifreq ifr = { .ifr_name = "lo" };
	int s;

	if (geteuid() != 0)
		SKIP("needs root for a network namespace");
	ASSERT_EQ(0, unshare(CLONE_NEWNET));
	log_set_level(LOG_EMERG);
	ASSERT_EQ(0, launcher_netup_interfaces(NULL));
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, s);
	ASSERT_EQ(0, ioctl(s, SIOCGIFFLAGS, &ifr));
	EXPECT_TRUE(ifr.ifr_flags & IFF_UP);
	close(s);
	EXPECT_EQ(-ENODEV, launcher_netup_interfaces("eth9:10.0.2.15/24"));
	EXPECT_EQ(-EINVAL, launcher_netup_interfaces("eth9:10.0.2.15"));
}

