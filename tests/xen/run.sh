#!/bin/bash
# The real-hypervisor test: Xen 4.17 and a Debian dom0 in QEMU (TCG), the
# project's xenstored in dom0 serving dom0's ring, the socket and a PV
# guest; the checks themselves are in files/dom0-init.
#
# Usage: run.sh DAEMON [WORKDIR]
# Env: XEN_RECOVERY=xfail (default) | require | skip
#        xfail: the kill -9 recovery stage runs and is reported, but only
#        the main checks decide the exit status; require: both do
#      XENSTORED=cxenstored|oxenstored: run the same checks against
#        Debian's daemon (to tell a test problem from a daemon problem)
#      XEN_KEEP=1: keep WORKDIR (images and the serial log)
# Exit: 0 pass, 1 fail, 77 skip (no QEMU, kernel, hypervisor or daemon).
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
DAEMON=${1:-}
WORK=${2:-}
skip() { echo "SKIP: $*"; exit 77; }

[ -n "$DAEMON" ] && [ -x "$DAEMON" ] || skip "the project's xenstored is not built"
command -v qemu-system-x86_64 >/dev/null || skip "qemu-system-x86 is not installed"
ls /boot/vmlinuz-* >/dev/null 2>&1 || skip "no kernel in /boot (linux-image-amd64)"
[ -e /boot/xen-4.17-amd64.gz ] || skip "no hypervisor (xen-hypervisor-4.17-amd64)"
for p in busybox cpio perl /usr/lib/xen-4.17/bin/xl /usr/bin/xenstore-read; do
	command -v "$p" >/dev/null || skip "$p is missing"
done
[ -e /bin/busybox ] || skip "/bin/busybox is missing (busybox-static)"
# the VM takes 2 GiB
avail=$(awk '/^MemAvailable:/ {print int($2 / 1024)}' /proc/meminfo)
[ "${avail:-0}" -ge 2300 ] || skip "only ${avail} MiB of memory available, 2300 needed"

if [ -z "$WORK" ]; then
	WORK=$(mktemp -d /tmp/xsd-xen.XXXXXX)
	[ -n "${XEN_KEEP:-}" ] || trap 'rm -rf "$WORK"' EXIT
else
	mkdir -p "$WORK"
fi
LOG=$WORK/serial.log
"$HERE/build-rootfs.sh" "$WORK" "$DAEMON" || { echo "FAIL: building the images"; exit 1; }

mode=${XEN_RECOVERY:-xfail}
args="XENSTORED=${XENSTORED:-project}"
[ "$mode" = skip ] && args="$args RECOVERY=0"
# TCG on a loaded 2-core machine is slow and uneven (a dom0 stuck in early
# boot was seen). A failed first run is therefore booted once more, and its
# failed checks are printed as FLAKY so that they stay visible; a second
# failure fails the test. (Guest stalls and a hung `xl shutdown -w` seen
# earlier were a lost ring wakeup in the daemon, fixed in ring_conn.c.)
for attempt in 1 2; do
	"$HERE/boot.sh" "$WORK" "$LOG" $args
	echo "serial log: $LOG"
	grep -q 'XENTEST RESULT: PASS' "$LOG" &&
		{ [ "$mode" != require ] || grep -q 'XENTEST RECOVERY: PASS' "$LOG"; } && break
	if [ $attempt = 1 ]; then
		echo "FLAKY: attempt 1 failed, booting once more; its failed checks:"
		grep -E 'CHECK FAIL|XENTEST RESULT|XENTEST RECOVERY' "$LOG"
		cp "$LOG" "$LOG.1"
	fi
done
main=fail
grep -q 'XENTEST RESULT: PASS' "$LOG" && ! grep -q 'XENTEST RESULT: FAIL' "$LOG" && main=pass
rec=fail
grep -q 'XENTEST RECOVERY: PASS' "$LOG" && rec=pass
if [ $main != pass ]; then
	echo "----- failed checks -----"
	grep -E 'CHECK FAIL|XENTEST|xenstored did not|DIED|panic' "$LOG" | grep -v '(recovery)'
	echo "----- daemon output (tail) -----"
	sed -n '/----- xenstored output -----/,$p' "$LOG" | tail -n 40
fi
case $mode in
skip)
	echo "recovery stage: not run" ;;
xfail)
	if [ $rec = pass ]; then
		echo "recovery stage: UNEXPECTED PASS - set XEN_RECOVERY=require in tests/xen/meson.build"
	else
		echo "recovery stage: expected failure (XFAIL) until guest recovery lands:"
		grep -E '\(recovery\)|XENTEST RECOVERY' "$LOG" | grep -v 'CHECK OK'
	fi ;;
*)
	echo "recovery stage: $rec"
	[ $rec = pass ] || grep -E '\(recovery\)|XENTEST RECOVERY' "$LOG" | grep -v 'CHECK OK'
	[ $rec = pass ] || main=fail ;;
esac
echo "main checks: $main"
[ $main = pass ]
