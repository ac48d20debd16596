#!/usr/bin/env bash
# A wide directory through the real daemon: 300 children of one node
# written with xenstore-write, in Git fanned out (store/git/fanout.h),
# then kill -9 and a restart: the values, perms and DIRECTORY order come
# back, from the Git tree and the journal; git fsck is clean, and
# xs-history git-path names the buckets.
# usage: fan-daemon.sh XS_HISTORY XENSTORED
set -uo pipefail
XH=$1 XSD=$2
T=$(mktemp -d /tmp/xs-fan-daemon.XXXXXX)
trap 'daemon_stop; rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache TZ=UTC
export XENSTORED_PATH=$T/socket XENSTORED_RUNDIR=$T
S=$T/store
echo 33333333-cccc-4000-8000-000000000003 > "$T/boot_id"
. "$(dirname "$0")/lib.sh"
xh() { "$XH" --store "$S" "$@"; }
g() { git --git-dir="$S" "$@"; }

daemon_start
# created in an order that is neither Git's nor the buckets'
args=()
for i in $(seq 0 299); do args+=("/wide/c$((i * 7 % 300))" "v$i"); done
xenstore-write "${args[@]}" || exit 1
xenstore-write /wide/c7/sub deep || exit 1
xenstore-chmod /wide/c5 n0 r3 || exit 1
# wait until Git holds the last change (it lags the journal by ~1 s)
for _ in $(seq 100); do
  xh git-path /wide/c5 >/dev/null 2>&1 &&
    [[ "$(g log -1 --format=%s main)" == *"set_perms /wide/c5" ]] && break
  sleep 0.1
done
[[ "$(g log -1 --format=%s main)" == *"set_perms /wide/c5" ]] && ok ||
  bad "Git did not catch up: $(g log -1 --format=%s main)"
# and a few more in the journal only, then the crash
xenstore-write /wide/late1 x /wide/late2 y || exit 1
ls_before=$(xenstore-ls -fp /wide)
list_before=$(xenstore-list /wide)
daemon_stop 9

daemon_start
expect "values and perms after kill -9" "$ls_before" "$(xenstore-ls -fp /wide)"
expect "DIRECTORY order after kill -9" "$list_before" "$(xenstore-list /wide)"
daemon_stop
out=$(g fsck --strict --no-dangling 2>&1) && ok || bad "git fsck: $out"
top=$(g ls-tree --name-only main:wide)
expect "the Git tree of /wide is buckets, .order, .perms, .value" "" \
  "$(grep -v -x -e '\.[0-9a-f]' -e .order -e .perms -e .value <<<"$top" | head -3)"
[ "$(grep -c -x '\.[0-9a-f]' <<<"$top")" -ge 8 ] && ok ||
  bad "/wide has buckets: $(head -5 <<<"$top" | tr '\n' ' ')..."
h=$(printf %s c7 | sha1sum | cut -c1)
expect "git-path /wide/c7/sub" "wide/.$h/c7/sub" "$(xh git-path /wide/c7/sub)"
expect "git show of the git-path" "deep" \
  "$(g show "main:$(xh git-path /wide/c7/sub)/.value")"
expect "xs-history show = xenstore-ls -fp" "$(printf '/wide = ""   (n0)\n%s' "$ls_before")" \
  "$(xh show /wide)"
summary fan-daemon
