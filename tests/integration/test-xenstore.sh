#!/bin/sh
# test-xenstore.sh - Xen's own test-xenstore against the daemon under test:
# every test once, every test 100 times, then 10 s of random tests.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
TX=/usr/lib/xen-4.17/bin/test-xenstore
[ -x "$TX" ] || { echo "SKIP: $TX missing (xen-utils-4.17)" >&2; exit 77; }
xsd_start
set -e
"$TX"
"$TX" -i 100
"$TX" -r 10
/usr/lib/xen-4.17/bin/xenstore-control check
echo "ok: test-xenstore (all, -i 100, -r 10)"
