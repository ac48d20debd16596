# daemon.sh - sourced by test scripts: start the daemon under test on a
# private socket in a temp dir, and stop it (by pid) however the test ends.
#
#   . tests/lib/daemon.sh
#   xsd_start [ARGS]     # sets XENSTORED_PATH/XENSTORED_RUNDIR, XSD_DIR, XSD_PID
#                        # (ARGS go to our daemon only, not to a peer)
#   ... run clients ...
#   (xsd_stop runs from an EXIT trap; it fails the test if the daemon died)
#
# Which daemon, from $XSD_TEST_DAEMON:
#   peer      Debian's cxenstored via ../shared/peer/start-peer.sh (reference)
#   opeer     Debian's oxenstored, the same way
#   <path>    a daemon binary taking -N --socket PATH --store DIR
#             (XSD_NO_PERSIST=1: --no-persist instead)
#   (unset)   $XSD_DAEMON_BIN, set by meson to the project's daemon
# Without any, the test is skipped (exit 77, meson's "skip").
# PEER_DIR overrides where start-peer.sh lives (default /work/shared/peer).

XSD_PID=""
XSD_EXTRA_PIDS=""   # helper processes a test started: killed by xsd_stop
XSD_KIND=""
XSD_DIR=""

xsd_fail() {
	echo "FAIL: $*" >&2
	exit 1
}

xsd_stop() {
	_rc=0
	for _p in $XSD_EXTRA_PIDS; do kill "$_p" 2>/dev/null; done
	XSD_EXTRA_PIDS=""
	if [ -n "$XSD_PID" ]; then
		if ! kill -0 "$XSD_PID" 2>/dev/null; then
			echo "FAIL: the daemon (pid $XSD_PID) died during the test" >&2
			[ -f "$XSD_DIR/daemon.log" ] && tail -n 20 "$XSD_DIR/daemon.log" >&2
			_rc=1
		fi
		case "$XSD_KIND" in
		peer|opeer)
			"${PEER_DIR:-/work/shared/peer}/stop-peer.sh" "$XSD_DIR" >/dev/null 2>&1 ;;
		*)
			kill "$XSD_PID" 2>/dev/null
			_i=0
			while kill -0 "$XSD_PID" 2>/dev/null && [ $_i -lt 50 ]; do
				sleep 0.1; _i=$((_i + 1))
			done
			kill -0 "$XSD_PID" 2>/dev/null && kill -9 "$XSD_PID" 2>/dev/null
			wait "$XSD_PID" 2>/dev/null
			if [ -d "$XSD_DIR/store" ] &&
			   ! git --git-dir="$XSD_DIR/store" fsck --no-progress >"$XSD_DIR/fsck.log" 2>&1; then
				echo "FAIL: git fsck of the daemon's store:" >&2
				cat "$XSD_DIR/fsck.log" >&2
				_rc=1
			fi ;;
		esac
		XSD_PID=""
	fi
	[ -n "$XSD_DIR" ] && [ -z "${XSD_KEEP:-}" ] && rm -rf "$XSD_DIR"
	XSD_DIR=""
	return $_rc
}

# EXIT trap: keep the test's status, but a daemon that died fails it.
xsd_on_exit() {
	_st=$?
	xsd_stop || _st=1
	exit $_st
}

xsd_start() {
	_which=${XSD_TEST_DAEMON:-${XSD_DAEMON_BIN:-}}
	if [ -z "$_which" ]; then
		echo "SKIP: no daemon (set XSD_TEST_DAEMON=peer or a binary path)" >&2
		exit 77
	fi
	XSD_DIR=$(mktemp -d /tmp/xsd-test.XXXXXX)
	trap xsd_on_exit EXIT
	trap 'exit 130' INT TERM
	case "$_which" in
	peer|opeer)
		XSD_KIND=$_which
		_k=c; [ "$_which" = opeer ] && _k=o
		XSD_PID=$("${PEER_DIR:-/work/shared/peer}/start-peer.sh" "$XSD_DIR" $_k) ||
			xsd_fail "reference daemon did not start"
		;;
	*)
		XSD_KIND=bin
		[ -x "$_which" ] || xsd_fail "$_which is not executable"
		# the real mode: every commit persisted in a Git store, which
		# xsd_stop checks with git fsck after the clean shutdown
		_persist="--store $XSD_DIR/store"
		[ "${XSD_NO_PERSIST:-0}" = 1 ] && _persist=--no-persist
		"$_which" -N --socket "$XSD_DIR/socket" $_persist "$@" \
			</dev/null >"$XSD_DIR/daemon.log" 2>&1 &
		XSD_PID=$!
		_i=0
		while [ ! -S "$XSD_DIR/socket" ] && [ $_i -lt 100 ]; do
			kill -0 "$XSD_PID" 2>/dev/null || xsd_fail "daemon exited at start: $(cat "$XSD_DIR/daemon.log")"
			sleep 0.05; _i=$((_i + 1))
		done
		[ -S "$XSD_DIR/socket" ] || xsd_fail "no socket after 5 s"
		;;
	esac
	XENSTORED_RUNDIR=$XSD_DIR
	XENSTORED_PATH=$XSD_DIR/socket
	export XENSTORED_RUNDIR XENSTORED_PATH
}
