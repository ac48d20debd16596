#!/bin/sh
# The store's error policy on the running daemon (docs/STORE-FORMAT.md,
# "Errors"): while the journal cannot be written, a write is not
# acknowledged; once the disk answers again it is, exactly once, and it
# survives kill -9. A failing Git writer loses nothing either.
. "$(dirname "$0")/../lib/daemon.sh"

[ -n "${XSD_TEST_DAEMON:-}" ] && { echo "SKIP: CONTROL store-fault is ours"; exit 77; }
xsd_start
CTL=/usr/lib/xen-4.17/bin/xenstore-control
STORE=$XSD_DIR/store

# 1. journal writes fail 5 times: the reply waits for the retries
$CTL store-fault journal ENOSPC 5 >/dev/null || xsd_fail "store-fault refused"
xenstore-write /fault/a held || xsd_fail "write failed instead of waiting"
grep -q 'journal write failed' "$XSD_DIR/daemon.log" ||
	xsd_fail "no journal failure logged: $(cat "$XSD_DIR/daemon.log")"
[ "$(xenstore-read /fault/a)" = held ] || xsd_fail "value lost in memory"

# Waits (5 s at most, reading to keep the loop turning: it looks once a
# second) until the log has said "$1" $2 times.
logged() {
	i=0
	until [ "$(grep -c "$1" "$XSD_DIR/daemon.log")" -ge "$2" ]; do
		i=$((i + 1)); [ $i -gt 100 ] && xsd_fail "log: \"$1\" not $2 times"
		xenstore-read /fault/a >/dev/null; sleep 0.05
	done
}

# 2. the Git writer fails: writes are still acknowledged from the journal,
# and the log says it fails, then that it is healthy again. Then the same
# with its pack failing inside commits: an object that cannot be added,
# a torn write of the pack file.
n=0
for f in "pack EIO 3" "pack-entry ENOMEM 3" "pack-file EIO 2"; do
	n=$((n + 1))
	$CTL store-fault $f >/dev/null || xsd_fail "store-fault $f refused"
	for i in 1 2 3 4 5; do
		xenstore-write /fault/b$n$i v$i || xsd_fail "write b$n$i"
	done
	logged 'Git writer failing' $n
	logged 'Git writer healthy again' $n
done

# 3. kill -9, restart on the same store: everything acknowledged is there
kill -9 "$XSD_PID"; wait "$XSD_PID" 2>/dev/null
"$XSD_DAEMON_BIN" -N --socket "$XSD_DIR/socket" --store "$STORE" \
	</dev/null >>"$XSD_DIR/daemon.log" 2>&1 &
XSD_PID=$!
i=0; until xenstore-exists / 2>/dev/null; do
	i=$((i + 1)); [ $i -gt 100 ] && xsd_fail "no restart"; sleep 0.05
done
[ "$(xenstore-read /fault/a)" = held ] || xsd_fail "/fault/a lost after kill -9"
for n in 1 2 3; do
	for i in 1 2 3 4 5; do
		[ "$(xenstore-read /fault/b$n$i)" = v$i ] ||
			xsd_fail "/fault/b$n$i lost after kill -9"
	done
done
$CTL check >/dev/null || xsd_fail "CONTROL check after recovery"

# 4. history: the held write is one commit, not one per retry
kill "$XSD_PID"; wait "$XSD_PID" 2>/dev/null
XSD_PID=""
n=$(git --git-dir="$STORE" log --format=%s | grep -c '^write /fault/a$')
[ "$n" = 1 ] || xsd_fail "write /fault/a is in $n commits, not 1"
git --git-dir="$STORE" fsck --no-progress >/dev/null 2>&1 || xsd_fail "git fsck"
echo "store-fault: ok"
