#!/usr/bin/env bash
# Quick start: install what is missing, build, and run the daemon in the
# foreground on its embedded default: socket-only (no hypervisor needed),
# the socket and the Git store in ./run/ beside this checkout.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
"$top/scripts/deps.sh"
[ -f "$top/build/build.ninja" ] || meson setup "$top/build" "$top" >/dev/null
ninja -C "$top/build" >/dev/null
mkdir -p "$top/run"
exec "$top/build/xenstored/xenstored" --no-fork \
  --socket "$top/run/socket" --pid-file "$top/run/xenstored.pid" \
  --store "$top/run/store" "$@"
