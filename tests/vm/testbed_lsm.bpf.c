// SPDX-License-Identifier: GPL-2.0-only
/*
 * The test bed's BPF LSM probe: denies socket creation to tasks whose cgroup
 * v2 id is in `confined`, and counts the denials. It proves the guest runs
 * BPF LSM programs (CO-RE skeleton, cgroup-keyed policy) before the real
 * policy programs in ebpf/ exist.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u64);
	__type(value, __u32);
} confined SEC(".maps");

__u64 denied;

SEC("lsm/socket_create")
int BPF_PROG(testbed_socket_create, int family, int type, int protocol, int kern)
{
	__u64 cgid;

	if (kern)
		return 0;
	cgid = bpf_get_current_cgroup_id();
	if (!bpf_map_lookup_elem(&confined, &cgid))
		return 0;
	__sync_fetch_and_add(&denied, 1);
	return -1;	/* -EPERM, a literal: 6.12's verifier wants a provable range */
}
