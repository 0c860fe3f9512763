// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <syslog.h>

#include "launcher/boot.h"
#include "lib/log.h"

TEST(reads_veil_options_from_the_kernel_command_line)
{
	struct boot_options o = { .loglevel = LOG_INFO };

	ASSERT_EQ(0, launcher_boot_parse_cmdline("console=ttyS0 quiet veil.manifest=/etc/m.json "
						 "veil.tpm=device:/dev/tpmrm0 veil.loglevel=7 "
						 "veil.eventlog=/run/x veil.initdata=/i.toml\n", &o));
	EXPECT_STREQ("/etc/m.json", o.manifest);
	EXPECT_STREQ("/i.toml", o.initdata);
	EXPECT_STREQ("device:/dev/tpmrm0", o.tpm);
	EXPECT_STREQ("/run/x", o.eventlog);
	EXPECT_EQ(7, o.loglevel);
	launcher_boot_options_done(&o);
}

TEST(skips_unknown_and_malformed_veil_options)
{
	struct boot_options o = { .loglevel = LOG_INFO };
	char big[BOOT_CMDLINE_MAX + 2];

	log_set_level(LOG_EMERG);	/* the warnings are expected */
	ASSERT_EQ(0, launcher_boot_parse_cmdline("veil.manifest=relative veil.loglevel=9 veil.colour=red "
						 "veil.debug=1 veil.tpm= veil.initdata", &o));
	EXPECT_NULL(o.manifest);
	EXPECT_NULL(o.initdata);
	EXPECT_NULL(o.tpm);
	EXPECT_EQ(LOG_INFO, o.loglevel);
	ASSERT_EQ(0, launcher_boot_parse_cmdline("veil.debug", &o));
	EXPECT_EQ(LOG_DEBUG, o.loglevel);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	EXPECT_EQ(-E2BIG, launcher_boot_parse_cmdline(big, &o));
	launcher_boot_options_done(&o);
}
