#!/bin/sh
# expected.sh GOLDEN [OVERRIDE] - print the expected replay output: the
# golden recording with every line whose request (the text before " => ")
# has an entry in OVERRIDE replaced by the override's line(s). A run of
# golden lines with the same request (e.g. one "events" line printing
# several events) is replaced as a whole. Fails if an override entry
# matches nothing, so that stale overrides are noticed.
set -eu
GOLDEN=$1
OVERRIDE=${2:-}
if [ -z "$OVERRIDE" ] || [ ! -f "$OVERRIDE" ]; then
	cat "$GOLDEN"
	exit 0
fi
awk -v ovf="$OVERRIDE" '
function key(line,   i) { i = index(line, " => "); return i ? substr(line, 1, i - 1) : line }
BEGIN {
	while ((getline l < ovf) > 0) {
		if (l ~ /^#/ || l == "") continue
		k = key(l)
		if (k in ov) ov[k] = ov[k] "\n" l
		else { order[++n] = k; ov[k] = l }
	}
}
{
	k = key($0)
	if ($0 !~ /^#/ && (k in ov)) {
		if (k != prev) print ov[k]
		used[k] = 1; prev = k; next
	}
	prev = ""; print
}
END {
	for (i = 1; i <= n; i++)
		if (!(order[i] in used)) { print "override matches no request: " order[i] > "/dev/stderr"; bad = 1 }
	exit bad
}' "$GOLDEN"
