#!/usr/bin/env bash
# xs-history on a history made through the daemon by real clients
# (xenstore-write/rm/chmod/ls and a libxenstore transaction), on a private
# socket and store. Skips (77) without a daemon, or while the daemon does
# not persist to its store.
# usage: daemon.sh XS_HISTORY XS_TXN [XENSTORED]
set -uo pipefail
XH=$1 TXN=$2 XSD=${3:-${XSD_DAEMON_BIN:-}}
[ -n "$XSD" ] && [ -x "$XSD" ] || { echo "SKIP: no daemon"; exit 77; }
T=$(mktemp -d /tmp/xs-history-daemon.XXXXXX)
trap 'daemon_stop; kill $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache TZ=UTC
export XENSTORED_PATH=$T/socket XENSTORED_RUNDIR=$T
S=$T/store
. "$(dirname "$0")/lib.sh"
start() { echo "$1" > "$T/boot_id"; daemon_start; } # BOOT-ID
xh() { "$XH" --store "$S" "$@"; }

start 11111111-aaaa-4000-8000-000000000001
xenstore-write /h/a 1 || exit 1
sleep 1.1; T1=$(date +%s); sleep 1.1
xenstore-write /h/a 2
xenstore-write /h/b "x y"
xenstore-chmod /h/b n0 r5
xenstore-rm /h/a
"$TXN" /h/t/1 one /h/t/2 two /h/t/3 three || bad "transaction"
live=$(xenstore-ls -fp)
live_h=$(xenstore-ls -fp /h)
if ! xh log >/dev/null 2>&1; then
  daemon_stop
  if ! git --git-dir="$S" rev-parse -q --verify refs/heads/main >/dev/null 2>&1 &&
     [ -z "$(ls "$S/journal" 2>/dev/null)" ]; then
    echo "SKIP: the daemon keeps no history in its store yet"; exit 77
  fi
  start 11111111-aaaa-4000-8000-000000000001
fi

# while the daemon runs: the journal and Git together
expect "show = xenstore-ls -fp (daemon running)" "$live" "$(xh show)"
expect "show /h = /h line + xenstore-ls -fp /h" \
  "$(printf '/h = ""   (n0)\n%s' "$live_h")" "$(xh show /h)"
out=$(xh log -p /h/a | grep '^    [-+~]\|was')
expect "log -p /h/a: each client request" "$(cat <<'Y'
    - /h/a = "2"   (n0)
    ~ /h/a = "2"   (n0)
      was "1"   (n0)
    + /h/a = "1"   (n0)
Y
)" "$out"
out=$(xh log --json /h/t | field ops | tr -d "'")
expect "log: the transaction is one change" \
  "[{op: write, path: /h/t/1}, {op: write, path: /h/t/2}, {op: write, path: /h/t/3}]" "$out"
out=$(xh log --json /h/t | field transaction)
[ "${out:-0}" != 0 ] && ok || bad "log: transaction id recorded ($out)"
out=$(xh log --json /h | field domain | sort -u)
expect "log: dom0 made every change" 0 "$out"
out=$(xh log --op perms /h | awk '/^    /{print $1, $2}')
expect "log --op perms" "set_perms /h/b" "$out"
out=$(xh show @$T1 /h)
expect "show @T1" "$(printf '/h = ""   (n0)\n/h/a = "1"   (n0)')" "$out"
out=$(xh diff @$T1 /h | grep '^[-+~]' | awk '{print $1, $2}' | tr '\n' ' ')
expect "diff @T1" "- /h/a + /h/b + /h/t + /h/t/1 + /h/t/2 + /h/t/3 " "$out"
out=$(xh blame /h/b --json | field change.ops.0.op)
expect "blame: perms last set /h/b" set_perms "$out"
xh follow --timeout 3 --interval 0.1 /h/f >"$T/follow" &
fpid=$!
sleep 1
xenstore-write /h/g 1 /h/f 2
wait $fpid
out=$(awk '/^    /{print $1, $2}' "$T/follow")
expect "follow: the change, all its ops" "$(printf 'write /h/g\nwrite /h/f')" "$out"

# a restart on the same boot keeps the tree; a new boot starts afresh
daemon_stop
start 11111111-aaaa-4000-8000-000000000001
expect "restart: same tree" "$(xenstore-ls -fp)" "$(xh show)"
daemon_stop
start 22222222-bbbb-4000-8000-000000000002
xenstore-write /after boot
out=$(xh boots --json | field boot | tr '\n' ' ')
expect "boots" "11111111-aaaa-4000-8000-000000000001 22222222-bbbb-4000-8000-000000000002 " "$out"
expect "show after the new boot = xenstore-ls -fp" "$(xenstore-ls -fp)" "$(xh show)"
out=$(xh log --boot -1 /h/a | grep -c '^[0-9a-f]')
expect "log --boot -1 keeps the old history" 3 "$out"
daemon_stop
summary history-daemon
