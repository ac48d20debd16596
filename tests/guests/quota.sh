#!/bin/sh
# The memory quota of an unprivileged guest counts, as cxenstored 4.17 does,
# its watches (path + token), the node copies of its open transactions and
# its output not yet taken from the ring, besides its nodes:
#   - a WATCH, or a write in a transaction, past the quota answers ENOMEM;
#   - a reply over 16 bytes past it becomes ENOMEM;
#   - a watch event past it is dropped (a guest that does not read its ring
#     cannot be driven past its quota by others' writes);
# while dom0 and the other guests go on. CONTROL quota reports the total,
# CONTROL check recounts the watch part.
set -u
. "$(dirname "$0")/sim-lib.sh"

sim_start

mem() { $CTL quota "$1" | sed -n 's/^memory *: *//p'; }
setq() { g "$1" "dom0 SET_QUOTA $1 memory $2" >/dev/null; }
GLOBAL=$(g 0 'dom0 GET_QUOTA memory')

for d in 5 6; do check "introduce $d" OK "$(g "$d" --fresh introduce)"; done

# --- watches: path (absolute, as canonicalized) + token
xenstore-write /local/domain/5/short 1 /local/domain/5/long "$(head -c 100 /dev/zero | tr '\0' l)"
m0=$(mem 5)
check "watch" OK "$(g 5 'watch /local/domain/5/wm tokABC' | sed -n 1p)"
check "a watch costs its path and token" $((m0 + 18 + 6)) "$(mem 5)"
check "relative watch" OK "$(g 5 'watch wm2 t' | sed -n 1p)"
check "a relative watch costs its absolute path" $((m0 + 24 + 19 + 1)) "$(mem 5)"
check "unwatch" OK "$(g 5 'unwatch wm2 t')"
check "unwatch gives it back" $((m0 + 24)) "$(mem 5)"
setq 5 $((m0 + 30))
check "a watch past the quota: ENOMEM" "ERR ENOMEM" "$(g 5 'watch /local/domain/5/wm tokDEF')"
check "another guest watches meanwhile" OK "$(g 6 'watch /local/domain/6/wm tokDEF' | sed -n 1p)"
check "a short reply passes" 1 "$(g 5 'read short')"
check "a reply over 16 bytes past the quota: ENOMEM" "ERR ENOMEM" "$(g 5 'read long')"
check "CONTROL check recounts" OK "$($CTL check 2>&1 || echo failed)"
setq 5 "$GLOBAL"
g 5 reset-watches >/dev/null
g 6 reset-watches >/dev/null
check "RESET_WATCHES gives it back" "$m0" "$(mem 5)"

# --- transactions: the copy of each node changed, until the end
v500=$(head -c 500 /dev/zero | tr '\0' t)
g 5 "write tx/a $v500" >/dev/null
m1=$(mem 5)
g 5 txn-start 'write tx/a b' >/dev/null   # left open by the guest
m2=$(mem 5)
[ "$m2" -gt $((m1 + 500)) ] ||
	{ echo "FAIL an open transaction's copy is charged: $m1 then $m2"; FAILS=$((FAILS + 1)); }
g 5 reset-watches >/dev/null              # ends its transactions
check "its end gives it back" "$m1" "$(mem 5)"
setq 5 $((m1 + 100))
check "a write in a transaction past the quota: ENOMEM" "$(lines OK 'ERR ENOMEM')" \
	"$(g 5 txn-start 'write tx/a b' 'write tx/c 1' | sed 1d)"
g 5 reset-watches >/dev/null
check "the same write outside it passes" OK "$(g 5 'write tx/c 1')"
setq 5 "$GLOBAL"

# --- output: a guest that does not read its ring has its events dropped
# past the quota; another guest watching the same nodes gets them all
xenstore-write /ev ""
xenstore-chmod /ev n0 r5 r6
g 5 'watch /ev q5' 'wait-event q5 1000' >/dev/null
g 6 'watch /ev q6' 'wait-event q6 1000' >/dev/null
m3=$(mem 5)
setq 5 $((m3 + 2000))
N=200
args=""
for i in $(seq $N); do args="$args /ev/k$i 1"; done
# shellcheck disable=SC2086
xenstore-write $args
check "dom0's writes all go through" $N "$(xenstore-list /ev | wc -l)"
# (the 200 events come at once, from one transaction: the queue takes what
# fits, the ring then takes its part of the queue)
m4=$(mem 5)
[ "$m4" -le $((m3 + 2000)) ] && [ "$m4" -gt "$m3" ] ||
	{ echo "FAIL queued events stay within the quota: $m3 then $m4"; FAILS=$((FAILS + 1)); }
check "the drop was logged" 1 "$(grep -c 'domain 5 over its memory quota, watch events dropped' "$XSD_DIR/daemon.log")"
# drain DOMID TOKEN MAX: how many of MAX waits saw an event
drain() { for i in $(seq "$3"); do echo "wait-event $2 300"; done | g "$1" | grep -vc NONE; }
got5=$(drain 5 q5 90)
# 2000 bytes hold 71 events of 28 bytes; the first event came before
[ "$got5" -ge 60 ] && [ "$got5" -le 80 ] ||
	{ echo "FAIL guest 5 got $got5 of $N events"; FAILS=$((FAILS + 1)); }
echo "     guest 5 over its quota got $got5 of $N events"
check "the other guest got every event" $N "$(drain 6 q6 $((N + 3)))"
check "drained, its memory is back" "$m3" "$(mem 5)"
check "served again" "$(lines OK 1)" "$(g 5 'write after 1' 'read after')"
setq 5 "$GLOBAL"
check "dom0 unaffected" 1 "$(xenstore-read /ev/k$N)"
check "CONTROL check after" OK "$($CTL check 2>&1 || echo failed)"

# --- outstanding: a request stays outstanding, once answered, while the
# watch events it fired wait for a slow watcher (cxenstored)
osd5() { $CTL quota 5 | sed -n 's/^outstanding *: *//p'; }
g 5 'write o x' 'setperms o n5 r6' >/dev/null
g 6 'watch /local/domain/5/o w6' >/dev/null     # guest 6 reads no more
g 5 'dom0 SET_QUOTA 5 outstanding 4' >/dev/null
M=40
( for i in $(seq $M); do echo "write o/k$i 1"; done | g 5 --timeout 30000 >"$SIM/w5" ) &
W5=$!
XSD_EXTRA_PIDS="$XSD_EXTRA_PIDS $W5"
i=0
while [ "$(osd5)" != 4 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
check "answered writes held by their queued events" 4 "$(osd5)"
sleep 0.3
n=$(xenstore-list /local/domain/5/o | wc -l)
[ "$n" -gt 10 ] && [ "$n" -lt $M ] ||
	{ echo "FAIL the writer stops at the quota: $n of $M written"; FAILS=$((FAILS + 1)); }
check "dom0 served meanwhile" OK "$(xenstore-write /local/domain/5/o-dom0 1 && echo OK)"
check "another guest served meanwhile" OK "$(g 7 --fresh introduce)"
check "the slow watcher gets every event as it reads" $((M + 1)) "$(drain 6 w6 $((M + 3)))"
wait $W5
check "the writer went on: every write answered" $M "$(grep -c '^OK$' "$SIM/w5")"
check "nothing outstanding after" 0 "$(osd5)"

sim_finish
