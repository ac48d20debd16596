#!/bin/sh
# While the journal cannot be written, a guest's reply is held (nothing
# is acknowledged that is not durable) and the daemon waits for its retry
# timer instead of polling without a timeout: its CPU time over 2 s stays
# far below a spinning loop's (~2 s). Once the disk answers, the guest
# gets its reply.
set -u
. "$(dirname "$0")/sim-lib.sh"
[ "${XSD_NO_PERSIST:-0}" = 1 ] && { echo "SKIP: needs the journal" >&2; exit 77; }

sim_start
cpu() { awk '{ print $14 + $15 }' "/proc/$XSD_PID/stat"; }

g 5 --fresh 'state running' >/dev/null || xsd_fail "sim domain 5"
xenstore-write /local/domain/5 "" && xenstore-chmod /local/domain/5 n5 ||
	xsd_fail "home of domain 5"
$CTL store-fault journal EIO 1000000 >/dev/null || xsd_fail "store-fault refused"
# the request waits in the ring before INTRODUCE: the daemon finds it when
# it attaches (from its idle handle), the path that used to spin
g 5 --timeout 20000 'write /local/domain/5/held 1' >"$SIM/write.out" 2>&1 &
GP=$!
XSD_EXTRA_PIDS="$GP"
sleep 0.3
# (raw INTRODUCE: the toolstack's would first write, and wait, itself)
g 6 'dom0 INTRODUCE 5 0 1' >"$SIM/introduce.out" 2>&1 &
IP=$!
XSD_EXTRA_PIDS="$GP $IP"
sleep 0.5
t0=$(cpu)
sleep 2
t1=$(cpu)
hz=$(getconf CLK_TCK)
used=$((t1 - t0))
echo "daemon CPU over 2 s with the journal failing: $used ticks ($hz/s)"
# a spin costs about 2 s of CPU (2 * hz); a sleeping loop a few ticks
[ "$used" -lt $((hz / 2)) ] || xsd_fail "daemon busy while waiting to retry: $used ticks in 2 s"
[ -s "$SIM/write.out" ] && xsd_fail "reply sent before it was durable: $(cat "$SIM/write.out")"

$CTL store-fault journal EIO 0 >/dev/null || xsd_fail "store-fault clear refused"
wait "$GP"; wait "$IP"
XSD_EXTRA_PIDS=""
[ "$(cat "$SIM/write.out")" = OK ] || xsd_fail "held write: $(cat "$SIM/write.out")"
[ "$(xenstore-read /local/domain/5/held)" = 1 ] || xsd_fail "held write lost"
echo "fault-idle: ok"
