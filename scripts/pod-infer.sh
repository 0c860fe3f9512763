# SPDX-License-Identifier: GPL-2.0-only
#
# The inference pod (issue 11): confidential inference inside the pod VM.
#
# pod_inference is scripts/pod-initrd --inference's block: the model user's
# container as an encrypted OCI image (a rootfs with veil-infer, its two
# libraries, the sealed model and the first N t10k images; skopeo encrypts its
# layer to the image key's public half), the sealed model for veil-decryptd,
# and a manifest whose decryptd section starts the service with the FHE
# secret key the KBS releases. Neither private key is in the initrd: the KBS
# holds both (default/fhe/fashion, default/pod/image-key).
#
# The infer_vm_* functions are the host side scripts/demo and
# tests/vm/infer-boot share (after pod-lib.sh's kbs() and pod-vm.sh's
# pod_vm_tpm): keys, sealing, the initrd, the policy, one boot.

# pod_inference: called by scripts/pod-initrd with dir, out, VEIL, kbs_url,
# inference (the sealed model), image_pub (PEM) and images (N) set; replaces
# the stage's bundles and manifest.json with the inference pod's.
pod_inference() {
	local r=$dir/infer-rootfs f data n=$images
	local mnist=${VEIL_FASHION_MNIST:-/usr/share/datasets/fashion-mnist}
	command -v skopeo >/dev/null || die "skopeo is not installed (it encrypts the image)"
	[ -x "$out/veil-decryptd" ] || die "$out/veil-decryptd is not built (make)"
	[ -r "$inference" ] || die "cannot read the sealed model '$inference' (--inference)"
	[ -r "$image_pub" ] || die "cannot read the image key '$image_pub' (--image-key)"
	[ -r "$mnist/t10k-images-idx3-ubyte.gz" ] || die "Fashion-MNIST is not in '$mnist' (dataset-fashion-mnist)"
	[ "$n" -ge 1 ] && [ "$n" -le 10000 ] || die "--images must be 1..10000"
	rm -rf "$dir/stage/pod" "$r" "$dir/infer-plain" "$dir/infer-enc"
	mkdir -p "$dir/stage/pod/images" "$dir/stage/pod/model"

	# The rootfs: veil-infer (`veil infer` alone: static but for libc and libm,
	# ~5 MB where veil's library closure is ~60 MB) stripped, the sealed model, the data.
	[ -x "$out/veil-infer" ] || die "$out/veil-infer is not built (make)"
	mkdir -p "$r/usr/bin" "$r/models" "$r/data/fashion-mnist" "$r/run/veil" "$r/proc" "$r/dev" "$r/tmp"
	strip --strip-all -o "$r/usr/bin/veil-infer" "$out/veil-infer" || die "cannot strip veil-infer"
	for f in $(ldd "$out/veil-infer" | grep -o '/[^ ]*'); do
		mkdir -p "$r$(dirname "$f")"
		cp -L "$f" "$r$f"
	done
	cp "$inference" "$r/models/model.sealed"
	# The first N t10k images and labels, as IDX files whose header says N.
	data=$r/data/fashion-mnist
	be32() { printf "\\x$(printf %02x $(($1 >> 24 & 255)))\\x$(printf %02x $(($1 >> 16 & 255)))\\x$(printf %02x $(($1 >> 8 & 255)))\\x$(printf %02x $(($1 & 255)))"; }
	{ printf '\x00\x00\x08\x03'; be32 "$n"; printf '\x00\x00\x00\x1c\x00\x00\x00\x1c'
	  (set +o pipefail; gzip -dc "$mnist/t10k-images-idx3-ubyte.gz" | tail -c +17 | head -c $((n * 784))); } \
		>"$data/t10k-images-idx3-ubyte"
	{ printf '\x00\x00\x08\x01'; be32 "$n"
	  (set +o pipefail; gzip -dc "$mnist/t10k-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$n"); } \
		>"$data/t10k-labels-idx1-ubyte"
	[ "$(stat -c %s "$data/t10k-images-idx3-ubyte")" = $((16 + n * 784)) ] ||
		die "could not cut $n images out of t10k"
	# Reproducible bytes in the layer: one mtime for every file.
	find "$r" -exec touch -h -d @0 {} +

	# The image: built by veil, its layer encrypted by skopeo to the image key.
	infer_image_build "$r" "$dir/infer-plain" "$n" || die "veil image build failed"
	infer_image_encrypt "$dir/infer-plain" "$image_pub" "$dir/stage/pod/images/model-user" ||
		die "skopeo could not encrypt the image"
	rm -rf "$dir/infer-plain"
	cp "$inference" "$dir/stage/pod/model/fashion.sealed"

	cat >"$dir/manifest.json" <<EOF
{"version":1,
 "containers":[{"name":"model-user","order":1,
                "image":{"layout":"/pod/images/model-user","ref":"v1","keys":["image-key"]}}],
 "kbs":{"url":"$kbs_url","ca":"/etc/veil/kbs-ca.pem","tee":"tpm","deadline_ms":30000,
        "resources":[{"name":"fhe-sk","uri":"kbs:///default/fhe/fashion"},
                     {"name":"image-key","uri":"kbs:///default/pod/image-key"}]},
 "decryptd":{"enabled":true,"key":"fhe-sk","receipts":true,
             "models":[{"name":"fashion","sealed":"/pod/model/fashion.sealed","grant":["model-user"]}]},
 "policy":{"lsm":"required"},"shutdown":"last-exit","grace_ms":2000}
EOF
}

# infer_image_build ROOTFS LAYOUT N: the model user's plaintext image (veil
# builds it deterministically: the same rootfs gives the same digest).
infer_image_build() {
	local env=()
	# (An ASan build (make SANITIZE=1): LeakSanitizer cannot stop the world inside
	# the confined container and would fail the exit, so no leak check there.)
	ldd "$out/veil-infer" 2>/dev/null | grep -q libasan && env=(--env ASAN_OPTIONS=detect_leaks=0)
	rm -rf "$2"
	"$VEIL" image build "$1" -o "$2" --ref v1 --compress zstd --user 1000:1000 "${env[@]}" \
		--entrypoint /usr/bin/veil-infer --cmd /models/model.sealed \
		--cmd --data --cmd /data/fashion-mnist --cmd --count --cmd "$3" \
		--cmd --decryptd --cmd /run/veil/decryptd.sock --cmd --model --cmd fashion \
		--cmd --verbose >/dev/null
}

# infer_image_encrypt PLAIN PUB DEST: the plaintext layout PLAIN (ref v1) with
# its layer encrypted to the public key PUB, as the layout DEST.
# skopeo encrypts each layer under a fresh random key that only a JWE to PUB
# carries, so two encryptions of one image differ and so would the initrd
# and PCR 23. The encrypted layout is therefore cached, keyed by PLAIN's
# index (which names its manifest digest, hence every blob) and PUB: the same
# image to the same key gives the same bytes; a changed image or a new key
# misses and gets a new random layer key. The cache holds what the initrd
# holds (ciphertext, the wrapped key, the plaintext config), nothing secret.
# $VEIL_IMAGE_CACHE or $out/vm/image-cache; the newest 8 entries stay.
infer_image_encrypt() {
	local cache=${VEIL_IMAGE_CACHE:-$out/vm/image-cache} id e plain_cfg
	[ -s "$1/index.json" ] && [ -r "$2" ] || return 1
	id=$({ sha256sum <"$1/index.json"; sha256sum <"$2"; } | sha256sum | cut -c1-64)
	e=$cache/$id
	# A hit must be this image, encrypted: the config blob is the plaintext's.
	_cfg() { "$VEIL" image inspect "$1" --ref v1 2>/dev/null | tr -d ' \n' |
		sed -n 's/.*"config":"\(sha256:[0-9a-f]*\)".*"encrypted":\([a-z]*\).*/\1 \2/p'; }
	plain_cfg=$(_cfg "$1")
	[ -n "$plain_cfg" ] || return 1
	if [ -d "$e" ] && [ "$(_cfg "$e")" = "${plain_cfg% *} true" ]; then
		touch "$e"
		echo "encrypted image: cached $e" >&2
	else
		mkdir -p "$cache"
		rm -rf "$e" "$e.tmp.$$"
		skopeo copy -q --encryption-key "jwe:$2" "oci:$1:v1" "oci:$e.tmp.$$:v1" ||
			{ rm -rf "$e.tmp.$$"; return 1; }
		# (A build running beside this one may have cached the same image first: use that.)
		mv -T "$e.tmp.$$" "$e" 2>/dev/null || rm -rf "$e.tmp.$$"
		# shellcheck disable=SC2012
		ls -1dt "$cache"/*/ | tail -n +9 | xargs -r rm -rf
		echo "encrypted image: new layer key, cached as $e" >&2
	fi
	rm -rf "$3"
	cp -R "$e" "$3"
}

# ---- host side -------------------------------------------------------------------

# infer_vm_keys MODEL: the FHE key pair and fc2 of MODEL sealed to its public half
# (the secret half into the KBS at default/fhe/fashion), then infer_vm_image_key.
infer_vm_keys() {
	local d=$work/vm
	mkdir -p "$d"
	(umask 077 && "$VEIL" keygen -s "$d/fhe.sk" -p "$d/fhe.pk" >"$d/keygen.log" 2>&1) ||
		{ echo "   keygen failed"; return 1; }
	"$VEIL" seal "$1" --layers fc2 --pk "$d/fhe.pk" --key-uri kbs:///default/fhe/fashion \
		-o "$d/model.sealed" >"$d/seal.log" 2>&1 || { cat "$d/seal.log"; return 1; }
	"$VEIL" kbs-admin put-resource "${conn[@]}" default/fhe/fashion "$d/fhe.sk" >/dev/null || return 1
	rm -f "$d/fhe.sk"
	infer_vm_image_key
}

# infer_vm_image_key: the image key pair; its private half into the KBS at
# default/pod/image-key, its public half ($work/vm/image.pub) for skopeo.
infer_vm_image_key() {
	local d=$work/vm
	mkdir -p "$d"
	(umask 077 && openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out "$d/image.key" 2>/dev/null) &&
	openssl pkey -in "$d/image.key" -pubout -out "$d/image.pub" 2>/dev/null &&
	"$VEIL" kbs-admin put-resource "${conn[@]}" default/pod/image-key "$d/image.key" >/dev/null ||
		{ echo "   could not make or store the image key"; return 1; }
	rm -f "$d/image.key"
	echo "   the FHE secret key and the image key are in veil-kbs (default/fhe/fashion, default/pod/image-key)"
}

# infer_vm_build N: the inference pod's initrd over the first N t10k images; sets
# pcr23, init_data, initrd (from $work/vm/pod.env).
infer_vm_build() {
	"$src/scripts/pod-initrd" --kbs-ca "$work/kbs/ca.pem" --inference "$work/vm/model.sealed" \
		--image-key "$work/vm/image.pub" --images "$1" "$work/vm" >"$work/vm/pod-initrd.log" 2>&1 ||
		{ cat "$work/vm/pod-initrd.log"; return 1; }
	pcr23=$(sed -n 's/^PCR23=//p' "$work/vm/pod.env")
	init_data=$(sed -n 's/^INIT_DATA=//p' "$work/vm/pod.env")
	initrd=$(sed -n 's/^INITRD=//p' "$work/vm/pod.env")
	echo "   inference pod initrd sha256 $(sed -n 's/^INITRD_SHA256=//p' "$work/vm/pod.env" | cut -c1-16)…," \
	     "$(stat -c %s "$initrd") bytes; PCR 23 will be ${pcr23:0:16}…"
}

# infer_vm_policy: both keys only to tpm evidence with this pod's PCR 23 and PCR 8.
infer_vm_policy() {
	cat >"$work/vm/policy.json" <<EOP
{"version":1,"rules":[{"name":"the measured inference pod VM",
 "resources":["default/fhe/fashion","default/pod/image-key"],
 "tee":["tpm"],"claims":{"tpm.pcr23":"$pcr23","init_data":"$init_data"}}]}
EOP
	"$VEIL" kbs-admin set-policy "${conn[@]}" "$work/vm/policy.json" >/dev/null || return 1
	echo "   policy: the FHE and image keys to tpm evidence with PCR 23 = ${pcr23:0:16}…, init_data = ${init_data:0:16}…"
}

# infer_vm_tamper: one byte of the model user's container changes after the owner
# measured it (one pixel of image 0 in its rootfs); the image is rebuilt and
# re-encrypted the same way, the initrd too.
infer_vm_tamper() {
	local d=$work/vm r=$work/vm/infer-rootfs kver modroot f
	kver=$(sed -n 's/^KVER=//p' "$d/pod.env")
	modroot=$(sed -n 's/^MODROOT=//p' "$d/pod.env")
	f=$r/data/fashion-mnist/t10k-images-idx3-ubyte
	printf '\x7f' | dd of="$f" bs=1 seek=500 conv=notrunc status=none
	touch -d @0 "$f"
	infer_image_build "$r" "$d/tamper-plain" "$(sed -n 's/^IMAGES=//p' "$d/pod.env")" &&
	infer_image_encrypt "$d/tamper-plain" "$d/image.pub" "$d/stage/pod/images/model-user" || return 1
	rm -rf "$d/tamper-plain"
	# The list names each staged file: list the re-encrypted layout's instead.
	grep -Ev '^(dir|file|slink) /pod/images/model-user/' "$d/pod.list" >"$d/pod.list.new" || return 1
	mv "$d/pod.list.new" "$d/pod.list"
	(cd "$d/stage" && find pod/images/model-user -mindepth 1 -printf '%y %p %m %U %G\n' | LC_ALL=C sort -k2,2) |
	while read -r type path mode uid gid; do
		case $type in
		d) echo "dir /$path $mode $uid $gid" ;;
		f) echo "file /$path $d/stage/$path $mode $uid $gid" ;;
		esac
	done >>"$d/pod.list"
	"$VEIL" mkinitrd -D INIT="$out/veil-init" -D KVER="$kver" -D MODROOT="$modroot" \
		"$d/pod.list" -o "$initrd" >/dev/null || return 1
	echo "   changed one byte of container 'model-user' (one pixel in its rootfs) after the policy was set"
}

# infer_vm_boot NAME MARKER: pod_vm_boot with the memory the unpacked image and
# the FHE work need, and /dev/kmsg lines timestamped on the console.
infer_vm_boot() {
	local port=${kbs_url##*:}
	rm -rf "$work/vm/tpm-$1"
	cp -a "$work/vm/tpm" "$work/vm/tpm-$1"
	VEIL_SRCDIR=$src VEIL_BUILDDIR=$out "$src/tests/vm/run-in-guest" --initrd "$initrd" \
		--tpm-state "$work/vm/tpm-$1" --net "$port" --mem 1024 \
		--append "veil.net=eth0:10.0.2.15/24 loglevel=7 printk.devkmsg=on" \
		--marker "$2" --name "$1" --timeout "${VEIL_VM_TIMEOUT:-600}" --cpu max
}

# infer_vm_timeline LOG: the boot's intervals from the console's kernel
# timestamps (the boot's command line has printk.devkmsg=on): kernel hand-over
# (Run /init) → keys in the keyring, → the image unpacked, → veil-decryptd
# listens, → the first image's result; and the model user's images/s.
infer_vm_timeline() {
	local t0 tk tu td tf
	_ts() { tr -d '\r' <"$1" | grep -E '^\[ *[0-9]+\.[0-9]+\]' | grep -- "$2" | sed -n "${3:-1}p" |
		sed -n 's/^\[ *\([0-9.]*\)\].*/\1/p' || true; }
	_ms() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "") print "?"; else printf "%.0f", (b - a) * 1000 }'; }
	t0=$(_ts "$1" 'Run /init as init process')
	tk=$(_ts "$1" "veil-init: resource 'image-key' is key")
	tu=$(_ts "$1" "veil-init: container 'model-user': image unpacked")
	td=$(_ts "$1" 'veil-init: veil-decryptd listens')
	tf=$(_ts "$1" 'veil-init: model-user: image 0: class')
	printf 'hand-over → keys %s ms, → image unpacked %s ms, → decryptd ready %s ms, → first inference result %s ms; %s images/s\n' \
		"$(_ms "$t0" "$tk")" "$(_ms "$t0" "$tu")" "$(_ms "$t0" "$td")" "$(_ms "$t0" "$tf")" \
		"$(tr -d '\r' <"$1" | grep -o 'images: model user .*, [0-9.]* images/s' | head -1 | grep -o '[0-9.]* images/s$' | cut -d' ' -f1)"
}
