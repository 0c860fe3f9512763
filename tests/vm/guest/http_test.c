// SPDX-License-Identifier: GPL-2.0-only
/*
 * Runs inside the test-bed guest with --net: fetches /veil-testbed from the
 * host's loopback server through QEMU's guestfwd (10.0.2.100:8080), reading the
 * body by Content-Length (slirp delivers EOF only ~0.5 s late), and prints it
 * for the host test to compare.
 */
#include "tests/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lib/fd.h"

#define RESPONSE_MAX 8192

TEST(get_from_host_loopback_reads_body_by_content_length)
{
	static const char req[] = "GET /veil-testbed HTTP/1.1\r\nHost: 10.0.2.100\r\n\r\n";
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct timeval tv = { .tv_sec = 20 };
	char buf[RESPONSE_MAX + 1], *hdr_end, *cl;
	size_t have = 0;
	long len;
	int s;

	ASSERT_EQ(1, inet_pton(AF_INET, "10.0.2.100", &sa.sin_addr));
	s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ASSERT_GE(s, 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ASSERT_EQ(0, connect(s, (struct sockaddr *)&sa, sizeof(sa)));
	ASSERT_EQ(0, fd_write_full(s, req, sizeof(req) - 1));
	for (;;) {
		ssize_t n = read(s, buf + have, RESPONSE_MAX - have);

		ASSERT_GT(n, 0);
		have += n;
		buf[have] = '\0';
		hdr_end = strstr(buf, "\r\n\r\n");
		if (!hdr_end)
			continue;
		cl = strcasestr(buf, "\r\nContent-Length:");
		ASSERT_NONNULL(cl);
		len = strtol(cl + 17, NULL, 10);
		ASSERT_GE(len, 0);
		ASSERT_LE(len, RESPONSE_MAX / 2);
		if ((size_t)(hdr_end + 4 - buf) + len <= have)
			break;
	}
	close(s);
	ASSERT_EQ(0, strncmp(buf, "HTTP/1.1 200 ", 13));
	hdr_end[4 + len] = '\0';
	printf("# body=%s\n", hdr_end + 4);
}
