#!/usr/bin/env bash
# xs-history on a store whose wide directory is fanned out into bucket
# trees (store/git/fanout.h), built by hand with git fast-import
# (mkfan.py), independently of the daemon's writer. Every reading
# command must print what it prints for the same history stored flat;
# git-path must name each commit's buckets.
# usage: fan.sh XS_HISTORY MKFAN_PY
set -uo pipefail
XH=$1 MK=$2
T=$(mktemp -d /tmp/xs-history-fan.XXXXXX)
trap 'rm -rf "$T"' EXIT
export XDG_CACHE_HOME=$T/cache TZ=UTC
. "$(dirname "$0")/lib.sh"
for k in flat fan; do
  git init -q --bare "$T/$k" || exit 1
  python3 "$MK" $k aaaa-0001 | git --git-dir="$T/$k" fast-import --quiet ||
    { echo "fast-import failed"; exit 1; }
done
bucket() { printf %s "$1" | sha1sum | cut -c"$2"; }
b1=$(bucket k7 1) b2=$(bucket k7 2)
# the fixture is what it claims: one level at ~1, two at the head
expect "fixture: two levels at the head" "16" \
  "$(git --git-dir="$T/fan" ls-tree --name-only "main:d/.$b1" | grep -c '^\.')"
expect "fixture: one level before" "k7" \
  "$(git --git-dir="$T/fan" ls-tree --name-only "main~1:d/.$b1" | grep -x k7)"

# the same output as the flat store (commit ids aside)
same() { # NAME ARGS...
  local name=$1; shift
  local a b
  a=$("$XH" --store "$T/flat" "$@" 2>&1 | sed -E 's/\b[0-9a-f]{12}\b/ID/g')
  b=$("$XH" --store "$T/fan" "$@" 2>&1 | sed -E 's/\b[0-9a-f]{12}\b/ID/g')
  [ -n "$a" ] || { bad "$name: no output"; return; }
  expect "$name" "$a" "$b"
}
for at in '~0' '~1' '~2'; do
  same "show $at" show "$at"
  same "show $at /d/k7" show "$at" /d/k7
  same "show --json $at /d" --json show "$at" /d
done
same "diff ~2 ~1" diff '~2' '~1'
same "diff ~1 ~0 /d" diff '~1' '~0' /d
same "blame /d" blame /d
same "log /d/k7" log --all-boots /d/k7
same "log -p /d/k7/sub" log -p --all-boots /d/k7/sub
# creation order (.order: the last name first), not bucket order
expect "show: children in creation order" "/d/k4099 /d/k4098 /d/k4097" \
  "$("$XH" --store "$T/fan" show /d | sed -n '2,4p' | cut -d' ' -f1 | tr '\n' ' ' | sed 's/ $//')"

# git-path follows the buckets each commit has
gp() { "$XH" --store "$T/fan" git-path "$@"; }
expect "git-path at the head: two levels" "d/.$b1/.$b2/k7" "$(gp /d/k7)"
expect "git-path --at ~1: one level" "d/.$b1/k7/sub" "$(gp --at '~1' /d/k7/sub)"
expect "git-path --at ~2: flat" "d/k1" "$(gp --at '~2' /d/k1)"
expect "git-path of a flat store" "d/k7" \
  "$("$XH" --store "$T/flat" git-path /d/k7)"
expect "git show of the git-path" "v7" \
  "$(git --git-dir="$T/fan" show "main:$(gp /d/k7)/.value")"
expect "git-path of /: the root tree" "" "$(gp /)"
expect "git-path --json" "d/.$b1/.$b2/k7" \
  "$(gp --json /d/k7 | python3 -c 'import json,sys; print(json.load(sys.stdin)["git_path"])')"
gp /d/k4099 >/dev/null 2>&1 && ok || bad "git-path /d/k4099 at the head"
gp --at '~1' /d/k4099 >/dev/null 2>&1 && bad "git-path: absent node accepted" || ok
gp /d/k7/nope >/dev/null 2>&1 && bad "git-path: absent child accepted" || ok
gp d/k7 >/dev/null 2>&1 && bad "git-path: relative path accepted" || ok

summary history-fan
