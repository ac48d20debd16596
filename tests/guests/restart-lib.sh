# restart-lib.sh - sourced by the guest tests that kill -9 the daemon and
# start it again on the same store and simulated rings (crash.sh, torn.sh,
# reconnect-crash.sh). Usage: . "$(dirname "$0")/restart-lib.sh"
# Sets DIR (removed at exit unless XSD_KEEP is set), SIM, XENSTORED_PATH,
# DPID (the daemon) and GPID (a guest run in the background, killed at
# exit); a caller with more children sets its own EXIT trap.
set -u

case "${XSD_TEST_DAEMON:-}" in ?*) echo "SKIP: sim backend and restarts are ours" >&2; exit 77 ;; esac
[ -x "${XSD_DAEMON_BIN:-}" ] || { echo "SKIP: XSD_DAEMON_BIN not built" >&2; exit 77; }
[ -x "${XS_GUEST:-}" ] || { echo "SKIP: XS_GUEST not built" >&2; exit 77; }

DIR=$(mktemp -d "/tmp/xsd-$(basename "$0" .sh).XXXXXX")
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

# start_daemon [VAR=VALUE ...]: the daemon on DIR's store and SIM's rings,
# with those variables in its environment (the test-only kill hooks) and
# DAEMON_ARGS on its command line; returns once it answers
start_daemon() {
	# shellcheck disable=SC2086
	env "$@" "$XSD_DAEMON_BIN" -N --socket "$DIR/socket" --store "$DIR/store" \
		--backend "sim:$SIM" -V ${DAEMON_ARGS:-} \
		</dev/null >>"$DIR/daemon.log" 2>&1 3>&- &
	DPID=$!
	# the socket of a killed daemon stays: wait for an answer instead
	i=0
	until xenstore-exists / 2>/dev/null; do
		kill -0 "$DPID" 2>/dev/null || fail "daemon exited at start"
		[ $i -lt 200 ] || fail "daemon not answering after 10 s"
		sleep 0.05
		i=$((i + 1))
	done
}

g() { _d=$1; shift; "$XS_GUEST" --dir "$SIM" --domid "$_d" --timeout 20000 "$@"; }
