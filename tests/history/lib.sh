# lib.sh - what the history test scripts share: sourced, after they set
# T (their scratch folder) and, for a daemon, XSD and S (the store).
# Counting checks: ok, bad NAME, expect NAME EXPECTED ACTUAL; summary
# TITLE prints the count and returns non-zero on a failure.
fails=0 checks=0
ok() { checks=$((checks + 1)); }
bad() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
expect() {
  if [ "$2" == "$3" ]; then ok; else
    bad "$1"; diff <(printf '%s\n' "$2") <(printf '%s\n' "$3") | head -40 >&2; fi
}
summary() { echo "$1: $checks checks, $fails failed"; [ "$fails" -eq 0 ]; }

# A field of each JSON line on stdin: field a.0.b
field() { python3 -c 'import json,sys
for l in sys.stdin:
    o = json.loads(l)
    for k in sys.argv[1].split("."):
        try: o = None if o is None else o[int(k)] if k.isdigit() else o[k]
        except (IndexError, KeyError): o = None
    print(o if not isinstance(o, bool) else str(o).lower())' "$1"; }

# The daemon on $T/socket with store $S; the boot id in $T/boot_id.
DPID=
daemon_start() {
  rm -f "$T/socket"
  "$XSD" -N --socket "$T/socket" --store "$S" --boot-id-file "$T/boot_id" \
    </dev/null >>"$T/daemon.log" 2>&1 &
  DPID=$!
  for _ in $(seq 100); do [ -S "$T/socket" ] && return 0; sleep 0.05; done
  echo "FAIL: daemon did not start: $(cat "$T/daemon.log")"; exit 1
}
# Stops it (SIGNAL, default TERM; KILL after 5 s), by pid.
daemon_stop() {
  [ -n "$DPID" ] || return 0
  kill -"${1:-TERM}" "$DPID" 2>/dev/null
  for _ in $(seq 50); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$DPID" 2>/dev/null
  wait "$DPID" 2>/dev/null
  DPID=
}
