#!/bin/bash
# Builds what the Xen-in-QEMU test boots: the uncompressed hypervisor, the
# dom0 kernel, a busybox initramfs for dom0 (toolstack, Debian's daemons for
# comparison, the project's daemon as /opt/xenstored) and one for the guest.
#
# Usage: build-rootfs.sh OUTDIR [DAEMON]
#   DAEMON: the project's xenstored binary (copied with its shared libraries)
# Env: KVER=6.1.0-56-amd64 (default: newest /boot/vmlinuz-*)
# Needs (Debian 12): busybox-static cpio linux-image-amd64
#   xen-hypervisor-4.17-amd64 xen-utils-4.17 xenstore-utils
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OUT=${1:?usage: build-rootfs.sh OUTDIR [DAEMON]}
DAEMON=${2:-}
KVER=${KVER:-$(ls /boot/vmlinuz-* | sed 's|/boot/vmlinuz-||' | sort -V | tail -1)}
XENBIN=/usr/lib/xen-4.17/bin
mkdir -p "$OUT"

# a binary and every shared library ldd lists for it, into rootfs $1
copy_bin() { # root src [dst]
	local root=$1 src=$2 dst=${3:-$2}
	install -D -m 0755 "$src" "$root$dst"
	ldd "$src" 2>/dev/null | awk '/=> \//{print $3} /^\t\/lib/{print $1}' |
	while read -r lib; do
		[ -e "$root$lib" ] || install -D -m 0755 "$(readlink -f "$lib")" "$root$lib"
	done
}

base_tree() { # root
	local r=$1 a
	rm -rf "$r"
	mkdir -p "$r"/{bin,sbin,etc,proc,sys,dev,tmp,run,root,usr/bin,usr/sbin,lib64,var}
	install -m 0755 /bin/busybox "$r/bin/busybox"
	# applet links made here, so that the VM needs no busybox --install
	for a in $(/bin/busybox --list-full); do
		[ -e "$r/$a" ] || ln -s /bin/busybox "$r/$a"
	done
	ln -sfn /run "$r/var/run"
	mkdir -p "$r/var/lock" "$r/var/log" "$r/var/lib"
	# glibc dlopen()s libgcc_s for pthread_cancel; ldd does not list it and
	# xl create aborts without it
	install -D -m 0644 /lib/x86_64-linux-gnu/libgcc_s.so.1 \
		"$r/lib/x86_64-linux-gnu/libgcc_s.so.1"
}

cpio_gz() { # root out
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) > "$2"
}

# guest (domU)
G=$OUT/guest-root
base_tree "$G"
for b in xenstore xenstore-read xenstore-write xenstore-ls xenstore-list \
	 xenstore-rm xenstore-exists xenstore-watch; do
	copy_bin "$G" /usr/bin/$b
done
install -m 0755 "$HERE/files/guest-init" "$G/init"
cpio_gz "$G" "$OUT/guest-initrd.gz"

# dom0
D=$OUT/dom0-root
base_tree "$D"
for b in xl xenstored oxenstored xenconsoled xen-init-dom0 xenstore-control \
	 test-xenstore; do
	copy_bin "$D" $XENBIN/$b
done
for b in xenstore xenstore-read xenstore-write xenstore-ls xenstore-list \
	 xenstore-rm xenstore-exists xenstore-watch xenstore-chmod; do
	copy_bin "$D" /usr/bin/$b
done
ln -s $XENBIN/xl "$D/usr/sbin/xl"
mkdir -p "$D/etc/xen" "$D/var/lib/xen" "$D/var/lib/xenstored" \
	 "$D/var/log/xen/console"
cp /etc/xen/xl.conf /etc/xen/oxenstored.conf "$D/etc/xen/"
# Debian builds the Xen drivers as modules
M=/lib/modules/$KVER/kernel/drivers/xen
mkdir -p "$D/lib/modules"
for m in xen-privcmd.ko xenfs/xenfs.ko xen-evtchn.ko xen-gntdev.ko xen-gntalloc.ko; do
	cp "$M/$m" "$D/lib/modules/"
done
mkdir -p "$D/guest"
cp /boot/vmlinuz-"$KVER" "$D/guest/vmlinuz"
cp "$OUT/guest-initrd.gz" "$D/guest/initrd.gz"
cp "$HERE/files/guest.cfg" "$D/guest/guest.cfg"
install -m 0755 "$HERE/files/dom0-init" "$D/init"
if [ -n "$DAEMON" ]; then
	copy_bin "$D" "$DAEMON" /opt/xenstored
fi
cpio_gz "$D" "$OUT/dom0-initrd.gz"

# QEMU's multiboot loader takes only the uncompressed hypervisor
zcat /boot/xen-4.17-amd64.gz > "$OUT/xen"
cp /boot/vmlinuz-"$KVER" "$OUT/vmlinuz"
rm -rf "$G" "$D"
