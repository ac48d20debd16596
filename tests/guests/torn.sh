#!/bin/sh
# A guest's request is applied once and answered once when kill -9 lands
# in the middle of the journal write that holds its effect (DESIGN.md,
# contract 4). The daemon's test hook XSD_TEST_JOURNAL_KILL makes it kill
# itself at the first journal write holding a commit:
#   mid    after the batch's first record (the commit of a guest's
#          TRANSACTION_END) and before the rest (the guest's ring state),
#          as the kernel leaves a write() that SIGKILL cut at a page
#          boundary: the commit must not count, the guest's retry does;
#   after  after the whole batch, before the reply leaves: the commit
#          counts and its reply comes from the saved ring state.
# Either way the guest sees each increment acknowledged once, in order,
# and the counter equals the number acknowledged.
#
# Needs our daemon (XSD_DAEMON_BIN) and xs-guest (XS_GUEST).
. "$(dirname "$0")/restart-lib.sh"

D=11
start_daemon
[ "$(g $D --fresh introduce)" = OK ] || fail "introduce $D"
got=$(g $D 'atomic-inc data/c')
[ "${got%% *}" = 1 ] || fail "first increment: [$got]"
N=1
FAILS=0

for mode in mid after mid after; do
	# restart with the hook armed; the guest's next commit kills it
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	start_daemon XSD_TEST_JOURNAL_KILL="$mode"
	g $D 'atomic-inc data/c' >"$DIR/out" 2>&1 &
	GPID=$!
	i=0
	while kill -0 "$DPID" 2>/dev/null; do
		[ $i -lt 200 ] || fail "$mode: the hook did not fire in 10 s"
		sleep 0.05
		i=$((i + 1))
	done
	wait "$DPID" 2>/dev/null
	grep -q "test hook" "$DIR/daemon.log" || fail "$mode: no hook in the log"
	start_daemon
	wait "$GPID" || fail "$mode: the guest failed: $(cat "$DIR/out")"
	GPID=""
	N=$((N + 1))
	got=$(cat "$DIR/out")
	v=$(xenstore-read "/local/domain/$D/data/c")
	if [ "${got%% *}" != "$N" ] || [ "$v" != "$N" ]; then
		echo "FAIL $mode: increment $N acknowledged as [$got], counter $v"
		FAILS=$((FAILS + 1))
	else
		echo "ok   $mode: increment $N acknowledged once, counter $v" \
			"(attempts: ${got#* })"
	fi
done

[ $FAILS -eq 0 ] || fail "$FAILS failure(s)"
echo "PASS"
