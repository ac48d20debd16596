#!/bin/sh
# clients.sh - Debian's xenstore-* command line tools against the daemon
# under test (tests/lib/daemon.sh). Every output is compared exactly with
# what cxenstored prints (checked with XSD_TEST_DAEMON=peer).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
xsd_start

FAILS=0
# expect NAME EXPECTED_STATUS EXPECTED_STDOUT cmd args...
expect() {
	_name=$1 _st=$2 _out=$3
	shift 3
	_got=$("$@" 2>"$XSD_DIR/stderr")
	_gst=$?
	if [ "$_gst" != "$_st" ] || [ "$_got" != "$_out" ]; then
		echo "FAIL: $_name: $*" >&2
		echo "  status $_gst (want $_st), stdout:" >&2
		printf '%s\n' "$_got" | sed 's/^/  | /' >&2
		echo "  wanted:" >&2
		printf '%s\n' "$_out" | sed 's/^/  | /' >&2
		sed 's/^/  stderr: /' "$XSD_DIR/stderr" >&2
		FAILS=$((FAILS + 1))
	else
		echo "ok: $_name"
	fi
}

expect "initial tree" 0 '/tool = ""   (n0)
/tool/xenstored = ""   (n0)' xenstore-ls -f -p /
expect "write several" 0 "" xenstore-write /a/b 1 /a/c "two words" /a/d/e deep
expect "read several" 0 '1
two words' xenstore-read /a/b /a/c
expect "read -p" 0 '/a/b: 1' xenstore-read -p /a/b
expect "read missing" 1 "" xenstore-read /nope
expect "ls tree" 0 'b = "1"
c = "two words"
d = ""
 e = "deep"' xenstore-ls /a
expect "ls -f" 0 '/a/b = "1"
/a/c = "two words"
/a/d = ""
/a/d/e = "deep"' xenstore-ls -f /a
expect "ls -f -p" 0 '/a/b = "1"   (n0)
/a/c = "two words"   (n0)
/a/d = ""   (n0)
/a/d/e = "deep"   (n0)' xenstore-ls -f -p /a
expect "ls missing" 1 "" xenstore-ls /nope
expect "list" 0 'b
c
d' xenstore-list /a
expect "list -p" 0 '/a/b
/a/c
/a/d' xenstore-list -p /a
expect "exists" 0 "" xenstore-exists /a/b
expect "exists missing" 1 "" xenstore-exists /nope
expect "chmod" 0 "" xenstore-chmod /a/b n0 r5 w6
expect "chmod shown" 0 '/a/b = "1"   (n0,r5,w6)
/a/c = "two words"   (n0)
/a/d = ""   (n0)
/a/d/e = "deep"   (n0)' xenstore-ls -f -p /a
expect "chmod -r" 0 "" xenstore-chmod -r /a b0 w3
expect "chmod -r shown" 0 '/tool = ""   (n0)
/tool/xenstored = ""   (n0)
/a = ""   (b0,w3)
/a/b = "1"   (b0,w3)
/a/c = "two words"   (b0,w3)
/a/d = ""   (b0,w3)
/a/d/e = "deep"   (b0,w3)' xenstore-ls -f -p /
expect "chmod missing" 1 "" xenstore-chmod /nope n0
expect "rm" 0 "" xenstore-rm /a/d/e
expect "rm done" 0 'b
c
d' xenstore-list /a
expect "rm missing parent" 1 "" xenstore-rm /nope/x
expect "write chain" 0 "" xenstore-write /t1/t2/t3 x /t1/keep y
expect "rm -t" 0 "" xenstore-rm -t /t1/t2/t3
expect "rm -t kept sibling" 0 'keep' xenstore-list /t1
expect "rm -t again" 0 "" xenstore-rm -t /t1/keep
expect "rm -t removed empty parents" 1 "" xenstore-exists /t1
expect "binary-ish value" 0 "" xenstore-write /v "a\\tb"
expect "read escaped" 0 'a\tb' xenstore-read /v
expect "read -R raw" 0 'a	b' xenstore-read -R /v

# xenstore-watch: the initial event, then one per change, bounded by -n.
timeout 10 xenstore-watch -n 3 /a > "$XSD_DIR/watch.out" 2>&1 &
WPID=$!
XSD_EXTRA_PIDS="$WPID"
# wait until the watch is registered (its initial event printed)
i=0; while [ ! -s "$XSD_DIR/watch.out" ] && [ $i -lt 100 ]; do sleep 0.05; i=$((i+1)); done
xenstore-write /a/b 3
xenstore-rm /a/c
wait $WPID
XSD_EXTRA_PIDS=""
expect "watch events" 0 '/a
/a/b
/a/c' cat "$XSD_DIR/watch.out"
expect "watch @introduceDomain" 0 '@introduceDomain' timeout 10 xenstore-watch -n 1 @introduceDomain
expect "watch @releaseDomain" 0 '@releaseDomain' timeout 10 xenstore-watch -n 1 @releaseDomain

expect "control check" 0 "OK" /usr/lib/xen-4.17/bin/xenstore-control check
expect "still consistent" 0 'b = "3"
d = ""' xenstore-ls /a

[ $FAILS -eq 0 ] || { echo "$FAILS failures" >&2; exit 1; }
