#!/bin/sh
# The `leafio` tool against FIFOs, devices, comment-hidden nesting, `--`
# and inputs truncated while read (test_cli_hostile.py).
set -eu
srcdir=${LF_TEST_SRCDIR:-.}
exec "$LF_PYTHON" "$srcdir/test_cli_hostile.py"
