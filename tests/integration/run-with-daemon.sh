#!/bin/sh
# run-with-daemon.sh PROGRAM [ARGS...] - start the daemon under test
# (tests/lib/daemon.sh), run PROGRAM against it, stop the daemon by pid.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../lib/daemon.sh"
xsd_start
"$@"
