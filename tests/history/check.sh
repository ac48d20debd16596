#!/usr/bin/env bash
# xs-history against a history whose every step is known: xs-mkhist feeds
# the Git store engine exactly as the daemon's persistence does (a store
# commit hook, one flush per request), including a restart with a new boot
# id and records left in the journal by a crash.
# usage: check.sh XS_HISTORY XS_MKHIST
set -uo pipefail
XH=$1 MK=$2
T=$(mktemp -d /tmp/xs-history-test.XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache TZ=UTC
S=$T/store
. "$(dirname "$0")/lib.sh"
xh() { "$XH" --store "$S" "$@"; }
json_ok() { python3 -c 'import json,sys
for l in sys.stdin: json.loads(l)'; }

# --- phase 1: boot A ------------------------------------------------------
"$MK" "$S" "$T/boot_id" aaaa-0001 >/dev/null <<'X' || { echo "xs-mkhist failed"; exit 1; }
write 0 /a/b hello
write 0 /a/c world
chmod 0 /a/b n0 r5
mkdir 0 /local/domain/3
chmod 0 /local/domain/3 n3
begin 3
write 3 /local/domain/3/name guest3
write 3 /local/domain/3/state 1
commit
X
sleep 1.1; T1=$(date +%s); sleep 1.1
"$MK" "$S" "$T/boot_id" aaaa-0001 >/dev/null <<'X' || exit 1
write 3 /local/domain/3/state 4
rm 0 /a/c
write 0 /a/b hello again
X
sleep 1.1; T2=$(date +%s); sleep 1.1
# phase 2: the host reboots (new boot id), and the daemon is killed with
# two records in the journal only
"$MK" "$S" "$T/boot_id" bbbb-0002 >/dev/null <<'X' || exit 1
write 0 /vm/uuid 1234
sync
chmod 0 /vm/uuid n0 b5
write 5 /vm/uuid 5678
rm 0 /vm/uuid
crash
X

# --- log ------------------------------------------------------------------
out=$(xh log --all-boots | grep -v '^    ' | awk '{print $4, $5}')
expect "log: every change, newest first, seqs" "$(printf '%s\n' \
  '13 dom0' '12 dom5' '11 dom0' '10 dom0' '9 boot' '9 dom0' '8 dom0' '7 dom3' '6 dom3' \
  '5 dom0' '4 dom0' '3 dom0' '2 dom0' '1 dom0' '0 boot')" "$out"
out=$(xh log --all-boots | grep -c '^pending ')
expect "log: journal-only records are shown as pending" 3 "$out"
out=$(xh log | awk '/^[0-9a-f]|^pending/{print $4}')
expect "log: the current boot by default" "$(printf '13\n12\n11\n10\n9')" "$out"
out=$(xh log --boot -1 | awk '/^[0-9a-f]/{print $4}' | tr '\n' ' ')
expect "log --boot -1" "9 8 7 6 5 4 3 2 1 0 " "$out"
out=$(xh log --all-boots /local/domain/3/state | awk '/^[0-9a-f]/{print $4}' | tr '\n' ' ')
expect "log PATH: changes below and at PATH" "9 7 6 " "$out" # 9: the new boot drops it
out=$(xh log --all-boots /local/domain/3 --domain 3 | grep -c '^[0-9a-f]')
expect "log --domain" 2 "$out"
out=$(xh log --all-boots --op perms | awk '/^ /{print $1, $2}' | tr '\n' ' ')
expect "log --op perms" "set_perms /vm/uuid set_perms /local/domain/3 set_perms /a/b " "$out"
out=$(xh log --all-boots --op rm /a | awk '/^ /{print $1, $2}')
expect "log --op rm PATH" "rm /a/c" "$out"
out=$(xh log --all-boots -n 2 | grep -c '^[0-9a-f]\|^pending')
expect "log -n" 2 "$out"
out=$(xh log --all-boots --since @$T1 --until @$T2 | awk '/^[0-9a-f]/{print $4}' | tr '\n' ' ')
expect "log --since/--until @secs" "9 8 7 " "$out"
iso=$(date -u -d @$T1 +%Y-%m-%dT%H:%M:%SZ)
out=$(xh log --all-boots --until "$iso" | awk '/^[0-9a-f]/{print $4}' | head -1)
expect "log --until ISO 8601" 6 "$out"
out=$(xh log --all-boots --since 1h | grep -c '^[0-9a-f]\|^pending')
expect "log --since 1h (relative)" 15 "$out"
out=$(xh log --all-boots --since 1h --until 1h | grep -c .)
expect "log --until 1h: nothing that old" 0 "$out"
out=$(xh log --all-boots -p /a/b | grep '^    [-+~]\|was')
expect "log -p: values and permissions" "$(cat <<'Y'
    - /a/b = "hello again"   (n0,r5)
    ~ /a/b = "hello again"   (n0,r5)
      was "hello"   (n0,r5)
    ~ /a/b = "hello"   (n0,r5)
      was "hello"   (n0)
    + /a/b = "hello"   (n0)
Y
)" "$out"
out=$(xh log -p /vm | grep '^    [-+~]\|was')
expect "log -p on pending records" "$(cat <<'Y'
    - /vm/uuid = "5678"   (n0,b5)
    ~ /vm/uuid = "5678"   (n0,b5)
      was "1234"   (n0,b5)
    ~ /vm/uuid = "1234"   (n0,b5)
      was "1234"   (n0)
    + /vm = ""   (n0)
    + /vm/uuid = "1234"   (n0)
Y
)" "$out"

# --- log --json -----------------------------------------------------------
xh log --all-boots --json -p | json_ok && ok || bad "log --json is JSON"
out=$(xh log --all-boots --json /local/domain/3 | field transaction | tr '\n' ' ')
expect "log --json transaction ids" "0 0 1 0 0 " "$out"
out=$(xh log --all-boots --json /local/domain/3/name | field ops.0.op | tr '\n' ' ')
expect "log --json ops" "None write " "$out"
out=$(xh log --json -n 1 | field pending)
expect "log --json pending" true "$out"
out=$(xh log --json -n 1 -p | python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print(o["changes"][0]["type"], o["changes"][0]["old_value"])')
expect "log --json -p changes" "removed 5678" "$out"

# --- show -----------------------------------------------------------------
out=$(xh show)
expect "show: newest tree, as xenstore-ls -fp" "$(cat <<'Y'
/tool = ""   (n0)
/tool/xenstored = ""   (n0)
/vm = ""   (n0)
Y
)" "$out"
out=$(xh show '~4')   # the boot commit of boot B
expect "show ~N" "$(printf '/tool = ""   (n0)\n/tool/xenstored = ""   (n0)')" "$out"
out=$(xh show @$T2 /local)
expect "show @secs PATH: creation order, perms" "$(cat <<'Y'
/local = ""   (n0)
/local/domain = ""   (n0)
/local/domain/3 = ""   (n3)
/local/domain/3/name = "guest3"   (n3)
/local/domain/3/state = "4"   (n3)
Y
)" "$out"
out=$(xh show "$(date -u -d @$T1 +%Y-%m-%dT%H:%M:%SZ)" /a)
expect "show ISO 8601" "$(printf '/a = ""   (n0)\n/a/b = "hello"   (n0,r5)\n/a/c = "world"   (n0)')" "$out"
id=$(xh log --all-boots --json /a/c | field commit | tail -1)
out=$(xh show "${id:0:10}" /a/c)
expect "show COMMIT-ID PATH" '/a/c = "world"   (n0)' "$out"
out=$(xh show '~1' /vm/uuid)
expect "show at a pending record" '/vm/uuid = "5678"   (n0,b5)' "$out"
out=$(xh show --json @$T2 /local/domain/3/name | field value)
expect "show --json" guest3 "$out"

# --- diff -----------------------------------------------------------------
out=$(xh diff @$T1 @$T2)
expect "diff WHEN1 WHEN2" "$(cat <<'Y'
~ /a/b = "hello again"   (n0,r5)
  was "hello"   (n0,r5)
- /a/c = "world"   (n0)
~ /local/domain/3/state = "4"   (n3)
  was "1"   (n3)
Y
)" "$out"
out=$(xh diff @$T1 @$T2 /local)
expect "diff PATH" "$(printf '~ /local/domain/3/state = "4"   (n3)\n  was "1"   (n3)')" "$out"
out=$(xh diff --json @$T2 | field type | sort | uniq -c | awk '{print $2 $1}' | tr '\n' ' ')
expect "diff --json to the newest" "added1 removed7 " "$out"

# --- blame ----------------------------------------------------------------
out=$(xh blame @$T2 /local/domain/3 | awk '{print $4, $5, $6}')
expect "blame" "$(cat <<'Y'
5 dom0 /local/domain/3
6 dom3 /local/domain/3/name
7 dom3 /local/domain/3/state
Y
)" "$out"
out=$(xh blame --json | field change.seq | tr '\n' ' ')
expect "blame --json, boot commit and pending" "9 9 10 " "$out"

# --- boots ----------------------------------------------------------------
out=$(xh boots | awk '{print $1, $2, $(NF-1) == "changes" ? $NF : $(NF-1)}')
out=$(xh boots --json | python3 -c 'import json,sys
for l in sys.stdin:
    o=json.loads(l); print(o["index"], o["boot"], o["changes"], o["first_seq"], o["last_seq"], str(o["current"]).lower())')
expect "boots" "$(printf -- '-1 aaaa-0001 10 0 9 false\n0 bbbb-0002 5 9 13 true')" "$out"
out=$(xh log --boot aaaa -n 1 | awk 'NR==1{print $4}')
expect "log --boot ID" 9 "$out"

# --- follow ---------------------------------------------------------------
xh follow --timeout 4 --interval 0.1 /local >"$T/follow.out" &
fpid=$!
sleep 1
"$MK" "$S" "$T/boot_id" bbbb-0002 >/dev/null <<'X' || bad "xs-mkhist (follow)"
write 0 /other x
write 0 /local/domain/4/name guest4
X
wait $fpid; rc=$?
expect "follow exits 0 at its timeout" 0 "$rc"
out=$(awk '/^[0-9a-f]|^pending/{print $5} /^    /{print $1, $2}' "$T/follow.out")
expect "follow: new changes under PATH only" "$(printf 'dom0\nwrite /local/domain/4/name')" "$out"
out=$(xh follow --timeout 0 -n 1 --json | field ops.0.path)
expect "follow -n" /local/domain/4/name "$out"

# --- the index cache gives what a walk of Git gives -------------------------
for args in "log --all-boots" "log --all-boots /a -p" "boots" "blame"; do
  expect "cache = no cache: $args" "$(xh --no-cache $args)" "$(xh $args)"
done

# a damaged cache is rebuilt, never believed
for f in "$XDG_CACHE_HOME"/xs-history/*.idx; do
  dd if=/dev/urandom of="$f" bs=1 seek=100 count=300 conv=notrunc 2>/dev/null
done
expect "damaged cache" "$(xh --no-cache log --all-boots -p)" "$(xh log --all-boots -p)"
for f in "$XDG_CACHE_HOME"/xs-history/*.idx; do truncate -s 150 "$f"; done
expect "truncated cache" "$(xh --no-cache boots)" "$(xh boots)"

# --- reading while the store is written (journal and packs change) --------
echo "write 0 /busy/k0 0" | "$MK" "$S" "$T/boot_id" bbbb-0002 >/dev/null
{ for i in $(seq 1 600); do
    echo "write 0 /busy/k$((i % 7)) $i"; echo "sleep 0.005"
    [ $((i % 50)) -eq 0 ] && echo sync
  done; } | "$MK" "$S" "$T/boot_id" bbbb-0002 >/dev/null &
wpid=$!
prev=0 runs=0 rfail=0
while kill -0 $wpid 2>/dev/null; do
  seq=$(xh log --json -n 1 /busy | field seq) || { rfail=1; break; }
  [ -n "$seq" ] && { [ "$seq" -ge "$prev" ] || rfail=1; prev=$seq; }
  runs=$((runs + 1))
done
wait $wpid || bad "xs-mkhist (busy)"
expect "reads during writes: no error, seqs never go back" 0 "$rfail"
echo "reads during writes: $runs"
out=$(xh log /busy | grep -c '^[0-9a-f]\|^pending')
expect "every write seen afterwards" 601 "$out"
expect "cache = no cache after concurrent updates" "$(xh --no-cache log /busy --json)" "$(xh log /busy --json)"

# --- errors ---------------------------------------------------------------
err() { # NAME EXPECTED-STDERR-PART CMD...
  local name=$1 want=$2; shift 2
  local e; e=$("$@" 2>&1 >/dev/null); local rc=$?
  if [ $rc -ge 1 ] && [ $rc -lt 126 ] && [[ "$e" == *"$want"* ]]; then ok
  else bad "$name: rc $rc, stderr: $e"; fi
}
err "no store" "no store here" "$XH" --store "$T/none" log
err "not a store" "not a store" "$XH" --store "$T/cache" log
err "path that never existed" "no such node in the history" xh log --all-boots /never/was
err "show of a path that never existed" "no such node in the history" xh show /never/was
err "show of a path absent then" "no such node at" xh show /a
err "time before the history" "before the history begins" xh show @1000
err "~N past the history" "holds only" xh show '~999'
err "bad WHEN" "not a WHEN" xh show yesterday-ish
err "bad path" "not a xenstore path" xh log /a/
err "unknown option" "usage" xh log --frobnicate
cp -a "$S" "$T/corrupt"
for p in "$T"/corrupt/objects/pack/*.pack; do
  dd if=/dev/zero of="$p" bs=1 seek=200 count=4096 conv=notrunc 2>/dev/null
done
err "corrupt repository" "corrupt" "$XH" --no-cache --store "$T/corrupt" log --all-boots -p
echo garbage > "$T/corrupt/refs/heads/main"
err "corrupt ref" "corrupt" "$XH" --no-cache --store "$T/corrupt" log

# --- help -------------------------------------------------------------------
for c in log show diff blame boots follow; do
  "$XH" $c --help | grep -q "usage: xs-history.* $c" && ok || bad "$c --help"
done

summary history
