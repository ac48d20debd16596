#!/bin/sh
# Guests over simulated rings (xenstored --backend sim:DIR, tools/xs-guest)
# together with dom0's own clients: relative paths, permissions and quotas
# for unprivileged domains, watches, transactions under contention, ring
# reconnection, hostile guests cut off, shutdown, death and release.
#
# Needs our daemon (XSD_DAEMON_BIN) and xs-guest (XS_GUEST); the reference
# daemons have no simulated backend, so with XSD_TEST_DAEMON=peer it skips.
set -u
. "$(dirname "$0")/sim-lib.sh"

# small quotas so that a guest reaches them quickly; dom0 is exempt
sim_start -E 30 -W 4 -t 2 -S 600


# --- introduce: the toolstack's way (home owned by the guest, INTRODUCE)
for d in 5 6 7 8; do
	check "introduce $d" OK "$(g "$d" --fresh introduce)"
done
check "ring advertises reconnection, error and watch depth" 7 "$(g 5 features)"
check "GET_FEATURE from a guest" 7 "$(g 5 get-feature)"

# --- relative paths resolve under the guest's home
check "relative write/read" "$(lines OK 'v 1')" "$(g 5 'write data/x v 1' 'read data/x')"
check "dom0 sees it absolute" "v 1" "$(xenstore-read /local/domain/5/data/x)"
check "GET_DOMAIN_PATH" /local/domain/5 "$(g 5 'domain-path 5')"
check "ls relative" "x" "$(g 5 'ls data')"

# --- permissions of an unprivileged domain
check "other domain's node: read" "ERR EACCES" "$(g 6 'read /local/domain/5/data/x')"
check "other domain's node: write" "ERR EACCES" "$(g 6 'write /local/domain/5/data/x no')"
check "other domain's node: ls" "ERR EACCES" "$(g 6 'ls /local/domain/5')"
check "dom0's node" "ERR EACCES" "$(g 5 'write /tool/x 1')"
check "privileged-only request" "ERR EACCES" "$(g 5 'introduced 5')"
check "grant read to 6" OK "$(g 5 'setperms data/x n5 r6')"
check "granted read" "v 1" "$(g 6 'read /local/domain/5/data/x')"
check "read grant is not write" "ERR EACCES" "$(g 6 'write /local/domain/5/data/x no')"

# --- quotas (cxenstored's answers)
out=""
for i in 1 2 3 4 5; do out="$out$(g 6 "watch w$i t$i")
"; done
check "watch quota -W 4" "$(lines OK OK OK OK 'ERR E2BIG')" "$(printf %s "$out" | grep -v ' t[0-9]$')"
g 6 reset-watches >/dev/null
check "transaction quota -t 2" "$(lines 1 2 'ERR ENOSPC')" "$(g 6 txn-start txn-start txn-start)"
check "node size quota -S 600" "ERR ENOSPC" "$(g 6 "write big $(head -c 700 /dev/zero | tr '\0' a)")"
out=""
i=0
while [ $i -lt 35 ]; do out=$(g 6 "write n$i x"); [ "$out" = OK ] || break; i=$((i + 1)); done
check "node quota -E 30 answers ENOSPC" "ERR ENOSPC" "$out"
[ $i -ge 25 ] && [ $i -lt 30 ] || { echo "FAIL node quota hit after $i nodes"; FAILS=$((FAILS + 1)); }
check "dom0 has no quota" "" "$(xenstore-write /local/domain/6/dom0-a 1 /local/domain/6/dom0-b 2 2>&1)"
# give 6 its quotas back: the open transactions go with the session
g 6 reconnect >/dev/null
j=0
while [ $j -lt $i ]; do xenstore-rm /local/domain/6/n$j; j=$((j + 1)); done
check "quota freed by removal" OK "$(g 6 'write n0 x')"

# --- per-domain quotas (GET/SET_QUOTA with a domid)
# settings made before INTRODUCE, for a domain the hypervisor knows
check "SET_FEATURE before INTRODUCE" "$(lines OK OK OK 1 ERR\ EBUSY)" \
	"$(g 9 --fresh 'state running' 'dom0 SET_FEATURE 9 1' introduce features 'dom0 SET_FEATURE 9 7')"
check "SET_FEATURE for a domain nobody knows" "ERR ENOENT" "$(g 5 'dom0 SET_FEATURE 42 1')"
check "SET_QUOTA for one domain" "$(lines OK 3 30)" \
	"$(g 9 'dom0 SET_QUOTA 9 nodes 3' 'dom0 GET_QUOTA 9 nodes' 'dom0 GET_QUOTA nodes')"
check "its own node quota applies" "$(lines OK OK 'ERR ENOSPC')" "$(g 9 'write a 1' 'write b 1' 'write c 1')"
check "others keep the global one" OK "$(g 5 'write q3 1')"
check "its own watch quota" "$(lines OK OK 'ERR E2BIG')" \
	"$(g 9 'dom0 SET_QUOTA 9 watches 1' 'watch a t' 'watch b t' | grep -v ' t$')"
check "GET_QUOTA of a domain without its own: the global" 4 "$(g 5 'dom0 GET_QUOTA 5 watches')"
check "quota of an unknown domain" "ERR ENOENT" "$(g 5 'dom0 GET_QUOTA 42 nodes')"
check "GET_QUOTA is dom0's" "ERR EACCES" "$(g 9 'get-quota nodes')"

# --- outstanding quota: a guest that does not read its replies stops
# being read (cxenstored's domain_can_read), the others are served, and
# it is served again as it reads
xenstore-write /local/domain/5/big "$(head -c 500 /dev/zero | tr '\0' b)"
g 5 'dom0 SET_QUOTA 5 outstanding 4' >/dev/null
# 20 READs of a 500-byte value: the reply ring holds one and a half
taken=$(g 5 'flood 20 big 300')
check "over the outstanding quota, the ring is not read on" "20 5" "$taken"
check "CONTROL quota counts its outstanding replies" 4 \
	"$(/usr/lib/xen-4.17/bin/xenstore-control quota 5 | sed -n 's/^outstanding *: *//p')"
check "another guest is served meanwhile" "$(lines OK 1)" "$(g 6 'write out 1' 'read out')"
check "dom0 is served meanwhile" 1 "$(xenstore-read /local/domain/6/out)"
check "served again as it reads its replies" "$(lines 20 OK)" "$(g 5 'drain 20' 'write after 1')"
check "nothing outstanding after" 0 \
	"$(/usr/lib/xen-4.17/bin/xenstore-control quota 5 | sed -n 's/^outstanding *: *//p')"
# (its own value cannot be unset: give it the global one back)
g 5 "dom0 SET_QUOTA 5 outstanding $(g 5 'dom0 GET_QUOTA outstanding')" 'rm big' 'rm after' >/dev/null

# --- memory quota: a guest's nodes may not grow past it (ENOMEM), dom0
# and the other guests go on; the soft quota is logged
CTL=/usr/lib/xen-4.17/bin/xenstore-control
mem5() { $CTL quota 5 | sed -n 's/^memory *: *//p'; }
v500=$(head -c 500 /dev/zero | tr '\0' m)
m0=$(mem5)
g 5 "dom0 SET_QUOTA 5 memory $((m0 + 2000))" >/dev/null
$CTL quota-soft set memory $((m0 + 1000)) >/dev/null
out=""
i=0
while [ $i -lt 10 ]; do out=$(g 5 "write mem/m$i $v500"); [ "$out" = OK ] || break; i=$((i + 1)); done
check "memory quota answers ENOMEM" "ERR ENOMEM" "$out"
[ $i -eq 3 ] || { echo "FAIL memory quota hit after $i values of 500 bytes"; FAILS=$((FAILS + 1)); }
m1=$(mem5)
[ "$m1" -le $((m0 + 2000)) ] && [ "$m1" -gt $((m0 + 1500)) ] ||
	{ echo "FAIL CONTROL quota memory: $m0 then $m1"; FAILS=$((FAILS + 1)); }
check "nothing written past it" "ERR ENOENT" "$(g 5 "read mem/m$i")"
check "the soft quota was logged" 1 "$(grep -c 'domain 5 exceeds the soft memory quota' "$XSD_DIR/daemon.log")"
check "freeing makes room" "$(lines OK OK)" "$(g 5 'rm mem/m0' "write mem/m0 $v500")"
# (its nodes there are the guest's, and count for it: dom0 is not limited)
check "dom0 writes in its home meanwhile" "$v500" \
	"$(xenstore-write /local/domain/5/mem/by0 "$v500" && xenstore-read /local/domain/5/mem/by0)"
check "another guest writes meanwhile" OK "$(g 6 "write mem $v500")"
g 5 "dom0 SET_QUOTA 5 memory $(g 5 'dom0 GET_QUOTA memory')" 'rm mem' >/dev/null
g 6 'rm mem' >/dev/null
$CTL quota-soft set memory 2097152 >/dev/null

# --- watches from a guest: relative events, depth, visibility
check "watch relative" "$(lines OK 'data wd')" "$(g 5 'watch data wd' 'wait-event wd 1000')"
xenstore-write /local/domain/5/data/y 2
check "event for dom0's write, relative" "data/y wd" "$(g 5 'wait-event wd 2000')"
check "watch depth accepted" "$(lines OK '/local/domain/6 w6')" "$(g 5 'watch /local/domain/6 w6 1' 'wait-event w6 1000')"
xenstore-write /local/domain/6/secret 1
check "no event for a node the watcher cannot read" NONE "$(g 5 'wait-event w6 500')"

# --- several guests and dom0 at once, transactions retried on EAGAIN
xenstore-write /shared/count 0
xenstore-chmod /shared/count n0 b5 b6 b7
INC=""
for d in 5 6 7; do
	( for i in $(seq 20); do echo "atomic-inc /shared/count"; done | g $d >"$SIM/inc.$d" ) &
	INC="$INC $!"
done
XSD_EXTRA_PIDS="$XSD_EXTRA_PIDS $INC"
for i in $(seq 20); do xenstore-write "/local/domain/5/data/d$i" "$i"; done
for p in $INC; do wait "$p"; done   # not a bare wait: the daemon is a child
check "60 increments from 3 guests, none lost" 60 "$(xenstore-read /shared/count)"
check "every guest got 20 answers" "20 20 20" "$(for d in 5 6 7; do grep -c '^[0-9]* [0-9]*$' "$SIM/inc.$d"; done | xargs)"

# --- reconnection: the session goes, the ring works again
g 7 'watch data w7' 'wait-event w7 1000' >/dev/null
check "reconnect" OK "$(g 7 txn-start reconnect | sed -n 2p)"
xenstore-write /local/domain/7/data/after 1
check "watch gone after reconnect" NONE "$(g 7 'wait-event w7 500')"
# transaction ids count from 1 per connection: a fresh session restarts
check "fresh session after reconnect" "$(lines 1 OK)" "$(g 7 txn-start txn-abort)"
check "ring serves after reconnect" "$(lines OK 1)" "$(g 7 'write r 1' 'read r')"

# --- hostile guests are cut off (error indicator), others keep working
check "bad request index: RINGIDX" "$(lines OK 2)" "$(g 8 'hostile idx' 'wait-error 2000')"
check "others unaffected" "v 1" "$(g 5 'read data/x')"
check "cut-off guest reconnects (domain still known)" "$(lines OK OK 0)" "$(g 8 reconnect 'write back 1' error)"
check "oversize length: PROTO" "$(lines OK 3)" "$(g 8 'hostile len' 'wait-error 2000')"
g 8 reconnect >/dev/null
check "garbage: PROTO" "$(lines OK 3)" "$(g 8 'hostile garbage 200' 'wait-error 2000')"
g 8 reconnect >/dev/null
check "bad reply index: RINGIDX" "$(lines OK 2)" "$(g 8 'hostile rsp' 'wait-error 2000')"
check "others still unaffected" "$(lines OK v\ 1)" "$(g 6 'write ok 1' 'read /local/domain/5/data/x')"

# --- shutdown, death, release
xenstore-watch -n 3 @releaseDomain >"$SIM/release.watch" 2>&1 &
WPID=$!
g 0 'dom0-watch @releaseDomain d 1 4 10000' >"$SIM/release.depth" &
DPID=$!
XSD_EXTRA_PIDS="$XSD_EXTRA_PIDS $WPID $DPID"
i=0   # both watches registered: each has printed its first line
while { [ ! -s "$SIM/release.watch" ] || [ ! -s "$SIM/release.depth" ]; } && [ $i -lt 100 ]; do
	sleep 0.05; i=$((i + 1))
done
xenstore-write /tool/granted 1
xenstore-chmod /tool/granted n0 r7 r5
g 7 'write /local/domain/5/data/by7 x' >/dev/null   # refused: not 7's to write
g 5 'setperms data/x n5 r6 b7' >/dev/null
check "shutdown keeps the domain" OK "$(g 6 'state shutdown')"
sleep 0.3
check "shut-down domain still answers" 1 "$(g 6 'read ok')"
check "death" OK "$(g 7 'state dead')"
i=0
while xenstore-read /local/domain/7 >/dev/null 2>&1 && [ $i -lt 50 ]; do sleep 0.1; i=$((i + 1)); done
check "dead domain's home removed" "" "$(xenstore-read /local/domain/7 2>/dev/null)"
check "its perm entries stripped (dom0 node)" "n0 r5" "$(xenstore-ls -p /tool 2>/dev/null | sed -n 's/^ *granted = .*(\(.*\))$/\1/p' | tr , ' ')"
check "its perm entries stripped (guest node)" "$(printf 'n5\nr6')" "$(g 5 'getperms data/x' | tr ' ' '\n')"
check "its nodes elsewhere removed" "" "$(xenstore-ls /local/domain 2>/dev/null | grep -c '^7 ' | grep -v '^0$')"
check "release" OK "$(g 6 release)"
check "released domain's home removed" "" "$(xenstore-read /local/domain/6 2>/dev/null)"
wait $WPID 2>/dev/null
wait $DPID 2>/dev/null
check "@releaseDomain fired for shutdown, death and release" 3 "$(grep -c '^@releaseDomain' "$SIM/release.watch")"
check "with a watch depth, @releaseDomain/<domid>" \
	"$(lines OK @releaseDomain @releaseDomain/6 @releaseDomain/7 @releaseDomain/6)" "$(cat "$SIM/release.depth")"
check "others go on" "v 1" "$(g 5 'read data/x')"

sim_finish
