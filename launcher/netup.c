// SPDX-License-Identifier: GPL-2.0-only
#include "launcher/netup.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/module.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/cleanup.h"
#include "lib/fd.h"
#include "lib/log.h"

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && !memcmp(s + len - n, suffix, n);
}

int launcher_netup_modules(const char *list)
{
	_cleanup_free_ char *buf = NULL;
	char *line, *save = NULL;
	int n = 0, r;
	size_t len;

	r = fd_read_file(list, NETUP_MODULES_MAX * 256, &buf, &len);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return log_err("Failed to read '%s': %s", list, strerror(-r));
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		size_t l = strlen(line);
		int flags = 0;

		if (line[0] != '/')
			return log_err("'%s': '%s' is not an absolute path", list, line), -EINVAL;
		if (ends_with(line, l, ".xz") || ends_with(line, l, ".gz") || ends_with(line, l, ".zst"))
			flags = MODULE_INIT_COMPRESSED_FILE;
		_cleanup_close_ int fd = open(line, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return log_err("Failed to open module '%s': %m", line);
		if (syscall(SYS_finit_module, fd, "", flags) < 0 && errno != EEXIST)
			return log_err("Failed to load module '%s': %m", line);
		n++;
	}
	if (n)
		log_info("loaded %d kernel module(s) from '%s'", n, list);
	return n;
}

static int if_up(int s, const char *name, const struct in_addr *addr, unsigned int prefix)
{
	struct ifreq ifr = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ifr.ifr_addr;

	if (strlen(name) >= sizeof(ifr.ifr_name))
		return log_err("Interface name '%s' is too long", name), -EINVAL;
	strcpy(ifr.ifr_name, name);
	if (addr) {
		sin->sin_family = AF_INET;
		sin->sin_addr = *addr;
		if (ioctl(s, SIOCSIFADDR, &ifr) < 0)
			return log_err("Failed to set the address of '%s': %m", name);
		sin->sin_addr.s_addr = prefix ? htonl(~0u << (32 - prefix)) : 0;
		if (ioctl(s, SIOCSIFNETMASK, &ifr) < 0)
			return log_err("Failed to set the netmask of '%s': %m", name);
	}
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0)
		return log_err("Failed to read the flags of '%s': %m", name);
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0)
		return log_err("Failed to bring '%s' up: %m", name);
	return 0;
}

int launcher_netup_parse(const char *spec, char ret_ifname[static IF_NAMESIZE],
			 struct in_addr *ret_addr, unsigned int *ret_prefix)
{
	char buf[NETUP_SPEC_MAX], *colon, *slash, *end;
	struct in_addr addr;
	unsigned long prefix;

	if (strlen(spec) >= sizeof(buf))
		return -E2BIG;
	strcpy(buf, spec);
	colon = strchr(buf, ':');
	slash = colon ? strchr(colon, '/') : NULL;
	if (!colon || !slash || colon == buf || (size_t)(colon - buf) >= IF_NAMESIZE ||
	    strchr(buf, '/') != slash)
		return -EINVAL;
	*colon = *slash = '\0';
	if (slash[1] < '0' || slash[1] > '9')
		return -EINVAL;
	errno = 0;
	prefix = strtoul(slash + 1, &end, 10);
	if (inet_pton(AF_INET, colon + 1, &addr) != 1 || errno || *end || prefix > 32)
		return -EINVAL;
	strcpy(ret_ifname, buf);
	*ret_addr = addr;
	*ret_prefix = (unsigned int)prefix;
	return 0;
}

int launcher_netup_interfaces(const char *spec)
{
	char ifname[IF_NAMESIZE], a[INET_ADDRSTRLEN];
	struct in_addr addr;
	unsigned int prefix;
	int r;

	_cleanup_close_ int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return log_err("Failed to open a socket for the interfaces: %m");
	r = if_up(s, "lo", NULL, 0);
	if (r < 0 || !spec)
		return r;
	r = launcher_netup_parse(spec, ifname, &addr, &prefix);
	if (r < 0) {
		log_err("veil.net '%s': expected IFACE:A.B.C.D/PREFIX", spec);
		return r;
	}
	if (!if_nametoindex(ifname))
		return log_err("veil.net '%s': no interface '%s'", spec, ifname);
	r = if_up(s, ifname, &addr, prefix);
	if (r == 0)
		log_info("interface '%s' up as %s/%u", ifname, inet_ntop(AF_INET, &addr, a, sizeof(a)),
			 prefix);
	return r;
}
