#!/bin/sh
# Guests survive kill -9 of the daemon (DESIGN.md, contract 4). Simulated
# guests (tools/xs-guest over --backend sim:DIR) increment counters in
# transactions (retrying on EAGAIN) while the daemon is killed with -9 at
# random moments and restarted on the same store and backend, ROUNDS
# times. The guests' processes live through every restart. Then:
#   - every guest saw its increments acknowledged as 1, 2, ... N with no
#     gap (none lost) and no repeat (none applied twice), and no error;
#   - the counter in the store is N (nothing applied unacknowledged);
#   - a guest writing values of 3000 bytes (a request spans several ring
#     fills, so kills land in the middle of one) sees every write succeed
#     and the last one stored;
#   - a watch set before the first kill fires after the last restart;
#   - a transaction open at a kill ends with EAGAIN, its write not applied.
#
# Needs our daemon (XSD_DAEMON_BIN) and xs-guest (XS_GUEST).
. "$(dirname "$0")/restart-lib.sh"

ROUNDS=${CRASH_ROUNDS:-20}
GUESTS="11 12 13"
DAEMON_ARGS="-S 4000"
FEEDERS=""
WORKERS=""

# more children than restart-lib.sh's cleanup knows (its trap calls this)
cleanup() {
	touch "$DIR/stop"
	for p in $FEEDERS $WORKERS; do kill "$p" 2>/dev/null; done
	[ -n "$DPID" ] && kill "$DPID" 2>/dev/null && wait "$DPID" 2>/dev/null
	[ -z "${XSD_KEEP:-}" ] && rm -rf "$DIR"
}

# a random delay in seconds, from 0.05 to 0.6
rand_delay() {
	awk -v s="$(od -An -N4 -tu4 /dev/urandom)" \
		'BEGIN { srand(s); printf "%.2f\n", 0.05 + rand() * 0.55 }'
}

start_daemon
for d in $GUESTS; do
	[ "$(g "$d" --fresh introduce)" = OK ] || fail "introduce $d"
	[ "$(g "$d" 'watch data/w tok')" = OK ] || fail "watch of $d"
done

# One long-lived guest process per domain, fed until the stop file exists.
for d in $GUESTS; do
	mkfifo "$DIR/in.$d"
	(while [ ! -e "$DIR/stop" ]; do
		for i in 1 2 3 4 5 6 7 8; do echo "atomic-inc data/c"; done
	 done >"$DIR/in.$d") &
	FEEDERS="$FEEDERS $!"
	g "$d" <"$DIR/in.$d" >"$DIR/out.$d" 2>"$DIR/err.$d" &
	WORKERS="$WORKERS $!"
done

# requests larger than the ring: partial requests at the kills
BIG=15
PAD=$(printf '%3000s' '' | tr ' ' x)
[ "$(g $BIG --fresh introduce)" = OK ] || fail "introduce $BIG"
mkfifo "$DIR/in.big"
(i=0; while [ ! -e "$DIR/stop" ]; do
	i=$((i + 1)); echo "write data/big $i-$PAD"
 done >"$DIR/in.big") &
FEEDERS="$FEEDERS $!"
g $BIG <"$DIR/in.big" >"$DIR/out.big" 2>&1 &
WORKERS="$WORKERS $!"

r=0
while [ $r -lt "$ROUNDS" ]; do
	r=$((r + 1))
	sleep "$(rand_delay)"
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null
	echo "round $r: killed after $(for d in $GUESTS; do wc -l <"$DIR/out.$d"; done | tr '\n' ' ')acknowledged increments"
	start_daemon
done
sleep 0.3
touch "$DIR/stop"
for p in $FEEDERS; do wait "$p"; done
FEEDERS=""
for p in $WORKERS; do
	wait "$p" || fail "a guest stopped with status $? (daemon stopped answering)"
done
WORKERS=""

FAILS=0
for d in $GUESTS; do
	n=$(wc -l <"$DIR/out.$d")
	bad=$(awk '$1 != NR { print NR": "$0; exit }' "$DIR/out.$d")
	if [ -n "$bad" ]; then
		echo "FAIL domain $d: acknowledged values not 1..$n, line $bad"
		FAILS=$((FAILS + 1))
	fi
	v=$(xenstore-read "/local/domain/$d/data/c")
	if [ "$v" != "$n" ]; then
		echo "FAIL domain $d: counter $v after $n acknowledged increments"
		FAILS=$((FAILS + 1))
	else
		echo "ok   domain $d: $n increments, none lost or doubled," \
			"$(awk '$2 > 1' "$DIR/out.$d" | wc -l) retried on EAGAIN"
	fi
	if [ -s "$DIR/err.$d" ]; then
		echo "FAIL domain $d: $(head -n 3 "$DIR/err.$d")"
		FAILS=$((FAILS + 1))
	fi
done

n=$(wc -l <"$DIR/out.big")
v=$(xenstore-read "/local/domain/$BIG/data/big")
if [ "$(grep -vc '^OK$' "$DIR/out.big")" != 0 ]; then
	echo "FAIL large writes: $(grep -v '^OK$' "$DIR/out.big" | head -n 3)"
	FAILS=$((FAILS + 1))
elif [ "$v" != "$n-$PAD" ]; then
	echo "FAIL large writes: ${v%%-*} stored after $n acknowledged"
	FAILS=$((FAILS + 1))
else
	echo "ok   domain $BIG: $n writes of 3000 bytes, the last one stored"
fi

# watches are still registered: an event after the last restart
for d in $GUESTS; do
	xenstore-write "/local/domain/$d/data/w/after" 1
	ev=$(g "$d" 'wait-event tok 5000')
	if [ "$ev" = "data/w/after tok" ]; then
		echo "ok   domain $d: its watch fires after the restarts"
	else
		echo "FAIL domain $d: watch event [$ev]"
		FAILS=$((FAILS + 1))
	fi
done

# a transaction open across a kill: its end answers EAGAIN, nothing applied
[ "$(g 14 --fresh introduce)" = OK ] || fail "introduce 14"
mkfifo "$DIR/tx.in"
# created here: the guest's shell opens it only once the fifo has a writer,
# and the wait below must not read a missing file as "done"
: >"$DIR/tx.out"
g 14 <"$DIR/tx.in" >>"$DIR/tx.out" 2>&1 &
TXG=$!
WORKERS=$TXG
exec 3>"$DIR/tx.in"
printf 'txn-start\nwrite data/t in-txn\n' >&3
i=0
while [ "$(wc -l <"$DIR/tx.out")" -lt 2 ] && [ $i -lt 400 ]; do
	sleep 0.05; i=$((i + 1))
done
[ "$(wc -l <"$DIR/tx.out")" -ge 2 ] ||
	fail "transaction not started in 20 s: $(cat "$DIR/tx.out")"
kill -9 "$DPID"
wait "$DPID" 2>/dev/null
start_daemon
printf 'txn-commit\nread data/t\natomic-inc data/t\n' >&3
exec 3>&-
wait "$TXG"
WORKERS=""
got=$(tail -n +2 "$DIR/tx.out" | tr '\n' '|')
if [ "$got" = "OK|ERR EAGAIN|ERR ENOENT|1 1|" ]; then
	echo "ok   an open transaction ends with EAGAIN after the restart"
else
	echo "FAIL open transaction across the restart: [$got]"
	FAILS=$((FAILS + 1))
fi

[ $FAILS -eq 0 ] || fail "$FAILS failure(s)"
echo "PASS: $ROUNDS kill -9 rounds"
