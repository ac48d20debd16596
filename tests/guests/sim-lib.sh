# sim-lib.sh - sourced by the guest tests that run one daemon on simulated
# rings (guests.sh, quota.sh, wrl.sh, fault-idle.sh).
# Usage: . "$(dirname "$0")/sim-lib.sh"; sim_start [DAEMON ARGS...]
# Sets SIM (the rings' folder, removed at exit), CTL, FAILS; g DOMID ...
# runs xs-guest as that domain; check WHAT EXPECTED ACTUAL counts a
# failure; sim_finish ends the test with the verdict.
set -u
. "$(dirname "$0")/../lib/daemon.sh"

# the reference daemons have no simulated backend
case "${XSD_TEST_DAEMON:-}" in peer|opeer) echo "SKIP: sim backend is ours" >&2; exit 77 ;; esac
[ -x "${XS_GUEST:-}" ] || { echo "SKIP: XS_GUEST not built" >&2; exit 77; }

FAILS=0
CTL=/usr/lib/xen-4.17/bin/xenstore-control

sim_start() {
	SIM=$(mktemp -d "/tmp/xsd-$(basename "$0" .sh).XXXXXX")
	xsd_start --backend "sim:$SIM" "$@"
	# xsd_on_exit keeps the exit status it finds in $?: give it the test's
	trap '_st=$?; rm -rf "$SIM"; (exit $_st); xsd_on_exit' EXIT
}

g() { _d=$1; shift; "$XS_GUEST" --dir "$SIM" --domid "$_d" "$@"; }

check() {
	if [ "$2" = "$3" ]; then
		echo "ok   $1"
	else
		echo "FAIL $1: expected [$2], got [$3]"
		FAILS=$((FAILS + 1))
	fi
}

lines() { printf '%s\n' "$@"; }

sim_finish() {
	[ $FAILS -eq 0 ] || { echo "$FAILS check(s) failed"; exit 1; }
	echo "all checks passed"
}
