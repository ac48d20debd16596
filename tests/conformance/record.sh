#!/bin/sh
# record.sh [corpus/NAME.xs...] - record golden replies from the reference
# daemon (Debian 4.17 cxenstored, run socket-only by ../shared/peer).
# Each corpus file gets a fresh daemon, so files do not depend on each
# other. Writes golden/NAME.out. Needs the peer scripts; the test that
# compares does not.
#   PEER_DIR  where start-peer.sh lives (default /work/shared/peer)
#   XS_REPLAY an xs-replay binary (default: built into a temp dir)
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
PEER_DIR=${PEER_DIR:-/work/shared/peer}
TMP=$(mktemp -d /tmp/xs-record.XXXXXX)
PID=""
cleanup() {
	if [ -n "$PID" ]; then "$PEER_DIR/stop-peer.sh" "$TMP/peer" >/dev/null 2>&1 || true; fi
	rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
if [ -z "${XS_REPLAY:-}" ]; then
	XS_REPLAY=$TMP/xs-replay
	cc -std=gnu11 -O2 -Wall -Wextra -Werror -o "$XS_REPLAY" "$HERE/xs-replay.c"
fi
[ $# -gt 0 ] || set -- "$HERE"/corpus/*.xs
for f in "$@"; do
	name=$(basename "$f" .xs)
	PID=$("$PEER_DIR/start-peer.sh" "$TMP/peer" c)
	"$XS_REPLAY" -s "$TMP/peer/socket" "$f" > "$HERE/golden/$name.out"
	# A reference that died during the corpus is recorded as such, loudly.
	if grep -q " => REFUSED\| => CLOSED" "$HERE/golden/$name.out" && grep -q Assertion "$TMP/peer/daemon.log"; then
		echo "warning: the reference daemon died during $name:" >&2
		tail -c 300 "$TMP/peer/daemon.log" >&2; echo >&2
	fi
	"$PEER_DIR/stop-peer.sh" "$TMP/peer" >/dev/null 2>&1 || true
	PID=""
	echo "recorded golden/$name.out ($(grep -c ' => ' "$HERE/golden/$name.out") replies)"
done
