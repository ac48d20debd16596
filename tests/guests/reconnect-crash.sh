#!/bin/sh
# A guest's request to reconnect and a kill -9 of the daemon right after
# it was handled, before the iteration's barrier (DESIGN.md, contract 4):
# the guest must never see a reset ring while the saved state still
# describes its old session, which a restart would then restore onto the
# new one (old watches firing, old output, old transactions). The
# test-only hook XSD_TEST_KILL_AT_RECONNECT makes the daemon kill itself
# at that point. After the restart the reconnection completes, the old
# watch is gone and the ring serves.
#
# Needs our daemon (XSD_DAEMON_BIN) and xs-guest (XS_GUEST).
. "$(dirname "$0")/restart-lib.sh"

D=11
FAILS=0
start_daemon
[ "$(g $D --fresh introduce)" = OK ] || fail "introduce $D"
[ "$(g $D 'watch data/w tok')" = OK ] || fail "watch"

kill -9 "$DPID"
wait "$DPID" 2>/dev/null
start_daemon XSD_TEST_KILL_AT_RECONNECT=1
g $D reconnect >"$DIR/out" 2>&1 &
GPID=$!
i=0
while kill -0 "$DPID" 2>/dev/null; do
	[ $i -lt 200 ] || fail "the hook did not fire in 10 s"
	sleep 0.05
	i=$((i + 1))
done
wait "$DPID" 2>/dev/null
start_daemon
wait "$GPID" || fail "reconnect failed: $(cat "$DIR/out")"
GPID=""
[ "$(cat "$DIR/out")" = OK ] || fail "reconnect: $(cat "$DIR/out")"

xenstore-write "/local/domain/$D/data/w/after" 1
ev=$(g $D 'wait-event tok 1000')
if [ "$ev" = NONE ]; then
	echo "ok   the old session's watch is gone after the reconnection"
else
	echo "FAIL the old session came back onto the new one: event [$ev]"
	FAILS=$((FAILS + 1))
fi
got=$(g $D 'write r 1' 'read r' | tr '\n' '|')
if [ "$got" = "OK|1|" ]; then
	echo "ok   the ring serves the new session"
else
	echo "FAIL the new session: [$got]"
	FAILS=$((FAILS + 1))
fi

[ $FAILS -eq 0 ] || fail "$FAILS failure(s)"
echo "PASS"
