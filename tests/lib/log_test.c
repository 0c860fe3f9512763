// SPDX-License-Identifier: GPL-2.0-only
#include "tests/harness.h"

#include <fcntl.h>
#include <unistd.h>

#include "lib/log.h"

static char *capture(void (*fn)(void))
{
	static char buf[4096];
	int p[2];
	ssize_t n;

	if (pipe2(p, O_CLOEXEC) < 0)
		return NULL;
	log_set_stderr_fd(p[1]);
	fn();
	log_set_stderr_fd(-1);
	close(p[1]);
	n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void emit_levels(void)
{
	log_set_prefix("veil-test");
	log_set_level(LOG_INFO);
	log_err("an error %d", 1);
	log_warn("a warning");
	log_info("some info");
	log_debug("hidden debug");
}

TEST(prefixes_lines_and_filters_by_level)
{
	char *out = capture(emit_levels);

	ASSERT_NONNULL(out);
	EXPECT_STREQ("veil-test: an error 1\nveil-test: a warning\nveil-test: some info\n", out);
}

static int ret_of_log;

static void emit_errno(void)
{
	errno = ENOENT;
	ret_of_log = log_err("Failed to open '%s': %m", "/nope");
	ret_of_log = errno == ENOENT ? ret_of_log : 0;
}

TEST(preserves_errno_and_returns_it_negated)
{
	char *out = capture(emit_errno);

	EXPECT_EQ(-ENOENT, ret_of_log);
	EXPECT_STREQ("veil: Failed to open '/nope': No such file or directory\n", out);
}

static void emit_long(void)
{
	char big[3000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	log_info("%s", big);
}

TEST(truncates_long_lines_to_one_line)
{
	char *out = capture(emit_long);

	EXPECT_LT(strlen(out), 1100);
	EXPECT_EQ('\n', out[strlen(out) - 1]);
	EXPECT_EQ(strchr(out, '\n'), out + strlen(out) - 1);
}

TEST(writes_records_to_kmsg)
{
	char buf[8192], tag[64];
	int fd, r;
	bool found = false;

	fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		SKIP("/dev/kmsg not readable: %s", strerror(errno));
	lseek(fd, 0, SEEK_END);
	r = log_set_sinks(LOG_SINK_KMSG);
	if (r < 0) {
		close(fd);
		SKIP("/dev/kmsg not writable: %s", strerror(-r));
	}
	snprintf(tag, sizeof(tag), "kmsg-probe-%d", getpid());
	log_set_prefix("veil-test");
	log_warn("%s", tag);
	for (int i = 0; i < 1000; i++) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		if (n < 0)
			break;
		buf[n] = '\0';
		if (strstr(buf, tag)) {
			/* "<prio>" = facility user (1) * 8 + LOG_WARNING (4) = 12 */
			EXPECT_EQ(0, strncmp(buf, "12,", 3));
			EXPECT_NONNULL(strstr(buf, "veil-test: kmsg-probe"));
			found = true;
			break;
		}
	}
	close(fd);
	log_close();
	EXPECT_TRUE(found);
}
