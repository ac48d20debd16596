#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need, if missing.
set -euo pipefail

pkgs=(
  # build
  meson ninja-build pkg-config gcc libc6-dev
  libgit2-dev libuv1-dev libxen-dev uthash-dev zlib1g-dev libssl-dev
  # tests: unit framework, real clients, reference tools
  libcriterion-dev xenstore-utils xen-utils-4.17 git
  # sanitizer runtime for the ASan+UBSan run
  libclang-rt-14-dev
  # the real-hypervisor suite: Xen 4.17 and a Debian dom0 under QEMU (TCG)
  qemu-system-x86 linux-image-amd64 busybox-static cpio perl
  xen-hypervisor-4.17-amd64
)

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
echo "installing: ${missing[*]}" >&2
$SUDO apt-get update -q >&2
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}" >&2
