#!/bin/bash
# Boots Xen 4.17 + the dom0 initramfs in QEMU (TCG), lets files/dom0-init
# run its checks, and exits 0 only if it printed "XENTEST RESULT: PASS".
#
# Usage: boot.sh BUILD LOGFILE [dom0 kernel args, e.g. XENSTORED=cxenstored]
# Env: ACCEL=tcg  CPU=qemu64 (QEMU's -cpu)  BOOT_WAIT=120 (seconds until dom0 userspace)  TIMEOUT=720 (seconds, whole VM)  SMP=1  MEM=2048
#      INTERACTIVE=1: serial on the terminal and a dom0 shell at the end
#      (Ctrl-a x quits)
set -uo pipefail
BUILD=${1:?usage: boot.sh BUILD LOGFILE [ARGS]}
LOG=${2:?usage: boot.sh BUILD LOGFILE [ARGS]}
shift 2
DOM0_EXTRA="$*"
ACCEL=${ACCEL:-tcg}; CPU=${CPU:-qemu64}; TIMEOUT=${TIMEOUT:-720}; SMP=${SMP:-1}; MEM=${MEM:-2048}
# smap=0: under TCG, Xen with SMAP kills dom0 at its first bounce frame.
# CPU=qemu64: with -cpu max, under host load, processes in dom0 and in the
# guest died of memory corruption, whatever the daemon (README.md).
# SMP=1: on a loaded 2-core host a run takes half the time of two vCPUs.
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=1024M,max:1024M dom0_max_vcpus=$SMP smap=0 loglvl=all guest_loglvl=all"
DOM0_ARGS="console=hvc0 earlyprintk=xen rdinit=/init loglevel=5 $DOM0_EXTRA"
QEMU=(qemu-system-x86_64 -machine q35 -accel "$ACCEL" -cpu "$CPU" -smp "$SMP"
      -m "$MEM" -nic none -no-reboot -kernel "$BUILD/xen" -append "$XEN_ARGS")

if [ "${INTERACTIVE:-0}" = 1 ]; then
	exec "${QEMU[@]}" -nographic \
		-initrd "$BUILD/vmlinuz $DOM0_ARGS XTSHELL=1 DEADLINE=86400,$BUILD/dom0-initrd.gz"
fi
# Under TCG on a loaded machine the dom0 kernel has been seen to hang once
# before userspace: that attempt is abandoned after BOOT_WAIT seconds and the
# VM booted again, once. Anything after userspace started counts.
BOOT_WAIT=${BOOT_WAIT:-120}
attempt() {
	rm -f "$BUILD/qemu.pid"
	# the multiboot module list is "file args,file args"
	timeout --foreground "$TIMEOUT" "${QEMU[@]}" \
		-display none -serial stdio -monitor none -pidfile "$BUILD/qemu.pid" \
		-initrd "$BUILD/vmlinuz $DOM0_ARGS,$BUILD/dom0-initrd.gz" < /dev/null 2>&1 |
		perl -MTime::HiRes=time -ne 'BEGIN{$|=1;$t0=time} printf("[%7.2f] %s",time-$t0,$_)' \
		> "$LOG" &
	local vm=$! i=0
	until grep -q DOM0_INIT_STARTED "$LOG" 2>/dev/null; do
		if ! kill -0 $vm 2>/dev/null; then
			break
		fi
		i=$((i + 1))
		if [ $i -gt "$BOOT_WAIT" ]; then
			echo "dom0 userspace not reached after ${BOOT_WAIT}s"
			[ -s "$BUILD/qemu.pid" ] && kill "$(cat "$BUILD/qemu.pid")" 2>/dev/null
			wait $vm
			return 2
		fi
		sleep 1
	done
	wait $vm
}
attempt
if [ $? = 2 ]; then
	mv "$LOG" "$LOG.hung"
	echo "booting again (the hung attempt's log: $LOG.hung)"
	attempt
fi
grep -E 'XENTEST|DOM0_|GUEST_DONE|GUEST_XENSTORE|XENSTORED_READY|CHECK|STAGE|panic|crashed' "$LOG"
grep -q 'XENTEST RESULT: PASS' "$LOG"
