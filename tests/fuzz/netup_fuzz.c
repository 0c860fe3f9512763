// SPDX-License-Identifier: GPL-2.0-only
/* veil.net=IFACE:A.B.C.D/PREFIX from the kernel command line, over arbitrary bytes. */
#include "launcher/netup.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	char *spec = malloc(size + 1), ifname[IF_NAMESIZE];
	struct in_addr addr;
	unsigned int prefix;

	if (!spec)
		return 0;
	memcpy(spec, data, size);
	spec[size] = '\0';
	if (launcher_netup_parse(spec, ifname, &addr, &prefix) == 0 &&
	    (prefix > 32 || !ifname[0] || strlen(ifname) >= IF_NAMESIZE || strchr(ifname, ':')))
		__builtin_trap();
	free(spec);
	return 0;
}
