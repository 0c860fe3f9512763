# SPDX-License-Identifier: GPL-2.0-only
#
# Shell pieces shared by scripts/demo and bench/attest/run: a veil-kbs with TLS
# from a generated CA, a private swtpm, the AK registration, busybox bundles.
# The caller sets: out (build dir), work (scratch dir), VEIL, and an array pids
# whose processes it kills on exit.

# ---- KBS on loopback with TLS from a generated CA -----------------------------
kbs() {	# sets kbs_url and conn; puts the FHE key when $work/fhe.sk exists
	local d=$work/kbs
	mkdir -p "$d/state" "$d/trust/tpm/ak"
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 \
		-keyout "$d/ca.key" -out "$d/ca.pem" -subj /CN=veil-demo-ca >/dev/null 2>&1 || return 1
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$d/tls.key" \
		-out "$d/tls.csr" -subj /CN=127.0.0.1 >/dev/null 2>&1 || return 1
	# 10.0.2.100: the KBS as the pod VM reaches it through QEMU's guestfwd (scripts/pod-vm.sh).
	printf 'subjectAltName=IP:127.0.0.1,IP:10.0.2.100\nbasicConstraints=CA:FALSE\n' >"$d/ext.cnf"
	openssl x509 -req -in "$d/tls.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
		-days 1 -extfile "$d/ext.cnf" -out "$d/tls.pem" >/dev/null 2>&1 || return 1
	"$VEIL" kbs-admin keygen --private "$d/admin.key" --public "$d/admin.pub" >/dev/null || return 1
	cat >"$d/config.json" <<EOF
{"listen":"127.0.0.1:0","tls":{"certificate":"$d/tls.pem","private_key":"$d/tls.key"},
 "state_dir":"$d/state","trust_dir":"$d/trust",
 "admin":{"mode":"authenticated","public_key":"$d/admin.pub"}}
EOF
	"$out/veil-kbs" --config "$d/config.json" --port-file "$d/port" >"$d/kbs.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 100); do [ -s "$d/port" ] && break; sleep 0.1; done
	[ -s "$d/port" ] || return 1
	kbs_url=https://127.0.0.1:$(cat "$d/port")
	conn=(--url "$kbs_url" --cacert "$d/ca.pem" --key "$d/admin.key")
	if [ -e "$work/fhe.sk" ]; then
		"$VEIL" kbs-admin put-resource "${conn[@]}" default/fhe/fashion "$work/fhe.sk" || return 1
		echo "   veil-kbs at $kbs_url, FHE secret key stored as default/fhe/fashion"
	fi
}

# ---- the pod: swtpm as its TPM, measured, attested ------------------------------
swtpm_start() {
	local p
	mkdir -p "$work/pod/tpm"
	for p in $(seq 23300 2 23400); do
		swtpm socket --tpm2 --tpmstate dir="$work/pod/tpm" --server type=tcp,port=$p \
			--ctrl type=tcp,port=$((p + 1)) --flags not-need-init,startup-clear \
			>"$work/pod/swtpm.log" 2>&1 &
		pids+=($!)
		sleep 0.3
		if kill -0 $! 2>/dev/null; then
			tcti=swtpm:host=127.0.0.1,port=$p
			return 0
		fi
	done
	return 1
}

bundle() {	# bundle NAME SCRIPT [GRANT]
	local b=$work/pod/$1 f
	mkdir -p "$b/rootfs/bin" "$b/rootfs/proc" "$b/rootfs/dev" "$b/rootfs/tmp"
	cp /bin/busybox "$b/rootfs/bin/busybox"
	for f in sh echo cat cut sha256sum wc id; do ln -sf busybox "$b/rootfs/bin/$f"; done
	for f in /usr/bin/keyctl $(ldd /usr/bin/keyctl | grep -o '/[^ ]*'); do
		mkdir -p "$b/rootfs$(dirname "$f")"
		cp -L "$f" "$b/rootfs$f"
	done
	cat >"$b/config.json" <<EOF
{"ociVersion":"1.0.2","root":{"path":"rootfs","readonly":true},"hostname":"$1",
 "process":{"args":["/bin/sh","-c","$2"],"env":["PATH=/usr/bin:/bin"],"cwd":"/",
  "user":{"uid":1000,"gid":1000},"noNewPrivileges":true,
  "capabilities":{"bounding":[],"effective":[],"permitted":[]}},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
           {"destination":"/tmp","type":"tmpfs","source":"tmpfs"}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},
          {"type":"network"},{"type":"user"},{"type":"cgroup"}],
  "uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],
  "gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]}}
EOF
}


# register_ak DIR PEM: create the AK at veil-init's handle with tpm2-tools and
# write its public key where the KBS's tpm verifier trusts it.
register_ak() {
	tpm2_createprimary -T "$tcti" -C e -G rsa2048:rsassa-sha256:null -c "$1/ak.ctx" \
		-a 'restricted|sign|fixedtpm|fixedparent|sensitivedataorigin|userwithauth' \
		>/dev/null 2>&1 &&
	tpm2_evictcontrol -T "$tcti" -C o -c "$1/ak.ctx" 0x81010002 >/dev/null 2>&1 &&
	tpm2_readpublic -T "$tcti" -c 0x81010002 -f pem -o "$2" >/dev/null 2>&1 ||
		{ echo "   could not create the AK with tpm2-tools"; return 1; }
}
