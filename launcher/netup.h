/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The pod VM's own bring-up, after stage 1: the kernel modules its initrd
 * lists (virtio-net, pvpanic: Debian builds them as modules) and a static
 * address on one interface, so veil-init can reach its KBS. A cloud pod VM
 * gets the same from its image's initrd list and kernel command line.
 */
#ifndef VEIL_LAUNCHER_NETUP_H
#define VEIL_LAUNCHER_NETUP_H

#include <net/if.h>
#include <netinet/in.h>

#define NETUP_MODULES_FILE "/etc/veil/modules"	/* written by veil mkinitrd */
#define NETUP_MODULES_MAX 256u
#define NETUP_SPEC_MAX 64u

/*
 * Loads each module of the list (absolute paths, one per line, in load order;
 * .ko.xz/.gz/.zst decompressed by the kernel). A missing list is 0 modules.
 * Returns the number loaded, or -errno when one fails (logged, naming it).
 */
int launcher_netup_modules(const char *list);

/*
 * Brings lo up, and with spec "IFACE:A.B.C.D/PREFIX" (veil.net= on the
 * kernel command line) that interface with that address. 0 or -errno; a
 * malformed spec is -EINVAL.
 */
int launcher_netup_interfaces(const char *spec);
/* The spec's parts: 0, -EINVAL (malformed), -E2BIG (longer than NETUP_SPEC_MAX). */
int launcher_netup_parse(const char *spec, char ret_ifname[static IF_NAMESIZE],
			 struct in_addr *ret_addr, unsigned int *ret_prefix);

#endif
