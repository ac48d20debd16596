#!/usr/bin/env bash
# Runs every test: installs what is missing, builds, runs the whole suite,
# then runs it again under AddressSanitizer + UndefinedBehaviorSanitizer.
# SKIP_ASAN=1 skips the second run (for a quick local loop).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/deps.sh || exit 1

passed=0 failed=0
# run_suite BUILD_DIR "MESON TEST ARGS" [MESON SETUP ARGS...]
run_suite() {
  local dir=$1 targs=$2; shift 2
  { [ -f "$dir/build.ninja" ] || meson setup "$dir" "$@" >/dev/null; } &&
    ninja -C "$dir" || { failed=$((failed + 1)); return 1; }
  # shellcheck disable=SC2086
  meson test -C "$dir" --print-errorlogs --num-processes 2 $targs
  local rc=$?
  # testlog.json: one JSON object per test; count results for the summary.
  local p f
  p=$(grep -c '"result": "OK"' "$dir/meson-logs/testlog.json")
  f=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' "$dir/meson-logs/testlog.json")
  passed=$((passed + p)) failed=$((failed + f))
  [ $rc -eq 0 ] || [ "$f" -gt 0 ] || failed=$((failed + 1))
  return $rc
}

echo "== build and test (debugoptimized)"
run_suite build ""

if [ "${SKIP_ASAN:-0}" != 1 ]; then
  echo "== build and test (ASan + UBSan)"
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  # The hypervisor suite boots the daemon inside a VM, where the sanitizer
  # runtime is not installed; every other suite runs instrumented.
  run_suite build-asan "--no-suite xen" -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
fi

echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
