#!/bin/sh
# check.sh XS_REPLAY CORPUS.xs - replay one corpus file against the daemon
# under test (tests/lib/daemon.sh picks it) and diff with the expected
# output: golden/NAME.out, with golden/NAME.override applied if present.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
XS_REPLAY=$1
CORPUS=$2
name=$(basename "$CORPUS" .xs)
case "${XSD_TEST_DAEMON:-}" in
peer|opeer)
	# The overrides are exactly where we differ from the reference.
	if [ -f "$HERE/golden/$name.override" ]; then
		echo "SKIP: $name documents where we differ from the reference" >&2
		exit 77
	fi ;;
esac
xsd_start
"$HERE/expected.sh" "$HERE/golden/$name.out" "$HERE/golden/$name.override" \
	> "$XSD_DIR/expected" || exit 1
"$XS_REPLAY" -s "$XENSTORED_PATH" "$CORPUS" > "$XSD_DIR/actual" || exit 1
diff -u "$XSD_DIR/expected" "$XSD_DIR/actual" || {
	echo "FAIL: $name differs from the reference (- expected, + ours)" >&2
	exit 1
}
echo "ok: $name ($(grep -c ' => ' "$XSD_DIR/actual") replies)"
