# SPDX-License-Identifier: GPL-2.0-only
#
# The pod VM, as scripts/demo and tests/vm/pod-boot drive it: a vTPM state
# with veil-init's AK registered at the KBS, the pod initrd (scripts/pod-initrd),
# the model owner's policy naming its PCR 23 and initdata, and one boot under
# QEMU (tests/vm/run-in-guest) with the KBS reachable through guestfwd.
# Needs pod-lib.sh's kbs() first (kbs_url, conn, $work/kbs); the caller sets
# src, out, work, VEIL and the pids array, as for pod-lib.sh.

# pod_vm_tpm: a fresh vTPM state in $work/vm/tpm whose persistent AK the KBS
# trusts. swtpm runs here only to provision it; each boot starts its own.
pod_vm_tpm() {
	local p
	rm -rf "$work/vm/tpm"
	mkdir -p "$work/vm/tpm" "$work/kbs/trust/tpm/ak"
	for p in $(seq 23500 2 23600); do
		swtpm socket --tpm2 --tpmstate dir="$work/vm/tpm" --server type=tcp,port=$p \
			--ctrl type=tcp,port=$((p + 1)) --flags not-need-init,startup-clear \
			--pid file="$work/vm/swtpm.pid" >"$work/vm/swtpm.log" 2>&1 &
		local pid=$!
		sleep 0.3
		if kill -0 $pid 2>/dev/null; then
			tcti=swtpm:host=127.0.0.1,port=$p
			register_ak "$work/vm" "$work/kbs/trust/tpm/ak/pod-vm.pem"
			local r=$?
			kill $pid 2>/dev/null
			wait $pid 2>/dev/null
			return $r
		fi
	done
	echo "   no free port for swtpm" >&2
	return 1
}

# pod_vm_build: the initrd for a KBS at guest address 10.0.2.100:8080; sets
# pcr23, init_data, initrd (from $work/vm/pod.env).
pod_vm_build() {
	"$src/scripts/pod-initrd" --kbs-ca "$work/kbs/ca.pem" "$work/vm" >"$work/vm/pod-initrd.log" 2>&1 ||
		{ cat "$work/vm/pod-initrd.log"; return 1; }
	pcr23=$(sed -n 's/^PCR23=//p' "$work/vm/pod.env")
	init_data=$(sed -n 's/^INIT_DATA=//p' "$work/vm/pod.env")
	initrd=$(sed -n 's/^INITRD=//p' "$work/vm/pod.env")
	echo "   pod initrd sha256 $(sed -n 's/^INITRD_SHA256=//p' "$work/vm/pod.env" | cut -c1-16)…," \
	     "$(stat -c %s "$initrd") bytes; PCR 23 will be ${pcr23:0:16}…"
}

# pod_vm_key: the model user's workload key (32 random bytes) at default/pod/model-user.
pod_vm_key() {
	mkdir -p "$work/vm"
	(umask 077 && head -c 32 /dev/urandom >"$work/vm/user.key") &&
	"$VEIL" kbs-admin put-resource "${conn[@]}" default/pod/model-user "$work/vm/user.key" >/dev/null
}

# pod_vm_policy: release default/pod/* only to tpm evidence with this pod's
# PCR 23 (its containers and policy) and PCR 8 (its initdata).
pod_vm_policy() {
	cat >"$work/vm/policy.json" <<EOP
{"version":1,"rules":[{"name":"the measured pod VM","resources":["default/pod/*"],
 "tee":["tpm"],"claims":{"tpm.pcr23":"$pcr23","init_data":"$init_data"}}]}
EOP
	"$VEIL" kbs-admin set-policy "${conn[@]}" "$work/vm/policy.json" >/dev/null || return 1
	echo "   policy: default/pod/* to tpm evidence with PCR 23 = ${pcr23:0:16}…, init_data = ${init_data:0:16}…"
}

# pod_vm_tamper: one byte of the model user's container changes after the
# owner measured it (its script says "kez" for "key"); the initrd is rebuilt.
pod_vm_tamper() {
	local kver modroot
	kver=$(sed -n 's/^KVER=//p' "$work/vm/pod.env")
	modroot=$(sed -n 's/^MODROOT=//p' "$work/vm/pod.env")
	sed -i 's/holds key/holds kez/' "$work/vm/stage/pod/model-user/config.json"
	"$VEIL" mkinitrd -D INIT="$out/veil-init" -D KVER="$kver" -D MODROOT="$modroot" \
		"$work/vm/pod.list" -o "$initrd" >/dev/null || return 1
	echo "   changed one byte of container 'model-user' after the policy was set"
}

# pod_vm_boot NAME MARKER [CMDLINE]: boots the initrd with a fresh copy of the vTPM
# state, on a CPU with RDRAND (-cpu max under TCG; qemu64 has none, and then the
# first use of /dev/urandom, jansson's hash seed, waits ~1-3 s for the CRNG);
# the console log is $out/vm/logs/NAME.log. Returns run-in-guest's status.
pod_vm_boot() {
	local port
	port=${kbs_url##*:}
	rm -rf "$work/vm/tpm-$1"
	cp -a "$work/vm/tpm" "$work/vm/tpm-$1"
	VEIL_SRCDIR=$src VEIL_BUILDDIR=$out "$src/tests/vm/run-in-guest" --initrd "$initrd" \
		--tpm-state "$work/vm/tpm-$1" --net "$port" --append "veil.net=eth0:10.0.2.15/24${3:+ $3}" \
		--marker "$2" --name "$1" --timeout "${VEIL_VM_TIMEOUT:-300}" --cpu max --smp "${VEIL_VM_SMP:-1}"
}
