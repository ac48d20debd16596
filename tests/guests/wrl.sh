#!/bin/sh
# Write rate limiting of unprivileged guests, as cxenstored 4.17 does it
# (xenstored/README.md): with a low rate set by --write-rate,
#   - while a transaction is open, a guest writing as fast as it can is
#     held to about the rate (its input waits), and loses nothing;
#   - another guest and dom0 are served meanwhile;
#   - reads cost nothing, and no write costs anything while no transaction
#     is open;
#   - transactions committed while another is open are charged too.
set -u
. "$(dirname "$0")/sim-lib.sh"

RATE=20 DBURST=5 GBURST=10
sim_start --write-rate "$RATE,$DBURST,$GBURST"

fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
delays() { $CTL quota "$1" | sed -n 's/^write-delays *: *//p'; }
now_ms() { date +%s%3N; }
# writes N KEY: N writes of KEY/k<i> = v<i>, one after the other
writes() { for i in $(seq "$1"); do echo "write $2/k$i v$i"; done; }

for d in 5 6; do check "introduce $d" OK "$(g "$d" --fresh introduce)"; done
check "dom0 is exempt: no write credit shown" "" "$(delays 0)"
check "a guest has a credit" 0 "$(delays 5)"

# --- no transaction open: writes cost nothing
N=60
writes $N free | g 5 >/dev/null
check "no transaction open: $N writes never held" 0 "$(delays 5)"
g 5 'read free/k1' >/dev/null

# --- a transaction open (guest 6's, left open): guest 5 is held
check "guest 6 opens a transaction" OK "$(g 6 txn-start 'write tx/a 1' | sed -n 2p)"
t0=$(now_ms)
( writes $N lim | g 5 --timeout 60000 >"$SIM/w5" ) &
W5=$!
XSD_EXTRA_PIDS="$XSD_EXTRA_PIDS $W5"
i=0
while [ "$(delays 5)" = 0 ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
[ "$(delays 5)" -ge 1 ] || fail "the writer is held"
# served while guest 5 waits for credit
check "another guest is served" "$(printf 'OK\nx')" "$(g 6 'write other x' 'read other')"
check "dom0 is served" x "$(xenstore-write /dom0w x && xenstore-read /dom0w)"
# dom0 is exempt: N writes at once, where a limited domain needs seconds
args=""
for i in $(seq $N); do args="$args /dom0n/k$i $i"; done
d0t=$(now_ms)
# shellcheck disable=SC2086
xenstore-write $args
d0t=$(( $(now_ms) - d0t ))
echo "     dom0: $N writes in ${d0t} ms"
[ "$d0t" -lt $(( (N - DBURST - GBURST - 1) * 1000 / RATE )) ] ||
	fail "dom0 is not limited: $N writes took $d0t ms"
kill -0 $W5 2>/dev/null || fail "the writer was still held when the others were served"
wait $W5
t1=$(now_ms)
el=$((t1 - t0))
# At most one burst of its own, the reserve's burst, one write past zero
# and RATE per second (shared, so at most all of it) can pass:
min=$(( (N - DBURST - GBURST - 1) * 1000 / RATE ))
# Its own share (RATE / 3 domains: dom0, 5, 6) is the least it gets.
max=$(( N * 1000 * 3 / RATE * 2 + 5000 ))
echo "     $N writes with a transaction open: ${el} ms (bounds ${min}..${max} ms at $RATE/s)"
[ "$el" -ge "$min" ] || fail "held to the rate: $el ms < $min ms"
[ "$el" -le "$max" ] || fail "held too long: $el ms > $max ms"
check "every write answered" $N "$(grep -c '^OK$' "$SIM/w5")"
check "nothing lost" "v1 v$N $N" \
	"$(xenstore-read /local/domain/5/lim/k1) $(xenstore-read /local/domain/5/lim/k$N) $(xenstore-list /local/domain/5/lim | wc -l)"
check "the limit was logged" 1 "$(grep -c 'write rate limit: domain 5 is affected' "$XSD_DIR/daemon.log")"

# --- reads cost nothing, even with a transaction open
sleep 1.5 # credit back above zero
d0=$(delays 5)
for i in $(seq 100); do echo "read lim/k1"; done | g 5 >"$SIM/r5"
check "100 reads answered" 100 "$(grep -c '^v1$' "$SIM/r5")"
check "reads never held" "$d0" "$(delays 5)"

# --- transactions committed while another is open are charged
M=40
for i in $(seq $M); do echo "atomic-inc cnt"; done | g 5 --timeout 60000 >/dev/null
check "every increment committed" $M "$(xenstore-read /local/domain/5/cnt)"
[ "$(delays 5)" -gt "$d0" ] || fail "commits charged: delays stayed $d0"

# --- the transaction ends: writes are free again
g 6 reset-watches >/dev/null
sleep 1.5
d1=$(delays 5)
writes $N free2 | g 5 >/dev/null
check "transaction ended: writes never held" "$d1" "$(delays 5)"
check "CONTROL check" OK "$($CTL check 2>&1 || echo failed)"

sim_finish
