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
set -u

case "${XSD_TEST_DAEMON:-}" in ?*) echo "SKIP: sim backend and restarts are ours" >&2; exit 77 ;; esac
[ -x "${XSD_DAEMON_BIN:-}" ] || { echo "SKIP: XSD_DAEMON_BIN not built" >&2; exit 77; }
[ -x "${XS_GUEST:-}" ] || { echo "SKIP: XS_GUEST not built" >&2; exit 77; }

DIR=$(mktemp -d /tmp/xsd-torn.XXXXXX)
SIM=$DIR/sim
mkdir "$SIM"
export XENSTORED_PATH=$DIR/socket
DPID=""
GPID=""

cleanup() {
	[ -n "$GPID" ] && kill "$GPID" 2>/dev/null
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -z "${XSD_KEEP:-}" ] && rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
	echo "FAIL: $*"
	tail -n 30 "$DIR/daemon.log"
	exit 1
}

# start_daemon [HOOK]: HOOK arms XSD_TEST_JOURNAL_KILL for this run
start_daemon() {
	if [ -n "${1:-}" ]; then
		XSD_TEST_JOURNAL_KILL=$1 "$XSD_DAEMON_BIN" -N --socket "$DIR/socket" \
			--store "$DIR/store" --backend "sim:$SIM" -V \
			</dev/null >>"$DIR/daemon.log" 2>&1 3>&- &
	else
		"$XSD_DAEMON_BIN" -N --socket "$DIR/socket" --store "$DIR/store" \
			--backend "sim:$SIM" -V </dev/null >>"$DIR/daemon.log" 2>&1 3>&- &
	fi
	DPID=$!
	i=0
	until xenstore-exists / 2>/dev/null; do
		kill -0 "$DPID" 2>/dev/null || fail "daemon exited at start"
		[ $i -lt 200 ] || fail "daemon not answering after 10 s"
		sleep 0.05
		i=$((i + 1))
	done
}

g() { _d=$1; shift; "$XS_GUEST" --dir "$SIM" --domid "$_d" --timeout 20000 "$@"; }

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
	start_daemon "$mode"
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
